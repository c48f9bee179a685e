//! Staff accounts beyond the password: two-factor sign-in, password reset by mail, what
//! administrators change on accounts, the settings page, and the audit trail page.

use diesel::prelude::*;
use dsar::staff::Role;

use crate::admin::{PASSWORD, account, sign_in, staff};
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, mails_to};

fn code(app: &TestApp, secret: &str) -> String {
    dsar::staff::totp::code_at(secret, app.state.clock.now().timestamp()).expect("code")
}

async fn two_factor_sign_in(app: TestApp) {
    app.set_now("2026-03-02T09:00:00Z");
    let mut dana = staff(&app, "dana@example.fr", Role::Dpo).await;
    let page = dana.get("/admin/account").await;
    page.assert_contains("Two-factor sign-in</dt><dd>off");
    let setup = dana
        .post_urlencoded(
            "/admin/account/totp",
            &[("csrf", &page.csrf()), ("action", "start")],
        )
        .await;
    let start = setup
        .html
        .find("id=\"totp-secret\">")
        .expect("secret shown")
        + 17;
    let end = start + setup.html[start..].find('<').expect("end");
    let secret: String = setup.html[start..end].replace(' ', "");
    setup.assert_contains("otpauth://totp/");
    let sealed = setup.input("sealed").expect("sealed secret");
    assert!(
        !sealed.contains(&secret),
        "the form carries the secret sealed"
    );

    // A wrong code leaves it off; the right one turns it on.
    let wrong = dana
        .post_urlencoded(
            "/admin/account/totp",
            &[
                ("csrf", &page.csrf()),
                ("action", "enable"),
                ("sealed", &sealed),
                ("code", "000000"),
            ],
        )
        .await;
    wrong.assert_contains("That code is not right");
    let on = dana
        .post_urlencoded(
            "/admin/account/totp",
            &[
                ("csrf", &page.csrf()),
                ("action", "enable"),
                ("sealed", &sealed),
                ("code", &code(&app, &secret)),
            ],
        )
        .await;
    let account = dana.follow(on).await;
    account.assert_contains("Two-factor sign-in is on");
    // A second factor already on is not replaced behind its back.
    let replaced = dana
        .post_urlencoded(
            "/admin/account/totp",
            &[
                ("csrf", &account.csrf()),
                ("action", "enable"),
                ("sealed", &sealed),
                ("code", &code(&app, &secret)),
            ],
        )
        .await;
    replaced.assert_contains("already on");
    {
        let mut conn = app.state.pool.get().expect("conn");
        let stored: Option<String> = dsar::store::schema::users::table
            .filter(dsar::store::schema::users::email.eq("dana@example.fr"))
            .select(dsar::store::schema::users::totp_secret)
            .first(&mut conn)
            .expect("user");
        assert!(
            stored.is_some_and(|s| !s.contains(&secret)),
            "stored encrypted"
        );
    }

    // The password alone no longer opens the dashboard.
    app.state.clock.advance(chrono::Duration::seconds(60));
    let (mut b, res) = sign_in(&app, "dana@example.fr", PASSWORD).await;
    assert_eq!(res.location.as_deref(), Some("/admin/login/code"));
    assert_eq!(b.get("/admin").await.status.as_u16(), 303, "no session yet");
    let form = b.get("/admin/login/code").await;
    let wrong = b
        .post_urlencoded(
            "/admin/login/code",
            &[("csrf", &form.csrf()), ("code", "123456")],
        )
        .await;
    assert_eq!(wrong.status.as_u16(), 401);
    wrong.assert_contains("That code is not right");
    let now_code = code(&app, &secret);
    let ok = b
        .post_urlencoded(
            "/admin/login/code",
            &[("csrf", &form.csrf()), ("code", &now_code)],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 303, "{}", ok.html);
    assert_eq!(ok.location.as_deref(), Some("/admin"));
    assert_eq!(b.get("/admin").await.status.as_u16(), 200);

    // The same code, seen over a shoulder, does not open a second session.
    let (mut thief, _) = sign_in(&app, "dana@example.fr", PASSWORD).await;
    let form = thief.get("/admin/login/code").await;
    let replay = thief
        .post_urlencoded(
            "/admin/login/code",
            &[("csrf", &form.csrf()), ("code", &now_code)],
        )
        .await;
    assert_eq!(replay.status.as_u16(), 401);

    // The code must follow the password within five minutes.
    let (mut slow, _) = sign_in(&app, "dana@example.fr", PASSWORD).await;
    app.state.clock.advance(chrono::Duration::minutes(6));
    let late = slow.get("/admin/login/code").await;
    assert_eq!(late.location.as_deref(), Some("/admin/login"));

    // Lost phone: an administrator resets the second factor; the password alone works again.
    let mut ada = staff(&app, "ada@example.fr", Role::Admin).await;
    let users = ada.get("/admin/users").await;
    let dana_row = dsar::store::users::find_by_email(
        &mut app.state.pool.get().expect("conn"),
        "dana@example.fr",
    )
    .expect("query")
    .expect("dana");
    let reset = ada
        .post_urlencoded(
            &format!("/admin/users/{}", dana_row.id),
            &[("csrf", &users.csrf()), ("action", "reset_2fa")],
        )
        .await;
    reset.assert_contains("Two-factor sign-in of dana@example.fr is reset");
    assert_eq!(
        b.get("/admin").await.status.as_u16(),
        303,
        "her sessions ended"
    );
    let (_, res) = sign_in(&app, "dana@example.fr", PASSWORD).await;
    assert_eq!(res.location.as_deref(), Some("/admin"));
}
on_both_backends!(two_factor, two_factor_sign_in);

