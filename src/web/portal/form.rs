//! One form per kind of request: the fields that kind needs, checked on submit and re-shown
//! with every error (at the top and beside its field) in the person's language.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value, json};

use super::upload::{self, Submission, UploadError};
use super::{Chrome, csrf_ok, csrf_token, human_size, page, with_csrf};
use crate::domain::email::EmailAddress;
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::status::Status;
use crate::i18n::{Lang, Strings};
use crate::store::files::Sniffed;
use crate::web::State;
use crate::workflow::Filing;

pub const COUNTRIES: [&str; 14] = [
    "FR", "BE", "LU", "DE", "ES", "IT", "NL", "CH", "GB", "CA", "CA-QC", "US-CA", "BR", "OTHER",
];
const MAX_NAME: usize = 200;
const MAX_TEXT: usize = 20_000;

pub enum Input {
    Text,
    Email,
    Textarea,
    Checkbox,
    File,
    Radio(Vec<Choice>),
    Select(Vec<Choice>),
}

pub struct Choice {
    pub value: String,
    pub label: String,
}

pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub input: Input,
    pub value: String,
    pub error: Option<String>,
}

impl Field {
    pub fn describedby(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }

    pub fn is_checked(&self, value: &str) -> bool {
        self.value == value
    }

    /// Which control the template draws.
    pub fn widget(&self) -> &'static str {
        match self.input {
            Input::Text => "text",
            Input::Email => "email",
            Input::Textarea => "textarea",
            Input::Checkbox => "checkbox",
            Input::File => "file",
            Input::Radio(_) => "radio",
            Input::Select(_) => "select",
        }
    }

    pub fn choices(&self) -> &[Choice] {
        match &self.input {
            Input::Radio(c) | Input::Select(c) => c,
            _ => &[],
        }
    }
}

#[derive(Template)]
#[template(path = "portal/form.html")]
pub struct FormPage {
    pub c: Chrome,
    pub heading: String,
    pub action: String,
    pub csrf: String,
    pub errors: Vec<(String, String)>,
    pub about_you: Vec<Field>,
    pub about_request: Vec<Field>,
}

/// The form's fields for `kind`, in display order: (about you, about the request).
fn fields(kind: RequestKind, t: &Strings, max_upload: usize) -> (Vec<Field>, Vec<Field>) {
    let f = |name: &'static str, required: bool, input: Input| Field {
        name,
        label: t.t(&format!("form.{name}")).to_string(),
        hint: None,
        required,
        input,
        value: String::new(),
        error: None,
    };
    let choices = |name: &str, values: &[&str]| {
        values
            .iter()
            .map(|v| Choice {
                value: v.to_string(),
                label: t.t(&format!("form.{name}_{v}")).to_string(),
            })
            .collect::<Vec<_>>()
    };
    let countries = COUNTRIES
        .iter()
        .map(|c| Choice {
            value: c.to_string(),
            label: t.t(&format!("countries.{c}")).to_string(),
        })
        .collect();
    let mut email = f("email", true, Input::Email);
    email.hint = Some(t.t("form.email_hint").to_string());
    let mut customer_ref = f("customer_ref", false, Input::Text);
    customer_ref.hint = Some(t.t("form.customer_ref_hint").to_string());
    let mut mandate = f("mandate", false, Input::File);
    mandate.hint = Some(t.fill(
        "form.mandate_hint",
        &[("max", &human_size(max_upload, t.lang()))],
    ));
    let mut acting = f(
        "acting",
        true,
        Input::Radio(choices("acting", &["self", "representative"])),
    );
    acting.value = "self".into();
    let mut country = f("country", true, Input::Select(countries));
    country.value = "FR".into();
    let you = vec![
        f("name", true, Input::Text),
        email,
        customer_ref,
        country,
        acting,
        mandate,
    ];
    let mut request = match kind {
        RequestKind::Access => vec![
            f(
                "access_scope",
                true,
                Input::Radio(choices("access_scope", &["all", "specific"])),
            ),
            f("access_specifics", false, Input::Textarea),
        ],
        RequestKind::Rectification => vec![
            f("rectification_wrong", true, Input::Textarea),
            f("rectification_correct", true, Input::Textarea),
        ],
        RequestKind::Erasure => vec![
            f(
                "erasure_scope",
                true,
                Input::Radio(choices("erasure_scope", &["all", "part"])),
            ),
            f("erasure_part", false, Input::Textarea),
            f("erasure_reason", false, Input::Textarea),
        ],
        RequestKind::Restriction => vec![
            f(
                "restriction_ground",
                true,
                Input::Radio(choices(
                    "restriction",
                    &["accuracy", "unlawful", "legal_claims", "objection_pending"],
                )),
            ),
            f("restriction_explanation", false, Input::Textarea),
        ],
        RequestKind::Portability => vec![
            f("portability_data", true, Input::Textarea),
            f(
                "portability_destination",
                true,
                Input::Radio(choices("portability_destination", &["me", "controller"])),
            ),
            f("portability_controller", false, Input::Text),
        ],
        RequestKind::Objection => vec![
            f("objection_direct_marketing", false, Input::Checkbox),
            f("objection_processing", false, Input::Textarea),
            f("objection_reason", false, Input::Textarea),
        ],
        RequestKind::ConsentWithdrawal => {
            vec![f("consent_withdrawal_consent", true, Input::Textarea)]
        }
    };
    request.push(f("details", false, Input::Textarea));
    (you, request)
}

