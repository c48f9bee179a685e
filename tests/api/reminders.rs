//! Deadline reminders to staff: what the privacy team finds in its mailbox on the morning of
//! the sweep, with the clock moved to chosen days.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Mail, mails_to};

fn staff(app: &TestApp, email: &str, name: &str, role: dsar::staff::Role) -> i64 {
    let mut conn = app.state.pool.get().expect("conn");
    let (user, _) =
        dsar::staff::add_user(&mut conn, email, name, role, "test", app.state.clock.now())
            .expect("user");
    user.id
}

async fn file(app: &TestApp, kind: &str, profile: &str, received_at: &str) -> String {
    let filed = app
        .file(json!({
            "kind": kind,
            "requester": { "name": "Camille Martin", "email": "camille@example.org" },
            "profile": profile,
            "received_at": received_at,
        }))
        .await;
    filed["reference"].as_str().expect("reference").to_string()
}

fn assign(app: &TestApp, reference: &str, user: i64) {
    let mut conn = app.state.pool.get().expect("conn");
    let row = dsar::workflow::find(&mut conn, reference).expect("request");
    dsar::store::requests::update(
        &mut conn,
        row.id,
        &dsar::store::requests::RequestChanges {
            assignee_id: Some(Some(user)),
            ..Default::default()
        },
    )
    .expect("assign");
}

/// What two workers sharing the database do: each enqueues the periodic tasks it finds due,
/// then the jobs run (the sweep, then the mails it queued). Returns how many tasks were
/// enqueued in all: a period is enqueued by one worker only.
async fn worker_pass(app: &TestApp) -> usize {
    let state = app.state.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let first = dsar::worker::standard(state.clone()).expect("the worker starts");
        let second = dsar::worker::standard(state).expect("the worker starts");
        let enqueued = first.enqueue_scheduled().expect("periodic tasks")
            + second.enqueue_scheduled().expect("periodic tasks");
        while first.run_once().expect("worker reaches the database") {}
        enqueued
    })
    .await
    .expect("worker thread")
}

/// The deadline digests `to` received, oldest first.
fn digests(app: &TestApp, to: &str) -> Vec<Mail> {
    mails_to(app, to)
        .into_iter()
        .filter(|m| m.subject.contains("coming due") || m.subject.contains("overdue"))
        .collect()
}

/// The paragraph of a digest about one request.
fn entry<'m>(mail: &'m Mail, reference: &str) -> &'m str {
    mail.text
        .split("\n* ")
        .find(|chunk| chunk.starts_with(reference))
        .unwrap_or_else(|| panic!("{reference} not in the digest:\n{}", mail.text))
}

fn sweeps_audited(app: &TestApp) -> Vec<String> {
    use dsar::store::schema::audit_log;
    let mut conn = app.state.pool.get().expect("conn");
    audit_log::table
        .filter(audit_log::action.eq("reminders.sweep"))
        .order(audit_log::id.asc())
        .select(audit_log::details)
        .load(&mut *conn)
        .expect("audit")
}

