//! Deadline profiles seen through the API: the dates a requester is promised.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn each_profile_gives_its_own_due_date(app: TestApp) {
    app.set_now("2025-06-02T08:00:00Z");
    let cases = [
        // (profile, received_at, due_on)
        // 31 January + 2 months = 31 March (Monday).
        ("two-months", "2025-01-31T10:00:00Z", "2025-03-31"),
        // 31 March + 1 month = 30 April.
        ("gdpr", "2025-03-31T10:00:00Z", "2025-04-30"),
        // 30 April + 1 month = Friday 30 May (Ascension was the 29th).
        ("uk-gdpr", "2025-04-30T10:00:00Z", "2025-05-30"),
        // 1 January + 45 calendar days = Saturday 15 February: CCPA does not roll.
        ("ccpa", "2025-01-01T12:00:00Z", "2025-02-15"),
        // 10 April + 1 month = Saturday 10 May → Monday 12 May.
        ("gdpr", "2025-04-10T10:00:00Z", "2025-05-12"),
    ];
    for (profile, received_at, due_on) in cases {
        let filed = app
            .file(json!({ "kind": "access", "requester": { "name": "P", "email": "p@example.org" }, "received_at": received_at, "profile": profile }))
            .await;
        assert_eq!(filed["due_on"], due_on, "{profile} received {received_at}");
    }
}
on_both_backends!(profiles, each_profile_gives_its_own_due_date);

async fn an_identity_hold_stops_the_french_clock_but_not_the_ccpa_one(app: TestApp) {
    app.set_now("2025-03-20T12:00:00Z");
    for (profile, clock) in [("two-months", "stopped"), ("ccpa", "running")] {
        let filed = app
            .file(json!({ "kind": "erasure", "requester": { "name": "P", "email": "p@example.org" }, "received_at": "2025-03-03T10:00:00Z", "profile": profile }))
            .await;
        let held = app
            .post(
                &format!(
                    "/api/v1/requests/{}/events",
                    filed["id"].as_str().expect("id")
                ),
                &json!({ "type": "hold", "reason": "identity", "at": "2025-03-05T10:00:00Z" }),
            )
            .await;
        assert_eq!(held.body["clock"], clock, "{profile}");
        assert_eq!(held.body["timeline"][1]["clock"], clock);
    }
}
on_both_backends!(
    identity_hold,
    an_identity_hold_stops_the_french_clock_but_not_the_ccpa_one
);
