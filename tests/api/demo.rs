//! The demonstration shop: `dsar demo` run as a newcomer would (it serves, prints the DPO's
//! link, keeps its data across starts), and the README's story over HTTP on the demo data —
//! Camille Martin's access request gets her orders and invoices and nobody else's; her
//! erasure deletes her orders, keeps her invoices and says until when.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};

use dsar::demo::{CAMILLE, Customer, DPO_EMAIL, Demo, HUGO};

use crate::admin::staff;
use crate::fulfilment::unzip;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Browser, Part, mails_to};

/// A `dsar demo` process and the lines it printed so far.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn start(cwd: &std::path::Path) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dsar"))
            .args(["demo", "--dir", "demo"])
            .current_dir(cwd)
            .env_remove("DSAR_CONFIG")
            .env("DSAR_HTTP__BIND", "127.0.0.1:0")
            .env("DSAR_LOG__FILTER", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dsar demo starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        // Drained on a thread so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Running { child, lines }
    }

    /// Everything printed up to the line that says how the DPO gets in, and that line.
    fn until_dpo(&self) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("no DPO line in {seen:#?}"));
            let done = line.contains("/admin/password/") || line.contains("/admin/login");
            seen.push(line);
            if done {
                return seen;
            }
        }
    }
}

/// `GET path` on 127.0.0.1:port over plain HTTP/1.0: the status code.
fn status_of(port: &str, path: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn dsar_demo_serves_prints_the_dpo_link_and_keeps_its_data() {
    let cwd = tempfile::tempdir().expect("dir");
    let demo = Running::start(cwd.path());
    let printed = demo.until_dpo().join("\n");
    assert!(printed.contains("Boutique Démo"), "{printed}");
    assert!(printed.contains("Camille Martin <camille.martin@example.com>"));
    let portal = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("portal:"))
        .expect("the portal's address")
        .trim();
    let port = portal
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches('/');
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{portal}");
    let link = printed
        .lines()
        .find(|l| l.contains("/admin/password/"))
        .expect("the DPO's link")
        .trim();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/admin/password/")),
        "{link}"
    );
    assert!(printed.contains(&format!("<{DPO_EMAIL}>: set the password")));
    assert_eq!(status_of(port, "/readyz"), 200);
    let origin = format!("http://127.0.0.1:{port}");
    assert_eq!(status_of(port, &link[origin.len()..]), 200);
    assert!(cwd.path().join("demo/shop.sqlite3").exists());
    assert!(cwd.path().join("demo/dsar.sqlite3").exists());
    drop(demo);

    // Again: same data, and a fresh link since the DPO has set no password yet.
    let db = cwd.path().join("demo/dsar.sqlite3");
    let mut conn = diesel::sqlite::SqliteConnection::establish(db.to_str().expect("path"))
        .expect("the demo's database");
    conn.batch_execute("CREATE TABLE kept_across_starts (x INTEGER)")
        .expect("mark");
    let demo = Running::start(cwd.path());
    let printed = demo.until_dpo().join("\n");
    let second = printed
        .lines()
        .find(|l| l.contains("/admin/password/"))
        .expect("a fresh link")
        .trim()
        .to_string();
    assert_ne!(second, link);
    drop(demo);
    // Once the DPO has a password, the start says where to sign in instead.
    conn.batch_execute(&format!(
        "SELECT * FROM kept_across_starts; UPDATE users SET password_hash = 'set' WHERE email = '{DPO_EMAIL}'"
    ))
    .expect("the database was kept");
    let demo = Running::start(cwd.path());
    let printed = demo.until_dpo().join("\n");
    assert!(
        printed.contains("has set a password: sign in at"),
        "{printed}"
    );
    assert!(!printed.contains("/admin/password/"), "{printed}");
}

/// The server under test on the demo's register, sources and shop (in its own folder).
pub(crate) async fn demo_app(backend: Backend) -> Option<(TestApp, Demo, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("dir");
    let demo = dsar::demo::prepare(dir.path()).expect("the demo's files");
    let app = try_spawn(backend, &demo.env()).await?;
    Some((app, demo, dir))
}

