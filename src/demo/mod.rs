//! `dsar demo`: a demonstration organisation, "Boutique Démo", so a newcomer sees requests
//! answered from real-looking data without writing a register or a sources file first. It
//! owns one folder (`data/demo/` by default) holding the example register, a generated shop
//! database ([`shop`]), the sources file that maps it, and — under `dsar demo` — the server's
//! own database, files, outbox and keys. [`prepare`] writes the register, the sources and
//! the shop and returns the `DSAR_*` overrides that point a server at them (the tests use
//! it); [`settings`] adds the rest for `dsar demo`; [`start`] builds the server and the DPO's
//! account.
//!
//! Running `dsar demo` again keeps the folder's data (requests, shop rows erased). The DPO
//! gets a fresh one-time link at each start until they have set a password; after that the
//! start only says where to sign in.

pub mod shop;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::app::{self, Application, Options};
use crate::clock::Clock;
use crate::config::Settings;
use crate::state::AppState;

/// The default folder, relative to the working directory like the other defaults.
pub const DEFAULT_DIR: &str = "data/demo";
pub const ORGANISATION: &str = "Boutique Démo";
pub const DPO_NAME: &str = "Dominique Lefèvre";
pub const DPO_EMAIL: &str = "dpo@boutique-demo.example";

/// The register is the example one: it already describes a French online shop.
const REGISTER: &str = include_str!("../../config/register.example.toml");
/// The sources, with `@SHOP@` standing for the shop's path.
const SOURCES: &str = include_str!("../../config/demo.sources.toml");

/// A customer whose data the README and the tests rely on.
#[derive(Debug, Clone, Copy)]
pub struct Customer {
    pub name: &'static str,
    pub email: &'static str,
    /// The shop's customer number; `None` for someone who only reads the newsletter.
    pub customer_ref: Option<&'static str>,
    pub orders: usize,
    pub invoices: usize,
    pub newsletter: bool,
    /// The day the last invoice was issued: the ten years of the Code de commerce run from
    /// it, so an erasure keeps the invoices until ten years later.
    pub last_invoice: Option<&'static str>,
}

/// Three orders, three invoices (the last issued 16 January 2026), the newsletter.
pub const CAMILLE: Customer = Customer {
    name: "Camille Martin",
    email: "camille.martin@example.com",
    customer_ref: Some("C-00001"),
    orders: 3,
    invoices: 3,
    newsletter: true,
    last_invoice: Some("2026-01-16"),
};

/// One cancelled order, so no invoice; not subscribed.
pub const HUGO: Customer = Customer {
    name: "Hugo Bernard",
    email: "hugo.bernard@example.net",
    customer_ref: Some("C-00002"),
    orders: 1,
    invoices: 0,
    newsletter: false,
    last_invoice: None,
};

/// Subscribed to the newsletter, nothing else.
pub const LEA: Customer = Customer {
    name: "Léa Petit",
    email: "lea.petit@example.org",
    customer_ref: None,
    orders: 0,
    invoices: 0,
    newsletter: true,
    last_invoice: None,
};

pub const NAMED: [Customer; 3] = [CAMILLE, HUGO, LEA];

/// The demo's files in a folder, and the settings that point a server at them.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The folder, made absolute so the files it names work from any working directory.
    pub dir: PathBuf,
    /// `DSAR_*` (key, value) pairs: register, sources, the organisation's name and
    /// addresses. Not the database, storage, outbox or keys: whoever runs the server picks
    /// those ([`settings`] puts them in the folder).
    pub overrides: Vec<(String, String)>,
}

