//! Verification as the policy says. Where a confirmed address is proof enough (policy
//! `email`), opening the mailed link verifies the request, and it goes to the sources with
//! no other step. Staff record any other check from the request page, or the API, by one of
//! the same method codes. The request page names people, gives times in the organisation's
//! zone (Paris), and leaves files sent with messages out of what waits for a decision.

use serde_json::json;

use crate::helpers::{Backend, TestApp, assert_problem, try_spawn};
use crate::on_both_backends;
use crate::web::{Browser, Page, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// Files a request on the French portal and opens the link of the mail that follows;
/// returns the reference.
async fn file_and_confirm(
    app: &TestApp,
    person: &mut Browser<'_>,
    kind: &str,
    email: &str,
) -> String {
    let form = person.get(&format!("/fr/request/{kind}")).await;
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", "Camille Martin"),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
    ];
    match kind {
        "access" => parts.push(Part::Field("access_scope", "all")),
        "erasure" => parts.push(Part::Field("erasure_scope", "all")),
        other => panic!("no answers for {other}"),
    }
    let filed = person.post(&format!("/fr/request/{kind}"), &parts).await;
    let filed = person.follow(filed).await;
    assert_eq!(filed.status.as_u16(), 200, "{}", filed.html);
    let start = filed.html.find("DSAR-").expect("reference");
    let reference = filed.html[start..start + 16].to_string();
    app.run_worker().await;
    let link = mails_to(app, email)[0].link().expect("link");
    let page = person.get(&link).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
    reference
}

/// A DPO with a name, signed in.
async fn dpo<'a>(app: &'a TestApp, name: &str, email: &str) -> Browser<'a> {
    crate::admin::staff_named(app, email, name, dsar::staff::Role::Dpo).await
}

/// Posts one of the request page's forms; returns the page it leads back to.
async fn act(b: &mut Browser<'_>, reference: &str, fields: &[(&str, &str)]) -> Page {
    let url = format!("/admin/requests/{reference}");
    let csrf = b.get(&url).await.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let res = b.post_urlencoded(&format!("{url}/action"), &all).await;
    // Done: back to the page; refused: the page again, saying why.
    assert!(matches!(res.status.as_u16(), 303 | 422), "{}", res.html);
    b.follow(res).await
}

const ALERT: &str = "class=\"error-summary\"";

