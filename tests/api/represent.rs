//! Representatives: the portal and the API take the person represented apart from the
//! representative; the sources are searched for that person, never for the representative,
//! while the mails and the answer go to the representative; a request repeats another only
//! for the same requester (whatever the case of the address) and the same person represented.

use serde_json::{Value, json};

use crate::admin::staff;
use crate::fulfilment::{archives_task, sources_action, world};
use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
/// The lawyer who files for others, and who is also a customer of the shop.
const LAWYER: &str = "Claire.Dubois@avocats-lyon.fr";

/// The portal's form, filed as a representative with `subject` as the group about the person
/// represented.
async fn file_as_representative<'a>(
    b: &mut Browser<'a>,
    lang: &str,
    subject: &[(&'static str, &'static str)],
) -> crate::web::Page {
    let form = b.get(&format!("/{lang}/request/access")).await;
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", "Claire Dubois"),
        Part::Field("email", LAWYER),
        Part::Field("country", "FR"),
        Part::Field("acting", "representative"),
        Part::File("mandate", "mandat.pdf", PDF),
        Part::Field("access_scope", "all"),
    ];
    parts.extend(subject.iter().map(|(k, v)| Part::Field(k, v)));
    let answer = b.post(&format!("/{lang}/request/access"), &parts).await;
    // An accepted filing answers with a redirect to the confirmation page.
    b.follow(answer).await
}

async fn the_portal_asks_whom_a_representative_acts_for(app: TestApp) {
    let (before, _, _) = app.counts();
    let mut b = Browser::new(&app);
    // The group is on the form for everyone (no script), and says when it is needed.
    let form = b.get("/fr/request/access").await;
    form.assert_contains("La personne que vous représentez");
    form.assert_contains("name=\"subject_name\"");

    // No name for the person represented: said in French, at the top and by the field, with
    // what was typed kept.
    let res =
        file_as_representative(&mut b, "fr", &[("subject_email", "paul.durand@example.fr")]).await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Indiquez le nom de la personne que vous représentez.");
    res.assert_contains("href=\"#subject_name\"");
    res.assert_contains("value=\"paul.durand@example.fr\"");
    res.assert_contains("value=\"Claire Dubois\"");

    // The same in English; and neither an address nor a customer number to find them by.
    let res = file_as_representative(&mut b, "en", &[("subject_customer_ref", "")]).await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Enter the name of the person you represent.");
    res.assert_contains(
        "Enter the email address or the customer number of the person you represent",
    );
    let res = file_as_representative(&mut b, "en", &[("subject_name", "Paul Durand")]).await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("value=\"Paul Durand\"");
    res.assert_contains("href=\"#subject_email\"");
    assert_eq!(app.counts().0, before, "no refused form stored a request");

    // Named, with a customer number only: accepted; the confirmation goes to the lawyer.
    let res = file_as_representative(
        &mut b,
        "en",
        &[
            ("subject_name", "Paul Durand"),
            ("subject_customer_ref", "C-2210"),
        ],
    )
    .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.html);
    app.run_worker().await;
    assert_eq!(mails_to(&app, LAWYER).len(), 1);
    let listed = app.get("/api/v1/requests").await;
    let filed = &listed.body["items"][0];
    assert_eq!(filed["requester"]["email"], "Claire.Dubois@avocats-lyon.fr");
    assert_eq!(
        filed["subject"],
        json!({ "name": "Paul Durand", "email": null, "customer_ref": "C-2210", "acting": "representative", "birth_date": null })
    );

    // Someone acting for themselves may leave the group as it is: nothing of it is kept.
    let form = b.get("/en/request/erasure").await;
    let csrf = form.csrf();
    let res = b
        .post(
            "/en/request/erasure",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", "camille@example.org"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("subject_name", "typed, then changed my mind"),
                Part::Field("subject_email", "not an address"),
                Part::Field("erasure_scope", "all"),
            ],
        )
        .await;
    let res = b.follow(res).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.html);
    let listed = app.get("/api/v1/requests").await;
    assert_eq!(listed.body["items"][1]["subject"], Value::Null);
}
on_both_backends!(
    portal_representative,
    the_portal_asks_whom_a_representative_acts_for
);

