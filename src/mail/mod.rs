//! Every mail goes through the durable outbox: [`queue`] renders it in the requester's
//! language and stores it with a `send_mail` job in the caller's transaction; the worker's
//! [`send_job`] sends it through the [`Transport`] and records the outcome. Nothing is sent
//! from a request handler, a mail survives SMTP being down, and a mail marked sent is never
//! sent again. Logs name the outbox id and the template, never an address or any content.

mod render;
mod transport;

use chrono::{NaiveDate, NaiveDateTime};
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use serde::Deserialize;

use crate::state::AppState;
use crate::store::jobs::{self, JobRow};
use crate::store::outbox::{self, NewMail, OutboxRow};
use crate::store::{DbConn, write_tx};

pub use render::fee_basis_words;
pub use transport::Transport;

/// The job kind [`send_job`] handles.
pub const SEND_MAIL: &str = "send_mail";

pub use crate::config::MailSettings;

crate::domain::kind::text_enum! {
    /// Which mail; the text is the template folder under `templates/email/`.
    pub enum MailKind (what = "mail", ignore_case = false) {
        Confirm => "confirm",
        IdentityNeeded => "identity_needed",
        Received => "received",
        NewMessage => "new_message",
        Withdrawn => "withdrawn",
        OnHold => "on_hold",
        Extended => "extended",
        Rejected => "rejected",
        Fulfilled => "fulfilled",
        ReminderConfirm => "reminder_confirm",
        ReminderAnswer => "reminder_answer",
        Expired => "expired",
        ExportReady => "export_ready",
        LinkAgain => "link_again",
        /// Notice, before a restriction is lifted, of the day and the reason (Art. 18(3)).
        RestrictionLift => "restriction_lift",
        /// A lift announced and then called off: the restriction stays in force.
        LiftCancelled => "lift_cancelled",
        /// A fee decided: its ground, amount and reason (Art. 12(5), 15(3)).
        FeeAsked => "fee_asked",
        /// A fee paid, or waived.
        FeeSettled => "fee_settled",
        /// To another organisation: the download link of a person's portable data, sent at
        /// their request (GDPR art. 20(2)).
        PortabilityTransfer => "portability_transfer",
        /// What is now on file as the person's post-mortem directives, once the team carried
        /// out their request (art. 85 loi Informatique et Libertés).
        DirectivesOnFile => "directives_on_file",
    }
}

/// What a mail may show, built by the caller. Free text only where the law wants the
/// requester told in writing: what staff ask for while the request is on hold, the reason for
/// an extension (art. 12(3)), the explanation of a refusal (art. 12(4)) and the answer itself.
/// A mail about a new message links to it and never carries it.
#[derive(Clone, Copy)]
pub struct MailFacts<'a> {
    /// "fr" | "en".
    pub lang: &'a str,
    /// Recipient address.
    pub to: &'a str,
    pub organisation: &'a str,
    pub dpo_email: &'a str,
    /// e.g. DSAR-2026-000123.
    pub reference: &'a str,
    /// The right exercised, in the mail's language: "droit d'accès" / "right of access".
    pub kind_label: &'a str,
    /// Absolute URL with a fresh token.
    pub link: Option<&'a str>,
    pub due_on: Option<NaiveDate>,
    pub clock_stopped: bool,
    /// What staff wrote: the question, the reason, the explanation or the letter.
    pub note: Option<&'a str>,
    /// A refusal's legal ground, as [`crate::domain::RejectGround`] writes it; a fee's
    /// basis (`further_copies`, `excessive`) or how it was settled (`paid`, `waived`).
    pub ground: Option<&'a str>,
    /// A fee's amount, written out in the mail's language ("12,50 €").
    pub amount: Option<&'a str>,
    /// On whose behalf the reader asked, as a sentence in the mail's language, when a parent
    /// acts for their child: every mail of the request says whose data it is about.
    pub on_behalf: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail language \"{0}\" is not supported; expected \"fr\" or \"en\"")]
    Language(String),
    #[error("the {0} mail needs a link")]
    MissingLink(MailKind),
    #[error("the {0} mail needs the text staff wrote")]
    MissingNote(MailKind),
    #[error("the rejected mail needs a known legal ground")]
    Ground,
    // The address itself stays out of the message: errors end up in logs.
    #[error("the recipient of the mail is not a valid email address")]
    Recipient,
    #[error("cannot render the {kind} mail: {source}")]
    Render {
        kind: &'static str,
        #[source]
        source: askama::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
}

