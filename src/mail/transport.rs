//! Where a finished message goes: an SMTP server, or `.eml` files in a folder when none is
//! configured (a fresh machine sends nothing by accident, and tests read the files).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::{Message, SmtpTransport, Transport as _};

use super::{MailError, MailSettings};
use crate::config::redact_url;

/// Built by each worker from `[mail]` (checked once at start, in `app::prepare`) and used for
/// every send of that worker.
pub enum Transport {
    Files(PathBuf),
    Smtp(SmtpTransport),
}

impl std::fmt::Debug for Transport {
    // lettre's own Debug would show the SMTP client, credentials included.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
            Transport::Smtp(_) => f.write_str("Smtp"),
        }
    }
}

impl Transport {
    /// Checks the sender address and the SMTP URL now, so a typo stops the start instead of
    /// every mail. Opens no connection: the SMTP server may be down at start.
    pub fn from_settings(settings: &MailSettings) -> Result<Self, MailError> {
        settings
            .from
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| {
                MailError::Config(format!(
                    "mail.from: \"{}\" is not an address like \"Name <privacy@example.org>\": {e}",
                    settings.from
                ))
            })?;
        let url = settings.smtp_url.trim();
        if url.is_empty() {
            return Ok(Transport::Files(settings.outbox_dir.clone()));
        }
        let builder = SmtpTransport::from_url(url).map_err(|e| {
            MailError::Config(format!(
                "mail.smtp_url: \"{}\" is not smtp://host:port, smtp://user:pass@host:587?tls=required \
                 or smtps://user:pass@host:465: {e}",
                redact_url(url)
            ))
        })?;
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        Ok(Transport::Smtp(builder.timeout(Some(timeout)).build()))
    }

    /// Hands the message over. The error is short and says what went wrong, for the outbox
    /// row and the job's last error.
    pub fn send(&self, msg: &Message) -> Result<(), String> {
        match self {
            Transport::Files(dir) => write_eml(dir, msg),
            Transport::Smtp(smtp) => smtp.send(msg).map(drop).map_err(|e| format!("SMTP: {e}")),
        }
    }
}

/// Writes `<dir>/<message-id without brackets>.eml`, through a temporary file and a rename so
/// a reader never sees half a mail and a retry simply replaces the file.
fn write_eml(dir: &Path, msg: &Message) -> Result<(), String> {
    let id = msg
        .headers()
        .get_raw("Message-ID")
        .map(|raw| raw.trim().trim_start_matches('<').trim_end_matches('>'))
        .filter(|id| !id.is_empty())
        .ok_or("the message has no Message-ID to name its file")?;
    // Our ids are uuid@host; anything else that could leave the folder is replaced.
    let name: String = id
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '@' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .collect();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.eml"));
    let partial = dir.join(format!(".{name}.eml.partial"));
    std::fs::write(&partial, msg.formatted())
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, &path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
