//! Builds the application from settings: the pool, the migrations, the shared state, the
//! route table and the bound listener (port 0 in tests).

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::clock::Clock;
use crate::config::{Settings, StorageBackend};
use crate::state::AppState;
use crate::store;
use crate::store::files::FileStore;
use crate::web::{WebState, api, health};

pub struct Application {
    port: u16,
    server: Server,
    state: Arc<AppState>,
    worker: Option<WorkerThread>,
}

struct WorkerThread {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Run the worker loop in this process.
    pub worker: bool,
}

/// Opens the store, brings its schema to this binary's migrations (or checks that it is
/// there, see [`store::prepare_schema`]) and builds the state every part shares.
pub fn prepare(settings: Settings, clock: Clock) -> anyhow::Result<Arc<AppState>> {
    let law = settings.law()?;
    let register = settings.register.load()?;
    match &register {
        Some(r) => tracing::info!(
            activities = r.activities.len(),
            "processing register loaded"
        ),
        None => tracing::warn!("no processing register: register.file is empty"),
    }
    let sources = settings.fulfilment.load_sources(register.as_ref())?;
    if !sources.list.is_empty() {
        tracing::info!(sources = sources.list.len(), "data sources loaded");
    }
    let fulfilment_key = load_fulfilment_key(&settings.fulfilment)?;
    let backend = store::Manager::new(&settings.database)?.backend();
    let pool = store::connect(&settings.database)?;
    let mut conn = pool.get().context("cannot get a database connection")?;
    // Refuses a schema newer than this binary; with `auto_migrate` off, one that lacks any of
    // its migrations (`dsar migrate` is then the upgrade's own step).
    let applied = store::prepare_schema(&mut conn, settings.database.auto_migrate)?;
    if !applied.is_empty() {
        tracing::info!(count = applied.len(), "applied database migrations");
    }
    drop(conn);
    // Checked here so a bad `[mail]` stops the start, not the first mail; each worker builds
    // its own transport from the same settings.
    crate::mail::Transport::from_settings(&settings.mail)?;
    let (files, fulfilment_files) = file_stores(&settings)?;
    let state = Arc::new(AppState {
        settings,
        law,
        register,
        sources,
        fulfilment_key,
        pool,
        backend,
        clock,
        files,
        fulfilment_files,
        task_runs: Default::default(),
    });
    stamp_closed_meanwhile(&state);
    Ok(state)
}

/// Requests closed before the reports' counts existed (or by a previous release's node) count
/// in the timeliness figures once stamped with their closing day. A first start after the
/// upgrade may find a million of them: they are stamped on a thread of their own while the
/// process serves, and whatever fails is left to the nightly purge.
fn stamp_closed_meanwhile(state: &Arc<AppState>) {
    let state = Arc::clone(state);
    let spawned = std::thread::Builder::new()
        .name("stamp-closed".into())
        .spawn(move || {
            let stamped = state
                .pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    crate::workflow::reports::stamp_closed(&mut conn, &state.law)
                        .map_err(|e| e.to_string())
                });
            match stamped {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "closed requests stamped for the reports"),
                Err(error) => tracing::warn!(
                    %error,
                    "closed requests not stamped for the reports yet; the nightly purge tries again"
                ),
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start stamping closed requests for the reports");
    }
}

/// Connections for stored files in the database, per process: each holds one for a single
/// chunk's query (512 KiB), so a few serve many transfers at once.
const FILE_POOL_SIZE: u32 = 4;

