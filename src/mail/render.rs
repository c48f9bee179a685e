//! Turns a mail's facts into its subject, text and HTML, in the requester's language. One
//! folder per mail under `templates/email/`; the shared greeting, link and footer live in
//! `templates/email/_layout.{txt,html}`, so a mail's own files hold only what it says.

use askama::Template;

use super::{MailError, MailFacts, MailKind, StaffMail};
use crate::i18n::{Lang, Strings, long_date};

/// The language a mail is written in (the portal's two), from its code exactly as
/// [`Lang::code`] writes it.
pub(super) fn mail_lang(code: &str) -> Result<Lang, MailError> {
    Lang::ALL
        .into_iter()
        .find(|lang| lang.code() == code)
        .ok_or_else(|| MailError::Language(code.to_string()))
}

/// What every template sees: the caller's facts, checked, with the due date written out in
/// words. The template structs deref to it, so templates say `{{ reference }}`.
pub(super) struct View<'a> {
    lang: &'static str,
    organisation: &'a str,
    dpo_email: &'a str,
    reference: &'a str,
    kind_label: &'a str,
    link: Option<&'a str>,
    due_on: Option<String>,
    clock_stopped: bool,
    note: Option<&'a str>,
    /// The note as HTML paragraphs, escaped.
    note_html: Option<String>,
    /// The refusal's ground in words, with its article; a fee's basis in words.
    ground: Option<&'static str>,
    /// A fee's amount; whether it was waived (else paid), for the settled mail.
    amount: Option<&'a str>,
    waived: bool,
    /// Whose data the request is about, when the reader acts for their child.
    on_behalf: Option<&'a str>,
}

impl<'a> View<'a> {
    /// Refuses what the mail could not say sensibly: an unknown language, or a mail whose
    /// whole point is a link (confirm, upload, read) without one.
    pub(super) fn new(kind: MailKind, facts: &MailFacts<'a>) -> Result<Self, MailError> {
        let lang = mail_lang(facts.lang)?;
        let needs_link = matches!(
            kind,
            MailKind::Confirm
                | MailKind::IdentityNeeded
                | MailKind::NewMessage
                | MailKind::ReminderConfirm
                | MailKind::ReminderAnswer
                | MailKind::LinkAgain
                | MailKind::PortabilityTransfer
        );
        if needs_link && facts.link.is_none() {
            return Err(MailError::MissingLink(kind));
        }
        let needs_note = matches!(
            kind,
            MailKind::OnHold
                | MailKind::Extended
                | MailKind::Rejected
                | MailKind::Fulfilled
                | MailKind::ExportReady
                | MailKind::PortabilityTransfer
                | MailKind::DirectivesOnFile
        );
        let note = facts.note.map(str::trim).filter(|n| !n.is_empty());
        if needs_note && note.is_none() {
            return Err(MailError::MissingNote(kind));
        }
        let ground = match (kind, facts.ground) {
            (MailKind::Rejected, Some(g)) => Some(ground_words(g, lang).ok_or(MailError::Ground)?),
            (MailKind::Rejected, None) => return Err(MailError::Ground),
            (MailKind::FeeAsked, Some(basis)) => fee_basis_words(basis, lang),
            _ => None,
        };
        Ok(View {
            lang: lang.code(),
            organisation: facts.organisation,
            dpo_email: facts.dpo_email,
            reference: facts.reference,
            kind_label: facts.kind_label,
            link: facts.link,
            due_on: facts.due_on.map(|d| long_date(d, lang)),
            clock_stopped: facts.clock_stopped,
            note,
            note_html: note.map(paragraphs_html),
            ground,
            amount: facts.amount,
            waived: kind == MailKind::FeeSettled && facts.ground == Some("waived"),
            on_behalf: facts.on_behalf,
        })
    }
}

