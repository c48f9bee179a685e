//! Post-mortem directives and heirs (art. 85 loi Informatique et Libertés): a person records,
//! changes and withdraws their directives on the portal and the team puts them on file; after
//! a death, an heir files with the death certificate and the proof of their capacity, the DPO
//! sees the directives on file beside them, and what the heir asks decides what the sources
//! do: closing the accounts erases the deceased's data in the example shop.

use serde_json::{Value, json};

use crate::admin::staff;
use crate::fulfilment::{archives_task, sources_action, world};
use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_both_backends;
use crate::web::{Browser, Page, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n% scanned\n%%EOF\n";

/// Files a directives request on the French portal; `answers` are the kind's own questions.
async fn file_directives(app: &TestApp, name: &str, email: &str, answers: &[(&str, &str)]) {
    let mut b = Browser::new(app);
    let form = b.get("/fr/request/directives").await;
    form.assert_contains("Que devront devenir vos données après votre décès ?");
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", name),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
    ];
    parts.extend(answers.iter().map(|(k, v)| Part::Field(k, v)));
    let res = b.post("/fr/request/directives", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
}

/// The reference of the newest request, as the API lists it.
async fn newest(app: &TestApp) -> String {
    let listed = app.get("/api/v1/requests").await;
    let items = listed.body["items"].as_array().expect("items").clone();
    let mut refs: Vec<String> = items
        .iter()
        .map(|i| i["reference"].as_str().expect("reference").to_string())
        .collect();
    refs.sort();
    refs.pop().expect("a request")
}

/// Opens the confirmation link of request `reference` mailed to `email`.
async fn confirm(app: &TestApp, email: &str, reference: &str) {
    app.run_worker().await;
    let mail = mails_to(app, email)
        .into_iter()
        .find(|m| m.subject.contains(reference) && m.subject.contains("confirmez"))
        .expect("the confirmation mail");
    let mut b = Browser::new(app);
    let page = b.get(&mail.link().expect("a link")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
}

/// Sends the answer from the request page.
async fn fulfil(dpo: &mut Browser<'_>, reference: &str, letter: &str) -> Page {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let res = dpo
        .post(
            &format!("/admin/requests/{reference}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "fulfil"),
                Part::Field("text", letter),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    dpo.follow(res).await
}

/// The newest mail to `email` whose subject says `words`.
fn mail_about(app: &TestApp, email: &str, words: &str) -> crate::web::Mail {
    mails_to(app, email)
        .into_iter()
        .rev()
        .find(|m| m.subject.contains(words))
        .unwrap_or_else(|| panic!("no mail to {email} about {words}"))
}

const CAMILLE: &str = "camille.roux@example.fr";

/// Camille records directives, changes them and withdraws them: each time the DPO carries the
/// request out, the directives on file follow, earlier versions stay as proof, and Camille is
/// told by mail what is on file.
pub(crate) async fn record_change_withdraw(app: &TestApp, dpo: &mut Browser<'_>) {
    file_directives(
        app,
        "Camille Roux",
        CAMILLE,
        &[
            ("directives_action", "record"),
            ("directives_type", "general"),
            ("directives_fate", "erase"),
            (
                "directives_instructions",
                "Effacer mon compte et mes commandes.",
            ),
            ("directives_designee_name", "Léa Roux"),
            ("directives_designee_email", "lea.roux@example.fr"),
        ],
    )
    .await;
    let first = newest(app).await;
    confirm(app, CAMILLE, &first).await;
    let page = dpo.get(&format!("/admin/requests/{first}")).await;
    page.assert_contains("Effacer mon compte et mes commandes.");
    let page = fulfil(dpo, &first, "Vos directives sont enregistrées.").await;
    page.assert_contains("Directives recorded");
    app.run_worker().await;
    let mail = mail_about(app, CAMILLE, "vos directives relatives au sort");
    assert!(
        mail.text.contains("Sort de vos données : effacement"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Personne désignée : Léa Roux (lea.roux@example.fr)"),
        "{}",
        mail.text
    );
    let list = dpo.get("/admin/directives").await;
    list.assert_contains("Effacer mon compte et mes commandes.");
    list.assert_contains("Léa Roux (lea.roux@example.fr)");

    // A change replaces them; the first version stays, ended, in the history.
    file_directives(
        app,
        "Camille Roux",
        "Camille.Roux@example.fr",
        &[
            ("directives_action", "change"),
            ("directives_type", "specific"),
            ("directives_fate", "communicate"),
            (
                "directives_instructions",
                "Transmettre mes factures à ma sœur.",
            ),
        ],
    )
    .await;
    let second = newest(app).await;
    confirm(app, "Camille.Roux@example.fr", &second).await;
    fulfil(dpo, &second, "Vos directives sont modifiées.").await;
    let list = dpo.get("/admin/directives").await;
    list.assert_contains("Transmettre mes factures à ma sœur.");
    assert!(
        !list.html.contains("Effacer mon compte"),
        "only the version in force: {}",
        list.html
    );
    let marker = "href=\"/admin/directives/";
    let start = list.html.find(marker).expect("history link") + marker.len();
    let id: String = list.html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let history = dpo.get(&format!("/admin/directives/{id}")).await;
    history.assert_contains("Directives of Camille Roux");
    history.assert_contains("Effacer mon compte et mes commandes.");
    history.assert_contains("Replaced on");
    history.assert_contains("In force");

    // A withdrawal ends them: none in force, and Camille is told so.
    file_directives(
        app,
        "Camille Roux",
        CAMILLE,
        &[("directives_action", "withdraw")],
    )
    .await;
    let third = newest(app).await;
    confirm(app, CAMILLE, &third).await;
    fulfil(dpo, &third, "Vos directives sont retirées.")
        .await
        .assert_contains("Directives withdrawn");
    app.run_worker().await;
    let mail = mail_about(app, CAMILLE, &third);
    assert!(
        mails_to(app, CAMILLE)
            .iter()
            .any(|m| m.text.contains("Aucune directive n'est plus enregistrée")),
        "{}",
        mail.text
    );
    dpo.get("/admin/directives")
        .await
        .assert_contains("No directives are recorded.");
    let history = dpo.get(&format!("/admin/directives/{id}")).await;
    history.assert_contains("Withdrawn on");
}

async fn directives_are_recorded_changed_and_withdrawn(app: TestApp) {
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    dpo.get("/admin")
        .await
        .assert_contains("href=\"/admin/directives\">Post-mortem directives</a>");
    record_change_withdraw(&app, &mut dpo).await;
}
on_both_backends!(
    directives_on_file,
    directives_are_recorded_changed_and_withdrawn
);

/// The heir's form, in French, with what `extra` adds or replaces.
async fn file_as_heir(b: &mut Browser<'_>, extra: Vec<Part<'_>>) -> Page {
    let form = b.get("/fr/request/heir").await;
    form.assert_contains("La personne décédée");
    assert!(
        !form.html.contains("name=\"mandate\""),
        "no mandate after a death"
    );
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", "Marc Martin"),
        Part::Field("email", "marc.martin@example.fr"),
        Part::Field("country", "FR"),
        Part::Field("subject_name", "Jeanne Martin"),
        Part::Field("subject_email", "jeanne.martin@example.fr"),
        Part::Field("heir_capacity", "heir"),
    ];
    parts.extend(extra);
    b.post("/fr/request/heir", &parts).await
}

async fn an_heir_without_a_death_certificate_is_told_in_french(app: TestApp) {
    let (before, _, _) = app.counts();
    let mut b = Browser::new(&app);
    let res = file_as_heir(
        &mut b,
        vec![
            Part::Field("heir_date_of_death", "01/01/2099"),
            Part::Field("heir_request", "close"),
            Part::File("heir_capacity_proof", "notoriete.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Joignez l&#39;acte de décès.");
    res.assert_contains("href=\"#heir_death_certificate\"");
    res.assert_contains("La date du décès ne peut pas être dans le futur.");
    res.assert_contains("value=\"Jeanne Martin\"");
    let res = file_as_heir(&mut b, vec![Part::Field("heir_date_of_death", "hier")]).await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Indiquez la date du décès sous la forme 14/03/2026.");
    res.assert_contains("Joignez le justificatif de votre qualité");
    assert_eq!(app.counts().0, before, "no refused form stored a request");
}
on_both_backends!(
    heir_bad_input,
    an_heir_without_a_death_certificate_is_told_in_french
);

async fn the_api_files_both_kinds(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "directives", "requester": { "name": "Camille Roux", "email": CAMILLE }, "details": "Effacer mes données après mon décès." }))
        .await;
    assert_eq!(filed["kind"], "directives");
    let res = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "heir", "requester": { "name": "Marc Martin", "email": "marc@example.fr" } }),
        )
        .await;
    assert_problem(&res, 422, "subject.name");
    let filed = app
        .file(json!({
            "kind": "heir",
            "requester": { "name": "Marc Martin", "email": "marc@example.fr" },
            "subject": { "name": "Jeanne Martin", "customer_ref": "C-1001" }
        }))
        .await;
    assert_eq!(filed["subject"]["name"], "Jeanne Martin");
    assert_eq!(filed["kind"], "heir");

    // With its own answers, as the portal asks them: what the heir asks decides what the
    // sources are asked; the documents are the team's to check.
    let heir = |answers: serde_json::Value| {
        json!({
            "kind": "heir",
            "requester": { "name": "Marc Martin", "email": "marc@example.fr" },
            "subject": { "name": "Jeanne Martin", "customer_ref": "C-1001" },
            "answers": answers
        })
    };
    let res = app
        .post(
            "/api/v1/requests",
            &heir(
                json!({ "heir_capacity": "heir", "heir_date_of_death": "14/02/2025",
                "heir_request": "everything", "colour": "blue" }),
            ),
        )
        .await;
    assert_problem(&res, 422, "answers.heir_request");
    assert_problem(&res, 422, "answers.colour");
    let res = app
        .post(
            "/api/v1/requests",
            &heir(json!({ "heir_capacity": "heir", "heir_request": "close" })),
        )
        .await;
    assert_problem(&res, 422, "answers.heir_date_of_death");
    let filed = app
        .file(heir(
            json!({ "heir_capacity": "heir", "heir_date_of_death": "14/02/2025",
            "heir_request": "close" }),
        ))
        .await;
    let mut conn = app.state.pool.get().expect("conn");
    let reference = filed["reference"].as_str().expect("reference");
    let row = dsar::workflow::find(&mut conn, reference).expect("request");
    let form: serde_json::Value = serde_json::from_str(&row.form).expect("form");
    assert_eq!(form["heir_request"], "close");
    assert_eq!(form["heir_date_of_death"], "2025-02-14");
    assert_eq!(
        dsar::domain::fulfilment::Operation::for_request(
            row.kind,
            form.as_object().expect("answers")
        ),
        Some(dsar::domain::fulfilment::Operation::Erase)
    );
}
on_both_backends!(api_kinds, the_api_files_both_kinds);

