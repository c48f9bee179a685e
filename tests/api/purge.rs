//! Retention: a closed request is anonymised five years on, its files leave the disk, and the
//! register row stays.

use chrono::Duration;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

fn files_on_disk(app: &TestApp) -> usize {
    std::fs::read_dir(&app.state.settings.storage.dir)
        .map(|d| d.flatten().filter(|e| e.path().is_file()).count())
        .unwrap_or(0)
}

async fn closed_requests_are_anonymised_after_retention(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let mut person = Browser::new(&app);
    let form = person.get("/fr/request/access").await;
    let filed = person
        .post(
            "/fr/request/access",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", "camille@example.fr"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("access_scope", "all"),
            ],
        )
        .await;
    let filed = person.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    let reference = filed.html[start..start + 16].to_string();
    app.run_worker().await;
    let link = mails_to(&app, "camille@example.fr")[0]
        .link()
        .expect("link");
    let page = person.get(&link).await;
    let sent = person
        .post(
            &format!("{link}/message"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("body", "Ma facture jointe."),
                Part::File("attachment", "facture.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(sent.status.as_u16(), 303);
    assert_eq!(files_on_disk(&app), 1);
    let id = dsar::workflow::find(&mut app.state.pool.get().expect("conn"), &reference)
        .expect("row")
        .id;
    {
        let mut conn = app.state.pool.get().expect("conn");
        let fulfil = dsar::workflow::staff_actions::Action::Fulfil {
            letter: "Voici vos données, Camille.".into(),
            attachment: None,
        };
        dsar::workflow::staff_actions::perform(
            &mut conn,
            &app.state,
            id,
            &fulfil,
            "staff:1",
            app.state.clock.now(),
        )
        .expect("fulfil");
    }
    let run = |app: &TestApp| {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge")
    };

    // A day short of five years: kept whole.
    app.state.clock.advance(Duration::days(5 * 365));
    assert_eq!(run(&app).requests_anonymised, 0);
    app.state.clock.advance(Duration::days(2));
    let purged = run(&app);
    assert_eq!((purged.requests_anonymised, purged.files), (1, 1));
    assert_eq!(files_on_disk(&app), 0, "the file left the disk");
    assert_eq!(run(&app).requests_anonymised, 0, "once");

    let answer = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(answer.status.as_u16(), 200);
    assert_eq!(answer.body["kind"], "access");
    assert_eq!(answer.body["status"], "fulfilled");
    assert_eq!(answer.body["received_at"], "2025-03-03T10:00:00Z");
    let text = answer.body.to_string();
    assert!(
        !text.contains("Camille") && !text.contains("camille@example.fr"),
        "{text}"
    );
    {
        use diesel::prelude::*;
        use dsar::store::schema::{documents, messages};
        let mut conn = app.state.pool.get().expect("conn");
        let left: i64 = messages::table
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(left, 0, "messages go");
        let left: i64 = documents::table
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(left, 0, "documents go");
        let left: i64 = dsar::store::schema::mail_outbox::table
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(left, 0, "the mails about it go");
    }
    // The link no longer opens anything.
    assert_eq!(Browser::new(&app).get(&link).await.status.as_u16(), 404);
    let mut conn = app.state.pool.get().expect("conn");
    let trail =
        dsar::store::audit::page(&mut conn, None, Some("purge.requests"), 10).expect("trail");
    assert_eq!(trail.len(), 1);
    assert!(
        trail[0].details.contains("\"anonymised\":1"),
        "{}",
        trail[0].details
    );
}
on_both_backends!(retention, closed_requests_are_anonymised_after_retention);
