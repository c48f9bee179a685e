//! The closed vocabularies of a request: which right is exercised
//! ([`RequestKind`]), how the request reached the organisation ([`Channel`])
//! and why it may be turned down ([`RejectGround`]).
//!
//! Each vocabulary is one table of variant ↔ stable text, written once with
//! `text_enum!`; parsing, display and serde all read that table, so the
//! words stored in the database, shown in the UI and accepted in the API can
//! never drift apart.

use thiserror::Error;

/// A word that is not in a vocabulary: says which vocabulary, what was given
/// and what would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} \"{value}\"; expected one of: {}", .expected.join(", "))]
pub struct UnknownValue {
    /// The vocabulary, in the singular: "kind", "channel", "status", ...
    pub what: &'static str,
    /// The rejected input, as given.
    pub value: String,
    /// Every accepted word, in table order.
    pub expected: &'static [&'static str],
}

/// Finds `value` in a vocabulary; `names[i]` is the text of `variants[i]`.
/// Shared by every [`text_enum!`] so the lookup is written once.
pub(crate) fn parse_text<T: Copy>(
    what: &'static str,
    value: &str,
    names: &'static [&'static str],
    variants: &[T],
    ignore_ascii_case: bool,
) -> Result<T, UnknownValue> {
    names
        .iter()
        .zip(variants)
        .find(|(name, _)| {
            if ignore_ascii_case {
                name.eq_ignore_ascii_case(value)
            } else {
                **name == value
            }
        })
        .map(|(_, variant)| *variant)
        .ok_or_else(|| UnknownValue {
            what,
            value: value.to_owned(),
            expected: names,
        })
}

/// Defines a fieldless enum together with its table of stable texts.
///
/// Generates `ALL`, `NAMES`, `as_str`, `Display`, `FromStr` (error:
/// [`UnknownValue`]) and serde as that text. `what` names the vocabulary in
/// error messages; `ignore_case` makes parsing ASCII case-insensitive (for
/// codes people type, such as country codes).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident (what = $what:literal, ignore_case = $ignore_case:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every variant, in table order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            /// The text of every variant, in the order of `ALL`.
            pub const NAMES: [&'static str; [$($text),+].len()] = [$($text),+];

            /// The stable text of this variant (database, API, UI).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::domain::kind::UnknownValue;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                $crate::domain::kind::parse_text(
                    $what,
                    value,
                    &Self::NAMES,
                    &Self::ALL,
                    $ignore_case,
                )
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::domain::kind::UnknownValue;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> Self {
                value.as_str()
            }
        }
    };
}
pub(crate) use text_enum;

text_enum! {
    /// The data-subject right a request exercises (GDPR chapter III).
    pub enum RequestKind (what = "kind", ignore_case = false) {
        Access => "access",
        Rectification => "rectification",
        Erasure => "erasure",
        Restriction => "restriction",
        Portability => "portability",
        Objection => "objection",
        ConsentWithdrawal => "consent_withdrawal",
        /// A person records, changes or withdraws what should become of their data after
        /// their death (loi Informatique et Libertés, art. 85).
        Directives => "directives",
        /// After a death, the person designated in the directives or an heir asks for them
        /// to be carried out, or for what art. 85 allows without them.
        Heir => "heir",
    }
}

impl RequestKind {
    /// The GDPR article that grants the right, for letters and the audit trail.
    pub fn gdpr_article(self) -> &'static str {
        match self {
            RequestKind::Access => "Art. 15",
            RequestKind::Rectification => "Art. 16",
            RequestKind::Erasure => "Art. 17",
            RequestKind::Restriction => "Art. 18",
            RequestKind::Portability => "Art. 20",
            RequestKind::Objection => "Art. 21",
            RequestKind::ConsentWithdrawal => "Art. 7(3)",
            // Not the GDPR, which leaves the dead to national law: the French law does it.
            RequestKind::Directives | RequestKind::Heir => "art. 85 loi Informatique et Libertés",
        }
    }
}

text_enum! {
    /// How the request reached the organisation. GDPR art. 12(3) asks that a
    /// request made electronically be answered electronically where possible,
    /// so the channel is kept.
    pub enum Channel (what = "channel", ignore_case = false) {
        Web => "web",
        Email => "email",
        Post => "post",
        Phone => "phone",
        InPerson => "in_person",
        Api => "api",
    }
}

text_enum! {
    /// Why a request is turned down; the requester must be told the reason
    /// and of their right to complain (GDPR art. 12(4)).
    pub enum RejectGround (what = "ground", ignore_case = false) {
        /// GDPR art. 12(5)(b).
        ManifestlyUnfounded => "manifestly_unfounded",
        /// GDPR art. 12(5)(b), in particular because repetitive.
        Excessive => "excessive",
        /// GDPR art. 12(2) and 11(2): the controller cannot identify the requester.
        IdentityNotEstablished => "identity_not_established",
        /// GDPR art. 17(3): erasure does not apply (legal obligation, claims, ...).
        Art17Exception => "art17_3_exception",
        Other => "other",
        /// GDPR art. 21(1): compelling legitimate grounds override an objection.
        CompellingGrounds => "compelling_grounds",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_text() {
        for kind in RequestKind::ALL {
            assert_eq!(kind.as_str().parse::<RequestKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(
            RequestKind::ConsentWithdrawal.as_str(),
            "consent_withdrawal"
        );
    }

    #[test]
    fn every_channel_and_ground_round_trips_through_its_text() {
        for channel in Channel::ALL {
            assert_eq!(channel.as_str().parse::<Channel>(), Ok(channel));
        }
        for ground in RejectGround::ALL {
            assert_eq!(ground.as_str().parse::<RejectGround>(), Ok(ground));
        }
        assert_eq!(RejectGround::Art17Exception.as_str(), "art17_3_exception");
    }

    #[test]
    fn kinds_cite_the_article_that_grants_the_right() {
        let articles: Vec<&str> = RequestKind::ALL.iter().map(|k| k.gdpr_article()).collect();
        assert_eq!(
            articles,
            [
                "Art. 15",
                "Art. 16",
                "Art. 17",
                "Art. 18",
                "Art. 20",
                "Art. 21",
                "Art. 7(3)",
                "art. 85 loi Informatique et Libertés",
                "art. 85 loi Informatique et Libertés",
            ]
        );
    }

    #[test]
    fn parsing_is_exact_and_names_what_was_expected() {
        let error = "foo".parse::<RequestKind>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown kind \"foo\"; expected one of: access, rectification, erasure, \
             restriction, portability, objection, consent_withdrawal, directives, heir"
        );
        assert!("Access".parse::<RequestKind>().is_err());
        assert!(" access".parse::<RequestKind>().is_err());
        assert_eq!("fax".parse::<Channel>().unwrap_err().what, "channel");
        assert_eq!("nope".parse::<RejectGround>().unwrap_err().what, "ground");
    }

    #[test]
    fn serde_reads_the_same_text_as_from_str() {
        use serde::Deserialize;
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};

        let text: StrDeserializer<'_, Error> = "art17_3_exception".into_deserializer();
        assert_eq!(
            RejectGround::deserialize(text),
            Ok(RejectGround::Art17Exception)
        );

        let text: StrDeserializer<'_, Error> = "Access".into_deserializer();
        let error = RequestKind::deserialize(text).unwrap_err();
        assert!(error.to_string().starts_with("unknown kind \"Access\""));

        // Serialization goes through `Into<&'static str>`, i.e. `as_str`.
        let text: &'static str = RequestKind::ConsentWithdrawal.into();
        assert_eq!(text, "consent_withdrawal");
    }
}
