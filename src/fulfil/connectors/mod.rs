//! Running one operation against one data source for one person: what was found (written to
//! a sink as it is read, so a large source never sits in memory), what was erased, kept or
//! changed, and what is left for a person to do.

pub mod http;
pub mod sql;

use serde::Serialize;

/// Who the request is about, as the sources are asked.
#[derive(Debug, Clone, Serialize)]
pub struct Subject {
    /// `None` for a person represented known by their customer reference only.
    pub email: Option<String>,
    pub name: String,
    pub customer_ref: Option<String>,
    /// The request's reference, so a service can log what it answered.
    pub reference: String,
}

/// Receives each record found: the table (or section) it came from and the record.
pub type Sink<'a> = dyn FnMut(&str, serde_json::Value) -> std::io::Result<()> + 'a;

pub use crate::domain::outcome::{Changed, Kept, Outcome};

/// A failure worth retrying (a timeout, a service down) or not (a bad answer, a bad table).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Retry(String),
    #[error("{0}")]
    Fatal(String),
}
