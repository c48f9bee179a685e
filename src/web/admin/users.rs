//! Staff accounts, for administrators: who has access with which role, and invitations.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::staff::accounts::{self, AccountError, ChangedBy};
use crate::staff::{self, AddUserError, Role};
use crate::store::users::{self, UserRow};
use crate::web::State;

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub nav: super::Nav,
    pub csrf: String,
    pub users: Vec<UserRow>,
    pub roles: Vec<&'static str>,
    pub error: Option<String>,
    pub invited: Option<(String, String)>,
    pub notice: Option<String>,
    pub my_id: i64,
}

async fn page(
    state: &State,
    staff: &Staff,
    error: Option<String>,
    invited: Option<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let all = state.db(|conn, _| users::list(conn)).await?;
    Ok(staff.page(&UsersPage {
        nav: staff.nav(),
        csrf: staff.session.csrf.clone(),
        users: all,
        roles: Role::NAMES.to_vec(),
        error,
        invited,
        notice: None,
        my_id: staff.user.id,
    }))
}

pub async fn list(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    page(&state, &staff, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    name: String,
    role: String,
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
    let Ok(role) = form.role.parse::<Role>() else {
        return page(
            &state,
            &staff,
            Some(format!("Unknown role \"{}\".", form.role)),
            None,
        )
        .await;
    };
    let (email, name, by, now) = (
        form.email.clone(),
        form.name.clone(),
        staff.actor(),
        state.clock.now(),
    );
    let added = state
        .db(move |conn, _| {
            Ok::<_, crate::web::error::Problem>(staff::add_user(
                conn, &email, &name, role, &by, now,
            ))
        })
        .await?;
    match added {
        Ok((user, link)) => {
            page(
                &state,
                &staff,
                None,
                Some((user.email, format!("{}{link}", state.settings.base_url()))),
            )
            .await
        }
        Err(AddUserError::Store(e)) => {
            tracing::error!(error = %e, "cannot add a user");
            Err(AdminError::Internal)
        }
        Err(e) => page(&state, &staff, Some(e.to_string()), None).await,
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

fn parse_change(form: &ChangeForm) -> Result<Requested, String> {
    Ok(match form.action.as_str() {
        "role" => Requested::Role(
            form.role
                .parse::<Role>()
                .map_err(|_| format!("Unknown role \"{}\".", form.role))?,
        ),
        "disable" => Requested::Disable,
        "enable" => Requested::Enable,
        "reset_2fa" => Requested::ResetSecondFactor,
        "link" => Requested::PasswordLink,
        other => return Err(format!("Unknown change \"{other}\".")),
    })
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
    let requested = match parse_change(&form) {
        Ok(r) => r,
        Err(error) => return page(&state, &staff, Some(error), None).await,
    };
    let (actor, me, now) = (staff.actor(), staff.user.id, state.clock.now());
    let outcome = state
        .db(move |conn, _| -> Result<Change, crate::web::error::Problem> {
            let by = ChangedBy {
                user_id: me,
                actor: &actor,
            };
            let done = match requested {
                Requested::Role(role) => accounts::change_role(conn, id, role, by, now)
                    .map(|u| (format!("{} is now {}.", u.email, role.as_str()), None)),
                Requested::Disable => accounts::set_active(conn, id, false, by, now).map(|u| {
                    (
                        format!("{} is disabled and signed out everywhere.", u.email),
                        None,
                    )
                }),
                Requested::Enable => accounts::set_active(conn, id, true, by, now)
                    .map(|u| (format!("{} can sign in again.", u.email), None)),
                Requested::ResetSecondFactor => accounts::reset_second_factor(conn, id, by, now)
                    .map(|u| {
                        (
                            format!(
                                "Two-factor sign-in of {} is reset: they sign in with their password and can set it up again.",
                                u.email
                            ),
                            None,
                        )
                    }),
                Requested::PasswordLink => {
                    accounts::new_password_link(conn, id, by, now).map(|(u, path)| {
                        (
                            format!("A new one-time link for {} is below.", u.email),
                            Some((u.email, path)),
                        )
                    })
                }
            };
            match done {
                Ok(done) => Ok(Ok(done)),
                Err(AccountError::Store(e)) => Err(e.into()),
                Err(refused) => Ok(Err(refused.to_string())),
            }
        })
        .await?;
    match outcome {
        Ok((done, link)) => {
            let all = state.db(|conn, _| users::list(conn)).await?;
            let base = state.settings.base_url().to_string();
            Ok(staff.page(&UsersPage {
                nav: staff.nav(),
                csrf: staff.session.csrf.clone(),
                users: all,
                roles: Role::NAMES.to_vec(),
                error: None,
                invited: link.map(|(email, path)| (email, format!("{base}{path}"))),
                notice: Some(done),
                my_id: staff.user.id,
            }))
        }
        Err(error) => page(&state, &staff, Some(error), None).await,
    }
}
