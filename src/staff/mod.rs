//! The privacy team's accounts: roles and what they may do, argon2id passwords, invitation
//! and reset links, changes to accounts, and login throttling; the one name each member of
//! staff is shown by ([`Names`]); and the API keys of the organisation's other systems.

pub mod accounts;
pub mod api_keys;
mod names;
pub mod sessions;
mod throttle;
pub mod totp;

pub use names::{Names, display_name};
pub use throttle::{ATTEMPTS_KEPT, Attempt, Throttle, last_totp_step, spend_totp_step};

use std::sync::{Condvar, Mutex, OnceLock, PoisonError};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::crypto::{random_token, sha256_hex};
use crate::store::audit;
use crate::store::queue::Assignee;
use crate::store::users::{self, UserRow};
use crate::store::{DbConn, write_tx};

crate::domain::kind::text_enum! {
    /// What a member of staff may do.
    pub enum Role (what = "role", ignore_case = true) {
        /// Users and settings.
        Admin => "admin",
        /// Everything on requests, reports and the audit trail.
        Dpo => "dpo",
        /// Requests assigned to them, or unassigned.
        Handler => "handler",
        /// Reads, changes nothing.
        Viewer => "viewer",
    }
}

impl Role {
    pub fn can_manage_users(self) -> bool {
        self == Role::Admin
    }

    pub fn can_read_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Dpo)
    }

    /// The Reports page and the register of requests: the DPO's view of the whole team.
    pub fn can_read_reports(self) -> bool {
        matches!(self, Role::Admin | Role::Dpo)
    }

    pub fn can_act(self) -> bool {
        matches!(self, Role::Admin | Role::Dpo | Role::Handler)
    }

    /// A handler sees requests assigned to them or to nobody; the others see all.
    pub fn can_see(self, me: i64, assignee: Option<i64>) -> bool {
        match self {
            Role::Handler => assignee.is_none_or(|a| a == me),
            _ => true,
        }
    }

    /// Whether this role may give a request to `to` (`None`: to nobody). A handler takes a
    /// request or gives it back; only the DPO and administrators hand work to others.
    pub fn can_assign(self, me: i64, to: Option<i64>) -> bool {
        match self {
            Role::Handler => to.is_none_or(|id| id == me),
            other => other.can_act(),
        }
    }

    /// The requests a queue lists when `asked` is wanted: a handler's widest view is their
    /// own requests and the unassigned ones, as [`Role::can_see`] says.
    pub fn queue_scope(self, me: i64, asked: Assignee) -> Assignee {
        match (self, asked) {
            (Role::Handler, Assignee::Unassigned) => Assignee::Unassigned,
            (Role::Handler, Assignee::User(id)) if id == me => Assignee::User(me),
            (Role::Handler, _) => Assignee::MineOrUnassigned(me),
            (_, asked) => asked,
        }
    }
}

/// Whether a request may be given to this account: an active one whose role acts.
pub fn can_be_assigned(user: &UserRow) -> bool {
    user.disabled_at.is_none() && user.role.parse::<Role>().is_ok_and(Role::can_act)
}

pub const MIN_PASSWORD: usize = 12;

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many argon2 hashes run at once. Each holds its 19 MiB for the whole hash, so a burst of
/// sign-ins (or of guesses) queues here instead of adding 19 MiB per request to the server's
/// memory. One: the server's peak stays its idle size plus one hash (about 40 MiB, where two
/// made 60 under a burst of guesses), a hash takes tens of milliseconds so a team signing in
/// at nine still passes dozens a second, and a flood of guesses keeps one core at most, the
/// other serving the portal.
const HASHES_AT_ONCE: usize = 1;

static HASHING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// Runs `hash` when one of the [`HASHES_AT_ONCE`] places is free (on a blocking thread).
fn one_of_few<T>(hash: impl FnOnce() -> T) -> T {
    let (busy, freed) = &HASHING;
    {
        let mut running = busy.lock().unwrap_or_else(PoisonError::into_inner);
        while *running >= HASHES_AT_ONCE {
            running = freed.wait(running).unwrap_or_else(PoisonError::into_inner);
        }
        *running += 1;
    }
    // Given back on drop, so a hash that panics does not keep its place for ever.
    struct Place;
    impl Drop for Place {
        fn drop(&mut self) {
            let (busy, freed) = &HASHING;
            *busy.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
            freed.notify_one();
        }
    }
    let _place = Place;
    hash()
}

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes)?;
    one_of_few(|| {
        Ok(argon2()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    })
}

