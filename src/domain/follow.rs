//! What follows an answer, as the law has it: a restriction stays in force until it is lifted,
//! and the person is told before it is (Art. 18(3)); rows kept under a legal obligation
//! during an erasure are held until their retention ends, then erased; and the fee a
//! controller may charge for further copies (Art. 15(3)) or a manifestly unfounded or
//! excessive request (Art. 12(5)(a)), in whole cents. Pure: today comes in as an argument.

use chrono::{Days, NaiveDate};

use super::kind::text_enum;

text_enum! {
    /// Where a restriction of processing stands.
    pub enum RestrictionState (what = "restriction state", ignore_case = false) {
        /// In force: the data are stored and not otherwise processed.
        Active => "active",
        /// The person was told; it is lifted on the date stated.
        LiftScheduled => "lift_scheduled",
        /// The date came, but a source could not lift it itself: the team must.
        LiftTask => "lift_task",
        /// Lifted.
        Lifted => "lifted",
    }
}

use RestrictionState as RS;

/// Every allowed move of a restriction, `(from, to)`. A lift is scheduled only with notice;
/// a scheduled lift can be called off (the restriction stays); on its date it is lifted by
/// the sources, or left to the team, who then say it is done.
pub const RESTRICTION_TRANSITIONS: &[(RestrictionState, RestrictionState)] = &[
    (RS::Active, RS::LiftScheduled),
    (RS::LiftScheduled, RS::Active),
    (RS::LiftScheduled, RS::Lifted),
    (RS::LiftScheduled, RS::LiftTask),
    (RS::LiftTask, RS::Lifted),
];

impl RestrictionState {
    pub fn can_become(self, to: RestrictionState) -> bool {
        RESTRICTION_TRANSITIONS.contains(&(self, to))
    }

    /// Still restricting the processing (listed on the dashboard).
    pub fn in_force(self) -> bool {
        self != RS::Lifted
    }
}

text_enum! {
    /// Where rows kept under a legal obligation stand.
    pub enum HoldState (what = "hold state", ignore_case = false) {
        /// Kept until the retention ends.
        Held => "held",
        /// The retention ended and the source cannot erase them itself: the team must.
        Task => "task",
        /// Erased once the retention ended.
        Ended => "ended",
    }
}

use HoldState as HS;

/// Every allowed move of a hold, `(from, to)`.
pub const HOLD_TRANSITIONS: &[(HoldState, HoldState)] = &[
    (HS::Held, HS::Ended),
    (HS::Held, HS::Task),
    (HS::Task, HS::Ended),
];

impl HoldState {
    pub fn can_become(self, to: HoldState) -> bool {
        HOLD_TRANSITIONS.contains(&(self, to))
    }
}

/// How many days the notice of a lift must leave the person, by default. Art. 18(3) says the
/// person "shall be informed by the controller before the restriction of processing is
/// lifted", without a length: a notice sent the day of the lift informs no one in time. A
/// week lets a mail be read after a weekend away and an objection or a complaint be made
/// (the CNIL answers such questions in weeks, not days); organisations may set more.
pub const DEFAULT_LIFT_NOTICE_DAYS: u32 = 7;

/// The earliest day a lift may be scheduled for, when the notice leaves today.
pub fn earliest_lift(today: NaiveDate, notice_days: u32) -> NaiveDate {
    today
        .checked_add_days(Days::new(u64::from(notice_days)))
        .unwrap_or(today)
}

/// Refuses a lift date that does not leave the person the notice period.
pub fn check_lift_date(
    date: NaiveDate,
    today: NaiveDate,
    notice_days: u32,
) -> Result<(), NaiveDate> {
    let earliest = earliest_lift(today, notice_days);
    if date < earliest {
        Err(earliest)
    } else {
        Ok(())
    }
}

text_enum! {
    /// Why a fee is asked.
    pub enum FeeBasis (what = "fee basis", ignore_case = false) {
        /// Further copies of the data (Art. 15(3)): the first copy is free.
        FurtherCopies => "further_copies",
        /// A manifestly unfounded or excessive request, in particular a repeated one
        /// (Art. 12(5)(a)).
        Excessive => "excessive",
    }
}

impl FeeBasis {
    pub fn article(self) -> &'static str {
        match self {
            FeeBasis::FurtherCopies => "art. 15(3)",
            FeeBasis::Excessive => "art. 12(5)(a)",
        }
    }
}

text_enum! {
    /// Where a fee stands.
    pub enum FeeState (what = "fee state", ignore_case = false) {
        /// Announced to the person, not paid yet.
        Asked => "asked",
        Paid => "paid",
        /// The organisation gave it up.
        Waived => "waived",
    }
}

impl FeeState {
    /// Paid and waived are final.
    pub fn can_become(self, to: FeeState) -> bool {
        self == FeeState::Asked && to != FeeState::Asked
    }
}

/// A fee this high is taken for a typing slip, not a "reasonable fee based on
/// administrative costs" (Art. 12(5)).
pub const MAX_FEE_CENTS: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number of euros with at most two decimals.
    Unreadable,
    /// Zero: no fee (nothing to record).
    Zero,
    /// Above [`MAX_FEE_CENTS`].
    TooHigh,
}