async fn a_confirmed_address_verifies_an_access_request_that_then_goes_to_the_sources(
    backend: Backend,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = crate::helpers::archives_only(dir.path());
    let Some(app) = try_spawn(
        backend,
        &[
            ("DSAR_REGISTER__FILE", "config/register.example.toml"),
            ("DSAR_FULFILMENT__SOURCES_FILE", sources.as_str()),
        ],
    )
    .await
    else {
        return;
    };
    // Saturday 14 March 2026, 10:42 in Paris.
    app.set_now("2026-03-14T09:42:00Z");
    let mut person = Browser::new(&app);
    let reference = file_and_confirm(&app, &mut person, "access", "camille@example.fr").await;

    // The API says so: verified by the link, when it was opened.
    let read = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(read.body["status"], "in_progress", "{:?}", read.body);
    assert_eq!(read.body["verified"]["method"], "email_link");
    assert_eq!(read.body["verified"]["at"], "2026-03-14T09:42:00Z");
    let steps: Vec<&str> = read.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(steps, ["received", "confirm_email", "verify"]);

    // The request page: verified, in words and local time; nothing left to verify.
    let mut alice = dpo(&app, "Alice Dupont", "alice@example.org").await;
    let page = alice.get(&format!("/admin/requests/{reference}")).await;
    page.assert_contains("verified (email link) on 14 March 2026, 10:42 (Paris time)");
    page.assert_contains("Identity verified (email link)");
    assert!(!page.html.contains("id=\"verify\""), "no verify form");

    // "Send to the sources" works without any other step.
    let res = alice
        .post_urlencoded(
            &format!("/admin/requests/{reference}/sources"),
            &[("csrf", &page.csrf()), ("action", "dispatch")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = alice.follow(res).await;
    assert!(!page.html.contains(ALERT), "{}", page.html);
    page.assert_contains("Task for Service client — archives");

    // The register says how, in words, and when.
    let csv = alice
        .get("/admin/reports/register.csv?from=2026-03&to=2026-03")
        .await;
    assert_eq!(csv.status.as_u16(), 200, "{}", csv.html);
    let line = csv
        .html
        .lines()
        .find(|l| l.starts_with(&reference))
        .unwrap_or_else(|| panic!("{reference} not in {}", csv.html));
    assert!(line.contains(",email link,2026-03-14T09:42:00Z,"), "{line}");
}

async fn staff_verify_by_hand_from_the_request_page(app: TestApp) {
    // Erasure asks for an identity document: confirmed on Tuesday 10 March, on hold.
    app.set_now("2026-03-10T08:00:00Z");
    let mut person = Browser::new(&app);
    let reference = file_and_confirm(&app, &mut person, "erasure", "camille@example.fr").await;
    let link = mails_to(&app, "camille@example.fr")
        .last()
        .and_then(|m| m.link())
        .expect("link");
    let page = person.get(&link).await;
    app.set_now("2026-03-14T09:42:00Z");
    let up = person
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::File("document", "cni.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 303, "{}", up.html);

    let mut alice = dpo(&app, "Alice Dupont", "alice@example.org").await;
    let url = format!("/admin/requests/{reference}");
    let page = alice.get(&url).await;
    // The upload in Paris time, named; the form offers the four methods, in words.
    page.assert_contains("Sent on: 14 March 2026, 10:42 (Paris time)");
    page.assert_contains("not verified yet");
    page.assert_contains("id=\"verify\"");
    for (code, words) in [
        ("id_document", "identity document seen"),
        ("postal_copy", "copy received by post"),
        ("in_person", "in person"),
        ("account_details", "knowledge of account details"),
    ] {
        page.assert_contains(&format!("value=\"{code}\""));
        page.assert_contains(&format!(">{words}</label>"));
    }

    // No method chosen: said, and nothing recorded.
    let page = act(
        &mut alice,
        &reference,
        &[("action", "verify"), ("text", "")],
    )
    .await;
    page.assert_contains("Choose how the identity was checked.");
    page.assert_contains("not verified yet");

    app.set_now("2026-03-14T10:05:00Z");
    let page = act(
        &mut alice,
        &reference,
        &[
            ("action", "verify"),
            ("method", "in_person"),
            ("text", "Seen at the Lyon shop"),
        ],
    )
    .await;
    assert!(!page.html.contains(ALERT), "{}", page.html);
    page.assert_contains("In progress");
    page.assert_contains("verified (in person) on 14 March 2026, 11:05 (Paris time)");
    page.assert_contains("Identity verified (in person)");
    page.assert_contains("Seen at the Lyon shop");
    assert!(!page.html.contains("id=\"verify\""), "verified: no form");
    // People by name everywhere in the thread.
    assert!(!page.html.contains("staff:"), "{}", page.html);
    page.assert_contains("Alice Dupont · 14 March 2026, 11:05 (Paris time)");

    // A page left open: the second verification is refused, the first stands.
    let page = act(
        &mut alice,
        &reference,
        &[("action", "verify"), ("method", "postal_copy")],
    )
    .await;
    page.assert_contains("already verified");
    page.assert_contains("in person");

    // The uploaded document can still be decided: accepted, the verification unchanged.
    let doc = page.input("document").expect("the document still waits");
    let page = act(
        &mut alice,
        &reference,
        &[
            ("action", "identity"),
            ("document", &doc),
            ("decision", "accept"),
        ],
    )
    .await;
    assert!(!page.html.contains(ALERT), "{}", page.html);
    page.assert_contains("Accepted by Alice Dupont on 14 March 2026, 11:05 (Paris time)");
    page.assert_contains("verified (in person) on 14 March 2026, 11:05 (Paris time)");

    let read = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(read.body["verified"]["method"], "in_person");
}

async fn the_api_verifies_by_the_same_codes(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let id = filed["id"].as_str().expect("id").to_string();
    let events = format!("/api/v1/requests/{id}/events");

    let unknown = app
        .post(&events, &json!({ "type": "verify", "method": "passport" }))
        .await;
    assert_problem(
        &unknown,
        422,
        "id_document, postal_copy, in_person, account_details",
    );
    let misplaced = app
        .post(&events, &json!({ "type": "start", "method": "in_person" }))
        .await;
    assert_problem(&misplaced, 422, "only with a verify event");
    assert_eq!(
        app.get(&format!("/api/v1/requests/{id}")).await.body["status"],
        "verifying"
    );

    let verified = app
        .post(
            &events,
            &json!({ "type": "verify", "method": "postal_copy" }),
        )
        .await;
    assert_eq!(verified.status.as_u16(), 200, "{:?}", verified.body);
    assert_eq!(verified.body["status"], "in_progress");
    assert_eq!(verified.body["verified"]["method"], "postal_copy");

    let again = app
        .post(&events, &json!({ "type": "verify", "method": "in_person" }))
        .await;
    assert_problem(&again, 409, "already verified");
}

async fn files_sent_with_messages_wait_for_no_decision(app: TestApp) {
    app.set_now("2026-03-14T09:42:00Z");
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let reference = filed["reference"].as_str().expect("reference").to_string();
    let mut alice = dpo(&app, "Alice Dupont", "alice@example.org").await;
    let url = format!("/admin/requests/{reference}");
    let page = alice.get(&url).await;
    let res = alice
        .post(
            &format!("{url}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "reply"),
                Part::Field("text", "Please find our form attached."),
                Part::File("attachment", "form.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = alice.follow(res).await;
    assert!(!page.html.contains(ALERT), "{}", page.html);
    page.assert_contains("Message from the team");
    page.assert_contains("form.pdf");
    assert!(
        !page.html.contains("waiting for a decision"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("name=\"decision\""),
        "nothing to decide"
    );
    // The message by name, in Paris time.
    page.assert_contains("Alice Dupont · 14 March 2026, 10:42 (Paris time)");
}

/// The first test needs its sources file before the server starts: it spawns its own.
mod confirmed_address {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        a_confirmed_address_verifies_an_access_request_that_then_goes_to_the_sources(
            Backend::Sqlite,
        )
        .await;
    }
    #[actix_web::test]
    async fn postgres() {
        a_confirmed_address_verifies_an_access_request_that_then_goes_to_the_sources(
            Backend::Postgres,
        )
        .await;
    }
}
on_both_backends!(by_hand, staff_verify_by_hand_from_the_request_page);
on_both_backends!(api_codes, the_api_verifies_by_the_same_codes);
on_both_backends!(attachments, files_sent_with_messages_wait_for_no_decision);
