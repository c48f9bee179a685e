//! What people ask for precisely is honoured (issue 15, item 4), black-box on the example
//! shop's sources (`dsar demo`'s shop and config/demo.sources.toml): a scoped erasure of the
//! newsletter leaves customers, orders and invoices exactly in place; an access request
//! scoped to orders gathers orders only, and its package says so; an objection to a
//! processing other than direct marketing is balanced (Art. 21(1)) instead of joining the
//! suppression list; a request asking for a part cannot go to the sources unconfirmed.

use diesel::prelude::*;
use serde_json::{Value, json};

use dsar::demo::{CAMILLE, Demo};

use crate::admin::staff;
use crate::demo::{demo_app, shop_texts, sources_action};
use crate::fulfilment::unzip;
use crate::helpers::{Backend, TestApp};
use crate::web::{Browser, Part, mails_to};

const TABLES: [&str; 4] = ["customers", "orders", "invoices", "newsletter_subscribers"];

/// Every row of a table of the shop, every column, in rowid order: what "untouched" means.
pub(crate) fn rows_of(demo: &Demo, table: &str) -> String {
    let columns = shop_texts(
        demo,
        &format!("SELECT group_concat(name, ',') AS v FROM pragma_table_info('{table}')"),
    )
    .remove(0);
    shop_texts(
        demo,
        &format!(
            "SELECT json_group_array(json_array({columns})) AS v FROM (SELECT * FROM {table} ORDER BY rowid)"
        ),
    )
    .remove(0)
}

pub(crate) fn snapshot(demo: &Demo) -> Vec<(&'static str, String)> {
    TABLES.iter().map(|t| (*t, rows_of(demo, t))).collect()
}

fn count(demo: &Demo, sql: &str) -> i64 {
    shop_texts(demo, sql)[0].parse().expect("a count")
}

/// Camille's request of `kind`, filed through the API and verified, as she answered the
/// portal's own questions (`form`).
pub(crate) async fn camille_asks(app: &TestApp, kind: &str, form: Value) -> String {
    let reference = app
        .file_verified(json!({ "kind": kind, "language": "fr",
            "requester": { "name": CAMILLE.name, "email": CAMILLE.email } }))
        .await;
    let mut conn = app.state.pool.get().expect("conn");
    let row = dsar::workflow::find(&mut conn, &reference).expect("request");
    diesel::update(dsar::store::schema::requests::table.find(row.id))
        .set(dsar::store::schema::requests::form.eq(form.to_string()))
        .execute(&mut *conn)
        .expect("form");
    reference
}

fn audit_count(app: &TestApp, action: &str) -> i64 {
    use dsar::store::schema::audit_log;
    let mut conn = app.state.pool.get().expect("conn");
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result(&mut *conn)
        .expect("audit")
}

fn suppressions(app: &TestApp) -> i64 {
    use dsar::store::schema::suppressions;
    let mut conn = app.state.pool.get().expect("conn");
    suppressions::table
        .count()
        .get_result(&mut *conn)
        .expect("suppressions")
}

