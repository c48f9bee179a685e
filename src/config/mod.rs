//! Settings: the embedded `config/default.toml`, then the file named by `DSAR_CONFIG`, then
//! `DSAR_<SECTION>__<KEY>` environment variables, each layered over the one before. Unknown
//! keys are refused with the key and its source named; secrets never print. The files a
//! setting names are read here too: the record of processing activities ([`processing`]) and
//! the data sources ([`sources`]).

pub mod identity;
pub mod processing;
pub mod sources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::domain::calendar::{Country, HolidayCalendar};
use crate::domain::deadline::{Profile, builtin_profiles};
use crate::i18n::Lang;

pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const ENV_PREFIX: &str = "DSAR_";
/// Tables whose keys are names chosen by the operator, not settings of ours.
const FREE_FORM_TABLES: &[&str] = &["deadlines.profiles", "deadlines.countries"];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub organisation: Organisation,
    pub http: Http,
    pub database: Database,
    pub log: Log,
    pub worker: Worker,
    pub mail: MailSettings,
    pub deadlines: Deadlines,
    pub portal: Portal,
    pub identity: Identity,
    pub storage: Storage,
    pub security: Security,
    pub retention: Retention,
    pub reminders: Reminders,
    pub register: Register,
    pub fulfilment: Fulfilment,
    /// The accent and the logo, read and checked from `organisation.accent` and
    /// `organisation.logo` when the settings load.
    #[serde(skip)]
    brand: identity::Brand,
}

/// Data sources, export packages and the suppression list (see [`crate::config::sources`]).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fulfilment {
    /// The sources' TOML file; empty: no source (requests are answered by hand).
    pub sources_file: String,
    /// 32 bytes in hex: encrypts packages and staged data at rest and keys the suppression
    /// list's hashes. Empty: the key in `key_file` (created on first start).
    pub key: String,
    pub key_file: String,
    /// Where packages and staged data are written (encrypted).
    pub dir: String,
    /// How long a released package can be downloaded, and how many times.
    pub download_days: u32,
    pub max_downloads: u32,
}

impl std::fmt::Debug for Fulfilment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fulfilment")
            .field("sources_file", &self.sources_file)
            .field("key", &if self.key.is_empty() { "" } else { "***" })
            .field("key_file", &self.key_file)
            .field("dir", &self.dir)
            .field("download_days", &self.download_days)
            .field("max_downloads", &self.max_downloads)
            .finish()
    }
}

impl Fulfilment {
    /// Reads and checks the sources the settings name, against the register.
    pub fn load_sources(
        &self,
        register: Option<&crate::config::processing::Register>,
    ) -> anyhow::Result<crate::config::sources::Sources> {
        if self.sources_file.trim().is_empty() {
            return Ok(crate::config::sources::Sources { list: Vec::new() });
        }
        crate::config::sources::Sources::load(Path::new(&self.sources_file), register)
            .map_err(|e| anyhow!("fulfilment.sources_file: {e:#}"))
    }
}

/// How long what the law does not require is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Identity documents and mandates are deleted once decided; undecided ones after this.
    pub document_max_days: u32,
    /// Closed requests are anonymised after this many years (the register row stays).
    pub closed_request_years: u32,
    /// The least number of days between the notice of a restriction's lift and the lift
    /// (Art. 18(3); see [`crate::domain::follow::DEFAULT_LIFT_NOTICE_DAYS`]).
    #[serde(default = "default_lift_notice_days")]
    pub lift_notice_days: u32,
}

fn default_lift_notice_days() -> u32 {
    crate::domain::follow::DEFAULT_LIFT_NOTICE_DAYS
}

/// The record of processing activities (see [`crate::config::processing`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The register's TOML file; empty: no register yet.
    pub file: String,
}

impl Register {
    /// Reads and checks the register the settings name, `None` when they name none.
    pub fn load(&self) -> anyhow::Result<Option<crate::config::processing::Register>> {
        if self.file.trim().is_empty() {
            return Ok(None);
        }
        crate::config::processing::Register::load(Path::new(&self.file))
            .map(Some)
            .map_err(|e| anyhow!("register.file: {e:#}"))
    }
}

