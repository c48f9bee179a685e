//! The Reports page, for the DPO: requests received per month by kind, closed per month by
//! outcome (tables and bar charts), how many were answered in time and how fast, open
//! requests by the time they have left, and the overdue ones by name.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Months, NaiveDate};

use crate::i18n::{Lang, Strings, long_date};
use serde::Deserialize;

use super::chart::{Chart, CountTable};
use super::{AdminError, Staff};
use crate::domain::kind::RequestKind;
use crate::domain::reference::Reference;
use crate::store::reports::{self as report_rows, OpenCounts};
use crate::store::users;
use crate::web::State;
use crate::workflow;
use crate::workflow::reports::Timeliness;

/// The outcomes a closed request can have, in the order the page shows them.
pub const OUTCOMES: [&str; 4] = ["fulfilled", "rejected", "withdrawn", "expired"];
const OVERDUE_SHOWN: i64 = 500;
/// Ten years of months at most: a chart wider than that is no longer read.
const MAX_MONTHS: u32 = 120;

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// Whole months, from the first day of `first` to the last day of `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

fn parse_month(s: Option<&str>) -> Option<NaiveDate> {
    let s = s?.trim();
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok()
}

impl MonthRange {
    /// `from`/`to` as `YYYY-MM`; by default the twelve months up to this one.
    pub fn parse(q: &RangeQuery, today: NaiveDate) -> MonthRange {
        let this_month = today.with_day(1).unwrap_or(today);
        let last = parse_month(q.to.as_deref()).unwrap_or(this_month);
        let first = parse_month(q.from.as_deref())
            .unwrap_or_else(|| last - Months::new(11))
            .min(last);
        let first = first.max(last - Months::new(MAX_MONTHS - 1));
        MonthRange { first, last }
    }

    /// The first day after the range.
    pub fn until(&self) -> NaiveDate {
        self.last + Months::new(1)
    }

    pub fn from_label(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }

    pub fn to_label(&self) -> String {
        self.last.format("%Y-%m").to_string()
    }

    /// Every month of the range as `YYYY-MM`.
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let mut m = self.first;
        while m <= self.last {
            months.push(m.format("%Y-%m").to_string());
            m = m + Months::new(1);
        }
        months
    }
}

/// The timeliness figures in the reader's words.
trait TimelinessText {
    fn on_time_text(&self, t: &Strings) -> String;
    fn median_text(&self, t: &Strings) -> String;
    fn p90_text(&self, t: &Strings) -> String;
}

impl TimelinessText for Timeliness {
    fn on_time_text(&self, t: &Strings) -> String {
        if self.closed == 0 {
            return t.t("reports.timeliness.none").into();
        }
        let pct = self.on_time as f64 * 100.0 / self.closed as f64;
        t.fill(
            "reports.timeliness.on_time_value",
            &[
                ("on", &self.on_time.to_string()),
                ("total", &self.closed.to_string()),
                ("pct", &one_decimal(pct, t.lang())),
            ],
        )
    }

    fn median_text(&self, t: &Strings) -> String {
        self.median_days.map_or_else(
            || "—".into(),
            |d| {
                if d.fract() == 0.0 {
                    t.count("reports.days", d as i64)
                } else {
                    t.fill("reports.days.other", &[("n", &one_decimal(d, t.lang()))])
                }
            },
        )
    }

    fn p90_text(&self, t: &Strings) -> String {
        self.p90_days
            .map_or_else(|| "—".into(), |d| t.count("reports.days", d))
    }
}

/// One decimal at most, with the language's decimal mark: "66,7" / "66.7".
fn one_decimal(v: f64, lang: Lang) -> String {
    let text = format!("{v:.1}");
    let text = text.strip_suffix(".0").map(str::to_string).unwrap_or(text);
    match lang {
        Lang::Fr => text.replace('.', ","),
        Lang::En => text,
    }
}

/// "janvier 2026" / "January 2026", and the short form under a chart's bar.
fn month_words(t: &Strings, month: NaiveDate) -> (String, String) {
    let date = long_date(month, t.lang());
    let long = date
        .split_once(' ')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or(date);
    let short = t.fill(
        &format!("reports.month_short.m{}", month.month()),
        &[("yy", &format!("{:02}", month.year() % 100))],
    );
    (long, short)
}

pub struct Section {
    pub heading: String,
    pub series_name: String,
    /// The label of the box the table scrolls in on a narrow screen.
    pub region: String,
    pub chart: Chart,
    pub table: CountTable,
}

pub struct OverdueLine {
    pub reference: String,
    pub url: String,
    pub kind: String,
    pub due: String,
    pub late: String,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "admin/reports.html")]
pub struct ReportsPage {
    pub nav: super::Nav,
    pub from: String,
    pub to: String,
    /// "de janvier 2026 à juin 2026", as of today.
    pub period: String,
    pub as_of: String,
    pub on_time: String,
    pub median: String,
    pub p90: String,
    pub more_overdue_text: String,
    pub register_text: String,
    /// Received by kind, closed by outcome: each a chart and the table of its figures.
    pub sections: Vec<Section>,
    pub timeliness: Timeliness,
    pub open: OpenCounts,
    pub overdue: Vec<OverdueLine>,
    pub more_overdue: bool,
    pub download_query: String,
}

