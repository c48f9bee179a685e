//! `/api/v1/requests`: file, read, list, record steps, extend.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiClient;
use super::schema;
use super::view::{RequestView, request_view};
use crate::domain::deadline::Period;
use crate::domain::filing::{
    ACTING_FOR_ANOTHER, ADDRESS_LINES, ATTACHED, Answers, CITY, CONTACT_CHOICES, Draft,
    MAX_LINE as MAX_NAME, MAX_TEXT, POSTAL_COUNTRY, POSTCODE, PostalDraft, REGISTERED_NUMBER,
    Shape, SubjectDraft, own_fields,
};
use crate::domain::kind::{RejectGround, RequestKind};
use crate::domain::lifecycle::{HoldReason, Step};
use crate::domain::status::Status;
use crate::domain::verification::Method;
use crate::state::AppState;
use crate::store::DbConn;
use crate::store::requests::{self as rows, ListFilter, RequestRow};
use crate::web::State;
use crate::web::error::{FieldError, Problem};
use crate::workflow::{self, Filing, Record};

/// A request to file. It starts in `verifying`; the requester is mailed a link to confirm
/// their address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "access",
    "requester": { "name": "Camille Martin", "email": "camille@example.fr", "customer_ref": "C-1042" },
    "details": "All the data you hold about my account.",
    "channel": "email",
    "language": "fr"
}))]
pub struct FileBody {
    #[schema(schema_with = file_body_kind)]
    kind: String,
    requester: RequesterBody,
    /// The person a representative acts for; absent when the requester is the person. For
    /// `heir` (a request after a death, art. 85 loi Informatique et Libertés), the deceased,
    /// whom the sources and the directives on file are searched for: required.
    #[serde(default)]
    subject: Option<SubjectBody>,
    #[serde(default)]
    #[schema(schema_with = file_body_details)]
    details: Option<String>,
    #[serde(default)]
    #[schema(schema_with = file_body_received_at)]
    received_at: Option<String>,
    #[serde(default)]
    #[schema(schema_with = file_body_profile)]
    profile: Option<String>,
    #[serde(default)]
    #[schema(schema_with = file_body_channel)]
    channel: Option<String>,
    #[serde(default)]
    #[schema(schema_with = file_body_language)]
    language: Option<String>,
    #[serde(default)]
    #[schema(schema_with = file_body_registered_number)]
    registered_number: Option<String>,
    /// The kind's own answers, by name, as the portal's form asks them; their schema is
    /// written in `openapi.rs`, from the same table the checks read.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    answers: Option<HashMap<String, String>>,
}

schema::described! {
    file_body_kind = schema::kind,
        "The right exercised. `directives`: the requester records, changes or withdraws their post-mortem directives; `heir`: after a death, the designated person or an heir asks (give the deceased as `subject`); both under art. 85 of the loi Informatique et Libertés, what is asked in `details`.";
    file_body_details = schema::text_or_null,
        "What is asked, in the requester's words.";
    file_body_received_at = schema::instant_or_null,
        "When the request reached the organisation (RFC 3339), not in the future; now when absent. The deadline counts from its date in the organisation's time zone.";
    file_body_profile = schema::profile_or_null,
        "A configured deadline profile; the organisation's default when absent.";
    file_body_channel = schema::channel_or_null,
        "How the request came; `api` when absent.";
    file_body_language = schema::language_or_null,
        "The language of the mails to the requester; `fr` when absent.";
    file_body_registered_number = registered_number_or_null,
        "The number of the registered letter the request came by, when it came by one.";
}

fn registered_number_or_null() -> utoipa::openapi::schema::Object {
    schema::bounded_or_null(REGISTERED_NUMBER.max())
}

/// Who files: the mails go to this address, or the letters to the postal address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RequesterBody {
    #[schema(schema_with = schema::line)]
    name: String,
    #[serde(default)]
    #[schema(schema_with = requester_body_email)]
    email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = requester_body_customer_ref)]
    customer_ref: Option<String>,
    /// Where letters go; needed when no email address is given or the answers go by post.
    #[serde(default)]
    postal_address: Option<PostalBody>,
    #[serde(default)]
    #[schema(schema_with = requester_body_contact)]
    contact: Option<String>,
}