/// Jeanne left directives; after her death her son files as her heir and asks for her
/// accounts to be closed: the DPO sees her directives beside the two documents, accepts them,
/// and the sources erase Jeanne's data in the shop.
async fn an_heir_closes_the_accounts_of_the_deceased(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    file_directives(
        app,
        "Jeanne Martin",
        "jeanne.martin@example.fr",
        &[
            ("directives_action", "record"),
            ("directives_type", "general"),
            ("directives_fate", "erase"),
            (
                "directives_instructions",
                "Tout effacer, sauf mes factures.",
            ),
            ("directives_designee_name", "Marc Martin"),
        ],
    )
    .await;
    let recorded = newest(app).await;
    confirm(app, "jeanne.martin@example.fr", &recorded).await;
    dpo.get(&format!("/admin/requests/{recorded}"))
        .await
        .assert_contains("nothing is sent to the sources");
    fulfil(&mut dpo, &recorded, "Vos directives sont enregistrées.").await;

    let mut marc = Browser::new(app);
    let res = file_as_heir(
        &mut marc,
        vec![
            Part::Field("heir_date_of_death", "14/02/2025"),
            Part::Field("heir_request", "close"),
            Part::File("heir_death_certificate", "acte-de-deces.pdf", PDF),
            Part::File("heir_capacity_proof", "acte-de-notoriete.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let heir = newest(app).await;
    confirm(app, "marc.martin@example.fr", &heir).await;

    let url = format!("/admin/requests/{heir}");
    let page = dpo.get(&url).await;
    for words in [
        "Who asks: an heir or the designated person",
        "The person who died",
        "Directives of the deceased",
        "Tout effacer, sauf mes factures.",
        "Death certificate",
        "Proof of capacity as heir or designated person",
        "14 February 2025",
        "closing the accounts (erasure)",
    ] {
        page.assert_contains(words);
    }
    // Both documents are reviewed; the request is verified once neither waits.
    for _ in 0..2 {
        let page = dpo.get(&url).await;
        let doc = page.input("document").expect("a document waiting");
        let res = dpo
            .post_urlencoded(
                &format!("{url}/action"),
                &[
                    ("csrf", &page.csrf()),
                    ("action", "identity"),
                    ("document", &doc),
                    ("decision", "accept"),
                ],
            )
            .await;
        assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    }
    sources_action(&mut dpo, &heir, &[("action", "dispatch")]).await;
    app.run_worker().await;
    archives_task(&mut dpo, &heir, false).await;
    let shop = &w.shop;
    assert_eq!(
        shop.texts("SELECT email AS v FROM customers"),
        ["paul.durand@example.fr"]
    );
    assert_eq!(
        shop.texts("SELECT email AS v FROM newsletter_subscribers"),
        ["paul.durand@example.fr"]
    );
    let page = dpo.get(&url).await;
    page.assert_contains("Vous nous avez écrit après le décès de Jeanne Martin");
    page.assert_contains("nous avons clôturé les comptes de la personne décédée");
    // The answer goes to the heir, never to the deceased's address.
    let before = mails_to(app, "jeanne.martin@example.fr").len();
    let res = dpo
        .post(
            &format!("{url}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "fulfil"),
                Part::Field("text", "Les comptes de Jeanne Martin sont clôturés."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    assert_eq!(mails_to(app, "jeanne.martin@example.fr").len(), before);
    let answer = mail_about(app, "marc.martin@example.fr", "réponse à votre demande");
    assert!(
        answer
            .text
            .contains("Les comptes de Jeanne Martin sont clôturés.")
    );
    let read: Value = app.get("/api/v1/requests").await.body;
    assert!(read.to_string().contains("\"heir\""));
}

mod heir_closes_accounts {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        an_heir_closes_the_accounts_of_the_deceased(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        an_heir_closes_the_accounts_of_the_deceased(Backend::Postgres).await;
    }
}

/// A letter from an heir, and one with directives, filed by the team: the deceased and what
/// is asked go on the request, the letter stands for the death certificate and the proof; the
/// printed acknowledgement names the right.
async fn the_team_files_both_kinds_from_a_letter(app: TestApp) {
    app.set_now("2025-12-01T09:30:00Z");
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let form = dpo.get("/admin/requests/new").await;
    form.assert_contains("Post-mortem directives and requests after a death");
    let csrf = form.csrf();
    let base = [
        ("csrf", csrf.as_str()),
        ("channel", "post"),
        ("received_on", "2025-11-28"),
        ("name", "Marc Martin"),
        ("address_lines", "12 rue des Lilas"),
        ("postcode", "69003"),
        ("city", "Lyon"),
        ("language", "fr"),
        ("identity", "later"),
    ];
    let heir = [
        ("kind", "heir"),
        ("subject_name", "Jeanne Martin"),
        ("subject_customer_ref", "C-1001"),
        ("heir_capacity", "heir"),
        ("heir_date_of_death", "14/02/2025"),
        ("heir_request", "estate"),
    ];
    // Without the letter, the certificate and the proof are asked for on its field.
    let parts: Vec<Part<'_>> = base
        .iter()
        .chain(&heir)
        .map(|(k, v)| Part::Field(k, v))
        .collect();
    let res = dpo.post("/admin/requests/new", &parts).await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Attach the scanned letter with the death certificate");
    res.assert_contains("value=\"Jeanne Martin\"");
    let mut parts: Vec<Part<'_>> = base
        .iter()
        .chain(&heir)
        .map(|(k, v)| Part::Field(k, v))
        .collect();
    parts.push(Part::File("letter", "courrier.pdf", PDF));
    let res = dpo.post("/admin/requests/new", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("The person who died");
    page.assert_contains("the data needed to settle the estate");
    page.assert_contains("No directives are recorded for this person");
    let start = page.html.find("DSAR-").expect("a reference");
    let reference = page.html[start..start + 16].to_string();
    let letter = dpo
        .get(&format!(
            "/admin/requests/{reference}/letters/acknowledgement"
        ))
        .await;
    letter.assert_contains(
        "relative au droit des héritiers et de la personne désignée après un décès",
    );

    let directives = [
        ("kind", "directives"),
        ("directives_action", "record"),
        ("directives_type", "specific"),
        ("directives_fate", "keep"),
        (
            "directives_instructions",
            "Conserver mes factures pour mes enfants.",
        ),
    ];
    let parts: Vec<Part<'_>> = base
        .iter()
        .chain(&directives)
        .map(|(k, v)| Part::Field(k, v))
        .collect();
    let res = dpo.post("/admin/requests/new", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    dpo.follow(res)
        .await
        .assert_contains("Conserver mes factures pour mes enfants.");
}
on_both_backends!(intake_both_kinds, the_team_files_both_kinds_from_a_letter);

/// After a death both proofs must hold: a death certificate refused leaves the request
/// unverified, whatever is accepted after it, and nothing can go to the sources.
async fn an_heir_with_a_refused_proof_is_not_verified(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let mut marc = Browser::new(&app);
    let res = file_as_heir(
        &mut marc,
        vec![
            Part::Field("heir_date_of_death", "14/02/2025"),
            Part::Field("heir_request", "close"),
            Part::File("heir_death_certificate", "acte-de-deces.pdf", PDF),
            Part::File("heir_capacity_proof", "acte-de-notoriete.pdf", PDF),
        ],
    )
    .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let heir = newest(&app).await;
    confirm(&app, "marc.martin@example.fr", &heir).await;
    let url = format!("/admin/requests/{heir}");
    for decision in ["refuse", "accept"] {
        let page = dpo.get(&url).await;
        let doc = page.input("document").expect("a document waiting");
        let res = dpo
            .post_urlencoded(
                &format!("{url}/action"),
                &[
                    ("csrf", &page.csrf()),
                    ("action", "identity"),
                    ("document", &doc),
                    ("decision", decision),
                    ("text", "L'acte de décès est illisible."),
                ],
            )
            .await;
        assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    }
    let mut conn = app.state.pool.get().expect("conn");
    let row = dsar::workflow::find(&mut conn, &heir).expect("request");
    assert!(row.verified_at.is_none(), "verified with a proof refused");
}

on_both_backends!(
    heir_refused_proof,
    an_heir_with_a_refused_proof_is_not_verified
);
