//! Two web nodes on one PostgreSQL database, as behind a load balancer: what must hold across
//! nodes does. A second-factor code works once whichever node it reaches, password guesses
//! spread over both nodes are throttled as on one, the portal's filing limit counts the
//! filings of both, and signing out on one node ends the session on the other. Skipped (the
//! reason printed) without PostgreSQL; CI runs them with DSAR_TEST_REQUIRE_POSTGRES=1.

use dsar::staff::Role;

use crate::admin::{PASSWORD, account, sign_in, signed_in};
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Browser, Part};

const DANA: &str = "dana@example.org";

/// Two nodes on one PostgreSQL database; `None` without PostgreSQL.
async fn two_nodes(extra: &[(&str, &str)]) -> Option<(TestApp, TestApp)> {
    let a = try_spawn(Backend::Postgres, extra).await?;
    let b = a.spawn_node(extra).await;
    Some((a, b))
}

/// Dana's account with a second factor; returns its secret.
fn with_second_factor(app: &TestApp) -> String {
    let id = account(app, DANA, Role::Dpo);
    let secret = dsar::staff::totp::new_secret();
    let key = dsar::web::admin::load_key(&app.state.settings.security).expect("key");
    let sealed = dsar::crypto::seal(&key, "totp", &secret);
    let mut conn = app.state.pool.get().expect("conn");
    dsar::store::users::set_totp(&mut conn, id, Some(&sealed)).expect("totp");
    secret
}

/// A browser on `node` past the password, at the code form; returns it and the form's token.
async fn at_the_code_form(node: &TestApp) -> (Browser<'_>, String) {
    let (mut b, res) = sign_in(node, DANA, PASSWORD).await;
    assert_eq!(
        res.location.as_deref(),
        Some("/admin/login/code"),
        "{}",
        res.html
    );
    let csrf = b.get("/admin/login/code").await.csrf();
    (b, csrf)
}

#[actix_web::test]
async fn a_code_used_on_one_node_is_refused_on_the_other() {
    let Some((a, b)) = two_nodes(&[]).await else {
        return;
    };
    let secret = with_second_factor(&a);
    let code = |node: &TestApp| {
        dsar::staff::totp::code_at(&secret, node.state.clock.now().timestamp()).expect("code")
    };

    let (mut on_a, csrf_a) = at_the_code_form(&a).await;
    let now_code = code(&a);
    let ok = on_a
        .post_urlencoded(
            "/admin/login/code",
            &[("csrf", &csrf_a), ("code", &now_code)],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.html);
    // The same code, seen over a shoulder and typed on the other node, opens nothing.
    let (mut on_b, csrf_b) = at_the_code_form(&b).await;
    let replay = on_b
        .post_urlencoded(
            "/admin/login/code",
            &[("csrf", &csrf_b), ("code", &now_code)],
        )
        .await;
    assert_eq!(replay.status.as_u16(), 401);
    replay.assert_contains("That code is not right");

    // The next code, sent to both nodes at once: one sign-in, not two.
    for node in [&a, &b] {
        node.state.clock.advance(chrono::Duration::seconds(30));
    }
    let (mut on_a, csrf_a) = at_the_code_form(&a).await;
    let (mut on_b, csrf_b) = at_the_code_form(&b).await;
    let next_code = code(&a);
    assert_ne!(next_code, now_code);
    let (from_a, from_b) = futures_util::future::join(
        on_a.post_urlencoded(
            "/admin/login/code",
            &[("csrf", &csrf_a), ("code", &next_code)],
        ),
        on_b.post_urlencoded(
            "/admin/login/code",
            &[("csrf", &csrf_b), ("code", &next_code)],
        ),
    )
    .await;
    let mut statuses = [from_a.status.as_u16(), from_b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 401]);
}

#[actix_web::test]
async fn password_guesses_alternated_over_two_nodes_are_each_counted_once() {
    let Some((a, b)) = two_nodes(&[]).await else {
        return;
    };
    account(&a, DANA, Role::Dpo);
    for node in [&a, &b, &a] {
        let (_, res) = sign_in(node, DANA, "wrong password!!").await;
        assert_eq!(res.status.as_u16(), 401);
        res.assert_contains("Wrong email or password");
    }
    // Three failures, wherever they were made: the fourth attempt waits as on one node, even
    // with the right password.
    let (_, res) = sign_in(&b, DANA, PASSWORD).await;
    assert_eq!(res.status.as_u16(), 429);
    res.assert_contains("Too many failed attempts. Wait");
    let (_, res) = sign_in(&a, DANA, PASSWORD).await;
    assert_eq!(res.status.as_u16(), 429);
}

