//! What follows the answers in a real browser, in French and in English: the restrictions and
//! legal holds page, the lift's form, the fee's form (and it refused), and the request page's
//! "after the answer" block, the fee's letter to a person answered by post; axe-core at WCAG 2.2 AA, nothing sideways at 390 px, screenshots
//! as `target/browser-artifacts/holds-*-{fr,en}-{1280,390}.png`.

use serde_json::json;

use crate::admin::signed_in;
use crate::browser::Driver;
use crate::fulfilment::world;
use crate::helpers::Backend;
use crate::holds::{answered, answers_by_post, verified};

const DPO_EMAIL: &str = "dominique@example.org";

#[actix_web::test]
async fn what_follows_the_answers_passes_axe_at_both_widths_in_both_languages() {
    let Some(w) = world(Backend::Sqlite, &[]).await else {
        return;
    };
    let app = &w.app;
    let Some(driver) = Driver::start().await else {
        return;
    };
    app.set_now("2026-01-12T10:00:00Z");
    let (dpo_id, _) = app.staff_account(DPO_EMAIL, "Dominique Lefèvre", dsar::staff::Role::Dpo);
    let mut dpo = signed_in(app, DPO_EMAIL).await;
    let restriction = verified(
        app,
        "restriction",
        json!({ "restriction_ground": "objection_pending" }),
    )
    .await;
    answered(&w, &mut dpo, &restriction).await;
    let erasure = verified(app, "erasure", json!({ "erasure_scope": "all" })).await;
    answered(&w, &mut dpo, &erasure).await;
    let access = app
        .file_verified(json!({ "kind": "access", "language": "fr",
            "requester": { "name": "Camille Martin", "email": "camille@example.fr" } }))
        .await;
    // She asked for letters: the fee goes by post, as a letter to print.
    answers_by_post(app, &access);
    {
        let mut conn = app.state.pool.get().expect("conn");
        let row = dsar::workflow::find(&mut conn, &access).expect("request");
        dsar::workflow::follow::ask_fee(
            &mut conn,
            &app.state,
            row.id,
            dsar::domain::follow::FeeBasis::FurtherCopies,
            1250,
            "Troisième copie demandée ce mois-ci : frais d'impression et d'envoi recommandé.",
            &format!("staff:{dpo_id}"),
            app.state.clock.now(),
        )
        .expect("fee");
    }
    let restriction_id = {
        use diesel::prelude::*;
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::schema::restrictions::table
            .select(dsar::store::schema::restrictions::id)
            .first::<i64>(&mut *conn)
            .expect("a restriction")
    };

    let d = &driver;
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", DPO_EMAIL).await;
    d.type_into(
        "input[name=password]",
        &format!("{}\u{E007}", crate::helpers::STAFF_PASSWORD),
    )
    .await;
    d.expect("Dominique").await;
    for lang in ["fr", "en"] {
        {
            let mut conn = app.state.pool.get().expect("conn");
            dsar::store::users::set_lang(&mut conn, dpo_id, Some(lang)).expect("lang");
        }
        d.goto(&format!("{}/admin/restrictions", app.address)).await;
        d.expect(if lang == "fr" {
            "Conservations légales"
        } else {
            "Legal holds"
        })
        .await;
        d.check_page(&format!("holds-list-{lang}")).await;
        d.goto(&format!(
            "{}/admin/restrictions/{restriction_id}/lift",
            app.address
        ))
        .await;
        d.check_page(&format!("holds-lift-{lang}")).await;
        d.goto(&format!("{}/admin/requests/{erasure}", app.address))
            .await;
        d.check_page(&format!("holds-request-erasure-{lang}")).await;
        d.goto(&format!("{}/admin/requests/{erasure}#follow", app.address))
            .await;
        d.check_page(&format!("holds-request-erasure-block-{lang}"))
            .await;
        d.goto(&format!("{}/admin/requests/{restriction}", app.address))
            .await;
        d.check_page(&format!("holds-request-restriction-{lang}"))
            .await;
        d.goto(&format!("{}/admin/requests/{access}", app.address))
            .await;
        d.check_page(&format!("holds-request-fee-{lang}")).await;
        d.goto(&format!("{}/admin/requests/{access}#follow", app.address))
            .await;
        d.check_page(&format!("holds-request-fee-block-{lang}"))
            .await;
        d.goto(&format!(
            "{}/admin/requests/{access}/letters/fee",
            app.address
        ))
        .await;
        d.expect("Montant : 12,50").await;
        d.check_page(&format!("holds-letter-fee-{lang}")).await;
    }
    // A request with no fee yet: the fee's form, then refused (an amount that is no amount).
    let second = app
        .file_verified(json!({ "kind": "access", "language": "en",
            "requester": { "name": "Hugo Bernard", "email": "hugo@example.net" } }))
        .await;
    for lang in ["fr", "en"] {
        {
            let mut conn = app.state.pool.get().expect("conn");
            dsar::store::users::set_lang(&mut conn, dpo_id, Some(lang)).expect("lang");
        }
        d.goto(&format!("{}/admin/requests/{second}/fee", app.address))
            .await;
        d.check_page(&format!("holds-fee-{lang}")).await;
        d.fill("amount", "douze euros").await;
        d.fill(
            "reason",
            "Demande répétée pour la quatrième fois ce mois-ci.",
        )
        .await;
        d.click("form.stack button[type=submit]").await;
        d.expect(if lang == "fr" {
            "Il y a un problème"
        } else {
            "There is a problem"
        })
        .await;
        d.check_page(&format!("holds-fee-error-{lang}")).await;
    }
    driver.quit().await;
}
