//! Every page of the dashboard's frame and accounts in a real browser, in French and in
//! English: axe-core's WCAG 2.2 AA and best-practice rules, no sideways scrolling at 390 px,
//! and screenshots of each at 1,280 and 390 px (target/browser-artifacts/shell-*.png).

use crate::browser::Driver;
use crate::helpers::{Backend, TestApp, try_spawn};

const ADMIN: &str = "ada.admin@example.org";
const TOTP_USER: &str = "theo.totp@example.org";
const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

fn add(app: &TestApp, email: &str, name: &str, role: dsar::staff::Role) -> (i64, String) {
    app.staff_account(email, name, role)
}

fn set_lang(app: &TestApp, id: i64, lang: &str) {
    let mut conn = app.state.pool.get().expect("conn");
    dsar::store::users::set_lang(&mut conn, id, Some(lang)).expect("lang");
}

/// Signs the administrator in, waiting out the sign-in throttle that the wrong passwords and
/// codes above (all from 127.0.0.1) have set off.
async fn sign_in_patiently(d: &Driver, base: &str, lang: &str) {
    for _ in 0..10 {
        d.goto(&format!("{base}/admin/login")).await;
        d.fill("email", ADMIN).await;
        d.fill("password", PASSWORD).await;
        d.click_text(if lang == "fr" {
            "Se connecter"
        } else {
            "Sign in"
        })
        .await;
        if d.source().await.contains("Ada Lovelace") {
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_secs(2)).await;
    }
    panic!("the administrator could not sign in");
}

/// One job that failed and waits for its next attempt, one whose attempts are spent: the
/// jobs page in its troubled state.
fn failed_jobs(app: &TestApp) {
    use dsar::store::jobs;
    let mut conn = app.state.pool.get().expect("conn");
    let backoff = jobs::Backoff::from_settings(&app.state.settings.worker);
    let lease = chrono::Duration::minutes(5);
    let mut now = app.state.clock.now_naive();
    // A mail the server refuses every time, until its attempts are spent.
    jobs::enqueue(&mut conn, "send_mail", "{}", now, None, now).expect("job");
    while let Some(job) = jobs::claim(&mut conn, "test", now, lease).expect("claim") {
        let why = "SMTP: permanent error (550): mailbox unavailable";
        jobs::fail(&mut conn, &job, "test", why, now, backoff).expect("fail");
        now += chrono::Duration::hours(7);
    }
    // An export that failed once and waits for its next attempt.
    let now = app.state.clock.now_naive();
    jobs::enqueue(&mut conn, "build_export", "{}", now, None, now).expect("job");
    let job = jobs::claim(&mut conn, "test", now, lease)
        .expect("claim")
        .expect("the export");
    let why = "the data source answered 503 Service Unavailable";
    jobs::fail(&mut conn, &job, "test", why, now, backoff).expect("fail");
}

#[actix_web::test]
async fn every_page_of_the_frame_and_accounts_passes_axe_in_both_languages() {
    let Some(app) = try_spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    let base = app.address.clone();
    let (admin, _) = add(&app, ADMIN, "Ada Lovelace", dsar::staff::Role::Admin);
    // An invited colleague who has not chosen a password yet: the password page.
    let (_, invite_link) = {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::staff::add_user(
            &mut conn,
            "nina.new@example.org",
            "Nina Nouvelle",
            dsar::staff::Role::Handler,
            "test",
            app.state.clock.now(),
        )
        .expect("invited")
    };
    // A colleague with a second factor: the code page.
    let (totp_id, _) = add(&app, TOTP_USER, "Théo Martin", dsar::staff::Role::Handler);
    let secret = dsar::staff::totp::new_secret();
    {
        let key = dsar::web::admin::load_key(&app.state.settings.security).expect("key");
        let sealed = dsar::crypto::seal(&key, "totp", &secret);
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_totp(&mut conn, totp_id, Some(&sealed)).expect("totp");
    }

    failed_jobs(&app);

    for lang in ["fr", "en"] {
        // Before signing in: the browser's choice of language, here by the link.
        d.goto(&format!("{base}/admin/login?lang={lang}")).await;
        d.check_page(&format!("shell-login-{lang}")).await;
        d.fill("email", ADMIN).await;
        d.fill("password", "not the password").await;
        d.click_text(if lang == "fr" {
            "Se connecter"
        } else {
            "Sign in"
        })
        .await;
        d.expect(if lang == "fr" {
            "Il y a un problème"
        } else {
            "There is a problem"
        })
        .await;
        d.check_page(&format!("shell-login-error-{lang}")).await;

        d.goto(&format!("{base}/admin/password-reset")).await;
        d.check_page(&format!("shell-reset-{lang}")).await;
        d.goto(&format!("{base}{invite_link}")).await;
        d.check_page(&format!("shell-password-{lang}")).await;
        d.goto(&format!("{base}/admin/password/no-such-link")).await;
        d.check_page(&format!("shell-not-found-guest-{lang}")).await;

        // The code page, and its error.
        d.goto(&format!("{base}/admin/login")).await;
        d.fill("email", TOTP_USER).await;
        d.fill("password", PASSWORD).await;
        d.click_text(if lang == "fr" {
            "Se connecter"
        } else {
            "Sign in"
        })
        .await;
        d.expect(if lang == "fr" {
            "Code à six chiffres"
        } else {
            "Six-digit code"
        })
        .await;
        d.check_page(&format!("shell-code-{lang}")).await;
        d.fill("code", "000000").await;
        d.click_text(if lang == "fr" {
            "Se connecter"
        } else {
            "Sign in"
        })
        .await;
        d.check_page(&format!("shell-code-error-{lang}")).await;

        // Signed in, in the account's language.
        set_lang(&app, admin, lang);
        sign_in_patiently(&d, &base, lang).await;
        for (path, name) in [
            ("/admin/account", "account"),
            ("/admin/users", "users"),
            ("/admin/settings", "settings"),
            ("/admin/jobs", "jobs"),
            ("/admin/nowhere-to-be-found", "not-found"),
        ] {
            d.goto(&format!("{base}{path}")).await;
            d.check_page(&format!("shell-{name}-{lang}")).await;
        }
        // The second factor's set-up, with its QR code.
        d.goto(&format!("{base}/admin/account")).await;
        d.click_text(if lang == "fr" {
            "Configurer la double authentification"
        } else {
            "Set up two-factor sign-in"
        })
        .await;
        d.check_page(&format!("shell-totp-setup-{lang}")).await;
        // A refused invitation: the summary, the form as typed.
        d.goto(&format!("{base}/admin/users")).await;
        d.fill("email", ADMIN).await;
        d.click_text(if lang == "fr" {
            "Envoyer l'invitation"
        } else {
            "Send the invitation"
        })
        .await;
        d.check_page(&format!("shell-users-error-{lang}")).await;
        d.click_text(if lang == "fr" {
            "Se déconnecter"
        } else {
            "Sign out"
        })
        .await;
    }
    d.quit().await;
}
