//! A PostgreSQL or SQLite database read and changed table by table. Table and column names
//! come from the checked sources file (plain identifiers, quoted); the person's identity and
//! every value written are bound parameters, never SQL text. Rows are read as one JSON
//! object each (`json_object` / `json_build_object`), so any columns work on both backends
//! without a Rust type per table, one row at a time so a large table never sits in memory.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};

use super::{Changed, Kept, Outcome, Sink, SourceError, Subject};
use crate::config::processing::Register;
use crate::config::sources::{Erase, IdentityKey, Operation, SqlSource, Table};
use crate::domain::outcome::{ByHand, by_hand};

enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

/// Runs `$method` on an `sql_query` with text binds, on whichever backend the source is.
macro_rules! query {
    ($conn:expr, $sql:expr, $binds:expr, $method:ident) => {
        match $conn {
            Conn::Sqlite(c) => {
                let mut q = diesel::sql_query($sql).into_boxed::<Sqlite>();
                for b in $binds {
                    q = q.bind::<Text, _>(b.clone());
                }
                q.$method(c)
            }
            Conn::Pg(c) => {
                let mut q = diesel::sql_query($sql).into_boxed::<Pg>();
                for b in $binds {
                    q = q.bind::<Text, _>(b.clone());
                }
                q.$method(c)
            }
        }
    };
}

impl Conn {
    fn open(url: &str) -> Result<Conn, SourceError> {
        let retry = |e: diesel::ConnectionError| {
            SourceError::Retry(format!(
                "cannot open {}: {e}",
                crate::config::redact_url(url)
            ))
        };
        if let Some(path) = url.strip_prefix("sqlite://") {
            // A missing file would be created empty and "find" nothing: refuse instead.
            if !std::path::Path::new(path).exists() {
                return Err(SourceError::Fatal(format!("no database file at {path}")));
            }
            let mut c = SqliteConnection::establish(path).map_err(retry)?;
            c.batch_execute("PRAGMA busy_timeout = 5000;")
                .map_err(|e| SourceError::Retry(e.to_string()))?;
            Ok(Conn::Sqlite(c))
        } else {
            let mut c = PgConnection::establish(url).map_err(retry)?;
            // A source blocked on a lock, or a query that never ends, fails the run (which
            // staff see and run again) instead of holding the worker for good.
            c.batch_execute("SET statement_timeout = '15min'; SET lock_timeout = '30s';")
                .map_err(|e| SourceError::Retry(e.to_string()))?;
            Ok(Conn::Pg(c))
        }
    }

    fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    fn texts(&mut self, sql: &str, binds: &[String]) -> QueryResult<Vec<Option<String>>> {
        let rows: Vec<One> = query!(self, sql, binds, load)?;
        Ok(rows.into_iter().map(|r| r.v).collect())
    }

    fn execute(&mut self, sql: &str, binds: &[String]) -> QueryResult<usize> {
        query!(self, sql, binds, execute)
    }

    fn transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Conn) -> Result<T, SourceError>,
    ) -> Result<T, SourceError> {
        let begin = if self.is_pg() {
            "BEGIN"
        } else {
            "BEGIN IMMEDIATE"
        };
        self.batch_execute(begin)?;
        match work(self) {
            Ok(t) => {
                self.batch_execute("COMMIT")?;
                Ok(t)
            }
            Err(e) => {
                let _ = self.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }

    fn batch_execute(&mut self, sql: &str) -> Result<(), SourceError> {
        match self {
            Conn::Sqlite(c) => c.batch_execute(sql),
            Conn::Pg(c) => c.batch_execute(sql),
        }
        .map_err(|e| SourceError::Retry(e.to_string()))
    }
}

/// Said when a table is keyed by something the request does not give.
fn unsearchable(t: &Table) -> String {
    let why = match t.identity {
        IdentityKey::Email => ByHand::SearchNoEmail,
        IdentityKey::CustomerRef => ByHand::SearchNoRef,
    };
    by_hand(why, &t.name)
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

/// The identity value a table is matched on; `None` when the request lacks it.
fn identity(t: &Table, subject: &Subject) -> Option<String> {
    match t.identity {
        IdentityKey::Email => subject
            .email
            .as_ref()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty()),
        IdentityKey::CustomerRef => subject
            .customer_ref
            .as_ref()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
    }
}

/// The `n`th bound parameter. SQLite numbers `$name` parameters in order of appearance, so
/// it gets its explicit `?n` form; PostgreSQL has `$n`.
fn param(pg: bool, n: usize) -> String {
    if pg { format!("${n}") } else { format!("?{n}") }
}

/// `WHERE …` selecting the person's rows, with the identity as parameter 1.
fn filter(t: &Table, pg: bool) -> String {
    let id = param(pg, 1);
    let compare = |column: &str| match t.identity {
        // Addresses differ in case between systems; the person is the same.
        IdentityKey::Email => format!("lower({}) = lower({id})", quote(column)),
        // A customer number may be stored as a number; compared as text on PostgreSQL.
        IdentityKey::CustomerRef if pg => format!("CAST({} AS TEXT) = {id}", quote(column)),
        IdentityKey::CustomerRef => format!("{} = {id}", quote(column)),
    };
    match &t.via {
        None => compare(&t.match_column),
        Some(via) => format!(
            "{} IN (SELECT {} FROM {} WHERE {})",
            quote(&t.match_column),
            quote(&via.key),
            quote(&via.table),
            compare(&via.match_column)
        ),
    }
}

/// A lost connection is worth another try; anything else the table said is not.
fn db_error(t: &Table) -> impl Fn(diesel::result::Error) -> SourceError + '_ {
    use diesel::result::{DatabaseErrorKind, Error};
    move |e| {
        let text = format!("table {}: {e}", t.name);
        match e {
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => SourceError::Retry(text),
            _ => SourceError::Fatal(text),
        }
    }
}

