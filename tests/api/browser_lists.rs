//! The queue (each tab), reports, the audit trail and the processing register in a real
//! browser, in French and in English: axe-core at WCAG 2.2 AA with best practices, nothing
//! sideways at 390 px, and screenshots at both widths (target/browser-artifacts/lists-*).

use crate::browser::Driver;
use crate::helpers::Backend;
use crate::staff_lists::{lists_app, one_per_stage, person};

const TABS: [&str; 8] = [
    "all",
    "to_verify",
    "to_send",
    "gathering",
    "to_answer",
    "waiting",
    "overdue",
    "unconfirmed",
];

#[actix_web::test]
async fn the_lists_pass_axe_at_both_widths_in_both_languages() {
    let Some(lists) = lists_app(Backend::Sqlite, &[]).await else {
        return;
    };
    let app = &lists.app;
    let Some(driver) = Driver::start().await else {
        return;
    };
    let stages = one_per_stage(app).await;
    let dpo = person(
        app,
        "Dominique Lefèvre",
        "dominique@example.org",
        dsar::staff::Role::Dpo,
    );
    {
        // Work in progress: one request assigned, so the queue shows a name.
        let mut conn = app.state.pool.get().expect("conn");
        let row = dsar::workflow::find(&mut conn, &stages.to_answer).expect("request");
        dsar::workflow::staff_actions::perform(
            &mut conn,
            &app.state,
            row.id,
            &dsar::workflow::staff_actions::Action::Assign(Some(dpo)),
            &format!("staff:{dpo}"),
            app.state.clock.now(),
        )
        .expect("assigned");
    }
    let d = &driver;
    d.goto(&format!("{}/admin", app.address)).await;
    d.fill("email", "dominique@example.org").await;
    // Enter in the password field sends the form, whatever its button says.
    d.type_into(
        "input[name=password]",
        "correct horse battery staple\u{E007}",
    )
    .await;
    d.expect("Dominique").await;
    for lang in ["fr", "en"] {
        {
            let mut conn = app.state.pool.get().expect("conn");
            dsar::store::users::set_lang(&mut conn, dpo, Some(lang)).expect("lang");
        }
        for tab in TABS {
            let path = if tab == "all" {
                "/admin".to_string()
            } else {
                format!("/admin?stage={tab}")
            };
            d.goto(&format!("{}{path}", app.address)).await;
            d.check_page(&format!("lists-queue-{tab}-{lang}")).await;
        }
        for (name, path) in [
            ("reports", "/admin/reports?from=2026-01&to=2026-03"),
            ("audit", "/admin/audit"),
            ("register", "/admin/register"),
        ] {
            d.goto(&format!("{}{path}", app.address)).await;
            d.check_page(&format!("lists-{name}-{lang}")).await;
        }
    }
    driver.quit().await;
}
