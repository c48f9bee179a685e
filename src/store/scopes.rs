//! What a request covers, as staff confirmed it (`request_scopes`), and the balancing
//! decision on an objection to a processing other than direct marketing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::request_scopes;
use crate::domain::scope::{Balancing, Scope};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = request_scopes)]
pub struct ScopeRow {
    pub request_id: i64,
    /// JSON list of register activities; `None` for everything.
    pub activities: Option<String>,
    pub confirmed_by: String,
    pub confirmed_at: NaiveDateTime,
    pub balancing: Option<String>,
    pub grounds: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
}

impl ScopeRow {
    pub fn scope(&self) -> Scope {
        Scope::from_stored(self.activities.as_deref())
    }

    pub fn balancing(&self) -> Option<Balancing> {
        self.balancing.as_deref().and_then(|b| b.parse().ok())
    }
}

pub fn find(conn: &mut DbConn, request_id: i64) -> QueryResult<Option<ScopeRow>> {
    request_scopes::table
        .find(request_id)
        .select(ScopeRow::as_select())
        .first(conn)
        .optional()
}

/// The scopes of several requests at once (the register of requests).
pub fn for_requests(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<ScopeRow>> {
    request_scopes::table
        .filter(request_scopes::request_id.eq_any(ids))
        .select(ScopeRow::as_select())
        .load(conn)
}

/// Confirms (or confirms again) what the request covers; a new scope clears a balancing
/// decision taken on the old one.
pub fn confirm(
    conn: &mut DbConn,
    request_id: i64,
    scope: &Scope,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let activities = scope.to_stored();
    let updated = diesel::update(request_scopes::table.find(request_id))
        .set((
            request_scopes::activities.eq(&activities),
            request_scopes::confirmed_by.eq(by),
            request_scopes::confirmed_at.eq(at),
            request_scopes::balancing.eq(None::<String>),
            request_scopes::grounds.eq(None::<String>),
            request_scopes::decided_by.eq(None::<String>),
            request_scopes::decided_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(request_scopes::table)
            .values((
                request_scopes::request_id.eq(request_id),
                request_scopes::activities.eq(&activities),
                request_scopes::confirmed_by.eq(by),
                request_scopes::confirmed_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn decide(
    conn: &mut DbConn,
    request_id: i64,
    decision: Balancing,
    grounds: Option<&str>,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(request_scopes::table.find(request_id))
        .set((
            request_scopes::balancing.eq(Some(decision.as_str())),
            request_scopes::grounds.eq(grounds),
            request_scopes::decided_by.eq(Some(by)),
            request_scopes::decided_at.eq(Some(at)),
        ))
        .execute(conn)
}

/// The grounds may name the person: they go when the request is anonymised.
pub fn forget(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::update(request_scopes::table.filter(request_scopes::request_id.eq_any(request_ids)))
        .set(request_scopes::grounds.eq(None::<String>))
        .execute(conn)
}
