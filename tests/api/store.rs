//! The store on both backends: every down.sql undoes its up.sql.

use dsar::store::audit::ChainStatus;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn migrations_revert_and_apply_again(app: TestApp) {
    let mut conn = app.state.pool.get().expect("connection");
    let reverted = dsar::store::revert_all(&mut conn).expect("down.sql runs");
    assert!(reverted > 0);
    assert!(!dsar::store::migrations_applied(&mut conn).expect("check"));
    let applied = dsar::store::migrate(&mut conn).expect("up.sql runs again");
    assert_eq!(applied.len(), reverted);
    assert!(dsar::store::migrations_applied(&mut conn).expect("check"));
}
on_both_backends!(migrations, migrations_revert_and_apply_again);

/// Entries appended by concurrent transactions are all sealed once, in one unbroken chain,
/// even with two sealers at work; a changed or removed entry is then named.
async fn the_audit_chain_survives_concurrency_and_shows_tampering(app: TestApp) {
    // What start-up wrote (the first administrator's invitation) is sealed first.
    let before = {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::audit::seal_all(&mut conn).expect("seal") as u64
    };
    let mut filings = Vec::new();
    let client = &app;
    for i in 0..40 {
        let body = serde_json::json!({ "kind": "access", "requester": { "name": "P", "email": format!("p{i}@example.org") } });
        filings.push(async move { client.post("/api/v1/requests", &body).await.status.as_u16() });
    }
    let statuses = futures_util::future::join_all(filings).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");

    let sealers: Vec<_> = (0..2)
        .map(|_| {
            let state = app.state.clone();
            std::thread::spawn(move || {
                let mut conn = state.pool.get().expect("conn");
                dsar::store::audit::seal_all(&mut conn).expect("seal")
            })
        })
        .collect();
    let sealed: usize = sealers.into_iter().map(|t| t.join().expect("sealer")).sum();
    assert_eq!(sealed, 40, "each entry sealed exactly once");
    let mut conn = app.state.pool.get().expect("conn");
    assert_eq!(
        dsar::store::audit::verify(&mut conn).expect("verify"),
        ChainStatus::Intact {
            entries: 40 + before,
            unsealed: 0
        }
    );

    use diesel::prelude::*;
    use dsar::store::schema::audit_log;
    let ids: Vec<i64> = audit_log::table
        .order(audit_log::seq.asc())
        .select(audit_log::id)
        .load(&mut *conn)
        .expect("ids");
    diesel::update(audit_log::table.find(ids[10]))
        .set(audit_log::details.eq("{}"))
        .execute(&mut *conn)
        .expect("tamper");
    match dsar::store::audit::verify(&mut conn).expect("verify") {
        ChainStatus::Broken { id, checked, .. } => assert_eq!((id, checked), (ids[10], 10)),
        other => panic!("tampering not found: {other:?}"),
    }
    diesel::delete(audit_log::table.find(ids[10]))
        .execute(&mut *conn)
        .expect("remove");
    match dsar::store::audit::verify(&mut conn).expect("verify") {
        ChainStatus::Broken { id, reason, .. } => {
            assert_eq!(id, ids[11]);
            assert!(reason.contains("missing"), "{reason}");
        }
        other => panic!("removal not found: {other:?}"),
    }
}
on_both_backends!(
    audit_chain,
    the_audit_chain_survives_concurrency_and_shows_tampering
);

