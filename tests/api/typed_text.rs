//! One rule for every typed text, on both backends: a NUL byte, a control character, a
//! direction override or a name with no letter is refused with a clear 4xx (a 422 problem,
//! the form again with the message in the person's language, the page with the error), and
//! nothing is stored. PostgreSQL answered 500 to a NUL in any of these.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;
use crate::web::{Browser, Part};

fn filing(name: &str, details: &str, customer_ref: &str) -> serde_json::Value {
    json!({
        "kind": "access",
        "requester": { "name": name, "email": "camille@example.fr", "customer_ref": customer_ref },
        "details": details,
        "channel": "email"
    })
}

async fn the_api_refuses_what_no_text_may_hold(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let before = app.counts();
    for (body, field) in [
        (filing("Cam\0ille", "", ""), "name"),
        (filing("Camille", "tout\0", ""), "details"),
        (filing("Camille", "", "C-\u{0}1"), "customer_ref"),
        (filing("\u{200B}\u{200D}\u{FEFF}", "", ""), "name"),
        (filing("Camille \u{202E}nitraM", "", ""), "name"),
        (filing("Camille", "\u{1b}[2J", ""), "details"),
        (filing("Camille\nMartin", "", ""), "name"),
    ] {
        let res = app.post("/api/v1/requests", &body).await;
        assert_problem(&res, 422, field);
    }
    assert_eq!(app.counts(), before, "nothing refused was stored");

    // Long texts keep their line breaks and tabs.
    let filed = app
        .file(filing(
            "Camille Martin",
            "Bonjour,\r\n\tmes commandes.",
            "C-1",
        ))
        .await;
    let id = filed["id"].as_str().expect("id");
    for (path, body, field) in [
        ("messages", json!({ "body": "bonjour\0" }), "body"),
        (
            "extension",
            json!({ "months": 1, "reason": "complexe\u{2066}" }),
            "reason",
        ),
        (
            "events",
            json!({ "type": "hold", "reason": "clarification", "note": "\0" }),
            "note",
        ),
    ] {
        let res = app
            .post(&format!("/api/v1/requests/{id}/{path}"), &body)
            .await;
        assert_problem(&res, 422, field);
    }
    let shown = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(shown.body["status"], "verifying", "{:?}", shown.body);
    // An id that no request can have is simply not found.
    let res = app.get("/api/v1/requests/DSAR-2025-%00").await;
    assert_eq!(res.status.as_u16(), 404, "{:?}", res.body);
}

async fn the_portal_says_it_in_the_persons_language(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let mut person = Browser::new(&app);
    for (lang, name, says) in [
        ("fr", "Cam\0ille", "caractère de contrôle invisible"),
        ("en", "\u{200B}\u{200B}", "at least one letter"),
        ("fr", "Camille\u{202E}", "inverse le sens de l'écriture"),
    ] {
        let form = person.get(&format!("/{lang}/request/access")).await;
        let csrf = form.csrf();
        let page = person
            .post(
                &format!("/{lang}/request/access"),
                &[
                    Part::Field("csrf", &csrf),
                    Part::Field("name", name),
                    Part::Field("email", "camille@example.fr"),
                    Part::Field("country", "FR"),
                    Part::Field("acting", "self"),
                    Part::Field("access_scope", "all"),
                ],
            )
            .await;
        assert_eq!(page.status.as_u16(), 422, "{lang}: {}", page.html);
        page.assert_contains(&says.replace('\'', "&#39;"));
    }
    assert_eq!(app.counts().0, 0);
}

async fn staff_get_the_page_again_not_an_error(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let reference = app.file_verified(filing("Camille Martin", "", "")).await;
    let mut dpo =
        crate::admin::staff_named(&app, "dana@example.org", "Dana", dsar::staff::Role::Dpo).await;
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let csrf = page.csrf();
    for (action, value, says) in [
        ("hold", "Quel compte ?\0", "invisible control character"),
        ("note", "note \u{202D}", "reverses the direction of writing"),
        ("extend", "\u{7}", "invisible control character"),
    ] {
        let done = dpo
            .post_urlencoded(
                &format!("/admin/requests/{reference}/action"),
                &[
                    ("csrf", &csrf),
                    ("action", action),
                    ("reason", "clarification"),
                    ("months", "1"),
                    ("text", value),
                ],
            )
            .await;
        // The page comes back at once, saying why, with what was typed.
        assert_eq!(done.status.as_u16(), 422, "{action}: {}", done.html);
        done.assert_contains(says);
    }
    // Searches for what no text holds find nothing, without an error.
    for path in [
        "/admin?q=%00",
        "/admin?q=DSAR%00%E2%80%AE",
        "/admin/audit?action=request.%00",
    ] {
        let page = dpo.get(path).await;
        assert_eq!(page.status.as_u16(), 200, "{path}: {}", page.html);
    }
    let shown = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(shown.body["status"], "in_progress", "{:?}", shown.body);
}

on_both_backends!(api_texts, the_api_refuses_what_no_text_may_hold);
on_both_backends!(portal_texts, the_portal_says_it_in_the_persons_language);
on_both_backends!(staff_texts, staff_get_the_page_again_not_an_error);
