//! Signing in and out, and setting a password from a one-time link.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    AdminError, FormError, Frame, Staff, clear_session, guest_lang, remember_lang, render,
    session_cookie,
};
use crate::crypto::{self, sha256_hex};
use crate::i18n::{Lang, Strings};
use crate::staff::{self, Attempt, MIN_PASSWORD, Throttle, sessions};
use crate::store::audit::{self, Entry};
use crate::store::{users, write_tx};
use crate::web::State;
use crate::web::portal::{Limit, csrf_ok, csrf_token, with_csrf};

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    frame: Frame,
    t: &'static Strings,
    csrf: String,
    next: String,
    email: String,
    error: Option<FormError>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a path inside the dashboard, or the dashboard itself. The
/// value is a `Location` header later, so nothing but visible ASCII passes (a CR or LF would
/// make a header that cannot be sent), and nothing that leaves the site (`//host`, a scheme,
/// a backslash that some browsers read as a slash).
fn safe_next(next: Option<&str>) -> String {
    let local = |n: &str| {
        let rest = n.strip_prefix("/admin").unwrap_or("-");
        (rest.is_empty() || rest.starts_with(['/', '?', '#']))
            && n.bytes().all(|b| b.is_ascii_graphic())
            && !n.contains("//")
            && !n.contains('\\')
            && !n.contains(':')
    };
    match next {
        Some(n) if local(n) => n.to_string(),
        _ => "/admin".to_string(),
    }
}

