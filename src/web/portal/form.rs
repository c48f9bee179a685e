//! One form per kind of request: the fields that kind needs, checked on submit and re-shown
//! with every error (at the top and beside its field) in the person's language.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::link::ResendBox;
use super::upload::{self, CleanFile, Early, Rejected, Submission, UploadError};
use super::{Chrome, csrf_ok, csrf_token, human_size, page, with_csrf};
use crate::crypto;
use crate::documents::Refused;
use crate::domain::filing::{
    ADDRESS_LINES, ATTACHED, Acting, Attachment, CITY, CONTACT, Code, DETAILS, Draft, FieldError,
    FieldSpec, NOT_A_DOCUMENT, PERSON, POSTAL_COUNTRY, POSTCODE, Person, PostalDraft, REQUESTER,
    SUBJECT, Shape, SubjectDraft, own_fields,
};
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::status::Status;
use crate::i18n::{Lang, Strings};
use crate::web::State;
use crate::workflow::{self, Filing};

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
    /// The person represented: asked of everyone (the portal runs without script), needed
    /// only from those who act for someone else.
    pub about_subject: Vec<Field>,
    /// The group's title and hint: the person represented, or after a death the deceased.
    pub subject_legend: String,
    pub subject_hint: String,
    pub about_request: Vec<Field>,
}

/// How the person wants to be answered, and where letters go when by post.
const POSTAL: [FieldSpec; 5] = [CONTACT, ADDRESS_LINES, POSTCODE, CITY, POSTAL_COUNTRY];