impl Demo {
    /// The overrides as borrowed pairs, the shape the test harness takes.
    pub fn env(&self) -> Vec<(&str, &str)> {
        self.overrides
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// Writes the register, the sources file and (once) the shop into `dir`. Safe to call again:
/// the register and sources are rewritten only when they differ from this version's, and an
/// existing shop is kept with whatever earlier requests erased.
pub fn prepare(dir: &Path) -> anyhow::Result<Demo> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir =
        std::path::absolute(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    let register = dir.join("register.toml");
    let sources = dir.join("sources.toml");
    let shop = dir.join("shop.sqlite3");
    let shop_url = path_text(&shop)?;
    // A basic TOML string: backslashes (Windows paths) and quotes escaped.
    let escaped = shop_url.replace('\\', "\\\\").replace('"', "\\\"");
    write_if_changed(&register, REGISTER)?;
    write_if_changed(&sources, &SOURCES.replace("@SHOP@", &escaped))?;
    shop::create_if_absent(&shop)?;
    let overrides = [
        ("DSAR_REGISTER__FILE", path_text(&register)?),
        ("DSAR_FULFILMENT__SOURCES_FILE", path_text(&sources)?),
        ("DSAR_ORGANISATION__NAME", ORGANISATION.to_string()),
        (
            "DSAR_ORGANISATION__CONTACT_EMAIL",
            "privacy@boutique-demo.example".to_string(),
        ),
        ("DSAR_ORGANISATION__DPO_EMAIL", DPO_EMAIL.to_string()),
        (
            "DSAR_ORGANISATION__POSTAL_ADDRESS",
            "8 rue des Artisans, 69002 Lyon, France".to_string(),
        ),
        (
            "DSAR_MAIL__FROM",
            format!("{ORGANISATION} <privacy@boutique-demo.example>"),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(Demo { dir, overrides })
}

fn path_text(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", path.display()))
}

fn write_if_changed(path: &Path, text: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The settings `dsar demo` runs with: the embedded defaults, the file `DSAR_CONFIG` names,
/// the demo's overrides with its database, files, outbox and keys in the folder, and last
/// the process's own `DSAR_*` variables, so any of them still wins. While the public address
/// is the embedded default, it follows the bind address (and a port 0 is chosen now, so the
/// links printed and mailed name the real one).
pub fn settings(
    demo: &Demo,
    env: impl IntoIterator<Item = (String, String)>,
) -> anyhow::Result<Settings> {
    let in_dir = |name: &str| path_text(&demo.dir.join(name));
    let mut vars: BTreeMap<String, String> = demo.overrides.iter().cloned().collect();
    for (key, name) in [
        ("DSAR_DATABASE__URL", "dsar.sqlite3"),
        ("DSAR_STORAGE__DIR", "files"),
        ("DSAR_MAIL__OUTBOX_DIR", "outbox"),
        ("DSAR_FULFILMENT__DIR", "exports"),
        ("DSAR_FULFILMENT__KEY_FILE", "fulfilment.key"),
        ("DSAR_SECURITY__SESSION_KEY_FILE", "session.key"),
    ] {
        let path = in_dir(name)?;
        let value = match key {
            "DSAR_DATABASE__URL" => format!("sqlite://{path}"),
            _ => path,
        };
        vars.insert(key.to_string(), value);
    }
    let mut file = None;
    for (key, value) in env {
        if key == "DSAR_CONFIG" {
            file = Some(PathBuf::from(value));
        } else if key.starts_with("DSAR_") {
            vars.insert(key, value);
        }
    }
    let mut settings = Settings::load_from(file.as_deref(), vars)?;
    let defaults = Settings::load_from(None, Vec::new())?;
    if settings.http.bind.ends_with(":0") {
        let listener = std::net::TcpListener::bind(&settings.http.bind)
            .with_context(|| format!("cannot listen on {}", settings.http.bind))?;
        settings.http.bind = listener.local_addr()?.to_string();
    }
    if settings.organisation.base_url == defaults.organisation.base_url {
        let (host, port) = settings
            .http
            .bind
            .rsplit_once(':')
            .unwrap_or((settings.http.bind.as_str(), "80"));
        // An address listening everywhere is reached from this machine as loopback.
        let host = match host {
            "0.0.0.0" | "[::]" => "127.0.0.1",
            other => other,
        };
        settings.organisation.base_url = format!("http://{host}:{port}");
    }
    Ok(settings)
}

/// How the DPO gets in: a one-time link while no password is set, else the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpoAccess {
    /// The full link, and how many days it works.
    SetPassword {
        link: String,
        valid_days: u32,
    },
    SignIn {
        url: String,
    },
}

/// Creates the DPO's account on the first start; later starts give a fresh link only while
/// the DPO has not set a password (an old link may have expired or been used).
pub fn dpo_access(state: &AppState) -> anyhow::Result<DpoAccess> {
    let mut conn = state
        .pool
        .get()
        .context("cannot get a database connection")?;
    let base = state.settings.base_url();
    let now = state.clock.now();
    match crate::store::users::find_by_email(&mut conn, DPO_EMAIL)? {
        None => {
            let (_, path) = crate::staff::add_user(
                &mut conn,
                DPO_EMAIL,
                DPO_NAME,
                crate::staff::Role::Dpo,
                "demo",
                now,
            )
            .map_err(|e| anyhow!("cannot create the DPO's account: {e}"))?;
            Ok(DpoAccess::SetPassword {
                link: format!("{base}{path}"),
                valid_days: 7,
            })
        }
        Some(user) if user.password_hash.is_none() => {
            // No member of staff asks for this link: the demo command does, on start.
            let by = crate::staff::accounts::ChangedBy {
                user_id: 0,
                actor: "demo",
            };
            let (_, path) = crate::staff::accounts::new_password_link(&mut conn, user.id, by, now)
                .map_err(|e| anyhow!("cannot make the DPO's link: {e}"))?;
            Ok(DpoAccess::SetPassword {
                link: format!("{base}{path}"),
                valid_days: 1,
            })
        }
        Some(_) => Ok(DpoAccess::SignIn {
            url: format!("{base}/admin/login"),
        }),
    }
}

/// A built demo server, not yet serving, and what to tell the person who started it.
pub struct Started {
    pub application: Application,
    pub dpo: DpoAccess,
}

/// Builds the server (with the embedded worker unless settings turn it off) after making
/// sure the DPO's account exists; call it inside actix's runtime, like `Application::build`.
pub fn start(settings: Settings) -> anyhow::Result<Started> {
    // The DPO's account comes first: on an empty database the server would otherwise invite
    // the DPO's address as an administrator (see `app::first_admin_link`).
    let dpo = {
        let state = app::prepare(settings.clone(), Clock::default())?;
        dpo_access(&state)?
    };
    let worker = settings.worker.embedded;
    let application = Application::build(settings, Options { worker })?;
    Ok(Started { application, dpo })
}

impl Started {
    /// What `dsar demo` prints: where to go, who the customers are, how the DPO signs in.
    pub fn summary(&self, demo: &Demo) -> String {
        let state = self.application.state();
        let base = state.settings.base_url();
        let mut out = format!(
            "{ORGANISATION}: a demonstration organisation, data in {}\n\
             \x20 portal:     {base}/\n\
             \x20 dashboard:  {base}/admin\n\
             \x20 mails:      {} (one .eml file per mail; nothing is sent)\n\
             \x20 customers:  {} generated in shop.sqlite3, among them\n",
            demo.dir.display(),
            state.settings.mail.outbox_dir.display(),
            shop::CUSTOMERS,
        );
        for c in NAMED {
            let what = match (c.orders, c.invoices, c.newsletter) {
                (0, _, true) => "newsletter only".to_string(),
                (o, i, n) => format!(
                    "{o} order(s), {i} invoice(s){}",
                    if n { ", newsletter" } else { "" }
                ),
            };
            let number = c
                .customer_ref
                .map(|r| format!(", customer {r}"))
                .unwrap_or_default();
            out.push_str(&format!("    {} <{}>{number}: {what}\n", c.name, c.email));
        }
        match &self.dpo {
            DpoAccess::SetPassword { link, valid_days } => out.push_str(&format!(
                "DPO {DPO_NAME} <{DPO_EMAIL}>: set the password at\n  {link}\n  \
                 (works once, for {valid_days} day(s); run `dsar demo` again for a new one)\n"
            )),
            DpoAccess::SignIn { url } => out.push_str(&format!(
                "DPO {DPO_NAME} <{DPO_EMAIL}> has set a password: sign in at {url}\n  \
                 (forgotten: {base}/admin/password-reset mails a new link to the outbox)\n"
            )),
        }
        out
    }
}

#[cfg(test)]
mod tests;
