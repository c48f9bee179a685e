//! Fulfilment, black-box: a shop database of its own (SQLite, or PostgreSQL in CI) holding
//! two customers across four tables, a mailing service served on loopback that checks the
//! signature of every call, and a paper-archives team. An access request becomes a package
//! whose manifest, index and data are checked file by file; an erasure deletes, anonymises
//! and keeps exactly what the sources file says, and the answer says what was kept, why and
//! until when; downloads are refused with a wrong link, after the period and past the count.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::admin::staff;
use crate::helpers::{Backend, POSTGRES_ENV, REQUIRE_POSTGRES_ENV, TestApp, try_spawn};
use crate::web::{Browser, Part, mails_to};

const SECRET: &str = "a-loopback-secret-of-at-least-32-characters";
const PDF: &[u8] = b"%PDF-1.4\n% scanned order form\n%%EOF\n";

const SHOP_DDL: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, first_name TEXT, last_name TEXT, phone TEXT, language TEXT, created_at TEXT, restricted INTEGER NOT NULL DEFAULT 0);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, placed_on TEXT, items TEXT, total_cents INTEGER, shipping_address TEXT);
CREATE TABLE invoices (number TEXT PRIMARY KEY, customer_id INTEGER NOT NULL, issued_on TEXT, total_cents INTEGER, vat_cents INTEGER, billing_name TEXT, billing_address TEXT);
CREATE TABLE newsletter_subscribers (email TEXT NOT NULL, subscribed_at TEXT, topics TEXT, active INTEGER NOT NULL DEFAULT 1);
INSERT INTO customers (id, email, first_name, last_name, phone, language, created_at) VALUES
  (1, 'Jeanne.Martin@Example.fr', 'Jeanne', 'Martin', '+33 6 11 22 33 44', 'fr', '2023-04-02'),
  (2, 'paul.durand@example.fr', 'Paul', 'Durand', '+33 6 99 88 77 66', 'fr', '2022-11-20');
INSERT INTO orders (id, customer_id, placed_on, items, total_cents, shipping_address) VALUES
  (10, 1, '2024-01-14', 'Théière en fonte', 4590, '12 rue des Lilas, 69003 Lyon'),
  (11, 1, '2025-02-09', 'Tasses x6', 2400, '12 rue des Lilas, 69003 Lyon'),
  (12, 2, '2024-06-01', 'Moulin à café', 3900, '5 avenue Foch, 75116 Paris');
INSERT INTO invoices (number, customer_id, issued_on, total_cents, vat_cents, billing_name, billing_address) VALUES
  ('F-2024-0001', 1, '2024-01-15', 4590, 765, 'Jeanne Martin', '12 rue des Lilas, 69003 Lyon'),
  ('F-2025-0042', 1, '2025-02-10', 2400, 400, 'Jeanne Martin', '12 rue des Lilas, 69003 Lyon'),
  ('F-2024-0107', 2, '2024-06-02', 3900, 650, 'Paul Durand', '5 avenue Foch, 75116 Paris');
INSERT INTO newsletter_subscribers (email, subscribed_at, topics, active) VALUES
  ('jeanne.martin@example.fr', '2023-04-02', 'thé,promotions', 1),
  ('paul.durand@example.fr', '2022-11-20', 'café', 1);
";

/// The shop's database, on the same kind of backend as the server under test.
pub(crate) struct Shop {
    url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Drop for Shop {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = diesel::pg::PgConnection::establish(admin)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        }
    }
}

impl Shop {
    fn create(backend: Backend) -> Option<Shop> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let path = dir.path().join("shop.sqlite3");
                let mut conn =
                    diesel::sqlite::SqliteConnection::establish(&path.display().to_string())
                        .expect("shop database");
                conn.batch_execute(SHOP_DDL).expect("shop rows");
                Some(Shop {
                    url: format!("sqlite://{}", path.display()),
                    _dir: dir,
                    pg: None,
                })
            }
            Backend::Postgres => {
                let Ok(admin) = std::env::var(POSTGRES_ENV) else {
                    if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1") {
                        panic!("{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is not set");
                    }
                    eprintln!("skipped: PostgreSQL shop (set {POSTGRES_ENV} to run it)");
                    return None;
                };
                let name = format!("dsar_shop_{}", &dsar::crypto::random_token()[..12]);
                let mut conn = diesel::pg::PgConnection::establish(&admin).expect("postgres");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .expect("create shop database");
                let (base, query) = admin
                    .split_once('?')
                    .map_or((admin.as_str(), String::new()), |(b, q)| {
                        (b, format!("?{q}"))
                    });
                let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
                let url = format!("{server}/{name}{query}");
                let mut shop = diesel::pg::PgConnection::establish(&url).expect("shop database");
                shop.batch_execute(SHOP_DDL).expect("shop rows");
                Some(Shop {
                    url,
                    _dir: dir,
                    pg: Some((admin, name)),
                })
            }
        }
    }

    /// Changes the shop behind the server's back (a table lost, then restored).
    pub(crate) fn execute(&self, sql: &str) {
        match self.pg {
            Some(_) => diesel::pg::PgConnection::establish(&self.url)
                .expect("shop")
                .batch_execute(sql),
            None => diesel::sqlite::SqliteConnection::establish(
                self.url.trim_start_matches("sqlite://"),
            )
            .expect("shop")
            .batch_execute(sql),
        }
        .expect("shop statement");
    }

    /// One column of the rows `sql` selects, as text.
    pub(crate) fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            v: Option<String>,
        }
        let rows: Vec<Row> = match self.pg {
            Some(_) => diesel::sql_query(sql)
                .load(&mut diesel::pg::PgConnection::establish(&self.url).expect("shop"))
                .expect("query"),
            None => diesel::sql_query(sql)
                .load(
                    &mut diesel::sqlite::SqliteConnection::establish(
                        self.url.trim_start_matches("sqlite://"),
                    )
                    .expect("shop"),
                )
                .expect("query"),
        };
        rows.into_iter().map(|r| r.v.unwrap_or_default()).collect()
    }
}

