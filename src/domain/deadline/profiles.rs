//! Deadline profiles: the rules of one legal regime (how long, how much
//! longer, whether the clock stops), and the built-in ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Period;

/// The profile a request gets when nothing else is said (the product owner's
/// choice).
pub const DEFAULT_PROFILE: &str = "two-months";

/// The deadline rules of one regime. Configuration may add profiles or
/// replace built-in ones; every rule that changes a date must be spelled
/// out, only `max_extension` (none), `acknowledge_within_business_days`
/// (none) and `description` (empty) may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The time to answer, counted from the day after receipt.
    pub base: Period,
    /// The most the base period may be extended by, in total.
    #[serde(default)]
    pub max_extension: Period,
    /// A period ending on a Saturday, Sunday or public holiday ends on the
    /// next working day (EU Regulation 1182/71 art. 3(4)).
    pub roll_to_working_day: bool,
    /// The clock stands still while waiting for the requester to clarify
    /// the request.
    pub clock_stops_on_hold: bool,
    /// The clock stands still while waiting for proof of identity (France:
    /// décret 2019-536 art. 77, "les délais ... sont suspendus" until the
    /// information is received).
    pub clock_stops_for_identity: bool,
    /// The requester must be told of an extension, with reasons, within the
    /// first period (GDPR art. 12(3)); an extension is then refused once the
    /// first due date has passed, not only the current one.
    pub extension_notice_before_first_due: bool,
    /// Receipt must be acknowledged within this many business days (CCPA
    /// regulations, Cal. Code Regs. tit. 11 § 7021(a): 10).
    #[serde(default)]
    pub acknowledge_within_business_days: Option<u32>,
    /// What the profile is for, in English, for the people who choose it.
    #[serde(default)]
    pub description: String,
}

/// The built-in profiles by name. Where a law is silent or unclear the
/// choice that gives the earlier due date is taken: answering early is never
/// a breach.
pub fn builtin_profiles() -> BTreeMap<&'static str, Profile> {
    BTreeMap::from([
        (DEFAULT_PROFILE, two_months()),
        ("gdpr", gdpr()),
        ("uk-gdpr", uk_gdpr()),
        ("ccpa", ccpa()),
        ("lgpd", lgpd()),
        ("quebec", quebec()),
        ("pipeda", pipeda()),
    ])
}

/// The product default, asked for by the owner: two months, one more on
/// notice. Longer than the GDPR's one month, so an organisation under the
/// GDPR that uses it must treat the second month as an extension it can
/// justify (art. 12(3)); the "gdpr" profile is the strict reading.
fn two_months() -> Profile {
    Profile {
        base: Period::months(2),
        max_extension: Period::months(1),
        roll_to_working_day: true,
        clock_stops_on_hold: true,
        clock_stops_for_identity: true,
        extension_notice_before_first_due: true,
        acknowledge_within_business_days: None,
        description: "Default: two months from receipt, extendable by one month with notice \
                      before the first due date; ends on a working day; the clock stops while \
                      waiting for the requester."
            .to_owned(),
    }
}

/// GDPR art. 12(3): one month from receipt, extendable "by two further
/// months" (counted from receipt: three months in all), the requester told
/// within the first month. The clock stops while identity is being
/// established (décret 2019-536 art. 77 in France; EDPB Guidelines 01/2022
/// on the right of access, section 5.3 on timing) and, as the product
/// decided, while waiting for a clarification; an organisation reading the
/// clarification case strictly defines its own profile without it.
fn gdpr() -> Profile {
    Profile {
        base: Period::months(1),
        max_extension: Period::months(2),
        roll_to_working_day: true,
        clock_stops_on_hold: true,
        clock_stops_for_identity: true,
        extension_notice_before_first_due: true,
        acknowledge_within_business_days: None,
        description: "GDPR art. 12(3): one month from receipt, extendable by two further months \
                      with reasons given within the first month; ends on a working day; the \
                      clock stops while waiting for identity or a clarification."
            .to_owned(),
    }
}

