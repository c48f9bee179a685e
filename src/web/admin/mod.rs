//! The staff dashboard. A session is a row in the database (see [`crate::staff::sessions`])
//! that the browser names by a random token in its cookie, so any web node serves any
//! request and signing out ends the session on all of them; it is checked on every request:
//! idle and absolute timeouts, signed out, "sign out everywhere", disabled accounts.

pub mod account;
pub mod audit;
pub mod chart;
pub mod directives;
pub mod fees;
pub mod follow;
pub mod fulfilment;
pub mod intake;
pub mod jobs;
pub mod letters;
pub mod login;
pub mod processing;
pub mod qr;
pub mod queue;
pub mod reports;
pub mod request;
pub mod request_register;
pub mod scopes;
pub mod settings;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde::Deserialize;

use crate::crypto::eq_secret;
use crate::i18n::{Lang, Strings};
use crate::staff::{Role, sessions};
use crate::store::users::UserRow;
use crate::web::WebState;

pub const SESSION_COOKIE: &str = "dsar_staff";
/// One stylesheet, written in parts: the frame and the forms every page shares, the lists
/// (queue, reports, audit, register), the request page.
const STYLESHEET: &str = concat!(
    include_str!("../../../templates/admin/admin.css"),
    include_str!("../../../templates/admin/lists.css"),
    include_str!("../../../templates/admin/request.css"),
);
const CSP: &str = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; object-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/admin.css", web::get().to(stylesheet))
        .route("/static/brand.css", web::get().to(brand_stylesheet))
        .route("/static/logo", web::get().to(logo))
        .route("/static/letter.css", web::get().to(letters::stylesheet))
        .service(
            web::scope("/admin")
                .wrap_fn(|req, srv| {
                    use actix_web::dev::Service;
                    let answer = srv.call(req);
                    async move { Ok(error_page_in_language(answer.await?)) }
                })
                .route("/login", web::get().to(login::form))
                .route("/login", web::post().to(login::submit))
                .route("/login/code", web::get().to(login::code_form))
                .route("/login/code", web::post().to(login::code_submit))
                .route("/password-reset", web::get().to(login::reset_form))
                .route("/password-reset", web::post().to(login::reset_submit))
                .route("/password/{token}", web::get().to(login::password_form))
                .route("/password/{token}", web::post().to(login::password_submit))
                .route("/logout", web::post().to(login::logout))
                .route(
                    "/logout-everywhere",
                    web::post().to(login::logout_everywhere),
                )
                .route("", web::get().to(queue::show))
                .route("/", web::get().to(queue::show))
                .route("/assign", web::post().to(queue::assign))
                // Before `/requests/{id}`, which would take `new` for a reference.
                .route("/requests/new", web::get().to(intake::form))
                .route("/requests/new", web::post().to(intake::submit))
                .route("/requests/{id}", web::get().to(request::show))
                .route(
                    "/requests/{id}/letters/{which}",
                    web::get().to(letters::show),
                )
                .route(
                    "/requests/{id}/letters/{which}",
                    web::post().to(letters::record),
                )
                .route("/requests/{id}/action", web::post().to(request::act))
                .route("/requests/{id}/send", web::post().to(request::send))
                .route("/requests/{id}/sources", web::post().to(fulfilment::act))
                .route(
                    "/requests/{id}/tasks/{run}",
                    web::post().to(fulfilment::task),
                )
                .route("/requests/{id}/package", web::get().to(fulfilment::package))
                .route("/requests/{id}/scope", web::get().to(scopes::form))
                .route("/requests/{id}/scope", web::post().to(scopes::confirm))
                .route("/requests/{id}/objection", web::post().to(scopes::decide))
                .route("/requests/{id}/fee", web::get().to(fees::form))
                .route("/requests/{id}/fee", web::post().to(fees::ask))
                .route("/requests/{id}/fee/{fee}", web::post().to(fees::settle))
                .route("/restrictions", web::get().to(follow::show))
                .route("/holds", web::get().to(follow::show))
                .route("/restrictions/{id}/lift", web::get().to(follow::lift_form))
                .route("/restrictions/{id}/lift", web::post().to(follow::lift))
                .route("/restrictions/{id}/cancel", web::post().to(follow::cancel))
                .route(
                    "/restrictions/{id}/done",
                    web::post().to(follow::finish_lift),
                )
                .route("/holds/{id}/done", web::post().to(follow::finish_hold))
                .route("/directives", web::get().to(directives::list))
                .route("/directives/{id}", web::get().to(directives::history))
                .route("/documents/{id}", web::get().to(request::document))
                .route("/reports", web::get().to(reports::show))
                .route(
                    "/reports/register.csv",
                    web::get().to(request_register::csv),
                )
                .route(
                    "/reports/register.json",
                    web::get().to(request_register::json),
                )
                .route("/register", web::get().to(processing::show))
                .route("/users", web::get().to(users::list))
                .route("/users", web::post().to(users::invite))
                .route("/users/{id}", web::post().to(users::change))
                .route("/settings", web::get().to(settings::show))
                .route("/jobs", web::get().to(jobs::show))
                .route("/jobs/{id}/revive", web::post().to(jobs::revive))
                .route("/audit", web::get().to(audit::show))
                .route("/audit/verify", web::post().to(audit::verify))
                .route("/account", web::get().to(account::show))
                .route("/account/totp", web::post().to(account::totp_action))
                .route("/account/language", web::post().to(account::set_lang))
                .default_service(web::to(not_found)),
        );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
}

