//! Mail through the durable outbox: queued in a transaction, sent by the worker as a
//! multipart/alternative message, once; kept and retried while SMTP is down.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;

use dsar::mail::{self, MailError, MailFacts, MailKind};
use dsar::store::outbox::{self, OutboxRow};
use dsar::store::schema::{jobs, mail_outbox};
use dsar::store::{jobs as job_queue, write_tx};

use crate::eml::Eml;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::on_both_backends;
use crate::smtp_sink::{SmtpSink, free_port};

fn facts<'a>(lang: &'a str, to: &'a str, link: Option<&'a str>) -> MailFacts<'a> {
    MailFacts {
        lang,
        to,
        organisation: "Exemple SAS",
        dpo_email: "dpo@example.org",
        reference: "DSAR-2026-000123",
        kind_label: if lang == "fr" {
            "droit d'accès"
        } else {
            "right of access"
        },
        link,
        due_on: NaiveDate::from_ymd_opt(2027, 1, 29),
        clock_stopped: false,
        note: None,
        ground: None,
        amount: None,
        on_behalf: None,
    }
}

/// Queues mails the way a workflow step does: inside one write transaction.
fn queue_all(app: &TestApp, mails: &[(MailKind, MailFacts<'_>)]) -> Vec<i64> {
    let now = app.state.clock.now_naive();
    let mut conn = app.state.pool.get().expect("connection");
    write_tx(&mut conn, |conn| -> Result<Vec<i64>, MailError> {
        mails
            .iter()
            .map(|(kind, facts)| mail::queue(conn, *kind, facts, None, now))
            .collect()
    })
    .expect("mails queued")
}

fn outbox_row(app: &TestApp, id: i64) -> OutboxRow {
    let mut conn = app.state.pool.get().expect("connection");
    outbox::find(&mut conn, id)
        .expect("query")
        .expect("outbox row")
}

fn eml_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let dir = &app.state.settings.mail.outbox_dir;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect()
}

/// Runs the worker until no job is due; returns how many jobs ran.
fn run_worker_until_idle(app: &TestApp) -> usize {
    let worker = dsar::worker::standard(app.state.clone()).expect("the worker starts");
    let mut ran = 0;
    while worker.run_once().expect("worker reaches the store") {
        ran += 1;
        assert!(ran < 100, "the worker never ran out of jobs");
    }
    ran
}

/// Enqueues another `send_mail` job for an outbox row, as a job that runs twice would.
fn enqueue_again(app: &TestApp, outbox_id: i64) {
    let now = app.state.clock.now_naive();
    let mut conn = app.state.pool.get().expect("connection");
    let payload = serde_json::json!({ "outbox_id": outbox_id }).to_string();
    job_queue::enqueue(&mut conn, "send_mail", &payload, now, None, now).expect("enqueue");
}

const LINK_FR: &str = "https://privacy.example.org/confirmer?jeton=fr-0123456789abcdef";
const LINK_EN: &str = "https://privacy.example.org/confirm?token=en-0123456789abcdef";

async fn a_queued_mail_is_written_once_as_a_multipart_eml(app: TestApp) {
    let ids = queue_all(
        &app,
        &[
            (
                MailKind::Confirm,
                facts("fr", "camille@example.fr", Some(LINK_FR)),
            ),
            (
                MailKind::Confirm,
                facts("en", "alex@example.com", Some(LINK_EN)),
            ),
        ],
    );
    assert!(eml_files(&app).is_empty(), "nothing is sent at queue time");

    let worker = dsar::worker::standard(app.state.clone()).expect("the worker starts");
    assert!(worker.run_once().expect("run"));
    assert!(worker.run_once().expect("run"));
    assert!(
        !worker.run_once().expect("run"),
        "a second pass sends nothing more"
    );
    assert_eq!(eml_files(&app).len(), 2);

    let cases = [
        (
            ids[0],
            "camille@example.fr",
            LINK_FR,
            "Bonjour,",
            "confirmez votre adresse e-mail",
            "Délégué à la protection des données",
            "Hello",
        ),
        (
            ids[1],
            "alex@example.com",
            LINK_EN,
            "Hello,",
            "confirm your email address",
            "Data protection officer",
            "Bonjour",
        ),
    ];
    for (id, to, link, greeting, ask, dpo, other_language) in cases {
        let row = outbox_row(&app, id);
        assert!(row.sent_at.is_some(), "outbox row {id} is marked sent");
        assert_eq!(row.attempts, 1);
        assert!(
            row.message_id.ends_with("@127.0.0.1"),
            "Message-ID takes the host of organisation.base_url: {}",
            row.message_id
        );
        let path = app
            .state
            .settings
            .mail
            .outbox_dir
            .join(format!("{}.eml", row.message_id));
        let raw = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is written: {e}", path.display()));
        let eml = Eml::parse(&raw);
        assert_eq!(
            eml.header("From"),
            Some("\"Exemple SAS\" <privacy@example.org>")
        );
        assert_eq!(eml.header("To"), Some(to));
        assert_eq!(
            eml.header("Message-ID"),
            Some(format!("<{}>", row.message_id).as_str())
        );
        assert!(eml.header("Date").is_some());
        let subject = eml.subject();
        assert!(subject.contains("DSAR-2026-000123"), "subject {subject:?}");
        assert!(
            subject.contains(ask),
            "subject {subject:?} is in the mail's language"
        );
        assert!(
            eml.header("Content-Type")
                .is_some_and(|t| t.starts_with("multipart/alternative")),
            "{raw}"
        );
        assert_eq!(eml.parts.len(), 2, "a text part and an HTML part");
        let text = eml.part("text/plain");
        let html = eml.part("text/html");
        for body in [text, html] {
            assert!(body.contains(greeting), "{body}");
            assert!(body.contains("DSAR-2026-000123"), "{body}");
            assert!(body.contains("dpo@example.org"), "{body}");
            assert!(body.contains(dpo), "{body}");
            assert!(!body.contains(other_language), "{body}");
        }
        assert!(text.contains(link), "{text}");
        assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
        assert!(html.contains(&format!("<html lang=\"{}\">", &row.language)));
    }

    // A job that runs again for a mail already sent sends nothing.
    for path in eml_files(&app) {
        std::fs::remove_file(path).expect("remove");
    }
    enqueue_again(&app, ids[0]);
    assert_eq!(run_worker_until_idle(&app), 1);
    assert!(
        eml_files(&app).is_empty(),
        "a mail marked sent is not sent again"
    );
}
on_both_backends!(
    queued_mail_is_written_once,
    a_queued_mail_is_written_once_as_a_multipart_eml
);

/// SMTP down: every attempt fails, the mails stay in the outbox with their error and the jobs
/// wait their backoff. SMTP up and the clock past the backoff: each mail arrives once.
async fn smtp_down_then_up(backend: Backend) {
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let Some(app) = try_spawn(
        backend,
        &[
            ("DSAR_MAIL__SMTP_URL", &smtp_url),
            ("DSAR_MAIL__TIMEOUT_SECONDS", "5"),
        ],
    )
    .await
    else {
        return;
    };
    let ids = queue_all(
        &app,
        &[
            (
                MailKind::Confirm,
                facts("fr", "camille@example.fr", Some(LINK_FR)),
            ),
            (MailKind::Received, facts("en", "alex@example.com", None)),
            (
                MailKind::Withdrawn,
                facts("fr", "dominique@example.net", None),
            ),
        ],
    );

    let before = app.state.clock.now_naive();
    assert_eq!(
        run_worker_until_idle(&app),
        3,
        "each job ran once and failed"
    );
    let mut message_ids = Vec::new();
    for &id in &ids {
        let row = outbox_row(&app, id);
        assert!(row.sent_at.is_none());
        assert_eq!(row.attempts, 1);
        let error = row.last_error.as_deref().unwrap_or_default();
        assert!(error.starts_with("SMTP:"), "last_error {error:?}");
        assert!(!error.contains('@'), "no address in {error:?}");
        assert!(row.next_attempt_at > before);
        message_ids.push(row.message_id);
    }
    let waiting: Vec<(String, chrono::NaiveDateTime, i32, Option<String>)> = {
        let mut conn = app.state.pool.get().expect("connection");
        jobs::table
            .filter(jobs::kind.eq("send_mail"))
            .select((jobs::status, jobs::run_at, jobs::attempts, jobs::last_error))
            .load(&mut *conn)
            .expect("jobs")
    };
    assert_eq!(waiting.len(), 3);
    for (status, run_at, attempts, last_error) in waiting {
        assert_eq!(status, "queued", "a failed mail job waits for its retry");
        assert!(run_at > before, "retried later, not at once");
        assert_eq!(attempts, 1);
        assert!(last_error.is_some());
    }

    let sink = SmtpSink::start(port);
    assert_eq!(
        run_worker_until_idle(&app),
        0,
        "nothing is retried before its backoff"
    );
    app.state.clock.advance(Duration::hours(1));
    assert_eq!(run_worker_until_idle(&app), 3);

    let received = sink.messages();
    assert_eq!(received.len(), 3, "every mail arrives once");
    let mut arrived: Vec<String> = received
        .iter()
        .map(|raw| {
            Eml::parse(raw)
                .header("Message-ID")
                .expect("Message-ID")
                .to_string()
        })
        .collect();
    arrived.sort();
    let mut expected: Vec<String> = message_ids.iter().map(|id| format!("<{id}>")).collect();
    expected.sort();
    assert_eq!(arrived, expected, "the Message-ID kept across the retry");
    for &id in &ids {
        let row = outbox_row(&app, id);
        assert!(row.sent_at.is_some());
        assert_eq!(row.attempts, 2);
        assert_eq!(row.last_error, None);
    }
    {
        let mut conn = app.state.pool.get().expect("connection");
        let done: i64 = jobs::table
            .filter(jobs::status.eq("done"))
            .count()
            .get_result(&mut *conn)
            .expect("count");
        assert_eq!(done, 3);
        let unsent: i64 = mail_outbox::table
            .filter(mail_outbox::sent_at.is_null())
            .count()
            .get_result(&mut *conn)
            .expect("count");
        assert_eq!(unsent, 0);
    }

    // A job that runs twice does not send twice.
    enqueue_again(&app, ids[1]);
    assert_eq!(run_worker_until_idle(&app), 1);
    assert_eq!(sink.messages().len(), 3);
}

mod smtp_down_then_up {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        smtp_down_then_up(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        smtp_down_then_up(Backend::Postgres).await;
    }
}

/// Every mail to a requester, in French and English, as the outbox writes it: the answer
/// mails carry the prefilled letter as staff send it, the right is the one whose name has
/// its own parentheses, and the link is longer than a line. Read back from the .eml files:
/// one greeting and one signature in each part, the text part wrapped at 72 columns between
/// words (quoted-printable lines within 76), the team's text in HTML paragraphs, no nested
/// parentheses. Set DSAR_MAIL_DUMP=/some/dir to keep each part there, to read them.
async fn every_mail_reads_well_in_both_parts(app: TestApp) {
    let link = "https://privacy.example.org/fr/r/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let letters: Vec<(&str, String)> = ["fr", "en"]
        .into_iter()
        .map(|lang| {
            let strings = if lang == "fr" {
                dsar::i18n::Lang::Fr.strings()
            } else {
                dsar::i18n::Lang::En.strings()
            };
            let mut letter = strings.fill(
                "letters.erasure_kept",
                &[("name", "Camille Martin"), ("reference", "DSAR-2026-000123")],
            );
            letter.push_str("\n\nConservé :\n- Boutique en ligne: invoices (2 enregistrements) — Code de commerce, art. L123-22, jusqu'au 10 février 2035");
            (lang, letter)
        })
        .collect();
    let mut mails = Vec::new();
    for kind in MailKind::ALL {
        for (lang, letter) in &letters {
            let to = format!("{kind}.{lang}@example.org");
            let mut f = facts(lang, "x@example.org", Some(link));
            f.to = Box::leak(to.into_boxed_str());
            f.kind_label = if *lang == "fr" {
                "droit à l'effacement (« droit à l'oubli »)"
            } else {
                "right to erasure (\"right to be forgotten\")"
            };
            f.note = Some(letter.as_str());
            f.ground = Some("other");
            mails.push((kind, f));
        }
    }
    queue_all(&app, &mails);
    run_worker_until_idle(&app);
    let dump = std::env::var_os("DSAR_MAIL_DUMP").map(std::path::PathBuf::from);
    for (kind, f) in &mails {
        let raw = eml_files(&app)
            .into_iter()
            .map(|p| std::fs::read_to_string(p).expect("eml"))
            .find(|raw| Eml::parse(raw).header("To") == Some(f.to))
            .unwrap_or_else(|| panic!("no mail to {}", f.to));
        // Past the headers, quoted-printable (or 7bit) lines stay within 76 characters.
        let body = raw.split_once("\r\n\r\n").map_or(raw.as_str(), |(_, b)| b);
        for line in body.lines() {
            assert!(
                line.len() <= 78,
                "{kind} {}: raw line over 78: {line}",
                f.lang
            );
        }
        let eml = Eml::parse(&raw);
        let text = eml.part("text/plain");
        let html = eml.part("text/html");
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir).expect("dump dir");
            std::fs::write(dir.join(format!("{kind}.{}.txt", f.lang)), text).expect("dump");
            std::fs::write(dir.join(format!("{kind}.{}.html", f.lang)), html).expect("dump");
        }
        let (greeting, signature) = if f.lang == "fr" {
            ("Bonjour", "L'équipe protection des données")
        } else {
            ("Hello", "The data protection team")
        };
        let html_text = html.replace("&#39;", "'");
        for body in [text, html_text.as_str()] {
            assert_eq!(
                body.matches(greeting).count(),
                1,
                "{kind} {}: {body}",
                f.lang
            );
            assert_eq!(
                body.matches("Dear ").count(),
                0,
                "{kind} {}: {body}",
                f.lang
            );
            assert_eq!(
                body.matches(signature).count(),
                1,
                "{kind} {}: {body}",
                f.lang
            );
            let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                !flat.contains(&format!("({}", f.kind_label.replace('"', "&#34;")))
                    && !flat.contains(&format!("({}", f.kind_label)),
                "{kind} {}: {flat}",
                f.lang
            );
        }
        for line in text.lines() {
            assert!(
                line.chars().count() <= 72 || !line.trim().contains(' '),
                "{kind} {}: {line}",
                f.lang
            );
        }
        assert!(text.lines().any(|l| l == link), "{kind} {}: {text}", f.lang);
        if matches!(kind, MailKind::Fulfilled | MailKind::Rejected) {
            assert!(!html.contains("pre-wrap"), "{html}");
            assert!(html.contains("<ul style="), "{kind} {}: {html}", f.lang);
            assert!(
                html.matches("<p style=\"margin:0 0 16px;\">").count() >= 3,
                "{html}"
            );
        }
    }
}
on_both_backends!(every_mail_reads_well, every_mail_reads_well_in_both_parts);