#[derive(Deserialize)]
struct SendMailPayload {
    outbox_id: i64,
}

/// Renders the mail in its language and writes it to mail_outbox, plus a `send_mail` job
/// (payload `{"outbox_id": N}`), in the caller's transaction (the caller wraps it in
/// `store::write_tx`; alone, it opens its own). Returns the outbox id.
///
/// The stored Message-ID is provisional (`<uuid>`) until the first attempt to send, which
/// completes it to `<uuid>@<host of organisation.base_url>` from the settings this function
/// is not given; from then on every retry carries the same id.
pub fn queue(
    conn: &mut DbConn,
    kind: MailKind,
    facts: &MailFacts<'_>,
    request_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<i64, MailError> {
    facts
        .to
        .parse::<lettre::Address>()
        .map_err(|_| MailError::Recipient)?;
    let view = render::View::new(kind, facts)?;
    let mail = render::render(kind, &view)?;
    let language = render::mail_lang(facts.lang)?.code();
    store(
        conn,
        kind.as_str(),
        language,
        facts.to,
        &mail,
        request_id,
        now,
    )
}

/// A mail to a member of staff, about their account or their work, in their language (the
/// account's choice, else the organisation's).
pub enum StaffMail<'a> {
    /// A one-time link to choose a new password.
    PasswordReset { name: &'a str, link: &'a str },
    /// An invitation to the dashboard: the role given, who gave it, and the one-time link to
    /// choose a password.
    Invitation {
        name: &'a str,
        link: &'a str,
        /// The role's code (`handler`…), written out in words in the mail.
        role: &'a str,
        invited_by: &'a str,
    },
    /// The requests of one member of staff whose deadline reached a reminder threshold or
    /// passed, in one mail however many there are. Names no requester: the reference and a
    /// link to the dashboard are enough to act.
    DeadlineDigest {
        name: &'a str,
        items: &'a [DigestItem],
        /// Requests owed a reminder but left out to keep the mail readable.
        more: usize,
        /// The dashboard, where the rest is.
        dashboard: &'a str,
    },
}

/// One request in a [`StaffMail::DeadlineDigest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    /// e.g. DSAR-2026-000123.
    pub reference: String,
    /// The right exercised, as its code (`access`…): the mail writes it in its language.
    pub kind: String,
    pub due_on: NaiveDate,
    /// Negative once overdue.
    pub days_left: i64,
    /// Absolute URL of the request in the dashboard.
    pub link: String,
    /// Who it is assigned to, when the mail goes to someone else (a DPO); `None` unassigned.
    pub assignee: Option<String>,
    /// Not the reader's own request: sent to them as DPO (unassigned, or overdue).
    pub as_dpo: bool,
    /// The profile wants any extension notified before the first due date and none was
    /// granted yet (GDPR art. 12(3)).
    pub extension_notice_due: bool,
}

/// Queues a mail to staff through the same outbox as requesters' mails.
pub fn queue_staff(
    conn: &mut DbConn,
    mail: &StaffMail<'_>,
    to: &str,
    lang: crate::i18n::Lang,
    organisation: &str,
    now: NaiveDateTime,
) -> Result<i64, MailError> {
    to.parse::<lettre::Address>()
        .map_err(|_| MailError::Recipient)?;
    let (template, rendered) = render::render_staff(mail, lang, organisation)?;
    store(conn, template, lang.code(), to, &rendered, None, now)
}