/// Checks a password against a stored hash; with no hash (unknown account, or one that never
/// set a password) a dummy hash is checked instead so the answer takes the same time.
pub fn verify_password(stored: Option<&str>, password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash_password("dummy password, never matches").unwrap_or_default());
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    one_of_few(|| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    }) && real
}

/// The address an account is looked up by, from what was typed at sign-in or in the reset
/// form: as [`add_user`] stores it. `None` when it cannot be an address at all (a control
/// character, a NUL that PostgreSQL would refuse): no account has it, and the database is
/// not asked.
pub fn sign_in_address(typed: &str) -> Option<String> {
    crate::domain::email::EmailAddress::parse(typed)
        .ok()
        .map(|email| email.as_str().to_lowercase())
}

/// Creates a one-time link to set a password; returns its path (`/admin/password/{token}`).
pub fn password_link(
    conn: &mut DbConn,
    user_id: i64,
    purpose: &str,
    now: DateTime<Utc>,
) -> diesel::QueryResult<String> {
    let token = random_token();
    let expires = now + chrono::Duration::days(if purpose == "invite" { 7 } else { 1 });
    users::insert_token(
        conn,
        user_id,
        &sha256_hex(&token),
        purpose,
        now.naive_utc(),
        expires.naive_utc(),
    )?;
    Ok(format!("/admin/password/{token}"))
}

#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("{0}")]
    InvalidEmail(String),
    #[error("the name {0}")]
    InvalidName(String),
    #[error("{0}")]
    Mail(String),
    #[error("an account with this address exists already")]
    Exists,
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
}

/// Invites a member of staff: the account, and the link to set a password.
pub fn add_user(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    role: Role,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(UserRow, String), AddUserError> {
    let email = crate::domain::email::EmailAddress::parse(email)
        .map_err(|e| AddUserError::InvalidEmail(e.to_string()))?;
    let email = email.as_str().to_lowercase();
    if !name.trim().is_empty() {
        crate::domain::text::check(name.trim(), crate::domain::text::TextKind::Name)
            .map_err(|fault| AddUserError::InvalidName(fault.to_string()))?;
    }
    write_tx(conn, |conn| {
        if users::find_by_email(conn, &email)?.is_some() {
            return Err(AddUserError::Exists);
        }
        let name = if name.trim().is_empty() {
            email.split('@').next().unwrap_or("")
        } else {
            name.trim()
        };
        let user = users::insert(conn, &email, name, role.as_str(), now.naive_utc())?;
        let link = password_link(conn, user.id, "invite", now)?;
        audit::on_user(
            conn,
            user.id,
            by,
            "user.invite",
            &json!({ "role": role.as_str() }),
            now.naive_utc(),
        )?;
        Ok((user, link))
    })
}

/// What an invitation mail needs from the settings.
pub struct Inviting<'a> {
    /// The organisation's name, as the mail shows it.
    pub organisation: &'a str,
    /// `organisation.base_url`, without its trailing slash: the link is absolute.
    pub base_url: &'a str,
    /// The language of the mail and of the account: the one chosen for them, else the
    /// organisation's.
    pub lang: crate::i18n::Lang,
    /// Whether that language was chosen for them (it is then the account's own choice).
    pub chosen: bool,
    /// Who invites, by name.
    pub invited_by: &'a str,
}

