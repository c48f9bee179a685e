//! What the request page says when an action is refused: every refusal the workflow and the
//! domain can give, as a privacy team would say it, in the staff's language, with the field
//! it is about (the error summary links to it). The workflow's own messages are English
//! sentences for the API and the logs; none of them reaches a page as it is.

use crate::domain::deadline::{ExtensionError, Period};
use crate::domain::lifecycle::StepError;
use crate::domain::status::Status;
use crate::i18n::{Lang, Strings};
use crate::workflow::WorkflowError;

/// A refusal as the page shows it: the sentence, and the id of the field to fix.
#[derive(Debug, Clone)]
pub struct Said {
    pub message: String,
    /// The id of the field, which the error summary links to.
    pub field: Option<String>,
}

impl Said {
    pub fn new(t: &Strings, key: &str, field: Option<&str>) -> Said {
        Said {
            message: t.t(&format!("request.refusal.{key}")).to_string(),
            field: field.map(str::to_string),
        }
    }

    pub fn filled(t: &Strings, key: &str, values: &[(&str, &str)], field: Option<&str>) -> Said {
        Said {
            message: t.fill(&format!("request.refusal.{key}"), values),
            field: field.map(str::to_string),
        }
    }
}

/// "Identité à vérifier": a status as the dashboard names it.
pub fn status_label(t: &Strings, status: Status) -> String {
    t.t(&format!("label.status.{}", status.as_str()))
        .to_string()
}

/// "2 mois et 5 jours", "1 month".
pub fn period_words(t: &Strings, p: Period) -> String {
    match (p.months, p.days) {
        (0, 0) => t.t("request.deadline.none").to_string(),
        (m, 0) => t.count("units.months", i64::from(m)),
        (0, d) => t.count("units.days", i64::from(d)),
        (m, d) => t.fill(
            "request.deadline.and",
            &[
                ("a", &t.count("units.months", i64::from(m))),
                ("b", &t.count("units.days", i64::from(d))),
            ],
        ),
    }
}

/// A refusal from the workflow, for the action `action` (whose form holds the field).
pub fn refusal(e: &WorkflowError, action: &str, lang: Lang) -> Said {
    let t = lang.strings();
    match e {
        WorkflowError::NotFound => Said::new(t, "not_found", None),
        WorkflowError::Invalid { field, message } => invalid(t, action, field, message),
        WorkflowError::Step(step) => match step {
            StepError::Transition(tr) => transition(t, tr.from, tr.to),
            StepError::NotOnHold(_) => Said::new(t, "not_on_hold", None),
            StepError::BeforePause { .. } => Said::new(t, "before_pause", None),
            StepError::AlreadyVerified => Said::new(t, "already_verified", None),
        },
        WorkflowError::Extension(x) => extension(t, x, lang),
        WorkflowError::Refused(said) => refused(t, said),
        // Not the member of staff's to fix: the handler logs these and shows the error page.
        WorkflowError::Store(_) | WorkflowError::Mail(_) | WorkflowError::Files(_) => {
            Said::new(t, "internal", None)
        }
    }
}

fn transition(t: &Strings, from: Status, to: Status) -> Said {
    let from_words = status_label(t, from);
    if from.is_terminal() {
        return Said::filled(t, "closed", &[("status", &from_words)], None);
    }
    if from == to {
        return Said::filled(t, "already", &[("status", &from_words)], None);
    }
    let key = match to {
        Status::OnHold => "cannot_hold",
        Status::Fulfilled => "cannot_answer",
        Status::Rejected => "cannot_reject",
        Status::InProgress | Status::Verifying => "cannot_verify",
        Status::Withdrawn | Status::Expired | Status::New => "cannot_move",
    };
    Said::filled(t, key, &[("status", &from_words)], None)
}

fn extension(t: &Strings, x: &ExtensionError, lang: Lang) -> Said {
    match x {
        ExtensionError::NotAllowed { .. } => Said::new(t, "extension_not_allowed", None),
        ExtensionError::Empty => Said::new(t, "extension_empty", Some("ext-months")),
        ExtensionError::BeyondCap { max, remaining, .. } => Said::filled(
            t,
            if remaining.is_zero() {
                "extension_spent"
            } else {
                "extension_beyond"
            },
            &[
                ("max", &period_words(t, *max)),
                ("remaining", &period_words(t, *remaining)),
            ],
            Some("ext-months"),
        ),
        ExtensionError::TooLate { due_on } => Said::filled(
            t,
            "extension_too_late",
            &[("due", &crate::i18n::long_date(*due_on, lang))],
            None,
        ),
    }
}

/// The form field of `action` that holds the text the workflow checked.
fn text_field(action: &str) -> Option<&'static str> {
    Some(match action {
        "hold" => "hold-text",
        "verify" => "verify-note",
        "extend" => "ext-text",
        "reject" => "reject-text",
        "fulfil" => "letter",
        "reply" => "reply",
        "note" => "note",
        "identity" => return None,
        _ => return None,
    })
}

fn invalid(t: &Strings, action: &str, field: &str, message: &str) -> Said {
    let at = text_field(action);
    if field == "status" {
        return Said::new(t, "closed_plain", None);
    }
    if field == "reason" && message.contains("needs a reason") {
        return Said::new(t, "write.extend", Some("ext-text"));
    }
    let key = if message.contains("direction") {
        "text_direction"
    } else if message.contains("control character") {
        "text_control"
    } else if field == "file_name" {
        "file_name"
    } else {
        "text_other"
    };
    Said::new(t, key, at)
}

