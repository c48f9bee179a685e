#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The deadline sweep with a million open requests: loads them with their reminder rows
//! (next reminder days spread over two years, so about one in 731 is due on the day swept;
//! their due dates spread from a week overdue to five weeks ahead), 20 handlers and 2 DPOs,
//! then times one sweep, and a second one the same day, which finds nothing left to do.
//!
//!   cargo bench --bench sweep                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench sweep
//!   options: DSAR_BENCH_ROWS (1000000)

mod common;

use std::time::Instant;

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::{QueryDsl, RunQueryDsl};

use dsar::app::{Application, Options};
use dsar::store::DbConn;

const TODAY: &str = "2027-03-01";

/// Two statements: `rows` open requests, then one reminder row each. Users 1–20 are the
/// handlers (4 requests in 5 assigned), 21–22 the DPOs.
fn load(conn: &mut DbConn, rows: u64) {
    let (series, received, next_on, uuid) = match conn {
        DbConn::Sqlite(_) => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})"
            ),
            format!("date('{TODAY}', '-70 days', '+' || ((i / 730) % 40) || ' days')"),
            format!("date('{TODAY}', '+' || (id % 731) || ' days')"),
            "lower(hex(randomblob(16)))",
        ),
        DbConn::Postgres(_) => (
            format!("WITH n(i) AS (SELECT generate_series(1, {rows}))"),
            format!("DATE '{TODAY}' - 70 + ((i / 730) % 40)::int"),
            format!("DATE '{TODAY}' + (id % 731)::int"),
            "md5(i::text)",
        ),
    };
    // The stored due date only orders the queue; the sweep computes the real one from the
    // day of receipt, so it is left rough here.
    let sql = format!(
        "{series}
         INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language, requester_name, requester_email,
                               details, received_at, received_on, due_on, created_by, created_at, form, assignee_id)
         SELECT {uuid}, 2027,
                CASE i % 7 WHEN 0 THEN 'access' WHEN 1 THEN 'erasure' WHEN 2 THEN 'rectification' WHEN 3 THEN 'objection'
                           WHEN 4 THEN 'portability' WHEN 5 THEN 'restriction' ELSE 'consent_withdrawal' END,
                CASE i % 2 WHEN 0 THEN 'in_progress' ELSE 'verifying' END,
                CASE i % 3 WHEN 0 THEN 'gdpr' ELSE 'two-months' END, 'web', 'fr', 'Personne ' || i, 'p' || i || '@example.org', '',
                TIMESTAMP '2027-01-01 10:00:00', {received}, {received}, 'bench', TIMESTAMP '2027-01-01 10:00:00', '{{}}',
                CASE WHEN i % 5 = 0 THEN NULL ELSE 1 + i % 20 END
         FROM n;
         INSERT INTO request_reminders (request_id, next_on) SELECT id, {next_on} FROM requests;"
    );
    let sql = match conn {
        DbConn::Sqlite(_) => {
            sql.replace("TIMESTAMP '2027-01-01 10:00:00'", "'2027-01-01 10:00:00'")
        }
        DbConn::Postgres(_) => sql,
    };
    conn.batch_execute(&sql).expect("load rows");
    // One statement per call: PostgreSQL runs a multi-statement batch in one transaction,
    // where VACUUM is refused.
    let analyze: &[&str] = match conn {
        DbConn::Sqlite(_) => &["ANALYZE"],
        DbConn::Postgres(_) => &[
            "VACUUM ANALYZE requests",
            "VACUUM ANALYZE request_reminders",
        ],
    };
    for statement in analyze {
        conn.batch_execute(statement).expect("analyze");
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rows: u64 = common::env_or("DSAR_BENCH_ROWS", 1_000_000);
    let dir = tempfile::tempdir().expect("dir");
    let db = common::database(&dir, "sweep");
    let settings = common::settings(&db.url, dir.path());
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, Options { worker: false }).expect("app");
        let state = application.state();
        let started = Instant::now();
        {
            let mut conn = state.pool.get().expect("conn");
            for (n, role) in (1..=22).map(|n| {
                let role = if n <= 20 {
                    dsar::staff::Role::Handler
                } else {
                    dsar::staff::Role::Dpo
                };
                (n, role)
            }) {
                dsar::staff::add_user(
                    &mut conn,
                    &format!("staff{n}@example.org"),
                    &format!("Staff {n}"),
                    role,
                    "bench",
                    state.clock.now(),
                )
                .expect("user");
            }
            load(&mut conn, rows);
        }
        println!(
            "sweep benchmark: {:?} backend, {rows} open requests with reminder rows loaded in {:.1} s",
            state.backend,
            started.elapsed().as_secs_f64()
        );
        let today: NaiveDate = TODAY.parse().expect("date");
        let due: i64 = {
            use dsar::store::schema::request_reminders;
            use diesel::ExpressionMethods;
            let mut conn = state.pool.get().expect("conn");
            request_reminders::table
                .filter(request_reminders::next_on.le(today))
                .count()
                .get_result(&mut *conn)
                .expect("count")
        };
        for label in ["first sweep of the day", "second sweep, same day"] {
            let t = Instant::now();
            let counts = dsar::worker::reminders::sweep(&state, today).expect("sweep");
            println!(
                "{label:<24} {:>8.1} ms   looked at {} of {rows} (due: {due}), {} reached a threshold, {} overdue, {} digest mails",
                t.elapsed().as_secs_f64() * 1000.0,
                counts.looked_at,
                counts.coming_due,
                counts.overdue,
                counts.mails
            );
        }
    });
    db.drop_database();
}