schema::described! {
    requester_body_email = schema::email_or_null,
        "Where the mails go; may be left out when a postal address is given (the answers then go by post).";
    requester_body_customer_ref = schema::line_or_null,
        "The organisation's own reference for the person.";
    requester_body_contact = contact_or_null,
        "How the person wants to be answered: `email`, or `post` (letters the team prints; no mail goes to the person). Email when absent and an address is given, else post.";
}

fn contact_or_null() -> utoipa::openapi::schema::Object {
    schema::one_of_or_null(&CONTACT_CHOICES)
}

/// A postal address as a window envelope shows it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostalBody {
    #[schema(schema_with = postal_lines)]
    lines: String,
    #[schema(schema_with = postal_postcode)]
    postcode: String,
    #[schema(schema_with = postal_city)]
    city: String,
    #[serde(default)]
    #[schema(schema_with = postal_country)]
    country: Option<String>,
}

schema::described! {
    postal_lines = address_lines_schema,
        "The lines above the postcode and city (street, building), separated by line breaks.";
    postal_postcode = postcode_schema, "The postcode.";
    postal_city = city_schema, "The city.";
    postal_country = country_schema, "The country, when not the organisation's.";
}

fn address_lines_schema() -> utoipa::openapi::schema::Object {
    schema::bounded(ADDRESS_LINES.max())
}
fn postcode_schema() -> utoipa::openapi::schema::Object {
    schema::bounded(POSTCODE.max())
}
fn city_schema() -> utoipa::openapi::schema::Object {
    schema::bounded(CITY.max())
}
fn country_schema() -> utoipa::openapi::schema::Object {
    schema::bounded_or_null(POSTAL_COUNTRY.max())
}

/// The person represented, or the minor child a parent acts for: a name, and an email or a
/// customer reference (at least one); a child's date of birth.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SubjectBody {
    #[serde(default)]
    #[schema(schema_with = schema::line, required = true)]
    name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::email_or_null)]
    email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = schema::line_or_null)]
    customer_ref: Option<String>,
    #[serde(default)]
    #[schema(schema_with = subject_body_acting)]
    acting: Option<String>,
    #[serde(default)]
    #[schema(schema_with = subject_body_birth_date)]
    birth_date: Option<String>,
}

schema::described! {
    subject_body_acting = subject_acting_or_null,
        "How the requester acts for this person: `representative` (with a mandate, checked by the team) or `parent` (a holder of parental authority for a minor child: a parent or a legal guardian). A representative when absent.";
    subject_body_birth_date = schema::date_or_null,
        "The child's date of birth; required when `acting` is `parent`. A child who is 18 or older on the day the request was received is refused: they act for themselves, or give a mandate.";
}

fn subject_acting_or_null() -> utoipa::openapi::schema::Object {
    schema::one_of_or_null(&ACTING_FOR_ANOTHER)
}

/// Collects every problem in a body, so one answer lists all there is to fix.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_string(),
            message: message.into(),
        });
    }

    fn take<T, E: std::fmt::Display>(&mut self, field: &str, parsed: Result<T, E>) -> Option<T> {
        parsed.map_err(|e| self.fail(field, e.to_string())).ok()
    }

    /// A text's length as sent, spaces included, as the schema's `maxLength` counts it: a
    /// value one character too long is refused even when trimming would make it fit.
    fn at_most(&mut self, field: &str, value: Option<&str>, max: usize) {
        if value.is_some_and(|v| v.chars().count() > max) {
            self.fail(field, format!("{field} is longer than {max} characters"));
        }
    }

    /// PostgreSQL cannot store a NUL character in text: refused here, as the schemas say.
    fn no_nul(&mut self, field: &str, value: Option<&str>) {
        if value.is_some_and(|v| v.contains('\0')) {
            self.fail(field, NUL_MESSAGE);
        }
    }

    fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.0))
        }
    }
}

const NUL_MESSAGE: &str = "contains a NUL character (U+0000), which no text may hold";

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("\"{raw}\" is not an RFC 3339 date-time such as 2025-01-31T10:00:00Z"))
}

