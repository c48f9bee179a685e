//! The staff dashboard. A session is a row in the database (see [`crate::staff::sessions`])
//! that the browser names by a random token in its cookie, so any web node serves any
//! request and signing out ends the session on all of them; it is checked on every request:
//! idle and absolute timeouts, signed out, "sign out everywhere", disabled accounts.

pub mod account;
pub mod audit;
pub mod chart;
pub mod fulfilment;
pub mod jobs;
pub mod login;
pub mod processing;
pub mod queue;
pub mod reports;
pub mod request;
pub mod request_register;
pub mod settings;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

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
        .service(
            web::scope("/admin")
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
                .route("/requests/{id}", web::get().to(request::show))
                .route("/requests/{id}/action", web::post().to(request::act))
                .route("/requests/{id}/send", web::post().to(request::send))
                .route("/requests/{id}/sources", web::post().to(fulfilment::act))
                .route(
                    "/requests/{id}/tasks/{run}",
                    web::post().to(fulfilment::task),
                )
                .route("/requests/{id}/package", web::get().to(fulfilment::package))
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
                .default_service(web::to(not_found)),
        );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(STYLESHEET)
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

    /// What the dashboard's header shows this member of staff.
    pub fn nav(&self) -> Nav {
        Nav {
            lang: self.lang,
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
    title: &'static str,
    text: &'static str,
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
        let (title, text) = match self {
            AdminError::Login(next) => {
                let target = format!("/admin/login?next={}", url_escape(next));
                let mut res = HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, target))
                    .finish();
                clear_session(&mut res);
                return res;
            }
            AdminError::Forbidden => (
                "Not allowed",
                "Your role does not allow this page or action. Ask an administrator if you need it.",
            ),
            AdminError::NotFound => (
                "Not found",
                "There is nothing here, or it is not yours to see.",
            ),
            AdminError::Internal => (
                "Something went wrong",
                "The error is logged; nothing was changed. Try again in a moment.",
            ),
        };
        render(&ErrorPage { title, text }, self.status_code())
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
            Ok(Staff {
                lang,
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