/// What the mailing service received: path, timestamp, signature and body.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) path: String,
    timestamp: String,
    signature: String,
    pub(crate) body: Vec<u8>,
}

/// The mailing service: checks nothing itself (the test does, on what it recorded) and
/// answers as a real one would.
fn mailing_service() -> (String, Arc<Mutex<Vec<Call>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/dsar", listener.local_addr().expect("addr"));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let (mut length, mut timestamp, mut signature) = (0usize, String::new(), String::new());
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap_or((header, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-dsar-timestamp" => timestamp = value.trim().to_string(),
                    "x-dsar-signature" => signature = value.trim().to_string(),
                    _ => {}
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).expect("body");
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let email = request["subject"]["email"]
                .as_str()
                .unwrap_or("")
                .to_lowercase();
            let answer = match (path.as_str(), email.as_str()) {
                ("/dsar/access", "jeanne.martin@example.fr") => json!({
                    "tables": { "subscriptions": [
                        { "list": "promotions", "opened": 12, "email": "jeanne.martin@example.fr" },
                        { "list": "nouveautés", "opened": 3, "email": "jeanne.martin@example.fr" }
                    ] }
                }),
                ("/dsar/access", _) => json!({ "records": [] }),
                ("/dsar/erase", _) => json!({
                    "done": true, "rows": 2,
                    "kept": [{ "what": "bounce log", "rows": 1, "rule": "anti-spam evidence", "until": "2026-03-03" }]
                }),
                _ => json!({ "done": true }),
            };
            seen.lock().expect("lock").push(Call {
                path,
                timestamp,
                signature,
                body,
            });
            let text = answer.to_string();
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, calls)
}

fn sources_file(dir: &std::path::Path, shop: &str, mailing: &str) -> String {
    let text = format!(
        r#"
[[source]]
id = "shop"
name = "Boutique en ligne"
kind = "sql"
url = "{shop}"
activity = "account"

[[source.table]]
name = "customers"
match = "email"
columns = ["id", "email", "first_name", "last_name", "phone", "language", "created_at"]
categories = ["identity", "contact", "preferences"]
erase = "delete"
rectify = ["first_name", "last_name", "phone"]
restrict = {{ restricted = "1" }}
unrestrict = {{ restricted = "0" }}

[[source.table]]
name = "orders"
match = "customer_id"
via = {{ table = "customers", key = "id", match = "email" }}
columns = ["id", "placed_on", "items", "total_cents", "shipping_address"]
activity = "orders"
categories = ["orders", "contact"]
erase = "anonymise"
anonymise = {{ shipping_address = "" }}

[[source.table]]
name = "invoices"
match = "customer_id"
via = {{ table = "customers", key = "id", match = "email" }}
columns = ["number", "issued_on", "total_cents", "vat_cents", "billing_name", "billing_address"]
activity = "invoicing"
categories = ["identity", "billing_address", "invoices"]
erase = "keep"
keep_under = "invoicing"
keep_from = "issued_on"

[[source.table]]
name = "newsletter_subscribers"
match = "email"
columns = ["email", "subscribed_at", "topics"]
activity = "newsletter"
categories = ["contact", "marketing_preferences"]
erase = "delete"
object = {{ active = "0" }}

[[source]]
id = "mailing"
name = "Service d'envoi des lettres"
kind = "http"
url = "{mailing}"
secret = "{SECRET}"
activity = "newsletter"
categories = ["contact", "email_engagement"]
recipient = "Prestataire d'envoi d'e-mails"

[[source]]
id = "archives"
name = "Archives papier"
kind = "manual"
team = "Service client — archives"
instructions = "Chercher les bons de commande au nom de la personne."
activity = "orders"
categories = ["identity", "orders"]
"#
    );
    let path = dir.join("sources.toml");
    std::fs::write(&path, text).expect("sources file");
    path.display().to_string()
}

pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) shop: Shop,
    pub(crate) calls: Arc<Mutex<Vec<Call>>>,
    _dir: tempfile::TempDir,
}

