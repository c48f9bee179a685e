//! A member of staff's own account: who they are, the language the dashboard speaks to them
//! (theirs, or the organisation's), and their second factor (TOTP), which they turn on by
//! proving their app shows the right code and turn off the same way.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::login::TOTP_PURPOSE;
use super::qr::{self, QrSvg};
use super::{AdminError, FormError, Nav, Staff};
use crate::crypto;
use crate::i18n::{Lang, Strings};
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
    pub t: &'static Strings,
    pub name: String,
    pub email: String,
    /// The role in words, and what it may do.
    pub role: String,
    pub role_does: String,
    /// The account's own choice (`fr`, `en`), or `""` for the organisation's.
    pub lang_choice: String,
    /// "the organisation's language (French)".
    pub org_lang: String,
    pub totp_on: bool,
    /// While setting up: (secret as typed into an app, otpauth URI, the sealed secret).
    pub setup: Option<(String, String, String)>,
    /// The otpauth URI drawn as a QR code.
    pub qr: Option<QrSvg>,
    /// How to enter the key by hand, for this account.
    pub key_hint: String,
    pub notice: Option<String>,
    pub error: Option<FormError>,
}

/// The account page; `notice` and `error` are keys of the catalogue.
fn page(
    staff: &Staff,
    setup: Option<(String, String, String)>,
    notice: Option<&str>,
    error: Option<&str>,
) -> HttpResponse {
    let t = staff.lang().strings();
    render_page(
        staff,
        setup,
        notice.map(|key| t.t(key).to_string()),
        error.map(|key| t.t(key).to_string()),
    )
}

fn render_page(
    staff: &Staff,
    setup: Option<(String, String, String)>,
    notice: Option<String>,
    error: Option<String>,
) -> HttpResponse {
    let t = staff.lang().strings();
    let org_default = staff.org_lang();
    let has_code_field = setup.is_some() || staff.user.totp_secret.is_some();
    staff.page(&AccountPage {
        nav: staff.nav(),
        t,
        name: staff.user.name.clone(),
        email: staff.user.email.clone(),
        role: t
            .t(&format!("accounts.role.{}.name", staff.role.as_str()))
            .to_string(),
        role_does: t
            .t(&format!("accounts.role.{}.does", staff.role.as_str()))
            .to_string(),
        lang_choice: staff.user.lang.clone().unwrap_or_default(),
        org_lang: t.fill(
            "accounts.account.lang_org",
            &[(
                "lang",
                t.t(&format!("accounts.lang_name.{}", org_default.code())),
            )],
        ),
        totp_on: staff.user.totp_secret.is_some(),
        qr: setup.as_ref().and_then(|(_, uri, _)| qr::draw(uri)),
        key_hint: t.fill("accounts.totp.key_hint", &[("email", &staff.user.email)]),
        setup,
        notice,
        // The summary links to the code's field where the page has one.
        error: error.map(|text| {
            let field = if has_code_field { "code" } else { "totp-title" };
            FormError::new(field, text)
        }),
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
        "enable" if staff.user.totp_secret.is_some() => {
            Ok(page(&staff, None, None, Some("accounts.totp.already_on")))
        }
        "enable" => {
            let Some(secret) = crypto::open(&state.session_key, SETUP_PURPOSE, &form.sealed) else {
                return Ok(page(
                    &staff,
                    Some(new_setup(&state, &staff)),
                    None,
                    Some("accounts.totp.setup_expired"),
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
                return Ok(page(&staff, Some(again), None, Some("accounts.totp.wrong")));
            };
            // The code that turned it on does not sign in as well.
            let id = staff.user.id;
            state
                .db(move |conn, _| crate::staff::spend_totp_step(conn, id, step))
                .await?;
            let sealed = crypto::seal(&state.session_key, TOTP_PURPOSE, &secret);
            let token = record(&state, &staff, Some(sealed), "user.totp_enabled").await?;
            Ok(redirect(&state, &token, "totp_on"))
        }
        "disable" => {
            let secret = staff
                .user
                .totp_secret
                .as_deref()
                .and_then(|s| crypto::open(&state.session_key, TOTP_PURPOSE, s));
            let Some(secret) = secret else {
                return Ok(page(&staff, None, None, Some("accounts.totp.not_on")));
            };
            let id = staff.user.id;
            let key = Throttle::totp_key(id);
            let attempt = match super::login::reserve(&state, key, None, now).await? {
                Ok(attempt) => attempt,
                Err(wait) => {
                    let t = staff.lang().strings();
                    let seconds = i64::try_from(wait.as_secs().max(1)).unwrap_or(i64::MAX);
                    let text = t.fill(
                        "accounts.code.throttled",
                        &[("wait", &t.count("accounts.seconds", seconds))],
                    );
                    return Ok(render_page(&staff, None, None, Some(text)));
                }
            };
            let (code, throttle) = (form.code.clone(), state.login_throttle.clone());
            let won = state
                .db(move |conn, _| {
                    let last = crate::staff::last_totp_step(conn, id)?;
                    let won = match totp::verify(&secret, &code, now.timestamp(), last) {
                        Some(step) => crate::staff::spend_totp_step(conn, id, step)?,
                        None => false,
                    };
                    if won {
                        throttle.succeeded(conn, attempt)?;
                    } else {
                        // The attempt stays counted: a failure.
                        drop(attempt);
                    }
                    Ok::<_, diesel::result::Error>(won)
                })
                .await?;
            if !won {
                return Ok(page(
                    &staff,
                    None,
                    None,
                    Some("accounts.totp.wrong_stays_on"),
                ));
            }
            let token = record(&state, &staff, None, "user.totp_disabled").await?;
            Ok(redirect(&state, &token, "totp_off"))
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
fn redirect(state: &State, token: &str, done: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/admin/account?done={done}"),
        ))
        .finish();
    let _ = res.add_cookie(&super::session_cookie(state, token));
    res
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// What was done, as the address after a change says it (`?done=lang`): only these words
/// reach the page, never text from the address.
fn done_notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "totp_on" => Some("accounts.totp.on_done"),
        "totp_off" => Some("accounts.totp.off_done"),
        "lang" => Some("accounts.account.lang_done"),
        _ => None,
    }
}

pub async fn show(staff: Staff, query: web::Query<Done>) -> HttpResponse {
    page(&staff, None, done_notice(query.done.as_deref()), None)
}

#[derive(Deserialize)]
pub struct LangForm {
    csrf: String,
    #[serde(default)]
    lang: String,
}

/// Saves the language the dashboard and staff mails speak to this account: `fr`, `en`, or
/// empty for the organisation's.
pub async fn set_lang(
    state: State,
    staff: Staff,
    form: web::Form<LangForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let chosen = match form.lang.as_str() {
        "" => None,
        code => Some(Lang::from_code(code).ok_or(AdminError::NotFound)?),
    };
    let id = staff.user.id;
    state
        .db(move |conn, _| users::set_lang(conn, id, chosen.map(Lang::code)))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            "/admin/account?done=lang",
        ))
        .finish())
}