/// The organisation's accent, over the stylesheets' default: linked after `admin.css` on the
/// dashboard and after `portal.css` on the portal.
async fn brand_stylesheet(state: crate::web::State) -> HttpResponse {
    let accent = state.settings.brand().accent.hex();
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(format!(":root {{ --accent: {accent}; }}\n"))
}

/// The organisation's logo (`organisation.logo`, read at start), for the portal's and the
/// dashboard's headers. An SVG opened on its own runs nothing: its own CSP forbids scripts.
async fn logo(state: crate::web::State) -> HttpResponse {
    match &state.settings.brand().logo {
        Some(logo) => HttpResponse::Ok()
            .content_type(logo.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ))
            .body(logo.bytes.to_vec()),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no logo"),
    }
}

/// What a page shows around its content before anyone signs in (and on error pages): the
/// organisation, the language, and the same page in the other language.
pub struct Frame {
    pub lang: Lang,
    pub t: &'static Strings,
    pub org: String,
    pub logo: bool,
    /// The same page in the other language (`?lang=en`); `None` where a page has no address
    /// of its own to switch (an error).
    pub switch_url: Option<String>,
}

impl Frame {
    pub fn new(state: &WebState, lang: Lang, path: Option<&str>) -> Frame {
        Frame {
            lang,
            t: lang.strings(),
            org: state.settings.organisation.name.clone(),
            logo: state.settings.brand().logo.is_some(),
            switch_url: path.map(|p| format!("{p}?lang={}", lang.other().code())),
        }
    }
}

/// The cookie that keeps a language chosen before sign-in (`?lang=`) for the next pages.
const GUEST_LANG_COOKIE: &str = "dsar_staff_lang";

/// Why a form came back, for its error summary: the text, and the field it links to (the
/// `id` of the input to correct).
#[derive(Debug, Clone)]
pub struct FormError {
    pub field: &'static str,
    pub text: String,
}

impl FormError {
    pub fn new(field: &'static str, text: impl Into<String>) -> FormError {
        FormError {
            field,
            text: text.into(),
        }
    }
}

/// The language of a page before sign-in: `?lang=` when the person chose, else the one
/// this browser chose before on these pages, else the first of French and English its
/// `Accept-Language` names, else the organisation's.
pub fn guest_lang(state: &WebState, req: &HttpRequest) -> Lang {
    let query = web::Query::<LangQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.lang.as_deref().and_then(Lang::from_code));
    let cookie = req
        .cookie(GUEST_LANG_COOKIE)
        .and_then(|c| Lang::from_code(c.value()));
    query
        .or(cookie)
        .or_else(|| accepted(req))
        .unwrap_or_else(|| state.settings.language())
}

/// French or English when the browser's `Accept-Language` names one of them.
fn accepted(req: &HttpRequest) -> Option<Lang> {
    let header = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())?;
    let names_one = header.split(',').any(|part| {
        let tag = part.split(';').next().unwrap_or("").trim();
        Lang::from_code(tag.split('-').next().unwrap_or("")).is_some()
    });
    names_one.then(|| Lang::negotiate(Some(header)))
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// Remembers a language chosen with `?lang=` for the next pages of this browser before
/// sign-in (signed in, the account's choice rules).
pub fn remember_lang(res: &mut HttpResponse, req: &HttpRequest, lang: Lang) {
    let chosen = web::Query::<LangQuery>::from_query(req.query_string())
        .ok()
        .is_some_and(|q| q.lang.is_some());
    if chosen {
        let cookie = Cookie::build(GUEST_LANG_COOKIE, lang.code())
            .path("/admin")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::days(365))
            .finish();
        let _ = res.add_cookie(&cookie);
    }
}