pub(crate) async fn world(backend: Backend, extra: &[(&str, &str)]) -> Option<World> {
    let shop = Shop::create(backend)?;
    let (mailing, calls) = mailing_service();
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = sources_file(dir.path(), &shop.url, &mailing);
    let mut env = vec![
        ("DSAR_REGISTER__FILE", "config/register.example.toml"),
        ("DSAR_FULFILMENT__SOURCES_FILE", sources.as_str()),
    ];
    env.extend_from_slice(extra);
    let app = try_spawn(backend, &env).await?;
    Some(World {
        app,
        shop,
        calls,
        _dir: dir,
    })
}

/// Files a request for `email` through the API and verifies it; returns its reference.
async fn verified(app: &TestApp, kind: &str, name: &str, email: &str) -> String {
    app.file_verified(
        json!({ "kind": kind, "language": "fr", "requester": { "name": name, "email": email } }),
    )
    .await
}

pub(crate) async fn sources_action(
    dpo: &mut Browser<'_>,
    reference: &str,
    fields: &[(&str, &str)],
) -> crate::web::Page {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let csrf = page.csrf();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let res = dpo
        .post_urlencoded(&format!("/admin/requests/{reference}/sources"), &all)
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    assert!(
        !page.html.contains("class=\"error-summary\""),
        "{}",
        page.html
    );
    page
}

/// The archives team answers its task: nothing found, or the scanned document.
pub(crate) async fn archives_task(dpo: &mut Browser<'_>, reference: &str, found: bool) {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    page.assert_contains("Task for Service client — archives");
    let marker = format!("/admin/requests/{reference}/tasks/");
    let start = page.html.find(&marker).expect("task form") + marker.len();
    let run: String = page.html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let csrf = page.csrf();
    let url = format!("{marker}{run}");
    let res = if found {
        dpo.post(
            &url,
            &[
                Part::Field("csrf", &csrf),
                Part::Field("outcome", "found"),
                Part::Field("comment", "Bon de commande papier de 2019"),
                Part::File("file", "bon-2019.pdf", PDF),
            ],
        )
        .await
    } else {
        dpo.post(
            &url,
            &[
                Part::Field("csrf", &csrf),
                Part::Field("outcome", "none"),
                Part::Field("comment", "Rien dans les cartons 2019-2024"),
            ],
        )
        .await
    };
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("The task is done.");
}

/// Sends the answer letter, as the request page's form does; returns the page after.
async fn fulfil(dpo: &mut Browser<'_>, reference: &str, letter: &str) -> crate::web::Page {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let res = dpo
        .post(
            &format!("/admin/requests/{reference}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "fulfil"),
                Part::Field("text", letter),
            ],
        )
        .await;
    // Done, the page with its notice; refused, the page again with the reason.
    assert!(matches!(res.status.as_u16(), 303 | 422), "{}", res.html);
    dpo.follow(res).await
}