fn form_page(
    state: &State,
    lang: Lang,
    kind: RequestKind,
    csrf: String,
    values: &HashMap<String, String>,
    errors: &HashMap<&'static str, String>,
    top_errors: Vec<(String, String)>,
) -> FormPage {
    let t = lang.strings();
    let (mut you, mut request) = fields(kind, t, state.settings.portal.max_upload_bytes);
    let mut listed = top_errors;
    for field in you.iter_mut().chain(request.iter_mut()) {
        if let Some(v) = values.get(field.name) {
            field.value = v.clone();
        }
        if let Some(e) = errors.get(field.name) {
            field.error = Some(e.clone());
            // French puts a space before the colon.
            let colon = if lang == Lang::Fr { " :" } else { ":" };
            listed.push((
                field.name.to_string(),
                format!("{}{colon} {e}", field.label),
            ));
        }
    }
    let right = t.t(&format!("kinds.{}.name", kind.as_str()));
    let heading = t.fill("form.heading", &[("right", right)]);
    FormPage {
        c: Chrome::new(
            state,
            lang,
            heading.clone(),
            &format!("request/{}", kind.as_str()),
        ),
        heading,
        action: format!("/{}/request/{}", lang.code(), kind.as_str()),
        csrf,
        errors: listed,
        about_you: you,
        about_request: request,
    }
}

fn parse_path(path: &(String, String)) -> Option<(Lang, RequestKind)> {
    Some((super::url_lang(&path.0)?, path.1.parse().ok()?))
}

pub async fn show(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let Some((lang, kind)) = parse_path(&path) else {
        return super::not_found(
            &state,
            super::url_lang(&path.0).unwrap_or_else(|| super::preferred_lang(&req)),
        );
    };
    let csrf = csrf_token(&req);
    let page_html = page(
        &form_page(
            &state,
            lang,
            kind,
            csrf.clone(),
            &HashMap::new(),
            &HashMap::new(),
            Vec::new(),
        ),
        StatusCode::OK,
        lang,
    );
    with_csrf(page_html, &state, &csrf)
}

#[derive(Template)]
#[template(path = "portal/submitted.html")]
pub struct SubmittedPage {
    pub c: Chrome,
    pub text: String,
    pub reference: String,
    pub duplicate: Option<String>,
}

