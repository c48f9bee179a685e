//! Staff accounts, for administrators: who has access with which role (and what each role
//! may do), invitations mailed to the person, and changes to an account.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminError, FormError, Staff};
use crate::i18n::{Lang, Strings, local_time};
use crate::staff::accounts::{self, AccountError, ChangedBy};
use crate::staff::{self, AddUserError, Inviting, Role};
use crate::store::users::{self, UserRow};
use crate::web::State;

/// One account as the table shows it, in words.
pub struct Member {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub role_words: String,
    pub disabled: bool,
    pub state: String,
    pub totp: String,
    pub has_totp: bool,
    pub last_sign_in: String,
    pub me: bool,
}

/// A role, its name and what it may do.
pub struct RoleWords {
    pub code: &'static str,
    pub name: String,
    pub does: String,
}

/// What the invitation form holds: blank, or as typed when it comes back.
#[derive(Default)]
pub struct InviteTyped {
    pub email: String,
    pub name: String,
    pub role: String,
    pub lang: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub nav: super::Nav,
    pub t: &'static Strings,
    pub csrf: String,
    pub members: Vec<Member>,
    pub roles: Vec<RoleWords>,
    /// "the organisation's language (French)".
    pub org_lang: String,
    pub typed: InviteTyped,
    pub error: Option<FormError>,
    /// A one-time link shown to the administrator: (for whom, the link, mailed or not).
    pub link: Option<(String, String, bool)>,
    pub notice: Option<String>,
}

fn role_words(t: &Strings, role: &str) -> (String, String) {
    (
        t.t(&format!("accounts.role.{role}.name")).to_string(),
        t.t(&format!("accounts.role.{role}.does")).to_string(),
    )
}

fn member(state: &State, t: &Strings, lang: Lang, me: i64, user: UserRow) -> Member {
    let role = Role::ALL
        .into_iter()
        .find(|r| r.as_str() == user.role)
        .map_or("viewer", Role::as_str);
    let state_key = if user.disabled_at.is_some() {
        "accounts.users.state_disabled"
    } else if user.password_hash.is_none() {
        "accounts.users.state_invited"
    } else {
        "accounts.users.state_active"
    };
    let zone = state.law.time_zone;
    Member {
        id: user.id,
        role,
        role_words: role_words(t, role).0,
        disabled: user.disabled_at.is_some(),
        state: t.t(state_key).to_string(),
        has_totp: user.totp_secret.is_some(),
        totp: t
            .t(if user.totp_secret.is_some() {
                "accounts.totp.state_on"
            } else {
                "accounts.totp.state_off"
            })
            .to_string(),
        last_sign_in: match user.last_login_at {
            Some(at) => local_time(at.and_utc(), zone, lang),
            None => t.t("accounts.users.never").to_string(),
        },
        me: user.id == me,
        name: user.name,
        email: user.email,
    }
}

/// The page, with what the last action said.
async fn page(
    state: &State,
    staff: &Staff,
    typed: InviteTyped,
    error: Option<FormError>,
    link: Option<(String, String, bool)>,
    notice: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let all = state.db(|conn, _| users::list(conn)).await?;
    let lang = staff.lang();
    let t = lang.strings();
    let members = all
        .into_iter()
        .map(|u| member(state, t, lang, staff.user.id, u))
        .collect();
    let roles = Role::ALL
        .into_iter()
        .map(|r| {
            let (name, does) = role_words(t, r.as_str());
            RoleWords {
                code: r.as_str(),
                name,
                does,
            }
        })
        .collect();
    Ok(staff.page(&UsersPage {
        nav: staff.nav(),
        t,
        csrf: staff.session.csrf.clone(),
        members,
        roles,
        org_lang: t.fill(
            "accounts.account.lang_org",
            &[(
                "lang",
                t.t(&format!("accounts.lang_name.{}", staff.org_lang().code())),
            )],
        ),
        typed,
        error,
        link,
        notice,
    }))
}