#[actix_web::test]
async fn parallel_guesses_over_two_nodes_meet_one_throttle() {
    let Some((a, b)) = two_nodes(&[]).await else {
        return;
    };
    account(&a, DANA, Role::Dpo);
    let guesses = (0..40).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        async move { sign_in(node, DANA, &format!("guess number {i}")).await.1 }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|p| p.status.as_u16() == 401).count();
    let waited = answers.iter().filter(|p| p.status.as_u16() == 429).count();
    assert_eq!(checked + waited, 40, "only 401 and 429 answers");
    // As on one node: three go through at once, one more if the burst outlasts the first
    // wait (1 s). Counted per node, each would let its own three through.
    assert!(
        (3..=5).contains(&checked),
        "{checked} of 40 parallel guesses over two nodes were checked"
    );
}

fn access_form<'a>(csrf: &'a str, email: &'a str) -> Vec<Part<'a>> {
    vec![
        Part::Field("csrf", csrf),
        Part::Field("name", "Camille Martin"),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
        Part::Field("access_scope", "all"),
    ]
}

#[actix_web::test]
async fn portal_filings_alternated_over_two_nodes_meet_one_limit() {
    let per_hour = [("DSAR_PORTAL__SUBMISSIONS_PER_HOUR", "3")];
    let Some((a, b)) = two_nodes(&per_hour).await else {
        return;
    };
    let mut browsers = [Browser::new(&a), Browser::new(&b)];
    let mut tokens = Vec::new();
    for browser in &mut browsers {
        tokens.push(browser.get("/en/request/access").await.csrf());
    }
    for i in 0..5 {
        let node = i % 2;
        let email = format!("camille{i}@example.org");
        let res = browsers[node]
            .post("/en/request/access", &access_form(&tokens[node], &email))
            .await;
        if i < 3 {
            assert_eq!(res.status.as_u16(), 303, "filing {i}: {}", res.html);
        } else {
            // The fourth filing from this address in the hour, on either node.
            assert_eq!(res.status.as_u16(), 429, "filing {i}");
            res.assert_contains("Too many requests");
        }
    }
    assert_eq!(a.counts().0, 3);
}

#[actix_web::test]
async fn signing_out_on_one_node_ends_the_session_on_the_other() {
    let Some((a, b)) = two_nodes(&[]).await else {
        return;
    };
    account(&a, DANA, Role::Dpo);
    let on_b_too = |browser: &Browser<'_>| {
        let mut other = Browser::new(&b);
        other.cookies = browser.cookies.clone();
        other
    };

    // One cookie, two nodes: the load balancer sends the browser to either.
    let mut on_a = signed_in(&a, DANA).await;
    let mut on_b = on_b_too(&on_a);
    assert_eq!(on_b.get("/admin").await.status.as_u16(), 200);
    let page = on_a.get("/admin").await;
    let out = on_a
        .post_urlencoded("/admin/logout", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    assert_eq!(
        on_b.get("/admin").await.status.as_u16(),
        303,
        "the session signed out on A still opens B"
    );

    // "Sign out everywhere" asked on B ends the sessions opened on A, on both nodes.
    let mut laptop = signed_in(&a, DANA).await;
    let mut phone = signed_in(&a, DANA).await;
    let mut laptop_on_b = on_b_too(&laptop);
    let mut phone_on_b = on_b_too(&phone);
    let page = laptop_on_b.get("/admin").await;
    assert_eq!(page.status.as_u16(), 200);
    assert_eq!(phone_on_b.get("/admin").await.status.as_u16(), 200);
    let out = laptop_on_b
        .post_urlencoded("/admin/logout-everywhere", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    for (who, browser) in [
        ("laptop on A", &mut laptop),
        ("phone on A", &mut phone),
        ("phone on B", &mut phone_on_b),
    ] {
        assert_eq!(
            browser.get("/admin").await.status.as_u16(),
            303,
            "{who} still in"
        );
    }
}
