//! The OpenAPI description and its reference page: what they list is what the router serves,
//! and the problems they describe are the ones sent. Also the bugs schemathesis found.

use awc::http::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem};
use crate::on_both_backends;

/// Every operation of API v1, as a client knows it from the README.
const OPERATIONS: [(&str, &str, bool); 10] = [
    ("GET", "/api/v1/docs", false),
    ("GET", "/api/v1/openapi.json", false),
    ("GET", "/api/v1/requests", true),
    ("POST", "/api/v1/requests", true),
    ("GET", "/api/v1/requests/{id}", true),
    ("POST", "/api/v1/requests/{id}/events", true),
    ("POST", "/api/v1/requests/{id}/extension", true),
    ("POST", "/api/v1/requests/{id}/messages", true),
    ("POST", "/api/v1/requests/{id}/scope", true),
    ("POST", "/api/v1/suppressions/check", true),
];

async fn description(app: &TestApp) -> Value {
    let res = app.send("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert!(res.content_type.starts_with("application/json"));
    res.body
}

/// Status and `Allow` of `method path` sent without a key.
async fn probe(app: &TestApp, method: &str, path: &str) -> (u16, String, String) {
    let url = format!("{}{}", app.address, path);
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut res = app.client.request(method, &url).send().await.unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (allow, content_type) = (header("allow"), header("content-type"));
    let _ = res.body().limit(4 << 20).await;
    (res.status().as_u16(), allow, content_type)
}

async fn the_description_lists_what_the_router_serves(app: TestApp) {
    let doc = description(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let mut listed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            listed.push((method.to_uppercase(), path.clone(), secured));
        }
    }
    let mut expected: Vec<_> = OPERATIONS
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), *s))
        .collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);

    for (method, path, secured) in OPERATIONS {
        let path = path.replace("{id}", "DSAR-2026-000001");
        // Routed: a key is asked for, or the page is there. An unrouted path would be a 404.
        let (status, _, _) = probe(&app, method, &path).await;
        assert_eq!(status, if secured { 401 } else { 200 }, "{method} {path}");
        // A method the path does not take: 405 naming those it takes, as the description has.
        let (status, allow, content_type) = probe(&app, "DELETE", &path).await;
        assert_eq!(status, 405, "DELETE {path}");
        assert!(content_type.starts_with("application/problem+json"));
        let item = &doc["paths"][path.replace("DSAR-2026-000001", "{id}")];
        let mut methods: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        methods.sort();
        assert_eq!(allow, methods.join(", "), "Allow of {path}");
    }
}
on_both_backends!(
    description_lists_routes,
    the_description_lists_what_the_router_serves
);

async fn every_problem_is_described_as_problem_json(app: TestApp) {
    let doc = description(&app).await;
    let problem = &doc["components"]["schemas"]["Problem"];
    for member in ["type", "title", "status", "detail"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&json!(member)),
            "{member}"
        );
    }
    let resolve = |r: &Value| -> Value {
        match r["$ref"].as_str() {
            Some(pointer) => doc.pointer(&pointer[1..]).unwrap().clone(),
            None => r.clone(),
        }
    };
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            let responses = op["responses"].as_object().unwrap();
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
            }
            if !op["requestBody"].is_null() {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path}: no {status}"
                    );
                }
            }
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let r = resolve(r);
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    // What is sent matches: a 401 and a 422 as the description has them.
    let unauthorised = app.send("GET", "/api/v1/requests", None, None).await;
    assert_problem(&unauthorised, 401, "api key");
    let invalid = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille" } }),
        )
        .await;
    assert_problem(&invalid, 422, "requester.email");
    assert_eq!(invalid.body["type"], "/problems/validation");
    assert_eq!(invalid.body["errors"][0]["field"], "requester.email");
}
on_both_backends!(
    problems_described,
    every_problem_is_described_as_problem_json
);

async fn the_profiles_are_the_configured_ones(app: TestApp) {
    let doc = description(&app).await;
    let profiles = &doc["components"]["schemas"]["FileBody"]["properties"]["profile"]["enum"];
    let profiles: Vec<&Value> = profiles.as_array().unwrap().iter().collect();
    assert!(profiles.contains(&&json!("gdpr")), "{profiles:?}");
    assert!(profiles.contains(&&json!("two-months")), "{profiles:?}");
    assert!(profiles.contains(&&Value::Null), "{profiles:?}");
}
on_both_backends!(profiles_listed, the_profiles_are_the_configured_ones);

