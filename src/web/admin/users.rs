//! Staff accounts, for administrators: who has access with which role, and invitations.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, Staff};
use crate::staff::{self, AddUserError, Role};
use crate::store::audit;
use crate::store::users::{self, UserRow};
use crate::store::write_tx;
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
    let form = form.into_inner();
    let (actor, me, now) = (staff.actor(), staff.user.id, state.clock.now());
    let outcome = state
        .db(move |conn, _| {
            write_tx(conn, |conn| -> Result<Change, crate::web::error::Problem> {
                // Account changes take turns, so two admins demoting each other at once cannot
                // both pass the last-admin check (SQLite's immediate transaction already does).
                if let crate::store::DbConn::Postgres(pg) = conn {
                    use diesel::RunQueryDsl;
                    diesel::sql_query("SELECT pg_advisory_xact_lock(7306285412)").execute(pg)?;
                }
                let Some(user) = users::find(conn, id)? else {
                    return Ok(Err("No such account.".into()));
                };
                let admins = users::count_active_with_role(conn, Role::Admin.as_str())?;
                let last_admin = user.role == Role::Admin.as_str() && user.disabled_at.is_none() && admins <= 1;
                let mut link = None;
                let (action, details, done) = match form.action.as_str() {
                    "role" => {
                        let Ok(role) = form.role.parse::<Role>() else {
                            return Ok(Err(format!("Unknown role \"{}\".", form.role)));
                        };
                        if id == me {
                            return Ok(Err("You cannot change your own role; ask another administrator.".into()));
                        }
                        if last_admin && role != Role::Admin {
                            return Ok(Err("This is the last active administrator: make someone else an administrator first.".into()));
                        }
                        users::set_role(conn, id, role.as_str())?;
                        ("user.role", json!({ "from": user.role, "to": role.as_str() }), format!("{} is now {}.", user.email, role.as_str()))
                    }
                    "disable" => {
                        if id == me {
                            return Ok(Err("You cannot disable your own account.".into()));
                        }
                        if last_admin {
                            return Ok(Err("This is the last active administrator: it cannot be disabled.".into()));
                        }
                        users::set_disabled(conn, id, Some(now.naive_utc()))?;
                        ("user.disable", json!({}), format!("{} is disabled and signed out everywhere.", user.email))
                    }
                    "enable" => {
                        users::set_disabled(conn, id, None)?;
                        ("user.enable", json!({}), format!("{} can sign in again.", user.email))
                    }
                    "reset_2fa" => {
                        users::set_totp(conn, id, None)?;
                        users::bump_epoch(conn, id)?;
                        ("user.totp_reset", json!({}), format!("Two-factor sign-in of {} is reset: they sign in with their password and can set it up again.", user.email))
                    }
                    "link" => {
                        let path = staff::password_link(conn, id, "reset", now)?;
                        link = Some((user.email.clone(), path));
                        ("user.password_link", json!({}), format!("A new one-time link for {} is below.", user.email))
                    }
                    other => return Ok(Err(format!("Unknown change \"{other}\"."))),
                };
                audit::on_user(conn, id, &actor, action, &details, now.naive_utc())?;
                Ok(Ok((done, link)))
            })
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