/// The form's fields for `kind`, in the schema's order: (about you, about the person
/// represented, about the request). The schema says what each holds and whether it is
/// required; this says how it is drawn.
fn fields(
    kind: RequestKind,
    t: &Strings,
    max_upload: usize,
) -> (Vec<Field>, Vec<Field>, Vec<Field>) {
    let field = |spec: &FieldSpec| {
        let choices = |labels: &str, values: &[&str]| {
            values
                .iter()
                .map(|v| Choice {
                    value: v.to_string(),
                    label: t.t(&format!("{labels}{v}")).to_string(),
                })
                .collect::<Vec<_>>()
        };
        let input = match (spec.name, spec.shape) {
            ("country", Shape::Choice(values)) => Input::Select(choices("countries.", values)),
            // The four grounds read better under the right's name.
            ("restriction_ground", Shape::Choice(values)) => {
                Input::Radio(choices("form.restriction_", values))
            }
            ("contact", Shape::Choice(values)) => {
                Input::Radio(choices("form.postal.contact_", values))
            }
            (name, Shape::Choice(values)) => {
                Input::Radio(choices(&format!("form.{name}_"), values))
            }
            (_, Shape::Email) => Input::Email,
            (_, Shape::Flag) => Input::Checkbox,
            (_, Shape::Document) => Input::File,
            // A text people type as they write dates: a date picker reads differently in
            // every browser and with every screen reader.
            (_, Shape::Date) => Input::Text,
            (
                "name"
                | "customer_ref"
                | "directives_designee_name"
                | "portability_controller"
                | "subject_name"
                | "subject_customer_ref"
                | "postcode"
                | "city"
                | "postal_country",
                Shape::Text { .. },
            ) => Input::Text,
            (_, Shape::Text { .. }) => Input::Textarea,
        };
        let hint = match spec.name {
            "email" => Some(t.t("form.email_hint").to_string()),
            "customer_ref" => Some(t.t("form.customer_ref_hint").to_string()),
            "subject_email" => Some(t.t("form.subject_email_hint").to_string()),
            "contact" => Some(t.t("form.postal.contact_hint").to_string()),
            "address_lines" => Some(t.t("form.postal.address_lines_hint").to_string()),
            "mandate" => Some(t.fill(
                "form.mandate_hint",
                &[("max", &human_size(max_upload, t.lang()))],
            )),
            "heir_death_certificate" | "heir_capacity_proof" | "parental_proof" => Some(t.fill(
                &format!("form.{}_hint", spec.name),
                &[("max", &human_size(max_upload, t.lang()))],
            )),
            name if t.has(&format!("form.{name}_hint")) => {
                Some(t.t(&format!("form.{name}_hint")).to_string())
            }
            _ => None,
        };
        let value = match spec.name {
            "country" => "FR",
            "acting" => "self",
            "contact" => "email",
            _ => "",
        };
        let label = if POSTAL.iter().any(|p| p.name == spec.name) {
            format!("form.postal.{}", spec.name)
        } else {
            format!("form.{}", spec.name)
        };
        Field {
            name: spec.name,
            label: t.t(&label).to_string(),
            hint,
            required: spec.is_required(),
            input,
            value: value.to_string(),
            error: None,
        }
    };
    // After a death the filer acts for the deceased with their own proofs: no "for whom"
    // choice and no mandate. Post-mortem directives are one's own: no one else's to set.
    let for_the_dead = kind == RequestKind::Heir;
    let own_only = kind == RequestKind::Directives;
    let you = REQUESTER
        .iter()
        .chain(
            PERSON
                .iter()
                .filter(|p| !(for_the_dead || own_only) || p.name == "country"),
        )
        .chain(&POSTAL)
        .map(field)
        .collect();
    let subject = SUBJECT
        .iter()
        .filter(|_| !own_only)
        // The deceased's date of birth is not asked: it is a child's, for a parent.
        .filter(|f| !(for_the_dead && f.name == "subject_birth_date"))
        .map(field)
        .map(|mut f| {
            if for_the_dead {
                f.required = f.name == "subject_name";
                let key = format!("form.heir.{}", f.name);
                if t.has(&key) {
                    f.label = t.t(&key).to_string();
                }
            }
            f
        })
        .collect();
    let request = own_fields(kind)
        .iter()
        .chain([&DETAILS])
        .map(field)
        .collect();
    (you, subject, request)
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
    let (mut you, mut subject, mut request) =
        fields(kind, t, state.settings.portal.max_upload_bytes);
    let mut listed = top_errors;
    for field in you
        .iter_mut()
        .chain(subject.iter_mut())
        .chain(request.iter_mut())
    {
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
    let (subject_legend, subject_hint) = if kind == RequestKind::Heir {
        ("form.heir.about_subject", "form.heir.about_subject_hint")
    } else {
        ("form.about_subject", "form.about_subject_hint")
    };
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
        about_subject: subject,
        subject_legend: t.t(subject_legend).to_string(),
        subject_hint: t.t(subject_hint).to_string(),
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
    pub heading: String,
    pub text: String,
    pub reference: String,
    pub duplicate: Option<String>,
    pub resend: ResendBox,
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
    let ip = super::client_ip(&req, state.settings.portal.trust_forwarded_for);
    // Every post counts against a looser bound before its body is read: a flood of invalid
    // forms costs a lookup, never an upload. Only accepted filings count against the
    // submission limit proper (below), so a person correcting their form is never locked out.
    if !super::within(&state, super::Limit::FormPosts, ip).await {
        return rate_limited(&state, lang);
    }
    let max = state.settings.portal.max_upload_bytes;
    let csrf = csrf_token(&req);
    // The form again, empty, saying it expired: for a post refused before its body is read.
    let expired = || {
        let top = vec![("csrf".to_string(), t.t("errors.csrf").to_string())];
        let html = page(
            &form_page(
                &state,
                lang,
                kind,
                csrf.clone(),
                &HashMap::new(),
                &HashMap::new(),
                top,
            ),
            StatusCode::FORBIDDEN,
            lang,
        );
        with_csrf(html, &state, &csrf)
    };
    // Refused on its headers, the body is never read: another site's page, no CSRF cookie
    // (so no token can match), a declared length over the cap.
    match upload::refuse_early(&req, state.settings.base_url(), max) {
        Some(Early::TooLarge) => return too_large(&state, lang, max),
        Some(Early::CrossSite) => return expired(),
        None if !super::has_csrf_cookie(&req) => return expired(),
        None => {}
    }
    // Two file inputs on every form (the mandate and the proof of parental authority; after a
    // death, the death certificate and the proof of capacity): a browser sends both, the one
    // left empty too; the bytes of both together stay within the form's limit.
    let submission = match upload::read_files(
        req.headers(),
        multipart,
        &state.files,
        max,
        DOCUMENT_INPUTS,
        upload::BODY_IDLE,
    )
    .await
    {
        Ok(s) => s,
        Err(UploadError::TooLarge) => return too_large(&state, lang, max),
        Err(UploadError::Malformed(why)) => return bad_form(&state, lang, &why),
        Err(UploadError::Io(e)) => return super::internal_error(&state, lang, &e),
    };
    // The form again, as it was filled in, with what is wrong.
    let form_again = |errors: &HashMap<&'static str, String>, top, status| {
        let html = page(
            &form_page(
                &state,
                lang,
                kind,
                csrf.clone(),
                &submission.fields,
                errors,
                top,
            ),
            status,
            lang,
        );
        with_csrf(html, &state, &csrf)
    };
    if !csrf_ok(&req, submission.fields.get("csrf").map(String::as_str)) {
        let top = vec![("csrf".to_string(), t.t("errors.csrf").to_string())];
        return form_again(&HashMap::new(), top, StatusCode::FORBIDDEN);
    }
    // A bot filled the hidden field: answer as if accepted, store nothing.
    if !submission.field("website").is_empty() {
        let filed = Filed {
            reference: String::new(),
            email: submission.field("email").to_string(),
            duplicate: None,
            until: 0,
        };
        return to_confirmation(&state, lang, filed);
    }
    // The documents are checked and rewritten before the form is judged, so that what is
    // wrong with one is said beside it with the rest.
    let mut documents: Documents = HashMap::new();
    for name in ["mandate", "parental_proof"].iter().chain(&PROOFS) {
        let Some(file) = submission.file(name) else {
            continue;
        };
        let checked = match upload::clean(file, &state.files).await {
            Ok(clean) => Ok(clean),
            Err(Rejected::Refused(refused)) => Err(refused),
            Err(Rejected::Io(e)) => return super::internal_error(&state, lang, &e),
        };
        documents.insert(name, checked);
    }
    let filing = match validate(&state, lang, kind, &submission, &documents) {
        Ok(filing) => filing,
        Err(mut errors) => {
            // A browser never fills a file box again: a document that was fine is said to be
            // chosen again, so the form is not sent back without it.
            for (name, checked) in &documents {
                if checked.is_ok() {
                    errors
                        .entry(name)
                        .or_insert_with(|| t.t("errors.file_choose_again").to_string());
                }
            }
            return form_again(&errors, Vec::new(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    // Only the documents of the way the person acts are kept (a box may hold a file chosen
    // before they changed their mind), each filed as what it proves.
    let wanted = |name: &str| -> Option<&'static str> {
        if kind == RequestKind::Heir {
            return PROOFS.iter().find(|p| **p == name).copied();
        }
        match (filing.acting, name) {
            (Acting::Representative, "mandate") => Some("mandate"),
            (Acting::Parent, "parental_proof") => Some("parental_authority"),
            _ => None,
        }
    };
    let clean: Vec<(&'static str, CleanFile)> = documents
        .into_iter()
        .filter_map(|(name, checked)| Some((wanted(name)?, checked.ok()?)))
        .collect();
    if !super::within(&state, super::Limit::Submissions, ip).await {
        return rate_limited(&state, lang);
    }
    let now = state.clock.now();
    // `validate` refuses a portal filing without an address.
    let email = filing
        .email
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let stored: Vec<_> = clean
        .iter()
        .map(|(purpose, m)| {
            (
                *purpose,
                m.path().to_path_buf(),
                m.kind,
                m.file_name.clone(),
            )
        })
        .collect();
    let filed = state
        .db(move |conn, app| {
            let proofs: Vec<crate::workflow::requester::Proof<'_>> = stored
                .iter()
                .map(|(purpose, path, sniffed, name)| {
                    (*purpose, path.as_path(), *sniffed, name.as_str())
                })
                .collect();
            let row =
                crate::workflow::requester::file_with_proofs(conn, app, &filing, &proofs, now)
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
            let filed = Filed {
                reference: crate::workflow::reference(&row).to_string(),
                email,
                duplicate: duplicate.map(|d| crate::workflow::reference(&d).to_string()),
                until: 0,
            };
            to_confirmation(&state, lang, filed)
        }
        Err(problem) => super::internal_error(&state, lang, &problem),
    }
}

fn too_large(state: &State, lang: Lang, max: usize) -> HttpResponse {
    super::message_page(
        state,
        lang,
        StatusCode::PAYLOAD_TOO_LARGE,
        "pages.too_large_title",
        lang.strings()
            .fill("pages.too_large_text", &[("max", &human_size(max, lang))]),
    )
}

/// A post that is not a form we read: a 400 that says so, never a 500.
fn bad_form(state: &State, lang: Lang, why: &str) -> HttpResponse {
    tracing::info!(%why, "unreadable portal form");
    super::message_page(
        state,
        lang,
        StatusCode::BAD_REQUEST,
        "pages.bad_form_title",
        lang.strings().t("pages.bad_form_text").to_string(),
    )
}

fn rate_limited(state: &State, lang: Lang) -> HttpResponse {
    super::message_page(
        state,
        lang,
        StatusCode::TOO_MANY_REQUESTS,
        "pages.rate_limited_title",
        lang.strings().t("pages.rate_limited_text").to_string(),
    )
}

/// The cookie that carries what the confirmation page shows, sealed (encrypted and
/// authenticated with the session key) so that the address it holds stays unreadable in
/// the browser's storage and the page cannot be made to say anything else.
pub const FILED_COOKIE: &str = "dsar_filed";

/// How long the confirmation page can be reloaded.
const FILED_MINUTES: i64 = 30;

/// What the confirmation page says: the filing's reference, the address the link went to,
/// the open request it duplicates; `until` is when the page stops showing it (Unix seconds).
#[derive(Serialize, Deserialize)]
struct Filed {
    reference: String,
    email: String,
    duplicate: Option<String>,
    until: i64,
}

/// Answers an accepted form with a redirect to its confirmation page (post/redirect/get), so
/// that reloading the page never files the request again. The page reads what it says from a
/// short-lived sealed cookie, never from the address, which browsers and logs keep.
fn to_confirmation(state: &State, lang: Lang, mut filed: Filed) -> HttpResponse {
    filed.until = state.clock.now().timestamp() + FILED_MINUTES * 60;
    let plain = serde_json::to_string(&filed).unwrap_or_default();
    let cookie = Cookie::build(
        FILED_COOKIE,
        crypto::seal(&state.session_key, FILED_COOKIE, &plain),
    )
    .path("/")
    .http_only(true)
    .secure(state.settings.base_url().starts_with("https://"))
    .same_site(SameSite::Lax)
    .max_age(actix_web::cookie::time::Duration::minutes(FILED_MINUTES))
    .finish();
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/{}/submitted", lang.code())))
        .cookie(cookie)
        .finish()
}

/// The filing the sealed cookie describes, while it is fresh.
fn filed_from(state: &State, req: &HttpRequest) -> Option<Filed> {
    let raw = req.cookie(FILED_COOKIE)?;
    let plain = crypto::open(&state.session_key, FILED_COOKIE, raw.value())?;
    let filed: Filed = serde_json::from_str(&plain).ok()?;
    (filed.until > state.clock.now().timestamp()).then_some(filed)
}

/// The confirmation page: the same on every reload while the filing is fresh; after that, or
/// without the cookie, a page that says where the reference and the link are.
pub async fn submitted(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(lang) = super::url_lang(&path) else {
        return super::not_found(&state, super::preferred_lang(&req));
    };
    let t = lang.strings();
    let csrf = csrf_token(&req);
    let resend = ResendBox::new(lang, csrf.clone());
    let c = Chrome::new(
        &state,
        lang,
        t.t("submitted.title").to_string(),
        "submitted",
    );
    let html = match filed_from(&state, &req) {
        Some(filed) => {
            let days = t.count("units.days", i64::from(state.settings.portal.link_ttl_days));
            let page_data = SubmittedPage {
                c,
                heading: t.t("submitted.heading").to_string(),
                text: t.fill(
                    "submitted.text",
                    &[("email", &filed.email), ("days", &days)],
                ),
                reference: if filed.reference.is_empty() {
                    String::new()
                } else {
                    t.fill("submitted.reference", &[("reference", &filed.reference)])
                },
                duplicate: filed
                    .duplicate
                    .map(|d| t.fill("submitted.duplicate", &[("reference", &d)])),
                resend,
            };
            page(&page_data, StatusCode::OK, lang)
        }
        None => {
            let page_data = SubmittedPage {
                c,
                heading: t.t("submitted.gone_heading").to_string(),
                text: t.t("submitted.gone_text").to_string(),
                reference: String::new(),
                duplicate: None,
                resend,
            };
            page(&page_data, StatusCode::OK, lang)
        }
    };
    with_csrf(html, &state, &csrf)
}

/// Turns the submitted form into a filing, or says what is wrong with each field. `mandate`
/// and `parental_proof` are the files attached, once checked.
fn validate(
    state: &State,
    lang: Lang,
    kind: RequestKind,
    s: &Submission,
    documents: &Documents,
) -> Result<Filing, HashMap<&'static str, String>> {
    let attachment = |name: &str| match documents.get(name) {
        None => Attachment::Absent,
        Some(Err(_)) => Attachment::NotADocument,
        Some(Ok(_)) => Attachment::Document,
    };
    // The kind's own documents are answered by whether they came, and as what.
    let mut answers = s.fields.clone();
    for name in PROOFS {
        answers.remove(name);
        if let Some(checked) = documents.get(name) {
            let said = if checked.is_ok() {
                ATTACHED
            } else {
                NOT_A_DOCUMENT
            };
            answers.insert(name.to_string(), said.to_string());
        }
    }
    let draft = Draft {
        kind: kind.as_str(),
        name: s.field("name"),
        email: s.field("email"),
        customer_ref: s.field("customer_ref"),
        details: s.field("details"),
        received_at: None,
        profile: None,
        channel: Channel::Web.as_str(),
        language: lang.code(),
        person: Some(Person {
            country: s.field("country"),
            acting: s.field("acting"),
            mandate: attachment("mandate"),
            parental_proof: attachment("parental_proof"),
        }),
        answers: Some(&answers),
        subject: Some(SubjectDraft {
            name: s.field("subject_name"),
            email: s.field("subject_email"),
            customer_ref: s.field("subject_customer_ref"),
            birth_date: s.field("subject_birth_date"),
            acting: "",
        }),
        postal: PostalDraft {
            lines: s.field("address_lines"),
            postcode: s.field("postcode"),
            city: s.field("city"),
            country: s.field("postal_country"),
        },
        contact: s.field("contact"),
        registered_number: "",
    };
    let t = lang.strings();
    let filing = workflow::check_filing(&state.law, &draft, Status::New, state.clock.now())
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| match (e.field, documents.get(e.field)) {
                    // The law knows only "not a document"; the person is told which problem.
                    (_, Some(Err(refused))) => (e.field, upload::refusal_message(refused, t)),
                    _ => (e.field, t.t(message_key(e)).to_string()),
                })
                .collect::<HashMap<_, _>>()
        })?;
    // On the portal the address is confirmed by the link mailed to it, even when the answers
    // are to go by post: it is asked for whatever else is given.
    if filing.email.is_none() {
        return Err(HashMap::from([(
            "email",
            t.t("errors.email_invalid").to_string(),
        )]));
    }
    Ok(filing)
}

