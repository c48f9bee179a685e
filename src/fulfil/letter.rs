//! The answer letter's account of what the sources did, in the requester's language, and
//! which prefilled letter fits it (a letter never points to a list that is not there), and on
//! whose behalf a representative asked.

use crate::domain::fulfilment::Operation;
use crate::domain::fulfilment::RunStatus;
use crate::state::AppState;
use crate::store::fulfilment::RunRow;
use crate::store::requests::RequestRow;

/// Puts, after the letter's greeting, the paragraph that says on whose behalf the
/// representative asked: the letter goes to the representative, but the data it speaks of
/// are the person represented's. Leaves the letter as it is for a person acting for
/// themselves.
pub fn say_on_whose_behalf(letter: &mut String, row: &RequestRow, lang: crate::i18n::Lang) {
    let Some(subject) = &row.subject_name else {
        return;
    };
    // After a death, the filer acts for no one living: the letter says whose death it was.
    let key = if row.kind == crate::domain::kind::RequestKind::Heir {
        "answer.on_behalf_heir"
    } else if row.acting == crate::domain::filing::Acting::Parent {
        "answer.on_behalf_parent"
    } else {
        "answer.on_behalf"
    };
    let paragraph = lang.strings().fill(key, &[("subject", subject.as_str())]);
    // The mail greets the representative; the letter opens by naming the person.
    letter.insert_str(0, &format!("{paragraph}\n\n"));
}

/// Which letters fit a request: its kind's; after a death, those of what the filer asked
/// (`heir_estate`, `heir_close`...), or the kind's own when it was not asked (the API).
pub fn letter_kind(row: &RequestRow) -> String {
    let asked = serde_json::from_str::<serde_json::Value>(&row.form)
        .ok()
        .and_then(|form| form["heir_request"].as_str().map(str::to_string));
    match (row.kind, asked) {
        (crate::domain::kind::RequestKind::Heir, Some(asked))
            if crate::domain::filing::HEIR_ASKS.contains(&asked.as_str()) =>
        {
            format!("heir_{asked}")
        }
        // A change or a withdrawal of directives is answered as what it did.
        (crate::domain::kind::RequestKind::Directives, _) => {
            let action = serde_json::from_str::<serde_json::Value>(&row.form)
                .ok()
                .and_then(|form| form["directives_action"].as_str().map(str::to_string));
            match action.as_deref() {
                Some(a @ ("change" | "withdraw")) => format!("directives_{a}"),
                _ => "directives".to_string(),
            }
        }
        (kind, _) => kind.as_str().to_string(),
    }
}

/// A source's table as the register describes what it holds, in `lang`: its categories of
/// data by their short names ("Commandes, coordonnées"), for the staff and the requester
/// alike; the table's name in the database only when the register says nothing of it (a
/// service's own words, a table the sources file no longer lists).
pub fn table_words(state: &AppState, source: &str, table: &str, lang: crate::i18n::Lang) -> String {
    let described = || -> Option<String> {
        let crate::config::sources::Connector::Sql(sql) = &state.sources.find(source)?.connector
        else {
            return None;
        };
        let t = sql.tables.iter().find(|t| t.name == table)?;
        let activity = state
            .register
            .as_ref()?
            .activities
            .iter()
            .find(|a| a.id == t.activity)?;
        let words: Vec<String> = t
            .categories
            .iter()
            .filter_map(|id| activity.categories.iter().find(|c| &c.id == id))
            .map(|c| {
                let (first, other) = match lang {
                    crate::i18n::Lang::Fr => (&c.fr, &c.en),
                    crate::i18n::Lang::En => (&c.en, &c.fr),
                };
                let label = if first.trim().is_empty() {
                    other
                } else {
                    first
                };
                // "Identité (nom, prénom)": the name without its examples.
                label.split(" (").next().unwrap_or(label).trim().to_string()
            })
            .filter(|w| !w.is_empty())
            .enumerate()
            .map(|(i, w)| if i == 0 { w } else { sentence_case_tail(&w) })
            .collect();
        (!words.is_empty()).then(|| words.join(", "))
    };
    described().unwrap_or_else(|| table.to_string())
}

/// A label continuing a list: its capital dropped, unless it starts an acronym ("IP").
fn sentence_case_tail(word: &str) -> String {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(word.chars().skip(1)).collect()
        }
        _ => word.to_string(),
    }
}

/// What the sources did, in the requester's language, for the answer letter: what was
/// erased, what was kept under which rule and until when, what was changed, and which
/// recipients were told (Art. 19). Empty when no source ran anything but access.
pub fn answer_summary(state: &AppState, runs: &[RunRow], lang: crate::i18n::Lang) -> String {
    summary_text(state, &done_changes(runs), lang)
}

