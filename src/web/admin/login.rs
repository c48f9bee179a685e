//! Signing in and out, and setting a password from a one-time link.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, Staff, clear_session, new_session, render, session_cookie};
use crate::crypto::sha256_hex;
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
                    Some(u) => ("login", Some(u.id.to_string())),
                    None => ("login.failed", None),
                };
                if let Some(u) = &ok_user {
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
                audit::append(
                    conn,
                    &Entry {
                        at: now.naive_utc(),
                        actor: &format!("staff:{id}"),
                        action: "logout.everywhere",
                        target_type: "user",
                        target_id: Some(&id.to_string()),
                        details: "{}",
                    },
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
                users::set_password(conn, user_id, &hash)?;
                users::use_token(conn, token_id, now.naive_utc())?;
                audit::append(
                    conn,
                    &Entry {
                        at: now.naive_utc(),
                        actor: &format!("staff:{user_id}"),
                        action: "user.password_set",
                        target_type: "user",
                        target_id: Some(&user_id.to_string()),
                        details: "{}",
                    },
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
