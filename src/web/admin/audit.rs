//! The audit trail for DPOs and admins, as sentences: "Identité vérifiée par Alice Dupont
//! (lien envoyé à l'adresse électronique) — DSAR-2026-000123", times local with the zone
//! named, each request by its reference linked to its page; the chain's check on demand, its
//! result in words; filters by kind of event and by reference.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AdminError, Nav, Staff};
use crate::config::sources::Sources;
use crate::domain::reference::Reference;
use crate::i18n::{Lang, Strings, local_time, long_date};
use crate::staff::Names;
use crate::store::audit::{self, AuditRow, ChainStatus, Entry};
use crate::store::write_tx;
use crate::web::State;

const PAGE: i64 = 100;

/// The kinds of event the filter offers: (value, prefix of the action codes).
const CATEGORIES: [(&str, &str); 8] = [
    ("requests", "request."),
    ("documents", "document."),
    ("sources", "source"),
    ("exports", "export."),
    ("sign_in", "log"),
    ("accounts", "user."),
    ("register", "register."),
    ("audit", "audit."),
];

/// One entry as people read it.
pub struct AuditLine {
    pub when: String,
    pub sentence: String,
    /// (reference, link to the request).
    pub reference: Option<(String, String)>,
    /// Its place in the chain once sealed, in words.
    pub sealed: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub lines: Vec<AuditLine>,
    /// (value, words, selected)
    pub categories: Vec<(String, String, bool)>,
    pub reference: String,
    pub next: Option<String>,
    /// The outcome of "verify now", when just run: (intact, words).
    pub verdict: Option<(bool, String)>,
    /// The reference asked for names no request: said so.
    pub unknown_reference: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    /// A category of [`CATEGORIES`].
    category: Option<String>,
    /// A request's reference: its entries only.
    reference: Option<String>,
    /// The old filter: a prefix of the action codes.
    action: Option<String>,
}

/// Who did it, in words: a member of staff by their display name, anyone else by what they
/// are to the organisation.
fn who(t: &Strings, names: &Names, actor: &str) -> String {
    if let Some(id) = actor.strip_prefix("staff:") {
        let name = names.of(actor);
        return if name == actor {
            t.fill("reports.audit.actor.former_staff", &[("id", id)])
        } else {
            name
        };
    }
    if let Some(key) = actor.strip_prefix("api:") {
        return t.fill("reports.audit.actor.api", &[("key", key)]);
    }
    let key = match actor {
        "requester" => "requester",
        // The organisation a portability request's data were sent to (art. 20(2)).
        "recipient" => "recipient",
        "system" | "worker" => "system",
        "cli" => "cli",
        "anonymous" => "anonymous",
        _ => "other",
    };
    t.t(&format!("reports.audit.actor.{key}")).to_string()
}

fn text<'a>(details: &'a Value, key: &str) -> Option<&'a str> {
    details.get(key).and_then(Value::as_str)
}

fn number(details: &Value, key: &str) -> Option<i64> {
    details.get(key).and_then(Value::as_i64)
}

