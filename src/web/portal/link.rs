//! "Send me the link again": for a person whose mail never came, or who lost it. The answer
//! is the same page whether or not a request is open for the address typed, so that the form
//! tells nobody who has made a request.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, csrf_ok, csrf_token, page, with_csrf};
use crate::domain::email::EmailAddress;
use crate::i18n::Lang;
use crate::web::State;
use crate::workflow::requester;

/// The form that asks for the link again, as the home page, the confirmation page and its
/// own page show it.
pub struct ResendBox {
    pub action: String,
    pub csrf: String,
    pub value: String,
    pub error: Option<String>,
}

impl ResendBox {
    pub fn new(lang: Lang, csrf: String) -> Self {
        ResendBox {
            action: format!("/{}/link", lang.code()),
            csrf,
            value: String::new(),
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "portal/link.html")]
pub struct LinkPage {
    pub c: Chrome,
    pub resend: ResendBox,
}

#[derive(Deserialize)]
pub struct LinkForm {
    csrf: Option<String>,
    email: Option<String>,
}

/// The form on a page of its own; with `value` and `error` when a post is shown again.
fn link_page(
    state: &State,
    lang: Lang,
    csrf: &str,
    value: String,
    error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let t = lang.strings();
    let resend = ResendBox {
        value,
        error,
        ..ResendBox::new(lang, csrf.to_string())
    };
    let c = Chrome::new(state, lang, t.t("resend.title").to_string(), "link");
    with_csrf(page(&LinkPage { c, resend }, status, lang), state, csrf)
}

pub async fn show(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(lang) = super::url_lang(&path) else {
        return super::not_found(&state, super::preferred_lang(&req));
    };
    link_page(
        &state,
        lang,
        &csrf_token(&req),
        String::new(),
        None,
        StatusCode::OK,
    )
}

pub async fn send(
    state: State,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<LinkForm>,
) -> HttpResponse {
    let Some(lang) = super::url_lang(&path) else {
        return super::not_found(&state, super::preferred_lang(&req));
    };
    let t = lang.strings();
    let csrf = csrf_token(&req);
    let typed = form.email.clone().unwrap_or_default();
    if !csrf_ok(&req, form.csrf.as_deref()) {
        let error = Some(t.t("errors.csrf").to_string());
        return link_page(&state, lang, &csrf, typed, error, StatusCode::FORBIDDEN);
    }
    let ip = super::client_ip(&req, state.settings.portal.trust_forwarded_for);
    if !super::within(&state, super::Limit::LinkRequests, ip).await {
        return super::message_page(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            "pages.rate_limited_title",
            t.t("pages.rate_limited_text").to_string(),
        );
    }
    let Ok(email) = EmailAddress::parse(&typed) else {
        let error = Some(t.t("errors.email_invalid").to_string());
        return link_page(
            &state,
            lang,
            &csrf,
            typed,
            error,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // Past its allowance an address gets nothing more, and the page says the same as ever.
    let (limits, now) = (state.limits.clone(), state.clock.now());
    let sent = state
        .db(move |conn, app| {
            if !limits
                .allow_links_to(conn, &email, now)
                .map_err(|e| crate::web::error::internal(&e))?
            {
                return Ok(0);
            }
            requester::send_links_again(conn, app, &email, now)
                .map_err(|e| crate::web::error::internal(&e))
        })
        .await;
    if let Err(e) = sent {
        return super::internal_error(&state, lang, &e);
    }
    // Redirected, so that reloading the answer does not send the links again.
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/{}/link/sent", lang.code())))
        .finish()
}

/// The same answer whether or not a link was sent.
pub async fn sent(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(lang) = super::url_lang(&path) else {
        return super::not_found(&state, super::preferred_lang(&req));
    };
    let t = lang.strings();
    let days = t.count("units.days", i64::from(state.settings.portal.link_ttl_days));
    super::message_page(
        &state,
        lang,
        StatusCode::OK,
        "resend.sent_title",
        t.fill("resend.sent_text", &[("days", &days)]),
    )
}
