//! The staff dashboard, black-box: who may see what, sign-in throttling, CSRF, sessions.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Page};

pub(crate) const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

/// Creates an account with a password, as an invitation would.
pub(crate) fn account(app: &TestApp, email: &str, role: dsar::staff::Role) -> i64 {
    app.staff_account(email, "", role).0
}

pub(crate) async fn sign_in<'a>(
    app: &'a TestApp,
    email: &str,
    password: &str,
) -> (Browser<'a>, Page) {
    let mut b = Browser::new(app);
    let form = b.get("/admin/login").await;
    let csrf = form.csrf();
    let res = b
        .post_urlencoded(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("email", email),
                ("password", password),
                ("next", "/admin"),
            ],
        )
        .await;
    (b, res)
}

pub(crate) async fn staff<'a>(
    app: &'a TestApp,
    email: &str,
    role: dsar::staff::Role,
) -> Browser<'a> {
    staff_named(app, email, "", role).await
}

/// A member of staff with a name, signed in.
pub(crate) async fn staff_named<'a>(
    app: &'a TestApp,
    email: &str,
    name: &str,
    role: dsar::staff::Role,
) -> Browser<'a> {
    app.staff_account(email, name, role);
    signed_in(app, email).await
}

/// Signs an existing account in with [`PASSWORD`]; the sign-in must succeed.
pub(crate) async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let (b, res) = sign_in(app, email, PASSWORD).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    b
}

async fn every_admin_route_refuses_strangers_and_the_wrong_role(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let reference = filed["reference"].as_str().expect("reference").to_string();
    let request_page = format!("/admin/requests/{reference}");
    // (method, path, who may: admin, dpo, handler, viewer)
    let routes: Vec<(&str, String, [bool; 4])> = vec![
        ("GET", "/admin".into(), [true, true, true, true]),
        ("GET", request_page.clone(), [true, true, true, true]),
        ("GET", "/admin/reports".into(), [true, true, false, false]),
        (
            "GET",
            "/admin/reports/register.csv".into(),
            [true, true, false, false],
        ),
        (
            "GET",
            "/admin/reports/register.json".into(),
            [true, true, false, false],
        ),
        ("GET", "/admin/users".into(), [true, false, false, false]),
        ("POST", "/admin/users".into(), [true, false, false, false]),
        ("POST", "/admin/users/1".into(), [true, false, false, false]),
        ("GET", "/admin/settings".into(), [true, false, false, false]),
        ("GET", "/admin/jobs".into(), [true, false, false, false]),
        (
            "POST",
            "/admin/jobs/1/revive".into(),
            [true, false, false, false],
        ),
        ("GET", "/admin/register".into(), [true, true, false, false]),
        (
            "GET",
            "/admin/restrictions".into(),
            [true, true, false, false],
        ),
        ("GET", "/admin/holds".into(), [true, true, false, false]),
        ("GET", "/admin/audit".into(), [true, true, false, false]),
        (
            "POST",
            "/admin/audit/verify".into(),
            [true, true, false, false],
        ),
        ("GET", "/admin/account".into(), [true, true, true, true]),
        (
            "POST",
            "/admin/account/totp".into(),
            [true, true, true, true],
        ),
        (
            "GET",
            "/admin/no-such-page".into(),
            [false, false, false, false],
        ),
    ];
    let mut stranger = Browser::new(&app);
    for (method, path, _) in &routes {
        let res = if *method == "GET" {
            stranger.get(path).await
        } else {
            stranger.post_urlencoded(path, &[("csrf", "x")]).await
        };
        assert_eq!(
            res.status.as_u16(),
            303,
            "{method} {path} lets a stranger in"
        );
        assert!(
            res.location
                .as_deref()
                .is_some_and(|l| l.starts_with("/admin/login?next=")),
            "{method} {path}: {:?}",
            res.location
        );
    }
    use dsar::staff::Role;
    for (i, role) in [Role::Admin, Role::Dpo, Role::Handler, Role::Viewer]
        .into_iter()
        .enumerate()
    {
        let mut b = staff(&app, &format!("staff-{}@example.org", role.as_str()), role).await;
        let csrf = b
            .get("/admin")
            .await
            .input("csrf")
            .expect("csrf in the sign-out form");
        for (method, path, allowed) in &routes {
            let res = if *method == "GET" {
                b.get(path).await
            } else {
                b.post_urlencoded(
                    path,
                    &[
                        ("csrf", &csrf),
                        ("email", &format!("new{i}@example.org")),
                        ("name", "N"),
                        ("role", "viewer"),
                    ],
                )
                .await
            };
            let code = res.status.as_u16();
            if allowed[i] {
                assert_eq!(code, 200, "{} {method} {path}", role.as_str());
            } else {
                assert!(
                    code == 403 || code == 404,
                    "{} {method} {path} answered {code}",
                    role.as_str()
                );
            }
        }
    }
}

/// The fulfilment routes act on one request: strangers are sent to sign in, a viewer is refused.
async fn fulfilment_routes_refuse_strangers_and_viewers(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let page = format!(
        "/admin/requests/{}",
        filed["reference"].as_str().expect("reference")
    );
    let routes = [
        ("POST", format!("{page}/sources")),
        ("POST", format!("{page}/tasks/1")),
        ("GET", format!("{page}/package")),
    ];
    let mut stranger = Browser::new(&app);
    let mut viewer = staff(&app, "v@example.org", dsar::staff::Role::Viewer).await;
    let csrf = viewer.get("/admin").await.csrf();
    for (method, path) in &routes {
        let (as_stranger, as_viewer) = if *method == "GET" {
            (stranger.get(path).await, viewer.get(path).await)
        } else {
            (
                stranger.post_urlencoded(path, &[("csrf", "x")]).await,
                viewer
                    .post_urlencoded(path, &[("csrf", &csrf), ("action", "dispatch")])
                    .await,
            )
        };
        assert!(
            as_stranger
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("/admin/login?next=")),
            "{method} {path} lets a stranger in"
        );
        assert_eq!(
            as_viewer.status.as_u16(),
            403,
            "{method} {path} lets a viewer act"
        );
    }
}
on_both_backends!(
    fulfilment_routes,
    fulfilment_routes_refuse_strangers_and_viewers
);