async fn the_reference_page_shows_every_operation(app: TestApp) {
    let url = format!("{}/api/v1/docs", app.address);
    let mut res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let content_type = res.headers().get("content-type").unwrap().to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    let html = String::from_utf8(res.body().limit(4 << 20).await.unwrap().to_vec()).unwrap();
    for (method, path, _) in OPERATIONS {
        assert!(
            html.contains(&format!("<code>{method} {path}</code>")),
            "{method} {path} missing"
        );
    }
    for needed in [
        "Authorization: Bearer",
        "application/problem+json",
        "id=\"schema-RequestView\"",
        "href=\"#schema-FileBody\"",
        "camille@example.fr",
        "at most 200 characters",
    ] {
        assert!(html.contains(needed), "{needed} missing");
    }
    assert!(!html.contains("<script"), "the page needs no script");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing is fetched from elsewhere"
    );
}
on_both_backends!(reference_page, the_reference_page_shows_every_operation);

async fn any_other_api_path_is_a_problem_404(app: TestApp) {
    for path in [
        "/api",
        "/api/",
        "/api/v2/requests",
        "/api/link",
        "/api/request/access",
        "/api/v1",
        "/api/v1/nothing",
    ] {
        let res = app
            .send("GET", path, Some(&app.api_key.clone()), None)
            .await;
        assert_problem(&res, 404, "no API route");
    }
}
on_both_backends!(other_api_paths, any_other_api_path_is_a_problem_404);

// Found by schemathesis: an empty `subject.email` was taken for "no address" and the request
// filed, though the description (and every other email member) says it is not an address.
async fn an_empty_subject_email_is_refused(app: TestApp) {
    let before = app.counts();
    let res = app
        .post(
            "/api/v1/requests",
            &json!({
                "kind": "access",
                "requester": { "name": "Maître Dubois", "email": "dubois@avocats.example" },
                "subject": { "name": "Jeanne", "email": "", "customer_ref": "C-77" }
            }),
        )
        .await;
    assert_problem(&res, 422, "subject.email");
    assert_eq!(app.counts(), before);
    // Left out, or null, it is no address, and the customer reference is enough.
    for subject in [
        json!({ "name": "Jeanne", "customer_ref": "C-77" }),
        json!({ "name": "Jeanne", "email": null, "customer_ref": "C-77" }),
    ] {
        let res = app
            .post(
                "/api/v1/requests",
                &json!({ "kind": "access", "requester": { "name": "Maître Dubois", "email": "dubois@avocats.example" }, "subject": subject }),
            )
            .await;
        assert_eq!(res.status.as_u16(), 201, "{:?}", res.body);
    }
}
on_both_backends!(empty_subject_email, an_empty_subject_email_is_refused);

