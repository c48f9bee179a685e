//! Changes an administrator makes to staff accounts: a role, disabled or enabled again, the
//! second factor reset, a new password link. Nobody changes their own role or disables
//! themselves, and the last active administrator stays one, so the organisation cannot lock
//! itself out. Every change is audited.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::Role;
use crate::store::audit;
use crate::store::users::{self, UserRow};
use crate::store::{DbConn, write_tx};

/// Who makes a change: their account, and the actor the audit trail names.
#[derive(Debug, Clone, Copy)]
pub struct ChangedBy<'a> {
    pub user_id: i64,
    pub actor: &'a str,
}

/// Why a change was refused, in words for the administrator who asked for it.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("No such account.")]
    NoSuchAccount,
    #[error("You cannot change your own role; ask another administrator.")]
    OwnRole,
    #[error("You cannot disable your own account.")]
    OwnAccountDisabled,
    #[error("This is the last active administrator: make someone else an administrator first.")]
    LastAdministratorDemoted,
    #[error("This is the last active administrator: it cannot be disabled.")]
    LastAdministratorDisabled,
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
}

/// Runs `change` on account `id` in one transaction, after every other change to accounts.
fn in_turn<T>(
    conn: &mut DbConn,
    id: i64,
    change: impl FnOnce(&mut DbConn, UserRow) -> Result<T, AccountError>,
) -> Result<T, AccountError> {
    write_tx(conn, |conn| {
        // Account changes take turns, so two admins demoting each other at once cannot both
        // pass the last-admin check.
        users::lock_account_changes(conn)?;
        let user = users::find(conn, id)?.ok_or(AccountError::NoSuchAccount)?;
        change(conn, user)
    })
}

/// Whether `user` is the only active administrator left.
fn last_administrator(conn: &mut DbConn, user: &UserRow) -> Result<bool, AccountError> {
    let admins = users::count_active_with_role(conn, Role::Admin.as_str())?;
    Ok(user.role == Role::Admin.as_str() && user.disabled_at.is_none() && admins <= 1)
}

/// Gives account `id` a new role (its sessions end, so the new rights apply at once).
/// Returns the account as it was.
pub fn change_role(
    conn: &mut DbConn,
    id: i64,
    role: Role,
    by: ChangedBy<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow, AccountError> {
    in_turn(conn, id, |conn, user| {
        if id == by.user_id {
            return Err(AccountError::OwnRole);
        }
        if role != Role::Admin && last_administrator(conn, &user)? {
            return Err(AccountError::LastAdministratorDemoted);
        }
        users::set_role(conn, id, role.as_str())?;
        let details = json!({ "from": user.role, "to": role.as_str() });
        audit::on_user(conn, id, by.actor, "user.role", &details, now.naive_utc())?;
        Ok(user)
    })
}

/// Enables account `id` again, or disables it and ends its sessions. Returns the account as
/// it was.
pub fn set_active(
    conn: &mut DbConn,
    id: i64,
    active: bool,
    by: ChangedBy<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow, AccountError> {
    in_turn(conn, id, |conn, user| {
        let action = if active {
            users::set_disabled(conn, id, None)?;
            "user.enable"
        } else {
            if id == by.user_id {
                return Err(AccountError::OwnAccountDisabled);
            }
            if last_administrator(conn, &user)? {
                return Err(AccountError::LastAdministratorDisabled);
            }
            users::set_disabled(conn, id, Some(now.naive_utc()))?;
            "user.disable"
        };
        audit::on_user(conn, id, by.actor, action, &json!({}), now.naive_utc())?;
        Ok(user)
    })
}

/// Removes the second factor of account `id` and ends its sessions: they sign in with their
/// password and may set it up again. Returns the account as it was.
pub fn reset_second_factor(
    conn: &mut DbConn,
    id: i64,
    by: ChangedBy<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow, AccountError> {
    in_turn(conn, id, |conn, user| {
        users::set_totp(conn, id, None)?;
        users::bump_epoch(conn, id)?;
        audit::on_user(
            conn,
            id,
            by.actor,
            "user.totp_reset",
            &json!({}),
            now.naive_utc(),
        )?;
        Ok(user)
    })
}

/// A new one-time link for account `id` to set its password. Returns the account and the
/// link's path.
pub fn new_password_link(
    conn: &mut DbConn,
    id: i64,
    by: ChangedBy<'_>,
    now: DateTime<Utc>,
) -> Result<(UserRow, String), AccountError> {
    in_turn(conn, id, |conn, user| {
        let path = super::password_link(conn, id, "reset", now)?;
        let details = json!({});
        audit::on_user(
            conn,
            id,
            by.actor,
            "user.password_link",
            &details,
            now.naive_utc(),
        )?;
        Ok((user, path))
    })
}