/// Euros as staff type them ("12,50", "12.5", "1 200", "8 €") to whole cents, never through
/// a float.
pub fn parse_euros(text: &str) -> Result<i64, AmountError> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('€')
        .trim_start_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    let (whole, fraction) = match cleaned.split_once([',', '.']) {
        Some((w, f)) => (w, f),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) || fraction.len() > 2 {
        return Err(AmountError::Unreadable);
    }
    if whole.len() > 9 {
        return Err(AmountError::TooHigh);
    }
    let euros: i64 = whole.parse().map_err(|_| AmountError::Unreadable)?;
    let cents: i64 = match fraction.len() {
        0 => 0,
        1 => {
            fraction
                .parse::<i64>()
                .map_err(|_| AmountError::Unreadable)?
                * 10
        }
        _ => fraction.parse().map_err(|_| AmountError::Unreadable)?,
    };
    let total = euros * 100 + cents;
    if total == 0 {
        Err(AmountError::Zero)
    } else if total > MAX_FEE_CENTS {
        Err(AmountError::TooHigh)
    } else {
        Ok(total)
    }
}

/// "12,50 €" in French (a narrow no-break space before the sign, one in the thousands),
/// "€12.50" in English.
pub fn euros(cents: i64, french: bool) -> String {
    let whole = (cents / 100).to_string();
    let sep = if french { '\u{202f}' } else { ',' };
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let rest = cents % 100;
    if french {
        format!("{grouped},{rest:02}\u{a0}€")
    } else {
        format!("€{grouped}.{rest:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_lift_leaves_the_person_the_notice_period() {
        let today = day("2026-03-02");
        assert_eq!(
            earliest_lift(today, DEFAULT_LIFT_NOTICE_DAYS),
            day("2026-03-09")
        );
        assert_eq!(check_lift_date(day("2026-03-09"), today, 7), Ok(()));
        assert_eq!(
            check_lift_date(day("2026-03-08"), today, 7),
            Err(day("2026-03-09"))
        );
        assert_eq!(
            check_lift_date(today, today, 7),
            Err(day("2026-03-09")),
            "never the same day"
        );
    }

    #[test]
    fn a_restriction_is_lifted_only_after_notice() {
        assert!(!RS::Active.can_become(RS::Lifted));
        assert!(RS::Active.can_become(RS::LiftScheduled));
        assert!(RS::LiftScheduled.can_become(RS::Lifted));
        assert!(RS::LiftTask.can_become(RS::Lifted));
        assert!(!RS::Lifted.can_become(RS::Active));
        assert!(RS::LiftTask.in_force() && !RS::Lifted.in_force());
    }

    #[test]
    fn a_hold_ends_once() {
        assert!(HS::Held.can_become(HS::Ended));
        assert!(HS::Task.can_become(HS::Ended));
        assert!(!HS::Ended.can_become(HS::Held));
        assert!(!HS::Ended.can_become(HS::Task));
    }

    #[test]
    fn amounts_are_whole_cents() {
        assert_eq!(parse_euros("12,50"), Ok(1250));
        assert_eq!(parse_euros("12.5"), Ok(1250));
        assert_eq!(parse_euros(" 8 € "), Ok(800));
        assert_eq!(parse_euros("1 200,05"), Ok(120_005));
        assert_eq!(parse_euros("0,10"), Ok(10));
        assert_eq!(parse_euros("0"), Err(AmountError::Zero));
        assert_eq!(parse_euros("12,505"), Err(AmountError::Unreadable));
        assert_eq!(parse_euros("-5"), Err(AmountError::Unreadable));
        assert_eq!(parse_euros("douze"), Err(AmountError::Unreadable));
        assert_eq!(parse_euros(""), Err(AmountError::Unreadable));
        assert_eq!(parse_euros("10000,01"), Err(AmountError::TooHigh));
        assert_eq!(parse_euros("99999999999"), Err(AmountError::TooHigh));
        // 0.1 + 0.2 in floats is not 0.3; in cents it is.
        assert_eq!(
            parse_euros("0,1").unwrap() + parse_euros("0,2").unwrap(),
            30
        );
    }

    #[test]
    fn amounts_are_written_as_each_language_does() {
        assert_eq!(euros(1250, true), "12,50\u{a0}€");
        assert_eq!(euros(120_005, true), "1\u{202f}200,05\u{a0}€");
        assert_eq!(euros(1250, false), "€12.50");
        assert_eq!(euros(120_005, false), "€1,200.05");
        assert_eq!(euros(5, false), "€0.05");
    }

    #[test]
    fn a_fee_is_settled_once() {
        assert!(FeeState::Asked.can_become(FeeState::Paid));
        assert!(FeeState::Asked.can_become(FeeState::Waived));
        assert!(!FeeState::Paid.can_become(FeeState::Waived));
        assert!(!FeeState::Waived.can_become(FeeState::Paid));
    }

    #[test]
    fn stored_words_stay_the_same() {
        assert_eq!(RS::LiftScheduled.as_str(), "lift_scheduled");
        assert_eq!(HS::Task.as_str(), "task");
        assert_eq!(FeeBasis::FurtherCopies.as_str(), "further_copies");
        assert_eq!(FeeState::Waived.as_str(), "waived");
    }
}
