//! `index.html`, the first file of a package: the Art. 15 statement (every activity of the
//! register, what was found in each, what was withheld and why, the person's rights) in the
//! requester's language, then the first rows of each table.

use std::io::Write;

use askama::Template;
use serde::Serialize;
use serde_json::Value;

use super::package::*;
use crate::config::processing::{AutomatedDecisions, PeriodUnit, Register, Source as DataSource};
use crate::config::sources::{Connector, Sources};
use crate::domain::fulfilment::Operation;
use crate::i18n::{Lang, Strings};
use crate::state::AppState;
use crate::store::fulfilment::RunRow;
use crate::store::requests::RequestRow;
use crate::workflow;

pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An activity of the register as index.html states it, in one language.
pub struct ActivityView {
    pub name: String,
    pub found: bool,
    /// Every system of the activity was searched in full (so "nothing found" is true).
    pub searched: bool,
    pub purposes: Vec<String>,
    pub basis: String,
    pub interest: Option<String>,
    pub categories: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<String>,
    pub retention: String,
    pub legal_reference: Option<String>,
    pub source: String,
    pub automated: String,
}

#[derive(Template)]
#[template(path = "export/index.html")]
struct Index<'a> {
    t: &'a Strings,
    lang: &'a str,
    organisation: &'a str,
    dpo_email: &'a str,
    postal_address: &'a str,
    reference: String,
    generated: String,
    kind_label: String,
    portability: bool,
    activities: Vec<ActivityView>,
    removed: Vec<(String, String)>,
    /// Sources staff went on without: (name, why).
    skipped: Vec<(String, String)>,
    /// (source name, file names)
    contents: Vec<(String, Vec<String>)>,
    status_url: String,
    /// What the request covered, when not everything.
    scope: Option<String>,
}

pub(super) fn pick(t: &crate::config::processing::Text, lang: Lang) -> String {
    match lang {
        Lang::Fr => t.fr.clone(),
        Lang::En => t.en.clone(),
    }
}

pub fn activity_views(
    register: Option<&Register>,
    lang: Lang,
    found: &[String],
    searched: &[String],
) -> Vec<ActivityView> {
    let t = lang.strings();
    let Some(register) = register else {
        return Vec::new();
    };
    let mut views: Vec<ActivityView> = register
        .activities
        .iter()
        .map(|a| {
            let retention = match (&a.retention.duration, &a.retention.criterion) {
                (Some(d), Some(c)) => {
                    format!("{} — {}", period(t, d.amount, d.unit), pick(c, lang))
                }
                (Some(d), None) => period(t, d.amount, d.unit),
                (None, Some(c)) => pick(c, lang),
                (None, None) => String::new(),
            };
            ActivityView {
                name: pick(&a.name, lang),
                found: found.contains(&a.id),
                searched: searched.contains(&a.id),
                purposes: a.purposes.iter().map(|p| pick(p, lang)).collect(),
                basis: t
                    .t(&format!("export.basis.{}", a.legal_basis.as_str()))
                    .to_string(),
                interest: a.legitimate_interest.as_ref().map(|i| pick(i, lang)),
                categories: a
                    .categories
                    .iter()
                    .map(|c| pick(&c.label(), lang))
                    .collect(),
                recipients: a
                    .recipients
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ({})",
                            pick(&r.name, lang),
                            t.t(&format!("export.role.{}", serde_plain(&r.role)))
                        )
                    })
                    .collect(),
                transfers: a
                    .transfers
                    .iter()
                    .map(|x| {
                        format!(
                            "{} — {} — {}",
                            x.country,
                            pick(&x.recipient, lang),
                            t.t(&format!("export.safeguard.{}", serde_plain(&x.safeguard)))
                        )
                    })
                    .collect(),
                retention,
                legal_reference: a.retention.legal_reference.clone(),
                source: match &a.source {
                    DataSource::Person => t.t("export.source_person").to_string(),
                    DataSource::ThirdParty(who) => pick(who, lang),
                },
                automated: match &a.automated_decisions {
                    AutomatedDecisions::None => t.t("export.automated_none").to_string(),
                    AutomatedDecisions::Logic(logic) => pick(logic, lang),
                },
            }
        })
        .collect();
    // What concerns the person first; the rest of the register follows, for completeness.
    views.sort_by_key(|v| !v.found);
    views
}