on_both_backends!(
    admin_routes,
    every_admin_route_refuses_strangers_and_the_wrong_role
);

async fn a_handler_never_sees_another_handlers_request(app: TestApp) {
    use dsar::staff::Role;
    let mine = account(&app, "hana@example.org", Role::Handler);
    let theirs = account(&app, "hugo@example.org", Role::Handler);
    let filed = app.file(json!({ "kind": "erasure", "requester": { "name": "Secret Person", "email": "s@example.org" } })).await;
    let reference = filed["reference"].as_str().expect("reference").to_string();
    {
        let mut conn = app.state.pool.get().expect("conn");
        let row = dsar::workflow::find(&mut conn, &reference).expect("row");
        dsar::store::requests::update(
            &mut conn,
            row.id,
            &dsar::store::requests::RequestChanges {
                assignee_id: Some(Some(theirs)),
                ..Default::default()
            },
        )
        .expect("assign");
    }
    let (mut hana, _) = sign_in(&app, "hana@example.org", PASSWORD).await;
    let page = hana.get(&format!("/admin/requests/{reference}")).await;
    assert_eq!(page.status.as_u16(), 404);
    let queue = hana.get("/admin").await;
    assert!(
        !queue.html.contains("Secret Person") && !queue.html.contains(&reference),
        "the queue shows another handler's request"
    );
    let (mut hugo, _) = sign_in(&app, "hugo@example.org", PASSWORD).await;
    let page = hugo.get(&format!("/admin/requests/{reference}")).await;
    assert_eq!(page.status.as_u16(), 200);
    page.assert_contains("Secret Person");
    assert_ne!(mine, theirs);
}
on_both_backends!(
    admin_handler_scope,
    a_handler_never_sees_another_handlers_request
);

async fn sign_in_is_throttled_and_csrf_checked(app: TestApp) {
    account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    // An unknown account gets the same answer as a wrong password.
    let (_, res) = sign_in(&app, "nobody@example.org", "wrong password!!").await;
    assert_eq!(res.status.as_u16(), 401);
    res.assert_contains("Wrong email or password");
    for _ in 0..2 {
        let (_, res) = sign_in(&app, "dana@example.org", "wrong password!!").await;
        assert_eq!(res.status.as_u16(), 401);
        res.assert_contains("Wrong email or password");
    }
    // Three failures from this address: even the right password now waits.
    let (_, res) = sign_in(&app, "dana@example.org", PASSWORD).await;
    assert_eq!(res.status.as_u16(), 429);
    res.assert_contains("Too many failed attempts");

    // A form posted without its CSRF cookie (from another site) is refused.
    let mut other_site = Browser::new(&app);
    let res = other_site
        .post_urlencoded(
            "/admin/login",
            &[
                ("csrf", &"a".repeat(64)),
                ("email", "dana@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 403);
}
on_both_backends!(admin_throttle, sign_in_is_throttled_and_csrf_checked);

async fn sessions_expire_and_end_everywhere(app: TestApp) {
    let mut b = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    assert_eq!(b.get("/admin").await.status.as_u16(), 200);
    app.state.clock.advance(chrono::Duration::minutes(31));
    let res = b.get("/admin").await;
    assert_eq!(res.status.as_u16(), 303, "an idle session ends");

    let (mut laptop, _) = sign_in(&app, "dana@example.org", PASSWORD).await;
    let (mut phone, _) = sign_in(&app, "dana@example.org", PASSWORD).await;
    let page = laptop.get("/admin").await;
    let csrf = page.input("csrf").expect("csrf");
    let bad = laptop
        .post_urlencoded("/admin/logout-everywhere", &[("csrf", "forged")])
        .await;
    assert_eq!(bad.status.as_u16(), 403, "a forged CSRF token is refused");
    let out = laptop
        .post_urlencoded("/admin/logout-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    assert_eq!(
        phone.get("/admin").await.status.as_u16(),
        303,
        "the other device is signed out too"
    );
}
on_both_backends!(admin_sessions, sessions_expire_and_end_everywhere);

async fn an_invitation_link_sets_a_password_once(app: TestApp) {
    let (link, _) = {
        let mut conn = app.state.pool.get().expect("conn");
        let (_, link) = dsar::staff::add_user(
            &mut conn,
            "new@example.org",
            "New",
            dsar::staff::Role::Handler,
            "test",
            app.state.clock.now(),
        )
        .expect("invite");
        (link, ())
    };
    let mut b = Browser::new(&app);
    let form = b.get(&link).await;
    assert_eq!(form.status.as_u16(), 200);
    let csrf = form.csrf();
    let short = b
        .post_urlencoded(
            &link,
            &[("csrf", &csrf), ("password", "short"), ("confirm", "short")],
        )
        .await;
    assert_eq!(short.status.as_u16(), 422);
    short.assert_contains("at least 12 characters");
    let ok = b
        .post_urlencoded(
            &link,
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 303);
    assert_eq!(
        b.get(&link).await.status.as_u16(),
        404,
        "the link works once"
    );
    let (_, res) = sign_in(&app, "new@example.org", PASSWORD).await;
    assert_eq!(res.status.as_u16(), 303);
}
on_both_backends!(admin_invitation, an_invitation_link_sets_a_password_once);