async fn the_morning_sweep_sends_one_digest_per_person(app: TestApp) {
    use dsar::staff::Role;
    // Monday 1 March 2027, 07:00 in Paris: before the 08:00 sweep.
    app.set_now("2027-03-01T06:00:00Z");
    let alice = staff(&app, "alice@example.org", "Alice Handler", Role::Handler);
    let bob = staff(&app, "bob@example.org", "Bob Handler", Role::Handler);
    staff(&app, "dora@example.org", "Dora DPO", Role::Dpo);
    staff(&app, "dan@example.org", "Dan DPO", Role::Dpo);
    staff(&app, "vic@example.org", "Vic Viewer", Role::Viewer);
    let hal = staff(&app, "hal@example.org", "Hal Gone", Role::Handler);

    // GDPR, received 15 February: due Monday 15 March, 14 days left.
    let fourteen = file(&app, "access", "gdpr", "2027-02-15T09:00:00Z").await;
    // Two months from 8 January: due Monday 8 March, 7 days left.
    let seven = file(&app, "erasure", "two-months", "2027-01-08T09:00:00Z").await;
    // Due Thursday 4 March, 3 days left, nobody assigned.
    let unassigned = file(&app, "access", "two-months", "2027-01-04T09:00:00Z").await;
    // 28 February is a Sunday: due today, Monday 1 March.
    let today = file(&app, "rectification", "two-months", "2026-12-28T09:00:00Z").await;
    // 21 February was a Sunday: due Monday 22 February, a week overdue.
    let overdue = file(&app, "objection", "two-months", "2026-12-21T09:00:00Z").await;
    // Assigned to an account disabled since: it goes to the DPOs instead.
    let orphan = file(&app, "portability", "gdpr", "2027-02-15T10:00:00Z").await;
    // Due 26 April: nothing to say yet.
    let far = file(&app, "access", "two-months", "2027-02-26T09:00:00Z").await;
    assign(&app, &fourteen, alice);
    assign(&app, &seven, alice);
    assign(&app, &today, bob);
    assign(&app, &overdue, bob);
    assign(&app, &orphan, hal);
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_disabled(&mut conn, hal, Some(app.state.clock.now_naive()))
            .expect("disable");
    }

    assert_eq!(worker_pass(&app).await, 0, "not 08:00 in Paris yet");
    assert!(digests(&app, "alice@example.org").is_empty());

    app.set_now("2027-03-01T07:30:00Z");
    assert_eq!(
        worker_pass(&app).await,
        1,
        "the 08:00 sweep is enqueued once for two workers"
    );

    let alice_mails = digests(&app, "alice@example.org");
    assert_eq!(
        alice_mails.len(),
        1,
        "one digest for all of Alice's requests"
    );
    let mail = &alice_mails[0];
    assert!(
        mail.subject.contains("2 requests coming due"),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("Hello Alice Handler"), "{}", mail.text);
    let first = entry(mail, &fourteen);
    assert!(first.contains("Access (art. 15)"), "{first}");
    assert!(
        first.contains("Due 15 March 2027: 14 days left."),
        "{first}"
    );
    assert!(
        first.contains(&format!("/admin/requests/{fourteen}")),
        "{first}"
    );
    assert!(
        first.contains("extension notice") && first.contains("before 15 March 2027"),
        "the GDPR warning: {first}"
    );
    assert!(entry(mail, &seven).contains("7 days left"));
    for other in [&unassigned, &today, &overdue, &orphan, &far] {
        assert!(
            !mail.text.contains(other.as_str()),
            "{other} is not Alice's"
        );
    }
    assert!(
        !mail.text.contains("Camille") && !mail.text.contains("camille@"),
        "no requester's name or address in staff mails"
    );

    let bob_mails = digests(&app, "bob@example.org");
    assert_eq!(bob_mails.len(), 1);
    let mail = &bob_mails[0];
    assert!(
        mail.subject.contains("1 request overdue, 1 coming due"),
        "{}",
        mail.subject
    );
    assert!(entry(mail, &today).contains("due today"));
    let late = entry(mail, &overdue);
    assert!(
        late.contains("Was due 22 February 2027: 7 days overdue."),
        "{late}"
    );
    assert!(
        mail.text.find("OVERDUE") < mail.text.find("COMING DUE"),
        "overdue first"
    );
    assert!(mail.text.find(&overdue) < mail.text.find(&today));

    for dpo in ["dora@example.org", "dan@example.org"] {
        let mails = digests(&app, dpo);
        assert_eq!(mails.len(), 1, "{dpo}: one digest");
        let mail = &mails[0];
        assert!(entry(mail, &unassigned).contains("Unassigned: please assign it."));
        assert!(entry(mail, &unassigned).contains("3 days left"));
        assert!(
            entry(mail, &orphan).contains("Unassigned"),
            "disabled assignee"
        );
        let escalated = entry(mail, &overdue);
        assert!(escalated.contains("7 days overdue"), "{escalated}");
        assert!(
            escalated.contains("Assigned to Bob Handler; you receive it as DPO."),
            "{escalated}"
        );
        for other in [&fourteen, &seven, &today, &far] {
            assert!(
                !mail.text.contains(other.as_str()),
                "{dpo}: {other} is not overdue nor unassigned"
            );
        }
        let html = mail.raw.contains("text/html");
        assert!(html, "a text and an HTML part");
    }
    assert!(
        mails_to(&app, "vic@example.org")
            .iter()
            .all(|m| !m.subject.contains("due")),
        "viewers get nothing"
    );
    assert!(
        digests(&app, "hal@example.org").is_empty(),
        "a disabled handler gets nothing"
    );

    // The same day again, by the schedule and by hand: nothing new.
    app.set_now("2027-03-01T15:00:00Z");
    assert_eq!(worker_pass(&app).await, 0, "the period is taken");
    let counts = dsar::worker::reminders::sweep(&app.state, "2027-03-01".parse().expect("date"))
        .expect("sweep");
    assert_eq!(counts.mails, 0, "{counts:?}");
    worker_pass(&app).await;
    for (who, n) in [("alice", 1), ("bob", 1), ("dora", 1), ("dan", 1)] {
        assert_eq!(
            digests(&app, &format!("{who}@example.org")).len(),
            n,
            "{who}"
        );
    }

    // Tuesday: the overdue requests come back, the thresholds already sent do not.
    app.set_now("2027-03-02T07:30:00Z");
    assert_eq!(worker_pass(&app).await, 1);
    assert_eq!(
        digests(&app, "alice@example.org").len(),
        1,
        "13 and 6 days left: no threshold"
    );
    let bob_mails = digests(&app, "bob@example.org");
    assert_eq!(bob_mails.len(), 2);
    let tuesday = &bob_mails[1];
    assert!(
        tuesday.subject.contains("2 requests overdue"),
        "{}",
        tuesday.subject
    );
    assert!(entry(tuesday, &today).contains("1 day overdue"));
    assert!(entry(tuesday, &overdue).contains("8 days overdue"));
    let dora = digests(&app, "dora@example.org");
    assert_eq!(dora.len(), 2);
    assert!(
        !dora[1].text.contains(unassigned.as_str()),
        "3 days left was announced already"
    );

    let audited = sweeps_audited(&app);
    assert_eq!(audited.len(), 3, "one entry per sweep: {audited:?}");
    let first: serde_json::Value = serde_json::from_str(&audited[0]).expect("json");
    assert_eq!(first["counts"]["coming_due"], 5, "{first}");
    assert_eq!(first["counts"]["overdue"], 1, "{first}");
    assert_eq!(first["counts"]["mails"], 4, "{first}");
    assert!(
        audited
            .iter()
            .all(|d| !d.contains('@') && !d.contains("DSAR-")),
        "no personal data"
    );
}
// Only the deadline sweep is scheduled here, so the counts of enqueued tasks are its own.
on_both_backends!(
    morning_sweep,
    the_morning_sweep_sends_one_digest_per_person,
    [
        ("DSAR_WORKER__SCHEDULE__REQUESTER_SWEEP", ""),
        ("DSAR_WORKER__SCHEDULE__PURGE", "")
    ]
);