pub async fn submit(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    multipart: Multipart,
) -> HttpResponse {
    let Some((lang, kind)) = parse_path(&path) else {
        return super::not_found(
            &state,
            super::url_lang(&path.0).unwrap_or_else(|| super::preferred_lang(&req)),
        );
    };
    let t = lang.strings();
    let max = state.settings.portal.max_upload_bytes;
    let submission = match upload::read(multipart, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            return super::message_page(
                &state,
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                "pages.too_large_title",
                t.fill("pages.too_large_text", &[("max", &human_size(max, lang))]),
            );
        }
        Err(UploadError::Malformed(why)) => {
            tracing::info!(%why, "unreadable portal form");
            return super::message_page(
                &state,
                lang,
                StatusCode::BAD_REQUEST,
                "pages.internal_title",
                t.t("pages.internal_text").to_string(),
            );
        }
    };
    let csrf = csrf_token(&req);
    if !csrf_ok(&req, submission.fields.get("csrf").map(String::as_str)) {
        let top = vec![("csrf".to_string(), t.t("errors.csrf").to_string())];
        let html = page(
            &form_page(
                &state,
                lang,
                kind,
                csrf.clone(),
                &submission.fields,
                &HashMap::new(),
                top,
            ),
            StatusCode::FORBIDDEN,
            lang,
        );
        return with_csrf(html, &state, &csrf);
    }
    if let Some(ip) = super::client_ip(&req, state.settings.portal.trust_forwarded_for)
        && !state.submissions.allow(ip)
    {
        return super::message_page(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            "pages.rate_limited_title",
            t.t("pages.rate_limited_text").to_string(),
        );
    }
    let days = t.count("units.days", i64::from(state.settings.portal.link_ttl_days));
    // A bot filled the hidden field: answer as if accepted, store nothing.
    if !submission.field("website").is_empty() {
        let c = Chrome::new(&state, lang, t.t("submitted.title").to_string(), "");
        let text = t.fill(
            "submitted.text",
            &[("email", submission.field("email")), ("days", &days)],
        );
        return page(
            &SubmittedPage {
                c,
                text,
                reference: String::new(),
                duplicate: None,
            },
            StatusCode::OK,
            lang,
        );
    }
    let (filing, mandate) = match validate(&state, lang, kind, &submission) {
        Ok(ok) => ok,
        Err(errors) => {
            let html = page(
                &form_page(
                    &state,
                    lang,
                    kind,
                    csrf.clone(),
                    &submission.fields,
                    &errors,
                    Vec::new(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                lang,
            );
            return with_csrf(html, &state, &csrf);
        }
    };
    let now = state.clock.now();
    let email = filing.email.to_string();
    let filed = state
        .db(move |conn, app| {
            let mandate_ref = mandate
                .as_ref()
                .map(|(bytes, sniffed, name)| (bytes.as_slice(), *sniffed, name.as_str()));
            let row = crate::workflow::requester::file(conn, app, &filing, mandate_ref, now)
                .map_err(|e| crate::web::error::internal(&e))?;
            let duplicate = match row.duplicate_of {
                Some(id) => Some(crate::store::requests::get(conn, id)?),
                None => None,
            };
            Ok::<_, crate::web::error::Problem>((row, duplicate))
        })
        .await;
    match filed {
        Ok((row, duplicate)) => {
            let reference = crate::workflow::reference(&row).to_string();
            let c = Chrome::new(&state, lang, t.t("submitted.title").to_string(), "");
            let text = t.fill("submitted.text", &[("email", &email), ("days", &days)]);
            let duplicate = duplicate.map(|d| {
                t.fill(
                    "submitted.duplicate",
                    &[("reference", &crate::workflow::reference(&d).to_string())],
                )
            });
            page(
                &SubmittedPage {
                    c,
                    text,
                    reference: t.fill("submitted.reference", &[("reference", &reference)]),
                    duplicate,
                },
                StatusCode::OK,
                lang,
            )
        }
        Err(problem) => super::internal_error(&state, lang, &problem),
    }
}

type Mandate = Option<(Vec<u8>, Sniffed, String)>;

/// Turns the submitted form into a filing, or says what is wrong with each field.
fn validate(
    state: &State,
    lang: Lang,
    kind: RequestKind,
    s: &Submission,
) -> Result<(Filing, Mandate), HashMap<&'static str, String>> {
    let t = lang.strings();
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let mut err = |field: &'static str, key: &str| {
        errors.entry(field).or_insert_with(|| t.t(key).to_string());
    };
    let name = s.field("name").trim().to_string();
    if name.is_empty() {
        err("name", "errors.name_required");
    } else if name.chars().count() > MAX_NAME {
        err("name", "errors.name_too_long");
    }
    let email = EmailAddress::parse(s.field("email")).ok();
    if email.is_none() {
        err("email", "errors.email_invalid");
    }
    let customer_ref = Some(s.field("customer_ref").trim().to_string()).filter(|r| !r.is_empty());
    if customer_ref
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_NAME)
    {
        err("customer_ref", "errors.name_too_long");
    }
    let country = s.field("country");
    if !COUNTRIES.contains(&country) {
        err("country", "errors.country_invalid");
    }
    let representative = match s.field("acting") {
        "self" => false,
        "representative" => true,
        _ => {
            err("acting", "errors.choice_required");
            false
        }
    };
    let mut mandate = None;
    match s.file("mandate") {
        Some(file) => match Sniffed::detect(&file.bytes) {
            Some(sniffed) => mandate = Some((file.bytes.clone(), sniffed, file.file_name.clone())),
            None => err("mandate", "errors.file_type"),
        },
        None if representative => err("mandate", "errors.mandate_required"),
        None => {}
    }
    let mut form = Map::new();
    let mut text =
        |field: &'static str, required: bool, errs: &mut dyn FnMut(&'static str, &str)| {
            let value = s.field(field).trim().to_string();
            if value.chars().count() > MAX_TEXT {
                errs(field, "errors.text_too_long");
            } else if required && value.is_empty() {
                errs(field, "errors.field_required");
            }
            if !value.is_empty() {
                form.insert(field.to_string(), Value::String(value));
            }
        };
    let choice = |field: &'static str,
                  allowed: &[&str],
                  errs: &mut dyn FnMut(&'static str, &str)|
     -> String {
        let value = s.field(field);
        if allowed.contains(&value) {
            value.to_string()
        } else {
            errs(field, "errors.choice_required");
            String::new()
        }
    };
    let mut chosen = Map::new();
    match kind {
        RequestKind::Access => {
            let scope = choice("access_scope", &["all", "specific"], &mut err);
            text("access_specifics", scope == "specific", &mut err);
            chosen.insert("access_scope".into(), json!(scope));
        }
        RequestKind::Rectification => {
            text("rectification_wrong", true, &mut err);
            text("rectification_correct", true, &mut err);
        }
        RequestKind::Erasure => {
            let scope = choice("erasure_scope", &["all", "part"], &mut err);
            text("erasure_part", scope == "part", &mut err);
            text("erasure_reason", false, &mut err);
            chosen.insert("erasure_scope".into(), json!(scope));
        }
        RequestKind::Restriction => {
            let ground = choice(
                "restriction_ground",
                &["accuracy", "unlawful", "legal_claims", "objection_pending"],
                &mut err,
            );
            text("restriction_explanation", false, &mut err);
            chosen.insert("restriction_ground".into(), json!(ground));
        }
        RequestKind::Portability => {
            text("portability_data", true, &mut err);
            let to = choice("portability_destination", &["me", "controller"], &mut err);
            text("portability_controller", to == "controller", &mut err);
            chosen.insert("portability_destination".into(), json!(to));
        }
        RequestKind::Objection => {
            let marketing = !s.field("objection_direct_marketing").is_empty();
            let processing = s.field("objection_processing").trim().to_string();
            text("objection_processing", false, &mut err);
            text("objection_reason", false, &mut err);
            // Direct marketing is an absolute right: no reason asked (GDPR art. 21(3)).
            if !processing.is_empty() && s.field("objection_reason").trim().is_empty() {
                err("objection_reason", "errors.objection_reason_required");
            }
            if !marketing && processing.is_empty() {
                err("objection_processing", "errors.objection_needs_something");
            }
            chosen.insert("objection_direct_marketing".into(), json!(marketing));
        }
        RequestKind::ConsentWithdrawal => text("consent_withdrawal_consent", true, &mut err),
    }
    let details = s.field("details").trim().to_string();
    if details.chars().count() > MAX_TEXT {
        err("details", "errors.text_too_long");
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        return Err(errors);
    };
    form.extend(chosen);
    let law = &state.law;
    let profile = law
        .countries
        .get(country)
        .cloned()
        .unwrap_or_else(|| law.default_profile.clone());
    let mut filing = Filing::basic(
        kind,
        name,
        email,
        customer_ref,
        details,
        state.clock.now(),
        profile,
        Channel::Web,
        lang.code().to_string(),
        Status::New,
    );
    filing.country = Some(country.to_string());
    filing.representative = representative;
    filing.form = Value::Object(form);
    Ok((filing, mandate))
}