async fn the_api_takes_the_person_represented_as_subject(app: TestApp) {
    let filed = app
        .file(json!({
            "kind": "erasure",
            "requester": { "name": "Claire Dubois", "email": LAWYER },
            "subject": { "name": "Paul Durand", "email": "Paul.Durand@Example.FR", "customer_ref": " C-2210 " }
        }))
        .await;
    let expected = json!({ "name": "Paul Durand", "email": "Paul.Durand@example.fr", "customer_ref": "C-2210", "acting": "representative", "birth_date": null });
    assert_eq!(filed["subject"], expected);
    assert_eq!(filed["requester"]["email"], LAWYER);
    let read = app
        .get(&format!(
            "/api/v1/requests/{}",
            filed["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(read.body["subject"], expected);
    // For oneself: no subject.
    let own = app
        .file(json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille@example.org" } }))
        .await;
    assert_eq!(own["subject"], Value::Null);

    let (before, _, _) = app.counts();
    // (subject, status, what the problem names)
    let bad: [(Value, u16, &str); 5] = [
        (json!({ "email": "paul@example.fr" }), 422, "subject.name"),
        (json!({ "name": "Paul Durand" }), 422, "subject.email"),
        (
            json!({ "name": "Paul Durand", "email": "paul.example.fr" }),
            422,
            "subject.email",
        ),
        (
            json!({ "name": "P", "customer_ref": "x".repeat(201) }),
            422,
            "subject.customer_ref",
        ),
        (json!({ "name": "P", "phone": "+33 6" }), 422, "phone"),
    ];
    for (subject, status, names) in bad {
        let res = app
            .post(
                "/api/v1/requests",
                &json!({
                    "kind": "access",
                    "requester": { "name": "Claire Dubois", "email": LAWYER },
                    "subject": subject
                }),
            )
            .await;
        assert_problem(&res, status, names);
    }
    assert_eq!(app.counts().0, before, "no refused filing stored a request");
}
on_both_backends!(api_subject, the_api_takes_the_person_represented_as_subject);

/// The id of the request a new one repeats, as its first timeline entry says; `None` if none.
fn duplicate_of(filed: &Value) -> Option<i64> {
    filed["timeline"][0]["duplicate_of"].as_i64()
}

fn id_of(filed: &Value) -> i64 {
    let reference = filed["reference"].as_str().expect("reference");
    reference
        .rsplit('-')
        .next()
        .and_then(|seq| seq.parse().ok())
        .expect("the reference ends with the id")
}

async fn a_duplicate_is_the_same_person_whatever_the_case(app: TestApp) {
    let file = |email: &'static str, subject: Value| {
        let app = &app;
        async move {
            let mut body = json!({ "kind": "access", "requester": { "name": "Camille Martin", "email": email } });
            if !subject.is_null() {
                body["subject"] = subject;
            }
            app.file(body).await
        }
    };
    let first = file("Camille@Example.org", Value::Null).await;
    assert_eq!(duplicate_of(&first), None);
    // The defect: the same address in another case was a different person.
    let again = file("camille@example.org", Value::Null).await;
    assert_eq!(duplicate_of(&again), Some(id_of(&first)));

    // A representative repeats a request only for the same person represented.
    let for_paul = file(
        LAWYER,
        json!({ "name": "Paul Durand", "email": "paul@example.fr" }),
    )
    .await;
    assert_eq!(duplicate_of(&for_paul), None);
    let for_jeanne = file(
        LAWYER,
        json!({ "name": "Jeanne Martin", "email": "jeanne@example.fr" }),
    )
    .await;
    assert_eq!(
        duplicate_of(&for_jeanne),
        None,
        "another person represented"
    );
    let for_herself = file(LAWYER, Value::Null).await;
    assert_eq!(duplicate_of(&for_herself), None, "the lawyer for herself");
    let paul_again = file(
        "claire.dubois@AVOCATS-lyon.fr",
        json!({ "name": "P. Durand", "email": "PAUL@example.fr", "customer_ref": "C-1" }),
    )
    .await;
    assert_eq!(duplicate_of(&paul_again), Some(id_of(&for_paul)));
    let by_number = file(
        LAWYER,
        json!({ "name": "Paul Durand", "customer_ref": "C-1" }),
    )
    .await;
    assert_eq!(
        duplicate_of(&by_number),
        Some(id_of(&paul_again)),
        "the same customer number"
    );
}
on_both_backends!(duplicates, a_duplicate_is_the_same_person_whatever_the_case);

/// Forty filings of one person at once. Each is stored with its timeline entry and audit
/// entry and answered with a reference of its own; on SQLite, where they are written in
/// groups (`database.sqlite_group_commit`), the savepoints of one group see each other, so
/// the first alone is new and every other one repeats it.
async fn filings_sent_at_once_are_each_stored_and_repeat_the_first(app: TestApp) {
    let before = app.counts();
    let body = json!({ "kind": "access", "requester": { "name": "Camille Martin", "email": "camille@example.org" } });
    let filed = futures_util::future::join_all((0..40).map(|_| app.file(body.clone()))).await;
    let mut ids: Vec<i64> = filed.iter().map(id_of).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "each filing has a reference of its own");
    let after = app.counts();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (40, 40, 40),
        "a request, a timeline entry and an audit entry for each"
    );
    // The lowest id looked for a repeat before any other was inserted.
    let first = ids[0];
    let new: Vec<i64> = filed
        .iter()
        .filter(|f| duplicate_of(f).is_none())
        .map(id_of)
        .collect();
    assert!(new.contains(&first), "the first filed is not a repeat");
    // PostgreSQL writes them side by side: filings that commit together cannot see each
    // other (read committed), as on two nodes, and a repeat may name any earlier one.
    if app.state.backend == dsar::store::Backend::Sqlite {
        assert_eq!(new, vec![first], "only the first is new");
        for f in &filed {
            let repeats = duplicate_of(f);
            assert!(
                repeats.is_none() || repeats == Some(first),
                "a repeat names the first request: {f}"
            );
        }
    }
}
on_both_backends!(
    filings_at_once,
    filings_sent_at_once_are_each_stored_and_repeat_the_first
);

/// Files through the API as the lawyer for the person `subject`, in French, and verifies it.
async fn verified_for(app: &TestApp, kind: &str, subject: Value) -> String {
    app.file_verified(json!({
        "kind": kind,
        "language": "fr",
        "requester": { "name": "Claire Dubois", "email": LAWYER },
        "subject": subject
    }))
    .await
}

async fn sources_are_searched_for_the_person_represented(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    // The lawyer is a customer and a subscriber too: none of that is hers to erase here.
    w.shop.execute(
        "INSERT INTO customers (id, email, first_name, last_name) VALUES (3, 'claire.dubois@avocats-lyon.fr', 'Claire', 'Dubois');
         INSERT INTO orders (id, customer_id, placed_on, items, total_cents, shipping_address) VALUES (13, 3, '2024-09-01', 'Bouilloire', 5900, '8 quai Saint-Vincent, 69001 Lyon');
         INSERT INTO newsletter_subscribers (email, subscribed_at, topics, active) VALUES ('claire.dubois@avocats-lyon.fr', '2024-09-01', 'thé', 1);",
    );
    let paul = verified_for(
        app,
        "erasure",
        json!({ "name": "Paul Durand", "email": "Paul.Durand@example.fr" }),
    )
    .await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    // The page shows who asked and whom the sources are searched for.
    let page = dpo.get(&format!("/admin/requests/{paul}")).await;
    page.assert_contains("Who asks: a representative");
    page.assert_contains("The representative receives the mails and the answer.");
    page.assert_contains("The person represented");
    page.assert_contains("This is the person searched for in the data sources.");
    page.assert_contains("<dd>Paul.Durand@example.fr</dd>");
    sources_action(&mut dpo, &paul, &[("action", "dispatch")]).await;
    app.run_worker().await;

    let shop = &w.shop;
    assert_eq!(
        shop.texts("SELECT email AS v FROM customers ORDER BY id"),
        ["Jeanne.Martin@Example.fr", "claire.dubois@avocats-lyon.fr"]
    );
    assert_eq!(
        shop.texts("SELECT email AS v FROM newsletter_subscribers ORDER BY email"),
        ["claire.dubois@avocats-lyon.fr", "jeanne.martin@example.fr"]
    );
    assert_eq!(
        shop.texts(
            "SELECT CAST(id AS TEXT) || ':' || shipping_address AS v FROM orders ORDER BY id"
        ),
        [
            "10:12 rue des Lilas, 69003 Lyon",
            "11:12 rue des Lilas, 69003 Lyon",
            "12:",
            "13:8 quai Saint-Vincent, 69001 Lyon"
        ]
    );
    // The mailing service was asked about Paul, not about the lawyer.
    let calls = w.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1);
    let body: Value = serde_json::from_slice(&calls[0].body).expect("json");
    assert_eq!(body["subject"]["email"], "Paul.Durand@example.fr");
    assert_eq!(body["subject"]["name"], "Paul Durand");

    // The letter, written to the lawyer (the mail greets her), opens by saying on whose
    // behalf she asked; it is offered once the archives team has answered too.
    archives_task(&mut dpo, &paul, false).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{paul}")).await;
    page.assert_contains(
        "Vous avez présenté cette demande au nom de Paul Durand, que vous représentez",
    );

    // An objection for Jeanne puts Jeanne's address on the suppression list, not the lawyer's.
    let jeanne = verified_for(
        app,
        "objection",
        json!({ "name": "Jeanne Martin", "email": "jeanne.martin@example.fr" }),
    )
    .await;
    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    app.run_worker().await;
    let suppressed = |email: &'static str| async move {
        app.post("/api/v1/suppressions/check", &json!({ "email": email }))
            .await
            .body["suppressed"]
            .clone()
    };
    assert_eq!(suppressed("jeanne.martin@example.fr").await, true);
    assert_eq!(suppressed("claire.dubois@avocats-lyon.fr").await, false);
    assert_eq!(
        shop.texts("SELECT email || ':' || CAST(active AS TEXT) AS v FROM newsletter_subscribers ORDER BY email"),
        ["claire.dubois@avocats-lyon.fr:1", "jeanne.martin@example.fr:0"]
    );
    // Every mail went to the lawyer; none to the people represented.
    app.run_worker().await;
    assert!(mails_to(app, "Paul.Durand@example.fr").is_empty());
    assert!(mails_to(app, "jeanne.martin@example.fr").is_empty());
}

mod sources_for_the_person_represented {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        sources_are_searched_for_the_person_represented(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        sources_are_searched_for_the_person_represented(Backend::Postgres).await;
    }
}
