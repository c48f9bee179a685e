//! The configuration this server runs with, for administrators: grouped by what it governs
//! (the organisation, deadlines, the portal, mail, security, the worker's schedule, storage
//! and retention, the database), each value with a sentence saying what it does, in the
//! reader's language; every secret masked. The whole file, masked too, stays one click away.

use actix_web::HttpResponse;
use askama::Template;

use super::{AdminError, Nav, Staff};
use crate::config::{IdentityPolicy, Settings, redact_url};
use crate::i18n::{Lang, Strings};
use crate::web::State;

/// One setting: its name in words, its value as shown, what it does, and its key in the file.
pub struct Row {
    pub label: String,
    pub value: String,
    pub help: String,
    pub key: &'static str,
}

/// Settings that govern one thing.
pub struct Group {
    pub id: &'static str,
    pub title: String,
    pub intro: String,
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub groups: Vec<Group>,
    pub toml: String,
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    let t = staff.lang().strings();
    let backend = match state.backend {
        crate::store::Backend::Sqlite => "SQLite",
        crate::store::Backend::Postgres => "PostgreSQL",
    };
    Ok(staff.page(&SettingsPage {
        nav: staff.nav(),
        t,
        groups: groups(&state.settings, backend, staff.lang()),
        toml: state.settings.redacted_toml(),
    }))
}

/// Builds the rows of one group from (setting, value) pairs; the words come from
/// `shell.conf.row.<setting>.{label,help}`.
struct Rows<'t> {
    t: &'t Strings,
    rows: Vec<Row>,
}

impl Rows<'_> {
    fn add(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        let name = key.replace('.', "_");
        self.rows.push(Row {
            label: self
                .t
                .t(&format!("shell.conf.row.{name}.label"))
                .to_string(),
            value: value.into(),
            help: self.t.t(&format!("shell.conf.row.{name}.help")).to_string(),
            key,
        });
        self
    }
}

