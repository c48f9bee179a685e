//! HTTP: thin handlers that parse, authorise, call a service and render.

pub mod admin;
pub mod api;
pub mod error;
pub mod health;
pub mod metrics;
pub mod portal;

use std::sync::Arc;

use actix_web::web;

use crate::staff::Throttle;
use crate::state::AppState;
use crate::store::group::GroupWriter;
use crate::store::{Backend, DbConn, StoreError};
use crate::workflow::limits::Limits;
use error::Problem;

/// What every handler shares: the services' state, and what only the web layer keeps (the
/// API key cache, the session key). The portal's limits and the sign-in throttle count in
/// the database, so that every node behind a load balancer counts the same.
pub struct WebState {
    pub app: Arc<AppState>,
    pub api_keys: api::auth::KeyCache,
    pub limits: Limits,
    /// Signs and encrypts staff session cookies.
    pub session_key: actix_web::cookie::Key,
    pub login_throttle: Throttle,
    /// On SQLite, writes that come in bursts (API filings) are committed in groups.
    writer: Option<GroupWriter>,
}

impl WebState {
    pub fn new(app: Arc<AppState>) -> anyhow::Result<Self> {
        let limits = Limits::new(
            &app.fulfilment_key,
            app.settings.portal.submissions_per_hour,
        );
        let login_throttle = Throttle::new(&app.fulfilment_key);
        let session_key = admin::load_key(&app.settings.security)?;
        let writer = match app.backend {
            Backend::Sqlite if app.settings.database.sqlite_group_commit => {
                Some(GroupWriter::start(app.pool.clone())?)
            }
            _ => None,
        };
        Ok(WebState {
            app,
            api_keys: Default::default(),
            limits,
            session_key,
            login_throttle,
            writer,
        })
    }

    /// Runs database work on the blocking pool, never on actix's workers.
    pub async fn db<T, E>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut DbConn, &AppState) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Problem>
    where
        T: Send + 'static,
        E: Into<Problem> + Send + 'static,
    {
        let state = Arc::clone(&self.app);
        web::block(move || {
            let mut conn = state
                .pool
                .get()
                .map_err(|e| Problem::from(StoreError::Pool(e)))?;
            work(&mut conn, &state).map_err(Into::into)
        })
        .await?
    }

    /// Runs `work`, which writes in a transaction of its own (`write_tx`): on SQLite as a
    /// savepoint in the next group of the [`GroupWriter`], answered after the group's
    /// commit; on PostgreSQL as [`WebState::db`] does, on a connection of the pool. `work`
    /// uses only the connection it is given: the group's thread holds the writers' lock, so
    /// a write on another connection from there would wait for itself.
    pub async fn write<T, E>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut DbConn, &AppState) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Problem>
    where
        T: Send + 'static,
        E: Into<Problem> + From<diesel::result::Error> + Send + 'static,
    {
        let Some(writer) = &self.writer else {
            return self.db(work).await;
        };
        let app = Arc::clone(&self.app);
        writer
            .write(move |conn| work(conn, &app))
            .await?
            .map_err(Into::into)
    }
}

impl std::ops::Deref for WebState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

pub type State = web::Data<Arc<WebState>>;

/// What no route answers: a JSON problem under `/api/`, the portal's not-found page anywhere
/// else (the dashboard's scope answers under `/admin/` with its own).
pub async fn not_found(state: State, req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let path = req.path();
    if path == "/api" || path.starts_with("/api/") {
        let detail = format!("no API route for {} {path}", req.method());
        return actix_web::ResponseError::error_response(&Problem::not_found(detail));
    }
    portal::unknown_path(&state, &req)
}

/// A response body read from a blocking reader (a decrypting file reader) in 64 KiB chunks
/// on the blocking pool: what is sent is never held whole in memory.
pub fn stream_reader<R: std::io::Read + Send + 'static>(
    reader: R,
) -> impl futures_util::Stream<Item = Result<web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        let read = web::block(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let n = reader.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((reader, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((reader, buf))) => Some((Ok(web::Bytes::from(buf)), Some(reader))),
            Ok(Err(e)) => {
                // Headers are gone already: the client sees a cut-off file, the log says why.
                tracing::error!(error = %e, "cannot read a file while sending it");
                Some((Err(actix_web::error::ErrorInternalServerError(e)), None))
            }
            Err(e) => Some((Err(e.into()), None)),
        }
    })
}

/// What a query value or path segment may carry unescaped: ASCII letters, digits, `-`, `_`, `.`.
pub const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.');

/// A local path kept readable: [`COMPONENT`] and `/`.
pub const PATH: &percent_encoding::AsciiSet = &COMPONENT.remove(b'/');

/// `s` percent-encoded for a query value or a path segment.
pub fn encode_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}
