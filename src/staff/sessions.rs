//! Staff sessions, kept in the database so that every web node sees the same ones: opened at
//! sign-in, checked on every dashboard request (idle and absolute timeouts, the account's
//! epoch, a disabled account), ended by signing out (this browser) or everywhere (every
//! browser of the account). The browser holds a random token; the database only its hash, so
//! a copy of the table opens no session.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::{random_token, sha256_hex};
use crate::store::sessions::{self as rows, SessionRow};
use crate::store::users::{self, UserRow};
use crate::store::{DbConn, write_tx};

/// The last-seen time is written at most this often: the idle timeout needs no finer clock,
/// and a page view then costs one read, not a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// How long sessions last (`[security]` in the settings).
#[derive(Debug, Clone, Copy)]
pub struct Lifetime {
    /// A session left unused this long ends (up to [`TOUCH_EVERY`] early).
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Lifetime {
    pub fn from_settings(security: &crate::config::Security) -> Self {
        Lifetime {
            idle: Duration::minutes(i64::from(security.session_idle_minutes)),
            absolute: Duration::hours(i64::from(security.session_absolute_hours)),
        }
    }
}

/// A session just opened: `token` goes in the browser's cookie, and nowhere else.
pub struct Opened {
    pub id: i64,
    pub token: String,
}

/// Opens a session for `user`, under the account's current epoch.
pub fn open(conn: &mut DbConn, user: &UserRow, now: DateTime<Utc>) -> diesel::QueryResult<Opened> {
    let token = random_token();
    let id = rows::insert(
        conn,
        &sha256_hex(&token),
        user.id,
        user.session_epoch,
        now.naive_utc(),
    )?;
    Ok(Opened { id, token })
}

/// The session a cookie's token opens, with its account, if it is still in force; its
/// last-seen time moves on (at most once a minute).
pub fn find(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
    lifetime: Lifetime,
) -> diesel::QueryResult<Option<(SessionRow, UserRow)>> {
    let Some((session, user)) = rows::find_with_user(conn, &sha256_hex(token))? else {
        return Ok(None);
    };
    if !in_force(&session, &user, now, lifetime) {
        return Ok(None);
    }
    if now.naive_utc() - session.last_seen_at >= TOUCH_EVERY {
        rows::touch(conn, session.id, now.naive_utc())?;
    }
    Ok(Some((session, user)))
}

/// Whether a session still opens the dashboard.
pub fn in_force(session: &SessionRow, user: &UserRow, now: DateTime<Utc>, life: Lifetime) -> bool {
    let now = now.naive_utc();
    session.ended_at.is_none()
        && session.epoch == user.session_epoch
        && user.disabled_at.is_none()
        && now - session.last_seen_at <= life.idle
        && now - session.created_at <= life.absolute
}

/// Signing out: this session ends, on every node.
pub fn end(conn: &mut DbConn, id: i64, now: DateTime<Utc>) -> diesel::QueryResult<()> {
    rows::end(conn, id, now.naive_utc())
}

/// Signing out everywhere: every session of the account ends, and the pending second steps
/// of sign-ins begun under the old epoch with it.
pub fn end_everywhere(
    conn: &mut DbConn,
    user_id: i64,
    now: DateTime<Utc>,
) -> diesel::QueryResult<usize> {
    write_tx(conn, |conn| {
        users::bump_epoch(conn, user_id)?;
        rows::end_all_for(conn, user_id, now.naive_utc())
    })
}

/// The CSRF token of a session's forms: derived from its token, so nothing more is stored,
/// and one-way, so a token seen in a page opens no session.
pub fn csrf_token(token: &str) -> String {
    sha256_hex(&format!("csrf:{token}"))
}

/// Deletes the sessions that can no longer be used (the purge's share).
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>, life: Lifetime) -> diesel::QueryResult<usize> {
    let now = now.naive_utc();
    rows::delete_spent(conn, now - life.idle, now - life.absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minutes)
    }

    fn user(epoch: i32) -> UserRow {
        UserRow {
            id: 1,
            email: "dana@example.org".into(),
            name: "Dana".into(),
            role: "dpo".into(),
            password_hash: None,
            totp_secret: None,
            session_epoch: epoch,
            disabled_at: None,
            created_at: at(0).naive_utc(),
            last_login_at: None,
            lang: None,
        }
    }

    fn session(opened: i64, seen: i64) -> SessionRow {
        SessionRow {
            id: 1,
            user_id: 1,
            epoch: 0,
            created_at: at(opened).naive_utc(),
            last_seen_at: at(seen).naive_utc(),
            ended_at: None,
        }
    }

    const LIFE: Lifetime = Lifetime {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    };

    #[test]
    fn a_session_ends_idle_old_signed_out_or_with_its_account() {
        assert!(in_force(&session(0, 0), &user(0), at(30), LIFE));
        assert!(!in_force(&session(0, 0), &user(0), at(31), LIFE), "idle");
        assert!(
            !in_force(&session(0, 12 * 60), &user(0), at(12 * 60 + 1), LIFE),
            "past the absolute limit"
        );
        assert!(!in_force(&session(0, 0), &user(1), at(1), LIFE), "epoch");
        let ended = SessionRow {
            ended_at: Some(at(1).naive_utc()),
            ..session(0, 0)
        };
        assert!(!in_force(&ended, &user(0), at(2), LIFE), "signed out");
        let disabled = UserRow {
            disabled_at: Some(at(1).naive_utc()),
            ..user(0)
        };
        assert!(
            !in_force(&session(0, 0), &disabled, at(2), LIFE),
            "disabled"
        );
    }

    #[test]
    fn the_csrf_token_is_not_the_session_token_nor_its_stored_hash() {
        let token = random_token();
        let csrf = csrf_token(&token);
        assert_ne!(csrf, token);
        assert_ne!(csrf, sha256_hex(&token));
        assert_eq!(csrf, csrf_token(&token));
    }
}
