//! The `dsar` binary's commands, run as an operator would.

use std::process::{Command, Output};

use diesel::{Connection, RunQueryDsl};

fn dsar(dir: &tempfile::TempDir, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dsar"));
    cmd.args(args)
        .current_dir(dir.path())
        .env_remove("DSAR_CONFIG")
        .env(
            "DSAR_DATABASE__URL",
            format!("sqlite://{}", dir.path().join("cli.sqlite3").display()),
        )
        .env("DSAR_LOG__FILTER", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("dsar runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn api_key_create_prints_the_key_alone_and_stores_only_its_hash() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dsar(&dir, &["api-key", "create", "--name", "crm"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.trim_end_matches('\n');
    assert!(
        !key.contains('\n'),
        "more than the key on stdout: {stdout:?}"
    );
    assert!(
        key.starts_with("dsar_")
            && key.len() == 69
            && key[5..].chars().all(|c| c.is_ascii_hexdigit()),
        "{key:?}"
    );
    let db = std::fs::read(dir.path().join("cli.sqlite3")).expect("database file");
    assert!(
        !db.windows(key.len()).any(|w| w == key.as_bytes()),
        "the plain key is in the database"
    );
    let list = dsar(&dir, &["api-key", "list"], &[]);
    assert!(text(&list.stdout).contains("crm"));
    assert!(!text(&list.stdout).contains(key));
}

#[test]
fn check_config_masks_secrets_and_names_unknown_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dsar(
        &dir,
        &["check-config"],
        &[
            (
                "DSAR_DATABASE__URL",
                "postgres://dsar:hunter2@db.internal/dsar",
            ),
            (
                "DSAR_MAIL__SMTP_URL",
                "smtps://mailer:swordfish@smtp.example.org:465",
            ),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("postgres://dsar:***@db.internal/dsar"),
        "{shown}"
    );
    assert!(
        shown.contains("smtps://mailer:***@smtp.example.org:465"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2") && !shown.contains("swordfish"));

    let out = dsar(
        &dir,
        &["check-config"],
        &[(
            "DSAR_MAIL__SMTP_URL",
            "smtq://mailer:swordfish@smtp.example.org",
        )],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("mail.smtp_url") && !err.contains("swordfish"),
        "{err}"
    );

    let file = dir.path().join("production.toml");
    std::fs::write(&file, "[http]\nbind = \"0.0.0.0:80\"\nport = 80\n").expect("write");
    let out = dsar(
        &dir,
        &["check-config"],
        &[("DSAR_CONFIG", file.to_str().expect("path"))],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("http.port") && err.contains("production.toml"),
        "{err}"
    );
}

#[test]
fn check_config_checks_the_processing_register() {
    let dir = tempfile::tempdir().expect("dir");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/register.example.toml");
    let out = dsar(&dir, &["check-config"], &[("DSAR_REGISTER__FILE", example)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("processing register OK: 8 activities"),
        "{}",
        text(&out.stderr)
    );

    let broken = dir.path().join("register.toml");
    let mut register = std::fs::read_to_string(example).expect("example");
    register = register.replacen("retention = { duration = \"6m\", ", "retention = { ", 1);
    register = register.replacen(
        "criterion = { fr = \"Après la clôture de la demande\", en = \"After the request is closed\" } }",
        "legal_reference = \"none\" }",
        1,
    );
    std::fs::write(&broken, register).expect("write");
    let out = dsar(
        &dir,
        &["check-config"],
        &[("DSAR_REGISTER__FILE", broken.to_str().expect("path"))],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("register.file") && err.contains("activity \"contact_form\": retention"),
        "{err}"
    );
}

/// Moving a server's files into the database: `dsar storage import` copies what the folders
/// hold under the same names, leaves the rest (uploads being received, anything else), and a
/// second run copies nothing again.
#[test]
fn storage_import_copies_the_folders_into_the_database_once() {
    let dir = tempfile::tempdir().expect("dir");
    let (uploads, exports) = (dir.path().join("files"), dir.path().join("exports"));
    std::fs::create_dir_all(uploads.join("incoming")).expect("dirs");
    std::fs::create_dir_all(&exports).expect("dirs");
    let document = dsar::crypto::random_token();
    let package = dsar::crypto::random_token();
    // Bigger than one chunk, so that it is stored in several.
    let package_bytes: Vec<u8> = (0..1_300_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(uploads.join(&document), b"%PDF-1.4 carte").expect("document");
    std::fs::write(uploads.join("incoming/upload-half"), b"half").expect("incoming");
    std::fs::write(uploads.join("notes.txt"), b"not ours").expect("other");
    std::fs::write(exports.join(&package), &package_bytes).expect("package");
    let env = [
        ("DSAR_STORAGE__DIR", uploads.to_str().expect("utf-8")),
        ("DSAR_FULFILMENT__DIR", exports.to_str().expect("utf-8")),
    ];

    let refused = dsar(&dir, &["storage", "import"], &env);
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("storage.backend = \"database\""),
        "{}",
        text(&refused.stderr)
    );

    let env = [env[0], env[1], ("DSAR_STORAGE__BACKEND", "database")];
    let out = dsar(&dir, &["storage", "import"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("storage.dir") && said.contains(": 1 files"),
        "{said}"
    );
    assert!(
        said.contains("fulfilment.dir") && said.contains("1.2 MiB"),
        "{said}"
    );

    let settings = crate::helpers::test_settings(
        &format!("sqlite://{}", dir.path().join("cli.sqlite3").display()),
        dir.path(),
        &[],
    );
    let pool = dsar::store::connect(&settings.database).expect("pool");
    let stored = dsar::store::files::FileStore::in_database(&uploads, pool.clone());
    assert_eq!(stored.read(&document).expect("document"), b"%PDF-1.4 carte");
    assert_eq!(stored.read(&package).expect("package"), package_bytes);
    assert!(
        std::fs::metadata(uploads.join(&document)).is_ok(),
        "the folder is left"
    );

    let again = dsar(&dir, &["storage", "import"], &env);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout).matches(": 0 files").count(), 2);
}

#[test]
fn migrate_applies_once_and_audit_verify_finds_a_tampered_row() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dsar(&dir, &["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("applied"),
        "{}",
        text(&out.stdout)
    );
    let again = dsar(&dir, &["migrate"], &[]);
    assert!(text(&again.stdout).contains("up to date"));

    for name in ["one", "two", "three"] {
        assert!(
            dsar(&dir, &["api-key", "create", "--name", name], &[])
                .status
                .success()
        );
    }
    let ok = dsar(&dir, &["audit", "verify"], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    assert!(
        text(&ok.stdout).contains("intact: 3 entries"),
        "{}",
        text(&ok.stdout)
    );

    let path = dir.path().join("cli.sqlite3");
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(path.to_str().expect("path")).expect("open");
    diesel::sql_query("UPDATE audit_log SET actor = 'someone else' WHERE id = 2")
        .execute(&mut conn)
        .expect("tamper");
    let broken = dsar(&dir, &["audit", "verify"], &[]);
    assert!(!broken.status.success());
    assert!(
        text(&broken.stdout).contains("BROKEN at entry 2"),
        "{}",
        text(&broken.stdout)
    );
}

#[test]
fn reports_check_finds_wrong_counts_and_rebuild_mends_them() {
    let dir = tempfile::tempdir().expect("dir");
    let empty = dsar(&dir, &["reports", "check"], &[]);
    assert!(empty.status.success(), "{}", text(&empty.stderr));
    assert!(text(&empty.stdout).contains("no request yet"));

    let path = dir.path().join("cli.sqlite3");
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(path.to_str().expect("path")).expect("open");
    // Three requests as the previous release left them: one open, one answered without the
    // closing day this release stamps, one withdrawn.
    diesel::sql_query(
        "INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language, requester_name, \
         requester_email, details, received_at, received_on, due_on, created_by, created_at, form, closed_at) VALUES \
         ('a', 2026, 'access', 'new', 'gdpr', 'web', 'fr', 'A', 'a@example.org', '', '2026-03-02 09:00:00', '2026-03-02', '2026-04-02', 'cli', '2026-03-02 09:00:00', '{}', NULL), \
         ('b', 2026, 'erasure', 'fulfilled', 'gdpr', 'web', 'fr', 'B', 'b@example.org', '', '2026-03-03 09:00:00', '2026-03-03', '2026-04-03', 'cli', '2026-03-03 09:00:00', '{}', '2026-03-20 23:30:00'), \
         ('c', 2026, 'access', 'withdrawn', 'gdpr', 'web', 'fr', 'C', 'c@example.org', '', '2026-04-01 09:00:00', '2026-04-01', '2026-05-01', 'cli', '2026-04-01 09:00:00', '{}', '2026-04-02 08:00:00')",
    )
    .execute(&mut conn)
    .expect("requests");
    let unstamped = dsar(&dir, &["reports", "check"], &[]);
    assert!(!unstamped.status.success());
    assert!(
        text(&unstamped.stdout)
            .contains("DIFFER from a recount of 3 requests (2026-03 to 2026-04)"),
        "{}",
        text(&unstamped.stdout)
    );

    let rebuilt = dsar(&dir, &["reports", "rebuild"], &[]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt.stderr));
    assert!(
        text(&rebuilt.stdout).contains("2 closed requests stamped first"),
        "{}",
        text(&rebuilt.stdout)
    );
    let ok = dsar(&dir, &["reports", "check"], &[]);
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    assert!(
        text(&ok.stdout).contains("equal a recount of 3 requests"),
        "{}",
        text(&ok.stdout)
    );
    // Closed at 23:30 UTC on 20 March: the 21st in Paris, 18 days after receipt.
    let (closed_on, on_time): (String, bool) = diesel::sql_query(
        "SELECT closed_on AS day, on_time AS in_time FROM requests WHERE uuid = 'b'",
    )
    .get_result::<Stamp>(&mut conn)
    .map(|s| (s.day, s.in_time))
    .expect("stamp");
    assert_eq!((closed_on.as_str(), on_time), ("2026-03-21", true));

    diesel::sql_query("UPDATE report_counts SET count = count + 1 WHERE series = 'received'")
        .execute(&mut conn)
        .expect("tamper");
    let tampered = dsar(&dir, &["reports", "check"], &[]);
    assert!(!tampered.status.success());
    assert!(dsar(&dir, &["reports", "rebuild"], &[]).status.success());
    assert!(dsar(&dir, &["reports", "check"], &[]).status.success());
}

#[derive(diesel::QueryableByName)]
struct Stamp {
    #[diesel(sql_type = diesel::sql_types::Text)]
    day: String,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    in_time: bool,
}

/// `dsar serve` on the embedded defaults: creates its SQLite file under data/, serves
/// /readyz, and stops cleanly on SIGTERM.
#[test]
fn serve_starts_on_the_embedded_defaults_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dsar"))
        .current_dir(dir.path())
        .env_remove("DSAR_CONFIG")
        .env_remove("DSAR_DATABASE__URL")
        .env("DSAR_HTTP__BIND", "127.0.0.1:0")
        .env("DSAR_LOG__FILTER", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dsar starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut port = None;
    let mut first_admin = None;
    for line in lines.by_ref().map_while(Result::ok) {
        if line.contains("set the first administrator's password at ") {
            first_admin = Some(line.clone());
        }
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            port = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|p| p.parse::<u16>().ok());
            break;
        }
    }
    let port = port.expect("the log says where it listens");
    let first_admin =
        first_admin.expect("with no staff, the log gives the first administrator's link");
    assert!(first_admin.contains("/admin/password/"), "{first_admin}");
    // Keep draining the log so the server never writes into a closed pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    assert!(dir.path().join("data/dsar.sqlite3").exists());
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "exit status {status:?}");
    let _ = drain.join();
}

#[test]
fn user_add_prints_a_one_time_link() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dsar(
        &dir,
        &["user", "add", "handler@example.org", "--role", "handler"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let link = text(&out.stdout);
    assert!(
        link.trim()
            .starts_with("http://127.0.0.1:8080/admin/password/"),
        "{link}"
    );
    let again = dsar(
        &dir,
        &["user", "add", "handler@example.org", "--role", "handler"],
        &[],
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("exists already"));
    let bad = dsar(
        &dir,
        &["user", "add", "x@example.org", "--role", "king"],
        &[],
    );
    assert!(
        text(&bad.stderr).contains("admin, dpo, handler, viewer"),
        "{}",
        text(&bad.stderr)
    );
}

/// Every command against PostgreSQL exits with its own status, after its work. A command
/// once left a pool thread opening a connection (libpq, OpenSSL) while the process exited,
/// and about one run in fifteen died of SIGSEGV; 200 runs in a row show it no longer does.
#[test]
fn two_hundred_commands_against_postgresql_all_exit_cleanly() {
    use std::os::unix::process::ExitStatusExt;
    let Some(db) = crate::helpers::PgDatabase::create("dsar_cli") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let env = [("DSAR_DATABASE__URL", db.url.as_str())];
    let migrated = dsar(&dir, &["migrate"], &env);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let created = dsar(&dir, &["api-key", "create", "--name", "crm"], &env);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for run in 0..200 {
        let out = dsar(&dir, &["api-key", "list"], &env);
        if !out.status.success() || !text(&out.stdout).contains("crm") {
            failures.push(format!(
                "run {run}: exit {:?}, signal {:?}: {}",
                out.status.code(),
                out.status.signal(),
                text(&out.stderr)
            ));
        }
    }
    eprintln!(
        "200 `dsar api-key list` runs against PostgreSQL in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of 200 runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `dsar <args>` until it exits or `patience` runs out (then kills it): a server that
/// should refuse to start must not hang the test when it starts instead. True when it was
/// still running.
fn dsar_within(
    dir: &tempfile::TempDir,
    args: &[&str],
    env: &[(&str, &str)],
    patience: std::time::Duration,
) -> (Output, bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dsar"));
    cmd.args(args)
        .current_dir(dir.path())
        .env_remove("DSAR_CONFIG")
        .env(
            "DSAR_DATABASE__URL",
            format!("sqlite://{}", dir.path().join("cli.sqlite3").display()),
        )
        .env("DSAR_HTTP__BIND", "127.0.0.1:0")
        .env("DSAR_LOG__FILTER", "warn")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("dsar starts");
    let until = std::time::Instant::now() + patience;
    let mut running = false;
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > until {
            child.kill().expect("kill");
            running = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child.wait_with_output().expect("output"), running)
}

/// What a migration from a release after this one leaves in diesel's table.
const FUTURE_VERSION: &str = "20261209000030";

fn assert_refused_as_newer(out: &Output, running: bool, what: &str) {
    assert!(!running, "`dsar {what}` started on a newer schema");
    assert!(!out.status.success(), "`dsar {what}` succeeded");
    let err = text(&out.stderr);
    assert!(
        err.contains("the database was migrated by a newer release of dsar (2026-12-09-000030)")
            && err.contains("run that release or newer")
            && err.contains("cannot safely write to it"),
        "dsar {what}: {err}"
    );
}

/// A binary older than the database's schema (a rollback after a contracting migration)
/// refuses to run rather than write what the schema no longer means.
#[test]
fn every_start_refuses_a_database_migrated_by_a_newer_release() {
    let dir = tempfile::tempdir().expect("dir");
    let out = dsar(&dir, &["migrate"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let path = dir.path().join("cli.sqlite3");
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(path.to_str().expect("path")).expect("open");
    diesel::sql_query(format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{FUTURE_VERSION}')"
    ))
    .execute(&mut conn)
    .expect("a newer release's migration");
    let patience = std::time::Duration::from_secs(30);
    for args in [
        &["migrate"][..],
        &["serve"],
        &["serve", "--no-worker"],
        &["worker"],
        &["api-key", "list"],
    ] {
        let (out, running) = dsar_within(&dir, args, &[], patience);
        assert_refused_as_newer(&out, running, &args.join(" "));
    }
}

/// With `database.auto_migrate = false`, starts refuse a database that lacks migrations and
/// say what to run; once `dsar migrate` ran, they start.
#[test]
fn without_auto_migrate_a_start_waits_for_dsar_migrate() {
    let dir = tempfile::tempdir().expect("dir");
    let off = [("DSAR_DATABASE__AUTO_MIGRATE", "false")];
    let shown = dsar(&dir, &["check-config"], &off);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(
        text(&shown.stdout).contains("auto_migrate = false"),
        "{}",
        text(&shown.stdout)
    );
    let defaults = dsar(&dir, &["check-config"], &[]);
    assert!(text(&defaults.stdout).contains("auto_migrate = true"));

    let patience = std::time::Duration::from_secs(30);
    for args in [&["serve"][..], &["worker"], &["api-key", "list"]] {
        let (out, running) = dsar_within(&dir, args, &off, patience);
        assert!(!running, "`dsar {}` started unmigrated", args.join(" "));
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(
            err.contains("the database lacks")
                && err.contains("2026-11-22-000001_foundation")
                && err.contains("database.auto_migrate is false: run `dsar migrate`"),
            "dsar {}: {err}",
            args.join(" ")
        );
    }
    let migrated = dsar(&dir, &["migrate"], &off);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    assert!(text(&migrated.stdout).contains("applied 20261122000001"));

    let listed = dsar(&dir, &["api-key", "list"], &off);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let (served, running) = dsar_within(
        &dir,
        &["serve"],
        &[off[0], ("DSAR_LOG__FILTER", "info")],
        std::time::Duration::from_secs(5),
    );
    assert!(running, "{}", text(&served.stderr));
    assert!(
        text(&served.stderr).contains("listening on"),
        "{}",
        text(&served.stderr)
    );
}

/// Nodes started together on one PostgreSQL database migrate it once, in turn (an advisory
/// lock); a newer release's migration then stops every start.
#[test]
fn nodes_starting_together_on_postgresql_migrate_once() {
    let Some(db) = crate::helpers::PgDatabase::create("dsar_cli") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let env = [("DSAR_DATABASE__URL", db.url.as_str())];
    let starts: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_dsar"))
                .arg("migrate")
                .current_dir(dir.path())
                .env_remove("DSAR_CONFIG")
                .env("DSAR_DATABASE__URL", &db.url)
                .env("DSAR_LOG__FILTER", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("dsar starts")
        })
        .collect();
    let outs: Vec<Output> = starts
        .into_iter()
        .map(|c| c.wait_with_output().expect("output"))
        .collect();
    for out in &outs {
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let appliers = outs
        .iter()
        .filter(|o| text(&o.stdout).contains("applied 20261122000001"))
        .count();
    let idle = outs
        .iter()
        .filter(|o| text(&o.stdout).contains("the database is up to date"))
        .count();
    assert_eq!((appliers, idle), (1, 3));

    let mut conn = diesel::pg::PgConnection::establish(&db.url).expect("open");
    diesel::sql_query(format!(
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('{FUTURE_VERSION}')"
    ))
    .execute(&mut conn)
    .expect("a newer release's migration");
    let patience = std::time::Duration::from_secs(30);
    for args in [&["migrate"][..], &["serve"]] {
        let (out, running) = dsar_within(&dir, args, &env, patience);
        assert_refused_as_newer(&out, running, &args.join(" "));
    }
}
