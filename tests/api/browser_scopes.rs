//! The scope of a request in a real browser, in French: the DPO reads what Camille asked
//! (the newsletter only), is told the request cannot go to the sources yet, confirms the
//! scope (refused first with nothing ticked), and sends the scoped erasure; the shop keeps
//! everything else. Then an objection to another processing: its balancing decision. axe-core at WCAG 2.2 AA at 1,280 and 390 px on each page; screenshots
//! in `target/browser-artifacts/` and copied to `target/screenshots/scopes-*.png`.

use serde_json::json;

use dsar::demo::CAMILLE;

use crate::browser::Driver;
use crate::demo::demo_app;
use crate::helpers::Backend;
use crate::scopes::{camille_asks, snapshot};

const DPO_EMAIL: &str = "dominique@example.org";

/// axe and the 390 px check, the screenshots copied, and no code or English word in the
/// page's visible text (the balancing decision's codes included).
async fn check(d: &Driver, app: &crate::helpers::TestApp, name: &str) {
    d.check_page(name).await;
    let text = d
        .session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": crate::browser_day::VISIBLE_TEXT, "args": [] })),
        )
        .await;
    let text = text.as_str().unwrap_or_default();
    let mut forbidden = crate::browser_day::forbidden(&app.state);
    forbidden.extend(
        dsar::domain::scope::Balancing::NAMES
            .iter()
            .map(|n| n.to_string()),
    );
    let found = crate::browser_day::offences(text, &forbidden);
    assert!(found.is_empty(), "{name}: {found:?}\n{text}");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let to = root.join("screenshots");
    std::fs::create_dir_all(&to).expect("screenshot dir");
    for width in [1280, 390] {
        let file = format!("{name}-{width}.png");
        std::fs::copy(root.join("browser-artifacts").join(&file), to.join(&file))
            .expect("screenshot copied");
    }
}

#[actix_web::test]
async fn the_dpo_confirms_a_scope_in_french_and_sends_a_scoped_erasure() {
    let Some((app, demo, _dir)) = demo_app(Backend::Sqlite).await else {
        return;
    };
    let Some(driver) = Driver::start().await else {
        return;
    };
    let before = snapshot(&demo);
    let (dpo_id, _) = app.staff_account(DPO_EMAIL, "Dominique Lefèvre", dsar::staff::Role::Dpo);
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_lang(&mut conn, dpo_id, Some("fr")).expect("lang");
    }
    let camille = camille_asks(
        &app,
        "erasure",
        json!({ "erasure_scope": "part", "erasure_part": "Ne plus recevoir la lettre d'information, c'est tout." }),
    )
    .await;
    let d = &driver;
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", DPO_EMAIL).await;
    d.type_into(
        "input[name=password]",
        &format!("{}\u{E007}", crate::helpers::STAFF_PASSWORD),
    )
    .await;
    d.expect("Dominique").await;

    // Not confirmed: said beside the sources, no button to send.
    d.goto(&format!("{}/admin/requests/{camille}", app.address))
        .await;
    let page = d
        .expect("La personne a demandé une partie seulement de ses données")
        .await;
    assert!(!page.contains("id=\"dispatch\""));
    assert!(
        page.contains("Confirmer le périmètre de la demande d'après ce que la personne a demandé")
    );
    check(d, &app, "scopes-request-unconfirmed").await;

    // The scope's page: her words, the register's activities; nothing ticked is refused.
    d.click("#scope a.button").await;
    d.expect("Ne plus recevoir la lettre d'information, c'est tout.")
        .await;
    check(d, &app, "scopes-form").await;
    d.choose("extent", "part").await;
    d.click("#confirm-scope").await;
    d.expect("Il y a un problème").await;
    d.expect("Cochez au moins un traitement").await;
    check(d, &app, "scopes-form-error").await;
    d.click("input[name='activity'][value='newsletter']").await;
    d.click("#confirm-scope").await;
    d.expect("Le périmètre de la demande est confirmé.").await;
    d.expect(
        "Périmètre de la demande confirmé&nbsp;: Lettre d'information et prospection commerciale",
    )
    .await;
    check(d, &app, "scopes-request-confirmed").await;

    // Sent: the shop deletes her subscription and nothing else.
    d.click("#dispatch").await;
    d.expect("Boutique en ligne").await;
    app.run_worker().await;
    d.goto(&format!("{}/admin/requests/{camille}#sources", app.address))
        .await;
    d.expect("1 enregistrement, supprimé").await;
    check(d, &app, "scopes-request-sent").await;
    let after = snapshot(&demo);
    for ((table, was), (_, is)) in before.iter().zip(&after) {
        if *table == "newsletter_subscribers" {
            assert!(was.contains(CAMILLE.email) && !is.contains(CAMILLE.email));
        } else {
            assert_eq!(was, is, "{table} changed");
        }
    }

    // An objection to another processing: the balancing form, refused without grounds.
    let objection = camille_asks(
        &app,
        "objection",
        json!({ "objection_processing": "Mon compte client utilisé pour des études internes",
                "objection_reason": "Je n'y ai jamais consenti." }),
    )
    .await;
    d.goto(&format!("{}/admin/requests/{objection}/scope", app.address))
        .await;
    d.expect("Mon compte client utilisé pour des études internes")
        .await;
    d.choose("extent", "part").await;
    d.click("input[name='activity'][value='account']").await;
    d.click("#confirm-scope").await;
    d.expect("avant la décision de mise en balance").await;
    check(d, &app, "scopes-objection-request").await;
    d.goto(&format!("{}/admin/requests/{objection}/scope", app.address))
        .await;
    d.expect("Mise en balance (art. 21.1 du RGPD)").await;
    check(d, &app, "scopes-balancing").await;
    d.choose("decision", "compelling").await;
    d.click("#record-decision").await;
    d.expect("Il y a un problème").await;
    check(d, &app, "scopes-balancing-error").await;
    d.choose("decision", "stop").await;
    d.click("#record-decision").await;
    d.expect("La décision est enregistrée").await;
    driver.quit().await;
}
