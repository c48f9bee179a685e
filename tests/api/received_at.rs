//! When a request was received, as another system gives it: a letter of last week or last
//! year is fine, a clock running a little fast is forgiven, a date before the GDPR applied or
//! in the future is a 422 naming `received_at`.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;

fn filing(received_at: &str) -> serde_json::Value {
    json!({
        "kind": "access",
        "requester": { "name": "Camille Martin", "email": "camille@example.fr" },
        "received_at": received_at,
        "channel": "post"
    })
}

async fn a_receipt_date_must_be_plausible(app: TestApp) {
    app.set_now("2025-03-10T12:00:00Z");
    for (given, said) in [
        ("0000-03-01T00:00:00Z", "before 2018-05-25"),
        ("1582-10-15T00:00:00Z", "before 2018-05-25"),
        ("2015-03-03T09:00:00+01:00", "check the year"),
        ("2018-05-24T12:00:00Z", "GDPR became applicable"),
        ("2025-03-10T12:06:00Z", "in the future"),
        ("2052-03-10T09:00:00Z", "in the future"),
    ] {
        let res = app.post("/api/v1/requests", &filing(given)).await;
        assert_problem(&res, 422, said);
        assert_eq!(res.body["errors"][0]["field"], "received_at", "{given}");
    }
    let (n, _, _) = app.counts();
    assert_eq!(n, 0, "nothing was filed");

    // A letter received last week, one from 2019, a clock two minutes fast: all filed.
    for (given, received_on) in [
        ("2025-03-03T09:00:00+01:00", "2025-03-03"),
        ("2019-06-12T10:00:00Z", "2019-06-12"),
        ("2025-03-10T12:02:00Z", "2025-03-10"),
    ] {
        let res = app.post("/api/v1/requests", &filing(given)).await;
        assert_eq!(res.status.as_u16(), 201, "{given}: {:?}", res.body);
        assert_eq!(res.body["received_on"], received_on);
    }
    // Ahead of our clock is taken as now: no step can be recorded before the receipt.
    let ahead = app
        .post("/api/v1/requests", &filing("2025-03-10T12:04:00Z"))
        .await;
    let received = ahead.body["received_at"].as_str().expect("received_at");
    assert!(
        ("2025-03-10T12:00:00Z".."2025-03-10T12:01:00Z").contains(&received),
        "{received}"
    );
}
on_both_backends!(received_at_window, a_receipt_date_must_be_plausible);