/// The documents that came with the form, by field, once checked.
type Documents = HashMap<&'static str, Result<CleanFile, Refused>>;

/// The documents an heir's request comes with: they prove the death and the filer's capacity.
const PROOFS: [&str; 2] = ["heir_death_certificate", "heir_capacity_proof"];
/// The file inputs a form has at most: the mandate and the proof of parental authority, or
/// after a death the two proofs.
const DOCUMENT_INPUTS: usize = 2;

/// The message (in templates/i18n) that says an error to the person.
fn message_key(error: &FieldError) -> &'static str {
    match (error.field, &error.code) {
        ("name", Code::Required) => "errors.name_required",
        ("subject_name", Code::Required) => "errors.subject_name_required",
        ("subject_name" | "subject_customer_ref", Code::TooLong { .. }) => {
            "errors.subject_too_long"
        }
        (_, Code::RequiredEither { .. }) => "errors.subject_identity_required",
        // The customer reference shares the name's limit and, as it always has, its message.
        ("name" | "customer_ref", Code::TooLong { .. }) => "errors.name_too_long",
        ("address_lines" | "postcode" | "city" | "postal_country", Code::TooLong { .. }) => {
            "errors.postal.too_long"
        }
        (_, Code::TooLong { .. }) => "errors.text_too_long",
        (_, Code::Email(_)) => "errors.email_invalid",
        ("country", _) => "errors.country_invalid",
        (_, Code::NotAllowed { .. }) => "errors.choice_required",
        (_, Code::NotADocument) => "errors.file_type",
        (_, Code::Text(fault)) => super::text_fault_key(*fault),
        ("mandate", Code::Required) => "errors.mandate_required",
        ("parental_proof", Code::Required) => "errors.parent.proof_required",
        ("subject_birth_date", Code::Required) => "errors.parent.birth_date_required",
        ("subject_birth_date", Code::NotADay { .. }) => "errors.parent.birth_date_invalid",
        (_, Code::OfAge { .. }) => "errors.parent.of_age",
        ("subject_birth_date", Code::InFuture) => "errors.parent.birth_date_future",
        ("heir_death_certificate", Code::Required) => "errors.heir.death_certificate_required",
        ("heir_capacity_proof", Code::Required) => "errors.heir.capacity_proof_required",
        ("heir_date_of_death", Code::InFuture) => "errors.heir.date_in_future",
        (_, Code::NotADay { .. }) => "errors.heir.not_a_day",
        ("address_lines", Code::RequiredWith { .. }) => "errors.postal.address_for_post",
        ("address_lines" | "postcode" | "city", Code::Required) => "errors.postal.part_required",
        (_, Code::RequiredWith { .. }) => "errors.objection_reason_required",
        (_, Code::RequiredUnless { .. }) => "errors.objection_needs_something",
        (_, Code::Required) => "errors.field_required",
        // The portal sets these itself (kind from the address, now, its channel and language).
        (
            _,
            Code::Unknown(_)
            | Code::NotAnInstant { .. }
            | Code::InFuture
            | Code::TooEarly { .. }
            | Code::UnknownProfile { .. },
        ) => "pages.internal_text",
    }
}