pub fn run(
    source: &SqlSource,
    op: Operation,
    subject: &Subject,
    changes: &BTreeMap<String, String>,
    register: Option<&Register>,
    today: NaiveDate,
    sink: &mut Sink<'_>,
) -> Result<Outcome, SourceError> {
    let mut conn = Conn::open(&source.url)?;
    let mut outcome = Outcome::default();
    match op {
        Operation::Access => {
            for t in &source.tables {
                let Some(id) = identity(t, subject) else {
                    outcome.manual.push(unsearchable(t));
                    continue;
                };
                let found = export_table(&mut conn, t, &id, sink)?;
                if found > 0 {
                    outcome.tables.insert(t.name.clone(), found);
                }
            }
        }
        // One transaction per source: a source is erased or changed entirely, or not at all.
        Operation::Erase => conn.transaction(|conn| {
            // Children first: a table found through another's key must be read before it goes.
            for t in source.tables.iter().rev() {
                let Some(id) = identity(t, subject) else {
                    outcome.manual.push(unsearchable(t));
                    continue;
                };
                erase_table(conn, t, &id, register, today, &mut outcome)?;
            }
            Ok(())
        })?,
        Operation::Rectify | Operation::Restrict | Operation::Object => {
            conn.transaction(|conn| change(conn, source, op, subject, changes, &mut outcome))?
        }
    }
    Ok(outcome)
}

fn export_table(
    conn: &mut Conn,
    t: &Table,
    id: &str,
    sink: &mut Sink<'_>,
) -> Result<u64, SourceError> {
    let pairs: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("'{c}', {}", quote(c)))
        .collect();
    let object = if conn.is_pg() {
        format!("CAST(json_build_object({}) AS TEXT)", pairs.join(", "))
    } else {
        format!("json_object({})", pairs.join(", "))
    };
    let sql = format!(
        "SELECT {object} AS v FROM {} WHERE {}",
        quote(&t.name),
        filter(t, conn.is_pg()),
    );
    let mut found = 0u64;
    let mut each = |row: QueryResult<One>| -> Result<(), SourceError> {
        let Some(text) = row.map_err(db_error(t))?.v else {
            return Ok(());
        };
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| SourceError::Fatal(format!("table {}: {e}", t.name)))?;
        sink(&t.name, value).map_err(|e| SourceError::Retry(e.to_string()))?;
        found += 1;
        Ok(())
    };
    // One statement read row by row: a consistent view of the table, in bounded memory
    // whatever the number of rows (PostgreSQL's default would load the whole result).
    match conn {
        Conn::Sqlite(c) => {
            let rows = diesel::sql_query(&sql)
                .bind::<Text, _>(id)
                .load_iter::<One, diesel::connection::DefaultLoadingMode>(c)
                .map_err(db_error(t))?;
            for row in rows {
                each(row)?;
            }
        }
        Conn::Pg(c) => {
            let rows = diesel::sql_query(&sql)
                .bind::<Text, _>(id)
                .load_iter::<One, diesel::pg::PgRowByRowLoadingMode>(c)
                .map_err(db_error(t))?;
            for row in rows {
                each(row)?;
            }
        }
    }
    Ok(found)
}

