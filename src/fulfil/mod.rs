//! Fulfilment: a request dispatched to every data source as its kind needs, each source run
//! by a job (retried through the queue) or handed to a team, the access package built from
//! what they found, reviewed, released for a limited time and number of downloads, and
//! purged after (the suppression list an objection leads to is [`crate::workflow::suppression`]).

pub mod connectors;
mod delivery;
mod dispatch;
mod index;
mod letter;
pub mod package;
mod runs;
pub mod sealed;
mod staging;
pub mod zip;

pub use delivery::*;
pub use dispatch::*;
pub use letter::*;
pub use runs::*;
pub use staging::*;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::store::requests::RequestRow;
use crate::workflow;
use connectors::Subject;

pub const SOURCE_RUN: &str = "source_run";
pub const BUILD_EXPORT: &str = "build_export";

#[derive(Serialize, Deserialize)]
pub(super) struct RunPayload {
    run: i64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct BuildPayload {
    request: i64,
}

/// The key packages and staged data are encrypted with.
pub fn package_key(state: &AppState) -> [u8; 32] {
    crate::crypto::subkey(&state.fulfilment_key, "dsar package encryption v1")
}

/// Whom the sources are searched for: the person represented when a representative filed
/// (never the representative, whose own data are not what was asked for), else the
/// requester. A request filed before the person represented was asked for has none.
pub fn subject(row: &RequestRow) -> Subject {
    let reference = workflow::reference(row).to_string();
    match &row.subject_name {
        Some(name) => Subject {
            email: row.subject_email.clone(),
            name: name.clone(),
            customer_ref: row.subject_customer_ref.clone(),
            reference,
        },
        None => Subject {
            email: Some(row.requester_email.clone()),
            name: row.requester_name.clone(),
            customer_ref: row.customer_ref.clone(),
            reference,
        },
    }
}

/// What this request asks the sources to do: its kind's operation, or for an heir's request,
/// the one its answer calls for (see `Operation::for_request`); `None`: nothing is sent.
pub fn operation(row: &RequestRow) -> Option<crate::domain::fulfilment::Operation> {
    let answers = match serde_json::from_str::<serde_json::Value>(&row.form) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    crate::domain::fulfilment::Operation::for_request(row.kind, &answers)
}

/// Parses "field = value" lines (what staff type for a rectification).
pub fn parse_changes(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut changes = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((field, value)) = line.split_once('=') else {
            return Err(format!(
                "\"{line}\": write one correction per line as field = new value."
            ));
        };
        let field = field.trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("\"{field}\" is not a field name."));
        }
        changes.insert(field.to_string(), value.trim().to_string());
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_are_field_equals_value_lines() {
        let c = parse_changes("first_name = Jeanne\n\n phone=+33 6 00 00 00 00 \n").unwrap();
        assert_eq!(c["first_name"], "Jeanne");
        assert_eq!(c["phone"], "+33 6 00 00 00 00");
        assert!(parse_changes("just text").is_err());
        assert!(parse_changes("a b = c").is_err());
    }

    #[test]
    fn uploaded_names_are_made_safe() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\scans\\lettre 1.pdf"), "lettre 1.pdf");
        assert_eq!(safe_file_name(".."), "document");
    }
}