fn parse_filing(body: &FileBody, state: &State, now: DateTime<Utc>) -> Result<Filing, Problem> {
    // Documents do not come through the API: the organisation received them (by post, at its
    // desk) and its team checks them, verifying the identity by hand. Its answers say so, so
    // the law's rule that they came holds.
    let answers = body.answers.as_ref().map(|given| {
        let mut answers = given.clone();
        if let Ok(kind) = body.kind.parse::<RequestKind>() {
            for f in own_fields(kind)
                .iter()
                .filter(|f| f.shape == Shape::Document)
            {
                answers.insert(f.name.to_string(), ATTACHED.to_string());
            }
        }
        answers
    });
    let draft = Draft {
        kind: &body.kind,
        name: &body.requester.name,
        email: body.requester.email.as_deref().unwrap_or(""),
        customer_ref: body.requester.customer_ref.as_deref().unwrap_or(""),
        details: body.details.as_deref().unwrap_or(""),
        received_at: body.received_at.as_deref(),
        profile: body.profile.as_deref(),
        channel: body.channel.as_deref().unwrap_or("api"),
        language: body.language.as_deref().unwrap_or("fr"),
        // A system files for the organisation's own customers: no country or mandate to ask
        // for; what is asked goes in the kind's own answers, or in the details.
        person: None,
        answers: answers.as_ref().map(|a| a as &dyn Answers),
        // Missing members read as empty, so the answer names each one needed.
        subject: body.subject.as_ref().map(|s| SubjectDraft {
            name: s.name.as_deref().unwrap_or(""),
            email: s.email.as_deref().unwrap_or(""),
            customer_ref: s.customer_ref.as_deref().unwrap_or(""),
            birth_date: s.birth_date.as_deref().unwrap_or(""),
            acting: s.acting.as_deref().unwrap_or(""),
        }),
        postal: body
            .requester
            .postal_address
            .as_ref()
            .map(|p| PostalDraft {
                lines: &p.lines,
                postcode: &p.postcode,
                city: &p.city,
                country: p.country.as_deref().unwrap_or(""),
            })
            .unwrap_or_default(),
        contact: body.requester.contact.as_deref().unwrap_or(""),
        registered_number: body.registered_number.as_deref().unwrap_or(""),
    };
    let mut own = api_rules(body);
    // An answer the kind does not ask is named, rather than dropped unread.
    if let (Some(given), Ok(kind)) = (&body.answers, body.kind.parse::<RequestKind>()) {
        for name in given.keys() {
            let asked = own_fields(kind)
                .iter()
                .any(|f| f.name == name && f.shape != Shape::Document);
            if !asked {
                own.push(FieldError {
                    field: format!("answers.{name}"),
                    message: format!("a {kind} request asks no \"{name}\""),
                });
            }
        }
    }
    let mut errors = match workflow::check_filing(&state.law, &draft, Status::Verifying, now) {
        Ok(filing) if own.is_empty() => return Ok(filing),
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| FieldError {
                field: api_field(e.field),
                message: e.to_string(),
            })
            .collect(),
    };
    errors.retain(|e| !own.iter().any(|o| o.field == e.field));
    errors.extend(own);
    Err(Problem::validation(errors))
}

/// What the API refuses beyond the filing rules the portal shares, as its description says.
fn api_rules(body: &FileBody) -> Vec<FieldError> {
    let mut c = Checks::default();
    let requester = &body.requester;
    let postal = requester.postal_address.as_ref();
    let subject = body.subject.as_ref();
    for (field, value, max) in [
        ("requester.name", Some(requester.name.as_str()), MAX_NAME),
        (
            "requester.email",
            requester.email.as_deref(),
            schema::MAX_EMAIL,
        ),
        (
            "requester.postal_address.lines",
            postal.map(|p| p.lines.as_str()),
            ADDRESS_LINES.max(),
        ),
        (
            "requester.postal_address.postcode",
            postal.map(|p| p.postcode.as_str()),
            POSTCODE.max(),
        ),
        (
            "requester.postal_address.city",
            postal.map(|p| p.city.as_str()),
            CITY.max(),
        ),
        (
            "requester.postal_address.country",
            postal.and_then(|p| p.country.as_deref()),
            POSTAL_COUNTRY.max(),
        ),
        (
            "registered_number",
            body.registered_number.as_deref(),
            REGISTERED_NUMBER.max(),
        ),
        (
            "requester.customer_ref",
            requester.customer_ref.as_deref(),
            MAX_NAME,
        ),
        ("details", body.details.as_deref(), MAX_TEXT),
        (
            "subject.name",
            subject.and_then(|s| s.name.as_deref()),
            MAX_NAME,
        ),
        (
            "subject.email",
            subject.and_then(|s| s.email.as_deref()),
            schema::MAX_EMAIL,
        ),
        (
            "subject.customer_ref",
            subject.and_then(|s| s.customer_ref.as_deref()),
            MAX_NAME,
        ),
    ] {
        c.at_most(field, value, max);
        c.no_nul(field, value);
    }
    // Left out or null leaves the choice to the address given; a text is one of the choices
    // (the form's empty radio group has no equivalent in a body).
    if let Some(contact) = requester
        .contact
        .as_deref()
        .filter(|c| !CONTACT_CHOICES.contains(c))
    {
        c.fail(
            "requester.contact",
            format!(
                "\"{contact}\" is not one of: {}",
                CONTACT_CHOICES.join(", ")
            ),
        );
    }
    if let Some(subject) = subject {
        // The portal's form sends an empty box for an address not given; a body leaves the
        // member out or sends null. An empty string is an address given, and not a valid one.
        if subject
            .email
            .as_deref()
            .is_some_and(|e| e.trim().is_empty())
        {
            c.fail(
                "subject.email",
                crate::domain::email::InvalidEmail::Empty.to_string(),
            );
        }
    }
    c.0
}

