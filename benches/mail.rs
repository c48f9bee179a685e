#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Mail at the hardware's pace: N mails queued in the outbox as the product queues them (one
//! transaction each: the outbox row and its job), then ONE worker sends them all through the
//! real SMTP transport to a loopback SMTP server in this file, timed from its first claim to
//! its last "250 OK". The sink counts messages and connections, so a transport that opens a
//! connection per mail shows.
//!
//!   cargo bench --bench mail                       # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench mail
//!   options: DSAR_BENCH_MAILS (5000)

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use dsar::clock::Clock;
use dsar::mail::StaffMail;

/// Speaks just enough SMTP for lettre; one thread per connection, as a real server would.
struct Sink {
    port: u16,
    messages: Arc<AtomicU64>,
    connections: Arc<AtomicU64>,
}

impl Sink {
    fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        let port = listener.local_addr().expect("address").port();
        let messages = Arc::new(AtomicU64::new(0));
        let connections = Arc::new(AtomicU64::new(0));
        let (m, c) = (messages.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                c.fetch_add(1, Ordering::Relaxed);
                let m = m.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &m);
                });
            }
        });
        Sink {
            port,
            messages,
            connections,
        }
    }
}

fn converse(stream: TcpStream, messages: &AtomicU64) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink.bench ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250 sink.bench\r\n")?,
            "DATA" => {
                out.write_all(b"354 go on\r\n")?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                messages.fetch_add(1, Ordering::Relaxed);
                out.write_all(b"250 OK queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"250 OK\r\n")?,
        }
    }
}

fn main() {
    let mails: u64 = common::env_or("DSAR_BENCH_MAILS", 5000);
    let sink = Sink::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::database(&dir, "mail");
    let mut settings = common::settings(&db.url, dir.path());
    settings.mail.smtp_url = format!("smtp://127.0.0.1:{}", sink.port);
    let backend = if db.url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let state = dsar::app::prepare(settings, Clock::default()).expect("the state");

    let queued_in = {
        let mut conn = state.pool.get().expect("conn");
        let now = state.clock.now_naive();
        let started = Instant::now();
        for i in 0..mails {
            dsar::mail::queue_staff(
                &mut conn,
                &StaffMail::PasswordReset {
                    name: "Dana Lefèvre",
                    link: "https://dsar.example.org/admin/password/0123456789abcdef",
                },
                &format!("staff{i}@example.org"),
                dsar::i18n::Lang::Fr,
                "Exemple SAS",
                now,
            )
            .expect("queued");
        }
        started.elapsed()
    };

    let worker = dsar::worker::standard(Arc::clone(&state)).expect("the worker");
    let started = Instant::now();
    while worker.run_once().expect("the worker reaches the database") {}
    let sent_in = started.elapsed();
    let sent = sink.messages.load(Ordering::Relaxed);
    assert_eq!(sent, mails, "every mail reached the sink once");

    println!(
        "| backend | mails | queued per second | sent per second (one worker) | SMTP connections |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {backend} | {mails} | {:.0} | {:.0} | {} |",
        mails as f64 / queued_in.as_secs_f64(),
        mails as f64 / sent_in.as_secs_f64(),
        sink.connections.load(Ordering::Relaxed)
    );
    drop(worker);
    drop(state);
    db.drop_database();
}
