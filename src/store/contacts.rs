//! How to reach a request's person other than by email (`request_contacts`): the postal
//! address, whether every answer goes by post, and the registered letter the request came by.

use diesel::prelude::*;

use super::DbConn;
use super::schema::request_contacts;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = request_contacts)]
pub struct ContactRow {
    pub request_id: i64,
    /// Every answer goes by letter: chosen, or no email address given.
    pub prefers_post: bool,
    /// One line per line of the envelope, above the postcode and city.
    pub address_lines: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub received_registered: Option<String>,
}

impl ContactRow {
    pub fn has_address(&self) -> bool {
        self.address_lines.as_deref().is_some_and(|l| !l.is_empty())
    }
}

pub fn insert(conn: &mut DbConn, row: &ContactRow) -> QueryResult<()> {
    diesel::insert_into(request_contacts::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConn, request_id: i64) -> QueryResult<Option<ContactRow>> {
    request_contacts::table
        .find(request_id)
        .select(ContactRow::as_select())
        .first(conn)
        .optional()
}

/// The address names the person: it goes when the request is anonymised.
pub fn forget(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(request_contacts::table.filter(request_contacts::request_id.eq_any(request_ids)))
        .execute(conn)
}