pub(super) fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(super) fn period(t: &Strings, amount: u32, unit: PeriodUnit) -> String {
    let key = match unit {
        PeriodUnit::Days => "units.days",
        PeriodUnit::Months => "units.months",
        PeriodUnit::Years => "units.years",
    };
    t.count(key, i64::from(amount))
}

/// Where the search stands for each activity: data found in it (withheld or not, portable
/// or not), and activities searched in full (every source of theirs answered, none skipped
/// or left to a person).
pub(super) fn searched_activities(
    sources: &Sources,
    runs: &[RunRow],
) -> (Vec<String>, Vec<String>) {
    let (mut found, mut complete) = (Vec::new(), Vec::new());
    let mut incomplete = Vec::new();
    for run in runs.iter().filter(|r| r.operation == Operation::Access) {
        let outcome = run.outcome();
        let Some(source) = sources.find(&run.source) else {
            continue;
        };
        let whole = outcome.skipped.is_none() && outcome.manual.is_empty();
        let mut activities = vec![(source.activity.clone(), outcome.records() > 0)];
        if let Connector::Sql(sql) = &source.connector {
            for table in &sql.tables {
                let rows = outcome.tables.get(&table.name).copied().unwrap_or(0);
                activities.push((table.activity.clone(), rows > 0));
            }
        }
        for (activity, has_data) in activities {
            if has_data {
                found.push(activity.clone());
            }
            if whole {
                complete.push(activity);
            } else {
                incomplete.push(activity);
            }
        }
    }
    complete.retain(|a| !incomplete.contains(a));
    (found, complete)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn write_index(
    out: &mut impl Write,
    state: &AppState,
    row: &RequestRow,
    lang: Lang,
    parts: &[Part<'_>],
    runs: &[RunRow],
    removed: &[Removed],
    portability: bool,
    scope: &crate::domain::scope::Scope,
) -> anyhow::Result<()> {
    let t = lang.strings();
    let org = &state.settings.organisation;
    let today = state.law.today(state.clock.now());
    let (found, searched) = searched_activities(&state.sources, runs);
    let index = Index {
        t,
        lang: lang.code(),
        organisation: &org.name,
        dpo_email: &org.dpo_email,
        postal_address: &org.postal_address,
        reference: workflow::reference(row).to_string(),
        generated: crate::i18n::long_date(today, lang),
        kind_label: t.t(&format!("kinds.{}.name", row.kind)).to_string(),
        portability,
        activities: activity_views(state.register.as_ref(), lang, &found, &searched),
        removed: removed
            .iter()
            .map(|r| (r.item.clone(), r.reason.clone()))
            .collect(),
        skipped: runs
            .iter()
            .filter_map(|r| {
                let why = r.outcome().skipped?;
                let name = state
                    .sources
                    .find(&r.source)
                    .map_or(r.source.clone(), |s| s.name.clone());
                Some((name, why))
            })
            .collect(),
        contents: parts
            .iter()
            .map(|p| {
                let files = match &p.file_name {
                    Some(f) => vec![format!("data/{}/{f}", p.id)],
                    None => vec![format!("data/{}.json", p.id), format!("data/{}.csv", p.id)],
                };
                (p.name.clone(), files)
            })
            .collect(),
        status_url: format!("{}/{}/", state.settings.base_url(), lang.code()),
        scope: (!scope.is_everything()).then(|| {
            t.fill(
                "scope.index",
                &[(
                    "scope",
                    &crate::workflow::scopes::scope_words(state, scope, lang),
                )],
            )
        }),
    };
    out.write_all(index.render()?.as_bytes())?;
    // The data, streamed: a table per source table, the first rows of each.
    writeln!(
        out,
        "<section id=\"data\"><h2>{}</h2>",
        esc(t.t("export.data_title"))
    )?;
    for part in parts {
        writeln!(
            out,
            "<section class=\"source\"><h3>{}</h3>",
            esc(&part.name)
        )?;
        if let Some(file) = &part.file_name {
            writeln!(
                out,
                "<p>{} <a href=\"data/{}/{}\">{}</a></p></section>",
                esc(t.t("export.found_file")),
                esc(&part.id),
                esc(file),
                esc(file)
            )?;
            continue;
        }
        let staged = part.run.staged.as_deref().unwrap_or_default();
        let mut current: Option<String> = None;
        let mut shown = 0usize;
        let mut columns: Vec<String> = Vec::new();
        let close =
            |out: &mut dyn Write, table: &str, shown: usize, total: u64| -> std::io::Result<()> {
                write!(out, "</tbody></table>")?;
                if (shown as u64) < total {
                    write!(
                        out,
                        "<p class=\"more\">{}</p>",
                        esc(&t.fill(
                            "export.more_rows",
                            &[
                                ("shown", &shown.to_string()),
                                ("total", &total.to_string()),
                                ("table", table)
                            ]
                        ))
                    )?;
                }
                Ok(())
            };
        for item in staged_records(state, staged)? {
            let (table, record) = item?;
            if !included(part, &table) {
                continue;
            }
            if current.as_deref() != Some(table.as_str()) {
                if let Some(prev) = &current {
                    let total = total(part, prev);
                    close(out, prev, shown, total)?;
                }
                let total = total(part, &table);
                columns = match &record {
                    Value::Object(map) => map.keys().cloned().collect(),
                    _ => vec!["value".into()],
                };
                write!(
                    out,
                    "<h4>{} <small>({})</small></h4><table><thead><tr>",
                    esc(&table),
                    esc(&t.count("export.records", total as i64))
                )?;
                for c in &columns {
                    write!(out, "<th>{}</th>", esc(c))?;
                }
                write!(out, "</tr></thead><tbody>")?;
                current = Some(table.clone());
                shown = 0;
            }
            if shown >= PREVIEW_ROWS {
                continue;
            }
            shown += 1;
            write!(out, "<tr>")?;
            for c in &columns {
                let cell = match &record {
                    Value::Object(map) => match map.get(c) {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Null) | None => String::new(),
                        Some(v) => v.to_string(),
                    },
                    other => other.to_string(),
                };
                write!(out, "<td>{}</td>", esc(&cell))?;
            }
            write!(out, "</tr>")?;
        }
        if let Some(prev) = &current {
            let total = total(part, prev);
            close(out, prev, shown, total)?;
        }
        writeln!(out, "</section>")?;
    }
    writeln!(out, "</section></main></body></html>")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::processing::LegalBasis;

    #[test]
    fn html_is_escaped() {
        assert_eq!(csv_quote("+33 6"), "+33 6");
        assert_eq!(csv_quote("a,\"b\""), "\"a,\"\"b\"\"\"");
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn every_activity_is_stated_in_both_languages() {
        let register = Register::parse(include_str!("../../config/register.example.toml")).unwrap();
        for lang in [Lang::Fr, Lang::En] {
            let views = activity_views(
                Some(&register),
                lang,
                &["invoicing".to_string()],
                &["invoicing".to_string()],
            );
            assert_eq!(views.len(), register.activities.len());
            assert!(views[0].found);
            for v in &views {
                assert!(!v.basis.contains("missing"), "{}", v.basis);
                assert!(
                    v.recipients.iter().all(|r| !r.contains("missing")),
                    "{:?}",
                    v.recipients
                );
                assert!(
                    v.transfers.iter().all(|r| !r.contains("missing")),
                    "{:?}",
                    v.transfers
                );
            }
        }
    }

    #[test]
    fn legal_bases_have_words() {
        for b in LegalBasis::ALL {
            for lang in [Lang::Fr, Lang::En] {
                assert!(lang.strings().has(&format!("export.basis.{}", b.as_str())));
            }
        }
    }
}