/// The API groups who the requester is under `requester`, and the person represented under
/// `subject`.
fn api_field(field: &str) -> String {
    match field {
        "name" | "email" | "customer_ref" | "contact" => format!("requester.{field}"),
        "address_lines" => "requester.postal_address.lines".to_string(),
        "postcode" | "city" => format!("requester.postal_address.{field}"),
        "postal_country" => "requester.postal_address.country".to_string(),
        "subject_name"
        | "subject_email"
        | "subject_customer_ref"
        | "subject_acting"
        | "subject_birth_date" => {
            format!("subject.{}", field.trim_start_matches("subject_"))
        }
        other if own_field(other) => format!("answers.{other}"),
        other => other.to_string(),
    }
}

/// Whether `name` is one of some kind's own questions.
fn own_field(name: &str) -> bool {
    RequestKind::ALL
        .iter()
        .any(|k| own_fields(*k).iter().any(|f| f.name == name))
}

/// File a request
///
/// Files a request on behalf of a person, as received by another channel (mail, post, phone)
/// or another system. It starts in `verifying`, with its deadline computed from `received_at`.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    request_body(content = FileBody, description = "The request to file"),
    responses(
        (status = 201, description = "Filed: the request as it now stands", body = RequestView,
            headers(("Location" = String, description = "The request's address in this API"))),
        (status = 422, description = "Invalid fields; `errors` lists each one", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/requests")]
pub async fn create(
    state: State,
    client: ApiClient,
    body: web::Json<FileBody>,
) -> Result<HttpResponse, Problem> {
    let now = state.clock.now();
    let filing = parse_filing(&body, &state, now)?;
    let actor = client.actor();
    let (row, received) = state
        .write(move |conn, app| workflow::file(conn, &app.law, &filing, &actor, now))
        .await?;
    let view = request_view(&state.law, &row, &[received], now);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/requests/{}", row.uuid)))
        .json(view))
}

/// Read a request
///
/// The request with its deadline and timeline.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    responses(
        (status = 200, description = "The request", body = RequestView),
        (status = 404, description = "No request with this id or reference", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/requests/{id}")]
pub async fn show(
    state: State,
    _client: ApiClient,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let now = state.clock.now();
    let view = after(&state, id.into_inner(), now, |_, _, row| Ok(row)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Finds the request named by `id` (UUID or reference), runs `step` on it, and returns the
/// request as it then stands, with its timeline: what every API answer about one shows.
pub(super) async fn after(
    state: &State,
    id: String,
    now: DateTime<Utc>,
    step: impl FnOnce(&mut DbConn, &AppState, RequestRow) -> Result<RequestRow, Problem>
    + Send
    + 'static,
) -> Result<RequestView, Problem> {
    let (row, events) = state
        .db(move |conn, app| {
            let row = workflow::find(conn, &id)?;
            let row = step(conn, app, row)?;
            let events = rows::events_for(conn, &[row.id])?;
            Ok::<_, Problem>((row, events))
        })
        .await?;
    Ok(request_view(&state.law, &row, &events, now))
}

/// What `{id}` in a path takes.
pub(super) const ID_DOC: &str = "The request's UUID, or its reference (`DSAR-2026-000123`)";

/// A cursor is a row id as `next_cursor` gave it: digits only (as the schema's pattern says),
/// so a sign or a space is refused rather than read.
fn parse_cursor(raw: &str) -> Result<i64, &'static str> {
    let digits = raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit());
    digits
        .then(|| raw.parse().ok())
        .flatten()
        .ok_or("the cursor is not one this API gave out; use `next_cursor` from the previous page")
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(schema_with = list_query_status)]
    status: Option<String>,
    #[param(schema_with = list_query_kind)]
    kind: Option<String>,
    #[param(schema_with = list_query_cursor)]
    cursor: Option<String>,
    /// How many requests a page holds, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

schema::described! {
    list_query_status = schema::status_filter,
        "Only requests in this status (empty: any).";
    list_query_kind = schema::kind_filter,
        "Only requests of this kind (empty: any).";
    list_query_cursor = schema::cursor,
        "Where the page starts: `next_cursor` from the previous page (empty: the first page).";
}

/// One page of requests, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestPage {
    items: Vec<RequestView>,
    /// The `cursor` of the next page; null on the last page.
    next_cursor: Option<String>,
}

/// List requests
///
/// Requests page by page, keyset-paginated: follow `next_cursor` until it is null.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of requests", body = RequestPage),
        (status = 422, description = "An unknown status or kind, a cursor this API did not give out, or a limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/requests")]