/// The words after the main clause: how identity was checked, to whom, until when, why.
fn detail(
    t: &Strings,
    lang: Lang,
    names: &Names,
    sources: &Sources,
    action: &str,
    d: &Value,
) -> String {
    let fill =
        |key: &str, values: &[(&str, &str)]| t.fill(&format!("reports.audit.detail.{key}"), values);
    // A source by the name the sources file gives it; its id only once it is gone from there.
    let source = || {
        text(d, "source").map(|id| {
            let name = sources.find(id).map_or(id, |s| s.name.as_str());
            fill("source", &[("source", name)])
        })
    };
    let role = |r: &str| {
        let key = format!("reports.audit.role.{r}");
        if t.has(&key) {
            t.t(&key).to_string()
        } else {
            String::new()
        }
    };
    let found = match action {
        "request.verify" | "request.confirm_email" => text(d, "method").map(|m| {
            fill(
                "method",
                &[("method", &crate::i18n::verification_method(m, lang))],
            )
        }),
        "request.reject" => text(d, "ground")
            .map(|g| fill("ground", &[("ground", t.t(&format!("label.ground.{g}")))])),
        "request.extend" => text(d, "due_on")
            .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
            .map(|due| fill("due_on", &[("date", &long_date(due, lang))])),
        "request.assign" => number(d, "assignee").map(|id| {
            fill(
                "assignee",
                &[("name", &who(t, names, &format!("staff:{id}")))],
            )
        }),
        "request.hold" => None,
        "sources.dispatch" => {
            number(d, "started").map(|n| t.count("reports.audit.detail.sources", n))
        }
        "export.built" => number(d, "records").map(|n| t.count("reports.audit.detail.records", n)),
        "export.download" => match (number(d, "download"), number(d, "of")) {
            (Some(n), Some(of)) => Some(fill(
                "download",
                &[("n", &n.to_string()), ("of", &of.to_string())],
            )),
            _ => None,
        },
        "user.role" => text(d, "to").map(|r| fill("role", &[("role", &role(r))])),
        "user.invite" => text(d, "role").map(|r| fill("role", &[("role", &role(r))])),
        "audit.verify" => d.get("intact").and_then(Value::as_bool).map(|intact| {
            t.t(if intact {
                "reports.audit.detail.intact"
            } else {
                "reports.audit.detail.broken"
            })
            .to_string()
        }),
        "register.download" => {
            text(d, "format").map(|f| fill("format", &[("format", &f.to_uppercase())]))
        }
        "purge.requests" => {
            number(d, "anonymised").map(|n| t.count("reports.audit.detail.requests", n))
        }
        "purge.documents" => {
            number(d, "count").map(|n| t.count("reports.audit.detail.documents", n))
        }
        "reminders.sweep" => d
            .get("counts")
            .and_then(|c| number(c, "mails"))
            .map(|n| t.count("reports.audit.detail.mails", n)),
        "sweep.requester" => match (number(d, "reminded"), number(d, "expired")) {
            (Some(r), Some(e)) => Some(fill(
                "swept",
                &[("reminded", &r.to_string()), ("expired", &e.to_string())],
            )),
            _ => None,
        },
        a if a.starts_with("source") => source(),
        _ => None,
    };
    found.unwrap_or_default()
}

/// The sentence's key: the action code with its dots as underscores, the assignment split
/// in two (to someone, to nobody).
fn sentence_key(action: &str, details: &Value) -> String {
    if action == "request.assign" && number(details, "assignee").is_none() {
        return "reports.audit.action.request_unassign".into();
    }
    format!("reports.audit.action.{}", action.replace('.', "_"))
}

/// The entry as a sentence in `lang`.
pub fn sentence(
    t: &Strings,
    lang: Lang,
    names: &Names,
    sources: &Sources,
    row: &AuditRow,
) -> String {
    let details: Value = serde_json::from_str(&row.details).unwrap_or(Value::Null);
    let key = sentence_key(&row.action, &details);
    let target = match (row.target_type.as_str(), row.target_id.as_deref()) {
        ("user", Some(id)) => who(t, names, &format!("staff:{id}")),
        _ => String::new(),
    };
    let values = [
        ("who", who(t, names, &row.actor)),
        ("target", target),
        (
            "detail",
            detail(t, lang, names, sources, &row.action, &details),
        ),
    ];
    let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    if t.has(&key) {
        t.fill(&key, &values)
    } else {
        t.fill("reports.audit.action.unknown", &values)
    }
}

