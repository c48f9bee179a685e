//! Requesters' email addresses: checked once at the door, so that every
//! address the workflow holds can be written to and compared.
//!
//! The check is deliberately plainer than RFC 5322: quoted local parts,
//! comments and IP-literal domains are refused, as no requester needs them
//! and they are a classic route for header injection. Internationalised
//! addresses (RFC 6531: non-ASCII letters, IDN domains) are accepted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// RFC 5321 § 4.5.3.1.1: at most 64 octets before the @.
const MAX_LOCAL_BYTES: usize = 64;
/// RFC 5321 § 4.5.3.1.3 (path of 256 octets less the angle brackets).
const MAX_TOTAL_BYTES: usize = 254;
/// RFC 1035 § 2.3.4: at most 63 octets per label.
const MAX_LABEL_BYTES: usize = 63;
/// Characters with a syntactic meaning in RFC 5322 that are only legal
/// inside a quoted local part.
const LOCAL_SPECIALS: &[char] = &['"', '(', ')', ',', ':', ';', '<', '>', '[', '\\', ']'];

/// A checked email address. The domain is lowercased (domains are
/// case-insensitive); the local part keeps its case, which the receiving
/// server may honour.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// What is wrong with an address. Messages never repeat the address: it is
/// personal data and errors end up in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InvalidEmail {
    #[error("the email address is empty")]
    Empty,
    #[error("the email address contains a space or a control character")]
    Whitespace,
    #[error("the email address is missing an @")]
    MissingAt,
    #[error("the email address has more than one @")]
    SeveralAt,
    #[error("the email address is longer than {MAX_TOTAL_BYTES} characters")]
    TooLong,
    #[error("the email address has nothing before the @")]
    EmptyLocalPart,
    #[error("the email address has more than {MAX_LOCAL_BYTES} characters before the @")]
    LocalPartTooLong,
    #[error(
        "the email address has a dot at the start or end of the part before the @, or two dots in a row"
    )]
    MisplacedDot,
    #[error(
        "the email address has a character that is not allowed before the @ (one of \"(),:;<>[\\])"
    )]
    LocalPartCharacter,
    #[error("the email address has no domain after the @")]
    EmptyDomain,
    #[error("the email address has a domain without a dot")]
    DomainWithoutDot,
    #[error("the email address has an empty part in its domain (a dot at an end, or two in a row)")]
    EmptyDomainLabel,
    #[error("the email address has a domain part longer than {MAX_LABEL_BYTES} characters")]
    DomainLabelTooLong,
    #[error("the email address has a domain part that starts or ends with a hyphen")]
    DomainLabelHyphen,
    #[error(
        "the email address has a character that is not allowed in a domain (letters, digits, hyphens and dots only)"
    )]
    DomainCharacter,
}

impl EmailAddress {
    /// Trims surrounding whitespace, then checks the address.
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let address = input.trim();
        if address.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidEmail::Whitespace);
        }
        let (local, domain) = match address.split_once('@') {
            None => return Err(InvalidEmail::MissingAt),
            Some((_, domain)) if domain.contains('@') => return Err(InvalidEmail::SeveralAt),
            Some(parts) => parts,
        };
        if address.len() > MAX_TOTAL_BYTES {
            return Err(InvalidEmail::TooLong);
        }
        check_local_part(local)?;
        check_domain(domain)?;
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn check_local_part(local: &str) -> Result<(), InvalidEmail> {
    if local.is_empty() {
        return Err(InvalidEmail::EmptyLocalPart);
    }
    if local.len() > MAX_LOCAL_BYTES {
        return Err(InvalidEmail::LocalPartTooLong);
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(InvalidEmail::MisplacedDot);
    }
    if local.contains(LOCAL_SPECIALS) {
        return Err(InvalidEmail::LocalPartCharacter);
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), InvalidEmail> {
    if domain.is_empty() {
        return Err(InvalidEmail::EmptyDomain);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(InvalidEmail::EmptyDomainLabel);
        }
        if label.len() > MAX_LABEL_BYTES {
            return Err(InvalidEmail::DomainLabelTooLong);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(InvalidEmail::DomainLabelHyphen);
        }
        // IDN labels (RFC 5890) may hold letters of any script, and the
        // marks that Unicode counts as alphabetic.
        let allowed = |c: char| {
            c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric())
        };
        if !label.chars().all(allowed) {
            return Err(InvalidEmail::DomainCharacter);
        }
    }
    if labels.len() < 2 {
        return Err(InvalidEmail::DomainWithoutDot);
    }
    Ok(())
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for EmailAddress {
    type Err = InvalidEmail;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(input)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidEmail;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&input)
    }
}

impl From<EmailAddress> for String {
    fn from(address: EmailAddress) -> Self {
        address.0
    }
}

#[cfg(test)]
mod tests;