pub async fn list(
    state: State,
    _client: ApiClient,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Problem> {
    let q = query.into_inner();
    let mut c = Checks::default();
    let status = q
        .status
        .filter(|s| !s.is_empty())
        .and_then(|s| c.take("status", s.parse::<Status>()));
    let kind = q
        .kind
        .filter(|s| !s.is_empty())
        .and_then(|s| c.take("kind", s.parse::<RequestKind>()));
    let after_id = q
        .cursor
        .filter(|s| !s.is_empty())
        .and_then(|s| c.take("cursor", parse_cursor(&s)));
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        c.fail("limit", "limit must be between 1 and 200");
    }
    c.finish()?;
    let filter = ListFilter {
        status: status.map(|s| s.as_str().to_string()),
        kind: kind.map(|k| k.as_str().to_string()),
        after_id,
        limit,
    };
    let now = state.clock.now();
    let (rows_found, events) = state
        .db(move |conn, _| {
            let found = rows::list(conn, &filter)?;
            let ids: Vec<i64> = found.iter().map(|r| r.id).collect();
            let events = rows::events_for(conn, &ids)?;
            Ok::<_, diesel::result::Error>((found, events))
        })
        .await?;
    let next_cursor = (rows_found.len() as i64 == limit)
        .then(|| rows_found.last().map(|r| r.id.to_string()))
        .flatten();
    let items: Vec<_> = rows_found
        .iter()
        .map(|r| request_view(&state.law, r, &events, now))
        .collect();
    Ok(HttpResponse::Ok().json(RequestPage { items, next_cursor }))
}

/// A step in the request's life. `reason` goes with `hold` only, `ground` with `reject` only
/// (and is needed there), `method` with `verify` only.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "type": "verify", "method": "id_document", "note": "Passport seen at the desk" }))]
pub struct EventBody {
    #[serde(rename = "type")]
    #[schema(schema_with = event_body_kind)]
    kind: String,
    #[serde(default)]
    #[schema(schema_with = event_body_at)]
    at: Option<String>,
    #[serde(default)]
    #[schema(schema_with = event_body_note)]
    note: Option<String>,
    #[serde(default)]
    #[schema(schema_with = event_body_ground)]
    ground: Option<String>,
    #[serde(default)]
    #[schema(schema_with = event_body_reason)]
    reason: Option<String>,
    #[serde(default)]
    #[schema(schema_with = event_body_method)]
    method: Option<String>,
}

schema::described! {
    event_body_kind = schema::event_type,
        "The step: `hold` stops the clock until `resume`; `verify` records the identity proof; `start`, then `fulfil` or `reject` answer; `withdraw` closes it for the requester.";
    event_body_at = schema::instant_or_null,
        "When it happened (RFC 3339): between the last step and now; now when absent.";
    event_body_note = schema::text_or_null,
        "For the timeline and the audit trail.";
    event_body_ground = schema::ground_or_null,
        "Why a request is rejected.";
    event_body_reason = schema::hold_reason_or_null,
        "Why the clock stops; `clarification` when absent.";
    event_body_method = schema::method_or_null,
        "How the identity was verified.";
}

/// The steps the API records (`fulfill` is taken for `fulfil`); the schema lists the same.
pub const EVENT_TYPES: [&str; 8] = [
    "hold", "resume", "verify", "start", "fulfil", "fulfill", "reject", "withdraw",
];