/// The workflow's refusals of a staff action, one by one; one it does not know yet is said
/// in general words, never in its English.
fn refused(t: &Strings, said: &str) -> Said {
    let (key, field) = match said {
        "Assign the request to an active member of staff who handles requests." => {
            ("assign_inactive", Some("assignee"))
        }
        "That document is not a proof of identity waiting for a decision." => {
            ("document_gone", None)
        }
        "A data source has not finished: wait for it, run it again or skip it, and finish the teams' tasks." => {
            ("sources_not_done", None)
        }
        "The data package is not released yet: review and release it first." => {
            ("package_not_released", None)
        }
        "No data source is configured (fulfilment.sources_file)." => ("no_sources", None),
        "Verify the requester's identity before sending the request to the sources." => {
            ("dispatch_unverified", None)
        }
        "Write the corrections, one per line: field = new value." => {
            ("changes_empty", Some("changes"))
        }
        "Corrections are being applied: wait until every source is done, then send the new ones." => {
            ("changes_busy", Some("changes"))
        }
        "Nothing to send: every source is under way or done." => ("nothing_to_send", None),
        "The source finished meanwhile; look again." => ("source_finished", None),
        "A file goes with a team's search for data (access) only." => ("task_no_file", None),
        "This request is closed." => ("closed_plain", None),
        "No such source run." => ("no_run", None),
        "This task is already done." => ("task_done", None),
        "There is no package yet." => ("no_package", None),
        "Only a package that failed, or whose build stopped, is built again." => {
            ("no_rebuild", None)
        }
        "Items can be withheld or put back while the package waits for review." => {
            ("not_reviewing", None)
        }
        "That item is already withheld." => ("already_withheld", None),
        "That item is not withheld." => ("not_withheld", None),
        "There is no package waiting for review." => ("not_reviewing", None),
        "The package is already released." => ("already_released", None),
        crate::workflow::scopes::UNCONFIRMED => ("scope_unconfirmed", None),
        crate::workflow::scopes::UNBALANCED => ("balancing_missing", None),
        crate::workflow::scopes::REFUSED_ON_GROUNDS => ("objection_refused", None),
        _ => ("other", None),
    };
    Said::new(t, key, field)
}

/// Where the corrections typed for a rectification do not read as `field = value` lines.
pub fn changes_refusal(t: &Strings, text: &str) -> Said {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((field, _)) = line.split_once('=') else {
            return Said::filled(t, "changes_line", &[("line", line)], Some("changes"));
        };
        let field = field.trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Said::filled(t, "changes_field", &[("field", field)], Some("changes"));
        }
    }
    Said::new(t, "changes_empty", Some("changes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_move_is_said_in_words_in_both_languages() {
        let e = WorkflowError::Step(StepError::Transition(
            crate::domain::status::TransitionError {
                from: Status::New,
                to: Status::Rejected,
            },
        ));
        for lang in Lang::ALL {
            let said = refusal(&e, "reject", lang);
            assert!(!said.message.contains("new"), "{}", said.message);
            assert!(!said.message.contains("rejected"), "{}", said.message);
            assert!(!said.message.contains("[missing"), "{}", said.message);
        }
        assert!(refusal(&e, "reject", Lang::Fr).message.contains("Nouvelle"));
    }

    #[test]
    fn every_refusal_of_the_workflow_has_words() {
        let all = [
            "Assign the request to an active member of staff who handles requests.",
            "That document is not a proof of identity waiting for a decision.",
            "A data source has not finished: wait for it, run it again or skip it, and finish the teams' tasks.",
            "The data package is not released yet: review and release it first.",
            "No data source is configured (fulfilment.sources_file).",
            "Verify the requester's identity before sending the request to the sources.",
            "Write the corrections, one per line: field = new value.",
            "Corrections are being applied: wait until every source is done, then send the new ones.",
            "Nothing to send: every source is under way or done.",
            "The source finished meanwhile; look again.",
            "A file goes with a team's search for data (access) only.",
            "This request is closed.",
            "No such source run.",
            "This task is already done.",
            "There is no package yet.",
            "Only a package that failed, or whose build stopped, is built again.",
            "Items can be withheld or put back while the package waits for review.",
            "That item is already withheld.",
            "That item is not withheld.",
            "There is no package waiting for review.",
            "The package is already released.",
            crate::workflow::scopes::UNCONFIRMED,
            crate::workflow::scopes::UNBALANCED,
            crate::workflow::scopes::REFUSED_ON_GROUNDS,
            "Something new",
        ];
        for lang in Lang::ALL {
            let t = lang.strings();
            let general = t.t("request.refusal.other");
            for said in all {
                let words = refused(t, said).message;
                assert!(!words.contains("[missing"), "{said} in {lang}");
                // Each known refusal has its own sentence; only an unknown one is general.
                assert_eq!(
                    words == general,
                    said == "Something new",
                    "{said} in {lang}"
                );
            }
        }
    }

    #[test]
    fn extensions_say_what_is_left() {
        let e = WorkflowError::Extension(ExtensionError::BeyondCap {
            profile: "gdpr".into(),
            requested: Period { months: 3, days: 0 },
            remaining: Period { months: 2, days: 0 },
            max: Period { months: 2, days: 0 },
        });
        let said = refusal(&e, "extend", Lang::Fr);
        assert!(said.message.contains("2 mois"), "{}", said.message);
        assert_eq!(said.field.as_deref(), Some("ext-months"));
    }
}
