//! Signing in and out, and setting a password from a one-time link.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AdminError, Staff, clear_session, new_session, render, session_cookie};
use crate::crypto::{self, sha256_hex};
use crate::staff::{self, MIN_PASSWORD};
use crate::store::audit::{self, Entry};
use crate::store::{users, write_tx};
use crate::web::State;
use crate::web::portal::{csrf_ok, csrf_token, with_csrf};

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path inside the dashboard: never an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/admin") && !n.starts_with("//") && !n.contains("://") => {
            n.to_string()
        }
        _ => "/admin".to_string(),
    }
}

pub async fn form(state: State, req: HttpRequest, query: web::Query<Next>) -> HttpResponse {
    let csrf = csrf_token(&req);
    let page = LoginPage {
        csrf: csrf.clone(),
        next: safe_next(query.next.as_deref()),
        email: String::new(),
        error: None,
    };
    with_csrf(render(&page, StatusCode::OK), &state, &csrf)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

pub async fn submit(state: State, req: HttpRequest, form: web::Form<LoginForm>) -> HttpResponse {
    let form = form.into_inner();
    let csrf = csrf_token(&req);
    let next = safe_next(form.next.as_deref());
    let again = |error: &str, status: StatusCode| {
        let page = LoginPage {
            csrf: csrf.clone(),
            next: next.clone(),
            email: form.email.clone(),
            error: Some(error.to_string()),
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(
            "The form expired. Please sign in again.",
            StatusCode::FORBIDDEN,
        );
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    let wait = state.login_throttle.wait(&form.email, ip);
    if !wait.is_zero() {
        return again(
            &format!(
                "Too many failed attempts. Wait {} seconds, then try again.",
                wait.as_secs().max(1)
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let email = form.email.trim().to_lowercase();
    let password = form.password.clone();
    let now = state.clock.now();
    let checked = state
        .db(move |conn, _| {
            let user = users::find_by_email(conn, &email)?;
            // argon2 runs here, on the blocking pool, for unknown accounts too (dummy hash).
            let ok = staff::verify_password(
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
                &password,
            );
            let ok_user = user.filter(|u| ok && u.disabled_at.is_none());
            write_tx(conn, |conn| {
                let (action, target) = match &ok_user {
                    Some(u) if u.totp_secret.is_some() => {
                        ("login.password_ok", Some(u.id.to_string()))
                    }
                    Some(u) => ("login", Some(u.id.to_string())),
                    None => ("login.failed", None),
                };
                if let Some(u) = ok_user.as_ref().filter(|u| u.totp_secret.is_none()) {
                    users::touch_login(conn, u.id, now.naive_utc())?;
                }
                audit::append(
                    conn,
                    &Entry {
                        at: now.naive_utc(),
                        actor: &target
                            .as_ref()
                            .map(|id| format!("staff:{id}"))
                            .unwrap_or_else(|| "anonymous".into()),
                        action,
                        target_type: "user",
                        target_id: target.as_deref(),
                        details: &json!({ "ip": ip.map(|i| i.to_string()) }).to_string(),
                    },
                )
            })?;
            Ok::<_, diesel::result::Error>(ok_user)
        })
        .await;
    match checked {
        Ok(Some(user)) if user.totp_secret.is_some() => {
            // The password was right; the session waits for the second factor.
            let pending = PendingLogin {
                user: user.id,
                epoch: user.session_epoch,
                at: now.timestamp(),
                next: next.clone(),
            };
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login/code"))
                .finish();
            let _ = res.add_cookie(&pending_cookie(&state, &pending));
            res
        }
        Ok(Some(user)) => {
            state.login_throttle.succeeded(&form.email);
            let session = new_session(&state, &user);
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next.clone()))
                .finish();
            let _ = res.add_cookie(&session_cookie(&state, &session));
            res
        }
        Ok(None) => {
            state.login_throttle.failed(&form.email, ip);
            again("Wrong email or password.", StatusCode::UNAUTHORIZED)
        }
        Err(_) => again(
            "Something went wrong; try again.",
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

const PENDING_COOKIE: &str = "dsar_2fa";
/// How long the code may take to arrive after the password.
const PENDING_SECONDS: i64 = 300;

/// Between a right password and the code: which account, since when, and where to go next.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    user: i64,
    epoch: i32,
    at: i64,
    next: String,
}

fn pending_cookie(state: &State, pending: &PendingLogin) -> Cookie<'static> {
    let value = crypto::seal(
        &state.session_key,
        PENDING_COOKIE,
        &serde_json::to_string(pending).unwrap_or_default(),
    );
    Cookie::build(PENDING_COOKIE, value)
        .path("/admin/login")
        .http_only(true)
        .secure(state.settings.base_url().starts_with("https://"))
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(PENDING_SECONDS))
        .finish()
}

fn read_pending(state: &State, req: &HttpRequest) -> Option<PendingLogin> {
    let raw = req.cookie(PENDING_COOKIE)?;
    let plain = crypto::open(&state.session_key, PENDING_COOKIE, raw.value())?;
    let pending: PendingLogin = serde_json::from_str(&plain).ok()?;
    let age = state.clock.now().timestamp() - pending.at;
    (0..=PENDING_SECONDS).contains(&age).then_some(pending)
}

#[derive(Template)]
#[template(path = "admin/login_code.html")]
struct CodePage {
    csrf: String,
    error: Option<String>,
}

pub async fn code_form(state: State, req: HttpRequest) -> HttpResponse {
    if read_pending(&state, &req).is_none() {
        return to_login();
    }
    let csrf = csrf_token(&req);
    let page = CodePage {
        csrf: csrf.clone(),
        error: None,
    };
    with_csrf(render(&page, StatusCode::OK), &state, &csrf)
}

fn to_login() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .finish()
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    csrf: Option<String>,
}

/// The second step of signing in: the code from the authenticator app.
pub async fn code_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    let Some(pending) = read_pending(&state, &req) else {
        return to_login();
    };
    let csrf = csrf_token(&req);
    let again = |error: String, status: StatusCode| {
        let page = CodePage {
            csrf: csrf.clone(),
            error: Some(error),
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(
            "The form expired. Please enter the code again.".into(),
            StatusCode::FORBIDDEN,
        );
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    let throttle_key = format!("totp:{}", pending.user);
    let wait = state.login_throttle.wait(&throttle_key, ip);
    if !wait.is_zero() {
        return again(
            format!(
                "Too many wrong codes. Wait {} seconds, then try again.",
                wait.as_secs().max(1)
            ),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // Counted before it is checked: parallel guesses cannot all slip past the wait above.
    state.login_throttle.attempt(&throttle_key);
    let now = state.clock.now();
    let user_id = pending.user;
    let Ok(Some(user)) = state.db(move |conn, _| users::find(conn, user_id)).await else {
        return to_login();
    };
    if user.disabled_at.is_some() || user.session_epoch != pending.epoch {
        return to_login();
    }
    let secret = user
        .totp_secret
        .as_deref()
        .and_then(|sealed| crypto::open(&state.session_key, TOTP_PURPOSE, sealed));
    let step = secret
        .and_then(|secret| {
            crate::staff::totp::verify(
                &secret,
                &form.code,
                now.timestamp(),
                state.login_throttle.last_totp_step(user.id),
            )
        })
        .filter(|step| state.login_throttle.spend_totp_step(user.id, *step));
    let outcome = if step.is_some() {
        "login"
    } else {
        "login.failed"
    };
    let recorded = state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                if step.is_some() {
                    users::touch_login(conn, user_id, now.naive_utc())?;
                }
                audit::on_user(
                    conn,
                    user_id,
                    &format!("staff:{user_id}"),
                    outcome,
                    &json!({ "ip": ip.map(|i| i.to_string()), "second_factor": "totp" }),
                    now.naive_utc(),
                )
            })
        })
        .await;
    if recorded.is_err() {
        return again(
            "Something went wrong; try again.".into(),
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    }
    if step.is_none() {
        state.login_throttle.failed_from(ip);
        return again(
            "That code is not right. Enter the six digits your app shows now.".into(),
            StatusCode::UNAUTHORIZED,
        );
    }
    state.login_throttle.succeeded(&throttle_key);
    state.login_throttle.succeeded(&user.email);
    let session = new_session(&state, &user);
    let mut res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_next(Some(&pending.next))))
        .finish();
    let _ = res.add_cookie(&session_cookie(&state, &session));
    let mut gone = Cookie::new(PENDING_COOKIE, "");
    gone.set_path("/admin/login");
    gone.make_removal();
    let _ = res.add_cookie(&gone);
    res
}

/// The purpose TOTP secrets are sealed for (see [`crypto::seal`]).
pub const TOTP_PURPOSE: &str = "totp";

#[derive(Template)]
#[template(path = "admin/reset.html")]
struct ResetPage {
    csrf: String,
    email: String,
    sent: bool,
    error: Option<String>,
}

pub async fn reset_form(state: State, req: HttpRequest) -> HttpResponse {
    let csrf = csrf_token(&req);
    let page = ResetPage {
        csrf: csrf.clone(),
        email: String::new(),
        sent: false,
        error: None,
    };
    with_csrf(render(&page, StatusCode::OK), &state, &csrf)
}

#[derive(Deserialize)]
pub struct ResetForm {
    email: String,
    csrf: Option<String>,
}

/// "Forgot your password?": a one-time link by mail. The answer is the same whether the
/// account exists or not, so the form tells nobody who works here.
pub async fn reset_submit(
    state: State,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> HttpResponse {
    let csrf = csrf_token(&req);
    let again = |error: Option<String>, sent: bool, status: StatusCode| {
        let page = ResetPage {
            csrf: csrf.clone(),
            email: form.email.clone(),
            sent,
            error,
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(
            Some("The form expired. Please enter your email again.".into()),
            false,
            StatusCode::FORBIDDEN,
        );
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    if let Some(ip) = ip
        && !state.limits.submissions.allow(ip)
    {
        return again(
            Some("Too many requests from your network. Try again in an hour.".into()),
            false,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let email = form.email.trim().to_lowercase();
    let now = state.clock.now();
    let queued = state
        .db(move |conn, app| {
            let Some(user) = users::find_by_email(conn, &email)? else {
                return Ok(());
            };
            if user.disabled_at.is_some() {
                return Ok(());
            }
            // One mail per account per quarter hour, however often the form is sent.
            let recent = users::last_reset_link(conn, user.id)?
                .is_some_and(|at| now.naive_utc() - at < chrono::Duration::minutes(15));
            if recent {
                return Ok(());
            }
            write_tx(conn, |conn| {
                let path = staff::password_link(conn, user.id, "reset", now)?;
                let link = format!("{}{path}", app.settings.base_url());
                crate::mail::queue_staff(
                    conn,
                    &crate::mail::StaffMail::PasswordReset {
                        name: &user.name,
                        link: &link,
                    },
                    &user.email,
                    &app.settings.organisation.name,
                    now.naive_utc(),
                )
                .map_err(|e| crate::web::error::internal(&e))?;
                audit::on_user(
                    conn,
                    user.id,
                    "anonymous",
                    "user.password_reset_requested",
                    &json!({ "ip": ip.map(|i| i.to_string()) }),
                    now.naive_utc(),
                )?;
                Ok::<_, crate::web::error::Problem>(())
            })
        })
        .await;
    match queued {
        Ok(()) => again(None, true, StatusCode::OK),
        Err(_) => again(
            Some("Something went wrong; try again.".into()),
            false,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(staff: Staff, form: web::Form<CsrfForm>) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let mut res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .finish();
    clear_session(&mut res);
    Ok(res)
}

/// Ends every session of this account, on every device.
pub async fn logout_everywhere(
    state: State,
    staff: Staff,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let id = staff.user.id;
    let now = state.clock.now();
    state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                users::bump_epoch(conn, id)?;
                audit::on_user(
                    conn,
                    id,
                    &format!("staff:{id}"),
                    "logout.everywhere",
                    &serde_json::json!({}),
                    now.naive_utc(),
                )
            })
        })
        .await?;
    let mut res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .finish();
    clear_session(&mut res);
    Ok(res)
}

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    csrf: String,
    action: String,
    email: String,
    error: Option<String>,
}

async fn token_user(state: &State, token: &str) -> Option<(i64, users::UserRow)> {
    let hash = sha256_hex(token);
    let now = state.clock.now().naive_utc();
    state
        .db(move |conn, _| {
            let Some((token_id, user_id)) = users::user_for_token(conn, &hash, now)? else {
                return Ok(None);
            };
            Ok::<_, diesel::result::Error>(users::find(conn, user_id)?.map(|u| (token_id, u)))
        })
        .await
        .ok()
        .flatten()
}

pub async fn password_form(
    state: State,
    req: HttpRequest,
    token: web::Path<String>,
) -> HttpResponse {
    let Some((_, user)) = token_user(&state, &token).await else {
        return AdminError::NotFound.error_response_page();
    };
    let csrf = csrf_token(&req);
    let page = PasswordPage {
        csrf: csrf.clone(),
        action: format!("/admin/password/{token}"),
        email: user.email,
        error: None,
    };
    with_csrf(render(&page, StatusCode::OK), &state, &csrf)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    confirm: String,
    csrf: Option<String>,
}

pub async fn password_submit(
    state: State,
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    let Some((token_id, user)) = token_user(&state, &token).await else {
        return AdminError::NotFound.error_response_page();
    };
    let csrf = csrf_token(&req);
    let again = |error: String| {
        let page = PasswordPage {
            csrf: csrf.clone(),
            action: format!("/admin/password/{token}"),
            email: user.email.clone(),
            error: Some(error),
        };
        with_csrf(
            render(&page, StatusCode::UNPROCESSABLE_ENTITY),
            &state,
            &csrf,
        )
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again("The form expired. Please enter your new password again.".into());
    }
    if form.password.chars().count() < MIN_PASSWORD {
        return again(format!(
            "Choose a password of at least {MIN_PASSWORD} characters."
        ));
    }
    if form.password != form.confirm {
        return again("The two passwords differ.".into());
    }
    let password = form.password.clone();
    let now = state.clock.now();
    let user_id = user.id;
    let saved = state
        .db(move |conn, _| {
            let hash = staff::hash_password(&password)
                .map_err(|_| diesel::result::Error::RollbackTransaction)?;
            write_tx(conn, |conn| {
                if !users::use_token(conn, token_id, user_id, now.naive_utc())? {
                    // Another request spent the link first: this one sets nothing.
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                users::set_password(conn, user_id, &hash)?;
                audit::on_user(
                    conn,
                    user_id,
                    &format!("staff:{user_id}"),
                    "user.password_set",
                    &serde_json::json!({}),
                    now.naive_utc(),
                )
            })
        })
        .await;
    match saved {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/admin/login"))
            .finish(),
        Err(_) => again("Something went wrong; try again.".into()),
    }
}

impl AdminError {
    fn error_response_page(&self) -> HttpResponse {
        actix_web::ResponseError::error_response(self)
    }
}
