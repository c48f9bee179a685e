//! The public portal, driven like a browser: forms with CSRF, the mails the real transport
//! wrote, the link they carry, the status page, messages, identity proof and withdrawal.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

/// Valid answers for each kind's own fields.
fn answers(kind: &str) -> Vec<(&'static str, &'static str)> {
    match kind {
        "access" => vec![("access_scope", "all")],
        "rectification" => vec![
            ("rectification_wrong", "Mon adresse postale"),
            ("rectification_correct", "12 rue des Lilas, 69003 Lyon"),
        ],
        "erasure" => vec![
            ("erasure_scope", "all"),
            ("erasure_reason", "Je ne suis plus client"),
        ],
        "restriction" => vec![("restriction_ground", "accuracy")],
        "portability" => vec![
            ("portability_data", "Historique de commandes"),
            ("portability_destination", "me"),
        ],
        "objection" => vec![("objection_direct_marketing", "yes")],
        "consent_withdrawal" => vec![("consent_withdrawal_consent", "Lettre d'information")],
        other => panic!("unknown kind {other}"),
    }
}

const KINDS: [&str; 7] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "consent_withdrawal",
];

struct Words {
    submitted: &'static str,
    confirmed: &'static str,
    due: &'static str,
    stopped: &'static str,
    identity_received: &'static str,
    in_progress: &'static str,
    verifying: &'static str,
    sent: &'static str,
    withdrawn: &'static str,
    withdrawn_status: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            submitted: "Votre demande est enregistrée",
            confirmed: "votre adresse électronique est confirmée",
            // Received Monday 3 March 2025: two months → Saturday 3 May → Monday 5 May.
            due: "5 mai 2025",
            stopped: "Le délai est suspendu",
            identity_received: "votre justificatif est reçu",
            in_progress: "en cours de traitement",
            verifying: "vérification de votre identité",
            sent: "Votre message est envoyé",
            withdrawn: "Votre demande est retirée",
            withdrawn_status: "retirée",
        },
        _ => Words {
            submitted: "Your request is recorded",
            confirmed: "your email address is confirmed",
            due: "5 May 2025",
            stopped: "The deadline is suspended",
            identity_received: "we have your document",
            in_progress: "being handled",
            verifying: "checking your identity",
            sent: "Your message has been sent",
            withdrawn: "Your request is withdrawn",
            withdrawn_status: "withdrawn",
        },
    }
}

async fn file_through_the_form<'a>(
    browser: &mut Browser<'a>,
    lang: &str,
    kind: &str,
    email: &str,
) -> String {
    let w = words(lang);
    let form = browser.get(&format!("/{lang}/request/{kind}")).await;
    assert_eq!(form.status.as_u16(), 200, "{}", form.html);
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("website", ""),
        Part::Field("name", "Camille Martin"),
        Part::Field("email", email),
        Part::Field("customer_ref", "C-1042"),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
        Part::File("mandate", "", b""),
        Part::Field("details", ""),
    ];
    let own = answers(kind);
    parts.extend(own.iter().map(|(k, v)| Part::Field(k, v)));
    let done = browser
        .post(&format!("/{lang}/request/{kind}"), &parts)
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.html);
    let done = browser.follow(done).await;
    done.assert_contains(w.submitted);
    let start = done
        .html
        .find("DSAR-")
        .expect("the page gives the reference");
    done.html[start..start + 16].to_string()
}

