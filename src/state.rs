//! What the services share: settings, the law, the organisation's register and data sources,
//! the fulfilment key, the database pool, the file stores and the clock. Built once at start by
//! the wiring (`app`), read-only afterwards; the web layer adds its own caches around it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::processing::Register;
use crate::config::sources::Sources;
use crate::config::{Law, Settings};
use crate::store::files::FileStore;
use crate::store::{Backend, Pool};

pub struct AppState {
    pub settings: Settings,
    pub law: Law,
    /// The record of processing activities; `None` until `register.file` names one.
    pub register: Option<Register>,
    /// The data sources requests are fulfilled from (none: answered by hand).
    pub sources: Sources,
    /// Encrypts packages and staged data at rest; keys the suppression list.
    pub fulfilment_key: [u8; 32],
    pub pool: Pool,
    pub backend: Backend,
    pub clock: Clock,
    /// Uploaded documents and attachments.
    pub files: FileStore,
    /// The fulfilment folder's staged data and packages (encrypted by `fulfil`).
    pub fulfilment_files: FileStore,
    /// How the periodic tasks this process's worker ran last went, for `/metrics`.
    pub task_runs: TaskRuns,
}

/// The last run of each periodic task by this process's worker: seconds taken, and whether
/// it succeeded. (A separate `dsar worker` process keeps its own; scrape the serving
/// processes that embed the worker.)
#[derive(Default)]
pub struct TaskRuns {
    last: Mutex<BTreeMap<&'static str, (f64, bool, u64)>>,
}

impl TaskRuns {
    pub fn record(&self, task: &'static str, took: Duration, ok: bool) {
        if let Ok(mut last) = self.last.lock() {
            let runs = last.get(task).map_or(0, |(_, _, n)| *n) + 1;
            last.insert(task, (took.as_secs_f64(), ok, runs));
        }
    }

    pub fn snapshot(&self) -> Vec<(&'static str, f64, bool, u64)> {
        self.last
            .lock()
            .map(|m| m.iter().map(|(k, (s, ok, n))| (*k, *s, *ok, *n)).collect())
            .unwrap_or_default()
    }
}
