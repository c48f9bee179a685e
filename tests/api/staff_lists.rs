//! The queue as an inbox, reports, the audit trail and the processing register, black-box:
//! a request at every stage, each tab's count and what clicking it lists; a bulk assignment
//! with its audit entries; every list page in French and English with no code, no UUID;
//! the audit trail as sentences with references.

use std::collections::BTreeMap;

use chrono::Datelike;

use serde_json::json;

use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Browser, Page, Part};

pub(crate) struct Lists {
    pub(crate) app: TestApp,
    _dir: tempfile::TempDir,
}

/// A server with the example register and the archives team as its only source.
pub(crate) async fn lists_app(backend: Backend, extra: &[(&str, &str)]) -> Option<Lists> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sources = crate::helpers::archives_only(dir.path());
    let mut env = vec![
        ("DSAR_REGISTER__FILE", "config/register.example.toml"),
        ("DSAR_FULFILMENT__SOURCES_FILE", sources.as_str()),
    ];
    env.extend_from_slice(extra);
    let app = try_spawn(backend, &env).await?;
    Some(Lists { app, _dir: dir })
}

/// A member of staff with a name and a password; returns the account's id.
pub(crate) fn person(app: &TestApp, name: &str, email: &str, role: dsar::staff::Role) -> i64 {
    app.staff_account(email, name, role).0
}

/// Alice Dupont, the DPO, signed in: her account's id and her browser.
async fn alice_the_dpo(app: &TestApp) -> (i64, Browser<'_>) {
    let id = person(
        app,
        "Alice Dupont",
        "alice@example.org",
        dsar::staff::Role::Dpo,
    );
    (id, crate::admin::signed_in(app, "alice@example.org").await)
}

/// One request at each stage, by reference.
#[derive(Debug, Clone)]
pub(crate) struct Stages {
    pub(crate) to_verify: String,
    pub(crate) overdue: String,
    pub(crate) to_send: String,
    pub(crate) gathering: String,
    pub(crate) to_answer: String,
    pub(crate) waiting: String,
    pub(crate) unconfirmed: String,
    pub(crate) rejected: String,
}

fn body(kind: &str, name: &str, email: &str) -> serde_json::Value {
    json!({ "kind": kind, "requester": { "name": name, "email": email } })
}

fn row_of(app: &TestApp, reference: &str) -> dsar::store::requests::RequestRow {
    let mut conn = app.state.pool.get().expect("conn");
    dsar::workflow::find(&mut conn, reference).expect("request")
}

/// Sends the request to its sources (the archives team gets a task), as the request page's
/// "send to the sources" does.
fn dispatch(app: &TestApp, reference: &str) {
    let row = row_of(app, reference);
    let mut conn = app.state.pool.get().expect("conn");
    dsar::fulfil::dispatch(
        &mut conn,
        &app.state,
        &row,
        &BTreeMap::new(),
        "staff:1",
        app.state.clock.now(),
    )
    .expect("dispatched");
}

/// The archives team answers: nothing found.
fn task_done(app: &TestApp, reference: &str) {
    let row = row_of(app, reference);
    let mut conn = app.state.pool.get().expect("conn");
    let runs = dsar::store::fulfilment::runs_for(&mut conn, row.id).expect("runs");
    dsar::fulfil::complete_task(
        &mut conn,
        &app.state,
        &row,
        runs[0].id,
        None,
        "Rien dans les cartons",
        "staff:1",
        app.state.clock.now(),
    )
    .expect("task done");
}

async fn event(app: &TestApp, reference: &str, event: serde_json::Value) {
    let res = app
        .post(&format!("/api/v1/requests/{reference}/events"), &event)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
}

