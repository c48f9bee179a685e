//! Staff accounts, for administrators: who has access with which role, and invitations.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::staff::{self, AddUserError, Role};
use crate::store::users::{self, UserRow};
use crate::web::State;

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub me: String,
    pub csrf: String,
    pub is_admin: bool,
    pub can_read_reports: bool,
    pub users: Vec<UserRow>,
    pub roles: Vec<&'static str>,
    pub error: Option<String>,
    pub invited: Option<(String, String)>,
}

async fn page(
    state: &State,
    staff: &Staff,
    error: Option<String>,
    invited: Option<(String, String)>,
) -> Result<HttpResponse, AdminError> {
    let all = state.db(|conn, _| users::list(conn)).await?;
    Ok(staff.page(&UsersPage {
        me: staff.user.name.clone(),
        csrf: staff.session.csrf.clone(),
        is_admin: true,
        can_read_reports: staff.role.can_read_reports(),
        users: all,
        roles: Role::NAMES.to_vec(),
        error,
        invited,
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
            Ok::<_, crate::error::Problem>(staff::add_user(conn, &email, &name, role, &by, now))
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
        Err(AddUserError::Store(_)) => Err(AdminError::Internal),
        Err(e) => page(&state, &staff, Some(e.to_string()), None).await,
    }
}
