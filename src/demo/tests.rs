use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::*;

#[derive(QueryableByName)]
struct One {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

fn texts(demo: &Demo, sql: &str) -> Vec<String> {
    let path = demo.dir.join("shop.sqlite3");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query(sql)
        .load::<One>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.v.unwrap_or_default())
        .collect()
}

fn one(demo: &Demo, sql: &str) -> String {
    texts(demo, sql).pop().unwrap()
}

fn settings_of(demo: &Demo) -> Settings {
    Settings::load_from(None, demo.overrides.clone()).unwrap()
}

#[test]
fn the_register_and_sources_pass_the_checks_of_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let demo = prepare(dir.path()).unwrap();
    let s = settings_of(&demo);
    assert_eq!(s.organisation.name, "Boutique Démo");
    let register = s.register.load().unwrap().expect("a register");
    let sources = s.fulfilment.load_sources(Some(&register)).unwrap();
    let ids: Vec<&str> = sources.list.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["shop", "archives"]);
}

#[test]
fn the_shop_holds_the_named_customers_as_the_readme_tells() {
    let dir = tempfile::tempdir().unwrap();
    let demo = prepare(dir.path()).unwrap();
    assert_eq!(
        one(&demo, "SELECT CAST(COUNT(*) AS TEXT) AS v FROM customers"),
        shop::CUSTOMERS.to_string()
    );
    for c in NAMED {
        let count = |table: &str| {
            one(
                &demo,
                &format!(
                    "SELECT CAST(COUNT(*) AS TEXT) AS v FROM {table} WHERE customer_id IN \
                     (SELECT id FROM customers WHERE email = '{}')",
                    c.email
                ),
            )
        };
        assert_eq!(count("orders"), c.orders.to_string(), "{}", c.name);
        assert_eq!(count("invoices"), c.invoices.to_string(), "{}", c.name);
        let subscribed = one(
            &demo,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) AS v FROM newsletter_subscribers WHERE email = '{}'",
                c.email
            ),
        );
        assert_eq!(subscribed == "1", c.newsletter, "{}", c.name);
        let customer = texts(
            &demo,
            &format!("SELECT ref AS v FROM customers WHERE email = '{}'", c.email),
        );
        assert_eq!(
            customer,
            c.customer_ref
                .map(str::to_string)
                .into_iter()
                .collect::<Vec<_>>()
        );
        let last = one(
            &demo,
            &format!(
                "SELECT MAX(issued_on) AS v FROM invoices WHERE customer_id IN \
                 (SELECT id FROM customers WHERE email = '{}')",
                c.email
            ),
        );
        assert_eq!(last, c.last_invoice.unwrap_or_default(), "{}", c.name);
    }
    // Thousands of rows, and only on the domains reserved for examples.
    let orders: u32 = one(&demo, "SELECT CAST(COUNT(*) AS TEXT) AS v FROM orders")
        .parse()
        .unwrap();
    assert!(orders > 3_000, "{orders} orders");
    let elsewhere = texts(
        &demo,
        "SELECT email AS v FROM customers UNION ALL SELECT email FROM newsletter_subscribers",
    )
    .into_iter()
    .filter(|e| {
        !["@example.com", "@example.org", "@example.net"]
            .iter()
            .any(|d| e.ends_with(d))
    })
    .collect::<Vec<_>>();
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    let path = demo.dir.join("shop.sqlite3");
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    #[derive(QueryableByName)]
    struct Violation {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        table: String,
    }
    let broken: Vec<Violation> = diesel::sql_query("PRAGMA foreign_key_check")
        .load(&mut conn)
        .unwrap();
    assert!(broken.is_empty());
}

#[test]
fn the_shop_is_the_same_everywhere_and_kept_across_starts() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (prepare(a.path()).unwrap(), prepare(b.path()).unwrap());
    let digest = "SELECT group_concat(email || first_name || phone, ',') AS v FROM customers \
                  UNION ALL SELECT group_concat(number || items || total_cents, ',') FROM orders \
                  UNION ALL SELECT group_concat(number || issued_on || vat_cents, ',') FROM invoices \
                  UNION ALL SELECT group_concat(email || topics, ',') FROM newsletter_subscribers";
    assert_eq!(texts(&a, digest), texts(&b, digest));

    // What a request erased stays erased when the demo starts again.
    let path = a.dir.join("shop.sqlite3");
    SqliteConnection::establish(path.to_str().unwrap())
        .unwrap()
        .batch_execute("DELETE FROM orders WHERE customer_id = 1")
        .unwrap();
    let again = prepare(&a.dir).unwrap();
    assert_eq!(again.overrides, a.overrides);
    assert_eq!(
        one(
            &again,
            "SELECT CAST(COUNT(*) AS TEXT) AS v FROM orders WHERE customer_id = 1"
        ),
        "0"
    );
}

#[test]
fn the_demo_keeps_its_files_in_its_folder_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let demo = prepare(dir.path()).unwrap();
    let s = settings(&demo, Vec::new()).unwrap();
    let inside = |p: &str| p.contains(demo.dir.to_str().unwrap());
    assert!(inside(&s.database.url) && s.database.url.starts_with("sqlite://"));
    assert!(inside(&s.storage.dir) && inside(s.mail.outbox_dir.to_str().unwrap()));
    assert!(inside(&s.fulfilment.key_file) && inside(&s.security.session_key_file));
    assert_eq!(s.organisation.base_url, "http://127.0.0.1:8080");

    let env = [
        ("DSAR_ORGANISATION__NAME", "Ma Boutique"),
        ("DSAR_HTTP__BIND", "127.0.0.1:0"),
        ("PATH", "/usr/bin"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let s = settings(&demo, env).unwrap();
    assert_eq!(s.organisation.name, "Ma Boutique");
    let port = s.http.bind.rsplit_once(':').unwrap().1;
    assert_ne!(port, "0");
    assert_eq!(s.organisation.base_url, format!("http://127.0.0.1:{port}"));
}