/// UK GDPR art. 12(3), as the ICO explains it: one month, to the
/// corresponding date of the next month (or its last day), moved to the next
/// working day; up to two further months. The ICO starts the month only once
/// identity proof or a needed clarification arrives; the waiting time is
/// modelled here as a pause of the clock.
fn uk_gdpr() -> Profile {
    Profile {
        base: Period::months(1),
        max_extension: Period::months(2),
        roll_to_working_day: true,
        clock_stops_on_hold: true,
        clock_stops_for_identity: true,
        extension_notice_before_first_due: true,
        acknowledge_within_business_days: None,
        description: "UK GDPR: one month from receipt, extendable by two further months with \
                      reasons given within the first month; ends on a working day; the clock \
                      stops while waiting for identity or a clarification."
            .to_owned(),
    }
}

/// California (Civ. Code § 1798.130(a)(2); Cal. Code Regs. tit. 11 § 7021):
/// 45 calendar days "regardless of time required to verify the request",
/// so the clock never stops; up to 45 more days (90 in all) with notice
/// within the first 45; receipt confirmed within 10 business days. Calendar
/// days are not moved off weekends: the earlier date is the safe one.
fn ccpa() -> Profile {
    Profile {
        base: Period::days(45),
        max_extension: Period::days(45),
        roll_to_working_day: false,
        clock_stops_on_hold: false,
        clock_stops_for_identity: false,
        extension_notice_before_first_due: true,
        acknowledge_within_business_days: Some(10),
        description: "CCPA: 45 calendar days from receipt, whatever the time verification takes; \
                      up to 45 more days with notice within the first 45; receipt confirmed \
                      within 10 business days."
            .to_owned(),
    }
}

/// Brazil, LGPD art. 19 II: a complete answer within 15 days "contado da
/// data do requerimento". The law provides no extension and no suspension,
/// so the clock never stops. Civil Code art. 132 § 1 would move a period
/// ending on a holiday, but the Brazilian holidays are not in the calendar,
/// so the earlier, unrolled date is kept.
fn lgpd() -> Profile {
    Profile {
        base: Period::days(15),
        max_extension: Period::default(),
        roll_to_working_day: false,
        clock_stops_on_hold: false,
        clock_stops_for_identity: false,
        extension_notice_before_first_due: false,
        acknowledge_within_business_days: None,
        description: "LGPD (Brazil) art. 19 II: 15 days from the request, no extension, the \
                      clock never stops."
            .to_owned(),
    }
}

/// Québec, Act respecting the protection of personal information in the
/// private sector, s. 32: answer within 30 days of receipt, failing which
/// the request is deemed refused. No extension, no suspension.
fn quebec() -> Profile {
    Profile {
        base: Period::days(30),
        max_extension: Period::default(),
        roll_to_working_day: false,
        clock_stops_on_hold: false,
        clock_stops_for_identity: false,
        extension_notice_before_first_due: false,
        acknowledge_within_business_days: None,
        description: "Québec private sector Act s. 32: 30 days from receipt, no extension; no \
                      answer in time counts as a refusal."
            .to_owned(),
    }
}

/// Canada, PIPEDA s. 8(3)-(4): 30 days from receipt; up to 30 more days
/// (s. 8(4)(a)) with a notice sent within the first 30 days giving the new
/// time limit, the reasons and the right to complain. The open-ended
/// extension to convert into an alternative format (s. 8(4)(b)) is not
/// modelled: define a profile for it.
fn pipeda() -> Profile {
    Profile {
        base: Period::days(30),
        max_extension: Period::days(30),
        roll_to_working_day: false,
        clock_stops_on_hold: false,
        clock_stops_for_identity: false,
        extension_notice_before_first_due: true,
        acknowledge_within_business_days: None,
        description: "PIPEDA s. 8(3)-(4): 30 days from receipt, extendable by up to 30 days with \
                      notice within the first 30 days."
            .to_owned(),
    }
}
