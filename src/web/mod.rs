//! HTTP: thin handlers that parse, authorise, call the workflow and render.

pub mod admin;
pub mod api;
pub mod health;
pub mod metrics;
pub mod portal;

use std::sync::Arc;

use actix_web::web;

use crate::clock::Clock;
use crate::config::{Law, Settings};
use crate::error::Problem;
use crate::store::{DbConn, Pool, StoreError};

/// What every handler shares: built once at start, read-only afterwards.
pub struct AppState {
    pub settings: Settings,
    pub law: Law,
    /// The record of processing activities; `None` until `register.file` names one.
    pub register: Option<crate::register::Register>,
    /// The data sources requests are fulfilled from (none: answered by hand).
    pub sources: crate::sources::Sources,
    /// Encrypts packages and staged data at rest; keys the suppression list.
    pub fulfilment_key: [u8; 32],
    pub pool: Pool,
    pub backend: crate::store::Backend,
    pub clock: Clock,
    pub api_keys: api::auth::KeyCache,
    /// Where the worker sends mails; built once from `[mail]`.
    pub mailer: crate::mail::Transport,
    pub files: crate::files::FileStore,
    pub submissions: portal::RateLimiter,
    /// Signs and encrypts staff session cookies.
    pub session_key: actix_web::cookie::Key,
    pub login_throttle: crate::staff::Throttle,
    /// How the periodic tasks this process's worker ran last went, for `/metrics`.
    pub task_runs: metrics::TaskRuns,
}

pub type State = web::Data<Arc<AppState>>;

impl AppState {
    /// Runs database work on the blocking pool, never on actix's workers.
    pub async fn db<T, E>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut DbConn, &AppState) -> Result<T, E> + Send + 'static,
    ) -> Result<T, Problem>
    where
        T: Send + 'static,
        E: Into<Problem> + Send + 'static,
    {
        let state = Arc::clone(self);
        web::block(move || {
            let mut conn = state
                .pool
                .get()
                .map_err(|e| Problem::from(StoreError::Pool(e)))?;
            work(&mut conn, &state).map_err(Into::into)
        })
        .await?
    }
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

/// Percent-encodes everything but ASCII letters, digits, `-`, `_`, `.` and the bytes in
/// `keep` (say `/` for a path, `@` for an account name).
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
