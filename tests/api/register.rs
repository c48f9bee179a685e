//! The processing register page, black-box: the DPO reads the example register with its
//! retention rules and recipients; a viewer may not; without a register the page says so.

use dsar::staff::Role;

use crate::admin::staff;
use crate::helpers::{Backend, TestApp, try_spawn};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/register.example.toml");

async fn with_example() -> TestApp {
    try_spawn(Backend::Sqlite, &[("DSAR_REGISTER__FILE", EXAMPLE)])
        .await
        .expect("sqlite app with the example register")
}

#[actix_web::test]
async fn the_dpo_reads_every_article_15_item_of_the_example_register() {
    let app = with_example().await;
    assert!(app.state.register.is_some());
    let mut dpo = staff(&app, "dana@example.org", Role::Dpo).await;
    let page = dpo.get("/admin/register").await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
    for text in [
        // Activities and their legal bases, the interest stated where it is the basis.
        "Orders and deliveries",
        "Invoicing and accounting",
        "a legal obligation (Art. 6(1)(c))",
        "legitimate interests (Art. 6(1)(f)): Answering people who write to us",
        // Retention rules, typed periods and the law imposing them.
        "10 years. From the end of the financial year",
        "Required by Code de commerce, art. L123-22",
        "13 months",
        "6 months. After the request is closed",
        // Recipients with their roles, transfers with their safeguards.
        "Licensed payment service provider (PSP), which alone keeps the full card number",
        "(processor)",
        "Tax authorities, on request",
        "(separate controller)",
        "US: The payment provider",
        "standard contractual clauses (Art. 46(2)(c))",
        // Categories in the register's words (never the ids sources map to), source,
        // automated decisions.
        "Billing address <small>(provided by the person)</small>",
        "You, or a recruitment agency or job board",
        "fraud risk score",
    ] {
        page.assert_contains(text);
    }
    assert!(!page.html.contains("billing_address"), "{}", page.html);
    // The link in the header for those who may read it.
    page.assert_contains("href=\"/admin/register\"");
}

#[actix_web::test]
async fn a_viewer_and_a_handler_are_refused() {
    let app = with_example().await;
    for (email, role) in [
        ("viewer@example.org", Role::Viewer),
        ("handler@example.org", Role::Handler),
    ] {
        let mut b = staff(&app, email, role).await;
        let page = b.get("/admin/register").await;
        assert_eq!(page.status.as_u16(), 403, "{}", role.as_str());
        let queue = b.get("/admin").await;
        assert!(!queue.html.contains("/admin/register"), "{}", role.as_str());
    }
}

#[actix_web::test]
async fn without_a_register_the_app_starts_and_the_page_says_so() {
    let app = try_spawn(Backend::Sqlite, &[]).await.expect("sqlite app");
    assert!(app.state.register.is_none());
    let mut admin = staff(&app, "ada@example.org", Role::Admin).await;
    let page = admin.get("/admin/register").await;
    assert_eq!(page.status.as_u16(), 200);
    page.assert_contains("No processing register yet");
}

#[actix_web::test]
async fn a_broken_register_stops_the_start_with_the_activity_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("register.toml");
    let text = std::fs::read_to_string(EXAMPLE).expect("example").replacen(
        "legal_basis = \"contract\"",
        "legal_basis = \"contrat\"",
        1,
    );
    std::fs::write(&path, text).expect("write");
    let settings = dsar::config::Settings::load_from(
        None,
        [
            (
                "DSAR_REGISTER__FILE".to_string(),
                path.display().to_string(),
            ),
            (
                "DSAR_DATABASE__URL".to_string(),
                format!("sqlite://{}", dir.path().join("db.sqlite3").display()),
            ),
        ],
    )
    .expect("settings");
    let err = match dsar::app::prepare(settings, dsar::clock::Clock::default()) {
        Ok(_) => panic!("a broken register was accepted"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("register.file")
            && err.contains("activity \"orders\"")
            && err.contains("contrat"),
        "{err}"
    );
}
