//! The dashboard's frame and accounts as staff meet them: each account chooses its language
//! and every page and staff mail follows; pages before sign-in speak the browser's language;
//! the organisation's name, logo and accent on the portal, the dashboard and in mails (and
//! never "dsar" before a requester); invitations mailed in the language chosen for the
//! person; the QR code of the second factor; configuration errors for the identity.

use dsar::staff::Role;

use crate::admin::{PASSWORD, account, sign_in, staff};
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PAGES: [&str; 4] = [
    "/admin/account",
    "/admin/users",
    "/admin/settings",
    "/admin/jobs",
];

async fn the_accounts_language_is_saved_and_every_page_follows(app: TestApp) {
    let mut admin = staff(&app, "ada@example.org", Role::Admin).await;
    // The organisation's language (English in the tests) until the account chooses.
    let page = admin.get("/admin/account").await;
    page.assert_contains("<html lang=\"en\">");
    page.assert_contains("The organisation&#39;s language (English)");
    for (path, words) in PAGES
        .iter()
        .zip(["My account", "Team", "Settings", "Background jobs"])
    {
        let page = admin.get(path).await;
        assert_eq!(page.status.as_u16(), 200, "{path}");
        page.assert_contains(&format!("<h1>{words}</h1>"));
    }

    let chosen = admin
        .post_urlencoded(
            "/admin/account/language",
            &[("csrf", &page.csrf()), ("lang", "fr")],
        )
        .await;
    assert_eq!(chosen.status.as_u16(), 303);
    let page = admin.follow(chosen).await;
    page.assert_contains("<html lang=\"fr\">");
    page.assert_contains("Votre choix de langue est enregistré.");
    for (path, words) in PAGES
        .iter()
        .zip(["Mon compte", "Équipe", "Paramètres", "Tâches de fond"])
    {
        let page = admin.get(path).await;
        page.assert_contains("<html lang=\"fr\">");
        page.assert_contains(&format!("<h1>{words}</h1>"));
        page.assert_contains("Espace protection des données");
        assert!(!page.html.contains("[missing translation]"), "{path}");
    }
    // Signed in, the error pages speak the account's language too.
    let missing = admin.get("/admin/nothing-here").await;
    assert_eq!(missing.status.as_u16(), 404);
    missing.assert_contains("Page introuvable");
    missing.assert_contains("<html lang=\"fr\">");
    // The choice is kept by the account: a new session reads French at once.
    let (mut again, _) = sign_in(&app, "ada@example.org", PASSWORD).await;
    again
        .get("/admin/settings")
        .await
        .assert_contains("Ce que le serveur fait de lui-même");

    // Back to the organisation's language.
    let page = admin.get("/admin/account").await;
    let back = admin
        .post_urlencoded(
            "/admin/account/language",
            &[("csrf", &page.csrf()), ("lang", "")],
        )
        .await;
    admin
        .follow(back)
        .await
        .assert_contains("Your choice of language is saved.");
}

on_both_backends!(
    language_choice,
    the_accounts_language_is_saved_and_every_page_follows
);