pub const HOLD_REASONS: [HoldReason; 2] = [HoldReason::Clarification, HoldReason::Identity];

fn parse_record(body: EventBody) -> Result<Record, Problem> {
    let mut c = Checks::default();
    let step = match body.kind.as_str() {
        "hold" => {
            let reason = match body.reason.as_deref() {
                None => Some(HoldReason::default()),
                Some(given) if let Some(r) = HOLD_REASONS.iter().find(|r| r.as_str() == given) => {
                    Some(*r)
                }
                Some(other) => {
                    c.fail(
                        "reason",
                        format!(
                            "unknown hold reason \"{other}\"; expected clarification or identity"
                        ),
                    );
                    None
                }
            };
            reason.map(Step::Hold)
        }
        "resume" => Some(Step::Resume),
        "verify" => Some(Step::Verify),
        "start" => Some(Step::Start),
        "fulfil" | "fulfill" => Some(Step::Fulfil),
        "withdraw" => Some(Step::Withdraw),
        "reject" => match body.ground.as_deref() {
            None => {
                c.fail(
                    "ground",
                    format!(
                        "a rejection needs a legal ground: one of {}",
                        RejectGround::ALL.map(|g| g.as_str()).join(", ")
                    ),
                );
                None
            }
            Some(g) => c
                .take("ground", g.parse::<RejectGround>())
                .map(Step::Reject),
        },
        other => {
            c.fail(
                "type",
                format!(
                    "unknown event type \"{other}\"; expected one of: {}",
                    EVENT_TYPES.join(", ")
                ),
            );
            None
        }
    };
    if body.ground.is_some() && body.kind != "reject" {
        c.fail("ground", "a ground goes only with a reject event");
    }
    if body.reason.is_some() && body.kind != "hold" {
        c.fail("reason", "a reason goes only with a hold event");
    }
    let at = body
        .at
        .as_deref()
        .and_then(|raw| c.take("at", parse_instant(raw)));
    c.no_nul("note", body.note.as_deref());
    if body
        .note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_TEXT)
    {
        c.fail(
            "note",
            format!("the note is longer than {MAX_TEXT} characters"),
        );
    }
    // The same codes as the request page's form, so the register reads one vocabulary.
    // Exactly as the description lists them: a blank or padded code is refused, not ignored.
    let method = match body.method.as_deref() {
        None => None,
        Some(_) if body.kind != "verify" => {
            c.fail("method", "a method goes only with a verify event");
            None
        }
        Some(code) => c.take("method", Method::by_hand(code)),
    };
    c.finish()?;
    let step = step.ok_or_else(Problem::internal)?;
    Ok(Record {
        step,
        at,
        note: body
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        method,
    })
}

