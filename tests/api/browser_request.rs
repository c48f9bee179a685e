//! The request page in a real browser, at each stage of a request (new, identity to verify
//! with the document beside its decision, in progress, on hold, answered; a form that came
//! back refused; the refusal's confirmation and a refused request), in French and in English:
//! axe-core at the WCAG 2.2 AA and best-practice tags, nothing wider than a 390 px phone, and
//! the screenshots kept as `target/browser-artifacts/request-*-{fr,en}-{1280,390}.png`.

use serde_json::json;

use crate::browser::Driver;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Browser, Part, mails_to};

const DPO_EMAIL: &str = "dpo.request@example.org";
const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

/// A drawing of an identity card (a photo, lines of text), as a person photographs one: big
/// enough to be seen beside the decision in the screenshots.
pub(crate) fn id_card_png() -> Vec<u8> {
    let (w, h) = (480u32, 300u32);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let photo = (24..160).contains(&x) && (60..240).contains(&y);
            let line = (190..440).contains(&x)
                && [80, 110, 140, 170, 200]
                    .iter()
                    .any(|l| (*l..l + 10).contains(&y));
            let band = y < 40;
            let rgb = if band {
                [0x1f, 0x4e, 0x8c]
            } else if photo {
                [0x9a, 0xa5, 0xb1]
            } else if line {
                [0x3c, 0x40, 0x43]
            } else {
                [0xe8, 0xf0, 0xfe]
            };
            pixels.extend_from_slice(&rgb);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("png header");
        writer.write_image_data(&pixels).expect("png data");
    }
    out
}

/// The person follows the link their first mail gave (confirming their address) and sends a
/// photograph of their identity card from the status page.
pub(crate) async fn confirm_with_id_card(app: &TestApp, person: &mut Browser<'_>, email: &str) {
    app.run_worker().await;
    let link = mails_to(app, email)[0].link().expect("link");
    let status = person.get(&link).await;
    let png = id_card_png();
    let up = person
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &status.csrf()),
                Part::File("document", "carte-identite.png", &png),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 303, "{}", up.html);
}

struct Walk<'a> {
    d: &'a Driver,
    app: &'a TestApp,
}

impl Walk<'_> {
    fn set_lang(&self, lang: &str) {
        let mut conn = self.app.state.pool.get().expect("conn");
        let user = dsar::store::users::find_by_email(&mut conn, DPO_EMAIL)
            .expect("lookup")
            .expect("user");
        dsar::store::users::set_lang(&mut conn, user.id, Some(lang)).expect("lang");
    }

    fn url(&self, reference: &str) -> String {
        format!("{}/admin/requests/{reference}", self.app.address)
    }

    /// The page at `url` checked in both languages.
    async fn check_both(&self, url: &str, name: &str, fr: &str, en: &str) {
        for (lang, words) in [("fr", fr), ("en", en)] {
            self.set_lang(lang);
            self.d.goto(url).await;
            self.d.expect(words).await;
            self.d.check_page(&format!("request-{name}-{lang}")).await;
        }
        self.set_lang("fr");
    }
}

#[actix_web::test]
async fn the_request_page_at_each_stage_in_both_languages() {
    let Some(app) = try_spawn(Backend::Sqlite, &[]).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    app.staff_account(DPO_EMAIL, "Dominique Lefèvre", dsar::staff::Role::Dpo);
    let w = Walk { d: &d, app: &app };
    w.set_lang("fr");
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", DPO_EMAIL).await;
    d.fill("password", PASSWORD).await;
    d.click("button[type='submit']").await;
    d.expect("Dominique").await;

    // Filed on the portal for erasure, which asks for an identity document.
    let email = "camille@example.fr";
    let mut person = Browser::new(&app);
    let form = person.get("/fr/request/erasure").await;
    let filed = person
        .post(
            "/fr/request/erasure",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", email),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("erasure_scope", "part"),
                Part::Field(
                    "erasure_part",
                    "Mon historique de commandes et mon adresse de livraison.",
                ),
                Part::Field("details", "Je n'utilise plus le site depuis deux ans."),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    let filed = person.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    let reference = filed.html[start..start + 16].to_string();
    let url = w.url(&reference);

    // New: the address is not confirmed yet.
    w.check_both(
        &url,
        "new",
        "Attendre que le demandeur confirme",
        "Wait for the requester to confirm",
    )
    .await;

    // Confirmed, and an identity document sent: to verify, the image beside the decision.
    confirm_with_id_card(&app, &mut person, email).await;
    w.check_both(
        &url,
        "verifying",
        "Examiner le justificatif",
        "Review the document sent",
    )
    .await;

    // Accepted: in progress, the answer to write (no data source here).
    d.goto(&url).await;
    d.click_text("Accepter").await;
    d.expect("Votre décision sur le justificatif est enregistrée")
        .await;
    w.check_both(
        &url,
        "in-progress",
        "Rédiger et envoyer la réponse",
        "Write and send the answer",
    )
    .await;

    // A form that comes back: the reason at the top, focused, what was typed kept.
    for (lang, button, said) in [
        (
            "fr",
            "Mettre en attente et envoyer",
            "Écrivez ce que vous demandez",
        ),
        (
            "en",
            "Put on hold and send",
            "Write what you ask of the requester",
        ),
    ] {
        w.set_lang(lang);
        d.goto(&url).await;
        d.click_text(button).await;
        d.expect(said).await;
        d.check_page(&format!("request-error-{lang}")).await;
        let focused = d
            .session_call(
                "POST",
                "/execute/sync",
                Some(json!({ "script": "return document.activeElement.className;", "args": [] })),
            )
            .await;
        assert_eq!(focused.as_str(), Some("error-summary"), "focus: {focused}");
    }
    w.set_lang("fr");

    // On hold: the clock stopped, waiting for the requester.
    d.goto(&url).await;
    d.type_into(
        "#hold-text",
        "Pouvez-vous préciser l'adresse de livraison concernée ?",
    )
    .await;
    d.click_text("Mettre en attente et envoyer").await;
    d.expect("La demande est en attente").await;
    w.check_both(&url, "on-hold", "Délai suspendu", "Clock stopped")
        .await;

    // Resumed and answered: closed, the thread tells the story.
    d.goto(&url).await;
    d.click_text("Reprendre la demande").await;
    d.expect("La demande a repris").await;
    d.click_text("Envoyer la réponse").await;
    d.expect("La réponse est envoyée").await;
    app.run_worker().await;
    w.check_both(
        &url,
        "answered",
        "Cette demande est close",
        "This request is closed",
    )
    .await;

    // Another request refused: the confirmation, then the refused request.
    let other = app
        .file(json!({
            "kind": "access",
            "requester": { "name": "Hugo Petit", "email": "hugo@example.fr" },
            "language": "en"
        }))
        .await;
    let other_url = w.url(other["reference"].as_str().expect("reference"));
    w.check_both(
        &format!("{other_url}?confirm=reject"),
        "reject-confirm",
        "Ce qui va se passer",
        "What will happen",
    )
    .await;
    d.goto(&format!("{other_url}?confirm=reject")).await;
    d.click("#ground-0").await;
    d.type_into(
        "#reject-text",
        "Vous avez déposé cette demande quarante fois ce mois-ci.",
    )
    .await;
    d.click("button.danger").await;
    d.expect("La demande est refusée").await;
    w.check_both(&other_url, "rejected", "Refusée", "Refused")
        .await;
    d.quit().await;
}
