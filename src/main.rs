//! The `dsar` command line. Everything it runs lives in the library.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use dsar::app::{self, Application, Options};
use dsar::clock::Clock;
use dsar::config::Settings;
use dsar::store::{self, audit::ChainStatus};

#[derive(Parser)]
#[command(
    name = "dsar",
    version,
    about = "Data-subject rights requests: portal, dashboard, worker"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web portal, the dashboard and the API, with the worker inside (the default).
    Serve {
        /// Run the web server only; run `dsar worker` elsewhere.
        #[arg(long)]
        no_worker: bool,
    },
    /// Serve a demonstration shop ("Boutique Démo"): register, sources and 3,000 customers
    /// generated in one folder; prints the portal's address and the DPO's sign-in link.
    Demo {
        /// The demo's folder: its data survive from one run to the next.
        #[arg(long, default_value = dsar::demo::DEFAULT_DIR)]
        dir: std::path::PathBuf,
    },
    /// Run the worker alone: mails, reminders, exports, purges.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load and check the configuration, print it with secrets masked.
    CheckConfig,
    /// Manage API keys.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The Reports page's kept counts.
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// Stored files (documents, staged data, packages).
    #[command(subcommand)]
    Storage(StorageCommand),
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Invite a member of staff; prints the one-time link to set their password.
    Add {
        email: String,
        /// admin, dpo, handler or viewer.
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyCommand {
    /// Create a key and print it, alone, on stdout. It is shown only this once.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List keys (names and prefixes, never the keys).
    List,
    /// Revoke a key by its id.
    Revoke { id: i64 },
}

#[derive(Subcommand)]
enum StorageCommand {
    /// Copy the files kept in storage.dir and fulfilment.dir into the database, to move a
    /// server to storage.backend = "database" (run it with that setting, before the nodes
    /// start on it). Safe to run again; the folders are left as they are.
    Import,
}

#[derive(Subcommand)]
enum ReportsCommand {
    /// Count every request again and compare with the kept counts; exit non-zero if they
    /// differ.
    Check,
    /// Count every request again into the kept counts (writers wait meanwhile).
    Rebuild,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit non-zero and name the first broken entry if any.
    Verify,
}

/// Makes glibc give big buffers back to the system when they are freed.
///
/// By default glibc raises its mmap threshold to the size of the last big buffer freed, so the
/// next ones of that size come from the calling thread's arena and stay there: after a burst of
/// sign-ins each blocking thread that ran argon2 kept its 19 MiB (the server went from 32 to
/// 113 MiB and stayed). A fixed threshold keeps every allocation of 1 MiB or more in its own
/// mapping, unmapped on free; smaller ones, which are nearly all of them, are unchanged.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_big_buffers() {
    // SAFETY: mallopt only sets a tunable; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_big_buffers() {}

fn main() -> ExitCode {
    return_big_buffers();
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve { no_worker: false });
    let settings = match &command {
        Command::Demo { dir } => {
            // The demo's files are written before its settings load, since they name them.
            let demo = match dsar::demo::prepare(dir) {
                Ok(demo) => demo,
                Err(e) => {
                    eprintln!("dsar: cannot prepare the demo: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            dsar::demo::settings(&demo, std::env::vars()).map(|s| (s, Some(demo)))
        }
        _ => Settings::load().map(|s| (s, None)),
    };
    let (settings, demo) = match settings {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dsar: configuration error: {e:#}");
            return ExitCode::from(2);
        }
    };
    dsar::telemetry::init(&settings.log);
    let result = match demo {
        Some(demo) => run_demo(&demo, settings),
        None => run(command, settings),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dsar: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_demo(demo: &dsar::demo::Demo, settings: Settings) -> anyhow::Result<ExitCode> {
    actix_web::rt::System::new().block_on(async move {
        let started = dsar::demo::start(settings)?;
        print!("{}", started.summary(demo));
        // Whoever reads stdout through a pipe (a test, a script) gets the link at once.
        std::io::Write::flush(&mut std::io::stdout())?;
        started.application.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn run(command: Command, settings: Settings) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo { .. } => anyhow::bail!("the demo runs through run_demo"),
        Command::Serve { no_worker } => {
            let embedded = settings.worker.embedded && !no_worker;
            actix_web::rt::System::new().block_on(async move {
                let application = Application::build(settings, Options { worker: embedded })?;
                let state = application.state();
                tracing::info!(
                    "dsar listening on http://{}:{} (public address {}), database {:?}, worker {}",
                    bind_host(&state.settings.http.bind),
                    application.port(),
                    state.settings.base_url(),
                    state.backend,
                    if embedded { "embedded" } else { "off" },
                );
                application.run_until_stopped().await?;
                Ok(ExitCode::SUCCESS)
            })
        }
        Command::Worker => {
            let state = app::prepare(settings, Clock::default())?;
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let poll = Duration::from_millis(state.settings.worker.poll_interval_ms);
            let worker = dsar::worker::standard(state)?;
            let worker = std::thread::spawn(move || worker.run(&flag, poll));
            wait_for_signal()?;
            tracing::info!("stopping: finishing the job in hand");
            stop.store(true, Ordering::Relaxed);
            let _ = worker.join();
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let mut conn = store::connect_once(&settings.database)?;
            let applied = store::migrate(&mut conn)?;
            if applied.is_empty() {
                println!("the database is up to date");
            }
            for name in applied {
                println!("applied {name}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            // The sender and the SMTP URL are read by lettre, not serde: check them the same
            // way the server will at start.
            if let Err(e) = dsar::mail::Transport::from_settings(&settings.mail) {
                eprintln!("dsar: configuration error: {e}");
                return Ok(ExitCode::from(2));
            }
            let register = match settings.register.load() {
                Err(e) => {
                    eprintln!("dsar: configuration error: {e}");
                    return Ok(ExitCode::from(2));
                }
                Ok(Some(register)) => {
                    eprintln!(
                        "processing register OK: {} activities",
                        register.activities.len()
                    );
                    Some(register)
                }
                Ok(None) => {
                    eprintln!("no processing register (register.file is empty)");
                    None
                }
            };
            match settings.fulfilment.load_sources(register.as_ref()) {
                Err(e) => {
                    eprintln!("dsar: configuration error: {e}");
                    return Ok(ExitCode::from(2));
                }
                Ok(sources) if sources.list.is_empty() => {
                    eprintln!("no data sources (fulfilment.sources_file is empty)")
                }
                Ok(sources) => eprintln!("data sources OK: {}", sources.list.len()),
            }
            // A key given, or a key file there, must be a key; a missing file is created at
            // start, not by a check.
            let f = &settings.fulfilment;
            let present = !f.key.trim().is_empty() || std::path::Path::new(&f.key_file).exists();
            let key = present
                .then(|| dsar::crypto::load_key_bytes(&f.key, &f.key_file, 32, "fulfilment.key"))
                .transpose();
            if let Err(e) = key {
                eprintln!("dsar: configuration error: {e}");
                return Ok(ExitCode::from(2));
            }
            print!("{}", settings.redacted_toml());
            eprintln!("configuration OK");
            Ok(ExitCode::SUCCESS)
        }
        Command::ApiKey(cmd) => api_key(cmd, settings),
        Command::User(UserCommand::Add { email, role, name }) => {
            let role: dsar::staff::Role = role.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut conn = database(&settings)?;
            let (user, link) = dsar::staff::add_user(
                &mut conn,
                &email,
                &name,
                role,
                "cli",
                Clock::default().now(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!(
                "{} invited as {}; the link below sets their password (valid 7 days, once):",
                user.email, user.role
            );
            println!("{}{link}", settings.base_url());
            Ok(ExitCode::SUCCESS)
        }
        Command::Storage(StorageCommand::Import) => storage_import(&settings),
        Command::Reports(cmd) => reports(cmd, &settings),
        Command::Audit(AuditCommand::Verify) => {
            let mut conn = database(&settings)?;
            // Entries still waiting for the sealer join the chain first, so the walk covers
            // everything written until now.
            let sealed = store::audit::seal_all(&mut conn)?;
            if sealed > 0 {
                eprintln!("sealed {sealed} pending entries");
            }
            match store::audit::verify(&mut conn)? {
                ChainStatus::Intact { entries, unsealed } => {
                    println!("audit trail intact: {entries} entries");
                    if unsealed > 0 {
                        println!("{unsealed} entries written meanwhile are not sealed yet");
                    }
                    Ok(ExitCode::SUCCESS)
                }
                ChainStatus::Broken {
                    id,
                    reason,
                    checked,
                } => {
                    println!(
                        "audit trail BROKEN at entry {id}: {reason} ({checked} entries before it are intact)"
                    );
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// The database of a one-shot command, migrated as a start would (`database.auto_migrate`):
/// one connection of its own, closed before the command returns (see [`store::connect_once`]
/// for why not a pool).
fn database(settings: &Settings) -> anyhow::Result<store::DbConn> {
    let mut conn = store::connect_once(&settings.database)?;
    let applied = store::prepare_schema(&mut conn, settings.database.auto_migrate)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied database migrations");
    }
    Ok(conn)
}

fn reports(cmd: ReportsCommand, settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut conn = database(settings)?;
    let law = settings.law()?;
    match cmd {
        ReportsCommand::Check => {
            let today = law.today(Clock::default().now());
            let Some(check) = dsar::workflow::reports::check(&mut conn, &law, today)? else {
                println!("no request yet: nothing to check");
                return Ok(ExitCode::SUCCESS);
            };
            let received: i64 = check.recount.received.iter().map(|c| c.count).sum();
            let span = format!(
                "{} to {}",
                check.first.format("%Y-%m"),
                (check.until - chrono::Days::new(1)).format("%Y-%m")
            );
            let requests = if received == 1 { "request" } else { "requests" };
            let differences = differences(&check.kept, &check.recount);
            if differences.is_empty() {
                println!("the reports' counts equal a recount of {received} {requests} ({span})");
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "the reports' counts DIFFER from a recount of {received} {requests} ({span}):"
                );
                for line in differences {
                    println!("  {line}");
                }
                println!("`dsar reports rebuild` counts them again");
                Ok(ExitCode::FAILURE)
            }
        }
        ReportsCommand::Rebuild => {
            let stamped = dsar::workflow::reports::rebuild(&mut conn, &law)?;
            println!(
                "the reports' counts were counted again from every request ({stamped} closed requests stamped first)"
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Each figure that differs, as "what: kept K, recount R".
fn differences(
    kept: &dsar::workflow::reports::Figures,
    recount: &dsar::workflow::reports::Figures,
) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut lines = Vec::new();
    let per_month = |rows: &[dsar::store::reports::MonthCount]| -> BTreeMap<(String, String), i64> {
        rows.iter()
            .map(|r| ((r.month.clone(), r.key.clone()), r.count))
            .collect()
    };
    for (what, kept, recount) in [
        ("received", &kept.received, &recount.received),
        ("closed", &kept.closed, &recount.closed),
    ] {
        let (kept, recount) = (per_month(kept), per_month(recount));
        let keys: std::collections::BTreeSet<_> = kept.keys().chain(recount.keys()).collect();
        for key in keys {
            let (k, r) = (
                kept.get(key).copied().unwrap_or(0),
                recount.get(key).copied().unwrap_or(0),
            );
            if k != r {
                lines.push(format!(
                    "{what} in {}, {}: kept {k}, recount {r}",
                    key.0, key.1
                ));
            }
        }
    }
    let (kt, rt) = (&kept.timeliness, &recount.timeliness);
    for (what, k, r) in [
        ("answered", Some(kt.closed as f64), Some(rt.closed as f64)),
        (
            "answered in time",
            Some(kt.on_time as f64),
            Some(rt.on_time as f64),
        ),
        ("median days to answer", kt.median_days, rt.median_days),
        (
            "90th percentile days to answer",
            kt.p90_days.map(|d| d as f64),
            rt.p90_days.map(|d| d as f64),
        ),
    ] {
        if k != r {
            let text = |v: Option<f64>| v.map_or_else(|| "none".to_string(), |v| v.to_string());
            lines.push(format!("{what}: kept {}, recount {}", text(k), text(r)));
        }
    }
    let (ko, ro) = (&kept.open, &recount.open);
    for (what, k, r) in [
        ("open, overdue", ko.overdue, ro.overdue),
        ("open, due within 7 days", ko.within_7, ro.within_7),
        ("open, due in 8 to 14 days", ko.within_14, ro.within_14),
        ("open, due in 15 to 30 days", ko.within_30, ro.within_30),
        ("open, due later", ko.later, ro.later),
        ("open, clock stopped", ko.stopped, ro.stopped),
    ] {
        if k != r {
            lines.push(format!("{what}: kept {k}, recount {r}"));
        }
    }
    lines
}

fn storage_import(settings: &Settings) -> anyhow::Result<ExitCode> {
    if settings.storage.backend != dsar::config::StorageBackend::Database {
        anyhow::bail!(
            "files are imported into the database: run this with storage.backend = \"database\" \
             (DSAR_STORAGE__BACKEND=database), the setting the nodes will start with"
        );
    }
    drop(database(settings)?);
    let pool = store::connect_without_spares(&settings.database)?;
    for (setting, dir) in [
        ("storage.dir", &settings.storage.dir),
        ("fulfilment.dir", &settings.fulfilment.dir),
    ] {
        let files = dsar::store::files::FileStore::in_database(dir, pool.clone());
        let (count, bytes) = files
            .import_folder(std::path::Path::new(dir))
            .with_context(|| format!("cannot import the files of {setting} ({dir})"))?;
        println!(
            "{setting} ({dir}): {count} files, {:.1} MiB, copied into the database",
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn api_key(cmd: ApiKeyCommand, settings: Settings) -> anyhow::Result<ExitCode> {
    let mut conn = database(&settings)?;
    let now = Clock::default().now_naive();
    match cmd {
        ApiKeyCommand::Create { name } => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "--name must not be empty");
            let (key, row) = store::write_tx(&mut conn, |conn| {
                let created = dsar::staff::api_keys::create_key(conn, name, now)?;
                store::audit::on_api_key(
                    conn,
                    created.1.id,
                    "cli",
                    "api_key.create",
                    &serde_json::json!({ "name": name, "prefix": created.1.key_prefix }),
                    now,
                )?;
                Ok::<_, diesel::result::Error>(created)
            })
            .context("cannot store the key")?;
            eprintln!(
                "API key #{} \"{}\" created; it is shown only now:",
                row.id, row.name
            );
            println!("{key}");
        }
        ApiKeyCommand::List => {
            for k in store::api_keys::list(&mut conn)? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let used = k
                    .last_used_at
                    .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{}\t{}\t{}…\t{}\tcreated {}\tlast used {}",
                    k.id,
                    k.name,
                    k.key_prefix,
                    state,
                    k.created_at.format("%Y-%m-%d"),
                    used
                );
            }
        }
        ApiKeyCommand::Revoke { id } => {
            let revoked = store::write_tx(&mut conn, |conn| {
                let n = store::api_keys::revoke(conn, id, now)?;
                if n > 0 {
                    store::audit::on_api_key(
                        conn,
                        id,
                        "cli",
                        "api_key.revoke",
                        &serde_json::json!({}),
                        now,
                    )?;
                }
                Ok::<_, diesel::result::Error>(n)
            })?;
            anyhow::ensure!(revoked > 0, "no active API key with id {id}");
            eprintln!("API key #{id} revoked (servers stop honouring it within a minute)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn bind_host(bind: &str) -> &str {
    bind.rsplit_once(':').map(|(h, _)| h).unwrap_or(bind)
}

/// Blocks until SIGINT or SIGTERM.
fn wait_for_signal() -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}
