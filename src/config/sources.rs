//! The data sources (connectors) a request is fulfilled from: databases read and changed
//! with bound parameters, internal services called with a signed request, and tasks for a
//! team. Declared in the file `fulfilment.sources_file` names (see
//! `config/sources.example.toml`); each maps what it holds to the register's activities and
//! categories, which is how an access answer explains the data and how erasure knows what
//! the law obliges the organisation to keep.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::config::processing::{LegalBasis, Register};

pub use crate::domain::fulfilment::Operation;

/// Which of the request's facts identifies the person in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKey {
    /// The confirmed email address.
    Email,
    /// The customer number the requester gave (tables keyed by it are skipped without one).
    CustomerRef,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sources {
    pub list: Vec<Source>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub id: String,
    pub name: String,
    /// The register activity the data belong to (a table may name another).
    pub activity: String,
    /// Register category ids this source holds.
    pub categories: Vec<String>,
    /// Set when this system is a recipient of the data (Art. 19): changes are notified to it,
    /// and the answer names it.
    pub recipient: Option<String>,
    pub connector: Connector,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connector {
    Sql(SqlSource),
    Http(HttpSource),
    Manual(ManualSource),
}

#[derive(Clone, Serialize)]
pub struct SqlSource {
    /// `sqlite://path` or `postgres://…`.
    #[serde(skip)]
    pub url: String,
    pub tables: Vec<Table>,
}

impl std::fmt::Debug for SqlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlSource")
            .field("url", &crate::config::redact_url(&self.url))
            .field("tables", &self.tables)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub name: String,
    /// The column compared with the identity.
    pub match_column: String,
    pub identity: IdentityKey,
    /// When the table holds a key of another table rather than the identity itself: rows
    /// whose `match_column` is in `SELECT key FROM table WHERE column = identity`.
    pub via: Option<Via>,
    pub columns: Vec<String>,
    pub activity: String,
    pub categories: Vec<String>,
    pub erase: Erase,
    /// For `keep`: the date column the retention period runs from (the latest row counts);
    /// without it the period runs from the erasure.
    pub keep_from: Option<String>,
    /// Columns staff may correct on a rectification request.
    pub rectify: Vec<String>,
    /// Column → value written on restriction; empty: restriction is a task for the team.
    pub restrict: BTreeMap<String, String>,
    /// Column → value written when a restriction is lifted; empty: lifting it is a task for
    /// the team.
    pub unrestrict: BTreeMap<String, String>,
    /// Column → value written on objection or consent withdrawal.
    pub object: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Via {
    pub table: String,
    pub key: String,
    #[serde(rename = "match")]
    pub match_column: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Erase {
    Delete,
    /// Column → the value written in place of the person's.
    Anonymise(BTreeMap<String, String>),
    /// Kept under the retention rule of this register activity.
    Keep {
        activity: String,
    },
}

#[derive(Clone, Serialize)]
pub struct HttpSource {
    pub url: String,
    #[serde(skip)]
    pub secret: String,
    pub operations: Vec<Operation>,
    pub timeout_seconds: u64,
    /// The largest answer accepted, so a broken service cannot exhaust memory.
    pub max_response_bytes: u64,
}

impl std::fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSource")
            .field("url", &self.url)
            .field("secret", &"***")
            .field("operations", &self.operations)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualSource {
    pub team: String,
    pub instructions: String,
}

impl Source {
    pub fn kind(&self) -> &'static str {
        match self.connector {
            Connector::Sql(_) => "sql",
            Connector::Http(_) => "http",
            Connector::Manual(_) => "manual",
        }
    }

    /// Whether this source takes part in `op` at all (an http source lists what it serves).
    pub fn serves(&self, op: Operation) -> bool {
        match &self.connector {
            Connector::Http(h) => h.operations.contains(&op),
            Connector::Sql(_) | Connector::Manual(_) => true,
        }
    }

    /// Whether its data go into a portability package (Art. 20): every category provided
    /// by the person, processed on consent or contract.
    pub fn portable(
        &self,
        register: Option<&Register>,
        activity: &str,
        categories: &[String],
    ) -> bool {
        let Some(register) = register else {
            return false;
        };
        let Some(a) = register.activities.iter().find(|a| a.id == activity) else {
            return false;
        };
        matches!(a.legal_basis, LegalBasis::Consent | LegalBasis::Contract)
            && !categories.is_empty()
            && categories.iter().all(|c| {
                register
                    .activities
                    .iter()
                    .flat_map(|a| &a.categories)
                    .filter(|k| &k.id == c)
                    .all(|k| k.provided_by_person)
            })
    }
}

impl Sources {
    pub fn find(&self, id: &str) -> Option<&Source> {
        self.list.iter().find(|s| s.id == id)
    }

    pub fn load(path: &Path, register: Option<&Register>) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the sources file {}", path.display()))?;
        Self::parse(&text, register).map_err(|e| anyhow!("{}: {e}", path.display()))
    }

    /// Parses and checks the sources; every error names the source, the table and the field.
    pub fn parse(text: &str, register: Option<&Register>) -> anyhow::Result<Self> {
        let raw: RawFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        let Some(register) = register else {
            bail!(
                "data sources need a processing register (register.file): each maps its data to register activities"
            );
        };
        let mut ids = HashSet::new();
        let mut list = Vec::new();
        for s in raw.source {
            let at = format!("source \"{}\"", s.id);
            check_name(&s.id).map_err(|e| anyhow!("{at}: id {e}"))?;
            if !ids.insert(s.id.clone()) {
                bail!("{at}: id used by two sources");
            }
            if s.name.trim().is_empty() {
                bail!("{at}: name: say what the system is, for staff and the answers");
            }
            check_activity(register, &s.activity, &s.categories)
                .map_err(|e| anyhow!("{at}: {e}"))?;
            let connector = match s.kind.as_str() {
                "sql" => {
                    let url = s
                        .url
                        .clone()
                        .ok_or_else(|| anyhow!("{at}: url: required for kind = \"sql\""))?;
                    if !(url.starts_with("sqlite://")
                        || url.starts_with("postgres://")
                        || url.starts_with("postgresql://"))
                    {
                        bail!("{at}: url: sqlite://path or postgres://…");
                    }
                    if s.table.is_empty() {
                        bail!("{at}: list at least one [[source.table]]");
                    }
                    let mut tables: Vec<Table> = Vec::new();
                    for t in &s.table {
                        let here = format!("{at}, table \"{}\"", t.name);
                        if tables.iter().any(|x| x.name == t.name) {
                            bail!("{here}: listed twice");
                        }
                        let parsed = table(register, &s, t).map_err(|e| anyhow!("{here}: {e}"))?;
                        // Erasure runs the tables in reverse, so a table found through
                        // another one must come after it, or it would be looked for after
                        // its parent's rows were gone.
                        if let Some(via) = &parsed.via
                            && s.table
                                .iter()
                                .skip_while(|x| x.name != t.name)
                                .any(|x| x.name == via.table)
                        {
                            bail!(
                                "{here}: via.table \"{}\" is listed after it; list \"{}\" first",
                                via.table,
                                via.table
                            );
                        }
                        tables.push(parsed);
                    }
                    Connector::Sql(SqlSource { url, tables })
                }
                "http" => {
                    let url = s
                        .url
                        .clone()
                        .ok_or_else(|| anyhow!("{at}: url: required for kind = \"http\""))?;
                    // Personal data travel in both directions: TLS, except on this machine.
                    if !over_tls_or_loopback(&url) {
                        bail!("{at}: url: https:// (plain http:// only to this machine)");
                    }
                    let secret = match (&s.secret, &s.secret_file) {
                        (Some(secret), None) => secret.clone(),
                        (None, Some(file)) => std::fs::read_to_string(file)
                            .with_context(|| format!("{at}: secret_file: cannot read {file}"))?
                            .trim()
                            .to_string(),
                        _ => bail!(
                            "{at}: secret or secret_file (one of them): the key that signs each call"
                        ),
                    };
                    if secret.len() < 32 {
                        bail!("{at}: secret: at least 32 characters (e.g. `openssl rand -hex 32`)");
                    }
                    let operations = if s.operations.is_empty() {
                        Operation::ALL.to_vec()
                    } else {
                        s.operations
                            .iter()
                            .map(|o| {
                                o.parse::<Operation>()
                                    .map_err(|e| anyhow!("{at}: operations: {e}"))
                            })
                            .collect::<anyhow::Result<_>>()?
                    };
                    Connector::Http(HttpSource {
                        url,
                        secret,
                        operations,
                        timeout_seconds: s.timeout_seconds.unwrap_or(10).clamp(1, 300),
                        max_response_bytes: s.max_response_mib.unwrap_or(64).clamp(1, 4096)
                            * 1024
                            * 1024,
                    })
                }
                "manual" => {
                    let team = s
                        .team
                        .clone()
                        .filter(|t| !t.trim().is_empty())
                        .ok_or_else(|| anyhow!("{at}: team: the team that does the task"))?;
                    Connector::Manual(ManualSource {
                        team,
                        instructions: s.instructions.clone().unwrap_or_default(),
                    })
                }
                other => bail!("{at}: kind: \"{other}\"; one of sql, http, manual"),
            };
            if !matches!(connector, Connector::Sql(_)) && !s.table.is_empty() {
                bail!("{at}: [[source.table]] is for kind = \"sql\" only");
            }
            list.push(Source {
                id: s.id,
                name: s.name,
                activity: s.activity,
                categories: s.categories,
                recipient: s.recipient.filter(|r| !r.trim().is_empty()),
                connector,
            });
        }
        Ok(Sources { list })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    source: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    id: String,
    name: String,
    kind: String,
    activity: String,
    #[serde(default)]
    categories: Vec<String>,
    recipient: Option<String>,
    url: Option<String>,
    secret: Option<String>,
    secret_file: Option<String>,
    #[serde(default)]
    operations: Vec<String>,
    timeout_seconds: Option<u64>,
    max_response_mib: Option<u64>,
    team: Option<String>,
    instructions: Option<String>,
    #[serde(default)]
    table: Vec<RawTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: String,
    #[serde(rename = "match")]
    match_column: String,
    #[serde(default)]
    identity: Option<IdentityKey>,
    via: Option<Via>,
    columns: Vec<String>,
    activity: Option<String>,
    categories: Option<Vec<String>>,
    erase: String,
    #[serde(default)]
    anonymise: BTreeMap<String, String>,
    keep_under: Option<String>,
    keep_from: Option<String>,
    #[serde(default)]
    rectify: Vec<String>,
    #[serde(default)]
    restrict: BTreeMap<String, String>,
    #[serde(default)]
    unrestrict: BTreeMap<String, String>,
    #[serde(default)]
    object: BTreeMap<String, String>,
}

fn table(register: &Register, s: &RawSource, t: &RawTable) -> anyhow::Result<Table> {
    check_name(&t.name).map_err(|e| anyhow!("name {e}"))?;
    check_name(&t.match_column).map_err(|e| anyhow!("match {e}"))?;
    if let Some(via) = &t.via {
        for (field, name) in [
            ("via.table", &via.table),
            ("via.key", &via.key),
            ("via.match", &via.match_column),
        ] {
            check_name(name).map_err(|e| anyhow!("{field} {e}"))?;
        }
    }
    if t.columns.is_empty() {
        bail!("columns: list the columns an access answer exports");
    }
    for c in t
        .columns
        .iter()
        .chain(&t.rectify)
        .chain(t.anonymise.keys())
        .chain(t.restrict.keys())
        .chain(t.unrestrict.keys())
        .chain(t.object.keys())
        .chain(&t.keep_from)
    {
        check_name(c).map_err(|e| anyhow!("column {e}"))?;
    }
    if !t.unrestrict.is_empty() && t.restrict.is_empty() {
        bail!("unrestrict: lifts what restrict writes; this table has no restrict");
    }
    let activity = t.activity.clone().unwrap_or_else(|| s.activity.clone());
    let categories = t.categories.clone().unwrap_or_else(|| s.categories.clone());
    check_activity(register, &activity, &categories)?;
    let erase = match t.erase.as_str() {
        "delete" => Erase::Delete,
        "anonymise" | "anonymize" => {
            if t.anonymise.is_empty() {
                bail!(
                    "anonymise: name the columns and what replaces them, e.g. anonymise = {{ email = \"erased@invalid\" }}"
                );
            }
            Erase::Anonymise(t.anonymise.clone())
        }
        "keep" => {
            let under = t.keep_under.clone().unwrap_or_else(|| activity.clone());
            let a = register
                .activities
                .iter()
                .find(|a| a.id == under)
                .ok_or_else(|| anyhow!("keep_under: no register activity \"{under}\""))?;
            if a.retention.duration.is_none() && a.retention.criterion.is_none() {
                bail!("keep_under: the activity \"{under}\" states no retention rule");
            }
            Erase::Keep { activity: under }
        }
        other => bail!("erase: \"{other}\"; one of delete, anonymise, keep"),
    };
    Ok(Table {
        name: t.name.clone(),
        match_column: t.match_column.clone(),
        identity: t.identity.unwrap_or(IdentityKey::Email),
        via: t.via.clone(),
        columns: t.columns.clone(),
        activity,
        categories,
        erase,
        keep_from: t.keep_from.clone(),
        rectify: t.rectify.clone(),
        restrict: t.restrict.clone(),
        unrestrict: t.unrestrict.clone(),
        object: t.object.clone(),
    })
}

fn check_activity(
    register: &Register,
    activity: &str,
    categories: &[String],
) -> anyhow::Result<()> {
    let a = register
        .activities
        .iter()
        .find(|a| a.id == activity)
        .ok_or_else(|| anyhow!("activity: no register activity \"{activity}\""))?;
    for c in categories {
        if !a.category_ids().any(|id| id == c) {
            bail!("categories: \"{c}\" is not a category of the activity \"{activity}\"");
        }
    }
    Ok(())
}

/// Table and column names go into SQL text, so only plain identifiers pass.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "\"{name}\": letters, digits and _ only, starting with a letter"
        ))
    }
}

