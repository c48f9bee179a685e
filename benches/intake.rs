#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Intake throughput: `POST /api/v1/requests` under 64 concurrent clients, next to a
//! baseline handler that does one bare INSERT of the same row through the same store (the
//! floor of the work). Prints requests/s, p50 and p99 for both, and their ratio. On
//! PostgreSQL it then runs intake on one node and on two nodes sharing one database, the
//! clients spread over both (the nodes are two servers in this process, each with its own
//! pool and actix workers, as two `dsar serve --no-worker` would have).
//!
//!   cargo bench --bench intake                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench intake
//!   options: DSAR_BENCH_SECONDS (10), DSAR_BENCH_CONNECTIONS (64),
//!   DSAR_BENCH_WITHOUT_REPORT_COUNTS=1 (the reports' triggers off: what they cost),
//!   DSAR_DATABASE__SQLITE_GROUP_COMMIT=false (each SQLite filing in a transaction of its
//!   own, as before group commit; the baseline always is)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};

use dsar::app::{Application, Options};
use dsar::state::AppState;
use dsar::store::requests::{NewRequest, insert};

struct Run {
    label: &'static str,
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }

    fn print(&self) {
        println!(
            "{:<10} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors, {:.1} s)",
            self.label,
            self.rate(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.requests,
            self.errors,
            self.elapsed.as_secs_f64()
        );
    }
}

const BODY: &str = r#"{"kind":"access","requester":{"name":"Camille Martin","email":"camille.martin@example.fr"},"details":"Une copie de toutes mes données","channel":"post"}"#;