/// Uploads, and the fulfilment folder, where `storage.backend` says.
fn file_stores(settings: &Settings) -> anyhow::Result<(FileStore, FileStore)> {
    let (storage, fulfilment) = (&settings.storage.dir, &settings.fulfilment.dir);
    Ok(match settings.storage.backend {
        StorageBackend::Folder => (
            FileStore::new(storage),
            FileStore::new(fulfilment).private(),
        ),
        StorageBackend::Database => {
            // Stored files get a pool of their own. A handler reads or writes a file while it
            // holds a connection of the main pool, one chunk query at a time: taken from that
            // same pool, those checkouts would nest, and as many uploads or downloads at once
            // as the pool has connections would hold them all and wait for one another.
            // It keeps no idle connection in reserve: one is opened when a chunk needs it and
            // kept while in use, without r2d2 opening spares behind every checkout.
            let blobs = store::connect_without_spares(&crate::config::Database {
                pool_size: FILE_POOL_SIZE,
                ..settings.database.clone()
            })?;
            (
                FileStore::in_database(storage, blobs.clone()),
                FileStore::in_database(fulfilment, blobs),
            )
        }
    })
}

fn load_fulfilment_key(f: &crate::config::Fulfilment) -> anyhow::Result<[u8; 32]> {
    let bytes = crate::crypto::load_key_bytes(&f.key, &f.key_file, 32, "fulfilment.key")?;
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes);
    Ok(key)
}

pub fn routes(cfg: &mut web::ServiceConfig, max_json_bytes: usize) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(crate::web::metrics::metrics);
    api::routes(cfg, max_json_bytes);
    crate::web::admin::routes(cfg);
    crate::web::portal::routes(cfg);
    cfg.default_service(web::to(crate::web::not_found));
}

impl Application {
    pub fn build(settings: Settings, options: Options) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, options, Clock::default())
    }

    pub fn build_with_clock(
        settings: Settings,
        options: Options,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let bind = settings.http.bind.clone();
        let listener =
            TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let state = prepare(settings, clock)?;
        first_admin_link(&state)?;
        let server = serve(Arc::clone(&state), listener)?;
        let worker = match options.worker {
            true => Some(spawn_worker(Arc::clone(&state))?),
            false => None,
        };
        Ok(Application {
            port,
            server,
            state,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<AppState> {
        Arc::clone(&self.state)
    }

    /// Serves until SIGINT/SIGTERM, then lets the worker finish the job in hand.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(worker) = self.worker {
            worker.stop.store(true, Ordering::Relaxed);
            let _ = web::block(move || worker.handle.join()).await;
        }
        served
    }
}

pub fn serve(state: Arc<AppState>, listener: TcpListener) -> anyhow::Result<Server> {
    let http = state.settings.http.clone();
    let data = web::Data::new(Arc::new(WebState::new(state)?));
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("X-Frame-Options", "DENY")),
            )
            .wrap(TracingLogger::<crate::telemetry::MaskedRootSpan>::new())
            .configure(|cfg| routes(cfg, http.max_json_bytes))
    })
    .shutdown_timeout(10);
    if http.workers > 0 {
        server = server.workers(http.workers);
    }
    Ok(server.listen(listener)?.run())
}

fn spawn_worker(state: Arc<AppState>) -> anyhow::Result<WorkerThread> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let poll = Duration::from_millis(state.settings.worker.poll_interval_ms);
    let worker = crate::worker::standard(state)?;
    let handle = std::thread::spawn(move || worker.run(&flag, poll));
    Ok(WorkerThread { stop, handle })
}

/// With no staff account at all, invites the DPO address as the first administrator and logs
/// the one-time link to set its password.
fn first_admin_link(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.pool.get()?;
    if crate::store::users::count(&mut conn)? > 0 {
        return Ok(());
    }
    let email = &state.settings.organisation.dpo_email;
    // Its name, in the language of the dashboard it will open.
    let name = match state.settings.language() {
        crate::i18n::Lang::Fr => "Administrateur",
        crate::i18n::Lang::En => "Administrator",
    };
    let (_, link) = crate::staff::add_user(
        &mut conn,
        email,
        name,
        crate::staff::Role::Admin,
        "system",
        state.clock.now(),
    )?;
    tracing::warn!(
        "no staff account yet: set the first administrator's password at {}{link} (valid 7 days)",
        state.settings.base_url()
    );
    Ok(())
}