pub async fn form(state: State, req: HttpRequest, query: web::Query<Next>) -> HttpResponse {
    let csrf = csrf_token(&req);
    let lang = guest_lang(&state, &req);
    let next = safe_next(query.next.as_deref());
    // The other language keeps where to go after signing in.
    let here = match next.as_str() {
        "/admin" => "/admin/login".to_string(),
        next => format!("/admin/login?next={}&", super::url_escape(next)),
    };
    let mut frame = Frame::new(&state, lang, None);
    frame.switch_url = Some(match here.strip_suffix('&') {
        Some(with_next) => format!("{with_next}&lang={}", lang.other().code()),
        None => format!("{here}?lang={}", lang.other().code()),
    });
    let page = LoginPage {
        frame,
        t: lang.strings(),
        csrf: csrf.clone(),
        next,
        email: String::new(),
        error: None,
    };
    let mut res = with_csrf(render(&page, StatusCode::OK), &state, &csrf);
    remember_lang(&mut res, &req, lang);
    res
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
    let lang = guest_lang(&state, &req);
    let t = lang.strings();
    let again = |error: String, status: StatusCode| {
        let page = LoginPage {
            frame: Frame::new(&state, lang, Some("/admin/login")),
            t,
            csrf: csrf.clone(),
            next: next.clone(),
            email: form.email.clone(),
            error: Some(FormError::new("email", error)),
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(
            t.t("accounts.login.expired").to_string(),
            StatusCode::FORBIDDEN,
        );
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    let now = state.clock.now();
    // Counted before the password is checked, so parallel guesses are throttled as they come,
    // on whichever node they arrive.
    let attempt = match reserve(&state, Throttle::password_key(&form.email), ip, now).await {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(wait)) => {
            return again(
                wait_words(t, "accounts.login.throttled", wait),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(_) => {
            return again(
                t.t("accounts.failed").to_string(),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    // An address no account can have (a control character, say) is looked up nowhere.
    let email = staff::sign_in_address(&form.email);
    let password = form.password.clone();
    let throttle = state.login_throttle.clone();
    let checked = state
        .db(move |conn, _| {
            let user = match &email {
                Some(email) => users::find_by_email(conn, email)?,
                None => None,
            };
            // argon2 runs here, on the blocking pool, for unknown accounts too (dummy hash).
            let ok = staff::verify_password(
                user.as_ref().and_then(|u| u.password_hash.as_deref()),
                &password,
            );
            let ok_user = user.filter(|u| ok && u.disabled_at.is_none());
            let checked = write_tx(conn, |conn| {
                let (action, target) = match &ok_user {
                    Some(u) if u.totp_secret.is_some() => {
                        ("login.password_ok", Some(u.id.to_string()))
                    }
                    Some(u) => ("login", Some(u.id.to_string())),
                    None => ("login.failed", None),
                };
                let mut session = None;
                if let Some(u) = ok_user.as_ref().filter(|u| u.totp_secret.is_none()) {
                    users::touch_login(conn, u.id, now.naive_utc())?;
                    session = Some(sessions::open(conn, u, now)?.token);
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
                )?;
                Ok::<_, diesel::result::Error>(ok_user.map(|u| (u, session)))
            })?;
            // Once the sign-in is stored, outside its transaction (see `Throttle::release`).
            match &checked {
                Some((_, Some(_))) => throttle.succeeded(conn, attempt)?,
                // The password was right; the session waits for the second factor, which has
                // a throttle of its own.
                Some((_, None)) => throttle.release(conn, attempt)?,
                // The attempt stays counted: a failure.
                None => drop(attempt),
            }
            Ok::<_, diesel::result::Error>(checked)
        })
        .await;
    match checked {
        Ok(Some((user, None))) => {
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
        Ok(Some((_, Some(token)))) => {
            let mut res = HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next.clone()))
                .finish();
            let _ = res.add_cookie(&session_cookie(&state, &token));
            res
        }
        Ok(None) => again(
            t.t("accounts.login.wrong").to_string(),
            StatusCode::UNAUTHORIZED,
        ),
        Err(_) => again(
            t.t("accounts.failed").to_string(),
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
    frame: Frame,
    t: &'static Strings,
    csrf: String,
    error: Option<FormError>,
}

pub async fn code_form(state: State, req: HttpRequest) -> HttpResponse {
    if read_pending(&state, &req).is_none() {
        return to_login();
    }
    let csrf = csrf_token(&req);
    let lang = guest_lang(&state, &req);
    let page = CodePage {
        frame: Frame::new(&state, lang, Some("/admin/login/code")),
        t: lang.strings(),
        csrf: csrf.clone(),
        error: None,
    };
    let mut res = with_csrf(render(&page, StatusCode::OK), &state, &csrf);
    remember_lang(&mut res, &req, lang);
    res
}

/// Counts a sign-in attempt against `key` and the client's address, in the database so that
/// every node counts it (see [`Throttle::reserve`]).
pub(super) async fn reserve(
    state: &State,
    key: String,
    ip: Option<std::net::IpAddr>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Result<Attempt, std::time::Duration>, crate::web::error::Problem> {
    let throttle = state.login_throttle.clone();
    state
        .db(move |conn, _| throttle.reserve(conn, &key, ip, now))
        .await
        // The person sees "sign-in failed"; the operator needs to know why.
        .inspect_err(|e| tracing::error!(error = %e, "cannot count a sign-in attempt"))
}

/// "Wait 4 seconds, then try again", in the page's language.
fn wait_words(t: &Strings, key: &str, wait: std::time::Duration) -> String {
    let seconds = i64::try_from(wait.as_secs().max(1)).unwrap_or(i64::MAX);
    t.fill(key, &[("wait", &t.count("accounts.seconds", seconds))])
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
    let lang = guest_lang(&state, &req);
    let t = lang.strings();
    let again = |error: String, status: StatusCode| {
        let page = CodePage {
            frame: Frame::new(&state, lang, Some("/admin/login/code")),
            t,
            csrf: csrf.clone(),
            error: Some(FormError::new("code", error)),
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(
            t.t("accounts.code.expired").to_string(),
            StatusCode::FORBIDDEN,
        );
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    let now = state.clock.now();
    // Counted before it is checked: parallel guesses cannot all slip past the wait.
    let attempt = match reserve(&state, Throttle::totp_key(pending.user), ip, now).await {
        Ok(Ok(attempt)) => attempt,
        Ok(Err(wait)) => {
            return again(
                wait_words(t, "accounts.code.throttled", wait),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        Err(_) => {
            return again(
                t.t("accounts.failed").to_string(),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
    };
    let user_id = pending.user;
    let Ok(Some((user, last_step))) = state
        .db(move |conn, _| {
            let Some(user) = users::find(conn, user_id)? else {
                return Ok::<_, diesel::result::Error>(None);
            };
            Ok(Some((user, staff::last_totp_step(conn, user_id)?)))
        })
        .await
    else {
        return to_login();
    };
    if user.disabled_at.is_some() || user.session_epoch != pending.epoch {
        return to_login();
    }
    let secret = user
        .totp_secret
        .as_deref()
        .and_then(|sealed| crypto::open(&state.session_key, TOTP_PURPOSE, sealed));
    let step = secret.and_then(|secret| {
        crate::staff::totp::verify(&secret, &form.code, now.timestamp(), last_step)
    });
    let signed_in = user.clone();
    let throttle = state.login_throttle.clone();
    let password_key = Throttle::password_key(&user.email);
    let recorded = state
        .db(move |conn, _| {
            let session = write_tx(conn, |conn| {
                // Spent in the same transaction as the session it opens: the same code
                // reaching another node waits on this row, then finds it spent.
                let won = match step {
                    Some(step) => staff::spend_totp_step(conn, user_id, step)?,
                    None => false,
                };
                let session = if won {
                    users::touch_login(conn, user_id, now.naive_utc())?;
                    Some(sessions::open(conn, &signed_in, now)?.token)
                } else {
                    None
                };
                let outcome = if won { "login" } else { "login.failed" };
                audit::on_user(
                    conn,
                    user_id,
                    &format!("staff:{user_id}"),
                    outcome,
                    &json!({ "ip": ip.map(|i| i.to_string()), "second_factor": "totp" }),
                    now.naive_utc(),
                )?;
                Ok::<_, diesel::result::Error>(session)
            })?;
            // Once the sign-in is stored, outside its transaction (see `Throttle::release`).
            if session.is_some() {
                throttle.succeeded(conn, attempt)?;
                throttle.forget(conn, &password_key)?;
            } else {
                // The attempt stays counted: a failure.
                drop(attempt);
            }
            Ok::<_, diesel::result::Error>(session)
        })
        .await;
    let token = match recorded {
        Err(_) => {
            return again(
                t.t("accounts.failed").to_string(),
                StatusCode::INTERNAL_SERVER_ERROR,
            );
        }
        Ok(None) => {
            return again(
                t.t("accounts.code.wrong").to_string(),
                StatusCode::UNAUTHORIZED,
            );
        }
        Ok(Some(token)) => token,
    };
    let mut res = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, safe_next(Some(&pending.next))))
        .finish();
    let _ = res.add_cookie(&session_cookie(&state, &token));
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
    frame: Frame,
    t: &'static Strings,
    csrf: String,
    email: String,
    sent: bool,
    error: Option<FormError>,
}

pub async fn reset_form(state: State, req: HttpRequest) -> HttpResponse {
    let csrf = csrf_token(&req);
    let lang = guest_lang(&state, &req);
    let page = ResetPage {
        frame: Frame::new(&state, lang, Some("/admin/password-reset")),
        t: lang.strings(),
        csrf: csrf.clone(),
        email: String::new(),
        sent: false,
        error: None,
    };
    let mut res = with_csrf(render(&page, StatusCode::OK), &state, &csrf);
    remember_lang(&mut res, &req, lang);
    res
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
    let lang = guest_lang(&state, &req);
    let t = lang.strings();
    let again = |error: Option<&str>, sent: bool, status: StatusCode| {
        let page = ResetPage {
            frame: Frame::new(&state, lang, Some("/admin/password-reset")),
            t,
            csrf: csrf.clone(),
            email: form.email.clone(),
            sent,
            error: error.map(|key| FormError::new("email", t.t(key).to_string())),
        };
        with_csrf(render(&page, status), &state, &csrf)
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again(Some("accounts.reset.expired"), false, StatusCode::FORBIDDEN);
    }
    let ip = crate::web::portal::client_ip(&req, state.settings.portal.trust_forwarded_for);
    // A limit of its own: resets asked from an office's address must not stop the portal
    // taking requests from it.
    if !crate::web::portal::within(&state, Limit::PasswordResets, ip).await {
        return again(
            Some("accounts.reset.throttled"),
            false,
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // Not an address at all: the same answer as an unknown one, without asking the database.
    let Some(email) = staff::sign_in_address(&form.email) else {
        return again(None, true, StatusCode::OK);
    };
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
                let lang = user
                    .lang
                    .as_deref()
                    .and_then(Lang::from_code)
                    .unwrap_or_else(|| app.settings.language());
                crate::mail::queue_staff(
                    conn,
                    &crate::mail::StaffMail::PasswordReset {
                        name: &crate::staff::display_name(&user),
                        link: &link,
                    },
                    &user.email,
                    lang,
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
            Some("accounts.failed"),
            false,
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Signs this browser out: its session ends on every node, so a copy of the cookie opens
/// nothing either.
pub async fn logout(
    state: State,
    staff: Staff,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let (id, now) = (staff.session.id, state.clock.now());
    state
        .db(move |conn, _| sessions::end(conn, id, now))
        .await?;
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
                let ended = sessions::end_everywhere(conn, id, now)?;
                audit::on_user(
                    conn,
                    id,
                    &format!("staff:{id}"),
                    "logout.everywhere",
                    &serde_json::json!({ "sessions": ended }),
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
    frame: Frame,
    t: &'static Strings,
    csrf: String,
    action: String,
    intro: String,
    error: Option<FormError>,
}

/// The password page: in the account's language when it chose one (an invitation says
/// which), else the browser's.
fn password_lang(state: &State, req: &HttpRequest, user: &users::UserRow) -> Lang {
    let asked = web::Query::<super::LangQuery>::from_query(req.query_string())
        .ok()
        .is_some_and(|q| q.lang.is_some());
    match user.lang.as_deref().and_then(Lang::from_code) {
        Some(chosen) if !asked => chosen,
        _ => guest_lang(state, req),
    }
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
    let lang = password_lang(&state, &req, &user);
    let t = lang.strings();
    let action = format!("/admin/password/{token}");
    let page = PasswordPage {
        frame: Frame::new(&state, lang, Some(&action)),
        t,
        csrf: csrf.clone(),
        intro: t.fill("accounts.password.intro", &[("email", &user.email)]),
        action,
        error: None,
    };
    let mut res = with_csrf(render(&page, StatusCode::OK), &state, &csrf);
    remember_lang(&mut res, &req, lang);
    res
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
    let lang = password_lang(&state, &req, &user);
    let t = lang.strings();
    let again = |field: &'static str, error: String| {
        let action = format!("/admin/password/{token}");
        let page = PasswordPage {
            frame: Frame::new(&state, lang, Some(&action)),
            t,
            csrf: csrf.clone(),
            intro: t.fill("accounts.password.intro", &[("email", &user.email)]),
            action,
            error: Some(FormError::new(field, error)),
        };
        with_csrf(
            render(&page, StatusCode::UNPROCESSABLE_ENTITY),
            &state,
            &csrf,
        )
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return again("password", t.t("accounts.password.expired").to_string());
    }
    if form.password.chars().count() < MIN_PASSWORD {
        return again(
            "password",
            t.fill(
                "accounts.password.too_short",
                &[("n", &MIN_PASSWORD.to_string())],
            ),
        );
    }
    if form.password != form.confirm {
        return again("confirm", t.t("accounts.password.differ").to_string());
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
        Err(_) => again("password", t.t("accounts.failed").to_string()),
    }
}

impl AdminError {
    fn error_response_page(&self) -> HttpResponse {
        actix_web::ResponseError::error_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_plain_dashboard_paths_are_followed_after_sign_in() {
        for good in [
            "/admin",
            "/admin/",
            "/admin/requests/DSAR-2025-000001",
            "/admin/account?done=Two-factor%20sign-in%20is%20on",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "/admin\r\nSet-Cookie: a=b",
            "/admin/\n",
            "/admin/\0",
            "/admin/ x",
            "/admin/é",
            "/administrator",
            "/admin//evil.example",
            "/admin/\\evil.example",
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin/x?u=javascript:alert(1)",
            "/",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/admin", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/admin");
    }
}