/// The runs that did something other than access, done: the ones the letter accounts for.
fn done_changes(runs: &[RunRow]) -> Vec<&RunRow> {
    runs.iter()
        .filter(|r| r.operation != Operation::Access && r.status == RunStatus::Done)
        .collect()
}

/// Which of the summary's sections have something in them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Found {
    pub erased: bool,
    pub kept: bool,
    pub changed: bool,
    pub notified: bool,
    /// A team did something by hand and said what.
    pub by_hand: bool,
}

impl Found {
    pub fn of(runs: &[RunRow]) -> Found {
        let mut found = Found::default();
        for run in done_changes(runs) {
            found.add(&run.outcome(), run.recipient.is_some());
        }
        found
    }

    /// Adds what one source did; `recipient` when the source is a recipient that was told.
    pub fn add(&mut self, o: &crate::domain::outcome::Outcome, recipient: bool) {
        self.erased |= !o.erased.is_empty();
        self.kept |= !o.kept.is_empty();
        self.changed |= !o.changed.is_empty();
        self.notified |= recipient;
        self.by_hand |= o.team_note.is_some();
    }
}

/// The key under `letters.` of the letter to prefill for a request of `kind`: the kind's
/// own, or a variant when what the sources did would leave a sentence pointing at nothing
/// ("listed below" with nothing below, recipients "told" when none were).
pub fn letter_key(kind: &str, package_empty: bool, found: &Found) -> String {
    let variant = match kind {
        "access" | "portability" | "heir_estate" if package_empty => "_empty",
        "erasure" => match (found.erased || found.by_hand, found.kept) {
            (false, false) => "_nothing",
            (false, true) => "_all_kept",
            (true, true) => "_kept",
            (true, false) => "",
        },
        "rectification" if found.notified => "_notified",
        // Closing a deceased's accounts that no source held: nothing was erased to say.
        "heir_close" if !(found.erased || found.by_hand || found.kept) => "_nothing",
        _ => "",
    };
    format!("letters.{kind}{variant}")
}