// Found by schemathesis: a note or message of 20,000 characters is valid, but the body that
// carries it could be larger than the 64 KiB the API read; it was refused with 413.
async fn the_longest_valid_text_fits_in_a_body(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille@example.fr" } }))
        .await;
    let id = filed["id"].as_str().unwrap();
    let emoji = "😀".repeat(20_000);
    // As serde_json writes it: 4 bytes a character; escaped, as some clients write it: 12.
    let escaped = format!("{{\"body\": \"{}\"}}", "\\ud83d\\ude00".repeat(20_000));
    assert!(escaped.len() > 240_000);
    let res = app
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            &json!({ "body": emoji }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{:?}", res.body);
    let res = app
        .send(
            "POST",
            &format!("/api/v1/requests/{id}/messages"),
            Some(&app.api_key.clone()),
            Some(&escaped),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{:?}", res.body);
    let res = app
        .post(
            &format!("/api/v1/requests/{id}/messages"),
            &json!({ "body": format!("{emoji}!") }),
        )
        .await;
    assert_problem(&res, 422, "longer than 20000");
}
on_both_backends!(longest_text_fits, the_longest_valid_text_fits_in_a_body);

// What the description's schemas say, the handlers hold to: a code is one of those listed
// (not blank, not padded), a cursor is digits, an invalid address to check is a 422 naming
// the field, as everywhere else.
async fn values_outside_the_description_are_refused(app: TestApp) {
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille@example.fr" } }))
        .await;
    let events = format!("/api/v1/requests/{}/events", filed["id"].as_str().unwrap());
    let blank = app
        .post(&events, &json!({ "type": "verify", "method": "" }))
        .await;
    assert_problem(&blank, 422, "method");
    let padded = app
        .post(
            &events,
            &json!({ "type": "verify", "method": " id_document" }),
        )
        .await;
    assert_problem(&padded, 422, "method");
    let elsewhere = app
        .post(&events, &json!({ "type": "start", "method": "" }))
        .await;
    assert_problem(&elsewhere, 422, "only with a verify event");

    for cursor in ["%2B5", "-5", "%205", "1234567890123456789"] {
        let res = app.get(&format!("/api/v1/requests?cursor={cursor}")).await;
        assert_problem(&res, 422, "cursor");
    }
    assert_eq!(
        app.get("/api/v1/requests?cursor=5").await.status.as_u16(),
        200
    );

    let res = app
        .post(
            "/api/v1/suppressions/check",
            &json!({ "email": "camille.example.fr" }),
        )
        .await;
    assert_problem(&res, 422, "email");
    assert_eq!(res.body["errors"][0]["field"], "email");
}
on_both_backends!(values_outside, values_outside_the_description_are_refused);

// Found by schemathesis on PostgreSQL: a NUL character in a name, a note, a message or its
// author reached the database, which refused it: a 500. It is a 422 naming the field.
async fn a_nul_character_is_refused_not_a_server_error(app: TestApp) {
    let before = app.counts();
    let res = app
        .post(
            "/api/v1/requests",
            &json!({
                "kind": "access",
                "requester": { "name": "Cam\u{0}ille", "email": "camille@example.fr" },
                "subject": { "name": "Jeanne", "customer_ref": "C\u{0}77" }
            }),
        )
        .await;
    assert_problem(&res, 422, "NUL");
    let fields: Vec<&str> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["requester.name", "subject.customer_ref"]);
    assert_eq!(app.counts(), before);

    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": "Camille", "email": "camille@example.fr" } }))
        .await;
    let id = filed["id"].as_str().unwrap();
    let before = app.counts();
    for (path, body, field) in [
        ("messages", json!({ "body": "a\u{0}b" }), "body"),
        (
            "messages",
            json!({ "body": "ab", "author": "a\u{0}" }),
            "author",
        ),
        ("events", json!({ "type": "hold", "note": "\u{0}" }), "note"),
        (
            "extension",
            json!({ "months": 1, "reason": "x\u{0}" }),
            "reason",
        ),
    ] {
        let res = app
            .post(&format!("/api/v1/requests/{id}/{path}"), &body)
            .await;
        assert_problem(&res, 422, "NUL");
        assert_eq!(res.body["errors"][0]["field"], field, "{path}");
    }
    assert_eq!(app.counts(), before);
}
on_both_backends!(nul_refused, a_nul_character_is_refused_not_a_server_error);

// Found by schemathesis: a name of 201 characters was filed when one of them was a leading
// space, as the length was counted after trimming; the description counts what is sent.
async fn a_length_counts_what_is_sent(app: TestApp) {
    let before = app.counts();
    let padded = format!("\u{a0}{}", "n".repeat(200));
    let res = app
        .post(
            "/api/v1/requests",
            &json!({ "kind": "access", "requester": { "name": padded, "email": "camille@example.fr" } }),
        )
        .await;
    assert_problem(&res, 422, "requester.name is longer than 200 characters");
    assert_eq!(app.counts(), before);
    let exact = "n".repeat(200);
    let filed = app
        .file(json!({ "kind": "access", "requester": { "name": exact, "email": "camille@example.fr" } }))
        .await;
    let messages = format!(
        "/api/v1/requests/{}/messages",
        filed["id"].as_str().unwrap()
    );
    let res = app
        .post(
            &messages,
            &json!({ "body": format!(" {}", "m".repeat(20_000)) }),
        )
        .await;
    assert_problem(&res, 422, "body is longer than 20000 characters");
}
on_both_backends!(length_as_sent, a_length_counts_what_is_sent);