/// The id of the first source run a page offers to act on.
fn first_run(page: &crate::web::Page) -> String {
    let marker = "name=\"run\" value=\"";
    let start = page.html.find(marker).expect("run") + marker.len();
    page.html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// The files of a zip, read through its central directory.
pub(crate) fn unzip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at =
        |at: usize| u32::from_le_bytes([zip[at], zip[at + 1], zip[at + 2], zip[at + 3]]) as usize;
    let end = (0..zip.len() - 21)
        .rev()
        .find(|&i| zip[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("end of central directory");
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut files = Vec::new();
    for _ in 0..count {
        assert_eq!(zip[at..at + 4], [0x50, 0x4b, 0x01, 0x02]);
        let method = u16_at(at + 10);
        let compressed = u32_at(at + 20);
        let name_len = u16_at(at + 28);
        let next = at + 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).expect("name");
        let local = u32_at(at + 42);
        let data = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        let raw = &zip[data..data + compressed];
        let content = match method {
            0 => raw.to_vec(),
            8 => {
                let mut out = Vec::new();
                flate2::read::DeflateDecoder::new(raw)
                    .read_to_end(&mut out)
                    .expect("inflate");
                out
            }
            other => panic!("method {other}"),
        };
        files.push((name, content));
        at = next;
    }
    files
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| {
            panic!(
                "{name} in {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
        .1
}

fn text(files: &[(String, Vec<u8>)], name: &str) -> String {
    String::from_utf8(file(files, name).to_vec()).expect("utf-8")
}

fn audit_actions(app: &TestApp, action: &str) -> usize {
    use diesel::{ExpressionMethods, QueryDsl};
    use dsar::store::schema::audit_log;
    let mut conn = app.state.pool.get().expect("conn");
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result::<i64>(&mut *conn)
        .expect("count") as usize
}

async fn access(backend: Backend) {
    let Some(w) = world(backend, &[("DSAR_FULFILMENT__MAX_DOWNLOADS", "2")]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let jeanne = verified(app, "access", "Jeanne Martin", "jeanne.martin@example.fr").await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("Send to the sources");
    page.assert_contains("find and export the data");

    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    for words in [
        "Identity, contact details, preferences: 1 record",
        "Identity, billing address, invoices: 2 records",
        "Email address, chosen interests and consent history: 1 record",
        "Orders, contact details: 2 records",
        "subscriptions: 2 records",
    ] {
        page.assert_contains(words);
    }
    // The package waits for the archives team.
    assert!(!page.html.contains("id=\"package\""), "{}", page.html);
    archives_task(&mut dpo, &jeanne, true).await;
    app.run_worker().await;

    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("Data package <span class=\"rq-tag\">to review</span>");
    let review = dpo.get(&format!("/admin/requests/{jeanne}/package")).await;
    assert_eq!(review.status.as_u16(), 200);
    assert_eq!(review.content_type, "application/zip");
    let files = unzip(&review.bytes);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "index.html",
            "data/shop.json",
            "data/shop.csv",
            "data/mailing.json",
            "data/mailing.csv",
            "data/archives/bon-2019.pdf",
            "manifest.json"
        ]
    );
    // Every file's hash and size, as the manifest states them.
    let manifest: Value = serde_json::from_slice(file(&files, "manifest.json")).expect("manifest");
    let listed = manifest["files"].as_array().expect("files");
    assert_eq!(listed.len(), files.len() - 1);
    for entry in listed {
        let content = file(&files, entry["name"].as_str().expect("name"));
        assert_eq!(entry["size"].as_u64(), Some(content.len() as u64));
        let sha: String = Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            entry["sha256"].as_str(),
            Some(sha.as_str()),
            "{}",
            entry["name"]
        );
    }
    assert_eq!(file(&files, "data/archives/bon-2019.pdf"), PDF);

    // Exactly Jeanne's rows, none of Paul's.
    let shop: Value = serde_json::from_slice(file(&files, "data/shop.json")).expect("json");
    let tables = &shop["tables"];
    assert_eq!(tables["customers"].as_array().map(Vec::len), Some(1));
    assert_eq!(tables["customers"][0]["first_name"], "Jeanne");
    assert_eq!(tables["orders"].as_array().map(Vec::len), Some(2));
    assert_eq!(tables["invoices"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        tables["newsletter_subscribers"].as_array().map(Vec::len),
        Some(1)
    );
    let mut order_ids: Vec<i64> = tables["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["id"].as_i64().expect("id"))
        .collect();
    order_ids.sort();
    assert_eq!(order_ids, [10, 11]);
    let everything = files
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect::<String>();
    for other in [
        "Paul",
        "Durand",
        "paul.durand",
        "Moulin",
        "F-2024-0107",
        "avenue Foch",
    ] {
        assert!(
            !everything.contains(other),
            "{other} leaked into the package"
        );
    }
    let csv = text(&files, "data/shop.csv");
    assert!(csv.starts_with("table,record,field,value\r\n"), "{csv}");
    assert!(csv.contains("invoices,2,number,F-2025-0042\r\n"), "{csv}");
    assert!(text(&files, "data/mailing.json").contains("nouveautés"));

    // index.html states every activity of the register, with every Art. 15 item.
    let index = text(&files, "index.html");
    let register = dsar::config::processing::Register::load(std::path::Path::new(
        "config/register.example.toml",
    ))
    .expect("register");
    for a in &register.activities {
        assert!(
            index.contains(&escape(&a.name.fr)),
            "activity {} missing",
            a.id
        );
        for p in &a.purposes {
            assert!(index.contains(&escape(&p.fr)), "purpose {:?}", p.fr);
        }
        for c in &a.categories {
            assert!(index.contains(&escape(&c.fr)), "category {:?}", c.fr);
        }
        for r in &a.recipients {
            assert!(
                index.contains(&escape(&r.name.fr)),
                "recipient {:?}",
                r.name.fr
            );
        }
        for t in &a.transfers {
            assert!(
                index.contains(&escape(&t.recipient.fr)),
                "transfer {:?}",
                t.recipient.fr
            );
        }
        if let Some(law) = &a.retention.legal_reference {
            assert!(index.contains(&escape(law)), "retention rule {law}");
        }
    }
    for words in [
        "Vos données personnelles",
        "Base légale",
        "Durée de conservation",
        "Origine des données",
        "Décisions automatisées",
        "Transferts hors de l&#39;EEE",
        "clauses contractuelles types",
        "CNIL",
        "Théière en fonte",
        "Nous détenons des données vous concernant dans ce traitement.",
    ] {
        assert!(index.contains(words), "index.html lacks {words:?}");
    }
    assert!(!index.contains("missing translation"));

    // Staff withhold the mailing data (it names a third party, say); the package is rebuilt.
    sources_action(
        &mut dpo,
        &jeanne,
        &[
            ("action", "remove"),
            ("item", "mailing"),
            ("reason", "Contient les adresses d'autres abonnés"),
        ],
    )
    .await;
    app.run_worker().await;
    let review = dpo.get(&format!("/admin/requests/{jeanne}/package")).await;
    let files = unzip(&review.bytes);
    assert!(!files.iter().any(|(n, _)| n.starts_with("data/mailing")));
    let index = text(&files, "index.html");
    assert!(
        index.contains("Contient les adresses d&#39;autres abonnés"),
        "withheld reason"
    );
    assert!(index.contains("article 15, paragraphe 4"));
    // Withheld by mistake: put back, and the package holds it again; then withheld for good.
    sources_action(
        &mut dpo,
        &jeanne,
        &[("action", "restore"), ("item", "mailing")],
    )
    .await;
    app.run_worker().await;
    let back = unzip(
        &dpo.get(&format!("/admin/requests/{jeanne}/package"))
            .await
            .bytes,
    );
    assert!(back.iter().any(|(n, _)| n == "data/mailing.json"));
    sources_action(
        &mut dpo,
        &jeanne,
        &[
            ("action", "remove"),
            ("item", "mailing"),
            ("reason", "Contient les adresses d'autres abonnés"),
        ],
    )
    .await;
    app.run_worker().await;
    let review = dpo.get(&format!("/admin/requests/{jeanne}/package")).await;

    // The answer cannot go before the package.
    fulfil(&mut dpo, &jeanne, "Voici vos données.")
        .await
        .assert_contains("The data package is not released yet");

    // Released: the requester is mailed a link to the status page, in French.
    let page = sources_action(&mut dpo, &jeanne, &[("action", "release")]).await;
    page.assert_contains("The package is released to the requester.");
    app.run_worker().await;
    let mail = mails_to(app, "jeanne.martin@example.fr")
        .pop()
        .expect("mail");
    assert!(
        mail.text.contains("Vos données sont prêtes"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("17 mars 2025"), "{}", mail.text);
    let link = mail.link().expect("link");

    let mut person = Browser::new(app);
    let status = person.get(&link).await;
    status.assert_contains("Télécharger vos données (zip)");
    status.assert_contains("Téléchargements restants : 2");
    let got = person.get(&format!("{link}/export")).await;
    assert_eq!(got.status.as_u16(), 200);
    assert_eq!(
        got.bytes, review.bytes,
        "the requester gets what staff reviewed"
    );

    // A forged link gets nothing.
    let forged = format!("/fr/r/{}/export", "0".repeat(64));
    assert_eq!(person.get(&forged).await.status.as_u16(), 404);

    // After 14 days the download is refused, in words, and the purge deletes the file.
    app.state.clock.advance(chrono::Duration::days(15));
    let late = person.get(&format!("{link}/export")).await;
    assert_eq!(late.status.as_u16(), 410);
    late.assert_contains("a expiré");
    let on_disk = || {
        std::fs::read_dir(&app.state.settings.fulfilment.dir)
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert!(on_disk() > 0);
    {
        let mut conn = app.state.pool.get().expect("conn");
        let purged =
            dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge");
        assert_eq!(purged.packages, 1);
    }
    assert_eq!(on_disk(), 0, "package and staged data deleted");
    assert_eq!(audit_actions(app, "export.download"), 1);
    assert_eq!(audit_actions(app, "export.download_refused"), 1);
    assert_eq!(audit_actions(app, "export.purge"), 1);

    // Paul's package may be downloaded twice, no more. (Two weeks idle ended the session.)
    let (mut dpo, _) = crate::admin::sign_in(app, "dana@example.org", crate::admin::PASSWORD).await;
    let paul = verified(app, "portability", "Paul Durand", "paul.durand@example.fr").await;
    sources_action(&mut dpo, &paul, &[("action", "dispatch")]).await;
    app.run_worker().await;
    archives_task(&mut dpo, &paul, false).await;
    app.run_worker().await;
    let review = dpo.get(&format!("/admin/requests/{paul}/package")).await;
    let files = unzip(&review.bytes);
    // Portability: what Paul provided, on consent or contract; not the invoices (a legal
    // obligation) nor the mailing engagement data (observed, not provided).
    let shop: Value = serde_json::from_slice(file(&files, "data/shop.json")).expect("json");
    assert!(shop["tables"]["customers"].is_array() && shop["tables"]["orders"].is_array());
    assert!(shop["tables"]["invoices"].is_null(), "{shop}");
    assert!(!files.iter().any(|(n, _)| n.starts_with("data/mailing")));
    sources_action(&mut dpo, &paul, &[("action", "release")]).await;
    app.run_worker().await;
    let link = mails_to(app, "paul.durand@example.fr")
        .pop()
        .and_then(|m| m.link())
        .expect("link");
    for _ in 0..2 {
        assert_eq!(
            person.get(&format!("{link}/export")).await.status.as_u16(),
            200
        );
    }
    let third = person.get(&format!("{link}/export")).await;
    assert_eq!(third.status.as_u16(), 410);
    third.assert_contains("autant de fois que permis");
    person
        .get(&link)
        .await
        .assert_contains("autant de fois que permis");
    assert_eq!(audit_actions(app, "export.download"), 3);
    assert_eq!(audit_actions(app, "export.download_refused"), 2);
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

async fn erasure(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let jeanne = verified(app, "erasure", "Jeanne Martin", "jeanne.martin@example.fr").await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    app.run_worker().await;
    // The answer waits for every source, the archives team included.
    fulfil(&mut dpo, &jeanne, "Vos données sont effacées.")
        .await
        .assert_contains("A data source has not finished");
    archives_task(&mut dpo, &jeanne, false).await;

    // Exactly the configured rows: Jeanne's customer and newsletter rows deleted, her orders
    // anonymised, her invoices kept; Paul untouched.
    let shop = &w.shop;
    assert_eq!(
        shop.texts("SELECT email AS v FROM customers"),
        ["paul.durand@example.fr"]
    );
    assert_eq!(
        shop.texts("SELECT email AS v FROM newsletter_subscribers"),
        ["paul.durand@example.fr"]
    );
    assert_eq!(
        shop.texts(
            "SELECT CAST(id AS TEXT) || ':' || shipping_address AS v FROM orders ORDER BY id"
        ),
        ["10:", "11:", "12:5 avenue Foch, 75116 Paris"]
    );
    assert_eq!(
        shop.texts("SELECT number AS v FROM invoices ORDER BY number"),
        ["F-2024-0001", "F-2024-0107", "F-2025-0042"]
    );

    // The mailing service was called once, with a signature it can check.
    let calls = w.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call.path, "/dsar/erase");
    let mut signed = format!("{}.", call.timestamp).into_bytes();
    signed.extend_from_slice(&call.body);
    let expected: String = dsar::crypto::hmac(SECRET.as_bytes(), &signed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(call.signature, format!("v1={expected}"));
    let at: i64 = call.timestamp.parse().expect("unix seconds");
    assert!((at - app.state.clock.now().timestamp()).abs() < 300);
    let body: Value = serde_json::from_slice(&call.body).expect("json");
    assert_eq!(body["operation"], "erase");
    assert_eq!(body["subject"]["email"], "jeanne.martin@example.fr");
    assert_eq!(body["request"], jeanne.as_str());
    // A body changed in transit no longer matches.
    let mut tampered = format!("{}.", call.timestamp).into_bytes();
    tampered.extend_from_slice(&call.body[..call.body.len() - 1]);
    assert_ne!(
        dsar::crypto::hmac(SECRET.as_bytes(), &tampered).to_vec(),
        dsar::crypto::hmac(SECRET.as_bytes(), &signed).to_vec()
    );

    // The letter says what was erased, what was kept under which rule and until when, and
    // which recipient was told.
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    for words in [
        "Effacé :",
        "Identité, coordonnées, préférences (1 enregistrement, supprimé)",
        "Commandes, coordonnées (2 enregistrements, anonymisé)",
        "Adresse e-mail, centres d&#39;intérêt choisis et historique du consentement (1 enregistrement, supprimé)",
        "Conservé, parce que la loi ou une règle de conservation l&#39;impose :",
        "Identité, adresse de facturation, factures (2 enregistrements) — Code de commerce, art. L123-22, jusqu&#39;au 10 février 2035",
        "bounce log (1 enregistrement) — anti-spam evidence, jusqu&#39;au 3 mars 2026",
        "Destinataires informés de la modification (article 19 du RGPD) :",
        "- Prestataire d&#39;envoi d&#39;e-mails",
        "Archives papier: Rien dans les cartons 2019-2024",
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
    let csrf = page.csrf();
    let res = dpo
        .post(
            &format!("/admin/requests/{jeanne}/send"),
            &[
                Part::Field("csrf", &csrf),
                Part::Field("action", "fulfil"),
                Part::Field("text", &letter),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    let answer = mails_to(app, "jeanne.martin@example.fr")
        .pop()
        .expect("answer");
    // The text part wraps at 72 columns: the words, read across lines.
    let words = answer.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Code de commerce, art. L123-22, jusqu'au 10 février 2035"),
        "{}",
        answer.text
    );
    assert_eq!(audit_actions(app, "source.erase"), 2);
}

async fn objection_and_rectification(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let jeanne = verified(
        app,
        "objection",
        "Jeanne Martin",
        "jeanne.martin@example.fr",
    )
    .await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let check = |email: &'static str| async move {
        app.post("/api/v1/suppressions/check", &json!({ "email": email }))
            .await
    };
    assert_eq!(
        check("jeanne.martin@example.fr").await.body["suppressed"],
        false
    );
    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    app.run_worker().await;
    let on = check("JEANNE.MARTIN@example.fr").await;
    assert_eq!(on.status.as_u16(), 200);
    assert_eq!(on.body["suppressed"], true, "{:?}", on.body);
    assert_eq!(on.body["scopes"][0]["scope"], "direct_marketing");
    assert_eq!(
        check("paul.durand@example.fr").await.body["suppressed"],
        false
    );
    let bad = check("not an address").await;
    // A body member that is wrong: 422 naming it, as every other body member.
    assert_eq!(bad.status.as_u16(), 422, "{:?}", bad.body);
    assert_eq!(bad.body["errors"][0]["field"], "email");
    // Without a key, nothing.
    let res = app
        .send(
            "POST",
            "/api/v1/suppressions/check",
            None,
            Some(r#"{"email":"jeanne.martin@example.fr"}"#),
        )
        .await;
    assert_eq!(res.status.as_u16(), 401);
    assert_eq!(
        w.shop.texts("SELECT email || ':' || CAST(active AS TEXT) AS v FROM newsletter_subscribers ORDER BY email"),
        ["jeanne.martin@example.fr:0", "paul.durand@example.fr:1"]
    );
    // The hash, not the address, is what the list holds.
    {
        use diesel::QueryDsl;
        let mut conn = app.state.pool.get().expect("conn");
        let hashes: Vec<String> = dsar::store::schema::suppressions::table
            .select(dsar::store::schema::suppressions::hash)
            .load(&mut *conn)
            .expect("hashes");
        assert_eq!(hashes.len(), 1);
        assert!(!hashes[0].contains('@') && hashes[0].len() == 64);
    }

    // Rectification: the fields a table allows are corrected; the rest is a task, said so.
    let fix = verified(
        app,
        "rectification",
        "Jeanne Martin",
        "jeanne.martin@example.fr",
    )
    .await;
    let page = dpo.get(&format!("/admin/requests/{fix}")).await;
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{fix}/sources"),
            &[
                ("csrf", &page.csrf()),
                ("action", "dispatch"),
                ("changes", "not a correction"),
            ],
        )
        .await;
    let page = dpo.follow(res).await;
    page.assert_contains("does not read as field = new value");
    sources_action(
        &mut dpo,
        &fix,
        &[
            ("action", "dispatch"),
            ("changes", "phone = +33 7 00 00 00 01\nloyalty_tier = gold"),
        ],
    )
    .await;
    app.run_worker().await;
    assert_eq!(
        w.shop.texts("SELECT phone AS v FROM customers ORDER BY id"),
        ["+33 7 00 00 00 01", "+33 6 99 88 77 66"]
    );
    let page = dpo.get(&format!("/admin/requests/{fix}")).await;
    page.assert_contains("Identity, contact details, preferences: 1 record changed (phone)");
    page.assert_contains(
        "correct the field “loyalty_tier”: no table of this source lets it be corrected",
    );
    let calls = w.calls.lock().expect("lock").clone();
    let rectify = calls
        .iter()
        .find(|c| c.path == "/dsar/rectify")
        .expect("the mailing service is told");
    let body: Value = serde_json::from_slice(&rectify.body).expect("json");
    assert_eq!(body["changes"]["phone"], "+33 7 00 00 00 01");
}

/// Withdrawn after it was sent to the sources but before they ran: nothing is erased.
async fn a_withdrawn_request_changes_nothing(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let jeanne = verified(app, "erasure", "Jeanne Martin", "jeanne.martin@example.fr").await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    let res = app
        .post(
            &format!("/api/v1/requests/{jeanne}/events"),
            &json!({ "type": "withdraw" }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    app.run_worker().await;
    assert_eq!(
        w.shop
            .texts("SELECT CAST(COUNT(*) AS TEXT) AS v FROM customers"),
        ["2"]
    );
    assert!(
        w.calls.lock().expect("lock").is_empty(),
        "the service was not called"
    );
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("the request was closed before this source ran");
    // And nothing more can be sent for it.
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{jeanne}/sources"),
            &[("csrf", &page.csrf()), ("action", "dispatch")],
        )
        .await;
    dpo.follow(res)
        .await
        .assert_contains("This request is closed");
}

/// Nobody holds anything about this person: the requester is told so in words, with no file.
async fn nothing_found(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let email = "inconnu@example.fr";
    let reference = verified(app, "access", "Claude Inconnu", email).await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    sources_action(&mut dpo, &reference, &[("action", "dispatch")]).await;
    app.run_worker().await;
    archives_task(&mut dpo, &reference, false).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    page.assert_contains("Data package <span class=\"rq-tag\">no data</span>");
    page.assert_contains("No source holds data about the person");
    // The prefilled answer says so too, instead of "please find your data".
    page.assert_contains("n&#39;avons trouvé aucune donnée vous concernant");
    assert!(!page.html.contains("vous trouverez ci-joint"));
    assert_eq!(
        dpo.get(&format!("/admin/requests/{reference}/package"))
            .await
            .status
            .as_u16(),
        404
    );
    sources_action(&mut dpo, &reference, &[("action", "release")]).await;
    app.run_worker().await;
    let mail = mails_to(app, email).pop().expect("mail");
    assert!(
        mail.text
            .contains("n'avons trouvé aucune donnée vous concernant"),
        "{}",
        mail.text
    );
    let link = mail.link().expect("link");
    let mut person = Browser::new(app);
    let status = person.get(&link).await;
    status.assert_contains("aucune donnée vous concernant");
    assert!(!status.html.contains("Télécharger vos données (zip)"));
    assert_eq!(
        person.get(&format!("{link}/export")).await.status.as_u16(),
        410
    );
    // The answer may go now: there is nothing to wait for.
    fulfil(
        &mut dpo,
        &reference,
        "Nous ne détenons aucune donnée vous concernant.",
    )
    .await
    .assert_contains("The answer is sent");
    // A message from a page left open is not taken by a closed request: the person is told
    // where to write, and what they typed is still in the box. (The form is the one the
    // page showed while the request was open.)
    let res = person
        .post(
            &format!("{link}/message"),
            &[
                Part::Field("csrf", &status.csrf()),
                Part::Field("body", "Et mes commandes de 2019 ?"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Cette demande est close");
    res.assert_contains("dpo@example.org");
    res.assert_contains("Et mes commandes de 2019 ?");
}

/// Restriction: a table with a restriction column is marked; the others become a task.
async fn restriction(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let reference = verified(
        app,
        "restriction",
        "Jeanne Martin",
        "jeanne.martin@example.fr",
    )
    .await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    sources_action(&mut dpo, &reference, &[("action", "dispatch")]).await;
    app.run_worker().await;
    assert_eq!(
        w.shop.texts(
            "SELECT email || ':' || CAST(restricted AS TEXT) AS v FROM customers ORDER BY id"
        ),
        ["Jeanne.Martin@Example.fr:1", "paul.durand@example.fr:0"]
    );
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    page.assert_contains("Identity, contact details, preferences: 1 record changed (restricted)");
    page.assert_contains(
        "mark “Orders, contact details” as restricted: no restriction column is written for these data",
    );
    page.assert_contains("Task for the team:");
    fulfil(&mut dpo, &reference, "Vos données sont limitées.")
        .await
        .assert_contains("A data source has not finished");
}

/// A source that fails says why on the request page and can be run again.
async fn a_failing_source_can_be_run_again(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let jeanne = verified(app, "access", "Jeanne Martin", "jeanne.martin@example.fr").await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    // The shop loses a table.
    let drop_table = "DROP TABLE newsletter_subscribers";
    w.shop.execute(drop_table);
    sources_action(&mut dpo, &jeanne, &[("action", "dispatch")]).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("rq-tag-failed");
    page.assert_contains("table newsletter_subscribers:");
    page.assert_contains("Run again");
    let restore = "CREATE TABLE newsletter_subscribers (email TEXT NOT NULL, subscribed_at TEXT, topics TEXT, active INTEGER NOT NULL DEFAULT 1)";
    w.shop.execute(restore);
    let run = first_run(&page);
    sources_action(&mut dpo, &jeanne, &[("action", "rerun"), ("run", &run)]).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    for words in [
        "Identity, contact details, preferences: 1 record",
        "Identity, billing address, invoices: 2 records",
        "Orders, contact details: 2 records",
    ] {
        page.assert_contains(words);
    }
    assert!(!page.html.contains("rq-tag-failed"), "{}", page.html);

    // A source that stays broken can be skipped, with the reason, and the package says so.
    let paul = verified(app, "access", "Paul Durand", "paul.durand@example.fr").await;
    w.shop.execute(drop_table);
    sources_action(&mut dpo, &paul, &[("action", "dispatch")]).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{paul}")).await;
    let run = first_run(&page);
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{paul}/sources"),
            &[
                ("csrf", &page.csrf()),
                ("action", "skip"),
                ("run", &run),
                ("reason", ""),
            ],
        )
        .await;
    dpo.follow(res)
        .await
        .assert_contains("Say why the answer goes without this source");
    sources_action(
        &mut dpo,
        &paul,
        &[
            ("action", "skip"),
            ("run", &run),
            ("reason", "Base boutique en maintenance jusqu'au 10 mars"),
        ],
    )
    .await;
    archives_task(&mut dpo, &paul, true).await;
    app.run_worker().await;
    let review = dpo.get(&format!("/admin/requests/{paul}/package")).await;
    let files = unzip(&review.bytes);
    let index = text(&files, "index.html");
    assert!(
        index.contains("Systèmes que nous n&#39;avons pas pu consulter"),
        "skipped section"
    );
    assert!(index.contains("Base boutique en maintenance jusqu&#39;au 10 mars"));
    assert!(!files.iter().any(|(n, _)| n.starts_with("data/shop")));

    // Paul withdraws: what was gathered for him is deleted once the download period is over,
    // though it never went out; Jeanne's, still open, stays.
    let res = app
        .post(
            &format!("/api/v1/requests/{paul}/events"),
            &json!({ "type": "withdraw" }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    let on_disk = || {
        std::fs::read_dir(&app.state.settings.fulfilment.dir)
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let before = on_disk();
    app.state.clock.advance(chrono::Duration::days(15));
    let purged = {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge")
    };
    assert_eq!(purged.packages, 1);
    // Paul's package and the scan the archives team found.
    assert_eq!(on_disk(), before - 2);
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    };
}

both!(access);
both!(erasure);
both!(objection_and_rectification);
both!(a_failing_source_can_be_run_again);
both!(nothing_found);
both!(a_withdrawn_request_changes_nothing);
both!(restriction);
