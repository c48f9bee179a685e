//! Post-mortem directives and an heir's request in a real browser: a person records directives
//! on the French portal, the DPO carries them out; after the death, an heir files with the death
//! certificate and the proof of capacity, the DPO sees the directives on file beside the two
//! documents, accepts both and carries the directives out. Every page is checked by axe-core at
//! 1,280 and 390 px; the screenshots are kept under `target/screenshots/heirs-*`.

use crate::browser::Driver;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::mails_to;

const DPO_EMAIL: &str = "delphine.dpo@example.org";
const JEANNE: &str = "jeanne.martin@example.fr";
const MARC: &str = "marc.martin@example.fr";

/// Checks the page and keeps its two screenshots under `target/screenshots/`.
async fn check(d: &Driver, name: &str) {
    d.check_page(name).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let kept = root.join("screenshots");
    std::fs::create_dir_all(&kept).expect("screenshots dir");
    for width in [1280, 390] {
        let file = format!("{name}-{width}.png");
        std::fs::copy(root.join("browser-artifacts").join(&file), kept.join(&file))
            .expect("screenshot kept");
    }
}

/// The codes of the two kinds and their answers, which a French page must say in words.
const CODES: [&str; 16] = [
    "heir",
    "general",
    "specific",
    "keep",
    "erase",
    "communicate",
    "designated",
    "estate",
    "close",
    "update",
    "record",
    "change",
    "withdraw",
    "heir_proofs",
    "attached",
    "superseded",
];

/// A French staff page shows no code: neither the domain's nor the new kinds'.
async fn in_words(d: &Driver, name: &str) {
    let html = d.source().await;
    crate::staff_lists::assert_no_code(name, &html);
    let text = crate::staff_lists::visible_text(&html);
    let codes: Vec<String> = CODES.iter().map(|c| c.to_string()).collect();
    let found = crate::browser_day::offences(&text, &codes);
    assert!(found.is_empty(), "{name}: {found:?}");
}

/// Opens, in the browser, the confirmation link mailed to `email` for its newest request.
async fn confirm(app: &TestApp, d: &Driver, email: &str) {
    app.run_worker().await;
    let mail = mails_to(app, email)
        .into_iter()
        .rev()
        .find(|m| m.subject.contains("confirmez"))
        .expect("a confirmation mail");
    d.goto(&format!("{}{}", app.address, mail.link().expect("link")))
        .await;
}

async fn sign_in(app: &TestApp, d: &Driver) {
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", DPO_EMAIL).await;
    d.fill("password", crate::helpers::STAFF_PASSWORD).await;
    d.click("button[type='submit']").await;
    d.expect("Delphine").await;
}

/// The newest request's page in the dashboard.
async fn newest(app: &TestApp) -> String {
    let listed = app.get("/api/v1/requests").await;
    let mut refs: Vec<String> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["reference"].as_str().expect("reference").to_string())
        .collect();
    refs.sort();
    format!(
        "{}/admin/requests/{}",
        app.address,
        refs.pop().expect("a request")
    )
}

#[actix_web::test]
async fn directives_recorded_then_carried_out_for_an_heir() {
    let Some(app) = try_spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    app.set_now("2026-01-12T10:00:00Z");
    let (dpo_id, _) = app.staff_account(DPO_EMAIL, "Delphine Moreau", dsar::staff::Role::Dpo);
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_lang(&mut conn, dpo_id, Some("fr")).expect("lang");
    }
    let pdf = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile()
        .expect("temp file");
    std::fs::write(pdf.path(), b"%PDF-1.4\n% acte\n%%EOF\n").expect("pdf");
    let pdf_path = pdf.path().display().to_string();

    // Jeanne records her directives on the French portal.
    d.goto(&format!("{}/fr/request/directives", app.address))
        .await;
    d.expect("Que devront devenir vos données après votre décès")
        .await;
    check(&d, "heirs-directives-form-fr").await;
    d.fill("name", "Jeanne Martin").await;
    d.fill("email", JEANNE).await;
    d.choose("directives_action", "record").await;
    d.choose("directives_type", "general").await;
    d.choose("directives_fate", "communicate").await;
    d.fill(
        "directives_instructions",
        "Transmettre mes photos de commande à mon fils, puis tout effacer.",
    )
    .await;
    d.fill("directives_designee_name", "Marc Martin").await;
    d.fill("directives_designee_email", MARC).await;
    d.click("form[enctype='multipart/form-data'] button[type=submit]")
        .await;
    d.expect("Votre demande est enregistrée").await;
    confirm(&app, &d, JEANNE).await;

    // The DPO signs in, carries the request out: the directives go on file.
    sign_in(&app, &d).await;
    d.goto(&newest(&app).await).await;
    d.expect("Transmettre mes photos de commande").await;
    check(&d, "heirs-directives-request-fr").await;
    in_words(&d, "heirs-directives-request-fr").await;
    d.click_text("Envoyer la réponse").await;
    d.expect("Directives enregistrées").await;
    d.goto(&format!("{}/admin/directives", app.address)).await;
    d.expect("Marc Martin (marc.martin@example.fr)").await;
    check(&d, "heirs-directives-list-fr").await;
    in_words(&d, "heirs-directives-list-fr").await;

    // After Jeanne's death, Marc files as the person she named, with both documents.
    app.set_now("2026-03-02T09:00:00Z");
    d.goto(&format!("{}/fr/request/heir", app.address)).await;
    d.expect("La personne décédée").await;
    check(&d, "heirs-heir-form-fr").await;
    d.fill("name", "Marc Martin").await;
    d.fill("email", MARC).await;
    d.fill("subject_name", "Jeanne Martin").await;
    d.fill("subject_email", JEANNE).await;
    d.choose("heir_capacity", "designated").await;
    d.fill("heir_date_of_death", "14/02/2026").await;
    d.choose("heir_request", "directives").await;
    // Without the death certificate and the proof: the form comes back in French.
    d.click("form[enctype='multipart/form-data'] button[type=submit]")
        .await;
    d.expect("Joignez le justificatif de votre qualité").await;
    check(&d, "heirs-heir-error-fr").await;
    d.type_into("#heir_death_certificate", &pdf_path).await;
    d.type_into("#heir_capacity_proof", &pdf_path).await;
    d.click("form[enctype='multipart/form-data'] button[type=submit]")
        .await;
    d.expect("Votre demande est enregistrée").await;
    confirm(&app, &d, MARC).await;

    // The DPO (signed in again: weeks went by) sees Jeanne's directives beside the two
    // documents, accepts both, carries out.
    sign_in(&app, &d).await;
    let heir = newest(&app).await;
    d.goto(&heir).await;
    d.expect("Directives de la personne décédée").await;
    d.expect("Acte de décès").await;
    check(&d, "heirs-heir-request-fr").await;
    in_words(&d, "heirs-heir-request-fr").await;
    for _ in 0..2 {
        d.goto(&heir).await;
        d.click_text("Accepter ce justificatif").await;
    }
    d.goto(&heir).await;
    d.expect("Vous nous avez écrit après le décès de Jeanne Martin")
        .await;
    check(&d, "heirs-heir-answer-fr").await;
    in_words(&d, "heirs-heir-answer-fr").await;
    d.click_text("Envoyer la réponse").await;
    d.expect("Traitée").await;
    app.run_worker().await;
    assert!(
        mails_to(&app, MARC)
            .iter()
            .any(|m| m.subject.contains("réponse à votre demande")),
        "the heir is answered"
    );
    d.quit().await;
}
