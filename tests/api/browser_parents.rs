//! A parent files for their child in French on the portal, in a real browser: the form, the
//! form come back (a "child" of age, no proof of parental authority), the confirmation; then
//! the DPO, in French, sees who asks and for whom, checks the parent's identity document and
//! the proof of parental authority side by side, sends the request to the demo shop's sources
//! and answers. Every page passes axe-core at 1,280 and 390 px; the screenshots are kept as
//! `target/browser-artifacts/parents-*` and copied to `target/screenshots/`.

use serde_json::json;

use crate::browser::Driver;
use crate::browser_request::{confirm_with_id_card, id_card_png};
use crate::helpers::{Backend, try_spawn};
use crate::parents::MOTHER;
use crate::web::{Browser, mails_to};
use dsar::demo::HUGO;

const DPO: &str = "dominique.lefevre@boutique-demo.example";
const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

/// Sets a date input's value as a person picks it, whatever order this browser's locale
/// gives a date's parts.
async fn set_value(d: &Driver, id: &str, value: &str) {
    d.session_call(
        "POST",
        "/execute/sync",
        Some(json!({ "script": "document.getElementById(arguments[0]).value = arguments[1];", "args": [id, value] })),
    )
    .await;
}

/// The page checked, its screenshots copied where people look for them.
async fn look(d: &Driver, name: &str) {
    let name = format!("parents-{name}");
    d.check_page(&name).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let to = root.join("screenshots");
    std::fs::create_dir_all(&to).expect("screenshots dir");
    for width in [1280, 390] {
        let file = format!("{name}-{width}.png");
        std::fs::copy(root.join("browser-artifacts").join(&file), to.join(&file))
            .expect("screenshot copied");
    }
}

#[actix_web::test]
async fn a_parent_files_for_a_child_and_the_dpo_checks_both_proofs_and_answers() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = dsar::demo::prepare(dir.path()).expect("the demo's files");
    let mut env = demo.env();
    env.push(("DSAR_ORGANISATION__LANGUAGE", "fr"));
    let Some(app) = try_spawn(Backend::Sqlite, &env).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    app.set_now("2026-03-16T09:00:00Z");
    app.staff_account(DPO, "Dominique Lefèvre", dsar::staff::Role::Dpo);
    let proof = dir.path().join("livret-de-famille.png");
    std::fs::write(&proof, id_card_png()).expect("proof written");

    // The form: the parent says they act for their minor child, and who the child is.
    d.goto(&format!("{}/fr/request/erasure", app.address)).await;
    d.expect("pour votre enfant mineur").await;
    look(&d, "form").await;
    d.fill("name", "Sophie Bernard").await;
    d.fill("email", MOTHER).await;
    d.choose("acting", "parent").await;
    d.fill("subject_name", "Hugo Bernard").await;
    set_value(&d, "subject_birth_date", "2000-05-14").await;
    d.fill("subject_customer_ref", "C-00002").await;
    d.fill("subject_email", HUGO.email).await;
    d.choose("erasure_scope", "all").await;
    d.click_text("Envoyer ma demande").await;
    // Back with what is wrong, in French: no proof, and a "child" of age.
    d.expect("Votre enfant a 18 ans ou plus").await;
    d.expect("Joignez ce justificatif : il est obligatoire")
        .await;
    look(&d, "form-errors").await;
    set_value(&d, "subject_birth_date", "2012-05-14").await;
    d.type_into("#parental_proof", proof.to_str().expect("path"))
        .await;
    d.click_text("Envoyer ma demande").await;
    let page = d.expect("DSAR-").await;
    look(&d, "submitted").await;
    let start = page.find("DSAR-").expect("reference");
    let reference = page[start..start + 16].to_string();

    // The parent confirms their address and sends their own identity card (an erasure asks
    // for one), beside the proof sent with the form.
    let mut mother = Browser::new(&app);
    confirm_with_id_card(&app, &mut mother, MOTHER).await;

    // The DPO: who asks and for whom; both documents, each with its decision.
    d.goto(&format!("{}/admin/login?lang=fr", app.address))
        .await;
    d.fill("email", DPO).await;
    d.fill("password", PASSWORD).await;
    d.click_text("Se connecter").await;
    d.expect("Dominique Lefèvre").await;
    d.goto(&format!("{}/admin", app.address)).await;
    d.expect("Hugo Bernard (par son parent, Sophie Bernard)")
        .await;
    look(&d, "queue").await;
    let url = format!("{}/admin/requests/{reference}", app.address);
    d.goto(&url).await;
    d.expect("Qui demande : un parent (titulaire de l").await;
    d.expect("Parent de Hugo Bernard, né(e) le 14 mai 2012")
        .await;
    d.expect("Justificatif de l").await;
    look(&d, "verify").await;
    d.click_text("Accepter").await;
    d.expect("Votre décision sur le justificatif est enregistrée")
        .await;
    // One document accepted: the request waits for the other.
    d.click_text("Accepter").await;
    d.expect("justificatif de l'autorité parentale (et pièce d'identité) transmis sur le portail")
        .await;
    look(&d, "verified").await;

    // Hugo's data in the shop, then the answer to his mother.
    d.click("#dispatch").await;
    d.expect("La demande est envoyée aux sources").await;
    app.run_worker().await;
    d.goto(&url).await;
    d.expect("Archives papier").await;
    d.type_into(
        "input[id^='task-comment-']",
        "Aucun dossier papier au nom de Hugo Bernard",
    )
    .await;
    d.click_text("Fait").await;
    d.expect("La tâche est terminée").await;
    app.run_worker().await;
    d.goto(&url).await;
    d.expect("Envoyer la réponse").await;
    d.expect("pour votre enfant Hugo Bernard, en tant que titulaire de l")
        .await;
    look(&d, "to-answer").await;
    d.click("#fulfil").await;
    d.expect("La réponse est envoyée").await;
    app.run_worker().await;
    look(&d, "answered").await;
    let answer = mails_to(&app, MOTHER).pop().expect("the answer");
    let text = answer.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("Cette demande porte sur les données de votre enfant, Hugo Bernard"),
        "{text}"
    );
    assert!(mails_to(&app, HUGO.email).is_empty());
    d.quit().await;
}