fn store(
    conn: &mut DbConn,
    template: &str,
    language: &str,
    to: &str,
    mail: &render::Rendered,
    request_id: Option<i64>,
    now: NaiveDateTime,
) -> Result<i64, MailError> {
    let provisional_id = uuid::Uuid::new_v4().to_string();
    let id = write_tx(conn, |conn| -> Result<i64, MailError> {
        let id = outbox::insert(
            conn,
            &NewMail {
                message_id: &provisional_id,
                request_id,
                template,
                language,
                to_addr: to,
                subject: &mail.subject,
                body_text: &mail.text,
                body_html: &mail.html,
                created_at: now,
                next_attempt_at: now,
            },
        )?;
        let payload = serde_json::json!({ "outbox_id": id }).to_string();
        jobs::enqueue(conn, SEND_MAIL, &payload, now, None, now)?;
        Ok(id)
    })?;
    tracing::debug!(outbox = id, template, "mail queued");
    Ok(id)
}

/// The worker's handler for `send_mail` jobs: sends the outbox row as multipart/alternative
/// (text + HTML) and marks it sent; on failure records the error and the next attempt on the
/// row and returns `Err`, so the queue retries with backoff. A row already sent is skipped,
/// so a job that runs twice sends once.
pub fn send_job(state: &AppState, mailer: &Transport, job: &JobRow) -> Result<(), String> {
    let SendMailPayload { outbox_id } = serde_json::from_str(&job.payload)
        .map_err(|e| format!("a send_mail payload is {{\"outbox_id\": N}}: {e}"))?;
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let Some(mut row) = outbox::find(&mut conn, outbox_id).map_err(|e| e.to_string())? else {
        // Nothing to send and nothing a retry could change.
        tracing::warn!(
            outbox = outbox_id,
            "mail to send is no longer in the outbox"
        );
        return Ok(());
    };
    if row.sent_at.is_some() {
        tracing::info!(outbox = row.id, template = %row.template, "mail already sent; not sending it again");
        return Ok(());
    }
    if !row.message_id.contains('@') {
        let full = format!(
            "{}@{}",
            row.message_id,
            message_id_domain(state.settings.base_url())
        );
        if !outbox::fix_message_id(&mut conn, row.id, &row.message_id, &full)
            .map_err(|e| e.to_string())?
        {
            tracing::warn!(
                outbox = row.id,
                "mail changed while being sent; leaving it to the next attempt"
            );
            return Err("the outbox row changed during the attempt".into());
        }
        row.message_id = full;
    }
    let now = state.clock.now();
    let message = build_message(
        &state.settings.mail.from,
        &row,
        now.into(),
        state.settings.brand(),
    );
    // No pooled connection is held while the SMTP server takes its time.
    drop(conn);
    let sent = message
        .and_then(|message| mailer.send(&message))
        .map_err(|e| without_addresses(&e));
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let now = state.clock.now_naive();
    match sent {
        Ok(()) => {
            // Sent but not recorded (the database went away) means one more send on retry:
            // at least once is the best a mail can do.
            outbox::mark_sent(&mut conn, row.id, now).map_err(|e| e.to_string())?;
            tracing::info!(outbox = row.id, template = %row.template, attempt = job.attempts, "mail sent");
            Ok(())
        }
        Err(error) => {
            let next =
                now + jobs::Backoff::from_settings(&state.settings.worker).after(job.attempts);
            outbox::record_failure(&mut conn, row.id, &error, next).map_err(|e| e.to_string())?;
            // The worker logs the error itself, next to the job id.
            tracing::info!(
                outbox = row.id,
                template = %row.template,
                attempt = job.attempts,
                retry = job.attempts < job.max_attempts,
                "mail not sent"
            );
            Err(error)
        }
    }
}

