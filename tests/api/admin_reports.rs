//! The Reports page and the register, black-box: requests filed and answered at known dates
//! through the API, then read back as the DPO sees them.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Page};

const RANGE: &str = "from=2025-01&to=2025-06";
const MANIFESTLY_UNFOUNDED: &str = "Manifestly unfounded (GDPR art. 12(5))";
const EXTENSION_REASON: &str = "Records kept in \"three\" archives, one on paper";

fn account(app: &TestApp, email: &str, name: &str, role: dsar::staff::Role) -> i64 {
    app.staff_account(email, name, role).0
}

async fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    crate::admin::signed_in(app, email).await
}

/// Files a request now (per the test clock) and returns its reference.
async fn file(app: &TestApp, kind: &str, email: &str, channel: &str) -> String {
    let filed = app
        .file(json!({
            "kind": kind,
            "requester": { "name": "Person", "email": email },
            "profile": "gdpr",
            "channel": channel,
            // To the minute: the test clock runs on from the instant it was set to.
            "received_at": app.state.clock.now().format("%Y-%m-%dT%H:%M:00Z").to_string()
        }))
        .await;
    filed["reference"].as_str().expect("reference").to_string()
}

async fn step(app: &TestApp, reference: &str, body: Value) {
    let res = app
        .post(&format!("/api/v1/requests/{reference}/events"), &body)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{body}: {:?}", res.body);
}

struct Filed {
    on_time: String,
    late: String,
    rejected: String,
    extended: String,
    soon: String,
}

