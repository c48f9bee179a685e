//! The public portal: server-rendered pages in French and English that work without
//! JavaScript. Every form carries a CSRF token (double-submit cookie); the language comes
//! from the URL, is remembered in a cookie, and is first guessed from `Accept-Language`.

pub mod form;
pub mod home;
pub mod link;
pub mod status;
pub mod transfer;
pub mod upload;

use std::net::IpAddr;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::State;
use crate::crypto::{eq_secret, random_token};
use crate::i18n::{Lang, Strings};
pub use crate::workflow::limits::Limit;

pub const CSRF_COOKIE: &str = "dsar_csrf";
pub const LANG_COOKIE: &str = "dsar_lang";
const STYLESHEET: &str = include_str!("../../../templates/portal/portal.css");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::root))
        .route("/static/portal.css", web::get().to(stylesheet))
        .route("/{lang}/", web::get().to(home::landing))
        .route("/{lang}", web::get().to(home::landing))
        .route("/{lang}/request/{kind}", web::get().to(form::show))
        .route("/{lang}/request/{kind}", web::post().to(form::submit))
        .route("/{lang}/submitted", web::get().to(form::submitted))
        .route("/{lang}/link", web::get().to(link::show))
        .route("/{lang}/link", web::post().to(link::send))
        .route("/{lang}/link/sent", web::get().to(link::sent))
        .route("/{lang}/r/{token}", web::get().to(status::show))
        .route("/{lang}/r/{token}/message", web::post().to(status::message))
        .route("/{lang}/r/{token}/files/{id}", web::get().to(status::file))
        .route("/{lang}/r/{token}/export", web::get().to(status::export))
        .route(
            "/{lang}/transfer/{token}",
            web::get().to(transfer::download),
        )
        .route(
            "/{lang}/r/{token}/identity",
            web::post().to(status::identity),
        )
        .route(
            "/{lang}/r/{token}/withdraw",
            web::get().to(status::withdraw_confirm),
        )
        .route(
            "/{lang}/r/{token}/withdraw",
            web::post().to(status::withdraw),
        );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// What every page shows around its content.
pub struct Chrome {
    pub lang: Lang,
    pub t: &'static Strings,
    pub title: String,
    /// The same page in the other language.
    pub switch_url: String,
    pub home_url: String,
    pub organisation: String,
    /// Whether the organisation has a logo to show beside its name (`/static/logo`).
    pub logo: bool,
    pub footer_controller: String,
    pub footer_dpo: String,
}

impl Chrome {
    pub fn new(state: &State, lang: Lang, title: String, path_after_lang: &str) -> Self {
        let t = lang.strings();
        let org = &state.settings.organisation;
        Chrome {
            lang,
            t,
            title,
            switch_url: format!(
                "/{}/{}",
                lang.other().code(),
                path_after_lang.trim_start_matches('/')
            ),
            home_url: format!("/{}/", lang.code()),
            organisation: org.name.clone(),
            logo: state.settings.brand().logo.is_some(),
            footer_controller: t.fill(
                "site.footer_controller",
                &[
                    ("organisation", &org.name),
                    ("address", &org.postal_address),
                ],
            ),
            footer_dpo: t.fill("site.footer_dpo", &[("dpo", &org.dpo_email)]),
        }
    }
}

/// Renders a page with the status it deserves, remembering the language.
pub fn page(template: &impl Template, status: StatusCode, lang: Lang) -> HttpResponse {
    match template.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .cookie(lang_cookie(lang))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            HttpResponse::InternalServerError().content_type("text/plain; charset=utf-8").body("internal error")
        }
    }
}

fn lang_cookie(lang: Lang) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

/// A simple page: a title, a paragraph, a link home.
#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub text: String,
}

pub fn message_page(
    state: &State,
    lang: Lang,
    status: StatusCode,
    title_key: &str,
    text: String,
) -> HttpResponse {
    let t = lang.strings();
    let c = Chrome::new(state, lang, t.t(title_key).to_string(), "");
    page(&MessagePage { c, text }, status, lang)
}

pub fn not_found(state: &State, lang: Lang) -> HttpResponse {
    message_page(
        state,
        lang,
        StatusCode::NOT_FOUND,
        "pages.not_found_title",
        lang.strings().t("pages.not_found_text").to_string(),
    )
}

pub fn internal_error(state: &State, lang: Lang, err: &dyn std::fmt::Display) -> HttpResponse {
    tracing::error!(error = %err, "portal request failed");
    message_page(
        state,
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        "pages.internal_title",
        lang.strings().t("pages.internal_text").to_string(),
    )
}

