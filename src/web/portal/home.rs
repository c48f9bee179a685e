//! The landing page: each right in plain words, who to contact, the deadline that applies.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::link::ResendBox;
use super::{Chrome, csrf_token, page, with_csrf};
use crate::domain::deadline::Period;
use crate::domain::kind::RequestKind;
use crate::i18n::Lang;
use crate::web::State;

pub struct RightCard {
    pub title: String,
    pub name: String,
    pub summary: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
pub struct HomePage {
    pub c: Chrome,
    pub heading: String,
    pub intro: String,
    pub deadline: String,
    pub suspended: String,
    pub contact: String,
    pub rights: Vec<RightCard>,
    pub resend: ResendBox,
}

/// `/` goes to the remembered or preferred language.
pub async fn root(req: HttpRequest) -> HttpResponse {
    let lang = super::preferred_lang(&req);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/{}/", lang.code())))
        .insert_header((header::VARY, "Accept-Language, Cookie"))
        .finish()
}

/// "2 months", "1 mois", "45 days".
pub fn period_words(period: Period, lang: Lang) -> String {
    let t = lang.strings();
    let and = if lang == Lang::Fr { " et " } else { " and " };
    let mut parts = Vec::new();
    if period.months > 0 {
        parts.push(t.count("units.months", i64::from(period.months)));
    }
    if period.days > 0 || parts.is_empty() {
        parts.push(t.count("units.days", i64::from(period.days)));
    }
    parts.join(and)
}

pub async fn landing(state: State, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(lang) = super::url_lang(&path) else {
        return super::not_found(&state, super::preferred_lang(&req));
    };
    let t = lang.strings();
    let csrf = csrf_token(&req);
    let org = &state.settings.organisation;
    let rights = RequestKind::ALL
        .iter()
        .map(|kind| RightCard {
            title: t.t(&format!("kinds.{}.title", kind.as_str())).to_string(),
            name: t.t(&format!("kinds.{}.name", kind.as_str())).to_string(),
            summary: t.t(&format!("kinds.{}.summary", kind.as_str())).to_string(),
            url: format!("/{}/request/{}", lang.code(), kind.as_str()),
        })
        .collect();
    let heading = t.fill("home.heading", &[("organisation", &org.name)]);
    let page_data = HomePage {
        c: Chrome::new(&state, lang, t.t("site.title").to_string(), ""),
        heading,
        intro: t.fill("home.intro", &[("organisation", &org.name)]),
        deadline: t.fill(
            "home.deadline",
            &[("period", &period_words(state.law.default_rules.base, lang))],
        ),
        suspended: t.t("home.suspended").to_string(),
        contact: t.fill("home.contact", &[("dpo", &org.dpo_email)]),
        rights,
        resend: ResendBox::new(lang, csrf.clone()),
    };
    with_csrf(page(&page_data, StatusCode::OK, lang), &state, &csrf)
}