async fn every_kind_from_form_to_withdrawal(app: TestApp, lang: &str) {
    app.set_now("2025-03-03T10:00:00Z");
    let w = words(lang);
    for kind in KINDS {
        let email = format!("camille.{kind}.{lang}@example.fr");
        let mut browser = Browser::new(&app);
        let reference = file_through_the_form(&mut browser, lang, kind, &email).await;
        app.run_worker().await;

        let mails = mails_to(&app, &email);
        assert_eq!(mails.len(), 1, "{kind}: one confirmation mail");
        let confirm = &mails[0];
        assert!(
            confirm.text.contains(&reference),
            "{kind}: the mail names the reference"
        );
        assert!(
            confirm.subject.contains(&reference),
            "{kind}: subject {:?}",
            confirm.subject
        );
        assert!(
            confirm
                .header("Message-ID")
                .is_some_and(|id| id.starts_with('<')),
            "{kind}: a Message-ID"
        );
        let in_language = if lang == "fr" { "Bonjour" } else { "Hello" };
        assert!(
            confirm.text.contains(in_language),
            "{kind}: the mail is in {lang}: {}",
            confirm.text
        );
        let link = confirm.link().expect("the mail carries a link");
        assert!(link.starts_with(&format!("/{lang}/r/")), "{link}");

        let page = browser.get(&link).await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.html);
        page.assert_contains(w.confirmed);
        page.assert_contains(&reference);
        if kind == "erasure" {
            // The policy asks for an ID document: the request waits and its clock stands still.
            page.assert_contains(w.stopped);
            let csrf = page.csrf();
            let uploaded = browser
                .post(
                    &format!("{link}/identity"),
                    &[
                        Part::Field("csrf", &csrf),
                        Part::File("document", "carte.pdf", PDF),
                    ],
                )
                .await;
            assert_eq!(uploaded.status.as_u16(), 303, "{}", uploaded.html);
            let page = browser.follow(uploaded).await;
            page.assert_contains(w.identity_received);
            page.assert_contains(w.verifying);
            page.assert_contains(w.due);
        } else {
            page.assert_contains(w.in_progress);
            page.assert_contains(w.due);
        }
        app.run_worker().await;
        let mails = mails_to(&app, &email);
        assert_eq!(
            mails.len(),
            2,
            "{kind}: the confirmation, then what comes next"
        );

        // The requester writes; the team answers through the API; the mail only says so.
        let page = browser.get(&link).await;
        let csrf = page.csrf();
        let sent = browser
            .post(
                &format!("{link}/message"),
                &[
                    Part::Field("csrf", &csrf),
                    Part::Field("body", "Merci de votre aide"),
                    Part::File("attachment", "", b""),
                ],
            )
            .await;
        assert_eq!(sent.status.as_u16(), 303, "{}", sent.html);
        let page = browser.follow(sent).await;
        page.assert_contains(w.sent);
        page.assert_contains("Merci de votre aide");
        let answer = app
            .post(
                &format!("/api/v1/requests/{reference}/messages"),
                &json!({ "body": "Nous avons retrouvé votre dossier client n° 1042" }),
            )
            .await;
        assert_eq!(answer.status.as_u16(), 201, "{:?}", answer.body);
        app.run_worker().await;
        let mails = mails_to(&app, &email);
        let news = mails.last().expect("a new-message mail");
        assert!(
            !news.raw.contains("dossier client"),
            "{kind}: the mail never carries the message"
        );
        let fresh = news.link().expect("a fresh link");
        assert_ne!(fresh, link, "every mail carries a fresh link");
        let page = browser.get(&fresh).await;
        page.assert_contains("Nous avons retrouvé votre dossier client");

        let confirm_page = browser.get(&format!("{link}/withdraw")).await;
        assert_eq!(confirm_page.status.as_u16(), 200);
        let csrf = confirm_page.csrf();
        let withdrawn = browser
            .post_urlencoded(&format!("{link}/withdraw"), &[("csrf", &csrf)])
            .await;
        assert_eq!(withdrawn.status.as_u16(), 303, "{}", withdrawn.html);
        let page = browser.follow(withdrawn).await;
        page.assert_contains(w.withdrawn);
        page.assert_contains(w.withdrawn_status);
        app.run_worker().await;
        assert_eq!(
            mails_to(&app, &email).len(),
            4,
            "{kind}: confirm, next step, new message, withdrawn"
        );
        let api = app.get(&format!("/api/v1/requests/{reference}")).await;
        assert_eq!(api.body["status"], "withdrawn");
        assert_eq!(api.body["language"], lang);
    }
}

async fn in_french(app: TestApp) {
    every_kind_from_form_to_withdrawal(app, "fr").await;
}
async fn in_english(app: TestApp) {
    every_kind_from_form_to_withdrawal(app, "en").await;
}
on_both_backends!(portal_flow_fr, in_french);
on_both_backends!(portal_flow_en, in_english);

async fn the_language_follows_the_browser_and_is_remembered(app: TestApp) {
    let mut browser = Browser::new(&app);
    browser.accept_language = Some("en-GB,en;q=0.9,fr;q=0.5".into());
    let root = browser.get("/").await;
    assert_eq!(root.location.as_deref(), Some("/en/"));
    let home = browser.get("/fr/").await;
    home.assert_contains("lang=\"fr\"");
    home.assert_contains("href=\"/en/\"");
    // The French page was chosen last: it is remembered over the browser's preference.
    let root = browser.get("/").await;
    assert_eq!(root.location.as_deref(), Some("/fr/"));
    let missing = browser.get("/de/").await;
    assert_eq!(missing.status.as_u16(), 404);
    let unknown_kind = browser.get("/en/request/telepathy").await;
    assert_eq!(unknown_kind.status.as_u16(), 404);
    unknown_kind.assert_contains("Page not found");
}
on_both_backends!(
    portal_language,
    the_language_follows_the_browser_and_is_remembered
);
