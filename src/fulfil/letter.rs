//! The answer letter's account of what the sources did, in the requester's language, and
//! on whose behalf a representative asked.

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
    let paragraph = lang
        .strings()
        .fill("answer.on_behalf", &[("subject", subject.as_str())]);
    match letter.find("\n\n") {
        Some(at) => letter.insert_str(at, &format!("\n\n{paragraph}")),
        None => letter.insert_str(0, &format!("{paragraph}\n\n")),
    }
}

/// What the sources did, in the requester's language, for the answer letter: what was
/// erased, what was kept under which rule and until when, what was changed, and which
/// recipients were told (Art. 19). Empty when no source ran anything but access.
pub fn answer_summary(state: &AppState, runs: &[RunRow], lang: crate::i18n::Lang) -> String {
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
    let change_line = |source: &str, c: &crate::domain::outcome::Changed| {
        format!(
            "- {source}: {} ({}{})",
            c.what,
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
    for run in runs
        .iter()
        .filter(|r| r.operation != Operation::Access && r.status == RunStatus::Done)
    {
        let o = run.outcome();
        let source = name(&run.source);
        sections[0]
            .1
            .extend(o.erased.iter().map(|c| change_line(&source, c)));
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
                k.what,
                rows_word(k.rows),
                rule(k)
            ));
        }
        sections[2]
            .1
            .extend(o.changed.iter().map(|c| change_line(&source, c)));
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