async fn render_page(
    state: &State,
    staff: &Staff,
    query: AuditQuery,
    verdict: Option<(bool, String)>,
) -> Result<HttpResponse, AdminError> {
    let (t, lang) = (staff.lang().strings(), staff.lang());
    let category = query
        .category
        .as_deref()
        .and_then(|c| CATEGORIES.iter().find(|(v, _)| *v == c));
    let prefix = match (category, &query.action) {
        (Some((_, prefix)), _) => prefix.to_string(),
        (None, Some(a)) => crate::domain::text::searchable(a),
        (None, None) => String::new(),
    };
    let asked_reference = query
        .reference
        .as_deref()
        .map(crate::domain::text::searchable)
        .map(|r| r.trim().to_uppercase())
        .unwrap_or_default();
    let reference = asked_reference.parse::<Reference>().ok();
    let before = query.before;
    let filter = prefix.clone();
    let (rows, users, refs, unknown_reference) = state
        .db(move |conn, _| {
            let mut unknown = false;
            let rows = match reference {
                Some(r) => match crate::store::references::uuid_of(conn, r.year, r.seq)? {
                    Some(uuid) => {
                        let mut all = audit::for_target(conn, "request", &uuid)?;
                        all.reverse();
                        all.retain(|row| row.action.starts_with(&filter));
                        all
                    }
                    None => {
                        unknown = true;
                        Vec::new()
                    }
                },
                None => audit::page(conn, before, Some(&filter), PAGE + 1)?,
            };
            let uuids: Vec<String> = rows
                .iter()
                .filter(|r| r.target_type == "request")
                .filter_map(|r| r.target_id.clone())
                .collect();
            let refs = crate::store::references::by_uuid(conn, &uuids)?;
            Ok::<_, diesel::result::Error>((rows, crate::store::users::list(conn)?, refs, unknown))
        })
        .await?;
    let more = reference.is_none() && rows.len() > PAGE as usize;
    let rows: Vec<AuditRow> = rows
        .into_iter()
        .take(if reference.is_some() {
            usize::MAX
        } else {
            PAGE as usize
        })
        .collect();
    let names = Names::new(&users);
    let zone = state.law.time_zone;
    let kept = match (category, &query.action) {
        (Some((c, _)), _) => format!("&category={c}"),
        (None, Some(a)) if !a.is_empty() => format!("&action={}", super::url_escape(&prefix)),
        _ => String::new(),
    };
    let next = match rows.last() {
        Some(last) if more => Some(format!("/admin/audit?before={}{kept}", last.id)),
        _ => None,
    };
    let lines = rows
        .iter()
        .map(|row| {
            let reference = match (row.target_type.as_str(), &row.target_id) {
                ("request", Some(uuid)) => refs.get(uuid).map(|(year, id)| {
                    let r = Reference {
                        year: *year,
                        seq: *id,
                    }
                    .to_string();
                    (r.clone(), format!("/admin/requests/{r}"))
                }),
                _ => None,
            };
            AuditLine {
                when: local_time(row.at.and_utc(), zone, lang),
                sentence: sentence(t, lang, &names, &state.sources, row),
                reference,
                sealed: match row.seq {
                    Some(n) => t.fill("reports.audit.sealed", &[("n", &n.to_string())]),
                    None => t.t("reports.audit.waiting").to_string(),
                },
            }
        })
        .collect();
    let mut categories = vec![(
        String::new(),
        t.t("reports.audit.filter.any").to_string(),
        category.is_none(),
    )];
    categories.extend(CATEGORIES.iter().map(|(v, _)| {
        (
            v.to_string(),
            t.t(&format!("reports.audit.category.{v}")).to_string(),
            category.is_some_and(|(c, _)| c == v),
        )
    }));
    Ok(staff.page(&AuditPage {
        nav: staff.nav(),
        lines,
        categories,
        next,
        verdict,
        unknown_reference: unknown_reference.then(|| {
            t.fill(
                "reports.audit.unknown_reference",
                &[("reference", &asked_reference)],
            )
        }),
        reference: asked_reference,
    }))
}

pub async fn show(
    state: State,
    staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    render_page(&state, &staff, query.into_inner(), None).await
}

#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
}