/// Deadline reminders to staff (the `deadline_sweep` periodic task sends them).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminders {
    /// Days left at which the assignee (or, unassigned, every DPO) is reminded, once each.
    pub days_left: Vec<u32>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// 64 bytes in hex that sign and encrypt staff sessions. Empty: read (or create) the key
    /// in `session_key_file`, so sessions survive restarts on one machine. Several web nodes
    /// need the same key.
    pub session_key: String,
    pub session_key_file: String,
    /// A session left unused this long ends.
    pub session_idle_minutes: u32,
    /// A session ends this long after login, used or not.
    pub session_absolute_hours: u32,
}

impl std::fmt::Debug for Security {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Security")
            .field(
                "session_key",
                &if self.session_key.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("session_key_file", &self.session_key_file)
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    pub link_ttl_days: u32,
    pub submissions_per_hour: u32,
    pub max_upload_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// A request unconfirmed, or on hold waiting for the requester, gets one reminder with a
    /// fresh link after this many days…
    pub remind_after_days: u32,
    /// …and expires after this many (0: never).
    pub expire_after_days: u32,
}

/// How a requester proves who they are, per kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityPolicy {
    /// A confirmed email address is enough.
    Email,
    /// An identity document is asked for once the address is confirmed.
    Document,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub access: IdentityPolicy,
    pub rectification: IdentityPolicy,
    pub erasure: IdentityPolicy,
    pub restriction: IdentityPolicy,
    pub portability: IdentityPolicy,
    pub objection: IdentityPolicy,
    pub consent_withdrawal: IdentityPolicy,
    /// Recording post-mortem directives (art. 85 loi Informatique et Libertés). Absent from
    /// older configuration files: a confirmed address, as for the rights it sits beside.
    #[serde(default = "email_policy")]
    pub directives: IdentityPolicy,
}

fn email_policy() -> IdentityPolicy {
    IdentityPolicy::Email
}

