//! One name per member of staff wherever what they did is shown. The timeline, messages,
//! documents and the audit trail record the actor as `staff:<id>` (stable, and a record must
//! not change when someone is renamed); people read the account's name instead, or its email
//! when it has none, the same everywhere.

use std::collections::HashMap;

use crate::store::users::UserRow;

/// The name people see for an account: its name, or its email when it has none.
pub fn display_name(user: &UserRow) -> String {
    let name = user.name.trim();
    if name.is_empty() {
        user.email.clone()
    } else {
        name.to_string()
    }
}

/// The display names of the accounts, to read actors by.
#[derive(Debug, Default)]
pub struct Names(HashMap<i64, String>);

impl Names {
    pub fn new(users: &[UserRow]) -> Names {
        Names(users.iter().map(|u| (u.id, display_name(u))).collect())
    }

    /// `staff:<id>` as the account's display name; any other actor (`requester`, `system`,
    /// `api:<key>`), or an account that is gone, as recorded.
    pub fn of(&self, actor: &str) -> String {
        actor
            .strip_prefix("staff:")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| self.0.get(&id))
            .cloned()
            .unwrap_or_else(|| actor.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, name: &str, email: &str) -> UserRow {
        UserRow {
            id,
            email: email.into(),
            name: name.into(),
            role: "dpo".into(),
            password_hash: None,
            totp_secret: None,
            session_epoch: 0,
            disabled_at: None,
            created_at: chrono::NaiveDateTime::default(),
            last_login_at: None,
            lang: None,
        }
    }

    #[test]
    fn staff_are_named_by_their_account_and_others_as_recorded() {
        let names = Names::new(&[
            user(1, "Alice Dupont", "alice@example.org"),
            user(2, " ", "bob@example.org"),
        ]);
        assert_eq!(names.of("staff:1"), "Alice Dupont");
        assert_eq!(names.of("staff:2"), "bob@example.org", "no name: the email");
        assert_eq!(names.of("staff:9"), "staff:9", "an account that is gone");
        assert_eq!(names.of("requester"), "requester");
        assert_eq!(names.of("api:crm"), "api:crm");
    }
}
