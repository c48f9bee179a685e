//! Signing in under attack: parallel guesses meet the throttle as they arrive, `next` cannot
//! break the redirect, an address with control characters never reaches the database, and
//! password resets do not use up the portal's limit.

use std::time::Duration;

use crate::admin::{PASSWORD, account};
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Page, Part};

/// A browser that has the sign-in form's CSRF cookie, and the token to post with it.
async fn at_the_form(app: &TestApp) -> (Browser<'_>, String) {
    let mut b = Browser::new(app);
    let csrf = b.get("/admin/login").await.csrf();
    (b, csrf)
}

async fn post_sign_in(
    app: &TestApp,
    cookies: &std::collections::HashMap<String, String>,
    csrf: &str,
    email: &str,
    password: &str,
) -> Page {
    let mut b = Browser::new(app);
    b.cookies = cookies.clone();
    b.post_urlencoded(
        "/admin/login",
        &[
            ("csrf", csrf),
            ("email", email),
            ("password", password),
            ("next", "/admin"),
        ],
    )
    .await
}

async fn parallel_wrong_passwords_are_throttled_as_they_arrive(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    let (b, csrf) = at_the_form(&app).await;
    let guesses = (0..40).map(|i| {
        let password = format!("guess number {i}");
        let (cookies, csrf) = (&b.cookies, &csrf);
        let app = &app;
        async move { post_sign_in(app, cookies, csrf, "dana@example.org", &password).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|p| p.status.as_u16() == 401).count();
    let waited = answers.iter().filter(|p| p.status.as_u16() == 429).count();
    assert_eq!(checked + waited, 40, "only 401 and 429 answers");
    // Three go through at once; one more may if the burst outlasts the first wait (1 s).
    assert!(
        checked <= 5,
        "{checked} of 40 parallel guesses were checked"
    );
    let wait = answers
        .iter()
        .find(|p| p.status.as_u16() == 429)
        .expect("some guesses wait");
    wait.assert_contains("Too many failed attempts. Wait");
}
on_both_backends!(
    sign_in_parallel_guesses,
    parallel_wrong_passwords_are_throttled_as_they_arrive
);

async fn a_right_password_inside_a_burst_of_wrong_ones_waits(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    let (b, csrf) = at_the_form(&app).await;
    let wrong = futures_util::future::join_all((0..10).map(|i| {
        let password = format!("guess number {i}");
        let (cookies, csrf) = (&b.cookies, &csrf);
        let app = &app;
        async move { post_sign_in(app, cookies, csrf, "dana@example.org", &password).await }
    }));
    // The right one leaves while the wrong ones are still being hashed.
    let right = async {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        post_sign_in(&app, &b.cookies, &csrf, "dana@example.org", PASSWORD).await
    };
    let (wrong, right) = futures_util::future::join(wrong, right).await;
    assert!(
        wrong
            .iter()
            .all(|p| [401, 429].contains(&p.status.as_u16()))
    );
    assert_eq!(
        right.status.as_u16(),
        429,
        "the right password signed in during a burst of guesses"
    );
    right.assert_contains("Too many failed attempts. Wait");
}
on_both_backends!(
    sign_in_right_password_in_burst,
    a_right_password_inside_a_burst_of_wrong_ones_waits
);

async fn a_next_with_a_line_break_goes_to_the_dashboard(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    let (mut b, csrf) = at_the_form(&app).await;
    let res = b
        .post_urlencoded(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("email", "dana@example.org"),
                ("password", PASSWORD),
                ("next", "/admin\r\nSet-Cookie: planted=1"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    assert_eq!(res.location.as_deref(), Some("/admin"));
    assert!(!b.cookies.contains_key("planted"));
    // The form shown with such a `next` carries the safe one.
    let form = b.get("/admin/login?next=%2Fadmin%0D%0Ax").await;
    assert_eq!(form.input("next").as_deref(), Some("/admin"));
}
on_both_backends!(
    sign_in_next_line_break,
    a_next_with_a_line_break_goes_to_the_dashboard
);

async fn an_address_with_control_characters_is_no_account(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    for email in ["dana\0@example.org", "dana@exa\u{1}mple.org"] {
        let (b, csrf) = at_the_form(&app).await;
        let res = post_sign_in(&app, &b.cookies, &csrf, email, PASSWORD).await;
        assert_eq!(res.status.as_u16(), 401, "{}", res.html);
        res.assert_contains("Wrong email or password");

        let mut b = Browser::new(&app);
        let csrf = b.get("/admin/password-reset").await.csrf();
        let res = b
            .post_urlencoded(
                "/admin/password-reset",
                &[("csrf", &csrf), ("email", email)],
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.html);
        res.assert_contains("If an active account uses this address");
    }
}
on_both_backends!(
    sign_in_control_characters,
    an_address_with_control_characters_is_no_account
);

async fn password_resets_leave_the_portal_open(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    for _ in 0..10 {
        let mut b = Browser::new(&app);
        let csrf = b.get("/admin/password-reset").await.csrf();
        let res = b
            .post_urlencoded(
                "/admin/password-reset",
                &[("csrf", &csrf), ("email", "dana@example.org")],
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.html);
    }
    let mut b = Browser::new(&app);
    let csrf = b.get("/en/request/access").await.csrf();
    let filed = b
        .post(
            "/en/request/access",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", "camille@example.org"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("access_scope", "all"),
            ],
        )
        .await;
    assert_eq!(
        filed.status.as_u16(),
        303,
        "ten password resets stopped the portal: {}",
        filed.html
    );
    // The resets have a limit of their own all the same.
    let mut b = Browser::new(&app);
    let csrf = b.get("/admin/password-reset").await.csrf();
    let res = b
        .post_urlencoded(
            "/admin/password-reset",
            &[("csrf", &csrf), ("email", "dana@example.org")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 429);
}
on_both_backends!(
    password_reset_limit_of_its_own,
    password_resets_leave_the_portal_open
);
