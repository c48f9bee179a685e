//! The portal's limits (and the staff password-reset form's), counted in the database so
//! that every web node behind a load balancer counts the same hits: N nodes must not
//! multiply what one address may file. Each check is one short write (see
//! [`crate::store::limits::hit`]). Clients are stored as a keyed hash of the limit and the
//! address or mail address, never in clear.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use crate::domain::email::EmailAddress;
use crate::store::{DbConn, limits};

/// How many posts of the request form one address may make per accepted filing it is
/// allowed: only accepted filings count against the submission limit, so that a person
/// correcting their form is never locked out, and this looser bound, checked before the body
/// is read, keeps a flood of invalid posts cheap.
pub const POSTS_PER_SUBMISSION: u32 = 10;

/// Links mailed again to one address in an hour: more is never needed by the person, and
/// the page says the same whether or not they were sent.
pub const LINKS_PER_ADDRESS: u32 = 3;

/// The window every limit counts in: an hour from a client's first hit.
const WINDOW: chrono::Duration = chrono::Duration::hours(1);

/// What is counted per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Accepted filings.
    Submissions,
    /// Every post of the request form, valid or not (see [`POSTS_PER_SUBMISSION`]).
    FormPosts,
    /// Every post of a status page's forms (message, identity document), checked before
    /// the body is read, with the request form's allowance.
    PagePosts,
    /// Asks for the link again.
    LinkRequests,
    /// "Forgot your password?" forms: a count of their own, so that resets asked from an
    /// office's address never use up the portal's limits.
    PasswordResets,
}

impl Limit {
    fn name(self) -> &'static str {
        match self {
            Limit::Submissions => "submissions",
            Limit::FormPosts => "form_posts",
            Limit::PagePosts => "page_posts",
            Limit::LinkRequests => "link_requests",
            Limit::PasswordResets => "password_resets",
        }
    }

    fn allowance(self, submissions_per_hour: u32) -> u32 {
        match self {
            Limit::Submissions | Limit::LinkRequests | Limit::PasswordResets => {
                submissions_per_hour
            }
            Limit::FormPosts | Limit::PagePosts => {
                submissions_per_hour.saturating_mul(POSTS_PER_SUBMISSION)
            }
        }
    }
}

/// The limits of this deployment: `portal.submissions_per_hour` and the key clients are
/// hashed with.
#[derive(Clone)]
pub struct Limits {
    key: [u8; 32],
    submissions_per_hour: u32,
}

impl Limits {
    /// Limits whose clients are hashed with a key derived from `master` (the fulfilment key,
    /// which every node shares).
    pub fn new(master: &[u8; 32], submissions_per_hour: u32) -> Self {
        Limits {
            key: crate::crypto::subkey(master, "dsar portal limits v1"),
            submissions_per_hour,
        }
    }

    /// Counts one hit of `limit` from `ip`; false when the address is over its allowance
    /// (the hit is then not counted).
    pub fn allow(
        &self,
        conn: &mut DbConn,
        limit: Limit,
        ip: IpAddr,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let key = format!("{}:ip:{ip}", limit.name());
        self.hit(conn, &key, limit.allowance(self.submissions_per_hour), now)
    }

    /// Counts one mail of links sent again to `email`, whatever its case, so that capitals
    /// cannot get round the cap; false past [`LINKS_PER_ADDRESS`] in the hour.
    pub fn allow_links_to(
        &self,
        conn: &mut DbConn,
        email: &EmailAddress,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let key = format!("links_per_address:{}", email.as_str().to_lowercase());
        self.hit(conn, &key, LINKS_PER_ADDRESS, now)
    }

    fn hit(
        &self,
        conn: &mut DbConn,
        key: &str,
        allowance: u32,
        now: DateTime<Utc>,
    ) -> QueryResult<bool> {
        if allowance == 0 {
            return Ok(false);
        }
        let hashed = crate::crypto::hex(&crate::crypto::hmac(&self.key, key.as_bytes()));
        let allowance = i32::try_from(allowance).unwrap_or(i32::MAX);
        let now = now.naive_utc();
        Ok(limits::hit(conn, &hashed, allowance, now, now + WINDOW)?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::limits::{test_connection, test_database};

    #[test]
    fn the_limits_allow_their_quota_then_refuse() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let limits = Limits::new(&[7; 32], 3);
        let now = Utc::now();
        let ip: IpAddr = [192, 0, 2, 1].into();
        let mut allow = |limit, ip| limits.allow(conn, limit, ip, now).expect("db");
        assert!((0..3).all(|_| allow(Limit::Submissions, ip)));
        assert!(!allow(Limit::Submissions, ip));
        assert!(allow(Limit::Submissions, [192, 0, 2, 2].into()));
        // Each limit counts on its own, the posts with ten times the filings' allowance.
        assert!(allow(Limit::PasswordResets, ip));
        assert_eq!((0..40).filter(|_| allow(Limit::FormPosts, ip)).count(), 30);
        // An hour after the first filing, the address may file again.
        let later = now + WINDOW;
        assert!(
            limits
                .allow(conn, Limit::Submissions, ip, later)
                .expect("db")
        );
    }

    #[test]
    fn links_are_counted_per_address_whatever_its_case() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let limits = Limits::new(&[7; 32], 3);
        let now = Utc::now();
        let sent = [
            "dana@example.org",
            "DANA@example.org",
            "Dana@Example.org",
            "dana@EXAMPLE.ORG",
        ]
        .into_iter()
        .map(|typed| EmailAddress::parse(typed).expect("an address"))
        .filter(|email| limits.allow_links_to(conn, email, now).expect("db"))
        .count();
        assert_eq!(sent, 3);
    }

    #[test]
    fn no_allowance_allows_nothing() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let limits = Limits::new(&[7; 32], 0);
        let ip: IpAddr = [192, 0, 2, 1].into();
        assert!(
            !limits
                .allow(conn, Limit::Submissions, ip, Utc::now())
                .expect("db")
        );
    }
}