async fn password_reset_by_mail(app: TestApp) {
    account(&app, "hugo@example.fr", Role::Handler);
    let mut b = Browser::new(&app);
    let form = b.get("/admin/password-reset").await;
    let sent = b
        .post_urlencoded(
            "/admin/password-reset",
            &[("csrf", &form.csrf()), ("email", "hugo@example.fr")],
        )
        .await;
    sent.assert_contains("If an active account uses this address");
    // An unknown address gets the same answer, and no mail.
    let form = b.get("/admin/password-reset").await;
    let unknown = b
        .post_urlencoded(
            "/admin/password-reset",
            &[("csrf", &form.csrf()), ("email", "nobody@example.fr")],
        )
        .await;
    assert_eq!(
        unknown.html.replace("nobody@example.fr", ""),
        sent.html.replace("hugo@example.fr", "")
    );
    // Sending the form again at once mails nothing more: one link per quarter hour.
    let form = b.get("/admin/password-reset").await;
    let again = b
        .post_urlencoded(
            "/admin/password-reset",
            &[("csrf", &form.csrf()), ("email", "hugo@example.fr")],
        )
        .await;
    again.assert_contains("If an active account uses this address");
    app.run_worker().await;
    assert!(mails_to(&app, "nobody@example.fr").is_empty());
    let mails = mails_to(&app, "hugo@example.fr");
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.contains("choose a new password"),
        "{}",
        mails[0].subject
    );
    let link = mails[0]
        .text
        .split_whitespace()
        .find(|w| w.contains("/admin/password/"))
        .expect("link in the mail")
        .to_string();
    let path = &link[link.find("/admin/password/").expect("path")..];
    let page = b.get(path).await;
    let set = b
        .post_urlencoded(
            path,
            &[
                ("csrf", &page.csrf()),
                ("password", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status.as_u16(), 303, "{}", set.html);
    let (_, old) = sign_in(&app, "hugo@example.fr", PASSWORD).await;
    assert_eq!(old.status.as_u16(), 401);
    let (_, new) = sign_in(&app, "hugo@example.fr", "a brand new passphrase").await;
    assert_eq!(new.location.as_deref(), Some("/admin"));
    // The link works once.
    assert_eq!(b.get(path).await.status.as_u16(), 404);
}
on_both_backends!(password_reset, password_reset_by_mail);

async fn administrators_change_accounts(app: TestApp) {
    let mut ada = staff(&app, "ada@example.fr", Role::Admin).await;
    let hana_id = account(&app, "hana@example.fr", Role::Handler);
    let (mut hana, _) = sign_in(&app, "hana@example.fr", PASSWORD).await;
    assert_eq!(hana.get("/admin").await.status.as_u16(), 200);
    let users = ada.get("/admin/users").await;
    let csrf = users.csrf();
    let url = format!("/admin/users/{hana_id}");

    let res = ada
        .post_urlencoded(
            &url,
            &[("csrf", &csrf), ("action", "role"), ("role", "viewer")],
        )
        .await;
    res.assert_contains("hana@example.fr now has the role Viewer.");
    assert_eq!(
        hana.get("/admin").await.status.as_u16(),
        303,
        "a new role ends the sessions"
    );

    let res = ada
        .post_urlencoded(&url, &[("csrf", &csrf), ("action", "disable")])
        .await;
    res.assert_contains("hana@example.fr is disabled");
    let (_, refused) = sign_in(&app, "hana@example.fr", PASSWORD).await;
    assert_eq!(refused.status.as_u16(), 401);
    let res = ada
        .post_urlencoded(&url, &[("csrf", &csrf), ("action", "enable")])
        .await;
    res.assert_contains("can sign in again");
    let (_, back) = sign_in(&app, "hana@example.fr", PASSWORD).await;
    assert_eq!(back.status.as_u16(), 303);

    let res = ada
        .post_urlencoded(&url, &[("csrf", &csrf), ("action", "link")])
        .await;
    res.assert_contains("/admin/password/");

    // Nobody locks the organisation out: no self-demotion, no disabling the last admin.
    let ada_id = dsar::store::users::find_by_email(
        &mut app.state.pool.get().expect("conn"),
        "ada@example.fr",
    )
    .expect("query")
    .expect("ada")
    .id;
    let me = format!("/admin/users/{ada_id}");
    let res = ada
        .post_urlencoded(&me, &[("csrf", &csrf), ("action", "disable")])
        .await;
    res.assert_contains("You cannot disable your own account");
    let forged = ada
        .post_urlencoded(&url, &[("csrf", "forged"), ("action", "disable")])
        .await;
    assert_eq!(forged.status.as_u16(), 403);

    let mut conn = app.state.pool.get().expect("conn");
    let trail: Vec<String> =
        dsar::store::audit::for_target(&mut conn, "user", &hana_id.to_string())
            .expect("trail")
            .into_iter()
            .map(|a| a.action)
            .collect();
    for expected in [
        "user.role",
        "user.disable",
        "user.enable",
        "user.password_link",
    ] {
        assert!(
            trail.iter().any(|a| a == expected),
            "{expected} missing from {trail:?}"
        );
    }
}
on_both_backends!(account_changes, administrators_change_accounts);

async fn settings_and_audit_pages(app: TestApp) {
    let mut ada = staff(&app, "ada@example.fr", Role::Admin).await;
    let settings = ada.get("/admin/settings").await;
    settings.assert_contains("[organisation]");
    assert!(
        !settings.html.contains("s3cr3t-pass"),
        "the SMTP password is masked"
    );
    settings.assert_contains("***");

    let audit = ada.get("/admin/audit").await;
    audit.assert_contains("Signed in (");
    let verified = ada
        .post_urlencoded("/admin/audit/verify", &[("csrf", &audit.csrf())])
        .await;
    verified.assert_contains("The chain is intact");

    // Someone edits the trail in the database: the page names the entry.
    let id: i64 = {
        let mut conn = app.state.pool.get().expect("conn");
        use dsar::store::schema::audit_log;
        let id = audit_log::table
            .filter(audit_log::action.eq("login"))
            .select(audit_log::id)
            .first(&mut conn)
            .expect("a login entry");
        diesel::update(audit_log::table.find(id))
            .set(audit_log::actor.eq("staff:999"))
            .execute(&mut conn)
            .expect("tamper");
        id
    };
    let verified = ada
        .post_urlencoded("/admin/audit/verify", &[("csrf", &audit.csrf())])
        .await;
    verified.assert_contains(&format!("The chain is broken at entry {id}"));
}
on_both_backends!(
    settings_and_audit,
    settings_and_audit_pages,
    [(
        "DSAR_MAIL__SMTP_URL",
        "smtp://mailer:s3cr3t-pass@127.0.0.1:2525"
    )]
);

/// Two administrators demoting each other at the same moment: one change passes, the other
/// is refused, and an active administrator remains.
async fn the_last_administrator_survives_concurrent_demotions(app: TestApp) {
    use dsar::staff::accounts::{self, AccountError, ChangedBy};
    let now = app.state.clock.now();
    let mut conn = app.state.pool.get().expect("conn");
    let mut admin = |email: &str| {
        dsar::staff::add_user(&mut conn, email, "", Role::Admin, "tests", now)
            .expect("admin")
            .0
            .id
    };
    let (ada, bob) = (admin("ada@example.fr"), admin("bob@example.fr"));
    // Every other administrator (the one start-up invited) steps down first.
    for other in dsar::store::users::list(&mut conn).expect("users") {
        if other.role == "admin" && ![ada, bob].contains(&other.id) {
            let by = ChangedBy {
                user_id: ada,
                actor: "tests",
            };
            accounts::change_role(&mut conn, other.id, Role::Viewer, by, now).expect("demoted");
        }
    }
    drop(conn);
    // Both start together, each with its connection in hand.
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let demote = |me: i64, other: i64| {
        let (state, start) = (app.state.clone(), start.clone());
        std::thread::spawn(move || {
            let mut conn = state.pool.get().expect("conn");
            start.wait();
            let by = ChangedBy {
                user_id: me,
                actor: "tests",
            };
            accounts::change_role(&mut conn, other, Role::Handler, by, now)
        })
    };
    let (a, b) = (demote(ada, bob), demote(bob, ada));
    let results = [a.join().expect("thread"), b.join().expect("thread")];
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 1, "{results:?}");
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(AccountError::LastAdministratorDemoted))),
        "{results:?}"
    );
    let mut conn = app.state.pool.get().expect("conn");
    assert_eq!(
        dsar::store::users::count_active_with_role(&mut conn, "admin").expect("count"),
        1
    );
}
on_both_backends!(
    last_administrator,
    the_last_administrator_survives_concurrent_demotions
);
