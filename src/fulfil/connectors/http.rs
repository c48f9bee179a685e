//! An internal service that answers for its own data: dsar POSTs a signed JSON request to
//! `<url>/<operation>` and takes its JSON answer as that system's data or confirmation.
//!
//! Signature: `X-Dsar-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the
//! timestamp (unix seconds) in `X-Dsar-Timestamp`: the service recomputes it over the exact
//! bytes it received and refuses a timestamp more than 5 minutes away, so a captured call
//! cannot be replayed later or altered.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Changed, Kept, Outcome, Sink, SourceError, Subject};
use crate::config::sources::{HttpSource, Operation};

pub const TIMESTAMP_HEADER: &str = "X-Dsar-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Dsar-Signature";

/// The signature header's value for `body` sent at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    format!(
        "v1={}",
        crate::crypto::hex(&crate::crypto::hmac(secret.as_bytes(), &message))
    )
}

pub fn run(
    source: &HttpSource,
    op: Operation,
    subject: &Subject,
    changes: &BTreeMap<String, String>,
    now: chrono::DateTime<chrono::Utc>,
    sink: &mut Sink<'_>,
) -> Result<Outcome, SourceError> {
    let body = serde_json::to_vec(&json!({
        "operation": op.as_str(),
        "request": subject.reference,
        "subject": {
            "email": subject.email,
            "name": subject.name,
            "customer_ref": subject.customer_ref,
        },
        "changes": changes,
        "sent_at": now.to_rfc3339(),
        // Lets the service refuse a call it has seen already (a replay within the window).
        "nonce": crate::crypto::random_token(),
    }))
    .map_err(|e| SourceError::Fatal(e.to_string()))?;
    let timestamp = now.timestamp();
    let url = format!("{}/{}", source.url.trim_end_matches('/'), op.as_str());
    // Errors are shown to staff and kept: the address without credentials.
    let shown = crate::config::redact_url(&url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(source.timeout_seconds)))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let response = agent
        .post(&url)
        .header("Content-Type", "application/json")
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, sign(&source.secret, timestamp, &body))
        .send(&body[..])
        .map_err(|e| SourceError::Retry(format!("{shown}: {e}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .with_config()
        .limit(source.max_response_bytes)
        .read_to_vec()
        .map_err(|e| SourceError::Retry(format!("{shown}: reading the answer: {e}")))?;
    // The status only: a service's error text may repeat the person's details.
    if status >= 500 || status == 429 || status == 408 {
        return Err(SourceError::Retry(format!("{shown} answered {status}")));
    }
    if !(200..300).contains(&status) {
        return Err(SourceError::Fatal(format!("{shown} answered {status}")));
    }
    let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
        SourceError::Fatal(format!("{shown} answered something that is not JSON: {e}"))
    })?;
    drop(bytes);
    read_answer(op, answer, sink)
}

/// Turns a service's answer into an outcome; what it says it could not do goes to `manual`.
fn read_answer(
    op: Operation,
    mut answer: Value,
    sink: &mut Sink<'_>,
) -> Result<Outcome, SourceError> {
    let bad = |what: &str| SourceError::Fatal(format!("the service's answer: {what}"));
    let mut outcome = Outcome {
        note: answer
            .get("note")
            .and_then(Value::as_str)
            .map(str::to_string),
        ..Outcome::default()
    };
    if op == Operation::Access {
        // Taken out of the answer, not copied: a large answer is held once.
        let mut tables: Vec<(String, Vec<Value>)> = Vec::new();
        if let Some(Value::Array(records)) = answer.get_mut("records").map(Value::take) {
            tables.push(("records".into(), records));
        } else if let Some(Value::Object(map)) = answer.get_mut("tables").map(Value::take) {
            for (name, rows) in map {
                let Value::Array(rows) = rows else {
                    return Err(bad(&format!("tables.{name} is not a list")));
                };
                tables.push((name, rows));
            }
        } else {
            return Err(bad("expected {\"records\": […]} or {\"tables\": {…}}"));
        }
        for (name, rows) in tables {
            let count = rows.len() as u64;
            for row in rows {
                sink(&name, row).map_err(|e| SourceError::Retry(e.to_string()))?;
            }
            if count > 0 {
                outcome.tables.insert(name, count);
            }
        }
        return Ok(outcome);
    }
    if answer.get("done").and_then(Value::as_bool) != Some(true) {
        return Err(bad("expected {\"done\": true}"));
    }
    let rows = answer.get("rows").and_then(Value::as_u64).unwrap_or(0);
    let done = Changed {
        what: "service".into(),
        rows,
        how: if op == Operation::Erase {
            "deleted".into()
        } else {
            String::new()
        },
    };
    if op == Operation::Erase {
        outcome.erased.push(done);
        if let Some(Value::Array(kept)) = answer.get("kept") {
            for k in kept {
                outcome.kept.push(Kept {
                    what: k
                        .get("what")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    rows: k.get("rows").and_then(Value::as_u64).unwrap_or(0),
                    activity: String::new(),
                    rule: k
                        .get("rule")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    until: k
                        .get("until")
                        .and_then(Value::as_str)
                        .and_then(|d| d.parse().ok()),
                    keys: Vec::new(),
                });
            }
        }
    } else {
        outcome.changed.push(done);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = sign("k".repeat(32).as_str(), 1_700_000_000, b"{}");
        assert!(a.starts_with("v1=") && a.len() == 67);
        assert_ne!(a, sign("k".repeat(32).as_str(), 1_700_000_001, b"{}"));
        assert_ne!(a, sign("k".repeat(32).as_str(), 1_700_000_000, b"{ }"));
    }

    #[test]
    fn answers_are_read_or_refused() {
        let mut seen = 0;
        let mut sink = |_: &str, _: Value| {
            seen += 1;
            Ok(())
        };
        let out = read_answer(
            Operation::Access,
            json!({"tables": {"lists": [{"a": 1}, {"a": 2}]}}),
            &mut sink,
        )
        .unwrap();
        assert_eq!(out.records(), 2);
        assert!(read_answer(Operation::Erase, json!({"ok": 1}), &mut sink).is_err());
        let out = read_answer(
            Operation::Erase,
            json!({"done": true, "rows": 3, "kept": [{"what": "bounces", "rule": "law", "until": "2030-01-01"}]}),
            &mut sink,
        )
        .unwrap();
        assert_eq!(out.erased[0].rows, 3);
        assert_eq!(out.kept[0].until, "2030-01-01".parse().ok());
        assert_eq!(seen, 2);
    }
}
