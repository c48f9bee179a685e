//! Bad input gets the right 4xx with a problem body, and nothing in the store changes.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;

fn valid() -> serde_json::Value {
    json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille@example.fr" } })
}

async fn bad_filings_are_refused_and_change_nothing(app: TestApp) {
    app.file(valid()).await;
    let before = app.counts();

    let mut wrong_kind = valid();
    wrong_kind["kind"] = json!("deletion");
    assert_problem(
        &app.post("/api/v1/requests", &wrong_kind).await,
        422,
        "expected one of: access",
    );

    let mut bad_email = valid();
    bad_email["requester"]["email"] = json!("camille.example.fr");
    assert_problem(
        &app.post("/api/v1/requests", &bad_email).await,
        422,
        "requester.email",
    );

    let mut future = valid();
    future["received_at"] = json!("2999-01-01T00:00:00Z");
    assert_problem(&app.post("/api/v1/requests", &future).await, 422, "future");

    let mut not_a_date = valid();
    not_a_date["received_at"] = json!("yesterday");
    assert_problem(
        &app.post("/api/v1/requests", &not_a_date).await,
        422,
        "RFC 3339",
    );

    let mut unknown_profile = valid();
    unknown_profile["profile"] = json!("mars");
    assert_problem(
        &app.post("/api/v1/requests", &unknown_profile).await,
        422,
        "gdpr",
    );

    let mut bad_channel = valid();
    bad_channel["channel"] = json!("pigeon");
    assert_problem(
        &app.post("/api/v1/requests", &bad_channel).await,
        422,
        "channel",
    );

    let mut no_name = valid();
    no_name["requester"]["name"] = json!("   ");
    assert_problem(&app.post("/api/v1/requests", &no_name).await, 422, "name");

    let missing = json!({ "requester": { "name": "x", "email": "x@example.org" } });
    assert_problem(&app.post("/api/v1/requests", &missing).await, 422, "kind");

    let mut unknown_field = valid();
    unknown_field["colour"] = json!("blue");
    assert_problem(
        &app.post("/api/v1/requests", &unknown_field).await,
        422,
        "colour",
    );

    let broken = app
        .send(
            "POST",
            "/api/v1/requests",
            Some(&app.api_key.clone()),
            Some("{\"kind\": \"access\","),
        )
        .await;
    assert_problem(&broken, 400, "not valid JSON");

    let no_key = app
        .send("POST", "/api/v1/requests", None, Some(&valid().to_string()))
        .await;
    assert_problem(&no_key, 401, "Bearer");
    let wrong_key = app
        .send(
            "POST",
            "/api/v1/requests",
            Some("dsar_0000000000000000000000000000000000000000000000000000000000000000"),
            Some(&valid().to_string()),
        )
        .await;
    assert_problem(&wrong_key, 401, "unknown or revoked");
    let not_ours = app
        .send("GET", "/api/v1/requests", Some("hunter2"), None)
        .await;
    assert_problem(&not_ours, 401, "unknown or revoked");

    let huge = json!({ "kind": "access", "requester": { "name": "x", "email": "x@example.org" }, "details": "a".repeat(300_000) });
    assert_problem(&app.post("/api/v1/requests", &huge).await, 413, "larger");

    assert_eq!(app.counts(), before, "a refused filing changed the store");
}
on_both_backends!(bad_filings, bad_filings_are_refused_and_change_nothing);