/// A mail as stored in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// For each mail, three template structs (subject, text, HTML) over the same view. askama
/// wants the path as a literal, hence the three paths per line.
macro_rules! mail_templates {
    ($($kind:ident => $subject:literal, $text:literal, $html:literal;)+) => {
        pub(super) fn render(kind: MailKind, view: &View<'_>) -> Result<Rendered, MailError> {
            let failed = |source| MailError::Render { kind: kind.as_str(), source };
            match kind {
                $(MailKind::$kind => {
                    #[derive(Template)]
                    #[template(path = $subject)]
                    struct Subject<'v, 'a>(&'v View<'a>);
                    #[derive(Template)]
                    #[template(path = $text)]
                    struct Text<'v, 'a>(&'v View<'a>);
                    #[derive(Template)]
                    #[template(path = $html)]
                    struct Html<'v, 'a>(&'v View<'a>);
                    deref_to!(View: Subject, Text, Html);
                    let subject = one_line(&Subject(view).render().map_err(failed)?);
                    text_and_html(kind.as_str(), subject, &Text(view), &Html(view))
                })+
            }
        }
    };
}

/// The text and the HTML template of a mail read the same facts: each template struct wraps
/// a reference to them and derefs to it.
macro_rules! deref_to {
    ($target:ident: $($name:ident),+) => {$(
        impl<'a> std::ops::Deref for $name<'_, 'a> {
            type Target = $target<'a>;
            fn deref(&self) -> &$target<'a> {
                self.0
            }
        }
    )+};
}

/// A mail from its subject and its rendered text and HTML parts, each tidied; `kind` names
/// the mail when a template fails.
fn text_and_html(
    kind: &'static str,
    subject: String,
    text: &impl Template,
    html: &impl Template,
) -> Result<Rendered, MailError> {
    let failed = |source| MailError::Render { kind, source };
    Ok(Rendered {
        subject,
        text: wrap_text(&tidy_text(&text.render().map_err(failed)?), TEXT_WIDTH),
        html: without_blank_lines(&html.render().map_err(failed)?),
    })
}

mail_templates! {
    Confirm => "email/confirm/subject.txt", "email/confirm/body.txt", "email/confirm/body.html";
    IdentityNeeded => "email/identity_needed/subject.txt", "email/identity_needed/body.txt", "email/identity_needed/body.html";
    Received => "email/received/subject.txt", "email/received/body.txt", "email/received/body.html";
    NewMessage => "email/new_message/subject.txt", "email/new_message/body.txt", "email/new_message/body.html";
    Withdrawn => "email/withdrawn/subject.txt", "email/withdrawn/body.txt", "email/withdrawn/body.html";
    OnHold => "email/on_hold/subject.txt", "email/on_hold/body.txt", "email/on_hold/body.html";
    Extended => "email/extended/subject.txt", "email/extended/body.txt", "email/extended/body.html";
    Rejected => "email/rejected/subject.txt", "email/rejected/body.txt", "email/rejected/body.html";
    Fulfilled => "email/fulfilled/subject.txt", "email/fulfilled/body.txt", "email/fulfilled/body.html";
    ReminderConfirm => "email/reminder_confirm/subject.txt", "email/reminder_confirm/body.txt", "email/reminder_confirm/body.html";
    ReminderAnswer => "email/reminder_answer/subject.txt", "email/reminder_answer/body.txt", "email/reminder_answer/body.html";
    Expired => "email/expired/subject.txt", "email/expired/body.txt", "email/expired/body.html";
    ExportReady => "email/export_ready/subject.txt", "email/export_ready/body.txt", "email/export_ready/body.html";
    LinkAgain => "email/link_again/subject.txt", "email/link_again/body.txt", "email/link_again/body.html";
    RestrictionLift => "email/restriction_lift/subject.txt", "email/restriction_lift/body.txt", "email/restriction_lift/body.html";
    LiftCancelled => "email/lift_cancelled/subject.txt", "email/lift_cancelled/body.txt", "email/lift_cancelled/body.html";
    FeeAsked => "email/fee_asked/subject.txt", "email/fee_asked/body.txt", "email/fee_asked/body.html";
    FeeSettled => "email/fee_settled/subject.txt", "email/fee_settled/body.txt", "email/fee_settled/body.html";
    PortabilityTransfer => "email/portability_transfer/subject.txt", "email/portability_transfer/body.txt", "email/portability_transfer/body.html";
    DirectivesOnFile => "email/directives_on_file/subject.txt", "email/directives_on_file/body.txt", "email/directives_on_file/body.html";
}