pub(crate) fn shop_texts(demo: &Demo, sql: &str) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        v: Option<String>,
    }
    let path = demo.dir.join("shop.sqlite3");
    let mut conn = diesel::sqlite::SqliteConnection::establish(path.to_str().expect("path"))
        .expect("the shop");
    diesel::sql_query(sql)
        .load::<Row>(&mut conn)
        .expect("query")
        .into_iter()
        .map(|r| r.v.unwrap_or_default())
        .collect()
}

fn count_of(demo: &Demo, table: &str, who: &Customer) -> usize {
    shop_texts(
        demo,
        &format!(
            "SELECT CAST(COUNT(*) AS TEXT) AS v FROM {table} WHERE customer_id = \
             (SELECT id FROM customers WHERE ref = '{}')",
            who.customer_ref.expect("a customer")
        ),
    )[0]
    .parse()
    .expect("count")
}

/// Files a request for `who` through the API, verifies it there; returns its reference.
async fn verified(app: &TestApp, kind: &str, who: &Customer) -> String {
    app.file_verified(json!({ "kind": kind, "language": "fr", "requester": { "name": who.name, "email": who.email } }))
        .await
}

/// Posts one of the request page's source actions, as its buttons do.
pub(crate) async fn sources_action(dpo: &mut Browser<'_>, reference: &str, action: &str) {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let csrf = page.csrf();
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{reference}/sources"),
            &[("csrf", csrf.as_str()), ("action", action)],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
}