fn groups(s: &Settings, backend: &str, lang: Lang) -> Vec<Group> {
    let t = lang.strings();
    let yes_no = |b: bool| t.t(if b { "shell.conf.yes" } else { "shell.conf.no" });
    let or_none = |v: &str| {
        if v.trim().is_empty() {
            t.t("shell.conf.none").to_string()
        } else {
            v.to_string()
        }
    };
    let days = |n: u32| t.count("shell.conf.days", i64::from(n));
    let schedule = |v: &str| match v.trim() {
        "" => t.t("shell.conf.never").to_string(),
        every if every.starts_with("every") => t.fill(
            "shell.conf.every",
            &[("every", every.trim_start_matches("every").trim())],
        ),
        at => t.fill("shell.conf.daily", &[("time", at)]),
    };
    let policy = |p: IdentityPolicy| {
        t.t(match p {
            IdentityPolicy::Email => "shell.conf.identity_email",
            IdentityPolicy::Document => "shell.conf.identity_document",
        })
        .to_string()
    };
    let secret = |set: bool, file: &str| {
        if set {
            t.t("shell.conf.secret_set").to_string()
        } else {
            t.fill("shell.conf.secret_file", &[("file", file)])
        }
    };
    let group = |id: &'static str, fill: &dyn Fn(&mut Rows<'_>)| {
        let mut rows = Rows {
            t,
            rows: Vec::new(),
        };
        fill(&mut rows);
        Group {
            id,
            title: t.t(&format!("shell.conf.group.{id}.title")).to_string(),
            intro: t.t(&format!("shell.conf.group.{id}.intro")).to_string(),
            rows: rows.rows,
        }
    };
    let o = &s.organisation;
    vec![
        group("organisation", &|r| {
            r.add("organisation.name", &o.name)
                .add(
                    "organisation.language",
                    t.t(&format!("accounts.lang_name.{}", s.language().code())),
                )
                .add("organisation.contact_email", &o.contact_email)
                .add("organisation.dpo_email", &o.dpo_email)
                .add("organisation.postal_address", &o.postal_address)
                .add("organisation.base_url", &o.base_url)
                .add("organisation.logo", or_none(&o.logo))
                .add("organisation.accent", s.brand().accent.hex());
        }),
        group("deadlines", &|r| {
            let holidays: Vec<String> = s
                .deadlines
                .extra_holidays
                .iter()
                .map(|d| crate::i18n::long_date(*d, lang))
                .collect();
            // A profile by its words ("Deux mois, prolongeables d'un mois"); one the
            // organisation defined itself, by the name it gave it.
            let profile = |id: &str| {
                let key = format!("request.profile.{id}");
                if t.has(&key) {
                    t.t(&key).to_string()
                } else {
                    id.to_string()
                }
            };
            let countries: Vec<String> = s
                .deadlines
                .countries
                .iter()
                .map(|(country, id)| format!("{country} → {}", profile(id)))
                .collect();
            let days_left: Vec<String> = s.reminders.days_left.iter().map(u32::to_string).collect();
            r.add("organisation.default_profile", profile(&o.default_profile))
                .add("organisation.country", &o.country)
                .add("organisation.time_zone", &o.time_zone)
                .add("deadlines.extra_holidays", or_none(&holidays.join(", ")))
                .add("deadlines.countries", or_none(&countries.join(", ")))
                .add(
                    "reminders.days_left",
                    t.fill("shell.conf.days_list", &[("days", &days_left.join(", "))]),
                );
        }),
        group("portal", &|r| {
            let p = &s.portal;
            let id = &s.identity;
            // "10,0 Mo" in French, "10.0 MB" in English.
            let decimal = |n: f64| match lang {
                Lang::Fr => format!("{n:.1}").replace('.', ","),
                Lang::En => format!("{n:.1}"),
            };
            r.add("portal.link_ttl_days", days(p.link_ttl_days))
                .add(
                    "portal.submissions_per_hour",
                    p.submissions_per_hour.to_string(),
                )
                .add(
                    "portal.max_upload_bytes",
                    t.fill(
                        "shell.conf.megabytes",
                        &[("n", &decimal(p.max_upload_bytes as f64 / 1_048_576.0))],
                    ),
                )
                .add("portal.remind_after_days", days(p.remind_after_days))
                .add(
                    "portal.expire_after_days",
                    if p.expire_after_days == 0 {
                        t.t("shell.conf.never").to_string()
                    } else {
                        days(p.expire_after_days)
                    },
                )
                .add("portal.trust_forwarded_for", yes_no(p.trust_forwarded_for))
                .add("identity.access", policy(id.access))
                .add("identity.rectification", policy(id.rectification))
                .add("identity.erasure", policy(id.erasure))
                .add("identity.restriction", policy(id.restriction))
                .add("identity.portability", policy(id.portability))
                .add("identity.objection", policy(id.objection))
                .add("identity.consent_withdrawal", policy(id.consent_withdrawal))
                .add("identity.directives", policy(id.directives));
        }),
        group("mail", &|r| {
            let m = &s.mail;
            let transport = if m.smtp_url.trim().is_empty() {
                t.fill(
                    "shell.conf.mail_files",
                    &[("dir", &m.outbox_dir.display().to_string())],
                )
            } else {
                redact_url(&m.smtp_url)
            };
            r.add("mail.from", &m.from)
                .add("mail.smtp_url", transport)
                .add(
                    "mail.timeout_seconds",
                    t.count(
                        "accounts.seconds",
                        i64::try_from(m.timeout_seconds).unwrap_or(0),
                    ),
                );
        }),
        group("security", &|r| {
            let sec = &s.security;
            r.add(
                "security.session_key",
                secret(!sec.session_key.is_empty(), &sec.session_key_file),
            )
            .add(
                "security.session_idle_minutes",
                t.count("shell.conf.minutes", i64::from(sec.session_idle_minutes)),
            )
            .add(
                "security.session_absolute_hours",
                t.count("shell.conf.hours", i64::from(sec.session_absolute_hours)),
            )
            .add(
                "fulfilment.key",
                secret(!s.fulfilment.key.is_empty(), &s.fulfilment.key_file),
            );
        }),
        group("worker", &|r| {
            let w = &s.worker;
            r.add("worker.embedded", yes_no(w.embedded))
                .add(
                    "worker.schedule.deadline_sweep",
                    schedule(&w.schedule.deadline_sweep),
                )
                .add(
                    "worker.schedule.requester_sweep",
                    schedule(&w.schedule.requester_sweep),
                )
                .add("worker.schedule.purge", schedule(&w.schedule.purge))
                .add(
                    "worker.retry_backoff_seconds",
                    t.count(
                        "accounts.seconds",
                        i64::try_from(w.retry_backoff_seconds).unwrap_or(0),
                    ),
                )
                .add(
                    "worker.lease_seconds",
                    t.count(
                        "accounts.seconds",
                        i64::try_from(w.lease_seconds).unwrap_or(0),
                    ),
                );
        }),
        group("storage", &|r| {
            let f = &s.fulfilment;
            let backend = match s.storage.backend {
                crate::config::StorageBackend::Folder => "shell.conf.storage.folder",
                crate::config::StorageBackend::Database => "shell.conf.storage.database",
            };
            r.add("storage.backend", t.t(backend).to_string())
                .add("storage.dir", &s.storage.dir)
                .add("fulfilment.dir", &f.dir)
                .add("fulfilment.sources_file", or_none(&f.sources_file))
                .add("register.file", or_none(&s.register.file))
                .add("fulfilment.download_days", days(f.download_days))
                .add("fulfilment.max_downloads", f.max_downloads.to_string())
                .add(
                    "retention.document_max_days",
                    days(s.retention.document_max_days),
                )
                .add(
                    "retention.closed_request_years",
                    t.count(
                        "shell.conf.years",
                        i64::from(s.retention.closed_request_years),
                    ),
                );
        }),
        group("database", &|r| {
            let db = &s.database;
            r.add("database.backend", backend)
                .add("database.url", redact_url(&db.url))
                .add("database.pool_size", db.pool_size.to_string())
                .add(
                    "database.sqlite_group_commit",
                    yes_no(db.sqlite_group_commit),
                )
                .add("database.auto_migrate", yes_no(db.auto_migrate))
                .add("http.bind", &s.http.bind);
        }),
    ]
}
