//! `/admin/requests/new`: a request that came by post, email, phone or at the front desk,
//! filed by the team with the day it was received, the letter and the identity copy, and the
//! identity decision taken there and then. The same checks as the portal and the API
//! (`domain::filing`); a refused form comes back with everything typed but the files.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use super::{AdminError, Nav, Staff};
use crate::documents::Refused;
use crate::domain::filing::{
    ATTACHED, Code, Draft, FieldError, PostalDraft, Shape, SubjectDraft, own_fields,
};
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::status::Status;
use crate::domain::verification::Method;
use crate::i18n::{Lang, Strings, long_date};
use crate::web::State;
use crate::web::portal::upload::{self, CleanFile, Early, Rejected, UploadError};
use crate::workflow::{self, intake};

/// The channels a request reaches the team by, other than the portal and the API.
const CHANNELS: [Channel; 4] = [
    Channel::Post,
    Channel::Email,
    Channel::Phone,
    Channel::InPerson,
];

/// The form's text fields, by name: blank, or as typed when it comes back.
const FIELDS: [&str; 21] = [
    "channel",
    "kind",
    "received_on",
    "registered_number",
    "name",
    "address_lines",
    "postcode",
    "city",
    "postal_country",
    "email",
    "contact",
    "customer_ref",
    "acting",
    "subject_name",
    "subject_email",
    "subject_customer_ref",
    "subject_birth_date",
    "details",
    "language",
    "identity",
    "csrf",
];

/// One choice of a group of radio buttons or a list.
pub struct Choice {
    pub value: &'static str,
    pub words: String,
}

/// One thing to correct, linked from the summary to its field.
pub struct Wrong {
    pub field: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "admin/intake.html")]
pub struct IntakePage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub csrf: String,
    pub channels: Vec<Choice>,
    pub kinds: Vec<Choice>,
    /// For themselves, as a representative, as a parent.
    pub actings: Vec<Choice>,
    /// The person acted for: (field, input type, label).
    pub subject_fields: Vec<(&'static str, &'static str, String)>,
    pub typed: std::collections::HashMap<String, String>,
    pub errors: Vec<Wrong>,
    /// Files chosen before the form came back: the browser does not send them again.
    pub files_lost: bool,
    pub today: String,
    /// The kinds of file taken and their size limit.
    pub files_hint: String,
    /// What post-mortem directives and a request after a death need besides (art. 85 loi
    /// Informatique et Libertés): read only for those kinds.
    pub after_death: Vec<Extra>,
}

/// A question of the directives' or the heir's request on the intake form.
pub struct Extra {
    pub name: &'static str,
    pub label: String,
    pub choices: Vec<Choice>,
    pub long: bool,
}

/// The questions of `kind` that the team answers from a letter (the documents are the letter
/// itself). The deceased of an heir's request is given under "for whom", as anyone acted for.
fn extra_fields(kind: RequestKind) -> Vec<crate::domain::filing::FieldSpec> {
    own_fields(kind)
        .iter()
        .filter(|f| f.shape != Shape::Document)
        .copied()
        .collect()
}

/// The kinds whose own questions the intake form asks.
const AFTER_DEATH: [RequestKind; 2] = [RequestKind::Directives, RequestKind::Heir];

impl IntakePage {
    pub fn v(&self, field: &str) -> &str {
        self.typed.get(field).map(String::as_str).unwrap_or("")
    }

    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.text.as_str())
    }

    pub fn checked(&self, field: &str, value: &str) -> bool {
        self.v(field) == value
    }
}