/// A fee's ground as the mail says it, with its article.
pub fn fee_basis_words(basis: &str, lang: Lang) -> Option<&'static str> {
    Some(match (basis, lang) {
        ("further_copies", Lang::Fr) => {
            "des copies supplémentaires de vos données (article 15, paragraphe 3, du RGPD)"
        }
        ("further_copies", Lang::En) => "further copies of your data (Article 15(3) GDPR)",
        ("excessive", Lang::Fr) => {
            "une demande manifestement infondée ou excessive, notamment par son caractère répétitif (article 12, paragraphe 5, du RGPD)"
        }
        ("excessive", Lang::En) => {
            "a manifestly unfounded or excessive request, in particular because it is repetitive (Article 12(5) GDPR)"
        }
        _ => return None,
    })
}

/// A mail to a member of staff about their account (an invitation, a new password): a
/// greeting, the paragraphs, one button with its address spelled out, and what to do if it
/// was not for them; in their language.
struct StaffMessage<'a> {
    lang: &'static str,
    organisation: &'a str,
    greeting: String,
    before: Vec<String>,
    link: &'a str,
    action: String,
    fallback: &'static str,
    after: Vec<String>,
    signature: String,
    footer: String,
}

#[derive(Template)]
#[template(path = "email/staff/message.txt")]
struct StaffMessageText<'v, 'a>(&'v StaffMessage<'a>);

#[derive(Template)]
#[template(path = "email/staff/message.html")]
struct StaffMessageHtml<'v, 'a>(&'v StaffMessage<'a>);

deref_to!(StaffMessage: StaffMessageText, StaffMessageHtml);

/// A request as a digest lists it, in words.
struct DigestLine<'a> {
    item: &'a super::DigestItem,
    /// The right exercised, in the mail's language.
    kind: String,
    /// "Due 3 May 2026: 3 days left." / "Was due …: 2 days overdue."
    when: String,
    /// Whose it is, when the reader gets it as DPO.
    whose: Option<String>,
    /// The extension notice still owed before the first due date.
    extension: Option<String>,
}

/// What the deadline digest says.
struct DeadlineDigest<'a> {
    lang: &'static str,
    t: &'static Strings,
    organisation: &'a str,
    greeting: String,
    intro: String,
    overdue: Vec<DigestLine<'a>>,
    coming: Vec<DigestLine<'a>>,
    more: Option<String>,
    dashboard: &'a str,
    signature: String,
    footer: String,
}

#[derive(Template)]
#[template(path = "email/staff/deadline_digest.txt")]
struct DeadlineDigestText<'v, 'a>(&'v DeadlineDigest<'a>);

#[derive(Template)]
#[template(path = "email/staff/deadline_digest.html")]
struct DeadlineDigestHtml<'v, 'a>(&'v DeadlineDigest<'a>);

deref_to!(DeadlineDigest: DeadlineDigestText, DeadlineDigestHtml);

/// "3 days left", "due today", "2 days overdue" / "3 jours restants"…
fn days_left_words(t: &Strings, days_left: i64) -> String {
    match days_left {
        0 => t.t("shell.digest.due_today").to_string(),
        n if n > 0 => t.count("shell.digest.left", n),
        n => t.count("shell.digest.late", -n),
    }
}

