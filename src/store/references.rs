//! Requests named by their UUID (as the audit trail records them) read back as references,
//! for pages that show people a reference and a link instead of a UUID.

use std::collections::HashMap;

use diesel::prelude::*;

use super::DbConn;
use super::schema::requests;

/// `(ref_year, id)` of each request among `uuids`; a UUID no request has (anonymised, or
/// deleted) is absent.
pub fn by_uuid(conn: &mut DbConn, uuids: &[String]) -> QueryResult<HashMap<String, (i32, i64)>> {
    if uuids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, i32, i64)> = requests::table
        .filter(requests::uuid.eq_any(uuids))
        .select((requests::uuid, requests::ref_year, requests::id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(uuid, year, id)| (uuid, (year, id)))
        .collect())
}

/// The UUID of the request with this reference.
pub fn uuid_of(conn: &mut DbConn, year: i32, id: i64) -> QueryResult<Option<String>> {
    requests::table
        .filter(requests::id.eq(id))
        .filter(requests::ref_year.eq(year))
        .select(requests::uuid)
        .first(conn)
        .optional()
}
