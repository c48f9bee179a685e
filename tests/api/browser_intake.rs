//! A letter filed by the team in a real browser, and its answer printed: the intake form, the
//! same form come back with its errors (focused, what was typed kept), and the printable
//! letter, each in French and English, checked by axe-core and at 390 px, screenshots kept as
//! `target/browser-artifacts/intake-*-{fr,en}-{1280,390}.png`; the letter printed to PDF by
//! Chromium (`target/browser-artifacts/letter-{fr,en}.pdf`) to look at.

use serde_json::json;

use crate::browser::Driver;
use crate::helpers::{Backend, try_spawn};

const DPO_EMAIL: &str = "marie.intake@example.org";
const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

/// Sets a control's value as a person would pick it (a date, an item of a list), without
/// depending on how this browser's locale orders a date's parts.
async fn set_value(d: &Driver, id: &str, value: &str) {
    d.session_call(
        "POST",
        "/execute/sync",
        Some(json!({ "script": "document.getElementById(arguments[0]).value = arguments[1];", "args": [id, value] })),
    )
    .await;
}

fn set_lang(app: &crate::helpers::TestApp, lang: &str) {
    let mut conn = app.state.pool.get().expect("conn");
    let user = dsar::store::users::find_by_email(&mut conn, DPO_EMAIL)
        .expect("lookup")
        .expect("user");
    dsar::store::users::set_lang(&mut conn, user.id, Some(lang)).expect("lang");
}

#[actix_web::test]
async fn a_letter_filed_and_printed_in_both_languages() {
    let Some(app) = try_spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    app.set_now("2025-12-01T09:30:00Z");
    app.staff_account(DPO_EMAIL, "Marie Martin", dsar::staff::Role::Dpo);
    set_lang(&app, "fr");
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", DPO_EMAIL).await;
    d.fill("password", PASSWORD).await;
    d.click("button[type='submit']").await;
    d.expect("Marie").await;
    let form = format!("{}/admin/requests/new", app.address);

    // The form, then the form come back: a postcode missing, the identity decision not taken.
    for (lang, title, said) in [
        (
            "fr",
            "Enregistrer une demande reçue hors du portail",
            "Indiquez si l'identité est vérifiée",
        ),
        (
            "en",
            "Record a request received outside the portal",
            "Say whether the identity is verified",
        ),
    ] {
        set_lang(&app, lang);
        d.goto(&form).await;
        d.expect(title).await;
        d.check_page(&format!("intake-form-{lang}")).await;
        d.choose("channel", "post").await;
        set_value(&d, "received_on", "2025-11-28").await;
        d.fill("name", "Jeanne Dupont").await;
        d.fill("address_lines", "12 rue des Lilas").await;
        d.fill("city", "Lyon").await;
        d.click("button[type='submit'].primary").await;
        d.expect(said).await;
        d.check_page(&format!("intake-error-{lang}")).await;
        let focused = d
            .session_call(
                "POST",
                "/execute/sync",
                Some(json!({ "script": "return document.activeElement.className;", "args": [] })),
            )
            .await;
        assert_eq!(focused.as_str(), Some("error-summary"), "focus: {focused}");
        let page = d.source().await;
        assert!(page.contains("value=\"Jeanne Dupont\""), "kept: {page}");
    }

    // Filed in French: the letter, on its printable page.
    set_lang(&app, "fr");
    d.goto(&form).await;
    d.choose("channel", "post").await;
    set_value(&d, "received_on", "2025-11-28").await;
    d.fill("registered_number", "1A 234 567 8901 2").await;
    d.fill("name", "Jeanne Dupont").await;
    d.fill("address_lines", "12 rue des Lilas").await;
    d.fill("postcode", "69003").await;
    d.fill("city", "Lyon").await;
    d.fill(
        "details",
        "Je souhaite obtenir une copie de toutes mes données.",
    )
    .await;
    d.choose("identity", "later").await;
    set_value(&d, "kind", "access").await;
    d.click("button[type='submit'].primary").await;
    d.expect("enregistrée par Marie Martin").await;
    d.check_page("intake-filed-fr").await;
    let page = d.source().await;
    let start = page.find("DSAR-").expect("reference");
    let reference = page[start..start + 16].to_string();
    let letter = format!(
        "{}/admin/requests/{reference}/letters/acknowledgement",
        app.address
    );
    for (lang, words) in [("fr", "Enregistrer l'envoi"), ("en", "Record the sending")] {
        set_lang(&app, lang);
        d.goto(&letter).await;
        d.expect(words).await;
        d.check_page(&format!("intake-letter-{lang}")).await;
        // Printed as Chromium prints it: A4, the sheet alone.
        let pdf = d
            .session_call(
                "POST",
                "/print",
                Some(json!({ "background": true, "page": { "width": 21.0, "height": 29.7 }, "margin": { "top": 0, "bottom": 0, "left": 0, "right": 0 } })),
            )
            .await;
        let bytes = crate::eml::decode_base64(pdf.as_str().expect("base64 PDF"));
        assert!(bytes.starts_with(b"%PDF"), "a PDF");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
        std::fs::create_dir_all(&dir).expect("artefact dir");
        std::fs::write(dir.join(format!("letter-{lang}.pdf")), &bytes).expect("PDF written");
    }
    d.quit().await;
}