#[actix_web::test]
async fn pages_before_sign_in_speak_the_browsers_language() {
    let app = try_spawn(Backend::Sqlite, &[]).await.expect("app");
    for (accept, title, lang) in [
        (Some("fr-FR,fr;q=0.9,en;q=0.5"), "Se connecter", "fr"),
        (Some("en-GB,en;q=0.9"), "Sign in", "en"),
        // Neither French nor English: the organisation's (English in the tests).
        (Some("de-DE"), "Sign in", "en"),
        (None, "Sign in", "en"),
    ] {
        let mut b = Browser::new(&app);
        b.accept_language = accept.map(str::to_string);
        let page = b.get("/admin/login").await;
        page.assert_contains(&format!("<html lang=\"{lang}\">"));
        page.assert_contains(&format!("<h1>{title}</h1>"));
        page.assert_contains("?lang=");
    }

    // The other language, chosen by a link, sticks for the next pages.
    let mut b = Browser::new(&app);
    b.accept_language = Some("en".into());
    let page = b.get("/admin/login?lang=fr").await;
    page.assert_contains("<h1>Se connecter</h1>");
    page.assert_contains("href=\"/admin/login?lang=en\"");
    b.get("/admin/password-reset")
        .await
        .assert_contains("<h1>Mot de passe oublié</h1>");

    // A refused sign-in comes back with the error first, focused, and "Erreur" in the title.
    let refused = b
        .post_urlencoded(
            "/admin/login",
            &[
                ("csrf", &page.csrf()),
                ("email", "nobody@example.org"),
                ("password", "not the password"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 401);
    refused.assert_contains("<title>Erreur\u{a0}: Se connecter");
    refused.assert_contains("class=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus");
    refused
        .assert_contains("<a href=\"#email\">Adresse électronique ou mot de passe incorrect.</a>");
    refused.assert_contains("value=\"nobody@example.org\"");

    // Strangers' error pages speak their browser's language.
    let mut en = Browser::new(&app);
    en.accept_language = Some("en".into());
    let gone = en.get("/admin/password/not-a-token").await;
    assert_eq!(gone.status.as_u16(), 404);
    gone.assert_contains("Page not found");
    let mut fr = Browser::new(&app);
    fr.accept_language = Some("fr".into());
    fr.get("/admin/password/not-a-token")
        .await
        .assert_contains("Page introuvable");
}

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[actix_web::test]
async fn the_organisation_is_named_with_its_logo_and_colour_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, crate::eml::decode_base64(PNG)).expect("logo written");
    let logo = logo.display().to_string();
    let app = try_spawn(
        Backend::Sqlite,
        &[
            ("DSAR_ORGANISATION__NAME", "Mairie de Lyon"),
            ("DSAR_ORGANISATION__LOGO", &logo),
            ("DSAR_ORGANISATION__ACCENT", "#7a1f5c"),
        ],
    )
    .await
    .expect("app");
    let mut b = Browser::new(&app);

    let served = b.get("/static/logo").await;
    assert_eq!(served.status.as_u16(), 200);
    assert_eq!(served.content_type, "image/png");
    assert_eq!(served.bytes, crate::eml::decode_base64(PNG));
    b.get("/static/brand.css")
        .await
        .assert_contains("--accent: #7a1f5c");

    // The portal: the name and the logo, never the product's name.
    for path in ["/fr/", "/en/", "/fr/request/access"] {
        let page = b.get(path).await;
        page.assert_contains("Mairie de Lyon");
        page.assert_contains("<img src=\"/static/logo\"");
        page.assert_contains("/static/brand.css");
        assert!(
            !page.html.to_lowercase().contains("dsar"),
            "{path} names the product: {}",
            page.html
        );
    }

    // The dashboard: the organisation in the header and the title.
    let mut dana = staff(&app, "dana@example.org", Role::Dpo).await;
    let queue = dana.get("/admin/account").await;
    queue.assert_contains("<span class=\"org\">Mairie de Lyon</span>");
    queue.assert_contains("· Mairie de Lyon</title>");
    queue.assert_contains("<img src=\"/static/logo\"");
    let login = Browser::new(&app).get("/admin/login").await;
    login.assert_contains("Mairie de Lyon");
    assert!(!login.html.contains(">dsar<"));

    // A requester's mail: the name, the logo carried inside the mail, the accent.
    let mut person = Browser::new(&app);
    let form = person.get("/fr/request/erasure").await;
    let filed = person
        .post(
            "/fr/request/erasure",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", "camille@example.fr"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("erasure_scope", "all"),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    app.run_worker().await;
    let mails = mails_to(&app, "camille@example.fr");
    let mail = mails.first().expect("a mail to the requester");
    assert!(mail.subject.contains("Mairie de Lyon"), "{}", mail.subject);
    // The product's name, not the references ("DSAR-2026-…", the regulation's acronym).
    assert!(!mail.subject.contains("dsar"), "{}", mail.subject);
    assert!(!mail.text.contains("dsar"), "{}", mail.text);
    assert!(mail.raw.contains("multipart/related"), "{}", mail.raw);
    assert!(mail.raw.contains("Content-ID: <logo>"), "{}", mail.raw);
    assert!(mail.raw.contains("image/png"));
    let html = html_of(&mail.raw);
    assert!(html.contains("src=\"cid:logo\""), "{html}");
    assert!(
        html.contains("#7a1f5c") && !html.contains("#1d4ed8"),
        "{html}"
    );
    assert!(!html.contains("src=\"http"), "no remote image: {html}");

    // A staff mail too.
    let mut b = Browser::new(&app);
    let form = b.get("/admin/password-reset").await;
    b.post_urlencoded(
        "/admin/password-reset",
        &[("csrf", &form.csrf()), ("email", "dana@example.org")],
    )
    .await;
    app.run_worker().await;
    let reset = mails_to(&app, "dana@example.org");
    let reset = reset.last().expect("the reset mail");
    assert!(
        reset.subject.starts_with("Mairie de Lyon – "),
        "{}",
        reset.subject
    );
    assert!(!reset.subject.contains("dsar"));
    assert!(html_of(&reset.raw).contains("src=\"cid:logo\""));
}

/// The HTML part of a mail, wherever it sits (inside `multipart/related` with a logo).
fn html_of(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let start = raw.find("Content-Type: text/html").expect("an HTML part");
    let rest = &raw[start..];
    let (head, body) = rest.split_once("\n\n").expect("part body");
    let end = body.find("\n--").unwrap_or(body.len());
    let body = &body[..end];
    if head.contains("quoted-printable") {
        let joined = body.replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let escaped = (bytes[i] == b'=' && i + 3 <= bytes.len())
                .then(|| u8::from_str_radix(&joined[i + 1..i + 3], 16).ok())
                .flatten();
            match escaped {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    } else if head.contains("base64") {
        String::from_utf8_lossy(&crate::eml::decode_base64(body)).into_owned()
    } else {
        body.to_string()
    }
}

#[actix_web::test]
async fn an_invitation_is_mailed_in_the_language_chosen_for_the_person() {
    let app = try_spawn(Backend::Sqlite, &[]).await.expect("app");
    let mut admin = staff(&app, "ada@example.org", Role::Admin).await;
    let page = admin.get("/admin/users").await;
    // Handler by default, the organisation's language by default.
    page.assert_contains("<option value=\"handler\" selected>Handler</option>");
    page.assert_contains(
        "<option value=\"\" selected>The organisation&#39;s language (English)</option>",
    );
    page.assert_contains("What each role may do");

    let invited = admin
        .post_urlencoded(
            "/admin/users",
            &[
                ("csrf", &page.csrf()),
                ("email", "Hugo.Petit@example.fr"),
                ("name", "Hugo Petit"),
                ("role", "handler"),
                ("lang", "fr"),
            ],
        )
        .await;
    assert_eq!(invited.status.as_u16(), 200, "{}", invited.html);
    invited.assert_contains("The invitation is on its way to hugo.petit@example.fr.");
    // The link is still shown to the administrator, should the mail not arrive.
    invited.assert_contains("/admin/password/");

    app.run_worker().await;
    let mails = mails_to(&app, "hugo.petit@example.fr");
    assert_eq!(mails.len(), 1, "one invitation");
    let mail = &mails[0];
    assert!(
        mail.subject
            .contains("votre accès à l'espace protection des données"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("Bonjour Hugo Petit,"), "{}", mail.text);
    assert!(mail.text.contains("Gestionnaire"), "{}", mail.text);
    assert!(
        mail.text.contains("Ada") || mail.text.contains("ada"),
        "who invites: {}",
        mail.text
    );
    let start = mail.text.find("/admin/password/").expect("the link");
    let path: String = mail.text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    // The person's password page speaks the language chosen for them.
    let mut hugo = Browser::new(&app);
    hugo.accept_language = Some("en".into());
    let choose = hugo.get(&path).await;
    choose.assert_contains("<h1>Choisir votre mot de passe</h1>");

    // Without a choice, the organisation's language.
    let page = admin.get("/admin/users").await;
    admin
        .post_urlencoded(
            "/admin/users",
            &[
                ("csrf", &page.csrf()),
                ("email", "iris@example.org"),
                ("name", ""),
                ("role", "viewer"),
                ("lang", ""),
            ],
        )
        .await;
    app.run_worker().await;
    let mails = mails_to(&app, "iris@example.org");
    assert!(
        mails[0]
            .subject
            .contains("your access to the data protection workspace"),
        "{}",
        mails[0].subject
    );
    assert!(mails[0].text.contains("Viewer"));

    // A refused invitation keeps what was typed and says why, in the summary.
    let page = admin.get("/admin/users").await;
    let again = admin
        .post_urlencoded(
            "/admin/users",
            &[
                ("csrf", &page.csrf()),
                ("email", "iris@example.org"),
                ("name", "Iris Again"),
                ("role", "dpo"),
                ("lang", "en"),
            ],
        )
        .await;
    again.assert_contains("<title>Error: Team");
    again.assert_contains(
        "<a href=\"#invite-email\">An account with this address exists already.</a>",
    );
    again.assert_contains("value=\"Iris Again\"");
    again.assert_contains("<option value=\"dpo\" selected>DPO</option>");
}

#[actix_web::test]
async fn staff_mails_follow_the_accounts_language() {
    let app = try_spawn(Backend::Sqlite, &[]).await.expect("app");
    let id = account(&app, "lea@example.fr", Role::Handler);
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_lang(&mut conn, id, Some("fr")).expect("lang");
    }
    let mut b = Browser::new(&app);
    let form = b.get("/admin/password-reset").await;
    b.post_urlencoded(
        "/admin/password-reset",
        &[("csrf", &form.csrf()), ("email", "lea@example.fr")],
    )
    .await;
    app.run_worker().await;
    let mails = mails_to(&app, "lea@example.fr");
    let mail = mails.first().expect("the reset mail");
    assert!(
        mail.subject.contains("choisir un nouveau mot de passe"),
        "{}",
        mail.subject
    );
    assert!(
        mail.text.contains("Choisir un nouveau mot de passe"),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("dsar"));
}

#[actix_web::test]
async fn the_second_factor_set_up_shows_a_qr_code_beside_the_key() {
    let app = try_spawn(Backend::Sqlite, &[]).await.expect("app");
    let mut dana = staff(&app, "dana@example.org", Role::Dpo).await;
    let page = dana.get("/admin/account").await;
    let setup = dana
        .post_urlencoded(
            "/admin/account/totp",
            &[("csrf", &page.csrf()), ("action", "start")],
        )
        .await;
    setup.assert_contains("<svg class=\"qr\"");
    setup.assert_contains("role=\"img\"");
    setup.assert_contains("<path d=\"M4 4h1v1h-1z");
    // The key in groups of four, the address behind a disclosure.
    let start = setup.html.find("id=\"totp-secret\">").expect("key") + 17;
    let key = &setup.html[start..start + 39];
    assert!(
        key.split(' ').all(|group| group.len() == 4),
        "grouped in fours: {key}"
    );
    let details = setup.html.find("<details>").expect("a disclosure");
    let uri = setup.html.find("otpauth://totp/").expect("the address");
    assert!(details < uri, "the otpauth address is behind <details>");
}

#[test]
fn the_identity_settings_are_checked_when_they_load() {
    let load = |pairs: &[(&str, &str)]| {
        dsar::config::Settings::load_from(
            None,
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let err = format!(
        "{:#}",
        load(&[("DSAR_ORGANISATION__ACCENT", "#ffdd00")]).unwrap_err()
    );
    assert!(
        err.contains("organisation.accent") && err.contains("4.5:1"),
        "{err}"
    );
    let err = format!(
        "{:#}",
        load(&[("DSAR_ORGANISATION__ACCENT", "purple")]).unwrap_err()
    );
    assert!(err.contains("#rrggbb"), "{err}");
    let err = format!(
        "{:#}",
        load(&[("DSAR_ORGANISATION__LOGO", "/nowhere/logo.svg")]).unwrap_err()
    );
    assert!(
        err.contains("organisation.logo") && err.contains("/nowhere/logo.svg"),
        "{err}"
    );
    let loaded = load(&[("DSAR_ORGANISATION__ACCENT", "#1E3A8A")]).expect("a dark blue loads");
    assert_eq!(loaded.brand().accent.hex(), "#1e3a8a");
}
