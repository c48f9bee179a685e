//! The request's postal side: the address, whether the answers go by post, the registered
//! letter it came by, and the letters to print with whether each was sent.

use crate::i18n::{Lang, Strings};
use crate::store::contacts::ContactRow;
use crate::store::requests::{EventRow, RequestRow};
use crate::web::admin::letters::{address_lines, sent_words};
use crate::workflow::intake;

pub struct PostPanel {
    pub by_post: bool,
    /// The name, then the address as the envelope shows it.
    pub address: Vec<String>,
    pub received_registered: Option<String>,
    /// (address of the letter page, what letter, "sent on …" or "to send").
    pub letters: Vec<(String, String, String, bool)>,
}

pub fn panel(
    t: &Strings,
    lang: Lang,
    row: &RequestRow,
    contact: Option<&ContactRow>,
    events: &[EventRow],
    page_url: &str,
) -> Option<PostPanel> {
    let by_post = row.requester_email.is_empty() && !row.requester_name.is_empty()
        || contact.is_some_and(|c| c.prefers_post);
    if contact.is_none() && !by_post {
        return None;
    }
    let mut address = address_lines(contact);
    if !address.is_empty() {
        address.insert(0, row.requester_name.clone());
    }
    let letters = if by_post {
        intake::letters(row, events)
            .into_iter()
            .map(|o| {
                let sent = o.sent.as_ref().map(|e| sent_words(t, lang, e));
                (
                    format!("{page_url}/letters/{}", o.letter.as_str()),
                    t.t(&format!("letters.which.{}", o.letter.as_str()))
                        .to_string(),
                    sent.clone()
                        .unwrap_or_else(|| t.t("letters.to_send").to_string()),
                    sent.is_some(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(PostPanel {
        by_post,
        address,
        received_registered: contact.and_then(|c| c.received_registered.clone()),
        letters,
    })
}

/// The sentence of a request the team filed, or of a letter sent; `None` for the others.
/// "Demande reçue par courrier le 28 novembre 2026 (recommandé n° 1A…), enregistrée par
/// Marie Martin".
pub fn sentence(
    t: &Strings,
    lang: Lang,
    zone: chrono_tz::Tz,
    e: &EventRow,
    who: &str,
) -> Option<String> {
    let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
    match e.kind.as_str() {
        "received" if e.actor.starts_with("staff:") => {
            let channel = data["channel"].as_str()?;
            let key = format!("request.event.received_via.{channel}");
            if !t.has(&key) {
                return None;
            }
            let on = crate::i18n::long_date(e.at.and_utc().with_timezone(&zone).date_naive(), lang);
            let mut words = t.fill(
                "request.event.received_staff",
                &[("via", t.t(&key)), ("date", &on)],
            );
            if let Some(n) = data["registered_number"].as_str() {
                words.push_str(&t.fill("request.event.registered", &[("number", n)]));
            }
            words.push_str(&t.fill("request.event.filed_by", &[("who", who)]));
            Some(words)
        }
        intake::LETTER_SENT => {
            let letter = data["letter"].as_str().unwrap_or("acknowledgement");
            Some(t.fill(
                "request.event.letter_sent",
                &[
                    ("letter", t.t(&format!("letters.which.{letter}"))),
                    ("sent", &sent_words(t, lang, e)),
                ],
            ))
        }
        _ => None,
    }
}