/// Seven requests over six months (profile "gdpr": one month, French holidays):
/// three closed (one late, one rejected), one extended and now overdue, one due in 10 days,
/// one with its clock stopped, one filed today.
async fn half_a_year(app: &TestApp, dpo: i64) -> Filed {
    app.set_now("2025-01-06T10:00:00Z");
    let on_time = file(app, "access", "a@example.org", "email").await;
    app.set_now("2025-01-08T10:00:00Z");
    step(
        app,
        &on_time,
        json!({ "type": "verify", "method": "in_person" }),
    )
    .await;
    app.set_now("2025-01-13T10:00:00Z");
    let late = file(app, "erasure", "b@example.org", "post").await;
    step(
        app,
        &late,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    app.set_now("2025-01-20T10:00:00Z");
    // Received 6 January, closed on the 20th: 14 days, due 6 February.
    step(app, &on_time, json!({ "type": "fulfil" })).await;
    app.set_now("2025-02-03T10:00:00Z");
    let rejected = file(app, "objection", "c@example.org", "web").await;
    app.set_now("2025-02-10T10:00:00Z");
    step(
        app,
        &rejected,
        json!({ "type": "reject", "ground": "manifestly_unfounded", "note": "Filed forty times" }),
    )
    .await;
    app.set_now("2025-02-20T10:00:00Z");
    // Due 13 February, closed the 20th: late, 38 days.
    step(app, &late, json!({ "type": "fulfil" })).await;
    app.set_now("2025-03-03T10:00:00Z");
    let extended = file(app, "access", "d@example.org", "api").await;
    app.set_now("2025-03-20T10:00:00Z");
    let res = app
        .post(
            &format!("/api/v1/requests/{extended}/extension"),
            &json!({ "months": 2, "reason": EXTENSION_REASON }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    // 3 March + 3 months = Tuesday 3 June.
    assert_eq!(res.body["due_on"], "2025-06-03");
    {
        let mut conn = app.state.pool.get().expect("conn");
        let row = dsar::workflow::find(&mut conn, &extended).expect("row");
        dsar::store::requests::update(
            &mut conn,
            row.id,
            &dsar::store::requests::RequestChanges {
                assignee_id: Some(Some(dpo)),
                ..Default::default()
            },
        )
        .expect("assign");
    }
    app.set_now("2025-05-26T10:00:00Z");
    let soon = file(app, "rectification", "e@example.org", "phone").await;
    step(
        app,
        &soon,
        json!({ "type": "verify", "method": "account_details" }),
    )
    .await;
    {
        // A method typed as free text, as the API took them before the codes: the register
        // still writes it as text, never as a formula.
        let mut conn = app.state.pool.get().expect("conn");
        let row = dsar::workflow::find(&mut conn, &soon).expect("row");
        dsar::store::requests::update(
            &mut conn,
            row.id,
            &dsar::store::requests::RequestChanges {
                verified_method: Some(Some("@phone, callback")),
                ..Default::default()
            },
        )
        .expect("legacy method");
    }
    app.set_now("2025-06-02T10:00:00Z");
    let held = file(app, "portability", "f@example.org", "email").await;
    app.set_now("2025-06-10T10:00:00Z");
    step(
        app,
        &held,
        json!({ "type": "hold", "note": "Which account?" }),
    )
    .await;
    app.set_now("2025-06-16T10:00:00Z");
    file(app, "access", "g@example.org", "email").await;
    Filed {
        on_time,
        late,
        rejected,
        extended,
        soon,
    }
}

/// The cells of the row whose first cell is `first`, in the table with this id.
fn row(page: &Page, table: &str, first: &str) -> Vec<String> {
    let start = page
        .html
        .find(&format!("id=\"{table}\""))
        .unwrap_or_else(|| panic!("no table {table}"));
    let html = &page.html[start..];
    let html = &html[..html.find("</table>").expect("table end")];
    let row = html
        .split("<tr>")
        .find(|r| {
            if first.is_empty() {
                r.contains("<td>")
            } else {
                r.contains(&format!("<th scope=\"row\">{first}</th>"))
            }
        })
        .unwrap_or_else(|| panic!("no row {first} in {table}: {html}"));
    row.split("<td>")
        .skip(1)
        .map(|c| {
            let cell = &c[..c.find("</td>").expect("cell end")];
            // Text only: drop any tags inside the cell.
            let mut text = String::new();
            let mut in_tag = false;
            for ch in cell.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    _ if !in_tag => text.push(ch),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

struct Download {
    status: u16,
    content_type: String,
    disposition: String,
    body: String,
}

async fn download(b: &Browser<'_>, path: &str) -> Download {
    let cookies = b
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut res = b
        .app
        .client
        .get(format!("{}{path}", b.app.address))
        .insert_header(("Cookie", cookies))
        .send()
        .await
        .expect("server answers");
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let bytes = res.body().limit(10 * 1024 * 1024).await.expect("body");
    Download {
        status: res.status().as_u16(),
        content_type,
        disposition,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// RFC 4180, as a spreadsheet reads it: quoted fields may hold commas, quotes and newlines.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the CSV ends without a line break"
    );
    rows
}

async fn the_dpo_reads_the_figures_and_downloads_the_register(app: TestApp) {
    use dsar::staff::Role;
    let dpo = account(&app, "dana@example.org", "Dana DPO", Role::Dpo);
    let filed = half_a_year(&app, dpo).await;
    let mut b = sign_in(&app, "dana@example.org").await;

    let queue = b.get("/admin").await;
    queue.assert_contains("href=\"/admin/reports\"");
    let page = b.get(&format!("/admin/reports?{RANGE}")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);

    // Received: access, rectification, erasure, restriction, portability, objection,
    // consent_withdrawal, directives, heir, total.
    let kinds = |m| row(&page, "received-table", m);
    assert_eq!(
        kinds("January 2025"),
        ["1", "0", "1", "0", "0", "0", "0", "0", "0", "2"]
    );
    assert_eq!(
        kinds("February 2025"),
        ["0", "0", "0", "0", "0", "1", "0", "0", "0", "1"]
    );
    assert_eq!(
        kinds("April 2025"),
        ["0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]
    );
    assert_eq!(
        kinds("June 2025"),
        ["1", "0", "0", "0", "1", "0", "0", "0", "0", "2"]
    );
    assert_eq!(
        kinds("Total"),
        ["3", "1", "1", "0", "1", "1", "0", "0", "0", "7"]
    );
    // Closed: fulfilled, rejected, withdrawn, expired, total.
    let outcomes = |m| row(&page, "closed-table", m);
    assert_eq!(outcomes("January 2025"), ["1", "0", "0", "0", "1"]);
    assert_eq!(outcomes("February 2025"), ["1", "1", "0", "0", "2"]);
    assert_eq!(outcomes("Total"), ["2", "1", "0", "0", "3"]);
    // The charts carry the same figures, and say what they show.
    page.assert_contains("<title id=\"received-title\">Requests received per month by right, from January 2025 to June 2025</title>");
    page.assert_contains("<desc id=\"closed-desc\">3 in all from January 2025 to June 2025: Answered 2, Refused 1, Withdrawn 0, Expired 0.");
    page.assert_contains("<title>February 2025, Refused: 1</title>");
    assert!(
        !page.html.contains("<script") && !page.html.contains("style=\""),
        "the CSP allows neither script nor style attributes"
    );

    // 7, 14 and 38 days; the erasure was a week late.
    page.assert_contains("2 of 3 (66.7 %)");
    assert!(page.html.contains("<dd id=\"median\">14 days</dd>"));
    assert!(page.html.contains("<dd id=\"p90\">38 days</dd>"));

    // Overdue, 0–7, 8–14, 15–30, more than 30, clock stopped.
    assert_eq!(row(&page, "open-table", ""), ["1", "0", "1", "1", "0", "1"]);
    page.assert_contains(&format!(
        "<a href=\"/admin/requests/{0}\">{0}</a>",
        filed.extended
    ));
    let start = page.html.find(&filed.extended).expect("listed");
    let line = &page.html[start..start + page.html[start..].find("</tr>").expect("row end")];
    for cell in ["Access (art. 15)", "3 June 2025", "13 days", "Dana DPO"] {
        assert!(line.contains(cell), "{cell} missing from {line}");
    }
    for other in [&filed.soon, &filed.late] {
        assert!(
            !page.html.contains(&format!("/admin/requests/{other}")),
            "{other} is not overdue"
        );
    }

    // The register as CSV.
    let csv = download(&b, &format!("/admin/reports/register.csv?{RANGE}")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    assert_eq!(
        csv.disposition,
        "attachment; filename=\"dsar-register-2025-01-to-2025-06-as-of-2025-06-16.csv\""
    );
    assert!(csv.body.contains("\"'@phone, callback\""), "{}", csv.body);
    let rows = parse_csv(&csv.body);
    // For a spreadsheet: the columns and the codes in the team's words.
    assert_eq!(
        rows[0],
        [
            "Reference",
            "Right exercised",
            "Received through",
            "Received on",
            "Identity verified by",
            "Identity verified on",
            "Due on",
            "Reasons for the extension",
            "Extended to",
            "Closed on",
            "Outcome",
            "Ground for refusal",
            "On behalf of",
            "Fee: basis",
            "Fee: amount in euro cents",
            "Fee: state",
            "Confirmed scope",
            "Objection: balancing (Art. 21(1))"
        ]
    );
    assert_eq!(rows.len(), 8, "a header and seven requests");
    let by_ref = |reference: &str| -> Vec<String> {
        rows.iter()
            .find(|r| r[0] == reference)
            .unwrap_or_else(|| panic!("{reference} not in the register"))
            .clone()
    };
    let a = by_ref(&filed.on_time);
    assert_eq!(
        &a[1..4],
        ["Access (art. 15)", "Email", "2025-01-06T10:00:00Z"]
    );
    assert_eq!(a[4], "in person");
    assert!(a[5].starts_with("2025-01-08T10:00"), "{}", a[5]);
    assert_eq!(a[6], "2025-02-06");
    assert_eq!(&a[7..9], ["", ""]);
    assert!(a[9].starts_with("2025-01-20T10:00"), "{}", a[9]);
    assert_eq!(&a[10..13], ["Answered", "", ""]);
    let late = by_ref(&filed.late);
    assert_eq!(
        (late[6].as_str(), late[10].as_str()),
        ("2025-02-13", "Answered")
    );
    let c = by_ref(&filed.rejected);
    assert_eq!(&c[10..13], ["Refused", MANIFESTLY_UNFOUNDED, ""]);
    assert_eq!(&c[4..6], ["", ""], "never verified");
    let d = by_ref(&filed.extended);
    assert_eq!(
        &d[6..],
        [
            "2025-06-03",
            EXTENSION_REASON,
            "2025-06-03",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            ""
        ]
    );
    let e = by_ref(&filed.soon);
    assert_eq!(e[4], "'@phone, callback", "a formula-like value stays text");

    // The same rows as JSON.
    let json = download(&b, &format!("/admin/reports/register.json?{RANGE}")).await;
    assert_eq!(json.status, 200);
    assert!(json.content_type.starts_with("application/json"));
    assert!(
        json.disposition.ends_with(".json\""),
        "{}",
        json.disposition
    );
    let items: Vec<serde_json::Map<String, Value>> =
        serde_json::from_str(&json.body).expect("a JSON array of objects");
    assert_eq!(items.len(), 7);
    // The JSON keeps the codes the spreadsheet says in words; every other value is the same.
    const KEYS: [&str; 16] = [
        "reference",
        "kind",
        "channel",
        "received",
        "verified_method",
        "verified_at",
        "due",
        "extension_reason",
        "extended_to",
        "closed",
        "outcome",
        "ground",
        "on_behalf_of",
        "fee_basis",
        "fee_cents",
        "fee_status",
    ];
    const WORDED: [&str; 7] = [
        "kind",
        "channel",
        "verified_method",
        "outcome",
        "ground",
        "fee_basis",
        "fee_status",
    ];
    for (item, line) in items.iter().zip(&rows[1..]) {
        for (name, csv_value) in KEYS.iter().zip(line) {
            let value = item[*name].as_str().unwrap_or("");
            if WORDED.contains(name) {
                assert_eq!(value.is_empty(), csv_value.is_empty(), "{name}");
                continue;
            }
            assert!(
                csv_value == value || *csv_value == format!("'{value}"),
                "{name}: CSV {csv_value:?}, JSON {value:?}"
            );
        }
    }
    assert!(
        items
            .iter()
            .any(|i| i["kind"] == "access" && i["outcome"] == "fulfilled"),
        "the JSON keeps the stable codes"
    );

    // Both downloads are in the audit trail, and the trail is intact.
    let mut conn = app.state.pool.get().expect("conn");
    {
        use diesel::prelude::*;
        use dsar::store::schema::audit_log;
        let downloads: Vec<(String, String)> = audit_log::table
            .filter(audit_log::action.eq("register.download"))
            .order(audit_log::id)
            .select((audit_log::actor, audit_log::details))
            .load(&mut *conn)
            .expect("audit");
        assert_eq!(downloads.len(), 2, "{downloads:?}");
        assert!(
            downloads
                .iter()
                .all(|(who, _)| *who == format!("staff:{dpo}"))
        );
        assert!(downloads[0].1.contains("csv") && downloads[1].1.contains("json"));
    }
    dsar::store::audit::seal_all(&mut conn).expect("seal");
    assert!(matches!(
        dsar::store::audit::verify(&mut conn).expect("verify"),
        dsar::store::audit::ChainStatus::Intact { .. }
    ));
}
on_both_backends!(
    admin_reports,
    the_dpo_reads_the_figures_and_downloads_the_register
);

async fn handlers_and_viewers_see_no_reports(app: TestApp) {
    use dsar::staff::Role;
    for (email, role) in [
        ("hana@example.org", Role::Handler),
        ("vic@example.org", Role::Viewer),
    ] {
        account(&app, email, "", role);
        let b = sign_in(&app, email).await;
        for path in [
            "/admin/reports",
            "/admin/reports/register.csv",
            "/admin/reports/register.json",
        ] {
            let res = download(&b, path).await;
            assert_eq!(res.status, 403, "{} {path}", role.as_str());
            assert!(!res.body.contains("reference,kind"));
        }
        let mut b = b;
        let queue = b.get("/admin").await;
        assert!(
            !queue.html.contains("/admin/reports"),
            "no Reports link for a {}",
            role.as_str()
        );
    }
    let mut conn = app.state.pool.get().expect("conn");
    use diesel::prelude::*;
    use dsar::store::schema::audit_log;
    let downloads: i64 = audit_log::table
        .filter(audit_log::action.eq("register.download"))
        .count()
        .get_result(&mut *conn)
        .expect("count");
    assert_eq!(downloads, 0, "a refused download is no download");
}
on_both_backends!(admin_reports_roles, handlers_and_viewers_see_no_reports);

async fn the_register_streams_every_request_once_in_order_of_receipt(app: TestApp) {
    use dsar::domain::kind::{Channel, RequestKind};
    use dsar::workflow::{Filing, WorkflowError};
    app.set_now("2025-04-01T08:00:00Z");
    // More than two pages of 500, on three days: pages break inside a day.
    let days = [
        "2025-03-10T09:00:00Z",
        "2025-03-03T09:00:00Z",
        "2025-03-20T09:00:00Z",
    ];
    {
        let mut conn = app.state.pool.get().expect("conn");
        let (law, now) = (app.state.law.clone(), app.state.clock.now());
        dsar::store::write_tx(&mut conn, |conn| {
            for i in 0..1203 {
                let filing = Filing::basic(
                    RequestKind::Access,
                    format!("P{i}"),
                    dsar::domain::email::EmailAddress::parse(&format!("p{i}@example.org"))
                        .expect("email"),
                    None,
                    String::new(),
                    days[i % 3].parse().expect("instant"),
                    "gdpr".into(),
                    Channel::Email,
                    "en".into(),
                    dsar::domain::status::Status::Verifying,
                );
                dsar::workflow::file(conn, &law, &filing, "test", now)?;
            }
            Ok::<_, WorkflowError>(())
        })
        .expect("filed");
    }
    account(&app, "dana@example.org", "Dana", dsar::staff::Role::Dpo);
    let b = sign_in(&app, "dana@example.org").await;
    let csv = download(&b, "/admin/reports/register.csv?from=2025-03&to=2025-03").await;
    assert_eq!(csv.status, 200);
    let rows = parse_csv(&csv.body);
    assert_eq!(rows.len(), 1 + 1203);
    let mut seen: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    let received: Vec<&str> = rows[1..].iter().map(|r| &r[3][..10]).collect();
    assert!(received.is_sorted(), "in order of receipt");
    assert_eq!(received.first(), Some(&"2025-03-03"));
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 1203, "no request twice, none left out");
    let json = download(&b, "/admin/reports/register.json?from=2025-03&to=2025-03").await;
    let items: Vec<Value> = serde_json::from_str(&json.body).expect("JSON");
    assert_eq!(items.len(), 1203);
    let empty = download(&b, "/admin/reports/register.json?from=2024-01&to=2024-02").await;
    assert_eq!(
        serde_json::from_str::<Value>(&empty.body).expect("JSON"),
        json!([])
    );
}
on_both_backends!(
    admin_register_pages,
    the_register_streams_every_request_once_in_order_of_receipt
);

/// Only answers count in the on-time rate: a request the person withdrew, or one that expired
/// unconfirmed, was owed no answer and must not pass for one given in time.
async fn the_on_time_rate_counts_answers_only(app: TestApp) {
    use dsar::staff::Role;
    account(&app, "dana@example.org", "Dana DPO", Role::Dpo);
    app.set_now("2025-01-06T10:00:00Z");
    let late = file(&app, "access", "a@example.org", "email").await;
    step(
        &app,
        &late,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    let withdrawn = file(&app, "access", "b@example.org", "email").await;
    app.set_now("2025-01-08T10:00:00Z");
    step(&app, &withdrawn, json!({ "type": "withdraw" })).await;
    // Due 6 February, answered the 20th: late.
    app.set_now("2025-02-20T10:00:00Z");
    step(&app, &late, json!({ "type": "fulfil" })).await;

    let mut b = sign_in(&app, "dana@example.org").await;
    let page = b.get(&format!("/admin/reports?{RANGE}")).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
    // The withdrawal is still counted among the closed requests…
    assert_eq!(
        row(&page, "closed-table", "Total"),
        ["1", "0", "1", "0", "2"]
    );
    // …but not in the rate, and the page says what the rate counts.
    page.assert_contains("<dd id=\"on-time\">0 of 1 (0 %)</dd>");
    page.assert_contains("<dd id=\"median\">45 days</dd>");
    page.assert_contains("Withdrawn and expired requests are left out");
}

on_both_backends!(admin_reports_on_time, the_on_time_rate_counts_answers_only);
