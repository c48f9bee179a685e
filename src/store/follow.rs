//! Rows of what follows an answer: restrictions in force, rows held under a legal
//! obligation, fees. Every change of state is a conditional update from the state read, so
//! two members of staff (or a worker and a person) never both move the same row.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{fees, requests, restrictions, retention_holds};
use crate::domain::follow::{FeeBasis, FeeState, HoldState, RestrictionState};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = restrictions)]
pub struct RestrictionRow {
    pub id: i64,
    pub request_id: i64,
    pub ground: Option<String>,
    pub sources: String,
    #[diesel(deserialize_as = String)]
    pub state: RestrictionState,
    pub since: NaiveDateTime,
    pub lift_on: Option<NaiveDate>,
    pub lift_reason: Option<String>,
    pub lift_by: Option<String>,
    pub notice_sent_at: Option<NaiveDateTime>,
    pub lifted_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
}

impl RestrictionRow {
    pub fn source_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.sources).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = retention_holds)]
pub struct HoldRow {
    pub id: i64,
    pub request_id: i64,
    pub source: String,
    pub what: String,
    pub rows_kept: i64,
    pub activity: String,
    pub rule: String,
    pub until: NaiveDate,
    pub keys: String,
    #[diesel(deserialize_as = String)]
    pub state: HoldState,
    pub created_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
    pub outcome: Option<String>,
}

impl HoldRow {
    pub fn key_values(&self) -> Vec<String> {
        serde_json::from_str(&self.keys).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fees)]
pub struct FeeRow {
    pub id: i64,
    pub request_id: i64,
    #[diesel(deserialize_as = String)]
    pub basis: FeeBasis,
    pub amount_cents: i64,
    pub reason: String,
    #[diesel(deserialize_as = String)]
    pub state: FeeState,
    pub decided_by: String,
    pub decided_at: NaiveDateTime,
    pub settled_by: Option<String>,
    pub settled_at: Option<NaiveDateTime>,
}

// ---- restrictions

pub fn insert_restriction(
    conn: &mut DbConn,
    request_id: i64,
    ground: Option<&str>,
    sources: &[String],
    since: NaiveDateTime,
) -> QueryResult<i64> {
    let sources = serde_json::to_string(sources).unwrap_or_else(|_| "[]".into());
    crate::per_backend!(conn, |c| diesel::insert_into(restrictions::table)
        .values((
            restrictions::request_id.eq(request_id),
            restrictions::ground.eq(ground),
            restrictions::sources.eq(&sources),
            restrictions::state.eq(RestrictionState::Active.as_str()),
            restrictions::since.eq(since),
        ))
        .returning(restrictions::id)
        .get_result(c))
}

pub fn restriction(conn: &mut DbConn, id: i64) -> QueryResult<Option<RestrictionRow>> {
    restrictions::table
        .find(id)
        .select(RestrictionRow::as_select())
        .first(conn)
        .optional()
}

pub fn restriction_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Option<RestrictionRow>> {
    restrictions::table
        .filter(restrictions::request_id.eq(request_id))
        .select(RestrictionRow::as_select())
        .first(conn)
        .optional()
}

/// Restrictions still in force, oldest first, with their request.
pub fn restrictions_in_force(
    conn: &mut DbConn,
) -> QueryResult<Vec<(RestrictionRow, super::requests::RequestRow)>> {
    restrictions::table
        .inner_join(requests::table)
        .filter(restrictions::state.ne(RestrictionState::Lifted.as_str()))
        .order(restrictions::since.asc())
        .select((
            RestrictionRow::as_select(),
            super::requests::RequestRow::as_select(),
        ))
        .load(conn)
}

/// The lift as decided: the date, why and who, the notice's time.
pub struct Lift<'a> {
    pub on: NaiveDate,
    pub reason: &'a str,
    pub by: &'a str,
    pub notice_at: NaiveDateTime,
}