/// The colour the mail templates draw buttons, links and the header's rule in: the
/// organisation's accent takes its place when the mail leaves.
const TEMPLATE_ACCENT: &str = "#1d4ed8";
/// Where the templates' header wants the logo; the logo itself travels inside the mail.
const LOGO_MARK: &str = "<!--logo-->";
const LOGO_CID: &str = "logo";

/// The HTML part as it leaves: in the organisation's accent, with its logo (when it has one)
/// as an image carried in the mail itself, never one loaded from elsewhere. Applied when the
/// mail is sent, so the outbox keeps one small copy of each mail and a new logo or colour
/// reaches the mails still waiting.
fn branded_html(html: &str, brand: &crate::config::identity::Brand) -> String {
    let html = html.replace(TEMPLATE_ACCENT, &brand.accent.hex());
    match brand.logo {
        Some(_) => html.replacen(
            LOGO_MARK,
            &format!(
                "<img src=\"cid:{LOGO_CID}\" alt=\"\" height=\"40\" style=\"display:block;height:40px;width:auto;margin:0 0 8px;border:0;\">"
            ),
            1,
        ),
        None => html,
    }
}

fn build_message(
    from: &str,
    row: &OutboxRow,
    date: std::time::SystemTime,
    brand: &crate::config::identity::Brand,
) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("mail.from is not an address: {e}"))?;
    let to: Mailbox = row
        .to_addr
        .parse()
        .map_err(|_| "the recipient is not a valid address".to_string())?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.as_str())
        .message_id(Some(format!("<{}>", row.message_id)))
        .date(date)
        .multipart(body(row, brand)?)
        .map_err(|e| format!("cannot build the message: {e}"))
}

/// Text and HTML as alternatives; with a logo, the HTML and the logo it shows are one
/// `multipart/related` part.
fn body(row: &OutboxRow, brand: &crate::config::identity::Brand) -> Result<MultiPart, String> {
    let html = branded_html(&row.body_html, brand);
    let logo = brand.logo.as_ref().filter(|_| html.contains("cid:logo"));
    let Some(logo) = logo else {
        return Ok(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            html,
        ));
    };
    let content_type = ContentType::parse(logo.content_type)
        .map_err(|e| format!("the logo's content type: {e}"))?;
    let image =
        Attachment::new_inline(LOGO_CID.to_string()).body(logo.bytes.to_vec(), content_type);
    Ok(MultiPart::alternative()
        .singlepart(SinglePart::plain(row.body_text.clone()))
        .multipart(
            MultiPart::related()
                .singlepart(SinglePart::html(html))
                .singlepart(image),
        ))
}

/// The right-hand side of our Message-IDs: the host people reach us at,
/// `https://privacy.example.org:8443/x` → `privacy.example.org`. An IPv6 literal keeps its
/// brackets (RFC 5322 allows `[…]` on the right of an id); `localhost` when there is no host.
fn message_id_domain(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// SMTP replies often quote the recipient ("550 <bob@…>: no such user"); errors go to the
/// logs and the job row, so every word with an `@` is masked.
fn without_addresses(error: &str) -> String {
    error
        .split(' ')
        .map(|word| {
            if word.contains('@') {
                "<address>"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_take_the_host_of_the_base_url() {
        assert_eq!(
            message_id_domain("https://Privacy.Example.org:8443/portal"),
            "privacy.example.org"
        );
        assert_eq!(message_id_domain("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(message_id_domain("http://[::1]:8080/"), "[::1]");
        assert_eq!(
            message_id_domain("https://u:p@host.example"),
            "host.example"
        );
        assert_eq!(message_id_domain(""), "localhost");
    }

    #[test]
    fn errors_lose_their_addresses() {
        assert_eq!(
            without_addresses("SMTP: permanent error (550): <bob@example.org>: no such user"),
            "SMTP: permanent error (550): <address> no such user"
        );
    }
}
