//! `/api/v1/requests`: file, read, list, record steps, extend.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::auth::ApiClient;
use super::view::{RequestView, request_view};
use crate::domain::deadline::Period;
use crate::domain::filing::{Draft, MAX_LINE as MAX_NAME, MAX_TEXT, SubjectDraft};
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    kind: String,
    requester: RequesterBody,
    /// The person a representative acts for; absent when the requester is the person.
    #[serde(default)]
    subject: Option<SubjectBody>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    received_at: Option<String>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequesterBody {
    name: String,
    email: String,
    #[serde(default)]
    customer_ref: Option<String>,
}

/// The person represented: a name, and an email or a customer reference (at least one).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubjectBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    customer_ref: Option<String>,
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

    fn finish(self) -> Result<(), Problem> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Problem::validation(self.0))
        }
    }
}

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("\"{raw}\" is not an RFC 3339 date-time such as 2025-01-31T10:00:00Z"))
}

fn parse_filing(body: &FileBody, state: &State, now: DateTime<Utc>) -> Result<Filing, Problem> {
    let draft = Draft {
        kind: &body.kind,
        name: &body.requester.name,
        email: &body.requester.email,
        customer_ref: body.requester.customer_ref.as_deref().unwrap_or(""),
        details: body.details.as_deref().unwrap_or(""),
        received_at: body.received_at.as_deref(),
        profile: body.profile.as_deref(),
        channel: body.channel.as_deref().unwrap_or("api"),
        language: body.language.as_deref().unwrap_or("fr"),
        // A system files for the organisation's own customers: no country or mandate to ask
        // for, and what is asked goes in the details.
        person: None,
        answers: None,
        // Missing members read as empty, so the answer names each one needed.
        subject: body.subject.as_ref().map(|s| SubjectDraft {
            name: s.name.as_deref().unwrap_or(""),
            email: s.email.as_deref().unwrap_or(""),
            customer_ref: s.customer_ref.as_deref().unwrap_or(""),
        }),
    };
    workflow::check_filing(&state.law, &draft, Status::Verifying, now).map_err(|errors| {
        Problem::validation(
            errors
                .iter()
                .map(|e| FieldError {
                    field: api_field(e.field),
                    message: e.to_string(),
                })
                .collect(),
        )
    })
}

/// The API groups who the requester is under `requester`, and the person represented under
/// `subject`.
fn api_field(field: &str) -> String {
    match field {
        "name" | "email" | "customer_ref" => format!("requester.{field}"),
        "subject_name" | "subject_email" | "subject_customer_ref" => {
            format!("subject.{}", field.trim_start_matches("subject_"))
        }
        other => other.to_string(),
    }
}

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
        .db(move |conn, app| workflow::file(conn, &app.law, &filing, &actor, now))
        .await?;
    let view = request_view(&state.law, &row, &[received], now);
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/requests/{}", row.uuid)))
        .json(view))
}

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
async fn after(
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    kind: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

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
        .and_then(|s| c.take("cursor", s.parse::<i64>().map_err(|_| "the cursor is not one this API gave out; use `next_cursor` from the previous page")));
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
    Ok(HttpResponse::Ok().json(json!({ "items": items, "next_cursor": next_cursor })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    ground: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    method: Option<String>,
}

const EVENT_TYPES: &str = "hold, resume, verify, start, fulfil, reject, withdraw";

fn parse_record(body: EventBody) -> Result<Record, Problem> {
    let mut c = Checks::default();
    let step = match body.kind.as_str() {
        "hold" => {
            let reason = match body.reason.as_deref() {
                None | Some("clarification") => Some(HoldReason::Clarification),
                Some("identity") => Some(HoldReason::Identity),
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
                format!("unknown event type \"{other}\"; expected one of: {EVENT_TYPES}"),
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
    let method = match body.method.as_deref().map(str::trim) {
        None | Some("") => None,
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
        Ok(workflow::record(
            conn, &app.law, row.id, &record, &actor, now,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    #[serde(default)]
    months: Option<u32>,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    reason: Option<String>,
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    body: String,
    #[serde(default)]
    author: Option<String>,
}

/// A message from the privacy team to the requester, who is mailed a link (never the text).
#[post("/requests/{id}/messages")]
pub async fn post_message(
    state: State,
    client: ApiClient,
    id: web::Path<String>,
    body: web::Json<MessageBody>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
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