fn count(conn: &mut Conn, t: &Table, id: &str) -> Result<u64, SourceError> {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS v FROM {} WHERE {}",
        quote(&t.name),
        filter(t, conn.is_pg())
    );
    let rows = conn.texts(&sql, &[id.to_string()]).map_err(db_error(t))?;
    Ok(rows
        .into_iter()
        .flatten()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn erase_table(
    conn: &mut Conn,
    t: &Table,
    id: &str,
    register: Option<&Register>,
    today: NaiveDate,
    outcome: &mut Outcome,
) -> Result<(), SourceError> {
    let table = quote(&t.name);
    let pg = conn.is_pg();
    match &t.erase {
        Erase::Delete => {
            let sql = format!("DELETE FROM {table} WHERE {}", filter(t, pg));
            let rows = conn.execute(&sql, &[id.to_string()]).map_err(db_error(t))? as u64;
            if rows > 0 {
                outcome.erased.push(Changed {
                    what: t.name.clone(),
                    rows,
                    how: "deleted".into(),
                });
            }
        }
        Erase::Anonymise(columns) => {
            let (sets, mut binds) = assignments(conn, t, columns, 2)?;
            binds.insert(0, id.to_string());
            let sql = format!("UPDATE {table} SET {sets} WHERE {}", filter(t, pg));
            let rows = conn.execute(&sql, &binds).map_err(db_error(t))? as u64;
            if rows > 0 {
                outcome.erased.push(Changed {
                    what: t.name.clone(),
                    rows,
                    how: format!(
                        "anonymised ({})",
                        columns.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Erase::Keep { activity } => {
            let rows = count(conn, t, id)?;
            if rows == 0 {
                return Ok(());
            }
            let latest = match &t.keep_from {
                Some(column) => {
                    let sql = format!(
                        "SELECT CAST(MAX({}) AS TEXT) AS v FROM {table} WHERE {}",
                        quote(column),
                        filter(t, pg)
                    );
                    conn.texts(&sql, &[id.to_string()])
                        .map_err(db_error(t))?
                        .into_iter()
                        .flatten()
                        .next()
                        .and_then(|v| v.get(..10).and_then(|d| d.parse::<NaiveDate>().ok()))
                }
                None => None,
            };
            let a = register.and_then(|r| r.activities.iter().find(|a| &a.id == activity));
            let rule = a
                .map(|a| {
                    a.retention
                        .legal_reference
                        .clone()
                        .or_else(|| a.retention.criterion.as_ref().map(|c| c.en.clone()))
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            let until = a.and_then(|a| a.retention.duration).map(|d| {
                crate::domain::deadline::add_period(latest.unwrap_or(today), d.as_period())
            });
            // Read now, while the rows are still found through the person's identity: a
            // parent they are found through may be anonymised in this same erasure.
            let keys = conn
                .texts(
                    &format!(
                        "SELECT DISTINCT CAST({} AS TEXT) AS v FROM {table} WHERE {}",
                        quote(&t.match_column),
                        filter(t, pg)
                    ),
                    &[id.to_string()],
                )
                .map_err(db_error(t))?
                .into_iter()
                .flatten()
                .collect();
            outcome.kept.push(Kept {
                what: t.name.clone(),
                rows,
                activity: activity.clone(),
                rule,
                until,
                keys,
            });
        }
    }
    Ok(())
}

/// `"a" = $2, "b" = $3` and the values, in column order. On PostgreSQL a text parameter is
/// not cast to the column's type by itself, so each value is cast to the type the catalogue
/// gives (SQLite converts by column affinity).
fn assignments(
    conn: &mut Conn,
    t: &Table,
    values: &BTreeMap<String, String>,
    first: usize,
) -> Result<(String, Vec<String>), SourceError> {
    let mut sets = Vec::new();
    for (i, column) in values.keys().enumerate() {
        let p = param(conn.is_pg(), i + first);
        let value = if conn.is_pg() {
            format!("CAST({p} AS {})", pg_type(conn, t, column)?)
        } else {
            p
        };
        sets.push(format!("{} = {value}", quote(column)));
    }
    Ok((sets.join(", "), values.values().cloned().collect()))
}

fn pg_type(conn: &mut Conn, t: &Table, column: &str) -> Result<String, SourceError> {
    let found = conn
        .texts(
            "SELECT format_type(a.atttypid, a.atttypmod) AS v FROM pg_attribute a \
             WHERE a.attrelid = CAST($1 AS regclass) AND a.attname = $2 AND NOT a.attisdropped",
            &[quote(&t.name), column.to_string()],
        )
        .map_err(db_error(t))?
        .into_iter()
        .flatten()
        .next()
        .ok_or_else(|| SourceError::Fatal(format!("table {}: no column {column}", t.name)))?;
    // The catalogue's own words, checked anyway since they go into SQL text.
    if found
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _(),[]\"".contains(c))
    {
        Ok(found)
    } else {
        Err(SourceError::Fatal(format!(
            "table {}: column {column} has a type this connector cannot write",
            t.name
        )))
    }
}

fn change(
    conn: &mut Conn,
    source: &SqlSource,
    op: Operation,
    subject: &Subject,
    changes: &BTreeMap<String, String>,
    outcome: &mut Outcome,
) -> Result<(), SourceError> {
    let mut applied = std::collections::BTreeSet::new();
    for t in &source.tables {
        let Some(id) = identity(t, subject) else {
            outcome.manual.push(unsearchable(t));
            continue;
        };
        let values: BTreeMap<String, String> = match op {
            Operation::Rectify => changes
                .iter()
                .filter(|(field, _)| t.rectify.contains(field))
                .map(|(f, v)| (f.clone(), v.clone()))
                .collect(),
            Operation::Restrict => t.restrict.clone(),
            Operation::Object => t.object.clone(),
            Operation::Access | Operation::Erase => BTreeMap::new(),
        };
        if values.is_empty() {
            if op == Operation::Restrict && count(conn, t, &id)? > 0 {
                outcome.manual.push(by_hand(ByHand::Restrict, &t.name));
            }
            continue;
        }
        let (sets, mut binds) = assignments(conn, t, &values, 2)?;
        binds.insert(0, id);
        let sql = format!(
            "UPDATE {} SET {sets} WHERE {}",
            quote(&t.name),
            filter(t, conn.is_pg())
        );
        let rows = conn.execute(&sql, &binds).map_err(db_error(t))? as u64;
        if rows > 0 {
            applied.extend(values.keys().cloned());
            outcome.changed.push(Changed {
                what: t.name.clone(),
                rows,
                how: values.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
    }
    if op == Operation::Rectify {
        for field in changes.keys().filter(|f| !applied.contains(*f)) {
            outcome.manual.push(by_hand(ByHand::Rectify, field));
        }
    }
    Ok(())
}

/// How many keys go in one statement: well under both engines' limits on parameters.
const KEYS_PER_STATEMENT: usize = 500;

/// Erases the rows a retention rule kept, once it ended: the rows of `table` whose match
/// column holds one of `keys` (as recorded when they were kept), and nothing else. Deleted,
/// in one transaction. Returns how many rows went.
pub fn erase_kept(source: &SqlSource, table: &str, keys: &[String]) -> Result<u64, SourceError> {
    let Some(t) = source.tables.iter().find(|t| t.name == table) else {
        return Err(SourceError::Fatal(by_hand(ByHand::Gone, table)));
    };
    if keys.is_empty() {
        return Err(SourceError::Fatal(by_hand(ByHand::KeysMissing, table)));
    }
    let mut conn = Conn::open(&source.url)?;
    conn.transaction(|conn| {
        let pg = conn.is_pg();
        let mut erased = 0u64;
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let params: Vec<String> = (1..=chunk.len()).map(|n| param(pg, n)).collect();
            let sql = format!(
                "DELETE FROM {} WHERE CAST({} AS TEXT) IN ({})",
                quote(&t.name),
                quote(&t.match_column),
                params.join(", ")
            );
            erased += conn.execute(&sql, chunk).map_err(db_error(t))? as u64;
        }
        Ok(erased)
    })
}

/// Lifts a restriction: writes each table's `unrestrict` values on the person's rows. A
/// table that was restricted by hand, or has no way back written in the sources file, is
/// left to the team (`manual`).
pub fn unrestrict(source: &SqlSource, subject: &Subject) -> Result<Outcome, SourceError> {
    let mut conn = Conn::open(&source.url)?;
    let mut outcome = Outcome::default();
    conn.transaction(|conn| {
        for t in &source.tables {
            let Some(id) = identity(t, subject) else {
                if !t.restrict.is_empty() {
                    outcome.manual.push(unsearchable(t));
                }
                continue;
            };
            if t.unrestrict.is_empty() {
                if count(conn, t, &id)? > 0 {
                    outcome.manual.push(by_hand(ByHand::Lift, &t.name));
                }
                continue;
            }
            let (sets, mut binds) = assignments(conn, t, &t.unrestrict, 2)?;
            binds.insert(0, id);
            let sql = format!(
                "UPDATE {} SET {sets} WHERE {}",
                quote(&t.name),
                filter(t, conn.is_pg())
            );
            let rows = conn.execute(&sql, &binds).map_err(db_error(t))? as u64;
            if rows > 0 {
                outcome.changed.push(Changed {
                    what: t.name.clone(),
                    rows,
                    how: t.unrestrict.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
        Ok(())
    })?;
    Ok(outcome)
}