pub async fn list(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    page(&state, &staff, InviteTyped::default(), None, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    #[serde(default)]
    name: String,
    role: String,
    #[serde(default)]
    lang: String,
    csrf: String,
}

pub async fn invite(
    state: State,
    staff: Staff,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let form = form.into_inner();
    let t = staff.lang().strings();
    let typed = InviteTyped {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role.clone(),
        lang: form.lang.clone(),
    };
    let Ok(role) = form.role.parse::<Role>() else {
        let error = FormError::new("invite-role", t.t("accounts.users.bad_role"));
        return page(&state, &staff, typed, Some(error), None, None).await;
    };
    let chosen = Lang::from_code(&form.lang);
    let (email, name, by, now) = (
        form.email.clone(),
        form.name.clone(),
        staff.actor(),
        state.clock.now(),
    );
    let invited_by = staff::display_name(&staff.user);
    let lang = chosen.unwrap_or_else(|| staff.org_lang());
    let added = state
        .db(move |conn, app| {
            let inviting = Inviting {
                organisation: &app.settings.organisation.name,
                base_url: app.settings.base_url(),
                lang,
                chosen: chosen.is_some(),
                invited_by: &invited_by,
            };
            Ok::<_, crate::web::error::Problem>(staff::invite(
                conn, &email, &name, role, &by, &inviting, now,
            ))
        })
        .await?;
    let refused = |field: &'static str, key: &str| Some(FormError::new(field, t.t(key)));
    match added {
        Ok((user, path)) => {
            let link = format!("{}{path}", state.settings.base_url());
            let notice = t.fill("accounts.users.invited", &[("email", &user.email)]);
            let shown = Some((user.email, link, true));
            page(
                &state,
                &staff,
                InviteTyped::default(),
                None,
                shown,
                Some(notice),
            )
            .await
        }
        Err(AddUserError::Store(e)) => {
            tracing::error!(error = %e, "cannot add a user");
            Err(AdminError::Internal)
        }
        Err(AddUserError::Exists) => {
            let error = refused("invite-email", "accounts.users.exists");
            page(&state, &staff, typed, error, None, None).await
        }
        Err(AddUserError::InvalidEmail(_)) => {
            let error = refused("invite-email", "accounts.users.bad_email");
            page(&state, &staff, typed, error, None, None).await
        }
        Err(AddUserError::InvalidName(_)) => {
            let error = refused("invite-name", "accounts.users.bad_name");
            page(&state, &staff, typed, error, None, None).await
        }
        Err(AddUserError::Mail(e)) => {
            tracing::error!(error = %e, "cannot write the invitation");
            Err(AdminError::Internal)
        }
    }
}

/// What the change did and, for a new link, (email, path); or why it was refused.
type Change = Result<(String, Option<(String, String)>), String>;

#[derive(Deserialize)]
pub struct ChangeForm {
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    role: String,
}

/// The changes the users page offers.
enum Requested {
    Role(Role),
    Disable,
    Enable,
    ResetSecondFactor,
    PasswordLink,
}

fn parse_change(form: &ChangeForm) -> Option<Requested> {
    Some(match form.action.as_str() {
        "role" => Requested::Role(form.role.parse::<Role>().ok()?),
        "disable" => Requested::Disable,
        "enable" => Requested::Enable,
        "reset_2fa" => Requested::ResetSecondFactor,
        "link" => Requested::PasswordLink,
        _ => return None,
    })
}

/// A refusal in the administrator's words.
fn refusal(t: &Strings, error: &AccountError) -> String {
    let key = match error {
        AccountError::NoSuchAccount => "accounts.users.no_such_account",
        AccountError::OwnRole => "accounts.users.own_role",
        AccountError::OwnAccountDisabled => "accounts.users.own_disable",
        AccountError::LastAdministratorDemoted => "accounts.users.last_admin_demoted",
        AccountError::LastAdministratorDisabled => "accounts.users.last_admin_disabled",
        AccountError::Store(_) => "accounts.failed",
    };
    t.t(key).to_string()
}

/// Changes one account: its role, disabled or not, its second factor reset, or a new link
/// to set its password. Every change ends the account's sessions and is audited.
pub async fn change(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let id = id.into_inner();
    let t = staff.lang().strings();
    let Some(requested) = parse_change(&form) else {
        let error = FormError::new("members", t.t("accounts.users.bad_change"));
        return page(
            &state,
            &staff,
            InviteTyped::default(),
            Some(error),
            None,
            None,
        )
        .await;
    };
    let (actor, me, now) = (staff.actor(), staff.user.id, state.clock.now());
    let outcome = state
        .db(
            move |conn, _| -> Result<Change, crate::web::error::Problem> {
                let by = ChangedBy {
                    user_id: me,
                    actor: &actor,
                };
                let done = match requested {
                    Requested::Role(role) => {
                        accounts::change_role(conn, id, role, by, now).map(|u| {
                            let (words, _) = role_words(t, role.as_str());
                            let done = t.fill(
                                "accounts.users.role_done",
                                &[("email", &u.email), ("role", &words)],
                            );
                            (done, None)
                        })
                    }
                    Requested::Disable => accounts::set_active(conn, id, false, by, now).map(|u| {
                        let done = t.fill("accounts.users.disabled_done", &[("email", &u.email)]);
                        (done, None)
                    }),
                    Requested::Enable => accounts::set_active(conn, id, true, by, now).map(|u| {
                        let done = t.fill("accounts.users.enabled_done", &[("email", &u.email)]);
                        (done, None)
                    }),
                    Requested::ResetSecondFactor => {
                        accounts::reset_second_factor(conn, id, by, now).map(|u| {
                            let done =
                                t.fill("accounts.users.totp_reset_done", &[("email", &u.email)]);
                            (done, None)
                        })
                    }
                    Requested::PasswordLink => {
                        accounts::new_password_link(conn, id, by, now).map(|(u, path)| {
                            let done = t.fill("accounts.users.link_done", &[("email", &u.email)]);
                            (done, Some((u.email, path)))
                        })
                    }
                };
                match done {
                    Ok(done) => Ok(Ok(done)),
                    Err(AccountError::Store(e)) => Err(e.into()),
                    Err(refused) => Ok(Err(refusal(t, &refused))),
                }
            },
        )
        .await?;
    match outcome {
        Ok((done, link)) => {
            let base = state.settings.base_url().to_string();
            let link = link.map(|(email, path)| (email, format!("{base}{path}"), false));
            page(
                &state,
                &staff,
                InviteTyped::default(),
                None,
                link,
                Some(done),
            )
            .await
        }
        Err(error) => {
            let error = FormError::new("members", error);
            page(
                &state,
                &staff,
                InviteTyped::default(),
                Some(error),
                None,
                None,
            )
            .await
        }
    }
}
