//! Requests waiting for their requester: one reminder after seven days, expiry after thirty,
//! each mailed, on the timeline and in the audit trail.

use chrono::Duration;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

async fn file_access(app: &TestApp, email: &str) -> String {
    let mut person = Browser::new(app);
    let form = person.get("/en/request/access").await;
    let filed = person
        .post(
            "/en/request/access",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", email),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("access_scope", "all"),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    let filed = person.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    filed.html[start..start + 16].to_string()
}

fn sweep(app: &TestApp) -> dsar::worker::follow_up::Swept {
    let mut conn = app.state.pool.get().expect("conn");
    dsar::worker::follow_up::sweep(&mut conn, &app.state, app.state.clock.now()).expect("sweep")
}

async fn unconfirmed_requests_are_reminded_then_expire(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let reference = file_access(&app, "late@example.org").await;
    app.run_worker().await;
    assert_eq!(
        mails_to(&app, "late@example.org").len(),
        1,
        "the confirmation"
    );

    app.state.clock.advance(Duration::days(6));
    assert_eq!(sweep(&app), Default::default(), "too early");
    app.state.clock.advance(Duration::days(1));
    assert_eq!(sweep(&app).reminded, 1);
    assert_eq!(
        sweep(&app),
        Default::default(),
        "one reminder, not one per sweep"
    );
    app.run_worker().await;
    let mails = mails_to(&app, "late@example.org");
    assert_eq!(mails.len(), 2);
    let reminder = &mails[1];
    assert!(
        reminder.subject.contains("reminder: confirm your address"),
        "{}",
        reminder.subject
    );
    let link = reminder.link().expect("a fresh link");
    assert_ne!(Some(link.clone()), mails[0].link(), "a new link");

    app.state.clock.advance(Duration::days(22));
    assert_eq!(sweep(&app), Default::default(), "29 days: still open");
    app.state.clock.advance(Duration::days(1));
    assert_eq!(sweep(&app).expired, 1);
    app.run_worker().await;
    let closed = mails_to(&app, "late@example.org")
        .last()
        .cloned()
        .expect("expiry mail");
    assert!(
        closed.subject.contains("closed for want of an answer"),
        "{}",
        closed.subject
    );
    assert!(
        closed.text.contains("file a new request"),
        "{}",
        closed.text
    );

    let row =
        dsar::workflow::find(&mut app.state.pool.get().expect("conn"), &reference).expect("row");
    assert_eq!(row.status.as_str(), "expired");
    let answer = app.get(&format!("/api/v1/requests/{reference}")).await;
    let kinds: Vec<&str> = answer.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        kinds.contains(&"reminder") && kinds.contains(&"expire"),
        "{kinds:?}"
    );
    let trail: Vec<String> = dsar::store::audit::for_target(
        &mut app.state.pool.get().expect("conn"),
        "request",
        &row.uuid,
    )
    .expect("trail")
    .into_iter()
    .map(|a| a.action)
    .collect();
    assert!(
        trail.contains(&"request.reminder".to_string())
            && trail.contains(&"request.expire".to_string()),
        "{trail:?}"
    );
}
on_both_backends!(
    requester_reminders,
    unconfirmed_requests_are_reminded_then_expire
);

async fn a_question_left_unanswered_is_asked_again(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let quiet = file_access(&app, "quiet@example.org").await;
    let chatty = file_access(&app, "chatty@example.org").await;
    app.run_worker().await;
    let mut links = Vec::new();
    for (email, reference) in [
        ("quiet@example.org", &quiet),
        ("chatty@example.org", &chatty),
    ] {
        let link = mails_to(&app, email)[0].link().expect("link");
        Browser::new(&app).get(&link).await.assert_contains("DSAR-");
        links.push(link);
        let id = dsar::workflow::find(&mut app.state.pool.get().expect("conn"), reference)
            .expect("row")
            .id;
        let mut conn = app.state.pool.get().expect("conn");
        let hold = dsar::workflow::staff_actions::Action::Hold {
            reason: dsar::domain::lifecycle::HoldReason::Clarification,
            asked: "Which customer number do you use?".into(),
        };
        dsar::workflow::staff_actions::perform(
            &mut conn,
            &app.state,
            id,
            &hold,
            "staff:1",
            app.state.clock.now(),
        )
        .expect("hold");
    }
    // The chatty requester answers two days later; the team has not resumed yet.
    app.state.clock.advance(Duration::days(2));
    let mut chatty_browser = Browser::new(&app);
    let page = chatty_browser.get(&links[1]).await;
    let sent = chatty_browser
        .post(
            &format!("{}/message", links[1]),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("body", "C-40213"),
            ],
        )
        .await;
    assert_eq!(sent.status.as_u16(), 303, "{}", sent.html);

    // Seven days after the question, not after receipt; only the one who did not answer.
    app.state.clock.advance(Duration::days(4));
    assert_eq!(sweep(&app), Default::default());
    app.state.clock.advance(Duration::days(1));
    assert_eq!(sweep(&app).reminded, 1);
    app.run_worker().await;
    let reminder = mails_to(&app, "quiet@example.org")
        .last()
        .cloned()
        .expect("reminder");
    assert!(
        reminder.subject.contains("waiting for your answer"),
        "{}",
        reminder.subject
    );
    assert!(
        reminder.text.contains("Which customer number do you use?"),
        "{}",
        reminder.text
    );
    assert!(
        reminder.text.contains("stays suspended"),
        "{}",
        reminder.text
    );
    assert!(
        !mails_to(&app, "chatty@example.org")
            .iter()
            .any(|m| m.subject.contains("reminder")),
        "an answered question is not asked again"
    );
    // Nor does the answered request expire while it waits for the team.
    app.state.clock.advance(Duration::days(40));
    sweep(&app);
    let row = dsar::workflow::find(&mut app.state.pool.get().expect("conn"), &chatty).expect("row");
    assert_eq!(row.status.as_str(), "on_hold");
}
on_both_backends!(hold_reminders, a_question_left_unanswered_is_asked_again);

/// A representative's request carries a mandate from the start: that file is no answer to
/// anything, so the unconfirmed request is reminded like any other.
async fn a_representatives_unconfirmed_request_is_reminded(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let mut person = Browser::new(&app);
    let form = person.get("/en/request/access").await;
    let filed = person
        .post(
            "/en/request/access",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", "agent@example.org"),
                Part::Field("country", "FR"),
                Part::Field("acting", "representative"),
                Part::Field("subject_name", "Paul Durand"),
                Part::Field("subject_customer_ref", "C-2210"),
                Part::Field("access_scope", "all"),
                Part::File("mandate", "mandat.pdf", b"%PDF-1.4\n%%EOF\n"),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    app.state.clock.advance(Duration::days(7));
    assert_eq!(sweep(&app).reminded, 1);
}
on_both_backends!(
    representative_reminders,
    a_representatives_unconfirmed_request_is_reminded
);