/// The floor: parse the same body, insert the same row, answer 201. No validation, no
/// deadline, no timeline, no audit.
async fn baseline(
    state: web::Data<Arc<AppState>>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    let name = body["requester"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let email = body["requester"]["email"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let details = body["details"].as_str().unwrap_or_default().to_string();
    let state = Arc::clone(state.get_ref());
    let inserted = web::block(move || {
        let mut conn = state.pool.get().map_err(|e| e.to_string())?;
        let now = state.clock.now_naive();
        let uuid = uuid::Uuid::new_v4().to_string();
        dsar::store::write_tx(&mut conn, |conn| {
            insert(
                conn,
                &NewRequest {
                    uuid: &uuid,
                    ref_year: 2026,
                    kind: "access",
                    status: "verifying",
                    profile: "two-months",
                    channel: "post",
                    language: "fr",
                    requester_name: &name,
                    requester_email: &email,
                    customer_ref: None,
                    details: &details,
                    received_at: now,
                    received_on: now.date(),
                    due_on: now.date(),
                    created_by: "bench",
                    created_at: now,
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
        })
        .map_err(|e: diesel::result::Error| e.to_string())
    })
    .await;
    match inserted {
        Ok(Ok(row)) => HttpResponse::Created().json(serde_json::json!({ "id": row.uuid })),
        _ => HttpResponse::InternalServerError().finish(),
    }
}

/// Drives `urls` with `connections` clients for `seconds` from a thread of its own; client
/// `i` posts to `urls[i % urls.len()]`.
fn load(
    label: &'static str,
    urls: Vec<String>,
    key: String,
    connections: usize,
    seconds: u64,
) -> Run {
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let client = awc::Client::builder()
                .connector(awc::Connector::new().limit(connections))
                .timeout(Duration::from_secs(30))
                .finish();
            let errors = Arc::new(AtomicU64::new(0));
            let fire = |client: awc::Client, url: String, key: String| async move {
                client
                    .post(url)
                    .insert_header(("Authorization", format!("Bearer {key}")))
                    .insert_header(("Content-Type", "application/json"))
                    .send_body(BODY)
                    .await
                    .map(|r| r.status().as_u16() == 201)
                    .unwrap_or(false)
            };
            // Warm-up: open the connections and fill the pool.
            let warm_until = Instant::now() + Duration::from_secs(2);
            let mut warm = Vec::new();
            for i in 0..connections {
                let (c, u, k) = (client.clone(), urls[i % urls.len()].clone(), key.clone());
                warm.push(actix_web::rt::spawn(async move {
                    while Instant::now() < warm_until {
                        fire(c.clone(), u.clone(), k.clone()).await;
                    }
                }));
            }
            for w in warm {
                let _ = w.await;
            }
            let start = Instant::now();
            let until = start + Duration::from_secs(seconds);
            let mut tasks = Vec::new();
            for i in 0..connections {
                let (c, u, k, errs) = (
                    client.clone(),
                    urls[i % urls.len()].clone(),
                    key.clone(),
                    Arc::clone(&errors),
                );
                tasks.push(actix_web::rt::spawn(async move {
                    let mut lat = Vec::new();
                    while Instant::now() < until {
                        let t = Instant::now();
                        if fire(c.clone(), u.clone(), k.clone()).await {
                            lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        } else {
                            errs.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    lat
                }));
            }
            let mut latencies_us = Vec::new();
            for t in tasks {
                latencies_us.extend(t.await.unwrap_or_default());
            }
            let elapsed = start.elapsed();
            latencies_us.sort_unstable();
            Run {
                label,
                requests: latencies_us.len() as u64,
                errors: errors.load(Ordering::Relaxed),
                elapsed,
                latencies_us,
            }
        })
    })
    .join()
    .expect("load thread")
}

fn main() {
    // `cargo bench` passes --bench; anything else (e.g. `cargo test --benches`) only checks it builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let seconds: u64 = common::env_or("DSAR_BENCH_SECONDS", 10);
    let connections: usize = common::env_or("DSAR_BENCH_CONNECTIONS", 64);
    let dir = tempfile::tempdir().expect("dir");
    let backend = if std::env::var("DSAR_BENCH_POSTGRES_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "intake benchmark: {backend}, {connections} connections, {seconds} s per run, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    // Baseline: its own server on its own database.
    let base_db = common::database(&dir, "baseline");
    let intake_db = common::database(&dir, "intake");
    let base = actix_web::rt::System::new().block_on(async {
        let state = dsar::app::prepare(
            common::settings(&base_db.url, dir.path()),
            Default::default(),
        )
        .expect("store");
        common::report_counts_off_if_asked(&mut state.pool.get().expect("conn"));
        let data = web::Data::new(Arc::clone(&state));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/baseline", web::post().to(baseline))
        })
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let run = actix_web::rt::task::spawn_blocking(move || {
            load(
                "baseline",
                vec![format!("http://127.0.0.1:{port}/baseline")],
                String::new(),
                connections,
                seconds,
            )
        })
        .await
        .expect("run");
        handle.stop(true).await;
        run
    });
    base.print();

    let intake = actix_web::rt::System::new().block_on(async {
        let application = Application::build(
            common::settings(&intake_db.url, dir.path()),
            Options { worker: false },
        )
        .expect("app");
        let port = application.port();
        let state = application.state();
        let key = {
            let mut conn = state.pool.get().expect("conn");
            common::report_counts_off_if_asked(&mut conn);
            dsar::staff::api_keys::create_key(&mut conn, "bench", state.clock.now_naive())
                .expect("key")
                .0
        };
        actix_web::rt::spawn(application.run_until_stopped());
        actix_web::rt::task::spawn_blocking(move || {
            load(
                "intake",
                vec![format!("http://127.0.0.1:{port}/api/v1/requests")],
                key,
                connections,
                seconds,
            )
        })
        .await
        .expect("run")
    });
    intake.print();
    println!("intake / baseline = {:.2}", intake.rate() / base.rate());
    base_db.drop_database();
    intake_db.drop_database();

    if backend == "PostgreSQL" {
        let nodes_db = common::database(&dir, "nodes");
        let (one, two) = nodes(&nodes_db.url, dir.path(), connections, seconds);
        one.print();
        two.print();
        println!("2 nodes / 1 node = {:.2}", two.rate() / one.rate());
        nodes_db.drop_database();
    }
}

/// Intake on one node, then on two nodes sharing the database at `url`, the same clients
/// spread over both. The first node's rows stay: the second run starts on a fuller table,
/// as a node added to a running service does.
fn nodes(url: &str, dir: &std::path::Path, connections: usize, seconds: u64) -> (Run, Run) {
    actix_web::rt::System::new().block_on(async {
        let start = || {
            let application =
                Application::build(common::settings(url, dir), Options { worker: false })
                    .expect("node");
            let port = application.port();
            let state = application.state();
            actix_web::rt::spawn(application.run_until_stopped());
            (format!("http://127.0.0.1:{port}/api/v1/requests"), state)
        };
        let (first, state) = start();
        let key = {
            let mut conn = state.pool.get().expect("conn");
            dsar::staff::api_keys::create_key(&mut conn, "bench", state.clock.now_naive())
                .expect("key")
                .0
        };
        let (urls, k) = (vec![first.clone()], key.clone());
        let one = actix_web::rt::task::spawn_blocking(move || {
            load("1 node", urls, k, connections, seconds)
        })
        .await
        .expect("run");
        let (second, _) = start();
        let two = actix_web::rt::task::spawn_blocking(move || {
            load("2 nodes", vec![first, second], key, connections, seconds)
        })
        .await
        .expect("run");
        (one, two)
    })
}
