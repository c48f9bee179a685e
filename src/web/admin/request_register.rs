//! The register of requests, the record a supervisory authority asks for: every request
//! received in a range of months, in order of receipt, as CSV or JSON. Streamed page by page
//! (keyset on the day of receipt and id), so the register of a million requests never sits
//! in memory; every download is audited.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::reports::{MonthRange, RangeQuery};
use super::{AdminError, Staff};
use crate::domain::deadline::{Pauses, Period};
use crate::domain::reference::Reference;
use crate::fulfil::package::csv_field;
use crate::i18n::Lang;
use crate::store::audit;
use crate::store::reports::{self as report_rows, RegisterRow};
use crate::store::write_tx;
use crate::web::State;
use crate::web::api::view::rfc3339;
use crate::workflow;

const PAGE: i64 = 500;

pub const COLUMNS: [&str; 18] = [
    "reference",
    "kind",
    "channel",
    "received",
    "verified_method",
    "verified_at",
    "due",
    "extension_reason",
    "extended_to",
    "closed",
    "outcome",
    "ground",
    "on_behalf_of",
    "fee_basis",
    "fee_cents",
    "fee_status",
    "scope",
    "objection_decision",
];

/// One request in the register. Absent values are empty in CSV and null in JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(skip)]
    id: i64,
    #[serde(skip)]
    received_on: NaiveDate,
    pub reference: String,
    pub kind: String,
    pub channel: String,
    pub received: String,
    pub verified_method: Option<String>,
    pub verified_at: Option<String>,
    pub due: NaiveDate,
    /// The reasons given for each extension, in order, separated by " | ".
    pub extension_reason: Option<String>,
    /// The due date the last extension set.
    pub extended_to: Option<String>,
    pub closed: Option<String>,
    /// The terminal status; none while the request is open.
    pub outcome: Option<String>,
    pub ground: Option<String>,
    /// The person a representative acted for (by name); none when the requester acted for
    /// themselves. Last, so the columns before it keep their places.
    pub on_behalf_of: Option<String>,
    /// The last fee decided on the request (Art. 12(5), 15(3)): its ground, amount in whole
    /// cents of euro, and whether it is asked, paid or waived; none when no fee was asked.
    pub fee_basis: Option<String>,
    pub fee_cents: Option<i64>,
    pub fee_status: Option<String>,
    /// The scope staff confirmed: the register activities, separated by " | ", or `all`;
    /// none when none was confirmed (the request covered what the person asked: everything).
    pub scope: Option<String>,
    /// On an objection to a processing other than direct marketing, the balancing decision
    /// (Art. 21(1)): `stop` or `compelling`.
    pub objection_decision: Option<String>,
    /// The scope in French and in English, for the spreadsheet.
    #[serde(skip)]
    scope_words: Option<(String, String)>,
}

impl Entry {
    fn fields(&self) -> [String; 18] {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        [
            self.reference.clone(),
            self.kind.clone(),
            self.channel.clone(),
            self.received.clone(),
            text(&self.verified_method),
            text(&self.verified_at),
            self.due.to_string(),
            text(&self.extension_reason),
            text(&self.extended_to),
            text(&self.closed),
            text(&self.outcome),
            text(&self.ground),
            text(&self.on_behalf_of),
            text(&self.fee_basis),
            self.fee_cents.map(|c| c.to_string()).unwrap_or_default(),
            text(&self.fee_status),
            text(&self.scope),
            text(&self.objection_decision),
        ]
    }
}