/// Unknown dashboard paths: the login page for strangers, a 404 for staff.
async fn not_found(_staff: Staff) -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotFound)
}

/// The session a request came with, as the dashboard needs it.
#[derive(Debug, Clone)]
pub struct SessionData {
    /// The session's row: what signing out ends.
    pub id: i64,
    pub user: i64,
    /// The CSRF token of every form in this session.
    pub csrf: String,
}

/// The header of every dashboard page: who is signed in and the links their role opens, and
/// the words of the page in the account's language (`nav.t.t("shell.queue")`).
pub struct Nav {
    pub lang: Lang,
    /// The organisation's name, and whether it has a logo (`/static/logo`).
    pub org: String,
    pub logo: bool,
    pub t: &'static Strings,
    pub me: String,
    pub csrf: String,
    pub is_admin: bool,
    pub can_audit: bool,
    pub can_report: bool,
}

/// The signed-in member of staff, checked on every request.
pub struct Staff {
    pub user: UserRow,
    pub role: Role,
    pub session: SessionData,
    lang: Lang,
    org_lang: Lang,
    org: String,
    logo: bool,
}

impl Staff {
    pub fn actor(&self) -> String {
        format!("staff:{}", self.user.id)
    }

    pub fn require(&self, allowed: bool) -> Result<(), AdminError> {
        if allowed {
            Ok(())
        } else {
            Err(AdminError::Forbidden)
        }
    }

    pub fn csrf_ok(&self, submitted: &str) -> bool {
        eq_secret(self.session.csrf.as_bytes(), submitted.as_bytes())
    }

    /// The dashboard's language for this account: its choice, else the organisation's.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The organisation's language: what "the organisation's language" means for this account.
    pub fn org_lang(&self) -> Lang {
        self.org_lang
    }

    /// What the dashboard's header shows this member of staff.
    pub fn nav(&self) -> Nav {
        Nav {
            lang: self.lang,
            org: self.org.clone(),
            logo: self.logo,
            t: self.lang.strings(),
            me: self.user.name.clone(),
            csrf: self.session.csrf.clone(),
            is_admin: self.role.can_manage_users(),
            can_audit: self.role.can_read_audit(),
            can_report: self.role.can_read_reports(),
        }
    }

    /// A page. (The session's idle clock moved on when the session was checked.)
    pub fn page(&self, template: &impl Template) -> HttpResponse {
        render(template, StatusCode::OK)
    }
}

pub fn render(template: &impl Template, status: StatusCode) -> HttpResponse {
    match template.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "admin template failed");
            HttpResponse::InternalServerError().body("internal error")
        }
    }
}

/// The session cookie: the session's token, which only this browser holds.
pub fn session_cookie(state: &WebState, token: &str) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .secure(state.settings.base_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .finish()
}

pub fn clear_session(res: &mut HttpResponse) {
    let mut gone = Cookie::new(SESSION_COOKIE, "");
    gone.set_path("/");
    gone.make_removal();
    let _ = res.add_cookie(&gone);
}

/// A token has this shape ([`crate::crypto::random_token`]); anything else is not looked up.
fn session_token(req: &HttpRequest) -> Option<String> {
    let raw = req.cookie(SESSION_COOKIE)?;
    let token = raw.value();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then(|| token.to_string())
}

/// Why an admin page is not shown.
#[derive(Debug)]
pub enum AdminError {
    /// Not signed in, or the session ended: to the login page, then back.
    Login(String),
    Forbidden,
    NotFound,
    Internal,
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    frame: Frame,
    title: String,
    text: String,
    signed_in: bool,
}

