//! The public-holiday rules of each supported country, as in force today,
//! with the dated changes and one-off proclaimed days since 1990 (so that
//! past requests are also computed right).

use chrono::{Datelike, Days, NaiveDate, TimeDelta, Weekday};

use super::{Country, easter_sunday, is_weekend};

pub(super) type Holiday = (NaiveDate, &'static str);

/// The public holidays of `country` in `year`, in no particular order.
pub(super) fn public_holidays(country: Country, year: i32) -> Vec<Holiday> {
    let Some(mut list) = HolidayList::new(year) else {
        // A year chrono cannot represent has no dates, hence no holidays.
        return Vec::new();
    };
    match country {
        Country::France => france(&mut list),
        Country::AlsaceMoselle => {
            france(&mut list);
            // Code du travail art. L3134-13: local law keeps these two.
            list.easter_offset(-2, "Good Friday");
            list.fixed(12, 26, "St Stephen's Day");
        }
        Country::Belgium => belgium(&mut list),
        Country::Luxembourg => luxembourg(&mut list),
        Country::Germany => germany(&mut list),
        Country::EnglandAndWales => england_and_wales(&mut list),
        Country::Ireland => ireland(&mut list),
        Country::WeekendsOnly => {}
    }
    list.days
}

/// Code du travail art. L3133-1. Whit Monday stays a public holiday even
/// though many employers make it the "journée de solidarité" (art. L3133-7).
fn france(list: &mut HolidayList) {
    list.fixed(1, 1, "New Year's Day");
    list.easter_offset(1, "Easter Monday");
    list.fixed(5, 1, "Labour Day");
    list.fixed(5, 8, "Victory in Europe Day");
    list.easter_offset(39, "Ascension Day");
    list.easter_offset(50, "Whit Monday");
    list.fixed(7, 14, "Bastille Day");
    list.fixed(8, 15, "Assumption Day");
    list.fixed(11, 1, "All Saints' Day");
    list.fixed(11, 11, "Armistice Day");
    list.fixed(12, 25, "Christmas Day");
}

/// Arrêté royal du 18 avril 1974: the ten legal holidays.
fn belgium(list: &mut HolidayList) {
    list.fixed(1, 1, "New Year's Day");
    list.easter_offset(1, "Easter Monday");
    list.fixed(5, 1, "Labour Day");
    list.easter_offset(39, "Ascension Day");
    list.easter_offset(50, "Whit Monday");
    list.fixed(7, 21, "Belgian National Day");
    list.fixed(8, 15, "Assumption Day");
    list.fixed(11, 1, "All Saints' Day");
    list.fixed(11, 11, "Armistice Day");
    list.fixed(12, 25, "Christmas Day");
}

/// Code du travail luxembourgeois art. L.232-2; Europe Day added by the law
/// of 26 April 2019.
fn luxembourg(list: &mut HolidayList) {
    list.fixed(1, 1, "New Year's Day");
    list.easter_offset(1, "Easter Monday");
    list.fixed(5, 1, "Labour Day");
    if list.year >= 2019 {
        list.fixed(5, 9, "Europe Day");
    }
    list.easter_offset(39, "Ascension Day");
    list.easter_offset(50, "Whit Monday");
    list.fixed(6, 23, "National Day");
    list.fixed(8, 15, "Assumption Day");
    list.fixed(11, 1, "All Saints' Day");
    list.fixed(12, 25, "Christmas Day");
    list.fixed(12, 26, "St Stephen's Day");
}

/// The holidays observed in every Land. Regional ones (Epiphany, Corpus
/// Christi, Reformation Day, ...) belong in the organisation's extra days.
fn germany(list: &mut HolidayList) {
    list.fixed(1, 1, "New Year's Day");
    list.easter_offset(-2, "Good Friday");
    list.easter_offset(1, "Easter Monday");
    list.fixed(5, 1, "Labour Day");
    list.easter_offset(39, "Ascension Day");
    list.easter_offset(50, "Whit Monday");
    if list.year >= 1990 {
        // Einigungsvertrag art. 2(2).
        list.fixed(10, 3, "German Unity Day");
    }
    if list.year == 2017 {
        // The 500th anniversary of the Reformation was a holiday nationwide.
        list.fixed(10, 31, "Reformation Day");
    }
    list.fixed(12, 25, "Christmas Day");
    list.fixed(12, 26, "Second Day of Christmas");
}

/// Banking and Financial Dealings Act 1971, schedule 1, and the royal
/// proclamations that moved or added days. A fixed holiday that falls on a
/// weekend gives a substitute weekday.
fn england_and_wales(list: &mut HolidayList) {
    let year = list.year;
    list.fixed(1, 1, "New Year's Day");
    list.easter_offset(-2, "Good Friday");
    list.easter_offset(1, "Easter Monday");
    match year {
        1995 => list.fixed(5, 8, "Early May bank holiday (VE Day)"),
        2020 => list.fixed(5, 8, "Early May bank holiday (VE Day)"),
        _ => list.nth_monday(5, 1, "Early May bank holiday"),
    }
    match year {
        2002 => list.fixed(6, 4, "Spring bank holiday"),
        2012 => list.fixed(6, 4, "Spring bank holiday"),
        2022 => list.fixed(6, 2, "Spring bank holiday"),
        _ => list.last_monday(5, "Spring bank holiday"),
    }
    list.last_monday(8, "Summer bank holiday");
    list.fixed(12, 25, "Christmas Day");
    list.fixed(12, 26, "Boxing Day");
    match year {
        1999 => list.fixed(12, 31, "Millennium Celebrations"),
        2002 => list.fixed(6, 3, "Golden Jubilee of Elizabeth II"),
        2011 => list.fixed(4, 29, "Wedding of Prince William and Catherine Middleton"),
        2012 => list.fixed(6, 5, "Diamond Jubilee of Elizabeth II"),
        2022 => {
            list.fixed(6, 3, "Platinum Jubilee of Elizabeth II");
            list.fixed(9, 19, "State Funeral of Elizabeth II");
        }
        2023 => list.fixed(5, 8, "Coronation of Charles III"),
        _ => {}
    }
    list.substitute_weekend_days(&[
        (1, 1, "New Year's Day (substitute day)"),
        (12, 25, "Christmas Day (substitute day)"),
        (12, 26, "Boxing Day (substitute day)"),
    ]);
}

/// Organisation of Working Time Act 1997, schedule 2. Irish law gives no
/// substitute weekday for a holiday on a weekend (the employee gets another
/// day off instead), so none is added.
fn ireland(list: &mut HolidayList) {
    let year = list.year;
    list.fixed(1, 1, "New Year's Day");
    if year >= 2023 {
        // St Brigid's Day: first Monday of February, or 1 February when that
        // is a Friday (Organisation of Working Time Act
        // 1997 as amended in 2022).
        match NaiveDate::from_ymd_opt(year, 2, 1) {
            Some(first) if first.weekday() == Weekday::Fri => list.fixed(2, 1, "St Brigid's Day"),
            _ => list.nth_monday(2, 1, "St Brigid's Day"),
        }
    }
    list.fixed(3, 17, "St Patrick's Day");
    if year == 2022 {
        list.fixed(3, 18, "Day of Remembrance and Recognition");
    }
    list.easter_offset(1, "Easter Monday");
    if year == 1995 {
        // Moved to mark the 50th anniversary of VE Day.
        list.fixed(5, 8, "May bank holiday");
    } else {
        list.nth_monday(5, 1, "May bank holiday");
    }
    list.nth_monday(6, 1, "June bank holiday");
    list.nth_monday(8, 1, "August bank holiday");
    list.last_monday(10, "October bank holiday");
    list.fixed(12, 25, "Christmas Day");
    list.fixed(12, 26, "St Stephen's Day");
    if year == 1999 {
        list.fixed(12, 31, "Millennium Celebrations");
    }
}

/// The holidays of one year, being assembled.
struct HolidayList {
    year: i32,
    easter: NaiveDate,
    days: Vec<Holiday>,
}

impl HolidayList {
    fn new(year: i32) -> Option<Self> {
        // Also guards `easter_sunday`, which saturates outside chrono's range.
        NaiveDate::from_ymd_opt(year, 1, 1)?;
        NaiveDate::from_ymd_opt(year, 12, 31)?;
        Some(HolidayList {
            year,
            easter: easter_sunday(year),
            days: Vec::new(),
        })
    }

    fn push(&mut self, date: Option<NaiveDate>, name: &'static str) {
        if let Some(date) = date {
            self.days.push((date, name));
        }
    }

    fn fixed(&mut self, month: u32, day: u32, name: &'static str) {
        self.push(NaiveDate::from_ymd_opt(self.year, month, day), name);
    }

    fn easter_offset(&mut self, days: i64, name: &'static str) {
        self.push(self.easter.checked_add_signed(TimeDelta::days(days)), name);
    }

    fn nth_monday(&mut self, month: u32, n: u8, name: &'static str) {
        let date = NaiveDate::from_weekday_of_month_opt(self.year, month, Weekday::Mon, n);
        self.push(date, name);
    }

    fn last_monday(&mut self, month: u32, name: &'static str) {
        let last_of_month = if month == 12 {
            NaiveDate::from_ymd_opt(self.year, 12, 31)
        } else {
            NaiveDate::from_ymd_opt(self.year, month + 1, 1).and_then(|next| next.pred_opt())
        };
        let date = last_of_month.and_then(|last| {
            let back = u64::from(last.weekday().num_days_from_monday());
            last.checked_sub_days(Days::new(back))
        });
        self.push(date, name);
    }

    /// For each listed holiday that falls on a Saturday or Sunday, adds the
    /// next weekday that is not already a holiday (so Christmas on a
    /// Saturday gives Monday 27 and Boxing Day on the Sunday Tuesday 28).
    fn substitute_weekend_days(&mut self, rules: &[(u32, u32, &'static str)]) {
        for &(month, day, substitute_name) in rules {
            let Some(holiday) = NaiveDate::from_ymd_opt(self.year, month, day) else {
                continue;
            };
            if !is_weekend(holiday) {
                continue;
            }
            let mut candidate = holiday;
            while let Some(next) = candidate.succ_opt() {
                candidate = next;
                let taken = self.days.iter().any(|(date, _)| *date == candidate);
                if !is_weekend(candidate) && !taken {
                    self.days.push((candidate, substitute_name));
                    break;
                }
            }
        }
    }
}