async fn bad_steps_and_extensions_are_refused_and_change_nothing(app: TestApp) {
    app.set_now("2025-03-10T12:00:00Z");
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "C", "email": "c@example.fr" }, "received_at": "2025-03-03T10:00:00Z", "profile": "gdpr" }))
        .await;
    let id = filed["id"].as_str().expect("id").to_string();
    let events = format!("/api/v1/requests/{id}/events");
    let extension = format!("/api/v1/requests/{id}/extension");
    let before = app.counts();

    assert_problem(
        &app.post(&extension, &json!({ "months": 3, "reason": "busy" }))
            .await,
        422,
        "at most 2 months",
    );
    assert_problem(
        &app.post(&extension, &json!({ "days": 62, "reason": "busy" }))
            .await,
        422,
        "cap",
    );
    assert_problem(
        &app.post(&extension, &json!({ "months": 1 })).await,
        422,
        "reason",
    );
    assert_problem(
        &app.post(&extension, &json!({ "reason": "busy" })).await,
        422,
        "months",
    );
    assert_problem(
        &app.post(&events, &json!({ "type": "fulfil" })).await,
        409,
        "cannot become fulfilled",
    );
    assert_problem(
        &app.post(&events, &json!({ "type": "resume" })).await,
        409,
        "not on hold",
    );
    assert_problem(
        &app.post(&events, &json!({ "type": "explode" })).await,
        422,
        "hold, resume",
    );
    assert_problem(
        &app.post(&events, &json!({ "type": "reject" })).await,
        422,
        "ground",
    );
    assert_problem(
        &app.post(&events, &json!({ "type": "reject", "ground": "bored" }))
            .await,
        422,
        "manifestly_unfounded",
    );
    assert_problem(
        &app.post(
            &events,
            &json!({ "type": "hold", "at": "2025-03-01T00:00:00Z" }),
        )
        .await,
        422,
        "before the request was received",
    );
    assert_problem(
        &app.post(
            &events,
            &json!({ "type": "hold", "at": "2025-03-11T00:00:00Z" }),
        )
        .await,
        422,
        "future",
    );
    assert_problem(
        &app.get("/api/v1/requests/DSAR-2025-999999").await,
        404,
        "no request",
    );
    assert_problem(
        &app.get("/api/v1/requests/not-an-id").await,
        404,
        "no request",
    );
    assert_problem(
        &app.post(
            "/api/v1/requests/DSAR-2025-999999/events",
            &json!({ "type": "start" }),
        )
        .await,
        404,
        "no request",
    );
    assert_problem(
        &app.get("/api/v1/requests?status=sleeping").await,
        422,
        "status",
    );
    assert_problem(&app.get("/api/v1/requests?limit=5000").await, 422, "limit");
    assert_problem(&app.get("/api/v1/nothing-here").await, 404, "no API route");
    assert_eq!(app.counts(), before, "a refused step changed the store");

    // Exactly at the cap is fine; a second extension past it is not; closed requests take none.
    let ok = app
        .post(&extension, &json!({ "months": 2, "reason": "complex" }))
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{:?}", ok.body);
    assert_problem(
        &app.post(&extension, &json!({ "days": 1, "reason": "more" }))
            .await,
        422,
        "remain",
    );
    app.post(&events, &json!({ "type": "withdraw" })).await;
    let after_close = app.counts();
    assert_problem(
        &app.post(&events, &json!({ "type": "start" })).await,
        409,
        "withdrawn",
    );
    assert_eq!(app.counts(), after_close);
}
on_both_backends!(
    bad_steps,
    bad_steps_and_extensions_are_refused_and_change_nothing
);

async fn an_extension_after_the_due_date_is_too_late(app: TestApp) {
    app.set_now("2025-03-10T12:00:00Z");
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "C", "email": "c@example.fr" }, "received_at": "2025-01-06T10:00:00Z", "profile": "gdpr" }))
        .await;
    // Due Thursday 6 February; today is 10 March.
    assert_eq!(filed["due_on"], "2025-02-06");
    assert_eq!(filed["days_left"], -32);
    let res = app
        .post(
            &format!(
                "/api/v1/requests/{}/extension",
                filed["id"].as_str().expect("id")
            ),
            &json!({ "months": 1, "reason": "late" }),
        )
        .await;
    assert_problem(&res, 409, "2025-02-06");
}
on_both_backends!(late_extension, an_extension_after_the_due_date_is_too_late);
