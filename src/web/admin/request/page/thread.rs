//! One thread in time order: the steps as sentences, the messages both ways, the team's
//! notes and the mails sent, each with who and a local time with its zone named.

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use crate::i18n::{Lang, Strings, local_time, long_date};
use crate::store::outbox::OutboxRow;
use crate::store::portal::{DocumentRow, MessageRow};
use crate::store::requests::{EventRow, RequestRow};
use crate::web::admin::follow::TableWords;
use crate::web::admin::request::words::period_words;
use crate::workflow;

pub struct ThreadItem {
    sort: (NaiveDateTime, u8, i64),
    /// `event`, `in`, `out`, `mail` or `note`.
    pub class: &'static str,
    /// "Message du demandeur", "Courriel envoyé", "Note interne", "Étape".
    pub label: String,
    pub title: String,
    pub who: String,
    pub at: String,
    pub body: Option<String>,
    /// (url, words) of a file that came with a message.
    pub attachment: Option<(String, String)>,
}

/// "Camille Martin (demandeur)", "Dana", "Traitement automatique", "Application crm (API)".
pub fn actor_name(
    t: &Strings,
    names: &crate::staff::Names,
    row: &RequestRow,
    actor: &str,
) -> String {
    match actor {
        "requester" => t.fill("request.actor.requester", &[("name", &row.requester_name)]),
        "system" | "" => t.t("request.actor.system").to_string(),
        _ => match actor.strip_prefix("api:") {
            Some(key) => t.fill("request.actor.api", &[("name", key)]),
            None => names.of(actor),
        },
    }
}

/// What a document is for, in words.
pub fn purpose_words(t: &Strings, purpose: &str) -> String {
    let key = format!("request.document.purpose.{purpose}");
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        t.t("request.document.purpose.other").to_string()
    }
}

/// An event of the timeline as a sentence; `who` names people by their actor.
fn event_sentence(
    t: &Strings,
    lang: Lang,
    e: &EventRow,
    who: &dyn Fn(&str) -> String,
    tables: TableWords<'_>,
) -> String {
    let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
    let s = |key: &str| t.t(&format!("request.event.{key}")).to_string();
    match e.kind.as_str() {
        crate::store::requests::ASSIGN_EVENT => match data["assignee"].as_i64() {
            Some(id) => t.fill(
                "request.event.assign",
                &[
                    ("name", &who(&format!("staff:{id}"))),
                    ("by", &who(&e.actor)),
                ],
            ),
            None => t.fill("request.event.unassign", &[("by", &who(&e.actor))]),
        },
        "received" => {
            let channel = data["channel"]
                .as_str()
                .map(|c| t.t(&format!("label.channel.{c}")).to_string());
            match channel {
                Some(c) => t.fill("request.event.received_by", &[("channel", &c)]),
                None => s("received"),
            }
        }
        "hold" => {
            let mut words = if data["reason"] == "identity" {
                s("hold_identity")
            } else {
                s("hold_clarification")
            };
            if data["clock"] == "stopped" {
                words.push_str(t.t("request.event.clock_stopped"));
            }
            words
        }
        "resume" => match data["paused_days"].as_i64() {
            Some(n) if n > 0 => t.fill(
                "request.event.resume_days",
                &[("days", &t.count("units.days", n))],
            ),
            _ => s("resume"),
        },
        "verify" => {
            let method = data["method"].as_str().unwrap_or(workflow::UNSTATED_METHOD);
            t.fill(
                "request.event.verify",
                &[("method", &crate::i18n::verification_method(method, lang))],
            )
        }
        "extend" => {
            let by = crate::domain::deadline::Period {
                months: data["months"].as_u64().unwrap_or(0) as u32,
                days: data["days"].as_u64().unwrap_or(0) as u32,
            };
            let due = data["due_on"]
                .as_str()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
                .map(|d| long_date(d, lang))
                .unwrap_or_default();
            t.fill(
                "request.event.extend",
                &[("by", &period_words(t, by)), ("due", &due)],
            )
        }
        "reject" => {
            let ground = data["ground"].as_str().unwrap_or("other");
            t.fill(
                "request.event.reject",
                &[("ground", t.t(&format!("label.ground.{ground}")))],
            )
        }
        "document" => {
            let purpose = data["purpose"].as_str().unwrap_or("identity");
            // "… : pièce d'identité": the document's name continues the sentence.
            let what = purpose_words(t, purpose);
            let mut chars = what.chars();
            let what = match (chars.next(), chars.next()) {
                (Some(first), Some(second)) if second.is_lowercase() => {
                    first.to_lowercase().chain(what.chars().skip(1)).collect()
                }
                _ => what,
            };
            t.fill("request.event.document", &[("what", &what)])
        }
        kind @ ("confirm_email" | "start" | "fulfil" | "withdraw" | "expire" | "reminder"
        | "message") => s(kind),
        "portability_sent" => t.fill(
            "request.event.portability_sent",
            &[
                (
                    "organisation",
                    data["organisation"].as_str().unwrap_or_default(),
                ),
                ("email", data["email"].as_str().unwrap_or_default()),
            ],
        ),
        _ => crate::web::admin::follow::event_sentence(t, lang, e.kind.as_str(), &data, tables)
            .or_else(|| crate::web::admin::scopes::event_sentence(t, lang, e.kind.as_str(), &data))
            .unwrap_or_else(|| s("other")),
    }
}

