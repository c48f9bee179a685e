//! Counts per month as a table and as a stacked bar chart drawn on the server in SVG: no
//! script, colours as presentation attributes (the CSP forbids `style=`), and a title and
//! description for screen readers, with the table beside it holding the same figures.

use std::collections::HashMap;

use crate::store::reports::MonthCount;

/// Okabe–Ito (its eighth, black, as a dark grey) and Tol's wine: told apart by those who do
/// not see every colour. Nine, one per kind of request: the two kinds the post-mortem
/// channels added had taken the first two colours again.
const PALETTE: [&str; 9] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#333333",
    "#882255",
];

/// A table of counts: one row per month, one column per series, with totals.
pub struct CountTable {
    pub series: Vec<String>,
    /// (month, counts in series order, total)
    pub rows: Vec<(String, Vec<i64>, i64)>,
    pub totals: Vec<i64>,
    pub total: i64,
}

impl CountTable {
    /// `months` and `series` as (code, words): the codes find the counts, the words are
    /// what the table and the chart show.
    pub fn build(
        months: &[(String, String)],
        series: &[(String, String)],
        counts: &[MonthCount],
    ) -> CountTable {
        let cell: HashMap<(&str, &str), i64> = counts
            .iter()
            .map(|c| ((c.month.as_str(), c.key.as_str()), c.count))
            .collect();
        let rows: Vec<(String, Vec<i64>, i64)> = months
            .iter()
            .map(|(m, label)| {
                let values: Vec<i64> = series
                    .iter()
                    .map(|(s, _)| cell.get(&(m.as_str(), s.as_str())).copied().unwrap_or(0))
                    .collect();
                let sum = values.iter().sum();
                (label.clone(), values, sum)
            })
            .collect();
        let totals = (0..series.len())
            .map(|i| rows.iter().map(|(_, v, _)| v[i]).sum())
            .collect();
        let total = rows.iter().map(|(_, _, t)| t).sum();
        CountTable {
            series: series.iter().map(|(_, w)| w.clone()).collect(),
            rows,
            totals,
            total,
        }
    }
}

/// A stacked bar chart drawn on the server as SVG: no script, colours as presentation
/// attributes (the CSP allows no `style=`), a title and description for screen readers.
pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub width: i64,
    pub height: i64,
    pub axis_y: i64,
    pub max: i64,
    pub bars: Vec<Bar>,
    /// (x, text) under each month.
    pub labels: Vec<(i64, String)>,
    /// (colour, series name)
    pub legend: Vec<(&'static str, String)>,
}

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub fill: &'static str,
    pub label: String,
}

const PLOT_TOP: i64 = 12;
const PLOT_HEIGHT: i64 = 180;
const LEFT: i64 = 40;
const SLOT: i64 = 52;

impl Chart {
    /// The chart of `table`: `short` names each month under its bar; `bar` words each bar's
    /// tooltip (month, series, value); `desc` says what the chart shows, for screen readers.
    pub fn stacked(
        id: &'static str,
        title: String,
        desc: String,
        table: &CountTable,
        short: &[String],
        bar: impl Fn(&str, &str, i64) -> String,
    ) -> Chart {
        let max = table
            .rows
            .iter()
            .map(|(_, _, t)| *t)
            .max()
            .unwrap_or(0)
            .max(1);
        let axis_y = PLOT_TOP + PLOT_HEIGHT;
        let mut bars = Vec::new();
        let mut labels = Vec::new();
        for (i, (month, values, _)) in table.rows.iter().enumerate() {
            let x = LEFT + i as i64 * SLOT + 8;
            let mut top = axis_y;
            for (j, value) in values.iter().enumerate().filter(|(_, v)| **v > 0) {
                let height = (value * PLOT_HEIGHT + max / 2) / max;
                top -= height;
                bars.push(Bar {
                    x,
                    y: top,
                    width: SLOT - 16,
                    height,
                    fill: PALETTE[j % PALETTE.len()],
                    label: bar(month, &table.series[j], *value),
                });
            }
            let text = short.get(i).cloned().unwrap_or_else(|| month.clone());
            labels.push((x + (SLOT - 16) / 2, text));
        }
        Chart {
            id,
            title,
            desc,
            width: LEFT + table.rows.len() as i64 * SLOT + 8,
            height: axis_y + 28,
            axis_y,
            max,
            bars,
            labels,
            legend: table
                .series
                .iter()
                .enumerate()
                .map(|(j, s)| (PALETTE[j % PALETTE.len()], s.clone()))
                .collect(),
        }
    }
}
