//! `/admin/requests/{id}/letters/{which}`: a letter the team prints instead of a mail, when
//! the answers go by post, laid out for an A4 sheet and a window envelope, in the request's
//! language; and beside it, the form that records its sending (date, registered number).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{AdminError, Nav, Staff};
use crate::i18n::{Lang, Strings, long_date};
use crate::store::contacts::ContactRow;
use crate::store::portal::MessageRow;
use crate::store::requests::{EventRow, RequestRow};
use crate::web::State;
use crate::web::admin::request::words::period_words;
use crate::workflow::intake::{self, Letter, Owed};
use crate::workflow::{self, WorkflowError};

/// The stylesheet of the letter page: the sheet on screen, and only the sheet on paper.
pub const STYLESHEET: &str = include_str!("../../../templates/admin/letter.css");

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

#[derive(Template)]
#[template(path = "admin/letter.html")]
pub struct LetterPage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub csrf: String,
    pub reference: String,
    /// "Retour à la demande DSAR-…".
    pub back: String,
    pub page_url: String,
    pub action_url: String,
    /// The letter's own language, for its `lang` attribute.
    pub letter_lang: &'static str,
    pub title: String,
    pub org: String,
    pub org_address: String,
    pub logo: bool,
    pub dpo_email: String,
    pub to_name: String,
    /// The address lines, postcode and city, country: one line each.
    pub to_lines: Vec<String>,
    pub date_line: String,
    pub reference_line: String,
    pub subject_line: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    pub closing: String,
    pub signature: String,
    pub dpo_line: String,
    /// "Envoyée le 2 décembre 2026 (recommandé n° …)", once recorded.
    pub sent: Option<String>,
    pub others: Vec<(String, String, bool)>,
    pub error: Option<String>,
    pub typed_on: String,
    pub typed_number: String,
    pub today: String,
    pub no_address: bool,
    pub can_act: bool,
}

/// What a letter says, read once.
struct Loaded {
    row: RequestRow,
    events: Vec<EventRow>,
    messages: Vec<MessageRow>,
    contact: Option<ContactRow>,
}

