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
    /// What the source could not do itself and a person has to: [`by_hand`] entries, or a
    /// service's own words.
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

super::kind::text_enum! {
    /// Why something is left to a person, as a run's outcome records it ([`by_hand`]), so the
    /// dashboard says it in the team's language.
    pub enum ByHand (what = "work by hand", ignore_case = false) {
        /// The table is found by email address; the request gives none. About: the table.
        SearchNoEmail => "search_no_email",
        /// The table is found by customer number; the request gives none. About: the table.
        SearchNoRef => "search_no_ref",
        /// No restriction column is written for the table. About: the table.
        Restrict => "restrict",
        /// No way to stop the processing is written for the table. About: the table.
        Object => "object",
        /// No table of the source lets the field be corrected. About: the field.
        Rectify => "rectify",
        /// A recipient of the data to tell of the change (Art. 19). About: the recipient.
        TellRecipient => "tell_recipient",
        /// The corrections asked, for the team that makes them. About: "field = value, …".
        Corrections => "corrections",
        /// No way to lift the restriction is written for the table. About: the table.
        Lift => "lift",
        /// The source cannot lift a restriction itself. About: nothing.
        CannotLift => "cannot_lift",
        /// No source restricted the data: the team did, and lifts it. About: nothing.
        TeamRestricted => "team_restricted",
        /// The source or table is no longer in the sources file. About: its id.
        Gone => "gone",
        /// The source cannot erase kept rows itself. About: nothing.
        CannotErase => "cannot_erase",
        /// The kept rows were recorded without their keys. About: the table.
        KeysMissing => "keys_missing",
    }
}

/// One entry of [`Outcome::manual`]: the reason and what it is about ("restrict:orders").
pub fn by_hand(why: ByHand, about: &str) -> String {
    format!("{}:{about}", why.as_str())
}

/// Reads an entry written by [`by_hand`]; `None` for a service's own words (or an entry from
/// before entries were written so), which are shown as they came.
pub fn read_by_hand(entry: &str) -> Option<(ByHand, &str)> {
    let (why, about) = entry.split_once(':').unwrap_or((entry, ""));
    Some((why.parse().ok()?, about))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_by_hand_read_back_and_other_words_do_not() {
        assert_eq!(
            read_by_hand(&by_hand(ByHand::Restrict, "orders")),
            Some((ByHand::Restrict, "orders"))
        );
        assert_eq!(
            read_by_hand(&by_hand(ByHand::Corrections, "phone = 06: 12")),
            Some((ByHand::Corrections, "phone = 06: 12"))
        );
        assert_eq!(read_by_hand("cannot_lift"), Some((ByHand::CannotLift, "")));
        assert_eq!(read_by_hand("table orders: no restriction column"), None);
        assert_eq!(read_by_hand("Le service a répondu : à vérifier"), None);
    }
}
