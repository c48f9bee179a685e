//! A request that came by post, filed by the team from the dashboard, and answered by post:
//! the day of receipt anchors the deadline, the identity is checked on the copy at filing,
//! each letter is printed and its sending recorded, and no mail goes to the person. The API
//! takes a postal address in place of an email.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Page, Part};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// The mails the real transport wrote, all of them.
fn mails_written(app: &TestApp) -> usize {
    std::fs::read_dir(app.outbox_dir())
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0)
}

/// The reference the page names first.
fn reference_in(page: &Page) -> String {
    let start = page.html.find("DSAR-").expect("a reference");
    page.html[start..start + 16].to_string()
}

async fn a_letter_is_filed_verified_answered_by_post_and_closed(app: TestApp) {
    // The letter arrived on Friday 28 November 2025; it is filed the Monday after.
    app.set_now("2025-12-01T09:30:00Z");
    let mut dpo = crate::admin::staff_named(
        &app,
        "marie@example.org",
        "Marie Martin",
        dsar::staff::Role::Dpo,
    )
    .await;
    let queue = dpo.get("/admin").await;
    queue.assert_contains("href=\"/admin/requests/new\"");
    queue.assert_contains("Record a request received by post, email, phone or at the front desk");
    let form = dpo.get("/admin/requests/new").await;
    assert_eq!(form.status.as_u16(), 200);
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("channel", "post"),
        ("kind", "erasure"),
        ("received_on", "2025-11-28"),
        ("registered_number", "1A 234 567 8901 2"),
        ("name", "Jeanne Dupont"),
        ("address_lines", "12 rue des Lilas\nBâtiment B"),
        ("postcode", "69003"),
        ("city", "Lyon"),
        ("postal_country", ""),
        ("email", ""),
        ("customer_ref", "C-2041"),
        (
            "details",
            "Effacez mon compte client et mes données de fidélité.",
        ),
        ("language", "fr"),
        ("identity", "verified"),
    ];
    let mut parts: Vec<Part<'_>> = fields.iter().map(|(k, v)| Part::Field(k, v)).collect();
    parts.push(Part::File("letter", "courrier.pdf", PDF));
    parts.push(Part::File("id_copy", "cni.pdf", PDF));
    let res = dpo.post("/admin/requests/new", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    assert!(
        res.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/admin/requests/DSAR-2025-")),
        "{:?}",
        res.location
    );
    let page = dpo.follow(res).await;
    let reference = reference_in(&page);
    // Received Friday 28 November 2025: two months → Wednesday 28 January 2026.
    page.assert_contains("28 January 2026");
    page.assert_contains(
        "Request received by post on 28 November 2025 (registered letter no. 1A 234 567 8901 2), recorded by Marie Martin",
    );
    page.assert_contains("In progress");
    page.assert_contains("The answers go by post");
    page.assert_contains("12 rue des Lilas<br>Bâtiment B<br>69003 LYON");
    page.assert_contains("None (answers by post)");
    // The identity copy was checked at filing: not kept, not waiting for a decision.
    assert!(!page.html.contains("name=\"document\""), "{}", page.html);
    let acknowledgement = format!("/admin/requests/{reference}/letters/acknowledgement");
    page.assert_contains(&acknowledgement);

    // The acknowledgement, printed: the address in the window, the letter in French.
    let letter = dpo.get(&acknowledgement).await;
    assert_eq!(letter.status.as_u16(), 200);
    letter.assert_contains("/static/letter.css");
    letter.assert_contains("lang=\"fr\"");
    letter.assert_contains("Jeanne Dupont<br>12 rue des Lilas<br>Bâtiment B<br>69003 LYON");
    letter.assert_contains(
        "Nous avons bien reçu, le 28 novembre 2025, votre demande relative au droit à l&#39;effacement",
    );
    letter.assert_contains("au plus tard le 28 janvier 2026");
    let css = dpo.get("/static/letter.css").await;
    assert!(css.html.contains("@page { size: A4"), "{}", css.html);
    assert!(css.html.contains("top: 50mm; left: 110mm; width: 85mm"));

    // A sending in the future is refused, with what was typed kept.
    let res = dpo
        .post_urlencoded(
            &acknowledgement,
            &[
                ("csrf", &csrf),
                ("sent_on", "2025-12-05"),
                ("registered_number", "1A 999"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("The date sent cannot be in the future.");
    res.assert_contains("value=\"1A 999\"");
    let res = dpo
        .post_urlencoded(
            &acknowledgement,
            &[
                ("csrf", &csrf),
                ("sent_on", "2025-12-01"),
                ("registered_number", ""),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("The sending of the letter is recorded.");
    page.assert_contains("Letter sent: Acknowledgement of receipt — sent on 1 December 2025");

    // Answered: the letter the team writes becomes the printed answer.
    let text = "Vos données ont été effacées.\n\nVos factures sont conservées dix ans (art. L123-22 du Code de commerce).";
    let res = dpo
        .post(
            &format!("/admin/requests/{reference}/send"),
            &[
                Part::Field("csrf", &csrf),
                Part::Field("action", "fulfil"),
                Part::Field("text", text),
            ],
        )
        .await;
    let page = dpo.follow(res).await;
    page.assert_contains("the request is fulfilled");
    let answer_url = format!("/admin/requests/{reference}/letters/answer");
    page.assert_contains(&answer_url);
    let answer = dpo.get(&answer_url).await;
    answer.assert_contains(
        "Objet\u{a0}: réponse à votre demande relative au droit à l&#39;effacement",
    );
    answer.assert_contains("art. L123-22 du Code de commerce");
    let res = dpo
        .post_urlencoded(
            &answer_url,
            &[
                ("csrf", &csrf),
                ("sent_on", "2025-12-01"),
                ("registered_number", "1A 555 000 1111 2"),
            ],
        )
        .await;
    let page = dpo.follow(res).await;
    page.assert_contains(
        "Letter sent: Answer — sent on 1 December 2025 (registered letter no. 1A 555 000 1111 2)",
    );

    // Not one mail to the person: the outbox holds nothing.
    app.run_worker().await;
    assert_eq!(mails_written(&app), 0, "no mail without an address");

    // The API agrees: no email, closed on time.
    let api = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(api.body["status"], "fulfilled");
    assert_eq!(api.body["requester"]["email"], serde_json::Value::Null);
    assert_eq!(api.body["received_on"], "2025-11-28");
    assert_eq!(api.body["due_on"], "2026-01-28");
}
on_both_backends!(
    letter_filed_and_answered_by_post,
    a_letter_is_filed_verified_answered_by_post_and_closed
);

async fn a_refused_intake_keeps_what_was_typed(app: TestApp) {
    app.set_now("2025-12-01T09:30:00Z");
    let mut dpo = crate::admin::staff_named(
        &app,
        "marie@example.org",
        "Marie Martin",
        dsar::staff::Role::Dpo,
    )
    .await;
    let csrf = dpo.get("/admin/requests/new").await.csrf();
    let res = dpo
        .post(
            "/admin/requests/new",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("channel", "post"),
                Part::Field("kind", "access"),
                Part::Field("received_on", "2025-12-24"),
                Part::Field("name", "Jeanne Dupont"),
                Part::Field("address_lines", "12 rue des Lilas"),
                Part::Field("postcode", ""),
                Part::Field("city", "Lyon"),
                Part::Field("email", ""),
                Part::Field("details", "Toutes mes données <script>"),
                Part::Field("language", "fr"),
                Part::Field("identity", "verified"),
                Part::File("letter", "courrier.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("class=\"error-summary\"");
    res.assert_contains("autofocus");
    res.assert_contains("The day of receipt cannot be in the future.");
    res.assert_contains("href=\"#postcode\"");
    res.assert_contains("Attach the copy of the identity document");
    res.assert_contains("The files you chose were not kept: attach them again.");
    res.assert_contains("value=\"Jeanne Dupont\"");
    res.assert_contains("value=\"2025-12-24\"");
    res.assert_contains(">12 rue des Lilas</textarea>");
    res.assert_contains("Toutes mes données &#60;script&#62;");
    res.assert_contains("id=\"channel-post\" name=\"channel\" value=\"post\" checked");
    // A year before the GDPR applied is a typo.
    let res = dpo
        .post(
            "/admin/requests/new",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("channel", "email"),
                Part::Field("kind", "access"),
                Part::Field("received_on", "2015-11-28"),
                Part::Field("name", "Jeanne Dupont"),
                Part::Field("email", "jeanne@example.fr"),
                Part::Field("language", "en"),
                Part::Field("identity", "later"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("cannot be before 25 May 2018");
    let (n, _, _) = app.counts();
    assert_eq!(n, 0, "nothing was filed");
}
on_both_backends!(
    refused_intake_keeps_typing,
    a_refused_intake_keeps_what_was_typed
);

async fn the_api_files_a_letter_without_email_and_mails_no_one(app: TestApp) {
    app.set_now("2025-12-01T09:30:00Z");
    let res = app
        .post(
            "/api/v1/requests",
            &json!({
                "kind": "access",
                "requester": {
                    "name": "Jeanne Dupont",
                    "postal_address": { "lines": "12 rue des Lilas", "postcode": "69003", "city": "Lyon" }
                },
                "received_at": "2025-11-28T10:00:00+01:00",
                "registered_number": "1A 234",
                "channel": "post"
            }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{:?}", res.body);
    assert_eq!(res.body["requester"]["email"], serde_json::Value::Null);
    assert_eq!(res.body["timeline"][0]["registered_number"], "1A 234");
    // A way of answering is one of the two, not an empty text.
    let res = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "access",
                "requester": { "name": "Jeanne Dupont", "email": "jeanne@example.fr", "contact": "" } }),
        )
        .await;
    crate::helpers::assert_problem(&res, 422, "requester.contact");
    // Neither an address nor an email: the answer names both ways.
    let res = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "access", "requester": { "name": "Jeanne Dupont" } }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    assert_eq!(res.body["errors"][0]["field"], "requester.email");
    // An address missing its city says which part.
    let res = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "access", "requester": { "name": "J", "postal_address": { "lines": "1 rue", "postcode": "69003", "city": " " } } }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 422, "{:?}", res.body);
    assert_eq!(
        res.body["errors"][0]["field"],
        "requester.postal_address.city"
    );

    // An email given, but the person prefers letters: still no mail, at filing or after.
    let filed = app
        .post(
            "/api/v1/requests",
            &json!({
                "kind": "access",
                "requester": {
                    "name": "Paul Durand",
                    "email": "paul@example.fr",
                    "contact": "post",
                    "postal_address": { "lines": "3 place Bellecour", "postcode": "69002", "city": "Lyon" }
                },
                "channel": "email"
            }),
        )
        .await;
    assert_eq!(filed.status.as_u16(), 201, "{:?}", filed.body);
    let id = filed.body["id"].as_str().expect("id").to_string();
    let res = app
        .post(
            &format!("/api/v1/requests/{id}/events"),
            &json!({ "type": "verify", "method": "postal_copy" }),
        )
        .await;
    assert!(res.status.is_success(), "{:?}", res.body);
    // A message from the team would be mailed; by post, it is not.
    let res = app
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            &json!({ "body": "Nous avons bien reçu votre courrier." }),
        )
        .await;
    assert!(res.status.is_success(), "{:?}", res.body);
    app.run_worker().await;
    assert_eq!(mails_written(&app), 0, "the person asked for letters");
}
on_both_backends!(
    api_files_by_post,
    the_api_files_a_letter_without_email_and_mails_no_one
);
