//! What the portal stores beside a request: magic-link tokens, documents, messages.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{documents, messages, request_tokens, requests};

pub fn insert_token(
    conn: &mut DbConn,
    request_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(request_tokens::table)
        .values((
            request_tokens::request_id.eq(request_id),
            request_tokens::token_hash.eq(token_hash),
            request_tokens::created_at.eq(now),
            request_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The open requests filed with this address, oldest first: those a link can be mailed
/// again for.
pub fn open_requests_of(
    conn: &mut DbConn,
    email: &str,
    open_statuses: &[&str],
) -> QueryResult<Vec<super::requests::RequestRow>> {
    requests::table
        .filter(lower(requests::requester_email).eq(lower(email)))
        .filter(requests::status.eq_any(open_statuses))
        .order(requests::id.asc())
        .select(super::requests::RequestRow::as_select())
        .load(conn)
}

/// The request a still-valid token opens.
pub fn request_for_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    request_tokens::table
        .filter(request_tokens::token_hash.eq(token_hash))
        .filter(request_tokens::expires_at.gt(now))
        .select(request_tokens::request_id)
        .first(conn)
        .optional()
}

diesel::define_sql_function! {
    /// SQL's `lower`: PostgreSQL compares text with case, and so does SQLite's `=`, but
    /// `Camille@Example.org` and `camille@example.org` are one person.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// `lower` on a column that may be NULL.
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// An open request of the same kind from the same address, which a new one would repeat.
/// Addresses are compared without case, on both backends alike. A representative's request
/// repeats only one for the same person represented (`subject`: their address and customer
/// reference; one of them in common is the same person), not every request they file; a
/// request for oneself (`None`) repeats only another for oneself.
pub fn open_duplicate(
    conn: &mut DbConn,
    email: &str,
    kind: &str,
    subject: Option<(Option<&str>, Option<&str>)>,
    open_statuses: &[&str],
) -> QueryResult<Option<i64>> {
    let same_requester = requests::table
        .filter(lower(requests::requester_email).eq(lower(email)))
        .filter(requests::kind.eq(kind))
        .filter(requests::status.eq_any(open_statuses))
        .order(requests::id.asc())
        .select(requests::id)
        .into_boxed();
    let same_address =
        |e: &str| lower_nullable(requests::subject_email).eq(lower_nullable(e.to_string()));
    let query = match subject {
        None => same_requester.filter(requests::subject_name.is_null()),
        Some((Some(e), Some(r))) => same_requester
            .filter(same_address(e).or(requests::subject_customer_ref.eq(r.to_string()))),
        Some((Some(e), None)) => same_requester.filter(same_address(e)),
        Some((None, Some(r))) => {
            same_requester.filter(requests::subject_customer_ref.eq(r.to_string()))
        }
        // Not a person anyone could find: nothing to repeat.
        Some((None, None)) => return Ok(None),
    };
    query.first(conn).optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: i64,
    pub request_id: i64,
    pub purpose: String,
    pub storage_name: Option<String>,
    pub original_name: Option<String>,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_at: NaiveDateTime,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = documents)]
pub struct NewDocument<'a> {
    pub request_id: i64,
    pub purpose: &'a str,
    pub storage_name: Option<&'a str>,
    pub original_name: Option<&'a str>,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub uploaded_at: NaiveDateTime,
}

pub fn insert_document(conn: &mut DbConn, doc: &NewDocument<'_>) -> QueryResult<DocumentRow> {
    crate::per_backend!(conn, |c| diesel::insert_into(documents::table)
        .values(doc)
        .returning(DocumentRow::as_returning())
        .get_result(c))
}

pub fn documents_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<DocumentRow>> {
    documents::table
        .filter(documents::request_id.eq(request_id))
        .order(documents::id.asc())
        .select(DocumentRow::as_select())
        .load(conn)
}

pub fn find_document(conn: &mut DbConn, id: i64) -> QueryResult<DocumentRow> {
    documents::table
        .find(id)
        .select(DocumentRow::as_select())
        .first(conn)
}

/// Records the decision and forgets the file: only the facts remain.
pub fn decide_document(
    conn: &mut DbConn,
    id: i64,
    decision: &str,
    reason: Option<&str>,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(documents::table.find(id))
        .set((
            documents::decision.eq(decision),
            documents::decision_reason.eq(reason),
            documents::decided_by.eq(by),
            documents::decided_at.eq(now),
            documents::storage_name.eq(None::<String>),
            documents::original_name.eq(None::<String>),
            documents::deleted_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Documents whose file must go: decided, or older than `uploaded_before` whatever happened.
pub fn documents_to_purge(
    conn: &mut DbConn,
    uploaded_before: NaiveDateTime,
) -> QueryResult<Vec<DocumentRow>> {
    documents::table
        .filter(documents::storage_name.is_not_null())
        .filter(
            documents::decided_at
                .is_not_null()
                .or(documents::uploaded_at.lt(uploaded_before)),
        )
        // Files sent with messages are the correspondence: they go with the request.
        .filter(documents::purpose.ne_all(["attachment", "team_attachment"]))
        .select(DocumentRow::as_select())
        .load(conn)
}

/// The stored file names of these requests' documents (`None` where the file is gone).
pub fn document_files_for(
    conn: &mut DbConn,
    request_ids: &[i64],
) -> QueryResult<Vec<Option<String>>> {
    documents::table
        .filter(documents::request_id.eq_any(request_ids))
        .select(documents::storage_name)
        .load(conn)
}

/// (request id, uploaded at) of every document on these requests that the team did not
/// attach itself.
pub fn document_times_not_from_team(
    conn: &mut DbConn,
    request_ids: &[i64],
) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    documents::table
        .filter(documents::request_id.eq_any(request_ids))
        .filter(documents::purpose.ne("team_attachment"))
        .select((documents::request_id, documents::uploaded_at))
        .load(conn)
}

pub fn delete_documents_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(documents::table.filter(documents::request_id.eq_any(request_ids))).execute(conn)
}

pub fn forget_document_file(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(documents::table.find(id))
        .set((
            documents::storage_name.eq(None::<String>),
            documents::original_name.eq(None::<String>),
            documents::deleted_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct MessageRow {
    pub id: i64,
    pub request_id: i64,
    pub author: String,
    pub body: String,
    pub document_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn insert_message(
    conn: &mut DbConn,
    request_id: i64,
    author: &str,
    body: &str,
    document_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(messages::table)
        .values((
            messages::request_id.eq(request_id),
            messages::author.eq(author),
            messages::body.eq(body),
            messages::document_id.eq(document_id),
            messages::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

pub fn messages_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<MessageRow>> {
    messages::table
        .filter(messages::request_id.eq(request_id))
        .order(messages::id.asc())
        .select(MessageRow::as_select())
        .load(conn)
}

/// (request id, written at) of every message `author` wrote on these requests.
pub fn message_times_by(
    conn: &mut DbConn,
    request_ids: &[i64],
    author: &str,
) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    messages::table
        .filter(messages::request_id.eq_any(request_ids))
        .filter(messages::author.eq(author))
        .select((messages::request_id, messages::created_at))
        .load(conn)
}

pub fn delete_messages_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(messages::table.filter(messages::request_id.eq_any(request_ids))).execute(conn)
}

/// Deletes every link token of these requests: the links open nothing any more.
pub fn delete_tokens_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(request_tokens::table.filter(request_tokens::request_id.eq_any(request_ids)))
        .execute(conn)
}