/// Record a step
///
/// Moves the request along its life: hold, resume, verify, start, fulfil, reject, withdraw.
/// Only the steps its status allows are accepted; the others answer 409.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body(content = EventBody, description = "The step"),
    responses(
        (status = 200, description = "Recorded: the request as it now stands", body = RequestView),
        (status = 404, description = "No request with this id or reference", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request's status does not allow this step now", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields; `errors` lists each one", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/requests/{id}/events")]
pub async fn record_event(
    state: State,
    client: ApiClient,
    id: web::Path<String>,
    body: web::Json<EventBody>,
) -> Result<HttpResponse, Problem> {
    let record = parse_record(body.into_inner())?;
    let now = state.clock.now();
    let actor = client.actor();
    let view = after(&state, id.into_inner(), now, move |conn, app, row| {
        Ok(crate::store::write_tx(conn, |conn| {
            let updated = workflow::record(conn, &app.law, row.id, &record, &actor, now)?;
            // What follows an answer (a restriction in force, rows kept under a legal
            // obligation) is recorded whichever way the answer came, as the dashboard does.
            if record.step == Step::Fulfil {
                workflow::follow::on_fulfil(conn, app, &updated, &actor, now)?;
            }
            Ok::<_, workflow::WorkflowError>(updated)
        })?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// An extension of the deadline, within the profile's cap (GDPR: two more months), taken before
/// the current due date; the requester is told why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "months": 2, "reason": "Your request covers ten years of orders held in three systems." }))]
pub struct ExtensionBody {
    /// Months added; give `months`, `days` or both (more than zero in all).
    #[serde(default)]
    months: Option<u32>,
    /// Days added.
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    #[schema(schema_with = extension_body_reason, required = true)]
    reason: Option<String>,
}

schema::described! {
    extension_body_reason = schema::text,
        "Why: it is sent to the requester.";
}

/// Extend the deadline
///
/// Adds months or days to the deadline, within the profile's cap and before the current due
/// date; the requester is mailed the reason.
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body(content = ExtensionBody, description = "The extension"),
    responses(
        (status = 200, description = "Extended: the request as it now stands", body = RequestView),
        (status = 404, description = "No request with this id or reference", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too late: the due date has passed, or the request is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or more than the profile allows", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/requests/{id}/extension")]
pub async fn extend(
    state: State,
    client: ApiClient,
    id: web::Path<String>,
    body: web::Json<ExtensionBody>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    let mut c = Checks::default();
    let period = Period {
        months: body.months.unwrap_or(0),
        days: body.days.unwrap_or(0),
    };
    if period.is_zero() {
        c.fail(
            "months",
            "give the extension as \"months\" or \"days\" (more than zero)",
        );
    }
    let reason = body.reason.unwrap_or_default();
    if reason.trim().is_empty() {
        c.fail(
            "reason",
            "an extension needs a reason: the requester is told why",
        );
    } else if reason.chars().count() > MAX_TEXT {
        c.fail(
            "reason",
            format!("the reason is longer than {MAX_TEXT} characters"),
        );
    }
    c.no_nul("reason", Some(&reason));
    c.finish()?;
    let now = state.clock.now();
    let actor = client.actor();
    let view = after(&state, id.into_inner(), now, move |conn, app, row| {
        Ok(workflow::extend(
            conn, &app.law, row.id, period, &reason, &actor, now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// A message from the privacy team to the requester.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "body": "Could you tell us which of your two accounts you mean?", "author": "Alice" }))]
pub struct MessageBody {
    #[schema(schema_with = message_body_body)]
    body: String,
    #[serde(default)]
    #[schema(schema_with = message_body_author)]
    author: Option<String>,
}

schema::described! {
    message_body_body = schema::text,
        "The text; the requester reads it on their status page, never in a mail.";
    message_body_author = schema::line_or_null,
        "Who on the team writes; shown as `api:KEY NAME:AUTHOR`.";
}

/// Send the requester a message
///
/// A message from the privacy team to the requester of an open request, who is mailed a link
/// to read it (never the text).
#[utoipa::path(
    tag = "requests",
    security(("api_key" = [])),
    params(("id" = String, Path, description = ID_DOC)),
    request_body(content = MessageBody, description = "The message"),
    responses(
        (status = 201, description = "Sent: the request as it now stands, the message last in its timeline", body = RequestView),
        (status = 404, description = "No request with this id or reference", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The request is closed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An empty or too long message or author", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/requests/{id}/messages")]
pub async fn post_message(
    state: State,
    client: ApiClient,
    id: web::Path<String>,
    body: web::Json<MessageBody>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    let mut c = Checks::default();
    c.at_most("body", Some(&body.body), MAX_TEXT);
    c.no_nul("body", Some(&body.body));
    c.at_most("author", body.author.as_deref(), MAX_NAME);
    c.no_nul("author", body.author.as_deref());
    c.finish()?;
    let text = body.body.trim().to_string();
    if text.is_empty() {
        return Err(Problem::field("body", "the message is empty"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Problem::field(
            "body",
            format!("the message is longer than {MAX_TEXT} characters"),
        ));
    }
    let author = match body
        .author
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
    {
        Some(a) if a.chars().count() > MAX_NAME => {
            return Err(Problem::field(
                "author",
                format!("the author is longer than {MAX_NAME} characters"),
            ));
        }
        Some(a) => {
            crate::domain::text::check(&a, crate::domain::text::TextKind::Line)
                .map_err(|fault| Problem::field("author", format!("the author {fault}")))?;
            format!("{}:{a}", client.actor())
        }
        None => client.actor(),
    };
    let now = state.clock.now();
    let view = after(&state, id.into_inner(), now, move |conn, app, row| {
        if !row.status.is_open() {
            return Err(Problem::conflict(
                "closed",
                "The request is closed",
                format!(
                    "the request is {}; messages go to open requests only",
                    row.status
                ),
            ));
        }
        crate::workflow::requester::post_team_message(conn, app, row.id, &author, &text, now)
            .map_err(Problem::from)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}