/// A word the code never writes (a row edited by hand, a downgrade) is an error that says
/// which vocabulary and which word, never a silent default: the API answers 500 for that
/// request, the store names the value, and other requests are untouched.
async fn an_unknown_word_in_a_row_is_an_error_not_a_default(app: TestApp) {
    use diesel::prelude::*;
    use dsar::store::schema::requests;
    let bad = app
        .file(serde_json::json!({ "kind": "erasure", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let good = app
        .file(serde_json::json!({ "kind": "access", "requester": { "name": "B", "email": "b@example.org" } }))
        .await;
    let mut conn = app.state.pool.get().expect("conn");
    let id: i64 = requests::table
        .filter(requests::uuid.eq(bad["id"].as_str().expect("id")))
        .select(requests::id)
        .first(&mut conn)
        .expect("row");
    diesel::update(requests::table.find(id))
        .set(requests::kind.eq("fax"))
        .execute(&mut conn)
        .expect("update");
    let error = dsar::store::requests::get(&mut conn, id).expect_err("not a kind");
    assert!(
        error.to_string().contains("unknown kind \"fax\""),
        "{error}"
    );
    diesel::update(requests::table.find(id))
        .set((requests::kind.eq("erasure"), requests::language.eq("de")))
        .execute(&mut conn)
        .expect("update");
    let error = dsar::store::requests::get(&mut conn, id).expect_err("not a language");
    assert!(
        error.to_string().contains("unknown language \"de\""),
        "{error}"
    );
    drop(conn);
    let shown = app
        .get(&format!(
            "/api/v1/requests/{}",
            bad["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(shown.status.as_u16(), 500, "{:?}", shown.body);
    let other = app
        .get(&format!(
            "/api/v1/requests/{}",
            good["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(other.status.as_u16(), 200, "{:?}", other.body);
    assert_eq!(other.body["kind"], "access");
}
on_both_backends!(
    unknown_words,
    an_unknown_word_in_a_row_is_an_error_not_a_default
);

fn insert_request(
    conn: &mut dsar::store::DbConn,
    status: &str,
    email: &str,
    closed_at: Option<chrono::NaiveDateTime>,
) -> i64 {
    use dsar::store::requests::{self, NewRequest, RequestChanges};
    let at = chrono::NaiveDate::from_ymd_opt(2025, 3, 3)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("date");
    let uuid = dsar::crypto::random_token();
    let row = requests::insert(
        conn,
        &NewRequest {
            uuid: &uuid,
            ref_year: 2025,
            kind: "access",
            status,
            profile: "default",
            channel: "api",
            language: "en",
            // Anonymised, a row names no one: neither name nor address (a request filed from
            // a letter may have no address from the start).
            requester_name: if email.is_empty() { "" } else { "P" },
            requester_email: email,
            customer_ref: None,
            details: "",
            received_at: at,
            received_on: at.date(),
            due_on: at.date(),
            created_by: "tests",
            created_at: at,
            country: None,
            representative: false,
            form: "{}",
            duplicate_of: None,
            subject_name: None,
            subject_email: None,
            subject_customer_ref: None,
            acting: "self",
            subject_birth_date: None,
        },
    )
    .expect("insert");
    if closed_at.is_some() {
        requests::update(
            conn,
            row.id,
            &RequestChanges {
                closed_at: Some(closed_at),
                ..Default::default()
            },
        )
        .expect("close");
    }
    row.id
}

/// The follow-up's and the purge's pages walk by id: none skipped, none read twice, and only
/// the rows each is about.
async fn sweeps_page_by_id(app: TestApp) {
    use dsar::store::requests;
    let mut conn = app.state.pool.get().expect("conn");
    let closed = chrono::NaiveDate::from_ymd_opt(2025, 4, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date");
    let new = insert_request(&mut conn, "new", "a@example.org", None);
    insert_request(&mut conn, "in_progress", "b@example.org", None);
    let held = insert_request(&mut conn, "on_hold", "c@example.org", None);
    let old = insert_request(&mut conn, "fulfilled", "d@example.org", Some(closed));
    // Closed as long ago, anonymised already.
    insert_request(&mut conn, "fulfilled", "", Some(closed));
    let late = insert_request(&mut conn, "new", "e@example.org", None);

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = requests::waiting_for_requester(&mut conn, after, 2).expect("page");
        let Some(last) = page.last() else { break };
        after = last.id;
        seen.extend(page.iter().map(|w| (w.id, w.status.to_string())));
    }
    assert_eq!(
        seen,
        [
            (new, "new".to_string()),
            (held, "on_hold".to_string()),
            (late, "new".to_string())
        ]
    );

    let cutoff = closed + chrono::Duration::seconds(1);
    assert_eq!(
        requests::closed_before_not_anonymised(&mut conn, cutoff, 10).expect("due"),
        [old]
    );
    assert!(
        requests::closed_before_not_anonymised(&mut conn, closed, 10)
            .expect("due")
            .is_empty(),
        "closed at the cutoff is not before it"
    );
    assert_eq!(
        requests::anonymise(&mut conn, &[old]).expect("anonymise"),
        1
    );
    assert!(
        requests::closed_before_not_anonymised(&mut conn, cutoff, 10)
            .expect("due")
            .is_empty(),
        "anonymised once"
    );
    let row = requests::get(&mut conn, old).expect("row");
    assert_eq!(
        (row.requester_name.as_str(), row.requester_email.as_str()),
        ("", "")
    );
}
on_both_backends!(sweep_pages, sweeps_page_by_id);

/// The register pages through a range in order of receipt: every request of the range once,
/// in order, with pages that end inside a day and days of one request or of many.
async fn register_pages_list_every_request_once_in_order(app: TestApp) {
    use diesel::prelude::*;
    use dsar::store::schema::requests;
    let mut conn = app.state.pool.get().expect("conn");
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2025, 3, d).expect("day");
    // Days given out of order, so ids and days do not rise together.
    let days = [
        5, 3, 5, 4, 3, 5, 3, 5, 2, 6, 5, 3, 5, 5, 3, 4, 5, 3, 5, 3, 5, 5, 3,
    ];
    let mut filed = Vec::new();
    for d in days {
        let id = insert_request(&mut conn, "new", "a@example.org", None);
        diesel::update(requests::table.find(id))
            .set(requests::received_on.eq(day(d)))
            .execute(&mut *conn)
            .expect("day");
        filed.push((day(d), id));
    }
    // From the 3rd to before the 6th: the 2nd and the 6th are outside.
    let mut expected: Vec<_> = filed
        .iter()
        .filter(|(d, _)| *d >= day(3) && *d < day(6))
        .copied()
        .collect();
    expected.sort();
    for limit in [1, 4, 5, 100] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = dsar::store::reports::register_page(&mut conn, day(3), day(6), after, limit)
                .expect("page");
            seen.extend(page.iter().map(|r| (r.received_on, r.id)));
            if (page.len() as i64) < limit {
                break;
            }
            after = page.last().map(|r| (r.received_on, r.id));
        }
        assert_eq!(seen, expected, "pages of {limit}");
    }
}

on_both_backends!(
    register_pages,
    register_pages_list_every_request_once_in_order
);