impl Identity {
    pub fn policy(&self, kind: crate::domain::kind::RequestKind) -> IdentityPolicy {
        use crate::domain::kind::RequestKind as K;
        match kind {
            K::Access => self.access,
            K::Rectification => self.rectification,
            K::Erasure => self.erasure,
            K::Restriction => self.restriction,
            K::Portability => self.portability,
            K::Objection => self.objection,
            K::ConsentWithdrawal => self.consent_withdrawal,
            K::Directives => self.directives,
            // Whoever asks after a death proves the death and their capacity with two
            // documents the team reviews, whatever the policy (see `Filing::representative`).
            K::Heir => IdentityPolicy::Document,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// Uploaded documents and attachments, never served as a folder.
    pub dir: String,
    /// Where stored files live: uploads, and the fulfilment folder's staged data and packages.
    pub backend: StorageBackend,
}

/// `folder`: `storage.dir` and `fulfilment.dir` on this machine's disk (one node, or a shared
/// mount). `database`: in the database, so that every web node sees the same files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Folder,
    Database,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    /// The dashboard's language for accounts that have not chosen one, and the portal's when
    /// the browser asks for neither French nor English: `fr` or `en`.
    pub language: String,
    pub contact_email: String,
    pub dpo_email: String,
    pub postal_address: String,
    pub country: String,
    pub time_zone: String,
    pub base_url: String,
    pub default_profile: String,
    /// An SVG or PNG file shown beside the name on the portal, the dashboard and in mails;
    /// empty: the name alone.
    pub logo: String,
    /// `#rrggbb` for buttons, links and the header; white text on it must read at 4.5:1.
    pub accent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub bind: String,
    pub workers: usize,
    pub max_json_bytes: usize,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub url: String,
    pub pool_size: u32,
    pub busy_timeout_ms: u64,
    /// How much of a SQLite file each pooled connection may map into memory (MiB; 0: none).
    /// Mapped pages count in the server's resident memory once per connection that read them.
    pub sqlite_mmap_mib: u32,
    /// SQLite only: API filings that arrive together are written in one transaction, each in
    /// a savepoint, and answered after its commit (see `store::group`).
    pub sqlite_group_commit: bool,
    /// Apply pending migrations at start. Off where `dsar migrate` is run as a step of its
    /// own (several nodes, rolling upgrades): a start then refuses a database that lacks any.
    pub auto_migrate: bool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("busy_timeout_ms", &self.busy_timeout_ms)
            .field("sqlite_mmap_mib", &self.sqlite_mmap_mib)
            .field("sqlite_group_commit", &self.sqlite_group_commit)
            .field("auto_migrate", &self.auto_migrate)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Worker {
    pub embedded: bool,
    pub poll_interval_ms: u64,
    /// A failed job's first retry waits this long; each next one twice as long, up to 6 h.
    pub retry_backoff_seconds: u64,
    /// How long a claimed job is held before another worker may take it over: a worker that
    /// died (a crash, a host gone) has its jobs run elsewhere after this. A running job renews
    /// its lease every fifth of it, so a long package is never taken over while it is built.
    pub lease_seconds: u64,
    pub schedule: WorkerSchedule,
}

/// Periodic tasks and when they run, in the syntax of
/// [`crate::domain::reminder::Schedule`]: `"HH:MM"`, `"every 1h"`, or `""` for never.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSchedule {
    /// Deadline reminders to staff.
    pub deadline_sweep: String,
    /// Reminders to requesters who have not answered, and expiry.
    pub requester_sweep: String,
    /// Decided identity documents and requests past retention.
    pub purge: String,
}

impl WorkerSchedule {
    /// (task, schedule) for every periodic task.
    pub fn tasks(&self) -> [(&'static str, &str); 3] {
        [
            ("deadline_sweep", &self.deadline_sweep),
            ("requester_sweep", &self.requester_sweep),
            ("purge", &self.purge),
        ]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    pub extra_holidays: Vec<NaiveDate>,
    pub profiles: BTreeMap<String, Profile>,
    pub countries: BTreeMap<String, String>,
}

/// The deadline rules in force, checked once at start: what the domain needs to compute a
/// due date without looking at configuration again.
#[derive(Debug, Clone)]
pub struct Law {
    pub time_zone: Tz,
    pub calendar: HolidayCalendar,
    pub profiles: BTreeMap<String, Profile>,
    pub default_profile: String,
    /// The default profile's rules (checked to exist when the law is built).
    pub default_rules: Profile,
    pub countries: BTreeMap<String, String>,
}

impl Law {
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    pub fn profile_names(&self) -> Vec<&str> {
        self.profiles.keys().map(String::as_str).collect()
    }

    /// Today's date where the organisation is.
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        now.with_timezone(&self.time_zone).date_naive()
    }
}

impl Settings {
    /// Defaults, then `DSAR_CONFIG`, then the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let file = std::env::var_os("DSAR_CONFIG").map(PathBuf::from);
        Self::load_from(file.as_deref(), std::env::vars())
    }

    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut merged: Table = DEFAULT_TOML
            .parse()
            .context("the embedded config/default.toml does not parse")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            let layer: Table = text
                .parse()
                .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            check_known_keys(&merged, &layer, "", &path.display().to_string())?;
            merge(&mut merged, layer);
        }
        let mut overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__"))
            .collect();
        // By name only, and stably: of two values given for one name, the later one wins.
        overrides.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, raw) in overrides {
            apply_env_override(&mut merged, &key, &raw)?;
        }
        let mut settings: Settings = Value::Table(merged)
            .try_into()
            .map_err(|e| anyhow!("invalid configuration: {e}"))?;
        settings.law()?;
        settings.brand =
            identity::Brand::load(&settings.organisation.accent, &settings.organisation.logo)?;
        if Lang::from_code(&settings.organisation.language).is_none() {
            return Err(anyhow!(
                "organisation.language: \"{}\" is not a language of the product (fr or en)",
                settings.organisation.language
            ));
        }
        Ok(settings)
    }

    /// The organisation's accent and logo, checked and read at load.
    pub fn brand(&self) -> &identity::Brand {
        &self.brand
    }

    /// The organisation's language ([`Organisation::language`], checked at load).
    pub fn language(&self) -> Lang {
        Lang::from_code(&self.organisation.language).unwrap_or(Lang::Fr)
    }

    /// Checks what serde cannot (zone names, profile names, dates) and builds the rules.
    pub fn law(&self) -> anyhow::Result<Law> {
        let org = &self.organisation;
        let time_zone: Tz = org.time_zone.parse().map_err(|_| {
            anyhow!(
                "organisation.time_zone: \"{}\" is not an IANA time zone (e.g. Europe/Paris)",
                org.time_zone
            )
        })?;
        let country: Country = org
            .country
            .parse()
            .map_err(|e| anyhow!("organisation.country: {e}"))?;
        let mut profiles: BTreeMap<String, Profile> = builtin_profiles()
            .into_iter()
            .map(|(name, p)| (name.to_string(), p))
            .collect();
        for (name, profile) in &self.deadlines.profiles {
            profiles.insert(name.clone(), profile.clone());
        }
        let known = |name: &str| profiles.contains_key(name);
        let Some(default_rules) = profiles.get(&org.default_profile).cloned() else {
            bail!(
                "organisation.default_profile: no profile named \"{}\"; known: {}",
                org.default_profile,
                profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        };
        for (country, profile) in &self.deadlines.countries {
            if !known(profile) {
                bail!("deadlines.countries.{country}: no profile named \"{profile}\"");
            }
        }
        if !(org.base_url.starts_with("http://") || org.base_url.starts_with("https://")) {
            bail!(
                "organisation.base_url: \"{}\" must start with http:// or https://",
                org.base_url
            );
        }
        for (task, schedule) in self.worker.schedule.tasks() {
            schedule
                .parse::<crate::domain::reminder::Schedule>()
                .map_err(|e| anyhow!("worker.schedule.{task}: {e}"))?;
        }
        if !(30..=86_400).contains(&self.worker.lease_seconds) {
            bail!(
                "worker.lease_seconds must be between 30 and 86400: a shorter lease could run out while its renewal waits for a database connection (up to 10 s), and another worker would run the job a second time"
            );
        }
        if self.worker.retry_backoff_seconds == 0 {
            bail!(
                "worker.retry_backoff_seconds must be at least 1 (0 would retry a failing job in a tight loop)"
            );
        }
        if self.database.sqlite_mmap_mib > 4096 {
            bail!("database.sqlite_mmap_mib must be at most 4096 (MiB)");
        }
        if self.database.pool_size == 0 {
            bail!("database.pool_size must be at least 1");
        }
        if self.fulfilment.download_days == 0 || self.fulfilment.max_downloads == 0 {
            bail!("fulfilment.download_days and fulfilment.max_downloads must be at least 1");
        }
        // Settings that would destroy or spam at once: refused rather than obeyed.
        if self.retention.closed_request_years == 0 {
            bail!(
                "retention.closed_request_years must be at least 1 (0 would anonymise every closed request at the next purge)"
            );
        }
        if self.retention.lift_notice_days == 0 {
            bail!(
                "retention.lift_notice_days must be at least 1 (Art. 18(3) GDPR: the person is told before a restriction is lifted)"
            );
        }
        if self.retention.document_max_days == 0 {
            bail!(
                "retention.document_max_days must be at least 1 (0 would delete identity documents before anyone decides on them)"
            );
        }
        let portal = &self.portal;
        if portal.remind_after_days == 0 {
            bail!("portal.remind_after_days must be at least 1");
        }
        if portal.expire_after_days != 0 && portal.remind_after_days >= portal.expire_after_days {
            bail!(
                "portal.remind_after_days ({}) must come before portal.expire_after_days ({}), or the reminder is never sent",
                portal.remind_after_days,
                portal.expire_after_days
            );
        }
        Ok(Law {
            time_zone,
            calendar: HolidayCalendar::new(country, self.deadlines.extra_holidays.iter().copied()),
            profiles,
            default_profile: org.default_profile.clone(),
            default_rules,
            countries: self.deadlines.countries.clone(),
        })
    }

    /// The effective configuration as TOML, with secrets masked: what `dsar check-config`
    /// prints and what admins may see.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = redact_url(&self.database.url);
        if !shown.security.session_key.is_empty() {
            shown.security.session_key = "***".into();
        }
        if !shown.fulfilment.key.is_empty() {
            shown.fulfilment.key = "***".into();
        }
        shown.mail.smtp_url = redact_url(&self.mail.smtp_url);
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    pub fn base_url(&self) -> &str {
        self.organisation.base_url.trim_end_matches('/')
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
///
/// Split by hand, not with the `url` crate: what reaches here is whatever libpq or lettre
/// accept, and some of it is no URL to the URL standard (libpq's `h1:5432,h2:5432` hosts, a
/// password with an unencoded `/` or `#`); a parser that refuses those would need this
/// fallback anyway, and must never print the secret.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // A key=value connection string: `host=db password=…`.
        return url
            .split(' ')
            .map(redact_pair)
            .collect::<Vec<_>>()
            .join(" ");
    };
    // Query parameters may carry secrets too (`?password=`, `sslpassword=`).
    let (rest, query) = match rest.split_once('?') {
        Some((before, query)) => (
            before,
            format!(
                "?{}",
                query
                    .split('&')
                    .map(redact_pair)
                    .collect::<Vec<_>>()
                    .join("&")
            ),
        ),
        None => (rest, String::new()),
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return format!("{scheme}://{rest}{query}");
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}{query}"),
        None => format!("{scheme}://{userinfo}@{host}{query}"),
    }
}