/// Seals what waits, then walks the whole chain and names the first broken entry; the
/// check itself goes in the trail.
pub async fn verify(
    state: State,
    staff: Staff,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let (actor, now) = (staff.actor(), state.clock.now());
    let status = state
        .db(move |conn, _| {
            audit::seal_all(conn)?;
            let status = audit::verify(conn)?;
            let outcome = match &status {
                ChainStatus::Intact { entries, .. } => {
                    json!({ "intact": true, "entries": entries })
                }
                ChainStatus::Broken { id, .. } => json!({ "intact": false, "first_broken": id }),
            };
            write_tx(conn, |conn| {
                audit::append(
                    conn,
                    &Entry {
                        at: now.naive_utc(),
                        actor: &actor,
                        action: "audit.verify",
                        target_type: "audit",
                        target_id: None,
                        details: &outcome.to_string(),
                    },
                )
            })?;
            Ok::<_, diesel::result::Error>(status)
        })
        .await?;
    let t = staff.lang().strings();
    let verdict = match status {
        ChainStatus::Intact { entries, unsealed } => {
            let mut text = t.count("reports.audit.verdict.intact", entries as i64);
            if unsealed > 0 {
                text.push(' ');
                text.push_str(&t.count("reports.audit.verdict.unsealed", unsealed as i64));
            }
            (true, text)
        }
        ChainStatus::Broken { id, checked, .. } => (
            false,
            t.fill(
                "reports.audit.verdict.broken",
                &[("id", &id.to_string()), ("checked", &checked.to_string())],
            ),
        ),
    };
    render_page(&state, &staff, AuditQuery::default(), Some(verdict)).await
}