fn summary_text(state: &AppState, runs: &[&RunRow], lang: crate::i18n::Lang) -> String {
    let t = lang.strings();
    let name = |id: &str| {
        state
            .sources
            .find(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let rows_word = |n: u64| t.count("answer.rows", n as i64);
    let how = |h: &str| {
        if h == "deleted" {
            format!(", {}", t.t("answer.deleted"))
        } else if h.starts_with("anonymised") {
            format!(", {}", t.t("answer.anonymised"))
        } else if h.is_empty() {
            String::new()
        } else {
            format!(", {h}")
        }
    };
    // An erased or changed table: what it was, how many rows, and how.
    let change_line = |run: &RunRow, source: &str, c: &crate::domain::outcome::Changed| {
        format!(
            "- {source}: {} ({}{})",
            table_words(state, &run.source, &c.what, lang),
            rows_word(c.rows),
            how(&c.how)
        )
    };
    // The rule in the requester's language: the law when one applies, else the criterion.
    let rule = |k: &crate::fulfil::connectors::Kept| {
        let activity = state
            .register
            .as_ref()
            .and_then(|r| r.activities.iter().find(|a| a.id == k.activity));
        match activity {
            Some(a) => a.retention.legal_reference.clone().unwrap_or_else(|| {
                a.retention
                    .criterion
                    .as_ref()
                    .map(|c| match lang {
                        crate::i18n::Lang::Fr => c.fr.clone(),
                        crate::i18n::Lang::En => c.en.clone(),
                    })
                    .unwrap_or_default()
            }),
            None => k.rule.clone(),
        }
    };
    let mut sections: [(&str, Vec<String>); 6] = [
        ("answer.erased", Vec::new()),
        ("answer.kept", Vec::new()),
        ("answer.changed", Vec::new()),
        ("answer.notified", Vec::new()),
        ("answer.manual", Vec::new()),
        ("answer.skipped", Vec::new()),
    ];
    for run in runs {
        let o = run.outcome();
        let source = name(&run.source);
        sections[0]
            .1
            .extend(o.erased.iter().map(|c| change_line(run, &source, c)));
        for k in &o.kept {
            let until = k
                .until
                .map(|u| {
                    format!(
                        ", {}",
                        t.fill(
                            "answer.kept_until",
                            &[("until", &crate::i18n::long_date(u, lang))]
                        )
                    )
                })
                .unwrap_or_default();
            sections[1].1.push(format!(
                "- {source}: {} ({}) — {}{until}",
                table_words(state, &run.source, &k.what, lang),
                rows_word(k.rows),
                rule(k)
            ));
        }
        sections[2]
            .1
            .extend(o.changed.iter().map(|c| change_line(run, &source, c)));
        if let Some(r) = &run.recipient {
            sections[3].1.push(format!("- {r}"));
        }
        if let Some(note) = &o.team_note {
            sections[4].1.push(format!("- {source}: {note}"));
        }
        if let Some(why) = &o.skipped {
            sections[5].1.push(format!("- {source}: {why}"));
        }
    }
    let mut out = String::new();
    for (key, lines) in sections {
        if !lines.is_empty() {
            out.push_str(&format!("\n\n{}\n{}", t.t(key), lines.join("\n")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outcome::{Changed, Kept, Outcome};
    use crate::i18n::Lang;

    fn found(outcomes: &[Outcome]) -> Found {
        let mut found = Found::default();
        for o in outcomes {
            found.add(o, false);
        }
        found
    }

    fn erased() -> Outcome {
        Outcome {
            erased: vec![Changed {
                what: "customers".into(),
                rows: 1,
                how: "deleted".into(),
            }],
            ..Outcome::default()
        }
    }

    fn kept() -> Outcome {
        Outcome {
            kept: vec![Kept {
                what: "invoices".into(),
                rows: 2,
                activity: String::new(),
                rule: "Code de commerce, art. L123-22".into(),
                until: None,
                keys: Vec::new(),
            }],
            ..Outcome::default()
        }
    }

    fn letter(key: &str, lang: Lang) -> String {
        assert!(lang.strings().has(key), "{key} missing in {}", lang.code());
        lang.strings().t(key).to_string()
    }

    #[test]
    fn the_labels_after_the_first_read_as_one_phrase() {
        assert_eq!(sentence_case_tail("Coordonnées"), "coordonnées");
        assert_eq!(sentence_case_tail("Adresse e-mail"), "adresse e-mail");
        assert_eq!(sentence_case_tail("IP addresses"), "IP addresses");
        assert_eq!(sentence_case_tail("É"), "É");
    }

    #[test]
    fn an_erasure_with_nothing_found_says_so_and_points_at_nothing() {
        let key = letter_key("erasure", false, &found(&[Outcome::default()]));
        let fr = letter(&key, Lang::Fr);
        assert!(fr.contains("aucune donnée vous concernant"), "{fr}");
        assert!(fr.contains("rien à effacer"), "{fr}");
        assert!(!fr.contains("ci-dessous"), "{fr}");
        let en = letter(&key, Lang::En);
        assert!(en.contains("no data about you"), "{en}");
        assert!(!en.contains("below"), "{en}");
    }

    #[test]
    fn an_erasure_letter_mentions_kept_data_only_when_some_was_kept() {
        let all_erased = letter(&letter_key("erasure", false, &found(&[erased()])), Lang::Fr);
        assert!(!all_erased.contains("conserver"), "{all_erased}");
        assert!(all_erased.contains("ci-dessous"), "{all_erased}");
        let some_kept = letter(
            &letter_key("erasure", false, &found(&[erased(), kept()])),
            Lang::En,
        );
        assert!(some_kept.contains("except what the law requires us to keep"));
        let all_kept = letter(&letter_key("erasure", false, &found(&[kept()])), Lang::Fr);
        assert!(!all_kept.contains("nous avons effacé"), "{all_kept}");
        assert!(all_kept.contains("conserver"), "{all_kept}");
    }

    #[test]
    fn a_rectification_letter_says_recipients_were_told_only_when_they_were() {
        let none = letter(
            &letter_key("rectification", false, &Found::default()),
            Lang::En,
        );
        assert!(!none.contains("recipients"), "{none}");
        let told = Found {
            notified: true,
            ..Found::default()
        };
        let told = letter(&letter_key("rectification", false, &told), Lang::Fr);
        assert!(told.contains("article 19"), "{told}");
    }

    #[test]
    fn every_letter_exists_in_both_languages_without_its_own_greeting_or_signature() {
        let variants = [
            Found::default(),
            found(&[erased()]),
            found(&[kept()]),
            found(&[erased(), kept()]),
            Found {
                notified: true,
                ..Found::default()
            },
        ];
        for kind in crate::domain::kind::RequestKind::ALL {
            for empty in [false, true] {
                for f in &variants {
                    let key = letter_key(kind.as_str(), empty, f);
                    for lang in Lang::ALL {
                        let text = letter(&key, lang);
                        // The mail's layout greets and signs: the letter is what lies between.
                        for own in ["Bonjour", "Dear", "Cordialement", "Kind regards"] {
                            assert!(!text.contains(own), "{key} {}: {text}", lang.code());
                        }
                    }
                }
            }
        }
    }
}