async fn load(state: &State, staff: &Staff, key: String) -> Result<Loaded, AdminError> {
    let loaded = state
        .db(move |conn, _| {
            let row = workflow::find(conn, &key)?;
            let events = crate::store::requests::events_for(conn, &[row.id])?;
            let messages = crate::store::portal::messages_for(conn, row.id)?;
            let contact = crate::store::contacts::find(conn, row.id)?;
            Ok::<_, WorkflowError>(Loaded {
                row,
                events,
                messages,
                contact,
            })
        })
        .await?;
    if !staff.role.can_see(staff.user.id, loaded.row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok(loaded)
}

/// The lines a window envelope shows under the name.
pub fn address_lines(contact: Option<&ContactRow>) -> Vec<String> {
    let Some(c) = contact.filter(|c| c.has_address()) else {
        return Vec::new();
    };
    let mut lines: Vec<String> = c
        .address_lines
        .iter()
        .flat_map(|l| l.lines())
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    lines.push(format!(
        "{} {}",
        c.postcode.as_deref().unwrap_or(""),
        c.city.as_deref().unwrap_or("").to_uppercase()
    ));
    if let Some(country) = c.country.as_deref().filter(|c| !c.is_empty()) {
        lines.push(country.to_uppercase());
    }
    lines
}

/// "Envoyée le 2 décembre 2026 (recommandé n° 1A…)".
pub fn sent_words(t: &Strings, lang: Lang, event: &EventRow) -> String {
    let data: serde_json::Value = serde_json::from_str(&event.data).unwrap_or_default();
    let on = data["sent_on"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .map(|d| long_date(d, lang))
        .unwrap_or_default();
    match data["registered_number"].as_str() {
        Some(n) => t.fill("letters.sent_registered", &[("date", &on), ("number", n)]),
        None => t.fill("letters.sent", &[("date", &on)]),
    }
}

/// The body of `letter`, in the request's language `w`.
fn body(state: &State, w: &Strings, lang: Lang, l: &Loaded, owed: &Owed) -> (String, Vec<String>) {
    let row = &l.row;
    let kind = w.t(&format!("kinds.{}.name", row.kind)).to_string();
    let today = state.law.today(state.clock.now());
    let deadline = workflow::deadline_of(&state.law, row, today);
    let due = long_date(deadline.due_on, lang);
    let received = long_date(row.received_on, lang);
    let note = owed
        .because
        .as_ref()
        .and_then(|e| e.note.clone())
        .unwrap_or_default();
    let fill = |key: &str| {
        w.fill(
            &format!("letter.{}.{key}", owed.letter.as_str()),
            &[("kind", &kind), ("due", &due), ("received", &received)],
        )
    };
    let mut paragraphs = Vec::new();
    match owed.letter {
        Letter::Acknowledgement => {
            paragraphs.push(fill("received"));
            if deadline.clock_stopped {
                paragraphs.push(fill("stopped"));
            } else {
                paragraphs.push(fill("due"));
            }
            paragraphs.push(fill("extend"));
        }
        Letter::IdentityNeeded => {
            paragraphs.push(fill("ask"));
            paragraphs.push(fill("stopped"));
            paragraphs.push(fill("deleted"));
        }
        Letter::Extension => {
            let data: serde_json::Value = owed
                .because
                .as_ref()
                .and_then(|e| serde_json::from_str(&e.data).ok())
                .unwrap_or_default();
            let by = crate::domain::deadline::Period {
                months: data["months"].as_u64().unwrap_or(0) as u32,
                days: data["days"].as_u64().unwrap_or(0) as u32,
            };
            paragraphs.push(w.fill(
                "letter.extension.by",
                &[("kind", &kind), ("by", &period_words(w, by)), ("due", &due)],
            ));
            paragraphs.push(w.fill("letter.extension.why", &[("reason", &note)]));
        }
        Letter::Answer => {
            paragraphs.push(fill("intro"));
            // The letter the team wrote when answering: the last message of the team then.
            let at = owed.because.as_ref().map(|e| e.recorded_at);
            let written = l
                .messages
                .iter()
                .rev()
                .find(|m| m.author != "requester" && at.is_none_or(|at| m.created_at <= at))
                .map(|m| m.body.clone())
                .unwrap_or_default();
            paragraphs.extend(
                written
                    .split("\n\n")
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty()),
            );
        }
        Letter::Refusal => {
            let data: serde_json::Value = owed
                .because
                .as_ref()
                .and_then(|e| serde_json::from_str(&e.data).ok())
                .unwrap_or_default();
            let ground = data["ground"].as_str().unwrap_or("other");
            paragraphs.push(w.fill(
                "letter.refusal.ground",
                &[
                    ("kind", &kind),
                    ("ground", w.t(&format!("label.ground.{ground}"))),
                ],
            ));
            if !note.trim().is_empty() {
                paragraphs.push(note.trim().to_string());
            }
            paragraphs.push(fill("complaint"));
        }
        Letter::RestrictionLift => {
            let on = day_of(owed, lang);
            paragraphs.push(fill("intro"));
            paragraphs.push(w.fill("letter.restriction_lift.on", &[("on", &on)]));
            if !note.trim().is_empty() {
                paragraphs.push(w.fill("letter.restriction_lift.why", &[("reason", note.trim())]));
            }
            paragraphs.push(fill("after"));
        }
        Letter::Fee => {
            let data = data_of(owed);
            let ground = crate::mail::fee_basis_words(data["basis"].as_str().unwrap_or(""), lang)
                .unwrap_or_default();
            paragraphs.push(w.fill("letter.fee.intro", &[("ground", ground)]));
            paragraphs.push(w.fill("letter.fee.amount", &[("amount", &amount_of(&data, lang))]));
            if !note.trim().is_empty() {
                paragraphs.push(w.fill("letter.fee.why", &[("reason", note.trim())]));
            }
            paragraphs.push(fill("after"));
        }
        Letter::LiftCancelled => {
            let on = day_of(owed, lang);
            paragraphs.push(w.fill(
                "letter.lift_cancelled.intro",
                &[("kind", &kind), ("on", &on)],
            ));
            paragraphs.push(fill("again"));
        }
        Letter::FeeSettled => {
            let waived = owed
                .because
                .as_ref()
                .is_some_and(|e| e.kind == "fee_waived");
            let key = if waived { "waived" } else { "paid" };
            paragraphs.push(w.fill(
                &format!("letter.fee_settled.{key}"),
                &[
                    ("kind", &kind),
                    ("amount", &amount_of(&data_of(owed), lang)),
                ],
            ));
        }
    }
    // A parent is written to about their child's data: the letter says whose, after its
    // first paragraph (the answer's own text says it already when the team kept it).
    if owed.letter != Letter::Answer
        && let Some(sentence) = crate::workflow::requester::on_behalf(row)
    {
        paragraphs.insert(paragraphs.len().min(1), sentence);
    }
    (
        w.fill(
            &format!("letter.{}.subject", owed.letter.as_str()),
            &[("kind", &kind)],
        ),
        paragraphs,
    )
}

/// What the step that owes the letter recorded.
fn data_of(owed: &Owed) -> serde_json::Value {
    owed.because
        .as_ref()
        .and_then(|e| serde_json::from_str(&e.data).ok())
        .unwrap_or_default()
}

/// The day the step that owes the letter recorded (a lift's), as the letter says it.
fn day_of(owed: &Owed, lang: Lang) -> String {
    data_of(owed)["on"]
        .as_str()
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .map(|d| long_date(d, lang))
        .unwrap_or_default()
}

/// A fee's amount as the letter says it.
fn amount_of(data: &serde_json::Value, lang: Lang) -> String {
    crate::domain::follow::euros(data["amount_cents"].as_i64().unwrap_or(0), lang == Lang::Fr)
}

#[derive(Debug, Default, Deserialize)]
pub struct SentForm {
    csrf: String,
    #[serde(default)]
    sent_on: String,
    #[serde(default)]
    registered_number: String,
}

async fn render(
    state: &State,
    staff: &Staff,
    key: String,
    which: &str,
    typed: SentForm,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let letter: Letter = which.parse().map_err(|_| AdminError::NotFound)?;
    let l = load(state, staff, key).await?;
    let lang = staff.lang();
    let t = lang.strings();
    let row = &l.row;
    let owed_all = intake::letters(row, &l.events);
    let Some(owed) = owed_all.iter().find(|o| o.letter == letter) else {
        return Err(AdminError::NotFound);
    };
    let reference = workflow::reference(row).to_string();
    let page_url = format!("/admin/requests/{reference}");
    let w_lang = row.language;
    let w = w_lang.strings();
    let (subject, paragraphs) = body(state, w, w_lang, &l, owed);
    let org = &state.settings.organisation;
    let today = state.law.today(state.clock.now());
    let page = LetterPage {
        nav: staff.nav(),
        t,
        csrf: staff.session.csrf.clone(),
        title: t.fill(
            "letters.title",
            &[
                ("letter", t.t(&format!("letters.which.{}", letter.as_str()))),
                ("reference", &reference),
            ],
        ),
        action_url: format!("{page_url}/letters/{}", letter.as_str()),
        back: t.fill("letters.back", &[("reference", &reference)]),
        page_url,
        letter_lang: w_lang.code(),
        org: org.name.clone(),
        org_address: org.postal_address.clone(),
        logo: state.settings.brand().logo.is_some(),
        dpo_email: org.dpo_email.clone(),
        to_name: row.requester_name.clone(),
        to_lines: address_lines(l.contact.as_ref()),
        no_address: !l.contact.as_ref().is_some_and(ContactRow::has_address),
        date_line: w.fill("letter.date", &[("date", &long_date(today, w_lang))]),
        reference_line: w.fill("letter.reference", &[("reference", &reference)]),
        subject_line: w.fill("letter.subject", &[("subject", &subject)]),
        greeting: if w_lang == Lang::Fr {
            w.t("letter.greeting").to_string()
        } else {
            w.fill("letter.greeting", &[("name", &row.requester_name)])
        },
        paragraphs,
        closing: w.t("letter.closing").to_string(),
        signature: w.t("letter.signature").to_string(),
        dpo_line: w.fill("letter.dpo", &[("email", &org.dpo_email)]),
        sent: owed.sent.as_ref().map(|e| sent_words(t, lang, e)),
        others: owed_all
            .iter()
            .map(|o| {
                (
                    format!("/admin/requests/{reference}/letters/{}", o.letter.as_str()),
                    t.t(&format!("letters.which.{}", o.letter.as_str()))
                        .to_string(),
                    o.letter == letter,
                )
            })
            .collect(),
        typed_on: if typed.sent_on.is_empty() {
            today.format("%Y-%m-%d").to_string()
        } else {
            typed.sent_on.clone()
        },
        typed_number: typed.registered_number.clone(),
        today: today.format("%Y-%m-%d").to_string(),
        can_act: staff.role.can_act(),
        error,
        reference,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(super::render(&page, status))
}

pub async fn show(
    state: State,
    staff: Staff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let (key, which) = path.into_inner();
    render(&state, &staff, key, &which, SentForm::default(), None).await
}

pub async fn record(
    state: State,
    staff: Staff,
    path: web::Path<(String, String)>,
    form: web::Form<SentForm>,
) -> Result<HttpResponse, AdminError> {
    let (key, which) = path.into_inner();
    let form = form.into_inner();
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    let letter: Letter = which.parse().map_err(|_| AdminError::NotFound)?;
    let t = staff.lang().strings();
    let Some(on) = crate::domain::filing::parse_day(&form.sent_on) else {
        let error = t.t("letters.error.date").to_string();
        return render(&state, &staff, key, &which, form, Some(error)).await;
    };
    let number = form.registered_number.trim().to_string();
    let row = load(&state, &staff, key.clone()).await?.row;
    let actor = staff.actor();
    let now = state.clock.now();
    // The refusals come back to the form; a failure of the store is a 500 as anywhere.
    let done = state
        .db(move |conn, app| {
            Ok::<_, crate::web::error::Problem>(intake::record_letter(
                conn,
                app,
                row.id,
                letter,
                on,
                Some(number.as_str()).filter(|n| !n.is_empty()),
                &actor,
                now,
            ))
        })
        .await?;
    match done {
        Ok(row) => {
            let reference = workflow::reference(&row).to_string();
            Ok(super::see_other(&format!(
                "/admin/requests/{reference}?done=letter_sent"
            )))
        }
        Err(WorkflowError::Invalid { field, .. }) => {
            let error = match field {
                intake::SENT_AFTER_TODAY => t.t("letters.error.future"),
                intake::SENT_BEFORE_RECEIPT => t.t("letters.error.before"),
                _ => t.t("letters.error.number"),
            }
            .to_string();
            render(&state, &staff, key, &which, form, Some(error)).await
        }
        Err(e) => Err(crate::web::error::Problem::from(e).into()),
    }
}