/// Every action code the product writes to the trail, for the test that each has its
/// sentence: the literal ones are found in the sources; those built at run time are here.
#[cfg(test)]
fn built_codes() -> Vec<String> {
    use crate::domain::fulfilment::Operation;
    use crate::domain::lifecycle::Step;
    let steps = [
        Step::ConfirmEmail {
            needs_identity: false,
        },
        Step::Hold(Default::default()),
        Step::Resume,
        Step::Verify,
        Step::Start,
        Step::Fulfil,
        Step::Reject(crate::domain::RejectGround::ALL[0]),
        Step::Withdraw,
        Step::Expire,
    ];
    // A new step fails to compile here until it is listed above.
    for s in steps {
        match s {
            Step::ConfirmEmail { .. }
            | Step::Hold(_)
            | Step::Resume
            | Step::Verify
            | Step::Start
            | Step::Fulfil
            | Step::Reject(_)
            | Step::Withdraw
            | Step::Expire => {}
        }
    }
    let mut codes: Vec<String> = steps
        .iter()
        .map(|s| format!("request.{}", s.name()))
        .collect();
    for op in Operation::ALL {
        codes.push(format!("source.{op}"));
        codes.push(format!("source.{op}.failed"));
    }
    codes.extend(["document.accepted", "document.refused", "login"].map(String::from));
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// String literals in the sources that look like audit codes, minus the portal's
    /// catalogue keys and a few configuration names that share a prefix.
    fn literal_codes() -> Vec<String> {
        const PREFIXES: [&str; 14] = [
            "request.",
            "document.",
            "source.",
            "sources.",
            "export.",
            "login.",
            "logout.",
            "user.",
            "api_key.",
            "audit.",
            "job.",
            "purge.",
            "reminders.",
            "sweep.",
        ];
        // Settings the settings page names, not audit actions.
        const NOT_AUDIT: [&str; 5] = [
            "register.file",
            "register.toml",
            "sources.toml",
            "source.third_party",
            "reminders.days_left",
        ];
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("admin/audit.rs") {
                    continue;
                }
                let code = std::fs::read_to_string(&path).expect("source");
                for literal in code.split('"').skip(1).step_by(2) {
                    let shaped = literal
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
                    let prefixed = PREFIXES.iter().any(|p| literal.starts_with(p))
                        || literal == "register.download";
                    if shaped
                        && prefixed
                        && !NOT_AUDIT.contains(&literal)
                        && !Lang::Fr.strings().has(literal)
                        // A key counted in words ("request.deadline.in" → `.one`, `.other`).
                        && !Lang::Fr.strings().has(&format!("{literal}.one"))
                        && !literal.ends_with('.')
                    {
                        found.push(literal.to_string());
                    }
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_audit_code_has_a_sentence_in_both_languages() {
        let literal = literal_codes();
        // The scan sees the codes it must (if it saw none, it would prove nothing).
        for known in [
            "request.filed",
            "user.totp_enabled",
            "export.release",
            "register.download",
        ] {
            assert!(
                literal.contains(&known.to_string()),
                "{known} not found: {literal:?}"
            );
        }
        let mut codes = literal;
        codes.extend(built_codes());
        codes.push("request.unassign".into());
        let mut missing = Vec::new();
        for code in &codes {
            for lang in Lang::ALL {
                let key = format!("reports.audit.action.{}", code.replace('.', "_"));
                if !lang.strings().has(&key) {
                    missing.push(format!("{code} ({lang})"));
                }
            }
        }
        assert!(missing.is_empty(), "no sentence for: {missing:?}");
    }

    fn row(actor: &str, action: &str, target: (&str, Option<&str>), details: Value) -> AuditRow {
        AuditRow {
            id: 1,
            at: chrono::NaiveDate::from_ymd_opt(2026, 3, 14)
                .and_then(|d| d.and_hms_opt(9, 42, 0))
                .expect("time"),
            actor: actor.into(),
            action: action.into(),
            target_type: target.0.into(),
            target_id: target.1.map(String::from),
            details: details.to_string(),
            seq: None,
            prev_hash: None,
            hash: None,
        }
    }

    #[test]
    fn entries_read_as_sentences() {
        let alice = crate::store::users::UserRow {
            id: 7,
            email: "alice@example.org".into(),
            name: "Alice Dupont".into(),
            role: "dpo".into(),
            password_hash: None,
            totp_secret: None,
            session_epoch: 0,
            disabled_at: None,
            created_at: chrono::NaiveDateTime::default(),
            last_login_at: None,
            lang: None,
        };
        let names = Names::new(&[alice]);
        let sources = Sources { list: Vec::new() };
        let fr = Lang::Fr.strings();
        let en = Lang::En.strings();
        let verify = row(
            "staff:7",
            "request.verify",
            ("request", Some("u")),
            json!({ "from": "verifying", "to": "in_progress", "method": "id_document" }),
        );
        assert_eq!(
            sentence(fr, Lang::Fr, &names, &sources, &verify),
            "Identité vérifiée par Alice Dupont (pièce d'identité vue)"
        );
        assert_eq!(
            sentence(en, Lang::En, &names, &sources, &verify),
            "Identity verified by Alice Dupont (identity document seen)"
        );
        let assign = row(
            "staff:7",
            "request.assign",
            ("request", Some("u")),
            json!({ "assignee": 7 }),
        );
        assert_eq!(
            sentence(fr, Lang::Fr, &names, &sources, &assign),
            "Demande attribuée à Alice Dupont par Alice Dupont"
        );
        let unassign = row(
            "staff:9",
            "request.assign",
            ("request", Some("u")),
            json!({ "assignee": null }),
        );
        assert_eq!(
            sentence(en, Lang::En, &names, &sources, &unassign),
            "Request unassigned by the former account no. 9"
        );
        let reject = row(
            "staff:7",
            "request.reject",
            ("request", Some("u")),
            json!({ "ground": "manifestly_unfounded" }),
        );
        let text = sentence(fr, Lang::Fr, &names, &sources, &reject);
        assert!(text.contains("manifestement infondée"), "{text}");
        assert!(!text.contains("manifestly_unfounded"), "{text}");
        let failed = row(
            "anonymous",
            "login.failed",
            ("user", None),
            json!({ "ip": "127.0.0.1" }),
        );
        assert_eq!(
            sentence(en, Lang::En, &names, &sources, &failed),
            "Failed sign-in (an unidentified person)"
        );
        let source = row(
            "worker",
            "source.erase.failed",
            ("request", Some("u")),
            json!({ "source": "crm" }),
        );
        assert!(sentence(fr, Lang::Fr, &names, &sources, &source).contains("«\u{a0}crm\u{a0}»"));
        // A source the sources file still lists, by its name.
        let named = Sources {
            list: vec![crate::config::sources::Source {
                id: "crm".into(),
                name: "Logiciel de relation client".into(),
                activity: "account".into(),
                categories: Vec::new(),
                recipient: None,
                connector: crate::config::sources::Connector::Manual(
                    crate::config::sources::ManualSource {
                        team: "Service client".into(),
                        instructions: String::new(),
                    },
                ),
            }],
        };
        let text = sentence(fr, Lang::Fr, &names, &named, &source);
        assert!(
            text.contains("«\u{a0}Logiciel de relation client\u{a0}»"),
            "{text}"
        );
    }
}
