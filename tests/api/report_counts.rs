//! The Reports page's figures come from counts the database keeps current (`report_counts`);
//! after a random history of filings, steps, extensions, anonymisation, a previous
//! release's unstamped answers and deletions, they equal a count over every request, for
//! every range of months asked, on both engines.
//!
//! The history is drawn from a seed printed at the start; `DSAR_TEST_SEED=N` replays one.

use chrono::{Datelike, Duration, Months, NaiveDate};
use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

/// splitmix64: enough to draw a history, and the same on every machine for a seed.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const KINDS: [&str; 7] = [
    "access",
    "erasure",
    "rectification",
    "objection",
    "portability",
    "restriction",
    "consent_withdrawal",
];

/// Every range of whole months over the history (and one before it), each compared.
fn compare_all(app: &TestApp, first: NaiveDate, last: NaiveDate, seed: u64, when: &str) {
    let mut conn = app.state.pool.get().expect("conn");
    let today = app.state.law.today(app.state.clock.now());
    let mut months = Vec::new();
    let mut m = first;
    while m <= last {
        months.push(m);
        m = m + Months::new(1);
    }
    let mut compared = 0;
    for (i, &from) in months.iter().enumerate() {
        for &to in &months[i..] {
            let until = to + Months::new(1);
            let kept = dsar::workflow::reports::figures(&mut conn, from, until, today)
                .expect("kept counts");
            let recount =
                dsar::workflow::reports::recount(&mut conn, &app.state.law, from, until, today)
                    .expect("recount");
            assert_eq!(
                kept, recount,
                "seed {seed}, {when}: the counts for {from}..{until} differ from a recount"
            );
            compared += 1;
        }
    }
    assert!(compared > 0);
}

async fn counts_equal_a_recount_after_a_random_history(app: TestApp) {
    let seed = std::env::var("DSAR_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("report_counts: DSAR_TEST_SEED={seed}");
    let mut draw = Draw(seed);
    app.set_now("2025-01-02T08:00:00Z");
    let start = NaiveDate::from_ymd_opt(2024, 12, 1).expect("date");
    let mut filed: Vec<String> = Vec::new();
    let (mut steps_taken, mut refused) = (0, 0);
    for round in 0..400 {
        // Some rounds a few hours apart, some days: month ends and midnights in Paris
        // (closed_at is UTC, the closing day is Paris's) are crossed at random.
        app.state
            .clock
            .advance(Duration::minutes(draw.below(4 * 24 * 60) as i64));
        if filed.is_empty() || draw.below(10) < 4 {
            let now = app.state.clock.now();
            // Received up to 40 days ago (a letter opened late), to the minute.
            let received = now - Duration::minutes(draw.below(40 * 24 * 60) as i64);
            let mut body = json!({
                "kind": draw.pick(&KINDS),
                "requester": { "name": "Personne", "email": format!("p{round}@example.org") },
                "channel": draw.pick(&["web", "email", "post"]),
                "received_at": received.format("%Y-%m-%dT%H:%M:00Z").to_string(),
            });
            if let Some(profile) = draw.pick(&[None, Some("gdpr"), Some("ccpa")]) {
                body["profile"] = json!(profile);
            }
            let res = app.post("/api/v1/requests", &body).await;
            assert_eq!(res.status.as_u16(), 201, "{body}: {:?}", res.body);
            filed.push(res.body["reference"].as_str().expect("reference").into());
            continue;
        }
        let reference = draw.pick(&filed).clone();
        let step: Value = match draw.below(9) {
            0 => json!({ "type": "verify", "method": "id_document" }),
            1 => json!({ "type": "start" }),
            2 => json!({ "type": "hold", "note": "Which account?" }),
            3 => json!({ "type": "resume" }),
            4 | 5 => json!({ "type": "fulfil" }),
            6 => json!({ "type": "reject", "ground": "manifestly_unfounded" }),
            7 => json!({ "type": "withdraw" }),
            _ => {
                let res = app
                    .post(
                        &format!("/api/v1/requests/{reference}/extension"),
                        &json!({ "months": 1, "reason": "Archives on paper" }),
                    )
                    .await;
                if res.status.is_success() {
                    steps_taken += 1;
                } else {
                    refused += 1;
                }
                continue;
            }
        };
        let res = app
            .post(&format!("/api/v1/requests/{reference}/events"), &step)
            .await;
        // A step the request's stage does not allow is refused and changes nothing.
        match res.status.as_u16() {
            200 => steps_taken += 1,
            400..=499 => refused += 1,
            other => panic!("{step}: {other} {:?}", res.body),
        }
        if round % 100 == 99 {
            let last = app.state.law.today(app.state.clock.now());
            compare_all(
                &app,
                start,
                first_of_month(last),
                seed,
                "during the history",
            );
        }
    }
    println!(
        "report_counts: {} filed, {steps_taken} steps, {refused} refused",
        filed.len()
    );
    assert!(
        steps_taken > 20,
        "the history moved requests: {steps_taken}"
    );
    let last = first_of_month(app.state.law.today(app.state.clock.now()));
    compare_all(&app, start, last, seed, "after the history");

    // Five years on, the purge anonymises the closed requests: the figures stay.
    app.state.clock.advance(Duration::days(5 * 366));
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge");
    }
    compare_all(&app, start, last, seed, "after the purge");

    // Answers a previous release's node recorded, without their closing day: left out of
    // the timeliness figures until stamped, then counted again.
    let mut conn = app.state.pool.get().expect("conn");
    let unstamped = diesel::sql_query(
        "UPDATE requests SET closed_on = NULL, on_time = NULL WHERE closed_at IS NOT NULL AND id % 2 = 0",
    )
    .execute(&mut conn)
    .expect("unstamp");
    let stamped = dsar::workflow::reports::stamp_closed(&mut conn, &app.state.law).expect("stamp");
    assert_eq!(stamped, unstamped);
    drop(conn);
    compare_all(&app, start, last, seed, "after stamping");

    // Rows deleted by hand (an operator's cleanup) leave the counts too.
    let mut conn = app.state.pool.get().expect("conn");
    let deleted = diesel::sql_query("DELETE FROM requests WHERE id % 3 = 0")
        .execute(&mut conn)
        .expect("delete");
    assert!(deleted > 0);
    drop(conn);
    compare_all(&app, start, last, seed, "after deletions");

    // Counted again from scratch (`dsar reports rebuild`): the same figures.
    let mut conn = app.state.pool.get().expect("conn");
    dsar::workflow::reports::rebuild(&mut conn, &app.state.law).expect("rebuild");
    drop(conn);
    compare_all(&app, start, last, seed, "after a rebuild");
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("first of month")
}

on_both_backends!(
    kept_counts_equal_a_recount,
    counts_equal_a_recount_after_a_random_history
);