/// Dispatches the request, lets the sources run and the archives team find nothing; returns
/// the request page after.
pub(crate) async fn through_the_sources(
    app: &TestApp,
    dpo: &mut Browser<'_>,
    reference: &str,
) -> crate::web::Page {
    sources_action(dpo, reference, "dispatch").await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let marker = format!("/admin/requests/{reference}/tasks/");
    let start = page.html.find(&marker).expect("the archives' task") + marker.len();
    let run: String = page.html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let res = dpo
        .post(
            &format!("{marker}{run}"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("outcome", "none"),
                Part::Field("comment", "Aucun dossier papier à ce nom"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    dpo.get(&format!("/admin/requests/{reference}")).await
}

async fn camille_gets_her_orders_and_invoices_and_nobody_elses(backend: Backend) {
    let Some((app, _demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let camille = verified(&app, "access", &CAMILLE).await;
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page = through_the_sources(&app, &mut dpo, &camille).await;
    for words in [
        "Identity, contact details, preferences: 1 record",
        "Identity, billing address, invoices: 3 records",
        "Email address, chosen interests and consent history: 1 record",
        "Orders, contact details: 3 records",
    ] {
        page.assert_contains(words);
    }
    page.assert_contains("Data package <span class=\"rq-tag\">to review</span>");

    let package = dpo.get(&format!("/admin/requests/{camille}/package")).await;
    assert_eq!(package.content_type, "application/zip");
    let files = unzip(&package.bytes);
    let (_, shop) = files
        .iter()
        .find(|(n, _)| n == "data/shop.json")
        .expect("the shop's data");
    let shop: Value = serde_json::from_slice(shop).expect("json");
    let tables = &shop["tables"];
    assert_eq!(tables["customers"][0]["ref"], "C-00001");
    assert_eq!(tables["customers"][0]["last_name"], "Martin");
    let orders = tables["orders"].as_array().expect("orders");
    let invoices = tables["invoices"].as_array().expect("invoices");
    assert_eq!(
        (orders.len(), invoices.len()),
        (CAMILLE.orders, CAMILLE.invoices)
    );
    assert!(orders.iter().any(|o| o["items"] == "1 × Théière en fonte"));
    assert!(
        invoices
            .iter()
            .all(|i| i["billing_name"] == "Camille Martin")
    );
    // Hugo and the 2,998 others stay out of it.
    let everything: String = files
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect();
    for other in [
        HUGO.email,
        "C-00002",
        "C-00003",
        "Bouilloire",
        "place du Marché",
    ] {
        assert!(!everything.contains(other), "{other} is in the package");
    }

    sources_action(&mut dpo, &camille, "release").await;
    app.run_worker().await;
    let mail = mails_to(&app, CAMILLE.email)
        .pop()
        .expect("a mail to Camille");
    assert!(mail.link().is_some(), "{}", mail.text);
}

async fn camilles_erasure_deletes_orders_and_keeps_invoices_ten_years(backend: Backend) {
    let Some((app, demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let hugo_orders = count_of(&demo, "orders", &HUGO);
    let camille = verified(&app, "erasure", &CAMILLE).await;
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page = through_the_sources(&app, &mut dpo, &camille).await;

    // In the shop: orders gone, invoices kept, the customer row anonymised rather than
    // deleted (the invoices still point at it), the subscription gone; nobody else touched.
    assert_eq!(count_of(&demo, "orders", &CAMILLE), 0);
    assert_eq!(count_of(&demo, "invoices", &CAMILLE), CAMILLE.invoices);
    assert_eq!(
        shop_texts(
            &demo,
            "SELECT email || last_name AS v FROM customers WHERE ref = 'C-00001'"
        ),
        [""]
    );
    let subscribed = format!(
        "SELECT email AS v FROM newsletter_subscribers WHERE email = '{}'",
        CAMILLE.email
    );
    assert!(shop_texts(&demo, &subscribed).is_empty());
    assert_eq!(count_of(&demo, "orders", &HUGO), hugo_orders);
    let path = demo.dir.join("shop.sqlite3");
    let mut shop = diesel::sqlite::SqliteConnection::establish(path.to_str().expect("path"))
        .expect("the shop");
    #[derive(diesel::QueryableByName)]
    struct Broken {
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[allow(dead_code)]
        table: String,
    }
    let broken: Vec<Broken> = diesel::sql_query("PRAGMA foreign_key_check")
        .load(&mut shop)
        .expect("check");
    assert!(broken.is_empty(), "the erasure broke a foreign key");

    // The prefilled letter says what went and what stays, under which law, until when.
    for words in [
        "Commandes, coordonnées (3 enregistrements, supprimé)",
        "Identité, coordonnées, préférences (1 enregistrement, anonymisé",
        "Adresse e-mail, centres d&#39;intérêt choisis et historique du consentement (1 enregistrement, supprimé)",
        "Identité, adresse de facturation, factures (3 enregistrements) — Code de commerce, art. L123-22, jusqu&#39;au 16 janvier 2036",
    ] {
        page.assert_contains(words);
    }
    let start = page.html.find("name=\"text\" rows=\"8\">").expect("letter")
        + "name=\"text\" rows=\"8\">".len();
    let end = start + page.html[start..].find("</textarea>").expect("end");
    let letter = page.html[start..end]
        .replace("&#39;", "'")
        .replace("&amp;", "&")
        .replace("&quot;", "\"");
    let res = dpo
        .post(
            &format!("/admin/requests/{camille}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "fulfil"),
                Part::Field("text", &letter),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    let answer = mails_to(&app, CAMILLE.email).pop().expect("the answer");
    for words in [
        "Commandes, coordonnées (3 enregistrements, supprimé)",
        "Code de commerce, art. L123-22, jusqu'au 16 janvier 2036",
    ] {
        // The text part wraps at 72 columns: compare the words, not the line breaks.
        let flat = answer.text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(words), "{words:?} in {}", answer.text);
    }
}

/// Like `on_both_backends!`, for tests whose overrides are only known at run time.
macro_rules! on_both {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                $body(Backend::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                $body(Backend::Postgres).await;
            }
        }
    };
}

on_both!(
    access_for_camille,
    camille_gets_her_orders_and_invoices_and_nobody_elses
);
on_both!(
    erasure_for_camille,
    camilles_erasure_deletes_orders_and_keeps_invoices_ten_years
);