fn page(
    state: &State,
    staff: &Staff,
    typed: std::collections::HashMap<String, String>,
    errors: Vec<Wrong>,
    files_lost: bool,
) -> HttpResponse {
    let lang = staff.lang();
    let t = lang.strings();
    let today = state.law.today(state.clock.now());
    let page = IntakePage {
        nav: staff.nav(),
        t,
        csrf: staff.session.csrf.clone(),
        channels: CHANNELS
            .iter()
            .map(|c| Choice {
                value: c.as_str(),
                words: t.t(&format!("label.channel.{}", c.as_str())).to_string(),
            })
            .collect(),
        kinds: RequestKind::ALL
            .iter()
            .map(|k| Choice {
                value: k.as_str(),
                words: t.t(&format!("label.kind.{}", k.as_str())).to_string(),
            })
            .collect(),
        actings: crate::domain::filing::ACTING_AS
            .iter()
            .map(|a| Choice {
                value: a,
                words: t.t(&format!("intake.acting.{a}")).to_string(),
            })
            .collect(),
        subject_fields: [
            ("subject_name", "text"),
            ("subject_birth_date", "date"),
            ("subject_email", "email"),
            ("subject_customer_ref", "text"),
        ]
        .into_iter()
        .map(|(f, kind)| (f, kind, t.t(&format!("intake.field.{f}")).to_string()))
        .collect(),
        typed,
        today: today.format("%Y-%m-%d").to_string(),
        files_hint: t.fill(
            "intake.hint.files",
            &[(
                "max",
                &(state.settings.portal.max_upload_bytes / (1024 * 1024)).to_string(),
            )],
        ),
        files_lost: files_lost && !errors.is_empty(),
        errors,
        after_death: AFTER_DEATH
            .iter()
            .flat_map(|k| extra_fields(*k))
            .map(|f| Extra {
                name: f.name,
                label: t.t(&format!("intake.after_death.{}", f.name)).to_string(),
                choices: match f.shape {
                    Shape::Choice(values) => values
                        .iter()
                        .map(|v| Choice {
                            value: v,
                            words: t.t(&format!("request.asked.field.{}_{v}", f.name)).to_string(),
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                long: matches!(f.shape, Shape::Text { max } if max > crate::domain::filing::MAX_LINE),
            })
            .collect(),
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    super::render(&page, status)
}

fn blank(lang: Lang) -> std::collections::HashMap<String, String> {
    let mut typed = std::collections::HashMap::new();
    typed.insert("channel".into(), "post".into());
    typed.insert("acting".into(), "self".into());
    typed.insert("language".into(), lang.code().into());
    typed
}

pub async fn form(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    Ok(page(&state, &staff, blank(staff.lang()), Vec::new(), false))
}

pub async fn submit(
    state: State,
    staff: Staff,
    req: HttpRequest,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let t = staff.lang().strings();
    let max = state.settings.portal.max_upload_bytes;
    let too_large = || Wrong {
        field: "letter",
        text: t.fill(
            "intake.error.too_large",
            &[("max", &(max / (1024 * 1024)).to_string())],
        ),
    };
    // The letter and the identity copy together: twice one file's limit.
    let cap = max.saturating_mul(2);
    match upload::refuse_early(&req, state.settings.base_url(), cap) {
        Some(Early::CrossSite) => return Err(AdminError::Forbidden),
        Some(Early::TooLarge) => {
            return Ok(page(
                &state,
                &staff,
                blank(staff.lang()),
                vec![too_large()],
                true,
            ));
        }
        None => {}
    }
    let read = upload::read_files(
        req.headers(),
        multipart,
        &state.files,
        cap,
        2,
        upload::BODY_IDLE,
    )
    .await;
    let submission = match read {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            return Ok(page(
                &state,
                &staff,
                blank(staff.lang()),
                vec![too_large()],
                true,
            ));
        }
        Err(UploadError::Malformed(_)) => {
            let wrong = Wrong {
                field: "channel",
                text: t.t("intake.error.unreadable").to_string(),
            };
            return Ok(page(&state, &staff, blank(staff.lang()), vec![wrong], true));
        }
        Err(UploadError::Io(e)) => {
            tracing::error!(error = %e, "cannot receive a staff intake");
            return Err(AdminError::Internal);
        }
    };
    if !staff.csrf_ok(submission.field("csrf")) {
        return Err(AdminError::Forbidden);
    }
    let asked_kind = submission.field("kind").parse::<RequestKind>().ok();
    let extra: Vec<&'static str> = AFTER_DEATH
        .iter()
        .flat_map(|k| extra_fields(*k))
        .map(|f| f.name)
        .collect();
    let typed: std::collections::HashMap<String, String> = FIELDS
        .iter()
        .chain(&extra)
        .filter(|f| **f != "csrf")
        .map(|f| (f.to_string(), submission.field(f).to_string()))
        .collect();
    let files_chosen = submission.file("letter").is_some() || submission.file("id_copy").is_some();
    let mut errors = Vec::new();
    // Each file checked (an image re-encoded) before anything is filed.
    let mut check = async |name: &'static str| -> Result<Option<CleanFile>, AdminError> {
        let Some(file) = submission.file(name) else {
            return Ok(None);
        };
        match upload::clean(file, &state.files).await {
            Ok(clean) => Ok(Some(clean)),
            Err(Rejected::Refused(Refused::NotADocument)) => {
                errors.push(Wrong {
                    field: name,
                    text: t.t("intake.error.not_a_document").to_string(),
                });
                Ok(None)
            }
            Err(Rejected::Refused(refused)) => {
                errors.push(Wrong {
                    field: name,
                    text: upload::refusal_message(&refused, t),
                });
                Ok(None)
            }
            Err(Rejected::Io(e)) => {
                tracing::error!(error = %e, "cannot check a staff intake upload");
                Err(AdminError::Internal)
            }
        }
    };
    let letter = check("letter").await?;
    let id_copy = check("id_copy").await?;
    let now = state.clock.now();
    let field = |name: &str| submission.field(name);
    let received_at = instant_of(field("received_on"), &state, now);
    // After a death the scanned letter brings the death certificate and the proof of
    // capacity: without it, both are asked for, on the letter's field.
    let mut answers = typed.clone();
    if letter.is_some() {
        for proof in ["heir_death_certificate", "heir_capacity_proof"] {
            answers.insert(proof.to_string(), ATTACHED.to_string());
        }
    }
    let own = asked_kind.filter(|k| AFTER_DEATH.contains(k));
    let draft = Draft {
        kind: field("kind"),
        name: field("name"),
        email: field("email"),
        customer_ref: field("customer_ref"),
        details: field("details"),
        received_at: Some(received_at.as_deref().unwrap_or("")),
        profile: None,
        channel: field("channel"),
        language: field("language"),
        person: None,
        answers: own.map(|_| &answers as &dyn crate::domain::filing::Answers),
        // After a death the deceased is who the sources are searched for; otherwise, as the
        // API says it, the group about the person acted for is read only when the requester
        // acts for another, and says how.
        subject: if own == Some(RequestKind::Heir) {
            Some(SubjectDraft {
                name: field("subject_name"),
                email: field("subject_email"),
                customer_ref: field("subject_customer_ref"),
                ..SubjectDraft::default()
            })
        } else {
            match field("acting") {
                "" | "self" => None,
                acting => Some(SubjectDraft {
                    name: field("subject_name"),
                    email: field("subject_email"),
                    customer_ref: field("subject_customer_ref"),
                    birth_date: field("subject_birth_date"),
                    acting,
                }),
            }
        },
        postal: PostalDraft {
            lines: field("address_lines"),
            postcode: field("postcode"),
            city: field("city"),
            country: field("postal_country"),
        },
        contact: field("contact"),
        registered_number: field("registered_number"),
    };
    let identity = match field("identity") {
        "verified" => Some(true),
        "later" => Some(false),
        _ => None,
    };
    let filing = match workflow::check_filing(&state.law, &draft, Status::Verifying, now) {
        Ok(filing) => Some(filing),
        Err(found) => {
            errors.extend(found.iter().map(|e| said(t, staff.lang(), e)));
            None
        }
    };
    if !CHANNELS.iter().any(|c| c.as_str() == field("channel")) {
        errors.retain(|e| e.field != "channel");
        errors.push(Wrong {
            field: "channel",
            text: t.t("intake.error.channel").to_string(),
        });
    }
    match identity {
        None => errors.push(Wrong {
            field: "identity",
            text: t.t("intake.error.identity").to_string(),
        }),
        Some(true) if id_copy.is_none() && field("channel") != "in_person" => errors.push(Wrong {
            field: "id_copy",
            text: t.t("intake.error.id_copy_needed").to_string(),
        }),
        _ => {}
    }
    let (Some(filing), true) = (filing, errors.is_empty()) else {
        order(&mut errors);
        return Ok(page(&state, &staff, typed, errors, files_chosen));
    };
    let method = match filing.channel {
        Channel::InPerson if id_copy.is_none() => Method::InPerson,
        Channel::Post => Method::PostalCopy,
        _ => Method::IdDocument,
    };
    let decision = if identity == Some(true) {
        intake::IdentityAtFiling::Verified(method)
    } else {
        intake::IdentityAtFiling::Later
    };
    let actor = staff.actor();
    let files = [&letter, &id_copy].map(|f| {
        f.as_ref()
            .map(|c| (c.path().to_path_buf(), c.kind, c.file_name.clone()))
    });
    let row = state
        .db(move |conn, app| {
            fn received(
                f: &Option<(std::path::PathBuf, crate::store::files::Sniffed, String)>,
            ) -> Option<intake::Received<'_>> {
                f.as_ref().map(|(path, sniffed, name)| intake::Received {
                    path: path.as_path(),
                    sniffed: *sniffed,
                    name: name.as_str(),
                })
            }
            let [letter, id_copy] = &files;
            intake::file_received(
                conn,
                app,
                &filing,
                received(letter),
                received(id_copy),
                decision,
                &actor,
                now,
            )
        })
        .await?;
    drop((letter, id_copy));
    let reference = workflow::reference(&row).to_string();
    Ok(super::see_other(&format!(
        "/admin/requests/{reference}?done=filed"
    )))
}

/// The day of receipt as the instant the law checks: now for today (a letter opened this
/// morning is not received in the afternoon), else noon of that day where the organisation
/// is. `None` for a date that is not one.
fn instant_of(day: &str, state: &State, now: DateTime<Utc>) -> Option<String> {
    let day = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    if day == state.law.today(now) {
        return Some(now.to_rfc3339());
    }
    let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0)?);
    let local = state.law.time_zone.from_local_datetime(&noon).earliest()?;
    Some(local.with_timezone(&Utc).to_rfc3339())
}

