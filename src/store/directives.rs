//! Post-mortem directives on file (art. 85 loi Informatique et Libertés): one row per version,
//! the one in force has no `ended_at`. A person is found by their address (lower-cased when
//! stored and when looked up) or their customer reference.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::directives;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = directives)]
pub struct DirectiveRow {
    pub id: i64,
    pub person_name: String,
    pub person_email: Option<String>,
    pub customer_ref: Option<String>,
    /// `general` or `specific`.
    pub kind: String,
    /// `keep`, `erase` or `communicate`.
    pub fate: String,
    pub instructions: String,
    pub designee_name: Option<String>,
    pub designee_email: Option<String>,
    pub request_id: i64,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: String,
    pub ended_at: Option<NaiveDateTime>,
    /// `superseded` or `withdrawn`.
    pub ended_reason: Option<String>,
    pub ended_by_request: Option<i64>,
}

#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = directives)]
pub struct NewDirective<'a> {
    pub person_name: &'a str,
    pub person_email: Option<&'a str>,
    pub customer_ref: Option<&'a str>,
    pub kind: &'a str,
    pub fate: &'a str,
    pub instructions: &'a str,
    pub designee_name: Option<&'a str>,
    pub designee_email: Option<&'a str>,
    pub request_id: i64,
    pub recorded_at: NaiveDateTime,
    pub recorded_by: &'a str,
}

/// Whose directives: an address (compared lower-cased), a customer reference, or both.
#[derive(Debug, Clone, Copy)]
pub struct Whose<'a> {
    pub email: Option<&'a str>,
    pub customer_ref: Option<&'a str>,
}

pub fn insert(conn: &mut DbConn, new: &NewDirective<'_>) -> QueryResult<i64> {
    let email = new.person_email.map(str::to_lowercase);
    let row = NewDirective {
        person_email: email.as_deref(),
        ..*new
    };
    crate::per_backend!(conn, |c| diesel::insert_into(directives::table)
        .values(&row)
        .returning(directives::id)
        .get_result(c))
}

/// Every version for the person, in force or ended, newest first; nothing when `whose` names
/// nobody.
pub fn for_person(conn: &mut DbConn, whose: Whose<'_>) -> QueryResult<Vec<DirectiveRow>> {
    let email = whose
        .email
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    let customer_ref = whose.customer_ref.map(str::trim).filter(|c| !c.is_empty());
    let mut query = directives::table
        .select(DirectiveRow::as_select())
        .order((directives::recorded_at.desc(), directives::id.desc()))
        .into_boxed();
    query = match (&email, customer_ref) {
        (Some(e), Some(c)) => query.filter(
            directives::person_email
                .eq(e.clone())
                .or(directives::customer_ref.eq(c.to_string())),
        ),
        (Some(e), None) => query.filter(directives::person_email.eq(e.clone())),
        (None, Some(c)) => query.filter(directives::customer_ref.eq(c.to_string())),
        (None, None) => return Ok(Vec::new()),
    };
    query.load(conn)
}

/// The versions in force for the person (normally one).
pub fn current_for(conn: &mut DbConn, whose: Whose<'_>) -> QueryResult<Vec<DirectiveRow>> {
    Ok(for_person(conn, whose)?
        .into_iter()
        .filter(|d| d.ended_at.is_none())
        .collect())
}

/// Ends the versions in force with `ids`, as `reason`, by `request_id`; returns how many
/// ended (one ended meanwhile is left as it is).
pub fn end(
    conn: &mut DbConn,
    ids: &[i64],
    reason: &str,
    request_id: i64,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        directives::table
            .filter(directives::id.eq_any(ids))
            .filter(directives::ended_at.is_null()),
    )
    .set((
        directives::ended_at.eq(Some(at)),
        directives::ended_reason.eq(Some(reason)),
        directives::ended_by_request.eq(Some(request_id)),
    ))
    .execute(conn)
}

/// The directives in force, newest first, at most `limit`.
pub fn in_force(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<DirectiveRow>> {
    directives::table
        .filter(directives::ended_at.is_null())
        .select(DirectiveRow::as_select())
        .order((directives::recorded_at.desc(), directives::id.desc()))
        .limit(limit)
        .load(conn)
}

/// The version `id`.
pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<DirectiveRow>> {
    directives::table
        .find(id)
        .select(DirectiveRow::as_select())
        .first(conn)
        .optional()
}

/// The versions recorded or ended by one request.
pub fn by_request(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<DirectiveRow>> {
    directives::table
        .filter(
            directives::request_id
                .eq(request_id)
                .or(directives::ended_by_request.eq(request_id)),
        )
        .select(DirectiveRow::as_select())
        .order(directives::id.asc())
        .load(conn)
}
