//! A member of staff's own account: who they are, and their second factor (TOTP), which
//! they turn on by proving their app shows the right code and turn off the same way.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::login::TOTP_PURPOSE;
use super::{AdminError, Nav, Staff};
use crate::crypto;
use crate::staff::{Throttle, sessions, totp};
use crate::store::audit;
use crate::store::{users, write_tx};
use crate::web::State;

/// The purpose of the secret carried by the setup form until it is confirmed.
const SETUP_PURPOSE: &str = "totp-setup";

#[derive(Template)]
#[template(path = "admin/account.html")]
pub struct AccountPage {
    pub nav: Nav,
    pub email: String,
    pub role: String,
    pub totp_on: bool,
    /// While setting up: (secret as typed into an app, otpauth URI, the sealed secret).
    pub setup: Option<(String, String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
}

fn page(
    staff: &Staff,
    setup: Option<(String, String, String)>,
    notice: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    staff.page(&AccountPage {
        nav: staff.nav(),
        email: staff.user.email.clone(),
        role: staff.role.as_str().to_string(),
        totp_on: staff.user.totp_secret.is_some(),
        setup,
        notice: notice.map(str::to_string),
        error: error.map(str::to_string),
    })
}

fn new_setup(state: &State, staff: &Staff) -> (String, String, String) {
    let secret = totp::new_secret();
    let uri = totp::provisioning_uri(
        &state.settings.organisation.name,
        &staff.user.email,
        &secret,
    );
    let sealed = crypto::seal(&state.session_key, SETUP_PURPOSE, &secret);
    (group(&secret), uri, sealed)
}

/// `ABCDEFGH…` → `ABCD EFGH …`, easier to type.
fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Deserialize)]
pub struct TotpForm {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    sealed: String,
}

pub async fn totp_action(
    state: State,
    staff: Staff,
    form: web::Form<TotpForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let now = state.clock.now();
    match form.action.as_str() {
        "start" => Ok(page(&staff, Some(new_setup(&state, &staff)), None, None)),
        // Replacing a second factor goes through turning the current one off, with its code.
        "enable" if staff.user.totp_secret.is_some() => Ok(page(
            &staff,
            None,
            None,
            Some(
                "Two-factor sign-in is already on. Turn it off first (with a current code) to move it to another app.",
            ),
        )),
        "enable" => {
            let Some(secret) = crypto::open(&state.session_key, SETUP_PURPOSE, &form.sealed) else {
                return Ok(page(
                    &staff,
                    Some(new_setup(&state, &staff)),
                    None,
                    Some("The set-up expired; add this new key to your app."),
                ));
            };
            let Some(step) = totp::verify(&secret, &form.code, now.timestamp(), None) else {
                let again = (
                    group(&secret),
                    totp::provisioning_uri(
                        &state.settings.organisation.name,
                        &staff.user.email,
                        &secret,
                    ),
                    form.sealed.clone(),
                );
                return Ok(page(
                    &staff,
                    Some(again),
                    None,
                    Some(
                        "That code is not right. Enter the six digits your app shows now for this account.",
                    ),
                ));
            };
            state.login_throttle.spend_totp_step(staff.user.id, step);
            let sealed = crypto::seal(&state.session_key, TOTP_PURPOSE, &secret);
            let token = record(&state, &staff, Some(sealed), "user.totp_enabled").await?;
            Ok(redirect(
                &state,
                &token,
                "Two-factor sign-in is on: from now on you sign in with your password and a code from your app. Your other sessions have ended.",
            ))
        }
        "disable" => {
            let secret = staff
                .user
                .totp_secret
                .as_deref()
                .and_then(|s| crypto::open(&state.session_key, TOTP_PURPOSE, s));
            let Some(secret) = secret else {
                return Ok(page(
                    &staff,
                    None,
                    None,
                    Some("Two-factor sign-in is not on."),
                ));
            };
            let key = Throttle::totp_key(staff.user.id);
            let attempt = match state.login_throttle.reserve(&key, None) {
                Ok(attempt) => attempt,
                Err(wait) => {
                    return Ok(page(
                        &staff,
                        None,
                        None,
                        Some(&format!(
                            "Too many wrong codes. Wait {} seconds, then try again.",
                            wait.as_secs().max(1)
                        )),
                    ));
                }
            };
            let step = totp::verify(
                &secret,
                &form.code,
                now.timestamp(),
                state.login_throttle.last_totp_step(staff.user.id),
            )
            .filter(|step| state.login_throttle.spend_totp_step(staff.user.id, *step));
            if step.is_none() {
                return Ok(page(
                    &staff,
                    None,
                    None,
                    Some("That code is not right; two-factor sign-in stays on."),
                ));
            }
            state.login_throttle.succeeded(attempt);
            let token = record(&state, &staff, None, "user.totp_disabled").await?;
            Ok(redirect(
                &state,
                &token,
                "Two-factor sign-in is off. Your other sessions have ended.",
            ))
        }
        _ => Ok(page(&staff, None, None, None)),
    }
}

/// Stores the change and ends every session of the account (a stolen session must not
/// outlive a change of second factor); returns the token of a new session for this browser.
async fn record(
    state: &State,
    staff: &Staff,
    sealed: Option<String>,
    action: &'static str,
) -> Result<String, AdminError> {
    let (id, actor, now) = (staff.user.id, staff.actor(), state.clock.now());
    let token = state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                users::set_totp(conn, id, sealed.as_deref())?;
                sessions::end_everywhere(conn, id, now)?;
                audit::on_user(
                    conn,
                    id,
                    &actor,
                    action,
                    &serde_json::json!({}),
                    now.naive_utc(),
                )?;
                let Some(user) = users::find(conn, id)? else {
                    return Ok(None);
                };
                sessions::open(conn, &user, now).map(|opened| Some(opened.token))
            })
        })
        .await?;
    token.ok_or(AdminError::Internal)
}

/// Back to the account page, in a new session of this browser (the others ended).
fn redirect(state: &State, token: &str, notice: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/admin/account?done={}", super::url_escape(notice)),
        ))
        .finish();
    let _ = res.add_cookie(&super::session_cookie(state, token));
    res
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn show(staff: Staff, query: web::Query<Done>) -> HttpResponse {
    page(&staff, None, query.done.as_deref(), None)
}