/// `password=x` → `password=***`; any key naming a secret is masked, others kept.
fn redact_pair(pair: &str) -> String {
    match pair.split_once('=') {
        Some((key, _))
            if ["pass", "secret", "key", "token"]
                .iter()
                .any(|s| key.to_lowercase().contains(s)) =>
        {
            format!("{key}=***")
        }
        _ => pair.to_string(),
    }
}

fn check_known_keys(
    known: &Table,
    layer: &Table,
    prefix: &str,
    source: &str,
) -> anyhow::Result<()> {
    for (key, value) in layer {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let Some(default) = known.get(key) else {
            bail!("{source}: unknown key `{path}`");
        };
        if FREE_FORM_TABLES.contains(&path.as_str()) {
            continue;
        }
        if let (Value::Table(known_sub), Value::Table(layer_sub)) = (default, value) {
            check_known_keys(known_sub, layer_sub, &path, source)?;
        }
    }
    Ok(())
}

fn merge(base: &mut Table, layer: Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base_sub)), Value::Table(layer_sub)) => merge(base_sub, layer_sub),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// `DSAR_DATABASE__URL=…` sets `database.url`. The value keeps the type of the default it
/// replaces, so a string setting never turns into a number or a date by accident.
fn apply_env_override(root: &mut Table, var: &str, raw: &str) -> anyhow::Result<()> {
    let path: Vec<String> = var[ENV_PREFIX.len()..]
        .split("__")
        .map(str::to_lowercase)
        .collect();
    let dotted = path.join(".");
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| anyhow!("environment variable {var}: empty key"))?;
    let mut table = &mut *root;
    let mut walked = String::new();
    for part in parents {
        let free_form = FREE_FORM_TABLES.contains(&walked.as_str());
        walked = if walked.is_empty() {
            part.clone()
        } else {
            format!("{walked}.{part}")
        };
        if free_form {
            table = table
                .entry(part.clone())
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
                .ok_or_else(|| anyhow!("environment variable {var}: `{walked}` is not a table"))?;
            continue;
        }
        table = match table.get_mut(part) {
            Some(Value::Table(sub)) => sub,
            _ => bail!("environment variable {var}: unknown key `{dotted}`"),
        };
    }
    let free_form = FREE_FORM_TABLES.contains(&walked.as_str());
    let value = match table.get(last) {
        Some(Value::String(_)) => Value::String(raw.to_string()),
        Some(existing) => parse_like(existing, raw).ok_or_else(|| {
            anyhow!("environment variable {var}: \"{raw}\" is not a valid value for `{dotted}`")
        })?,
        None if free_form => {
            parse_toml_value(raw).unwrap_or_else(|| Value::String(raw.to_string()))
        }
        None => bail!("environment variable {var}: unknown key `{dotted}`"),
    };
    table.insert(last.clone(), value);
    Ok(())
}