/// `https://…`, or plain `http://` to 127.0.0.1, `[::1]` or `localhost` (in any spelling
/// the URL standard reads as those, `http://LOCALHOST:80` too).
fn over_tls_or_loopback(raw: &str) -> bool {
    // The connector sends `raw` as written, so it must be what the parser read: no blanks or
    // control characters for it to drop, and the scheme written out in full.
    if raw.chars().any(|c| c.is_whitespace() || c.is_control())
        || !(raw.starts_with("https://") || raw.starts_with("http://"))
    {
        return false;
    }
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Domain(name))) => name == "localhost",
        ("http", Some(url::Host::Ipv4(ip))) => ip == std::net::Ipv4Addr::LOCALHOST,
        ("http", Some(url::Host::Ipv6(ip))) => ip == std::net::Ipv6Addr::LOCALHOST,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> Register {
        Register::parse(include_str!("../../config/register.example.toml")).unwrap()
    }

    #[test]
    fn the_example_loads() {
        // The example reads its service's secret from a file that only exists in production.
        let text = include_str!("../../config/sources.example.toml").replace(
            "secret_file = \"/etc/dsar/mailing.secret\"",
            "secret = \"0123456789abcdef0123456789abcdef\"",
        );
        let sources = Sources::parse(&text, Some(&register())).unwrap();
        assert!(sources.list.iter().any(|s| s.kind() == "sql"));
        assert!(sources.list.iter().any(|s| s.kind() == "http"));
        assert!(sources.list.iter().any(|s| s.kind() == "manual"));
    }

    #[test]
    fn errors_name_the_source_table_and_field() {
        let text = r#"
[[source]]
id = "shop"
name = "Shop"
kind = "sql"
url = "sqlite://shop.db"
activity = "orders"
[[source.table]]
name = "customers; DROP TABLE x"
match = "email"
columns = ["email"]
erase = "delete"
"#;
        let err = Sources::parse(text, Some(&register()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("source \"shop\""), "{err}");
        assert!(err.contains("letters, digits"), "{err}");

        let text = text
            .replace("customers; DROP TABLE x", "customers")
            .replace("\"delete\"", "\"keep\"\nkeep_under = \"nothing\"");
        let err = Sources::parse(&text, Some(&register()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("table \"customers\": keep_under"), "{err}");

        let text = text.replace("keep_under = \"nothing\"", "categories = [\"payment\"]");
        let err = Sources::parse(&text, Some(&register()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"payment\" is not a category of the activity \"orders\""),
            "{err}"
        );
    }

    #[test]
    fn tables_found_through_another_come_after_it_once_each() {
        let base = r#"
[[source]]
id = "shop"
name = "Shop"
kind = "sql"
url = "sqlite://shop.db"
activity = "orders"
[[source.table]]
name = "orders"
match = "customer_id"
via = { table = "customers", key = "id", match = "email" }
columns = ["id"]
erase = "delete"
[[source.table]]
name = "customers"
match = "email"
columns = ["email"]
erase = "delete"
"#;
        let err = Sources::parse(base, Some(&register()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("via.table \"customers\" is listed after it"),
            "{err}"
        );
        let twice = base
            .replace("name = \"orders\"", "name = \"customers\"")
            .replace(
                "via = { table = \"customers\", key = \"id\", match = \"email\" }\n",
                "",
            );
        let err = Sources::parse(&twice, Some(&register()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listed twice"), "{err}");
    }

    #[test]
    fn services_are_called_over_tls_unless_on_this_machine() {
        let http = |url: &str| {
            format!(
                "[[source]]\nid = \"m\"\nname = \"M\"\nkind = \"http\"\nurl = \"{url}\"\nsecret = \"{}\"\nactivity = \"newsletter\"\n",
                "s".repeat(32)
            )
        };
        for ok in [
            "https://crm.internal/dsar",
            "http://127.0.0.1:9000/x",
            "http://localhost/x",
            "http://[::1]:8080/x",
            "http://LOCALHOST",
        ] {
            assert!(Sources::parse(&http(ok), Some(&register())).is_ok(), "{ok}");
        }
        for bad in [
            "http://crm.internal/dsar",
            "http://localhost.evil.example/x",
            "ftp://x",
            // Loopback only as the user name: the host is elsewhere.
            "http://127.0.0.1:9000@crm.internal/dsar",
            "http://localhost@crm.internal/dsar",
            "https://",
            // What the parser would quietly mend, and the connector would send as written.
            " https://crm.internal/dsar",
            "https://crm.internal/ds ar",
            "https://crm.in\tternal/dsar",
            "HTTPS://crm.internal/dsar",
            "https:crm.internal/dsar",
        ] {
            let err = Sources::parse(&http(bad), Some(&register()))
                .unwrap_err()
                .to_string();
            assert!(err.contains("https://"), "{bad}: {err}");
        }
    }

    #[test]
    fn sources_need_a_register() {
        let err = Sources::parse("", None).unwrap_err().to_string();
        assert!(err.contains("register"), "{err}");
    }
}
