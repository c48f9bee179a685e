//! What a data source did for a request (found, erased, kept under a retention rule, changed,
//! left to a person): the run's recorded outcome, which the answer letter states.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a source did, kept as the run's outcome and used by the answer letter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Outcome {
    /// Records found, per table (access).
    pub tables: BTreeMap<String, u64>,
    /// Rows deleted or anonymised.
    pub erased: Vec<Changed>,
    /// Rows kept under a retention rule.
    pub kept: Vec<Kept>,
    /// Rows changed by rectification, restriction or objection.
    pub changed: Vec<Changed>,
    /// What the source could not do itself and a person has to.
    pub manual: Vec<String>,
    /// What an internal service said.
    pub note: Option<String>,
    /// A file a team uploaded (manual sources).
    pub file_name: Option<String>,
    /// Why staff went on without this source (it could not be searched).
    pub skipped: Option<String>,
    /// What the team did by hand (a manual source, or what a source left to do), as they
    /// wrote it; quoted in the answer.
    pub team_note: Option<String>,
}

impl Outcome {
    pub fn records(&self) -> u64 {
        self.tables.values().sum()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub what: String,
    pub rows: u64,
    /// "deleted", "anonymised", or the fields changed.
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    pub what: String,
    pub rows: u64,
    /// The register activity whose retention applies (empty when a service said it).
    #[serde(default)]
    pub activity: String,
    /// The rule: the law, or the criterion.
    pub rule: String,
    pub until: Option<NaiveDate>,
    /// The values of the table's match column that found the kept rows, so they are found
    /// again when the retention ends (a parent they were found through may be anonymised
    /// by then). Internal keys, never shown; empty from services that keep rows themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
}