/// A path no route knows, outside the API and the dashboard: a real page asked for with a
/// trailing slash goes to the page; anything else gets the not-found page, in the language
/// of the path's prefix, else the person's own, with the way back to the portal's home.
pub fn unknown_path(state: &State, req: &HttpRequest) -> HttpResponse {
    let path = req.path();
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    if let Some(trimmed) = without_trailing_slash(path).filter(|_| readable)
        && req.resource_map().has_resource(trimmed)
    {
        let location = match req.query_string() {
            "" => trimmed.to_string(),
            query => format!("{trimmed}?{query}"),
        };
        return HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, location))
            .finish();
    }
    let in_path = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .and_then(url_lang);
    not_found(state, in_path.unwrap_or_else(|| preferred_lang(req)))
}

/// `path` without its trailing slashes, when it has some and is a plain local path: only
/// such a path is sent back to the browser ("//host" or "/\host" would leave the site).
fn without_trailing_slash(path: &str) -> Option<&str> {
    let trimmed = path.trim_end_matches('/');
    let plain = trimmed.starts_with('/')
        && !trimmed.starts_with("//")
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c));
    (plain && trimmed.len() < path.len()).then_some(trimmed)
}

/// The language in the URL, if it is one we speak.
pub fn url_lang(raw: &str) -> Option<Lang> {
    Lang::from_code(raw)
}

/// The remembered language, else the browser's preference.
pub fn preferred_lang(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::from_code(c.value()))
        .unwrap_or_else(|| {
            Lang::negotiate(
                req.headers()
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok()),
            )
        })
}

/// The CSRF token of this browser: the cookie's, or a new one (set by `with_csrf`).
pub fn csrf_token(req: &HttpRequest) -> String {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 64)
        .unwrap_or_else(random_token)
}

pub fn with_csrf(mut res: HttpResponse, state: &State, token: &str) -> HttpResponse {
    let cookie = Cookie::build(CSRF_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(state.settings.base_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .finish();
    let _ = res.add_cookie(&cookie);
    res
}

/// Whether the browser holds a CSRF cookie: without one no token it posts can match, so a
/// post is refused before its body is read.
pub fn has_csrf_cookie(req: &HttpRequest) -> bool {
    req.cookie(CSRF_COOKIE)
        .is_some_and(|c| c.value().len() == 64)
}

/// The form's token matches the cookie's.
pub fn csrf_ok(req: &HttpRequest, submitted: Option<&str>) -> bool {
    match (req.cookie(CSRF_COOKIE), submitted) {
        (Some(cookie), Some(form)) if cookie.value().len() == 64 => {
            eq_secret(cookie.value().as_bytes(), form.as_bytes())
        }
        _ => false,
    }
}

/// The client address: the peer, or the first `X-Forwarded-For` hop when configured to trust
/// the proxy in front.
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(ip) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    req.peer_addr().map(|a| a.ip())
}

/// Whether the client at `ip` may go on under `limit`, counting this hit in the database
/// (one short write, on the blocking pool). A client whose address is unknown is not limited.
/// Should the count fail, the request goes on: what follows needs the database too, and
/// says so itself.
pub async fn within(state: &State, limit: Limit, ip: Option<IpAddr>) -> bool {
    let Some(ip) = ip else {
        return true;
    };
    let (limits, now) = (state.limits.clone(), state.clock.now());
    match state
        .db(move |conn, _| limits.allow(conn, limit, ip, now))
        .await
    {
        Ok(allowed) => allowed,
        Err(e) => {
            tracing::error!(error = %e, limit = ?limit, "a portal limit could not be counted");
            true
        }
    }
}

/// "10 Mo" / "10 MB", "2 Ko" / "2 KB".
pub fn human_size(bytes: usize, lang: Lang) -> String {
    let (kilo, mega) = match lang {
        Lang::Fr => ("Ko", "Mo"),
        Lang::En => ("KB", "MB"),
    };
    let mb = bytes as f64 / (1024.0 * 1024.0);
    if mb < 1.0 {
        format!("{:.0} {kilo}", (bytes as f64 / 1024.0).ceil())
    } else if mb.fract() == 0.0 {
        format!("{mb:.0} {mega}")
    } else {
        format!("{mb:.1} {mega}")
    }
}

/// The message (in templates/i18n) that says why a typed text was refused.
pub(crate) fn text_fault_key(fault: crate::domain::text::TextFault) -> &'static str {
    use crate::domain::text::TextFault;
    match fault {
        TextFault::Control => "errors.text_control",
        TextFault::BidiOverride => "errors.text_bidi",
        TextFault::NoLetter => "errors.name_no_letter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_local_paths_lose_their_trailing_slash() {
        assert_eq!(
            without_trailing_slash("/fr/request/access/"),
            Some("/fr/request/access")
        );
        assert_eq!(without_trailing_slash("/en/r/ab12//"), Some("/en/r/ab12"));
        for path in [
            "/",
            "/fr/request",
            "//evil.example/",
            "/\\evil.example/",
            "/a%2f/",
        ] {
            assert_eq!(without_trailing_slash(path), None, "{path}");
        }
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(10 * 1024 * 1024, Lang::Fr), "10 Mo");
    }
}
