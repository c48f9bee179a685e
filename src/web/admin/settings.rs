//! The effective configuration, for administrators, with every secret masked.

use actix_web::HttpResponse;
use askama::Template;

use super::{AdminError, Nav, Staff};
use crate::web::State;

#[derive(Template)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    pub nav: Nav,
    pub toml: String,
    pub backend: String,
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    Ok(staff.page(&SettingsPage {
        nav: staff.nav(),
        toml: state.settings.redacted_toml(),
        backend: format!("{:?}", state.backend),
    }))
}