/// What the thread is made of.
pub struct Sources<'a> {
    pub events: &'a [EventRow],
    pub messages: &'a [MessageRow],
    pub documents: &'a [DocumentRow],
    pub notes: &'a [(String, NaiveDateTime, String)],
    pub mails: &'a [OutboxRow],
    pub table_words: TableWords<'a>,
}

pub fn thread(
    t: &Strings,
    lang: Lang,
    zone: Tz,
    names: &crate::staff::Names,
    row: &RequestRow,
    l: &Sources<'_>,
) -> Vec<ThreadItem> {
    let stamp = |at: NaiveDateTime| local_time(at.and_utc(), zone, lang);
    let who_is = |actor: &str| actor_name(t, names, row, actor);
    let mut thread: Vec<ThreadItem> = Vec::new();
    for e in l.events.iter().filter(|e| e.request_id == row.id) {
        // A message and a hold's question are in the thread as messages already.
        if e.kind == "message" {
            continue;
        }
        let body = match e.kind.as_str() {
            "hold" | "fulfil" => None,
            _ => e.note.clone().filter(|n| !n.trim().is_empty()),
        };
        thread.push(ThreadItem {
            sort: (e.at, 0, e.id),
            class: "event",
            label: t.t("request.thread.event").to_string(),
            title: super::post::sentence(t, lang, zone, e, &who_is(&e.actor))
                .unwrap_or_else(|| event_sentence(t, lang, e, &who_is, l.table_words)),
            who: who_is(&e.actor),
            at: stamp(e.at),
            body,
            attachment: None,
        });
    }
    for m in l.messages {
        let from_requester = m.author == "requester";
        let attachment = m.document_id.and_then(|id| {
            let doc = l.documents.iter().find(|d| d.id == id)?;
            let name = doc
                .original_name
                .clone()
                .unwrap_or_else(|| t.t("request.thread.file").to_string());
            Some(if doc.storage_name.is_some() {
                (format!("/admin/documents/{id}"), name)
            } else {
                (String::new(), name)
            })
        });
        thread.push(ThreadItem {
            sort: (m.created_at, 1, m.id),
            class: if from_requester { "in" } else { "out" },
            label: t
                .t(if from_requester {
                    "request.thread.from_requester"
                } else {
                    "request.thread.from_team"
                })
                .to_string(),
            title: String::new(),
            who: who_is(&m.author),
            at: stamp(m.created_at),
            body: Some(m.body.clone()),
            attachment,
        });
    }
    for (i, (author, at, body)) in l.notes.iter().enumerate() {
        thread.push(ThreadItem {
            sort: (*at, 2, i as i64),
            class: "note",
            label: t.t("request.thread.note").to_string(),
            title: String::new(),
            who: author.clone(),
            at: stamp(*at),
            body: Some(body.clone()),
            attachment: None,
        });
    }
    for mail in l.mails {
        let key = if mail.sent_at.is_some() {
            "request.thread.mail_sent"
        } else {
            "request.thread.mail_waiting"
        };
        thread.push(ThreadItem {
            sort: (mail.created_at, 3, mail.id),
            class: "mail",
            label: t.t("request.thread.mail").to_string(),
            title: t.fill(key, &[("to", &mail.to_addr), ("subject", &mail.subject)]),
            who: t.t("request.actor.system").to_string(),
            at: stamp(mail.sent_at.unwrap_or(mail.created_at)),
            body: None,
            attachment: None,
        });
    }
    thread.sort_by_key(|a| a.sort);
    thread
}