/// The order of the form, so the summary reads top to bottom.
fn order(errors: &mut [Wrong]) {
    let place = |field: &str| {
        [
            "channel",
            "kind",
            "received_on",
            "registered_number",
            "name",
            "address_lines",
            "postcode",
            "city",
            "postal_country",
            "email",
            "contact",
            "customer_ref",
            "acting",
            "subject_name",
            "subject_email",
            "subject_customer_ref",
            "subject_birth_date",
            "details",
            "language",
            "letter",
            "id_copy",
            "identity",
        ]
        .iter()
        .position(|f| *f == field)
        .unwrap_or(usize::MAX)
    };
    errors.sort_by_key(|e| place(e.field));
}

/// A filing error in the staff member's words, on the form's field.
fn said(t: &Strings, lang: Lang, e: &FieldError) -> Wrong {
    let field: &'static str = match e.field {
        "received_at" => "received_on",
        "subject_acting" => "acting",
        "heir_death_certificate" | "heir_capacity_proof" => {
            return Wrong {
                field: "letter",
                text: t.t("intake.after_death.letter_needed").to_string(),
            };
        }
        other => other,
    };
    let key = format!("intake.field.{field}");
    let label = if t.has(&key) {
        t.t(&key)
    } else {
        t.t(&format!("intake.after_death.{field}"))
    };
    let text = match &e.code {
        Code::Required | Code::RequiredWith { .. } | Code::RequiredEither { .. } => match field {
            "email" => t.t("intake.error.email_or_address").to_string(),
            "address_lines" if e.code != Code::Required => {
                t.t("intake.error.address_for_post").to_string()
            }
            "received_on" => t.t("intake.error.received_on").to_string(),
            "subject_email" => t.t("intake.error.subject_email_or_ref").to_string(),
            _ => t.fill("intake.error.required", &[("field", label)]),
        },
        Code::Email(crate::domain::email::InvalidEmail::Empty) => {
            t.t("intake.error.email_or_address").to_string()
        }
        Code::Email(_) => t.t("intake.error.email").to_string(),
        Code::TooLong { max } => t.fill(
            "intake.error.too_long",
            &[("field", label), ("max", &max.to_string())],
        ),
        Code::NotAnInstant { .. } => t.t("intake.error.received_on").to_string(),
        Code::InFuture if field == "subject_birth_date" => {
            t.t("errors.parent.birth_date_future").to_string()
        }
        Code::NotADay { .. } if field == "subject_birth_date" => {
            t.t("errors.parent.birth_date_invalid").to_string()
        }
        Code::NotADay { .. } => t.t("errors.heir.not_a_day").to_string(),
        Code::InFuture if field == "heir_date_of_death" => {
            t.t("errors.heir.date_in_future").to_string()
        }
        Code::InFuture => t.t("intake.error.in_future").to_string(),
        Code::OfAge { age } => t.fill("intake.error.of_age", &[("age", &age.to_string())]),
        Code::TooEarly { earliest } => t.fill(
            "intake.error.too_early",
            &[("date", &long_date(*earliest, lang))],
        ),
        Code::Unknown(_) | Code::NotAllowed { .. } | Code::UnknownProfile { .. } => {
            t.fill("intake.error.choose", &[("field", label)])
        }
        Code::NotADocument => t.t("intake.error.not_a_document").to_string(),
        Code::Text(_) => t.fill("intake.error.text", &[("field", label)]),
        Code::RequiredUnless { .. } => t.fill("intake.error.required", &[("field", label)]),
    };
    Wrong { field, text }
}