pub async fn show(
    state: State,
    staff: Staff,
    query: web::Query<RangeQuery>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports())?;
    let today = state.law.today(state.clock.now());
    let range = MonthRange::parse(&query, today);
    let (figures, overdue, people) = state
        .db(move |conn, _| {
            let figures = workflow::reports::figures(conn, range.first, range.until(), today)?;
            let overdue = report_rows::overdue(conn, today, OVERDUE_SHOWN)?;
            let people: HashMap<i64, String> = users::list(conn)?
                .iter()
                .map(|u| (u.id, crate::staff::display_name(u)))
                .collect();
            Ok::<_, diesel::result::Error>((figures, overdue, people))
        })
        .await?;
    let workflow::reports::Figures {
        received,
        closed,
        timeliness,
        open,
    } = figures;
    let t = staff.lang().strings();
    let lang = staff.lang();
    let codes = range.months();
    let mut months = Vec::with_capacity(codes.len());
    let mut short = Vec::with_capacity(codes.len());
    let mut m = range.first;
    for code in &codes {
        let (long, s) = month_words(t, m);
        months.push((code.clone(), long));
        short.push(s);
        m = m + Months::new(1);
    }
    let kinds: Vec<(String, String)> = RequestKind::NAMES
        .iter()
        .map(|k| (k.to_string(), t.t(&format!("label.kind.{k}")).to_string()))
        .collect();
    let received = CountTable::build(&months, &kinds, &received);
    let outcomes: Vec<(String, String)> = OUTCOMES
        .iter()
        .map(|o| (o.to_string(), t.t(&format!("label.status.{o}")).to_string()))
        .collect();
    let closed = CountTable::build(&months, &outcomes, &closed);
    let (first, last) = (month_words(t, range.first).0, month_words(t, range.last).0);
    let period = t.fill("reports.period", &[("from", &first), ("to", &last)]);
    let inline = t.fill("reports.period_inline", &[("from", &first), ("to", &last)]);
    let more_overdue = overdue.len() as i64 == OVERDUE_SHOWN && open.overdue > OVERDUE_SHOWN;
    let overdue: Vec<OverdueLine> = overdue
        .into_iter()
        .map(|r| {
            let reference = Reference {
                year: r.ref_year,
                seq: r.id,
            }
            .to_string();
            OverdueLine {
                url: format!("/admin/requests/{reference}"),
                reference,
                kind: t.t(&format!("label.kind.{}", r.kind)).to_string(),
                due: long_date(r.due_on, lang),
                late: t.count("reports.overdue.late", (today - r.due_on).num_days()),
                assignee: r
                    .assignee_id
                    .and_then(|id| people.get(&id).cloned())
                    .unwrap_or_else(|| t.t("reports.overdue.nobody").to_string()),
            }
        })
        .collect();
    let bar = |month: &str, series: &str, n: i64| {
        t.fill(
            "reports.chart.bar",
            &[("month", month), ("series", series), ("n", &n.to_string())],
        )
    };
    let desc = |table: &CountTable| {
        let per_series: Vec<String> = table
            .series
            .iter()
            .zip(&table.totals)
            .map(|(s, n)| {
                t.fill(
                    "reports.chart.series",
                    &[("series", s), ("n", &n.to_string())],
                )
            })
            .collect();
        t.fill(
            "reports.chart.desc",
            &[
                ("total", &table.total.to_string()),
                ("from", &first),
                ("to", &last),
                ("series", &per_series.join(", ")),
            ],
        )
    };
    Ok(staff.page(&ReportsPage {
        nav: staff.nav(),
        download_query: format!("from={}&to={}", range.from_label(), range.to_label()),
        from: range.from_label(),
        to: range.to_label(),
        as_of: t.fill("reports.as_of", &[("date", &long_date(today, lang))]),
        sections: vec![
            Section {
                heading: t.t("reports.received.heading").into(),
                series_name: t.t("reports.received.series").into(),
                region: t.t("reports.received.region").into(),
                chart: Chart::stacked(
                    "received",
                    t.fill("reports.received.chart", &[("period", &inline)]),
                    desc(&received),
                    &received,
                    &short,
                    bar,
                ),
                table: received,
            },
            Section {
                heading: t.t("reports.closed.heading").into(),
                series_name: t.t("reports.closed.series").into(),
                region: t.t("reports.closed.region").into(),
                chart: Chart::stacked(
                    "closed",
                    t.fill("reports.closed.chart", &[("period", &inline)]),
                    desc(&closed),
                    &closed,
                    &short,
                    bar,
                ),
                table: closed,
            },
        ],
        register_text: t.fill("reports.register.text", &[("period", &inline)]),
        period,
        on_time: timeliness.on_time_text(t),
        median: timeliness.median_text(t),
        p90: timeliness.p90_text(t),
        more_overdue_text: t.fill(
            "reports.overdue.more",
            &[
                ("shown", &overdue.len().to_string()),
                ("total", &open.overdue.to_string()),
            ],
        ),
        timeliness,
        open,
        overdue,
        more_overdue,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn the_default_range_is_the_twelve_months_up_to_this_one() {
        let r = MonthRange::parse(&RangeQuery::default(), d(2026, 11, 23));
        assert_eq!((r.first, r.last), (d(2025, 12, 1), d(2026, 11, 1)));
        assert_eq!(r.until(), d(2026, 12, 1));
        assert_eq!(r.months().len(), 12);
        let q = RangeQuery {
            from: Some("2025-03".into()),
            to: Some("2025-01".into()),
        };
        let r = MonthRange::parse(&q, d(2026, 11, 23));
        assert_eq!(
            (r.from_label(), r.to_label()),
            ("2025-01".into(), "2025-01".into())
        );
    }
}