fn deadline_digest(
    lang: Lang,
    organisation: &str,
    name: &str,
    items: &[super::DigestItem],
    more: usize,
    dashboard: &str,
) -> Result<Rendered, MailError> {
    let t = lang.strings();
    let lines = |overdue: bool| -> Vec<DigestLine<'_>> {
        items
            .iter()
            .filter(|i| (i.days_left < 0) == overdue)
            .map(|item| {
                let due = long_date(item.due_on, lang);
                let left = days_left_words(t, item.days_left);
                // The staff's word for the right ("Effacement (art. 17)"), as the queue
                // names it, not the portal's sentence for requesters.
                let key = format!("label.kind.{}", item.kind);
                DigestLine {
                    item,
                    kind: if t.has(&key) {
                        t.t(&key).to_string()
                    } else {
                        item.kind.clone()
                    },
                    when: t.fill(
                        if overdue {
                            "shell.digest.was_due"
                        } else {
                            "shell.digest.due"
                        },
                        &[("date", &due), ("left", &left)],
                    ),
                    whose: item.as_dpo.then(|| match &item.assignee {
                        Some(who) => t.fill("shell.digest.assigned", &[("name", who)]),
                        None => t.t("shell.digest.unassigned").to_string(),
                    }),
                    extension: item
                        .extension_notice_due
                        .then(|| t.fill("shell.digest.extension", &[("date", &due)])),
                }
            })
            .collect()
    };
    let (overdue, coming) = (lines(true), lines(false));
    let n = i64::try_from(coming.len() + more).unwrap_or(i64::MAX);
    let o = i64::try_from(overdue.len()).unwrap_or(i64::MAX);
    let subject = match (o, n) {
        (0, n) => t.count("shell.digest.subject_coming", n),
        (o, 0) => t.count("shell.digest.subject_overdue", o),
        (o, n) => format!(
            "{}, {}",
            t.count("shell.digest.subject_overdue", o),
            t.count("shell.digest.subject_and_coming", n)
        ),
    };
    let digest = DeadlineDigest {
        lang: lang.code(),
        t,
        organisation,
        greeting: t.fill("shell.mail.greeting", &[("name", name)]),
        intro: t.fill("shell.digest.intro", &[("organisation", organisation)]),
        overdue,
        coming,
        more: (more > 0)
            .then(|| t.count("shell.digest.more", i64::try_from(more).unwrap_or(i64::MAX))),
        dashboard,
        signature: t.t("shell.mail.signature").to_string(),
        footer: t.fill("shell.mail.footer", &[("organisation", organisation)]),
    };
    text_and_html(
        "staff_deadline_digest",
        format!("{organisation} – {subject}"),
        &DeadlineDigestText(&digest),
        &DeadlineDigestHtml(&digest),
    )
}

/// A staff mail, in `lang`: its template name and what it says.
pub(super) fn render_staff(
    mail: &StaffMail<'_>,
    lang: Lang,
    organisation: &str,
) -> Result<(&'static str, Rendered), MailError> {
    let t = lang.strings();
    let message = |name: &str, link, key: &str, values: &[(&str, &str)]| {
        let paragraphs = |part: &str| -> Vec<String> {
            (1..=3)
                .map(|i| format!("{key}.{part}{i}"))
                .filter(|k| t.has(k))
                .map(|k| t.fill(&k, values))
                .collect()
        };
        StaffMessage {
            lang: lang.code(),
            organisation,
            greeting: t.fill("shell.mail.greeting", &[("name", name)]),
            before: paragraphs("before"),
            link,
            action: t.t(&format!("{key}.action")).to_string(),
            fallback: t.t("shell.mail.fallback"),
            after: paragraphs("after"),
            signature: t.t("shell.mail.signature").to_string(),
            footer: t.fill("shell.mail.footer", &[("organisation", organisation)]),
        }
    };
    let (template, subject, view) = match *mail {
        StaffMail::PasswordReset { name, link } => (
            "staff_password_reset",
            t.t("accounts.mail.reset.subject"),
            message(
                name,
                link,
                "accounts.mail.reset",
                &[("organisation", organisation)],
            ),
        ),
        StaffMail::Invitation {
            name,
            link,
            role,
            invited_by,
        } => {
            let role_words = t.t(&format!("accounts.role.{role}.name")).to_string();
            let role_does = t.t(&format!("accounts.role.{role}.does")).to_string();
            (
                "staff_invitation",
                t.t("accounts.mail.invite.subject"),
                message(
                    name,
                    link,
                    "accounts.mail.invite",
                    &[
                        ("organisation", organisation),
                        ("role", &role_words),
                        ("does", &role_does),
                        ("by", invited_by),
                    ],
                ),
            )
        }
        StaffMail::DeadlineDigest {
            name,
            items,
            more,
            dashboard,
        } => {
            return Ok((
                "staff_deadline_digest",
                deadline_digest(lang, organisation, name, items, more, dashboard)?,
            ));
        }
    };
    let rendered = text_and_html(
        template,
        format!("{organisation} – {subject}"),
        &StaffMessageText(&view),
        &StaffMessageHtml(&view),
    )?;
    Ok((template, rendered))
}