/// Files one request per stage; the overdue one was filed months ago.
pub(crate) async fn one_per_stage(app: &TestApp) -> Stages {
    app.set_now("2026-01-05T10:00:00Z");
    let overdue = app
        .file(body("access", "Olga Retard", "olga@example.org"))
        .await["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    app.set_now("2026-03-16T10:00:00Z");
    let to_verify = app
        .file(body("erasure", "Vera Vérif", "vera@example.org"))
        .await["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    let to_send = app
        .file_verified(body("access", "Sam Envoi", "sam@example.org"))
        .await;
    let gathering = app
        .file_verified(body("restriction", "Gaëlle Collecte", "gaelle@example.org"))
        .await;
    dispatch(app, &gathering);
    let to_answer = app
        .file_verified(body("objection", "Rémi Réponse", "remi@example.org"))
        .await;
    dispatch(app, &to_answer);
    task_done(app, &to_answer);
    let waiting = app
        .file_verified(body("portability", "Wanda Attente", "wanda@example.org"))
        .await;
    event(
        app,
        &waiting,
        json!({ "type": "hold", "reason": "clarification", "note": "Quel compte ?" }),
    )
    .await;
    let rejected = app
        .file(body("erasure", "Rita Refus", "rita@example.org"))
        .await["reference"]
        .as_str()
        .expect("reference")
        .to_string();
    event(
        app,
        &rejected,
        json!({ "type": "reject", "ground": "manifestly_unfounded", "note": "Demande sans objet." }),
    )
    .await;
    // Filed on the portal, the address never confirmed.
    let mut someone = Browser::new(app);
    let form = someone.get("/en/request/access").await;
    let filed = someone
        .post(
            "/en/request/access",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Ursula Inconnue"),
                Part::Field("email", "ursula@example.org"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("access_scope", "all"),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    let filed = someone.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    let unconfirmed = filed.html[start..start + 16].to_string();
    Stages {
        to_verify,
        overdue,
        to_send,
        gathering,
        to_answer,
        waiting,
        unconfirmed,
        rejected,
    }
}

/// The tab whose link goes to `href`: its count.
fn tab_count(page: &Page, href: &str) -> String {
    let marker = format!("href=\"{href}\"");
    let tabs = &page.html[page.html.find("class=\"tabs\"").expect("tabs")..];
    let start = tabs
        .find(&marker)
        .unwrap_or_else(|| panic!("no tab {href}: {}", page.html));
    let rest = &tabs[start..];
    let count = rest.find("class=\"count\">").expect("count") + "class=\"count\">".len();
    rest[count..count + rest[count..].find('<').expect("end")].to_string()
}

/// The references the page lists, in order.
fn listed(page: &Page) -> Vec<String> {
    page.html
        .split("<a href=\"/admin/requests/")
        .skip(1)
        // The queue also links to the form that files a request (`/admin/requests/new`).
        .filter(|r| r.starts_with("DSAR-"))
        .map(|r| r[..16].to_string())
        .collect()
}

/// The page's HTML with its entities read back.
fn unescaped(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Asserts that a person reads `words` on the page (markup included, entities read back).
fn reads(page: &Page, words: &str) {
    assert!(
        unescaped(&page.html).contains(words),
        "the page lacks \"{words}\":\n{}",
        page.html
    );
}

/// What a person reads: the page without its tags and attributes.
pub(crate) fn visible_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// 8-4-4-4-12 hexadecimal digits anywhere in `text`.
pub(crate) fn has_uuid(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(35)).any(|i| {
        b[i..i + 36].iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
    })
}

pub(crate) fn assert_no_code(name: &str, html: &str) {
    let text = visible_text(html);
    for code in [
        "in_progress",
        "on_hold",
        "manifestly_unfounded",
        "confirm_email",
        "consent_withdrawal",
        "to_verify",
        "request.",
        "staff:",
        "{\"",
        "[missing",
    ] {
        assert!(!text.contains(code), "{name} shows \"{code}\":\n{text}");
    }
    assert!(!has_uuid(&text), "{name} shows a UUID:\n{text}");
}

async fn every_stage_has_its_tab_and_count(backend: Backend) {
    let Some(lists) = lists_app(backend, &[]).await else {
        return;
    };
    let app = &lists.app;
    let s = one_per_stage(app).await;
    let (_, mut alice) = alice_the_dpo(app).await;
    let queue = alice.get("/admin").await;
    assert_eq!(queue.status.as_u16(), 200, "{}", queue.html);
    // (tab, count, the requests it lists)
    let tabs: [(&str, &str, Vec<&String>); 8] = [
        ("to_verify", "2", vec![&s.overdue, &s.to_verify]),
        ("to_send", "1", vec![&s.to_send]),
        ("gathering", "1", vec![&s.gathering]),
        ("to_answer", "1", vec![&s.to_answer]),
        ("waiting", "1", vec![&s.waiting]),
        ("overdue", "1", vec![&s.overdue]),
        (
            "all",
            "6",
            vec![
                &s.overdue,
                &s.to_verify,
                &s.to_send,
                &s.gathering,
                &s.to_answer,
                &s.waiting,
            ],
        ),
        ("unconfirmed", "1", vec![&s.unconfirmed]),
    ];
    for (tab, count, expected) in &tabs {
        let href = if *tab == "all" {
            "/admin".to_string()
        } else {
            format!("/admin?stage={tab}")
        };
        assert_eq!(&tab_count(&queue, &href), count, "{tab}");
        let page = alice.get(&href).await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.html);
        let mut got = listed(&page);
        got.sort();
        let mut want: Vec<String> = expected.iter().map(|r| r.to_string()).collect();
        want.sort();
        assert_eq!(got, want, "the tab {tab} lists");
        assert!(
            page.html
                .contains(&format!("href=\"{href}\" aria-current=\"page\"")),
            "{tab} is the current tab"
        );
    }
    // The first tab by default: no unconfirmed request, no closed one, overdue first.
    let all = listed(&queue);
    assert_eq!(all.first(), Some(&s.overdue), "overdue first");
    assert!(!all.contains(&s.unconfirmed) && !all.contains(&s.rejected));
    // The deadline in words, first; the stage and the right in words.
    reads(&queue, "days overdue");
    reads(&queue, "Clock stopped");
    reads(&queue, "Gathering from the sources");
    reads(&queue, "Erasure (art. 17)");
    reads(&queue, "Olga Retard");
    // A search finds an unconfirmed request too; a reference, even a closed one.
    let found = alice.get("/admin?q=ursula%40example.org").await;
    assert_eq!(listed(&found), std::slice::from_ref(&s.unconfirmed));
    let found = alice.get(&format!("/admin?q={}", s.rejected)).await;
    assert_eq!(listed(&found), std::slice::from_ref(&s.rejected));
    found.assert_contains("Refused");
    // Filters keep the tab: erasures to verify.
    let page = alice.get("/admin?stage=to_verify&kind=erasure").await;
    assert_eq!(listed(&page), std::slice::from_ref(&s.to_verify));
    // Sorted by receipt, latest first.
    let page = alice.get("/admin?sort=received").await;
    assert_eq!(listed(&page).last(), Some(&s.overdue));
}

#[actix_web::test]
async fn every_stage_has_its_tab_and_count_on_sqlite() {
    every_stage_has_its_tab_and_count(Backend::Sqlite).await;
}

#[actix_web::test]
async fn every_stage_has_its_tab_and_count_on_postgres() {
    every_stage_has_its_tab_and_count(Backend::Postgres).await;
}

/// Requests written straight into the table, as a year of filings leaves them: `days` days of
/// receipt, `per_day` requests each (every third one closed), due dates all over the place.
fn load_requests(app: &TestApp, days: u32, per_day: u32) {
    use diesel::connection::SimpleConnection;
    let mut sql = String::new();
    for day in 0..days {
        for i in 0..per_day {
            let n = day * per_day + i;
            let status = [
                "verifying",
                "in_progress",
                "fulfilled",
                "on_hold",
                "in_progress",
                "rejected",
            ][(n % 6) as usize];
            let due = 1 + (n * 7) % 28;
            sql.push_str(&format!(
                "INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language, \
                 requester_name, requester_email, details, received_at, received_on, due_on, \
                 created_by, created_at, form) VALUES ('loaded-{n}', 2026, 'access', '{status}', \
                 'two-months', 'web', 'fr', 'Personne {n}', 'p{n}@example.org', '', \
                 '2026-10-{d:02} 10:00:00', '2026-10-{d:02}', '2026-12-{due:02}', 'test', \
                 '2026-10-{d:02} 10:00:00', '{{}}');\n",
                d = day + 1
            ));
        }
    }
    let mut conn = app.state.pool.get().expect("conn");
    conn.batch_execute(&sql).expect("load requests");
}

/// Follows the queue's "next page" links from `first` to the end; every reference listed.
async fn walk_pages(browser: &mut Browser<'_>, first: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    while let Some(href) = next {
        pages += 1;
        assert!(
            pages < 100,
            "{first}: a hundred pages and still a next one ({href})"
        );
        let page = browser.get(&href).await;
        assert_eq!(page.status.as_u16(), 200, "{href}: {}", page.html);
        let listed = listed(&page);
        assert!(
            !listed.is_empty() || seen.is_empty(),
            "{href} is an empty page"
        );
        seen.extend(listed);
        next = page
            .html
            .split("rel=\"next\" href=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(|h| h.replace("&#38;", "&").replace("&amp;", "&"));
    }
    seen
}

/// The pages of the queue, in both orders, list every open request once and in order,
/// whether a page ends in the middle of a day of receipt or between two.
async fn pages_list_every_request_once_in_order(backend: Backend) {
    let Some(lists) = lists_app(backend, &[]).await else {
        return;
    };
    let app = &lists.app;
    // 3 days of 70: pages of 50 end inside a day and at its end.
    load_requests(app, 3, 70);
    let (_, mut alice) = alice_the_dpo(app).await;
    let open = 3 * 70 * 4 / 6;
    for (first, key) in [
        ("/admin?sort=received", "received"),
        ("/admin", "due"),
        ("/admin?sort=received&stage=to_verify", "received"),
    ] {
        let seen = walk_pages(&mut alice, first).await;
        let rows: Vec<_> = seen.iter().map(|r| row_of(app, r)).collect();
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{first} lists a request twice");
        let wanted = if first.contains("to_verify") {
            open / 4
        } else {
            open
        };
        assert_eq!(seen.len(), wanted, "{first} lists every open request");
        // Both orders as one ascending key: (-receipt, -id) or (due, id).
        let keys: Vec<(i32, i64)> = rows
            .iter()
            .map(|r| match key {
                "received" => (-r.received_on.num_days_from_ce(), -r.id),
                _ => (r.due_on.num_days_from_ce(), r.id),
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{first} keeps its order across pages");
    }
}

#[actix_web::test]
async fn pages_list_every_request_once_in_order_on_sqlite() {
    pages_list_every_request_once_in_order(Backend::Sqlite).await;
}

#[actix_web::test]
async fn pages_list_every_request_once_in_order_on_postgres() {
    pages_list_every_request_once_in_order(Backend::Postgres).await;
}

async fn ticked_requests_are_assigned_in_one_go(backend: Backend) {
    let Some(lists) = lists_app(backend, &[]).await else {
        return;
    };
    let app = &lists.app;
    let s = one_per_stage(app).await;
    let (_, mut alice) = alice_the_dpo(app).await;
    let hugo = person(
        app,
        "Hugo Martin",
        "hugo@example.org",
        dsar::staff::Role::Handler,
    );
    let queue = alice.get("/admin").await;
    reads(&queue, "<option value=\"");
    reads(&queue, "Hugo Martin</option>");
    let csrf = queue.csrf();
    let hugo_id = hugo.to_string();
    // A forged token changes nothing.
    let forged = alice
        .post_urlencoded(
            "/admin/assign",
            &[
                ("csrf", "forged"),
                ("assignee", &hugo_id),
                ("ids", &s.to_send),
            ],
        )
        .await;
    assert_eq!(forged.status.as_u16(), 403);
    let done = alice
        .post_urlencoded(
            "/admin/assign",
            &[
                ("csrf", &csrf),
                ("back", "/admin?stage=to_verify"),
                ("assignee", &hugo_id),
                ("ids", &s.to_send),
                ("ids", &s.gathering),
                ("ids", &s.rejected),
            ],
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.html);
    let back = alice.follow(done).await;
    back.assert_contains("2 requests assigned.");
    back.assert_contains("1 request could not be");
    back.assert_contains("href=\"/admin?stage=to_verify\" aria-current=\"page\"");
    // Each one its own audit entry, as the request page's assignment writes.
    for reference in [&s.to_send, &s.gathering] {
        let trail = alice
            .get(&format!("/admin/audit?reference={reference}"))
            .await;
        reads(&trail, "Request assigned to Hugo Martin by Alice Dupont");
        assert_eq!(row_of(app, reference).assignee_id, Some(hugo));
        // And in the request's own thread, as a step among the others.
        let page = alice.get(&format!("/admin/requests/{reference}")).await;
        reads(&page, "Assigned to Hugo Martin by Alice Dupont");
    }
    // One timeline event per request assigned, no more.
    let to_send = row_of(app, &s.to_send);
    let mut conn = app.state.pool.get().expect("conn");
    let events = dsar::store::requests::events_for(&mut conn, &[to_send.id]).expect("events");
    assert_eq!(
        events.iter().filter(|e| e.kind == "assign").count(),
        1,
        "one event per assignment: {events:?}"
    );
    drop(conn);
    assert_eq!(
        row_of(app, &s.rejected).assignee_id,
        None,
        "a closed request stays"
    );
    let mine = alice.get("/admin?assignee=unassigned&stage=to_send").await;
    assert!(listed(&mine).is_empty());
    // A handler may only take requests, not give them to others.
    let mut hugo_b = crate::admin::signed_in(app, "hugo@example.org").await;
    let page = hugo_b.get("/admin").await;
    assert!(!page.html.contains("Alice Dupont</option>"));
    let refused = hugo_b
        .post_urlencoded(
            "/admin/assign",
            &[
                ("csrf", &page.csrf()),
                ("assignee", "1"),
                ("ids", &s.to_send),
            ],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    let taken = hugo_b
        .post_urlencoded(
            "/admin/assign",
            &[
                ("csrf", &page.csrf()),
                ("assignee", "me"),
                ("ids", &s.waiting),
            ],
        )
        .await;
    assert_eq!(taken.status.as_u16(), 303);
    assert_eq!(row_of(app, &s.waiting).assignee_id, Some(hugo));
}

#[actix_web::test]
async fn ticked_requests_are_assigned_in_one_go_on_sqlite() {
    ticked_requests_are_assigned_in_one_go(Backend::Sqlite).await;
}

#[actix_web::test]
async fn ticked_requests_are_assigned_in_one_go_on_postgres() {
    ticked_requests_are_assigned_in_one_go(Backend::Postgres).await;
}

async fn lists_read_in_words_in_both_languages(backend: Backend) {
    let Some(lists) = lists_app(backend, &[("DSAR_ORGANISATION__LANGUAGE", "fr")]).await else {
        return;
    };
    let app = &lists.app;
    let s = one_per_stage(app).await;
    let (alice, mut b) = alice_the_dpo(app).await;
    // Someone assigns and verifies by hand, so the trail holds a member of staff's sentences.
    let queue = b.get("/admin").await;
    let res = b
        .post_urlencoded(
            "/admin/assign",
            &[
                ("csrf", &queue.csrf()),
                ("assignee", "me"),
                ("ids", &s.to_verify),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303);
    let mut pages = vec![
        "/admin/reports?from=2026-01&to=2026-03".to_string(),
        "/admin/audit".to_string(),
        "/admin/register".to_string(),
    ];
    for tab in [
        "to_verify",
        "to_send",
        "gathering",
        "to_answer",
        "waiting",
        "overdue",
        "unconfirmed",
    ] {
        pages.push(format!("/admin?stage={tab}"));
    }
    pages.push("/admin".into());
    for lang in ["fr", "en"] {
        {
            let mut conn = app.state.pool.get().expect("conn");
            dsar::store::users::set_lang(&mut conn, alice, Some(lang)).expect("lang");
        }
        for path in &pages {
            let page = b.get(path).await;
            assert_eq!(page.status.as_u16(), 200, "{path}: {}", page.html);
            assert_no_code(&format!("{path} ({lang})"), &page.html);
        }
    }
    // French: the queue, the deadline and the trail as a DPO says them.
    {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::store::users::set_lang(&mut conn, alice, Some("fr")).expect("lang");
    }
    let queue = b.get("/admin").await;
    for words in [
        "À vérifier",
        "À envoyer aux sources",
        "Collecte en cours",
        "À répondre",
        "En attente du demandeur",
        "En retard",
        "Délai suspendu",
        "Effacement (art. 17)",
    ] {
        reads(&queue, words);
    }
    reads(&queue, "En retard de ");
    let trail = b.get("/admin/audit").await;
    reads(
        &trail,
        &format!("<a href=\"/admin/requests/{0}\">{0}</a>", s.to_verify),
    );
    reads(&trail, "Demande attribuée à Alice Dupont par Alice Dupont");
    reads(
        &trail,
        "Demande refusée par l'API (clé «\u{a0}tests\u{a0}») — Demande manifestement infondée",
    );
    reads(&trail, "Identité vérifiée par l'API");
    reads(&trail, "(heure de Paris)");
    // Filtered by a request's reference: its entries only.
    let one = b
        .get(&format!("/admin/audit?reference={}", s.rejected))
        .await;
    reads(&one, "Demande enregistrée par l'API");
    assert!(!one.html.contains(&s.to_verify));
    let verified = b
        .post_urlencoded("/admin/audit/verify", &[("csrf", &trail.csrf())])
        .await;
    verified.assert_contains("La chaîne est intacte");
    let reports = b.get("/admin/reports?from=2026-01&to=2026-03").await;
    for words in [
        "Demandes reçues par mois, par droit exercé",
        "janvier 2026",
        "De janvier 2026 à mars 2026",
        "Télécharger le registre des demandes (CSV, pour un tableur)",
        "Accès (art. 15)",
        "Refusée",
    ] {
        reads(&reports, words);
    }
    let register = b.get("/admin/register").await;
    reads(&register, "une obligation légale (art. 6.1.c du RGPD)");
    reads(&register, "Durée de conservation");
}

#[actix_web::test]
async fn lists_read_in_words_in_both_languages_on_sqlite() {
    lists_read_in_words_in_both_languages(Backend::Sqlite).await;
}

#[actix_web::test]
async fn lists_read_in_words_in_both_languages_on_postgres() {
    lists_read_in_words_in_both_languages(Backend::Postgres).await;
}