/// Invites a member of staff and mails them the invitation, in one transaction: the account
/// (with the language chosen for it), the link to set a password, the audit entry and the
/// mail in the outbox. Returns the account and the link's path (shown to the administrator
/// too, should the mail not arrive).
pub fn invite(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    role: Role,
    by: &str,
    inviting: &Inviting<'_>,
    now: DateTime<Utc>,
) -> Result<(UserRow, String), AddUserError> {
    write_tx(conn, |conn| {
        let (user, path) = add_user(conn, email, name, role, by, now)?;
        if inviting.chosen {
            users::set_lang(conn, user.id, Some(inviting.lang.code()))?;
        }
        let link = format!("{}{path}", inviting.base_url);
        crate::mail::queue_staff(
            conn,
            &crate::mail::StaffMail::Invitation {
                name: &display_name(&user),
                link: &link,
                role: role.as_str(),
                invited_by: inviting.invited_by,
            },
            &user.email,
            inviting.lang,
            inviting.organisation,
            now.naive_utc(),
        )
        .map_err(|e| match e {
            crate::mail::MailError::Store(e) => AddUserError::Store(e),
            other => AddUserError::Mail(other.to_string()),
        })?;
        Ok((user, path))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_run_one_at_a_time_and_a_panic_gives_its_place_back() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let panicked =
            std::thread::spawn(|| one_of_few::<()>(|| panic!("a hash that fails"))).join();
        assert!(panicked.is_err());
        let threads: Vec<_> = (0..6)
            .map(|_| {
                std::thread::spawn(|| {
                    one_of_few(|| {
                        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                        MOST.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        RUNNING.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().is_ok());
        }
        assert_eq!(MOST.load(Ordering::SeqCst), HASHES_AT_ONCE);
    }

    #[test]
    fn passwords_verify_and_unknown_accounts_never_do() {
        let hash = hash_password("correct horse battery staple").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(&hash), "correct horse battery staple"));
        assert!(!verify_password(
            Some(&hash),
            "Correct horse battery staple"
        ));
        assert!(!verify_password(None, "dummy password, never matches"));
    }

    #[test]
    fn sign_in_addresses_are_stored_ones_or_none() {
        assert_eq!(
            sign_in_address(" Dana@Example.ORG ").as_deref(),
            Some("dana@example.org")
        );
        for typed in [
            "dana\0@example.org",
            "dana@exa\r\nmple.org",
            "da\u{7f}na@example.org",
            "",
        ] {
            assert_eq!(sign_in_address(typed), None, "{typed:?}");
        }
    }

    #[test]
    fn handlers_see_their_own_and_unassigned_requests() {
        assert!(Role::Handler.can_see(1, None));
        assert!(Role::Handler.can_see(1, Some(1)));
        assert!(!Role::Handler.can_see(1, Some(2)));
        assert!(Role::Viewer.can_see(1, Some(2)));
        assert!(!Role::Viewer.can_act());
    }

    #[test]
    fn handlers_take_or_give_back_and_the_dpo_hands_work_out() {
        assert!(Role::Handler.can_assign(1, Some(1)));
        assert!(Role::Handler.can_assign(1, None));
        assert!(!Role::Handler.can_assign(1, Some(2)));
        for role in [Role::Dpo, Role::Admin] {
            assert!(role.can_assign(1, Some(2)));
            assert!(role.can_assign(1, None));
        }
        assert!(!Role::Viewer.can_assign(1, Some(1)));
    }

    #[test]
    fn a_handlers_queue_holds_their_requests_and_unassigned_ones() {
        let mine = Assignee::MineOrUnassigned(1);
        assert_eq!(Role::Handler.queue_scope(1, Assignee::Anyone), mine);
        assert_eq!(Role::Handler.queue_scope(1, Assignee::User(2)), mine);
        assert_eq!(
            Role::Handler.queue_scope(1, Assignee::User(1)),
            Assignee::User(1)
        );
        assert_eq!(
            Role::Handler.queue_scope(1, Assignee::Unassigned),
            Assignee::Unassigned
        );
        for role in [Role::Dpo, Role::Admin, Role::Viewer] {
            assert_eq!(role.queue_scope(1, Assignee::Anyone), Assignee::Anyone);
            assert_eq!(role.queue_scope(1, Assignee::User(2)), Assignee::User(2));
        }
    }

    #[test]
    fn requests_go_to_active_accounts_whose_role_acts() {
        let at = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let user = |role: &str, disabled_at| UserRow {
            id: 1,
            email: "a@example.org".into(),
            name: "A".into(),
            role: role.into(),
            password_hash: None,
            totp_secret: None,
            session_epoch: 0,
            disabled_at,
            created_at: at,
            last_login_at: None,
            lang: None,
        };
        assert!(can_be_assigned(&user("handler", None)));
        assert!(can_be_assigned(&user("dpo", None)));
        assert!(!can_be_assigned(&user("handler", Some(at))));
        assert!(!can_be_assigned(&user("viewer", None)));
        assert!(!can_be_assigned(&user("unknown", None)));
    }

    #[test]
    fn only_the_dpo_and_administrators_read_reports() {
        assert!(Role::Admin.can_read_reports());
        assert!(Role::Dpo.can_read_reports());
        assert!(!Role::Handler.can_read_reports());
        assert!(!Role::Viewer.can_read_reports());
    }
}