/// Which error page a response is, so the dashboard's wrapper can write it in the reader's
/// language (the error itself knows nothing of the request).
#[derive(Debug, Clone, Copy)]
struct ErrorKind(&'static str);

/// The language the signed-in member of staff reads, left on the request by [`Staff`].
#[derive(Debug, Clone, Copy)]
struct StaffLang(Lang);

/// Rewrites an error page of the dashboard in the language of whoever reads it: the
/// account's when signed in, else the browser's.
fn error_page_in_language(res: actix_web::dev::ServiceResponse) -> actix_web::dev::ServiceResponse {
    let Some(ErrorKind(key)) = res.response().extensions().get::<ErrorKind>().copied() else {
        return res;
    };
    let req = res.request().clone();
    let Some(state) = req
        .app_data::<web::Data<Arc<WebState>>>()
        .map(|s| Arc::clone(s.get_ref()))
    else {
        return res;
    };
    let signed_in = req.extensions().get::<StaffLang>().copied();
    let lang = signed_in.map_or_else(|| guest_lang(&state, &req), |StaffLang(l)| l);
    let status = res.status();
    let t = lang.strings();
    let page = ErrorPage {
        frame: Frame::new(&state, lang, None),
        // `shell.error.forbidden`, `…not_found`, `…internal`.
        title: t.t(&format!("{key}.title")).to_string(),
        text: t.t(&format!("{key}.text")).to_string(),
        signed_in: signed_in.is_some(),
    };
    res.into_response(render(&page, status))
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::Login(_) => StatusCode::SEE_OTHER,
            AdminError::Forbidden => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let key = match self {
            AdminError::Login(next) => {
                let target = format!("/admin/login?next={}", url_escape(next));
                let mut res = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .finish();
                clear_session(&mut res);
                return res;
            }
            AdminError::Forbidden => "shell.error.forbidden",
            AdminError::NotFound => "shell.error.not_found",
            AdminError::Internal => "shell.error.internal",
        };
        // Written in the organisation's default here; the dashboard's wrapper writes it again
        // in the reader's language (see `error_page_in_language`).
        let mut res = HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(self.status_code().canonical_reason().unwrap_or("error"));
        res.extensions_mut().insert(ErrorKind(key));
        res
    }
}

/// For paths and query values inside the dashboard.
pub(super) fn url_escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, crate::web::PATH).to_string()
}

impl From<crate::web::error::Problem> for AdminError {
    fn from(p: crate::web::error::Problem) -> Self {
        if p.status == 404 {
            AdminError::NotFound
        } else {
            AdminError::Internal
        }
    }
}

/// The page that holds the form a POST to `path` came from: where to land after signing in
/// again (a form's own address, `/admin/jobs/7/revive`, is no page).
fn form_page(path: &str) -> String {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["admin", "requests", id, ..] => format!("/admin/requests/{id}"),
        ["admin", "logout" | "assign"] => "/admin".into(),
        ["admin", page, ..] => format!("/admin/{page}"),
        _ => "/admin".into(),
    }
}

impl FromRequest for Staff {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<Arc<WebState>>>()
            .map(|s| Arc::clone(s.get_ref()));
        let path = req.uri().path();
        // After signing in again, a form's post lands back on the page that holds the form.
        let here = if req.method() == actix_web::http::Method::GET {
            path.to_string()
        } else {
            form_page(path)
        };
        let token = session_token(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or(AdminError::Internal)?;
            let login = || AdminError::Login(here.clone());
            let token = token.ok_or_else(login)?;
            let now = state.clock.now();
            let lifetime = sessions::Lifetime::from_settings(&state.settings.security);
            let csrf = sessions::csrf_token(&token);
            let found = state
                .db(move |conn, _| sessions::find(conn, &token, now, lifetime))
                .await
                .map_err(|_| AdminError::Internal)?;
            let (session, user) = found.ok_or_else(login)?;
            let role = user
                .role
                .parse::<Role>()
                .map_err(|_| AdminError::Forbidden)?;
            let lang = user
                .lang
                .as_deref()
                .and_then(Lang::from_code)
                .unwrap_or_else(|| state.settings.language());
            req.extensions_mut().insert(StaffLang(lang));
            Ok(Staff {
                lang,
                org_lang: state.settings.language(),
                org: state.settings.organisation.name.clone(),
                logo: state.settings.brand().logo.is_some(),
                session: SessionData {
                    id: session.id,
                    user: user.id,
                    csrf,
                },
                user,
                role,
            })
        })
    }
}

/// Loads the signing key: from configuration, else from its file (created on first use).
pub fn load_key(security: &crate::config::Security) -> anyhow::Result<Key> {
    let bytes = crate::crypto::load_key_bytes(
        &security.session_key,
        &security.session_key_file,
        64,
        "security.session_key",
    )?;
    Ok(Key::from(&bytes))
}

/// A 303 to `to`: where a form that worked sends the browser.
pub(crate) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::form_page;

    #[test]
    fn a_post_returns_to_the_page_of_its_form() {
        assert_eq!(
            form_page("/admin/requests/DSAR-2025-000001/tasks/3"),
            "/admin/requests/DSAR-2025-000001"
        );
        assert_eq!(
            form_page("/admin/requests/DSAR-2025-000001/action"),
            "/admin/requests/DSAR-2025-000001"
        );
        assert_eq!(form_page("/admin/jobs/7/revive"), "/admin/jobs");
        assert_eq!(form_page("/admin/users/4"), "/admin/users");
        assert_eq!(form_page("/admin/users"), "/admin/users");
        assert_eq!(form_page("/admin/logout"), "/admin");
        assert_eq!(form_page("/admin/assign"), "/admin");
    }
}
