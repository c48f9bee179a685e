//! Filing and following requests through the API.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn filing_answers_with_the_request_and_its_deadline(app: TestApp) {
    app.set_now("2025-02-03T09:00:00Z");
    let filed = app
        .file(json!({
            "kind": "access",
            "requester": { "name": "Camille Martin", "email": "camille.martin@example.fr" },
            "details": "Toutes mes données",
            "received_at": "2025-01-31T23:30:00Z",
            "channel": "post"
        }))
        .await;
    assert_eq!(filed["status"], "verifying");
    assert_eq!(filed["profile"], "two-months");
    assert_eq!(filed["channel"], "post");
    assert_eq!(filed["kind"], "access");
    // 23:30 UTC on 31 January is 1 February in Paris: the anchor; two months later is
    // Tuesday 1 April 2025.
    assert_eq!(filed["received_on"], "2025-02-01");
    assert_eq!(filed["due_on"], "2025-04-01");
    assert_eq!(filed["due_at"], "2025-04-01T23:59:59+02:00");
    assert_eq!(filed["clock"], "running");
    assert_eq!(filed["days_left"], 57);
    assert_eq!(filed["requester"]["email"], "camille.martin@example.fr");
    let reference = filed["reference"].as_str().expect("reference");
    assert!(reference.starts_with("DSAR-2025-"), "{reference}");
    assert_eq!(filed["timeline"][0]["type"], "received");

    let by_id = app
        .get(&format!(
            "/api/v1/requests/{}",
            filed["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(by_id.status.as_u16(), 200);
    assert_eq!(by_id.body["reference"], reference);
    let by_reference = app
        .get(&format!("/api/v1/requests/{}", reference.to_lowercase()))
        .await;
    assert_eq!(by_reference.status.as_u16(), 200);
    assert_eq!(by_reference.body["id"], filed["id"]);
}
on_both_backends!(
    filing_a_request,
    filing_answers_with_the_request_and_its_deadline
);

async fn a_hold_and_resume_with_backdated_moments_and_an_extension_move_the_due_date(app: TestApp) {
    app.set_now("2025-02-20T12:00:00Z");
    let filed = app
        .file(json!({
            "kind": "erasure",
            "requester": { "name": "Jean Dupont", "email": "jean@example.fr", "customer_ref": "C-1042" },
            "received_at": "2025-01-31T10:00:00Z",
            "profile": "gdpr",
            "channel": "email"
        }))
        .await;
    let id = filed["id"].as_str().expect("id").to_string();
    // One month from Friday 31 January is Friday 28 February.
    assert_eq!(filed["due_on"], "2025-02-28");

    let held = app
        .post(
            &format!("/api/v1/requests/{id}/events"),
            &json!({ "type": "hold", "at": "2025-02-10T09:00:00Z", "note": "Which account?" }),
        )
        .await;
    assert_eq!(held.status.as_u16(), 200, "{:?}", held.body);
    assert_eq!(held.body["status"], "on_hold");
    assert_eq!(held.body["clock"], "stopped");
    // Stopped on 10 February; today is the 20th: ten days so far, so at the earliest
    // 28 February + 10 = Tuesday 10 March.
    assert_eq!(held.body["due_on"], "2025-03-10");

    let resumed = app
        .post(
            &format!("/api/v1/requests/{id}/events"),
            &json!({ "type": "resume", "at": "2025-02-18T16:00:00Z" }),
        )
        .await;
    assert_eq!(resumed.status.as_u16(), 200, "{:?}", resumed.body);
    assert_eq!(resumed.body["status"], "verifying");
    assert_eq!(resumed.body["clock"], "running");
    // Eight whole days stood still: 28 February + 8 = Saturday 8 March → Monday 10 March.
    assert_eq!(resumed.body["deadline"]["paused_days"], 8);
    assert_eq!(resumed.body["due_on"], "2025-03-10");

    let extended = app
        .post(
            &format!("/api/v1/requests/{id}/extension"),
            &json!({ "months": 2, "reason": "Data spread over four systems" }),
        )
        .await;
    assert_eq!(extended.status.as_u16(), 200, "{:?}", extended.body);
    // 1 + 2 = 3 months from the anchor (30 April, not 28 April chained from 28 February),
    // + 8 days = Thursday 8 May, a public holiday in France → Friday 9 May.
    assert_eq!(extended.body["due_on"], "2025-05-09");
    assert_eq!(extended.body["deadline"]["extension"], "2 months");
    let timeline: Vec<&str> = extended.body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(timeline, ["received", "hold", "resume", "extend"]);
    assert_eq!(extended.body["timeline"][1]["at"], "2025-02-10T09:00:00Z");
    assert_eq!(
        extended.body["timeline"][3]["note"],
        "Data spread over four systems"
    );

    let verified = app
        .post(
            &format!("/api/v1/requests/{id}/events"),
            &json!({ "type": "verify", "method": "id_document" }),
        )
        .await;
    assert_eq!(verified.body["status"], "in_progress");
    assert_eq!(verified.body["verified"]["method"], "id_document");
    let fulfilled = app
        .post(
            &format!("/api/v1/requests/{id}/events"),
            &json!({ "type": "fulfil", "note": "Erased" }),
        )
        .await;
    assert_eq!(fulfilled.status.as_u16(), 200);
    assert_eq!(fulfilled.body["status"], "fulfilled");
    assert!(fulfilled.body["closed_at"].is_string());

    // Read back: the same dates.
    let read = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(read.body["due_on"], "2025-05-09");
    assert_eq!(read.body["deadline"]["period_end"], "2025-04-30");
}
on_both_backends!(
    hold_resume_and_extension,
    a_hold_and_resume_with_backdated_moments_and_an_extension_move_the_due_date
);

async fn a_rejection_records_its_ground(app: TestApp) {
    let filed = app.file(json!({ "kind": "objection", "requester": { "name": "A B", "email": "ab@example.org" } })).await;
    let id = filed["id"].as_str().expect("id");
    let res = app
        .post(&format!("/api/v1/requests/{id}/events"), &json!({ "type": "reject", "ground": "manifestly_unfounded", "note": "Same request filed 40 times" }))
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert_eq!(res.body["status"], "rejected");
    assert_eq!(res.body["reject_ground"], "manifestly_unfounded");
}
on_both_backends!(rejection, a_rejection_records_its_ground);

async fn the_list_pages_with_a_cursor_and_filters(app: TestApp) {
    for (i, kind) in ["access", "erasure", "access", "portability", "access"]
        .iter()
        .enumerate()
    {
        app.file(json!({ "kind": kind, "requester": { "name": format!("P{i}"), "email": format!("p{i}@example.org") } })).await;
    }
    let first = app.get("/api/v1/requests?kind=access&limit=2").await;
    assert_eq!(first.status.as_u16(), 200, "{:?}", first.body);
    let items = first.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|r| r["kind"] == "access"
                && r["timeline"].as_array().is_some_and(|t| !t.is_empty()))
    );
    let cursor = first.body["next_cursor"].as_str().expect("cursor");
    let second = app
        .get(&format!(
            "/api/v1/requests?kind=access&limit=2&cursor={cursor}"
        ))
        .await;
    let items2 = second.body["items"].as_array().expect("items");
    assert_eq!(items2.len(), 1);
    assert_ne!(items2[0]["id"], items[0]["id"]);
    assert_ne!(items2[0]["id"], items[1]["id"]);
    assert!(second.body["next_cursor"].is_null());
    let verifying = app.get("/api/v1/requests?status=verifying").await;
    assert_eq!(verifying.body["items"].as_array().map(Vec::len), Some(5));
    let fulfilled = app.get("/api/v1/requests?status=fulfilled").await;
    assert_eq!(fulfilled.body["items"].as_array().map(Vec::len), Some(0));
}
on_both_backends!(listing, the_list_pages_with_a_cursor_and_filters);