fn parse_toml_value(raw: &str) -> Option<Value> {
    let doc: Table = format!("v = {raw}").parse().ok()?;
    doc.get("v").cloned()
}

fn parse_like(existing: &Value, raw: &str) -> Option<Value> {
    let parsed = parse_toml_value(raw)?;
    let same_type = std::mem::discriminant(existing) == std::mem::discriminant(&parsed);
    same_type.then_some(parsed)
}

/// The `[mail]` section of the configuration.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// Sender of every mail: `Name <address>`.
    pub from: String,
    /// Empty: write `.eml` files to `outbox_dir`. Otherwise `smtp://`, `smtp://…?tls=required`
    /// or `smtps://`, as lettre's `SmtpTransport::from_url` reads them.
    pub smtp_url: String,
    pub outbox_dir: PathBuf,
    /// Longest SMTP conversation before the attempt counts as failed.
    pub timeout_seconds: u64,
}

impl std::fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSettings")
            .field("from", &self.from)
            .field("smtp_url", &redact_url(&self.smtp_url))
            .field("outbox_dir", &self.outbox_dir)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_embedded_defaults_load_as_they_are() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.database.url, "sqlite://data/dsar.sqlite3");
        assert_eq!(s.http.bind, "127.0.0.1:8080");
        let law = s.law().expect("law");
        assert_eq!(law.default_profile, "two-months");
        assert_eq!(law.time_zone, chrono_tz::Europe::Paris);
    }

    #[test]
    fn environment_overrides_keep_the_type_of_the_setting() {
        let s = Settings::load_from(
            None,
            env(&[
                ("DSAR_DATABASE__URL", "postgres://u:p@h/db"),
                ("DSAR_HTTP__WORKERS", "3"),
                ("DSAR_ORGANISATION__NAME", "1234"),
                ("DSAR_CONFIG", "ignored.toml"),
                ("DSAR_TEST_POSTGRES_URL", "not a setting"),
            ]),
        )
        .expect("loads");
        assert_eq!(s.database.url, "postgres://u:p@h/db");
        assert_eq!(s.http.workers, 3);
        assert_eq!(s.organisation.name, "1234");
    }

    #[test]
    fn an_unknown_environment_key_is_named() {
        let err = Settings::load_from(None, env(&[("DSAR_DATABASE__URLL", "x")])).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("DSAR_DATABASE__URLL") && msg.contains("database.urll"),
            "{msg}"
        );
    }

    #[test]
    fn a_wrongly_typed_environment_value_is_refused() {
        let err = Settings::load_from(None, env(&[("DSAR_HTTP__WORKERS", "many")])).unwrap_err();
        assert!(err.to_string().contains("http.workers"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_the_file_names_key_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prod.toml");
        std::fs::write(&path, "[database]\nurll = \"x\"\n").expect("write");
        let err = Settings::load_from(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("database.urll") && err.contains("prod.toml"),
            "{err}"
        );
    }

    #[test]
    fn the_storage_backend_is_folder_or_database() {
        let load = |v: &str| {
            Settings::load_from(None, [("DSAR_STORAGE__BACKEND".to_string(), v.to_string())])
        };
        assert_eq!(
            Settings::load_from(None, [])
                .expect("defaults")
                .storage
                .backend,
            StorageBackend::Folder
        );
        assert_eq!(
            load("database").expect("database").storage.backend,
            StorageBackend::Database
        );
        let Err(e) = load("s3") else {
            panic!("an unknown backend is refused")
        };
        let e = format!("{e:#}");
        assert!(
            e.contains("backend") && e.contains("folder") && e.contains("database"),
            "{e}"
        );
    }

    #[test]
    fn a_file_layers_over_the_defaults_and_may_add_profiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prod.toml");
        std::fs::write(
            &path,
            "[organisation]\ndefault_profile = \"house\"\n\
             [deadlines.profiles.house]\nbase = { days = 20 }\nmax_extension = { days = 10 }\n\
             roll_to_working_day = true\nclock_stops_on_hold = true\nclock_stops_for_identity = false\n\
             extension_notice_before_first_due = true\ndescription = \"our own\"\n",
        )
        .expect("write");
        let s = Settings::load_from(Some(&path), env(&[])).expect("loads");
        assert_eq!(s.organisation.name, "Exemple SAS");
        let law = s.law().expect("law");
        assert_eq!(law.profile("house").map(|p| p.base.days), Some(20));
        assert!(law.profile("gdpr").is_some());
    }

    #[test]
    fn a_bad_time_zone_or_profile_is_refused_with_the_key() {
        let err = Settings::load_from(
            None,
            env(&[("DSAR_ORGANISATION__TIME_ZONE", "Mars/Olympus")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("organisation.time_zone"), "{err}");
        let err = Settings::load_from(None, env(&[("DSAR_ORGANISATION__DEFAULT_PROFILE", "nope")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("default_profile"), "{err}");
    }

    #[test]
    fn schedules_are_checked_and_unknown_tasks_refused() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.worker.schedule.deadline_sweep, "08:00");
        assert_eq!(s.reminders.days_left, vec![14, 7, 3, 1]);
        let err = Settings::load_from(
            None,
            env(&[("DSAR_WORKER__SCHEDULE__DEADLINE_SWEEP", "sometimes")]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("worker.schedule.deadline_sweep"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("prod.toml");
        std::fs::write(&path, "[worker.schedule]\ncoffee = \"every 1h\"\n").expect("write");
        let err = Settings::load_from(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("worker.schedule.coffee"), "{err}");
    }

    #[test]
    fn the_register_file_is_optional_and_checked_when_named() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert!(s.register.load().expect("no register").is_none());
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/register.example.toml");
        let s = Settings::load_from(None, env(&[("DSAR_REGISTER__FILE", example)])).expect("loads");
        assert!(s.register.load().expect("example").is_some());
        let s = Settings::load_from(None, env(&[("DSAR_REGISTER__FILE", "/nonexistent.toml")]))
            .expect("loads");
        let err = format!("{:#}", s.register.load().unwrap_err());
        assert!(
            err.contains("register.file") && err.contains("/nonexistent.toml"),
            "{err}"
        );
    }

    #[test]
    fn urls_lose_every_secret() {
        assert_eq!(
            redact_url("postgres://app:hunter2@db/dsar?sslmode=require&sslpassword=x"),
            "postgres://app:***@db/dsar?sslmode=require&sslpassword=***"
        );
        assert_eq!(
            redact_url("host=db user=app password=hunter2"),
            "host=db user=app password=***"
        );
        assert_eq!(
            redact_url("smtp://mail:587?tls=required"),
            "smtp://mail:587?tls=required"
        );
        assert_eq!(redact_url("data/dsar.sqlite3"), "data/dsar.sqlite3");
        // Not URLs to the URL standard, still masked.
        assert_eq!(
            redact_url("postgresql://app:hunter2@h1:5432,h2:5432/dsar"),
            "postgresql://app:***@h1:5432,h2:5432/dsar"
        );
        assert_eq!(
            redact_url("postgres://app:hun/ter#2@db/dsar"),
            "postgres://app:***@db/dsar"
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::load_from(
            None,
            env(&[
                ("DSAR_DATABASE__URL", "postgres://dsar:hunter2@db/dsar"),
                (
                    "DSAR_MAIL__SMTP_URL",
                    "smtps://mailer:swordfish@smtp.example.org:465",
                ),
            ]),
        )
        .expect("loads");
        for secret in ["hunter2", "swordfish"] {
            assert!(!s.redacted_toml().contains(secret));
            assert!(!format!("{s:?}").contains(secret));
        }
        assert!(s.redacted_toml().contains("postgres://dsar:***@db/dsar"));
        assert!(
            s.redacted_toml()
                .contains("smtps://mailer:***@smtp.example.org:465")
        );
    }
}