async fn an_extension_or_a_stopped_clock_changes_what_is_owed(app: TestApp) {
    use dsar::staff::Role;
    app.set_now("2027-03-01T07:30:00Z");
    staff(&app, "dora@example.org", "Dora DPO", Role::Dpo);
    // GDPR, due Monday 8 March: 7 days left, unassigned.
    let extended = file(&app, "access", "gdpr", "2027-02-08T09:00:00Z").await;
    let held = file(&app, "erasure", "gdpr", "2027-02-08T10:00:00Z").await;
    worker_pass(&app).await;
    let first = &digests(&app, "dora@example.org")[0];
    assert!(entry(first, &extended).contains("extension notice"));

    // Extended by two months (told to the requester in time), and the other held for
    // proof of identity: the GDPR stops the clock while waiting.
    let res = app
        .post(
            &format!("/api/v1/requests/{extended}/extension"),
            &json!({ "months": 2, "reason": "Many systems hold data about you." }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    let res = app
        .post(
            &format!("/api/v1/requests/{held}/events"),
            &json!({ "type": "hold", "reason": "identity", "note": "Please send proof of identity." }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);

    // Friday 5 March: 3 days before the first due date, but one is extended to 10 May and the
    // other's clock is stopped: nothing is owed.
    app.set_now("2027-03-05T07:30:00Z");
    worker_pass(&app).await;
    assert_eq!(digests(&app, "dora@example.org").len(), 1);

    // Thursday 7 May: 3 days before the extended due date. Not 14 or 7 again (sent before
    // the extension), and no extension warning any more.
    app.set_now("2027-05-07T07:30:00Z");
    worker_pass(&app).await;
    let mails = digests(&app, "dora@example.org");
    assert_eq!(
        mails.len(),
        2,
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let reminded = entry(&mails[1], &extended);
    assert!(
        reminded.contains("Due 10 May 2027: 3 days left."),
        "{reminded}"
    );
    assert!(!reminded.contains("extension notice"), "{reminded}");
    assert!(
        !mails[1].text.contains(held.as_str()),
        "the held request's clock is stopped"
    );
}
on_both_backends!(
    extension_and_hold,
    an_extension_or_a_stopped_clock_changes_what_is_owed,
    [
        ("DSAR_WORKER__SCHEDULE__REQUESTER_SWEEP", ""),
        ("DSAR_WORKER__SCHEDULE__PURGE", "")
    ]
);
