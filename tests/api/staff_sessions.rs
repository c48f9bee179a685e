//! Staff sessions live in the database: signing out ends one for good (a copy of the cookie
//! opens nothing), signing out everywhere ends them all, and the purge clears spent ones.

use crate::admin::{PASSWORD, sign_in, staff};
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::Browser;

/// A browser holding a copy of `b`'s cookies, as a thief with a copy of the cookie would.
fn copy<'a>(b: &Browser<'a>) -> Browser<'a> {
    let mut other = Browser::new(b.app);
    other.cookies = b.cookies.clone();
    other
}

fn open_sessions(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use dsar::store::schema::staff_sessions::dsl::*;
    let mut conn = app.state.pool.get().expect("conn");
    staff_sessions
        .filter(ended_at.is_null())
        .count()
        .get_result(&mut conn)
        .expect("count")
}

async fn a_signed_out_cookie_replayed_gets_the_sign_in_page(app: TestApp) {
    let mut b = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page = b.get("/admin").await;
    assert_eq!(page.status.as_u16(), 200);
    let mut stolen = copy(&b);
    assert_eq!(stolen.get("/admin").await.status.as_u16(), 200);
    // Only the hash of the token is stored.
    let token = b.cookies.get("dsar_staff").expect("session cookie").clone();
    {
        use diesel::prelude::*;
        use dsar::store::schema::staff_sessions::dsl::*;
        let mut conn = app.state.pool.get().expect("conn");
        let hashes: Vec<String> = staff_sessions
            .select(token_hash)
            .load(&mut conn)
            .expect("hashes");
        assert_eq!(hashes, vec![dsar::crypto::sha256_hex(&token)]);
    }

    let out = b
        .post_urlencoded("/admin/logout", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    assert_eq!(out.location.as_deref(), Some("/admin/login"));
    let replayed = stolen.get("/admin").await;
    assert_eq!(
        replayed.status.as_u16(),
        303,
        "the copied cookie still works"
    );
    assert!(
        replayed
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/admin/login")),
        "{:?}",
        replayed.location
    );
    let login = stolen.follow(replayed).await;
    login.assert_contains("Sign in");
    assert_eq!(open_sessions(&app), 0);
}
on_both_backends!(
    sessions_sign_out_ends_copies,
    a_signed_out_cookie_replayed_gets_the_sign_in_page
);

async fn signing_out_everywhere_ends_every_session_and_the_purge_clears_them(app: TestApp) {
    crate::admin::account(&app, "dana@example.org", dsar::staff::Role::Dpo);
    let (mut laptop, _) = sign_in(&app, "dana@example.org", PASSWORD).await;
    let (mut phone, _) = sign_in(&app, "dana@example.org", PASSWORD).await;
    let mut copied = copy(&phone);
    let (mut other, _) = {
        crate::admin::account(&app, "eve@example.org", dsar::staff::Role::Handler);
        sign_in(&app, "eve@example.org", PASSWORD).await
    };
    assert_eq!(open_sessions(&app), 3);
    let page = laptop.get("/admin").await;
    let out = laptop
        .post_urlencoded("/admin/logout-everywhere", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    for (who, b) in [
        ("laptop", &mut laptop),
        ("phone", &mut phone),
        ("copy", &mut copied),
    ] {
        assert_eq!(b.get("/admin").await.status.as_u16(), 303, "{who} still in");
    }
    assert_eq!(
        other.get("/admin").await.status.as_u16(),
        200,
        "another account's session"
    );
    assert_eq!(open_sessions(&app), 1);

    // The purge deletes ended sessions at once, and idle ones once past the idle timeout.
    let purge = |app: &TestApp| {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now())
            .expect("purge")
            .sessions
    };
    assert_eq!(purge(&app), 2);
    app.state.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(purge(&app), 1);
    assert_eq!(other.get("/admin").await.status.as_u16(), 303);
}
on_both_backends!(
    sessions_everywhere_and_purge,
    signing_out_everywhere_ends_every_session_and_the_purge_clears_them
);