impl Entry {
    /// The line as a spreadsheet shows it to the team: each code in the reader's words
    /// (the right with its article, the channel, how the identity was verified, the outcome,
    /// the ground of a refusal, the fee's basis and state). The JSON keeps the codes, for
    /// the systems that read it.
    fn words(&self, lang: Lang) -> [String; 18] {
        let t = lang.strings();
        let word = |prefix: &str, code: &str| {
            let key = format!("{prefix}.{code}");
            if t.has(&key) {
                t.t(&key).to_string()
            } else {
                code.to_string()
            }
        };
        let mut fields = self.fields();
        fields[1] = word("label.kind", &fields[1]);
        fields[2] = word("label.channel", &fields[2]);
        if !fields[4].is_empty() {
            fields[4] = crate::i18n::verification_method(&fields[4], lang);
        }
        fields[10] = word("label.status", &fields[10]);
        fields[11] = word("label.ground", &fields[11]);
        fields[13] = word("follow.fee.basis", &fields[13]);
        fields[15] = word("follow.fee.state", &fields[15]);
        if let Some((fr, en)) = &self.scope_words {
            fields[16] = match lang {
                Lang::Fr => fr.clone(),
                Lang::En => en.clone(),
            };
        }
        fields[17] = word("scope.decision_word", &fields[17]);
        fields
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The register's entries for one page of rows, with their extensions from the timeline.
fn entries(
    conn: &mut crate::store::DbConn,
    app: &crate::state::AppState,
    law: &crate::config::Law,
    rows: Vec<RegisterRow>,
    today: NaiveDate,
) -> diesel::QueryResult<Vec<Entry>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut extensions: HashMap<i64, (Vec<String>, Option<String>)> = HashMap::new();
    for e in report_rows::extensions_for(conn, &ids)? {
        let slot = extensions.entry(e.request_id).or_default();
        if let Some(note) = e.note {
            slot.0.push(note);
        }
        let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
        if let Some(due) = data["due_on"].as_str() {
            slot.1 = Some(due.to_string());
        }
    }
    let mut fees: HashMap<i64, crate::store::follow::FeeRow> = HashMap::new();
    // In order of decision: the last one stays.
    for f in crate::store::follow::fees_for(conn, &ids)? {
        fees.insert(f.request_id, f);
    }
    let mut scopes: HashMap<i64, crate::store::scopes::ScopeRow> = HashMap::new();
    for s in crate::store::scopes::for_requests(conn, &ids)? {
        scopes.insert(s.request_id, s);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let fee = fees.remove(&r.id);
            let confirmed = scopes.remove(&r.id);
            let scope = confirmed.as_ref().map(|s| s.scope());
            let closed_on = r.closed_at.map(|at| law.today(at.and_utc()));
            let deadline = workflow::deadline_for(
                law,
                &r.profile,
                r.received_on,
                Period {
                    months: u32::try_from(r.extension_months).unwrap_or(0),
                    days: u32::try_from(r.extension_days).unwrap_or(0),
                },
                &Pauses {
                    closed_days: i64::from(r.paused_days),
                    open_since: r.paused_since,
                },
                closed_on.unwrap_or(today),
            );
            let (reasons, extended_to) = extensions.remove(&r.id).unwrap_or_default();
            Entry {
                id: r.id,
                received_on: r.received_on,
                reference: Reference {
                    year: r.ref_year,
                    seq: r.id,
                }
                .to_string(),
                kind: r.kind,
                channel: r.channel,
                received: rfc3339(r.received_at),
                verified_method: r.verified_at.and(r.verified_method),
                verified_at: r.verified_at.map(rfc3339),
                due: deadline.due_on,
                extension_reason: (!reasons.is_empty()).then(|| reasons.join(" | ")),
                extended_to,
                closed: r.closed_at.map(rfc3339),
                outcome: r.closed_at.map(|_| r.status),
                ground: r.reject_ground,
                on_behalf_of: r.subject_name,
                fee_basis: fee.as_ref().map(|f| f.basis.as_str().to_string()),
                fee_cents: fee.as_ref().map(|f| f.amount_cents),
                fee_status: fee.as_ref().map(|f| f.state.as_str().to_string()),
                scope: scope.as_ref().map(|s| match s {
                    crate::domain::scope::Scope::Everything => "all".to_string(),
                    crate::domain::scope::Scope::Activities(set) => {
                        set.iter().cloned().collect::<Vec<_>>().join(" | ")
                    }
                }),
                objection_decision: confirmed.as_ref().and_then(|s| s.balancing.clone()),
                scope_words: scope.as_ref().map(|s| {
                    (
                        workflow::scopes::scope_words(app, s, Lang::Fr),
                        workflow::scopes::scope_words(app, s, Lang::En),
                    )
                }),
            }
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    /// One page as text: the header (CSV) or the opening bracket (JSON) before the first,
    /// the closing bracket after the last.
    fn chunk(self, entries: &[Entry], first: bool, last: bool, lang: Lang) -> String {
        let mut out = String::new();
        match self {
            Format::Csv => {
                if first {
                    let t = lang.strings();
                    let header: Vec<String> = COLUMNS
                        .iter()
                        .map(|c| t.t(&format!("reports.register.column.{c}")).to_string())
                        .collect();
                    out.push_str(&csv_line(&header));
                }
                for e in entries {
                    out.push_str(&csv_line(&e.words(lang)));
                }
            }
            Format::Json => {
                if first {
                    out.push('[');
                }
                for (i, e) in entries.iter().enumerate() {
                    if !(first && i == 0) {
                        out.push(',');
                    }
                    out.push('\n');
                    out.push_str(&serde_json::to_string(e).unwrap_or_default());
                }
                if last {
                    out.push_str("\n]\n");
                }
            }
        }
        out
    }
}

pub async fn csv(
    state: State,
    staff: Staff,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AdminError> {
    download(state, staff, query.into_inner(), Format::Csv).await
}

pub async fn json(
    state: State,
    staff: Staff,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AdminError> {
    download(state, staff, query.into_inner(), Format::Json).await
}

#[derive(Debug, Clone, Copy)]
enum Next {
    Start,
    /// The keyset of the last row sent: (received_on, id).
    After(NaiveDate, i64),
    Done,
}

async fn download(
    state: State,
    staff: Staff,
    query: RangeQuery,
    format: Format,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports())?;
    let now = state.clock.now();
    let today = state.law.today(now);
    let range = MonthRange::parse(&query, today);
    let actor = staff.actor();
    let lang = staff.lang();
    let details =
        json!({ "format": format.name(), "from": range.from_label(), "to": range.to_label() })
            .to_string();
    // Audited before the first byte leaves: a download cut short was still a download.
    state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                audit::append(
                    conn,
                    &audit::Entry {
                        at: now.naive_utc(),
                        actor: &actor,
                        action: "register.download",
                        target_type: "register",
                        target_id: None,
                        details: &details,
                    },
                )
            })
        })
        .await?;
    let source = state.clone();
    let pages = futures_util::stream::unfold(Next::Start, move |next| {
        let state = source.clone();
        async move {
            let after = match next {
                Next::Done => return None,
                Next::Start => None,
                Next::After(day, id) => Some((day, id)),
            };
            let page = state
                .db(move |conn, app| {
                    let rows =
                        report_rows::register_page(conn, range.first, range.until(), after, PAGE)?;
                    entries(conn, app, &app.law, rows, today)
                })
                .await;
            Some(match page {
                Ok(entries) => {
                    let last = (entries.len() as i64) < PAGE;
                    let chunk = format.chunk(&entries, matches!(next, Next::Start), last, lang);
                    let next = match entries.last() {
                        Some(e) if !last => Next::After(e.received_on, e.id),
                        _ => Next::Done,
                    };
                    (Ok(Bytes::from(chunk)), next)
                }
                Err(e) => {
                    tracing::error!(status = e.status, "register page failed");
                    (
                        Err(std::io::Error::other("the register could not be read")),
                        Next::Done,
                    )
                }
            })
        }
    });
    let filename = format!(
        "dsar-register-{}-to-{}-as-of-{today}.{}",
        range.from_label(),
        range.to_label(),
        format.name()
    );
    let content_type = match format {
        Format::Csv => "text/csv; charset=utf-8",
        Format::Json => "application/json",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .streaming(pages))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_per_rfc_4180_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+33 1 23"), "'+33 1 23");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field(""), "");
    }
}