/// Moves `from` → `to`; false when the row is no longer in `from`.
pub fn move_restriction(
    conn: &mut DbConn,
    id: i64,
    from: RestrictionState,
    to: RestrictionState,
    lift: Option<&Lift<'_>>,
    lifted_at: Option<NaiveDateTime>,
    outcome: Option<&str>,
) -> QueryResult<bool> {
    debug_assert!(from.can_become(to), "{from} -> {to}");
    let target = restrictions::table
        .find(id)
        .filter(restrictions::state.eq(from.as_str()));
    let n = match (to, lift) {
        // Called off: the restriction stays as it was before the notice.
        (RestrictionState::Active, _) => diesel::update(target)
            .set((
                restrictions::state.eq(to.as_str()),
                restrictions::lift_on.eq(None::<NaiveDate>),
                restrictions::lift_reason.eq(None::<String>),
                restrictions::lift_by.eq(None::<String>),
            ))
            .execute(conn)?,
        (_, Some(l)) => diesel::update(target)
            .set((
                restrictions::state.eq(to.as_str()),
                restrictions::lift_on.eq(l.on),
                restrictions::lift_reason.eq(l.reason),
                restrictions::lift_by.eq(l.by),
                restrictions::notice_sent_at.eq(l.notice_at),
            ))
            .execute(conn)?,
        (_, None) => diesel::update(target)
            .set((
                restrictions::state.eq(to.as_str()),
                restrictions::lifted_at.eq(lifted_at),
                restrictions::outcome.eq(outcome),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Lifts whose day has come and that are still waiting (what the nightly sweep re-enqueues if
/// their job was lost).
pub fn lifts_due(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Vec<RestrictionRow>> {
    restrictions::table
        .filter(restrictions::state.eq(RestrictionState::LiftScheduled.as_str()))
        .filter(restrictions::lift_on.le(today))
        .select(RestrictionRow::as_select())
        .load(conn)
}

// ---- holds

pub struct NewHold<'a> {
    pub request_id: i64,
    pub source: &'a str,
    pub what: &'a str,
    pub rows: i64,
    pub activity: &'a str,
    pub rule: &'a str,
    pub until: NaiveDate,
    pub keys: &'a [String],
}

pub fn insert_hold(conn: &mut DbConn, h: &NewHold<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    let keys = serde_json::to_string(h.keys).unwrap_or_else(|_| "[]".into());
    crate::per_backend!(conn, |c| diesel::insert_into(retention_holds::table)
        .values((
            retention_holds::request_id.eq(h.request_id),
            retention_holds::source.eq(h.source),
            retention_holds::what.eq(h.what),
            retention_holds::rows_kept.eq(h.rows),
            retention_holds::activity.eq(h.activity),
            retention_holds::rule.eq(h.rule),
            retention_holds::until.eq(h.until),
            retention_holds::keys.eq(&keys),
            retention_holds::state.eq(HoldState::Held.as_str()),
            retention_holds::created_at.eq(now),
        ))
        .returning(retention_holds::id)
        .get_result(c))
}

pub fn hold(conn: &mut DbConn, id: i64) -> QueryResult<Option<HoldRow>> {
    retention_holds::table
        .find(id)
        .select(HoldRow::as_select())
        .first(conn)
        .optional()
}

pub fn holds_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<HoldRow>> {
    retention_holds::table
        .filter(retention_holds::request_id.eq(request_id))
        .order(retention_holds::id.asc())
        .select(HoldRow::as_select())
        .load(conn)
}

/// Holds ending by `by` (or past it) still held, and every hold left to the team, soonest
/// first, with their request.
pub fn holds_ending(
    conn: &mut DbConn,
    by: NaiveDate,
) -> QueryResult<Vec<(HoldRow, super::requests::RequestRow)>> {
    retention_holds::table
        .inner_join(requests::table)
        .filter(
            retention_holds::state
                .eq(HoldState::Task.as_str())
                .or(retention_holds::state
                    .eq(HoldState::Held.as_str())
                    .and(retention_holds::until.le(by))),
        )
        .order((retention_holds::until.asc(), retention_holds::id.asc()))
        .select((
            HoldRow::as_select(),
            super::requests::RequestRow::as_select(),
        ))
        .load(conn)
}

/// How many holds end after `after`.
pub fn holds_later(conn: &mut DbConn, after: NaiveDate) -> QueryResult<i64> {
    retention_holds::table
        .filter(retention_holds::state.eq(HoldState::Held.as_str()))
        .filter(retention_holds::until.gt(after))
        .count()
        .get_result(conn)
}

/// Holds whose end has come and that are still held.
pub fn holds_due(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Vec<HoldRow>> {
    retention_holds::table
        .filter(retention_holds::state.eq(HoldState::Held.as_str()))
        .filter(retention_holds::until.le(today))
        .select(HoldRow::as_select())
        .load(conn)
}

/// Moves `from` → `to`. Once the rows are erased the keys that found them are no longer
/// needed and go (they are the person's).
pub fn move_hold(
    conn: &mut DbConn,
    id: i64,
    from: HoldState,
    to: HoldState,
    at: NaiveDateTime,
    outcome: &str,
) -> QueryResult<bool> {
    debug_assert!(from.can_become(to), "{from} -> {to}");
    let target = retention_holds::table
        .find(id)
        .filter(retention_holds::state.eq(from.as_str()));
    let n = if to == HoldState::Ended {
        diesel::update(target)
            .set((
                retention_holds::state.eq(to.as_str()),
                retention_holds::ended_at.eq(at),
                retention_holds::outcome.eq(outcome),
                retention_holds::keys.eq("[]"),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                retention_holds::state.eq(to.as_str()),
                retention_holds::outcome.eq(outcome),
            ))
            .execute(conn)?
    };
    Ok(n == 1)
}

// ---- fees

pub struct NewFee<'a> {
    pub request_id: i64,
    pub basis: FeeBasis,
    pub amount_cents: i64,
    pub reason: &'a str,
    pub by: &'a str,
    pub at: NaiveDateTime,
}

pub fn insert_fee(conn: &mut DbConn, f: &NewFee<'_>) -> QueryResult<i64> {
    crate::per_backend!(conn, |c| diesel::insert_into(fees::table)
        .values((
            fees::request_id.eq(f.request_id),
            fees::basis.eq(f.basis.as_str()),
            fees::amount_cents.eq(f.amount_cents),
            fees::reason.eq(f.reason),
            fees::state.eq(FeeState::Asked.as_str()),
            fees::decided_by.eq(f.by),
            fees::decided_at.eq(f.at),
        ))
        .returning(fees::id)
        .get_result(c))
}

pub fn fees_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<Vec<FeeRow>> {
    fees::table
        .filter(fees::request_id.eq_any(request_ids))
        .order(fees::id.asc())
        .select(FeeRow::as_select())
        .load(conn)
}

pub fn settle_fee(
    conn: &mut DbConn,
    id: i64,
    to: FeeState,
    by: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        fees::table
            .find(id)
            .filter(fees::state.eq(FeeState::Asked.as_str())),
    )
    .set((
        fees::state.eq(to.as_str()),
        fees::settled_by.eq(by),
        fees::settled_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// What people wrote on these requests' fees and lifts goes when the requests are anonymised;
/// the amounts, grounds, states and dates stay as the register's proof.
pub fn forget_texts_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<()> {
    diesel::update(fees::table.filter(fees::request_id.eq_any(request_ids)))
        .set(fees::reason.eq(""))
        .execute(conn)?;
    diesel::update(restrictions::table.filter(restrictions::request_id.eq_any(request_ids)))
        .set(restrictions::lift_reason.eq(None::<String>))
        .execute(conn)?;
    Ok(())
}