/// Posts the scope form as the page does: `activities` ticked, or everything.
pub(crate) async fn confirm_scope(dpo: &mut Browser<'_>, reference: &str, activities: &[&str]) {
    let page = dpo.get(&format!("/admin/requests/{reference}/scope")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
    let csrf = page.csrf();
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.push(("extent", if activities.is_empty() { "all" } else { "part" }));
    for a in activities {
        fields.push(("activity", a));
    }
    let res = dpo
        .post_urlencoded(&format!("/admin/requests/{reference}/scope"), &fields)
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
}

/// Sends the request to the sources as the button does; returns the page that answers.
async fn try_dispatch(dpo: &mut Browser<'_>, reference: &str) -> crate::web::Page {
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let csrf = page.csrf();
    dpo.post_urlencoded(
        &format!("/admin/requests/{reference}/sources"),
        &[("csrf", csrf.as_str()), ("action", "dispatch")],
    )
    .await
}

async fn a_scoped_erasure_of_the_newsletter_leaves_everything_else_in_place(backend: Backend) {
    let Some((app, demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let before = snapshot(&demo);
    let subscribed = format!(
        "SELECT CAST(COUNT(*) AS TEXT) AS v FROM newsletter_subscribers WHERE email = '{}'",
        CAMILLE.email
    );
    assert_eq!(count(&demo, &subscribed), 1);
    let camille = camille_asks(
        &app,
        "erasure",
        json!({ "erasure_scope": "part", "erasure_part": "Ne plus recevoir la lettre d'information" }),
    )
    .await;
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;

    // Asked for a part, not confirmed: the page says why it cannot go, and sending is refused.
    let page = dpo.get(&format!("/admin/requests/{camille}")).await;
    page.assert_contains("The person asked for part of their data only: the request cannot be sent to the sources until its scope is confirmed.");
    assert!(!page.html.contains("id=\"dispatch\""), "no send button");
    page.assert_contains(
        "Confirm the scope of the request from what the person asked, then send it to the sources.",
    );
    let refused = try_dispatch(&mut dpo, &camille).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.html);
    refused.assert_contains("confirm the scope of the request before sending it to the sources");
    assert_eq!(snapshot(&demo), before);

    // The DPO reads her words and confirms the newsletter only.
    let form = dpo.get(&format!("/admin/requests/{camille}/scope")).await;
    form.assert_contains("Ne plus recevoir la lettre d&#39;information");
    // Nothing ticked: refused in words, nothing recorded.
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{camille}/scope"),
            &[("csrf", form.csrf().as_str()), ("extent", "part")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Tick at least one activity, or choose all of the person&#39;s data.");
    assert_eq!(audit_count(&app, "scope.confirm"), 0);
    confirm_scope(&mut dpo, &camille, &["newsletter"]).await;
    assert_eq!(audit_count(&app, "scope.confirm"), 1);
    let page = dpo.get(&format!("/admin/requests/{camille}")).await;
    page.assert_contains("Scope of the request confirmed: Newsletter and direct marketing");
    page.assert_contains("<dd>Newsletter and direct marketing</dd>");

    sources_action(&mut dpo, &camille, "dispatch").await;
    app.run_worker().await;

    // Her subscription is gone; every other row of every table is exactly as it was.
    assert_eq!(count(&demo, &subscribed), 0);
    let after = snapshot(&demo);
    for ((table, was), (_, is)) in before.iter().zip(&after) {
        if *table == "newsletter_subscribers" {
            let others = |rows: &str| -> Vec<Value> {
                serde_json::from_str::<Vec<Value>>(rows)
                    .expect("rows")
                    .into_iter()
                    .filter(|r| r[0] != CAMILLE.email)
                    .collect()
            };
            assert_eq!(others(was), others(is), "other subscribers");
        } else {
            assert_eq!(was, is, "{table} changed");
        }
    }
    // One source asked (the shop, for its newsletter table): the archives hold orders.
    let page = dpo.get(&format!("/admin/requests/{camille}")).await;
    assert!(!page.html.contains("Archives papier"), "{}", page.html);
    page.assert_contains("Email address, chosen interests and consent history: 1 record deleted");
    assert!(!page.html.contains("anonymised"), "{}", page.html);
    // The answer says what it covered, in Camille's language.
    page.assert_contains(
        "Comme vous l&#39;avez demandé, cette réponse porte sur\u{a0}: Lettre d&#39;information et prospection commerciale.",
    );

    // The register of requests carries the scope.
    let register = dpo.get("/admin/reports/register.json").await;
    let items: Vec<Value> = serde_json::from_str(&register.html).expect("json");
    assert_eq!(items[0]["scope"], "newsletter");
}

async fn an_access_request_for_orders_gathers_orders_only(backend: Backend) {
    let Some((app, demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let before = snapshot(&demo);
    let camille = camille_asks(
        &app,
        "access",
        json!({ "access_scope": "specific", "access_specifics": "Mes commandes" }),
    )
    .await;
    // Another system confirms the scope through the API: an unknown activity is refused.
    let refused = app
        .post(
            &format!("/api/v1/requests/{camille}/scope"),
            &json!({ "activities": ["payroll"] }),
        )
        .await;
    crate::helpers::assert_problem(&refused, 422, "payroll");
    let refused = app
        .post(
            &format!("/api/v1/requests/{camille}/scope"),
            &json!({ "everything": true, "activities": ["orders"] }),
        )
        .await;
    crate::helpers::assert_problem(&refused, 422, "everything");
    let res = app
        .post(
            &format!("/api/v1/requests/{camille}/scope"),
            &json!({ "activities": ["orders"] }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert!(
        res.body["timeline"]
            .as_array()
            .is_some_and(|t| t.iter().any(|e| e["type"] == "scope_confirmed")),
        "{:?}",
        res.body
    );

    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    sources_action(&mut dpo, &camille, "dispatch").await;
    app.run_worker().await;
    // The archives' team is asked too (they hold orders), and its task names the scope.
    let page = dpo.get(&format!("/admin/requests/{camille}")).await;
    page.assert_contains("Scope of the request: Orders and deliveries");
    let marker = format!("/admin/requests/{camille}/tasks/");
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
                Part::Field("comment", "Aucun bon de commande à ce nom"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{camille}")).await;
    page.assert_contains("Orders, contact details: 3 records");
    assert!(!page.html.contains("Identity, billing address, invoices"));

    let package = dpo.get(&format!("/admin/requests/{camille}/package")).await;
    let files = unzip(&package.bytes);
    let (_, shop) = files
        .iter()
        .find(|(n, _)| n == "data/shop.json")
        .expect("the shop's data");
    let shop: Value = serde_json::from_slice(shop).expect("json");
    let tables: Vec<&String> = shop["tables"].as_object().expect("tables").keys().collect();
    assert_eq!(tables, ["orders"]);
    assert_eq!(
        shop["tables"]["orders"].as_array().map(Vec::len),
        Some(CAMILLE.orders)
    );
    let (_, scope) = files
        .iter()
        .find(|(n, _)| n == "scope.json")
        .expect("scope.json");
    let scope: Value = serde_json::from_slice(scope).expect("json");
    assert_eq!(scope["activities"], json!(["orders"]));
    let (_, index) = files
        .iter()
        .find(|(n, _)| n == "index.html")
        .expect("index.html");
    let index = String::from_utf8_lossy(index);
    assert!(
        index.contains("Périmètre de la demande\u{a0}: Gestion des commandes et livraisons."),
        "{index}"
    );
    assert_eq!(snapshot(&demo), before, "an access changes nothing");
}

async fn an_objection_to_another_processing_is_balanced_not_suppressed(backend: Backend) {
    let Some((app, demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let before = snapshot(&demo);
    let form = json!({
        "objection_processing": "L'utilisation de mon compte client pour des études internes",
        "objection_reason": "Je n'ai jamais accepté que mon compte serve à cela."
    });
    let upheld = camille_asks(&app, "objection", form.clone()).await;
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    confirm_scope(&mut dpo, &upheld, &["account"]).await;
    // Scope confirmed, no decision yet: still not sent, in words.
    let page = dpo.get(&format!("/admin/requests/{upheld}")).await;
    page.assert_contains(
        "the request cannot be sent to the sources before the balancing decision (GDPR Art. 21(1))",
    );
    let refused = try_dispatch(&mut dpo, &upheld).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.html);
    refused.assert_contains("Record the balancing decision");
    page.assert_contains("Decide on the objection (balancing, GDPR Art. 21(1))");

    // Refused without grounds: said, nothing recorded.
    let scope_page = dpo.get(&format!("/admin/requests/{upheld}/scope")).await;
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{upheld}/objection"),
            &[
                ("csrf", scope_page.csrf().as_str()),
                ("decision", "compelling"),
                ("grounds", "  "),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Write the compelling legitimate grounds the person will read.");
    assert_eq!(audit_count(&app, "objection.balancing"), 0);

    // No compelling grounds: the processing in scope stops; nothing joins the list.
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{upheld}/objection"),
            &[("csrf", scope_page.csrf().as_str()), ("decision", "stop")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    sources_action(&mut dpo, &upheld, "dispatch").await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{upheld}")).await;
    page.assert_contains("Objection: no compelling grounds, the processing stops for this scope");
    // The account's table has no way to stop it written in the sources file: the team does,
    // on that table only.
    page.assert_contains(
        "stop the processing of “Identity, contact details, preferences”: the sources file writes no way to stop it",
    );
    assert!(
        !page.html.contains("stop the processing of “Orders"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("Archives papier"), "{}", page.html);
    assert_eq!(suppressions(&app), 0, "not the marketing suppression list");
    assert_eq!(snapshot(&demo), before, "nothing outside the scope changed");
    assert_eq!(audit_count(&app, "objection.balancing"), 1);

    // Compelling grounds: refused with them, mailed; no data changes, nothing sent.
    let refused_one = camille_asks(&app, "objection", form).await;
    confirm_scope(&mut dpo, &refused_one, &["orders"]).await;
    let scope_page = dpo
        .get(&format!("/admin/requests/{refused_one}/scope"))
        .await;
    let grounds =
        "Les commandes sont nécessaires à la garantie légale de conformité pendant deux ans.";
    let res = dpo
        .post_urlencoded(
            &format!("/admin/requests/{refused_one}/objection"),
            &[
                ("csrf", scope_page.csrf().as_str()),
                ("decision", "compelling"),
                ("grounds", grounds),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains(
        "The decision is recorded: the objection is refused and the person is told.",
    );
    page.assert_contains("Compelling legitimate grounds: the objection is refused");
    assert!(!page.html.contains("id=\"dispatch\""));
    app.run_worker().await;
    let mail = mails_to(&app, CAMILLE.email).pop().expect("the refusal");
    let flat = mail.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("motifs légitimes et impérieux"),
        "{}",
        mail.text
    );
    assert!(flat.contains(grounds), "{}", mail.text);
    assert_eq!(snapshot(&demo), before);
    assert_eq!(suppressions(&app), 0);
    let register = dpo.get("/admin/reports/register.csv").await;
    assert!(
        register
            .html
            .contains("Compelling legitimate grounds: objection refused"),
        "{}",
        register.html
    );
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
    scoped_erasure,
    a_scoped_erasure_of_the_newsletter_leaves_everything_else_in_place
);
on_both!(
    scoped_access,
    an_access_request_for_orders_gathers_orders_only
);
on_both!(
    objection_balanced,
    an_objection_to_another_processing_is_balanced_not_suppressed
);