/// A subject is one header line whatever the template's layout.
fn one_line(rendered: &str) -> String {
    rendered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lets text templates put their `{% if %}` tags on lines of their own: trailing blanks go,
/// runs of empty lines become one, and the body ends with one newline. The signature
/// separator keeps its trailing space (RFC 3676).
fn tidy_text(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    let mut blank_run = 0;
    for line in rendered.trim().lines() {
        let line = if line == "-- " { line } else { line.trim_end() };
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Where the plain-text part breaks its lines: 72 columns leaves room for a mail client's
/// quoting ("> ") within the 78 that RFC 5322 recommends.
const TEXT_WIDTH: usize = 72;

/// Wraps every line longer than `width` characters between words, never inside one: a word
/// (a long URL) that is longer than the line stays whole on a line of its own. A line that
/// starts a list item ("- ") continues under its text. Short lines are kept as they are, so
/// the templates' and the team's line breaks stand.
fn wrap_text(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for line in text.lines() {
        if line.chars().count() <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body = line.trim_start_matches(' ');
        let lead = &line[..line.len() - body.len()];
        let hang = if body.starts_with("- ") { "  " } else { "" };
        let mut current = String::from(lead);
        let mut current_len = lead.chars().count();
        let mut empty = true;
        for word in breakable_words(body) {
            let len = word.chars().count();
            if !empty && current_len + 1 + len > width {
                out.push_str(&current);
                out.push('\n');
                current = format!("{lead}{hang}");
                current_len = current.chars().count();
                empty = true;
            }
            if !empty {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(&word);
            current_len += len;
            empty = false;
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

/// The words a line may break between: at plain spaces, except before a French closing
/// sign (":", ";", "?", "!", "»") or after "«", which must stay with their word even where
/// a template or the team typed a plain space.
fn breakable_words(line: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut glue_next = false;
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let closing = word.starts_with([':', ';', '?', '!', '»']);
        match words.last_mut() {
            Some(last) if glue_next || closing => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        glue_next = word.ends_with('«');
    }
    words
}

/// What the team wrote, as HTML: a blank line starts a paragraph, a single line break stays
/// one (`<br>`), and lines starting with "- " (the sources' summary) become a list.
/// Everything is escaped: the team's text is never markup.
fn paragraphs_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut html = String::new();
    for block in text.split("\n\n") {
        let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut i = 0;
        while i < lines.len() {
            let item = |l: &str| l.trim_start().starts_with("- ");
            let start = i;
            let listing = item(lines[i]);
            while i < lines.len() && item(lines[i]) == listing {
                i += 1;
            }
            let run = &lines[start..i];
            if listing {
                html.push_str("<ul style=\"margin:0 0 16px;padding-left:24px;\">");
                for l in run {
                    let l = l.trim_start().trim_start_matches("- ");
                    html.push_str(&format!("<li>{}</li>", escape_html(l.trim())));
                }
                html.push_str("</ul>\n");
            } else {
                let escaped: Vec<String> = run.iter().map(|l| escape_html(l.trim())).collect();
                html.push_str(&format!(
                    "<p style=\"margin:0 0 16px;\">{}</p>\n",
                    escaped.join("<br>\n")
                ));
            }
        }
    }
    html
}

/// HTML-escapes the way askama does, so the team's text reads like the rest of the mail.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part without the empty lines its tags leave behind (whitespace means nothing
/// there; it only makes the stored row and the .eml longer).
fn without_blank_lines(rendered: &str) -> String {
    let mut out = String::with_capacity(rendered.len());
    for line in rendered.lines().filter(|l| !l.trim().is_empty()) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// A refusal's ground as the requester reads it, with the article it rests on.
fn ground_words(ground: &str, lang: Lang) -> Option<&'static str> {
    let words = match (ground, lang) {
        ("manifestly_unfounded", Lang::Fr) => {
            "demande manifestement infondée (article 12, paragraphe 5, du RGPD)"
        }
        ("manifestly_unfounded", Lang::En) => {
            "the request is manifestly unfounded (Article 12(5) GDPR)"
        }
        ("excessive", Lang::Fr) => {
            "demande excessive, notamment par son caractère répétitif (article 12, paragraphe 5, du RGPD)"
        }
        ("excessive", Lang::En) => {
            "the request is excessive, in particular because of its repetitive character (Article 12(5) GDPR)"
        }
        ("identity_not_established", Lang::Fr) => {
            "votre identité n'a pas pu être établie (articles 11, paragraphe 2, et 12, paragraphe 2, du RGPD)"
        }
        ("identity_not_established", Lang::En) => {
            "we could not establish your identity (Articles 11(2) and 12(2) GDPR)"
        }
        ("art17_3_exception", Lang::Fr) => {
            "l'effacement ne s'applique pas à ces données (article 17, paragraphe 3, du RGPD)"
        }
        ("art17_3_exception", Lang::En) => {
            "erasure does not apply to this data (Article 17(3) GDPR)"
        }
        ("compelling_grounds", Lang::Fr) => {
            "nous justifions de motifs légitimes et impérieux pour ce traitement, qui prévalent sur vos intérêts, droits et libertés (article 21, paragraphe 1, du RGPD)"
        }
        ("compelling_grounds", Lang::En) => {
            "we have compelling legitimate grounds for this processing which override your interests, rights and freedoms (Article 21(1) GDPR)"
        }
        ("other", Lang::Fr) => "motif exposé ci-dessous",
        ("other", Lang::En) => "the reason set out below",
        _ => return None,
    };
    Some(words)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod staff_mail_tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::mail::DigestItem;

    #[test]
    fn the_digest_and_the_invitation_speak_the_staffs_language() {
        let items = [DigestItem {
            reference: "DSAR-2027-000001".into(),
            kind: "access".into(),
            due_on: NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"),
            days_left: -2,
            link: "https://privacy.example.org/admin/requests/DSAR-2027-000001".into(),
            assignee: None,
            as_dpo: true,
            extension_notice_due: false,
        }];
        let digest = StaffMail::DeadlineDigest {
            name: "Alice Martin",
            items: &items,
            more: 0,
            dashboard: "https://privacy.example.org/admin",
        };
        let (_, fr) = render_staff(&digest, Lang::Fr, "Exemple SAS").expect("fr");
        assert_eq!(fr.subject, "Exemple SAS – 1 demande en retard");
        for words in [
            "Bonjour Alice Martin,",
            "DSAR-2027-000001 – Accès (art. 15)",
            "Échéance le 1er mars 2027\u{a0}: en retard de 2 jours.",
            "Confiée à personne\u{a0}: merci de l'attribuer.",
        ] {
            assert!(fr.text.contains(words), "{words}: {}", fr.text);
        }
        assert!(fr.html.contains("<html lang=\"fr\">"));
        let (_, en) = render_staff(&digest, Lang::En, "Exemple SAS").expect("en");
        assert_eq!(en.subject, "Exemple SAS – 1 request overdue");
        assert!(en.text.contains("Was due 1 March 2027: 2 days overdue."));
        assert!(
            en.text.contains("DSAR-2027-000001 – Access (art. 15)"),
            "{}",
            en.text
        );

        let invitation = StaffMail::Invitation {
            name: "Hugo Petit",
            link: "https://privacy.example.org/admin/password/abc",
            role: "handler",
            invited_by: "Ada Lovelace",
        };
        let (template, fr) = render_staff(&invitation, Lang::Fr, "Exemple SAS").expect("fr");
        assert_eq!(template, "staff_invitation");
        assert!(fr.text.contains("Ada Lovelace vous invite"), "{}", fr.text);
        assert!(
            fr.text.contains("Votre rôle\u{a0}: Gestionnaire."),
            "{}",
            fr.text
        );
        assert!(
            fr.html
                .contains("href=\"https://privacy.example.org/admin/password/abc\"")
        );
        assert!(!fr.text.contains("dsar") && !fr.subject.contains("dsar"));
        assert!(
            fr.text
                .lines()
                .all(|l| l.chars().count() <= 72 || !l.contains(' '))
        );
    }
}
