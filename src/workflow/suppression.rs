//! The suppression list: the keyed hash of the address of everyone who objected to direct
//! marketing or withdrew consent, so the organisation's other systems can check an address
//! (`POST /api/v1/suppressions/check`) without the list holding it in clear.

use crate::domain::kind::RequestKind;
use crate::state::AppState;
use crate::store::DbConn;
use crate::store::fulfilment as rows;
use crate::store::requests::RequestRow;

/// The keyed hash the suppression list stores for an address.
pub fn suppression_hash(master: &[u8; 32], email: &str) -> String {
    let normalised = email.trim().to_lowercase();
    crate::crypto::hex(&crate::crypto::hmac(
        &crate::crypto::subkey(master, "dsar suppression list v1"),
        normalised.as_bytes(),
    ))
}

/// Puts the person the request is about on the suppression list when the request is an
/// objection or a consent withdrawal; whether or not any source was asked (idempotent).
pub fn suppress_for(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let Some(scope) = scope(row.kind) else {
        return Ok(());
    };
    // An objection to another processing is balanced (Art. 21(1)), never a marketing one.
    if crate::domain::scope::needs_balancing(row.kind, &row.form) {
        return Ok(());
    }
    let Some(address) = suppressed_address(row) else {
        return Ok(());
    };
    let hash = suppression_hash(&state.fulfilment_key, address);
    rows::suppress(conn, &hash, scope, row.id, now)
}

/// Whose address goes on the list: the person represented when a representative filed (the
/// objection is theirs, and the representative's own mail must go on), else the requester.
/// `None` for a person represented known by their customer reference only: there is no
/// address to hash, and the sources, searched by that reference, record the objection.
fn suppressed_address(row: &RequestRow) -> Option<&str> {
    match &row.subject_name {
        Some(_) => row.subject_email.as_deref(),
        None => Some(row.requester_email.as_str()),
    }
}

/// The scope a kind of request puts on the suppression list.
pub fn scope(kind: RequestKind) -> Option<&'static str> {
    match kind {
        RequestKind::Objection => Some("direct_marketing"),
        RequestKind::ConsentWithdrawal => Some("consent"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_hashes_ignore_case_and_depend_on_the_key() {
        let k = [7u8; 32];
        assert_eq!(
            suppression_hash(&k, " Jeanne@Example.org"),
            suppression_hash(&k, "jeanne@example.org")
        );
        assert_ne!(
            suppression_hash(&k, "jeanne@example.org"),
            suppression_hash(&[8u8; 32], "jeanne@example.org")
        );
    }
}
