//! Filing a request: checked against its kind's schema and the configured law
//! ([`check_filing`], the same for the API and the portal), then stored with its first
//! timeline entry and its audit entry in one transaction ([`file`]).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::Law;
use crate::domain::deadline::{self, Pauses, Period};
use crate::domain::email::EmailAddress;
use crate::domain::filing::{
    self as rules, Acting, Answer, Draft, FieldError, PostalAddress, Represented,
};
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::status::Status;
use crate::store::audit;
use crate::store::contacts::{self, ContactRow};
use crate::store::reminders;
use crate::store::requests::{self as rows, EventRow, NewEvent, NewRequest, RequestRow};
use crate::store::{DbConn, write_tx};

use super::*;

#[derive(Debug, Clone)]
pub struct Filing {
    pub kind: RequestKind,
    pub name: String,
    /// `None` when the person gave only a postal address: the answers go by post.
    pub email: Option<EmailAddress>,
    pub customer_ref: Option<String>,
    pub details: String,
    pub received_at: DateTime<Utc>,
    pub profile: String,
    pub channel: Channel,
    pub language: String,
    pub initial_status: Status,
    pub country: Option<String>,
    pub representative: bool,
    /// How the requester acts (a representative exactly when `representative`).
    pub acting: Acting,
    /// Whom a representative or a parent acts for: the sources are searched for this person,
    /// while the mails go to the requester (the representative, the parent).
    pub subject: Option<Represented>,
    /// Kind-specific answers (JSON object).
    pub form: serde_json::Value,
    pub postal: Option<PostalAddress>,
    /// Every later message goes by letter, not by mail.
    pub prefers_post: bool,
    /// The registered letter the request came by.
    pub registered_number: Option<String>,
}

impl Filing {
    /// Whether anything beyond the email address says how to reach the person.
    fn contact(&self, request_id: i64) -> Option<ContactRow> {
        let wanted = self.postal.is_some() || self.prefers_post || self.registered_number.is_some();
        wanted.then(|| {
            let postal = self.postal.as_ref();
            ContactRow {
                request_id,
                prefers_post: self.prefers_post || self.email.is_none(),
                address_lines: postal.map(|p| p.lines.clone()),
                postcode: postal.map(|p| p.postcode.clone()),
                city: postal.map(|p| p.city.clone()),
                country: postal.and_then(|p| p.country.clone()),
                received_registered: self.registered_number.clone(),
            }
        })
    }
}

impl Filing {
    /// A filing with no portal-only facts (country, representative, form answers).
    #[allow(clippy::too_many_arguments)]
    pub fn basic(
        kind: RequestKind,
        name: String,
        email: EmailAddress,
        customer_ref: Option<String>,
        details: String,
        received_at: DateTime<Utc>,
        profile: String,
        channel: Channel,
        language: String,
        initial_status: Status,
    ) -> Self {
        Filing {
            kind,
            name,
            email: Some(email),
            customer_ref,
            details,
            received_at,
            profile,
            channel,
            language,
            initial_status,
            country: None,
            representative: false,
            acting: Acting::Myself,
            subject: None,
            form: json!({}),
            postal: None,
            prefers_post: false,
            registered_number: None,
        }
    }
}

/// Checks a submission against its kind's schema and the configured law and makes it a
/// filing, or gives every field error at once. The profile is the one asked for, else the one
/// the configuration gives the person's country (`deadlines.countries`), else the default.
pub fn check_filing(
    law: &Law,
    draft: &Draft<'_>,
    initial_status: Status,
    now: DateTime<Utc>,
) -> Result<Filing, Vec<FieldError>> {
    let checked = rules::check(draft, &law.profile_names(), now)?;
    let profile = checked
        .profile
        .or_else(|| checked.country.and_then(|c| law.countries.get(c).cloned()))
        .unwrap_or_else(|| law.default_profile.clone());
    let form = checked
        .answers
        .into_iter()
        .map(|(name, answer)| {
            let value = match answer {
                Answer::Text(text) => json!(text),
                Answer::Choice(choice) => json!(choice),
                Answer::Flag(ticked) => json!(ticked),
            };
            (name.to_string(), value)
        })
        .collect();
    Ok(Filing {
        kind: checked.kind,
        name: checked.name,
        email: checked.email,
        customer_ref: checked.customer_ref,
        details: checked.details,
        received_at: checked.received_at,
        profile,
        channel: checked.channel,
        language: checked.language.to_string(),
        initial_status,
        country: checked.country.map(str::to_string),
        representative: checked.representative,
        acting: checked.acting,
        subject: checked.subject,
        form: serde_json::Value::Object(form),
        postal: checked.postal,
        prefers_post: checked.prefers_post,
        registered_number: checked.registered_number,
    })
}

/// Stores a new request with its first timeline entry (returned, so the caller can show the
/// request without reading it back).
pub fn file(
    conn: &mut DbConn,
    law: &Law,
    filing: &Filing,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<(RequestRow, EventRow), WorkflowError> {
    // Checked already when the filing came from `check_filing`; one built by hand
    // (`Filing::basic`) meets the same rules, and the profile is needed for the deadline.
    let profile = law.profile(&filing.profile).ok_or_else(|| {
        invalid(rules::unknown_profile(
            &filing.profile,
            &law.profile_names(),
        ))
    })?;
    let received_at = rules::received(filing.received_at, now).map_err(invalid)?;
    let received_on = deadline::received_on(received_at, law.time_zone);
    let due = deadline::compute_deadline(
        profile,
        &law.calendar,
        received_on,
        Period::default(),
        &Pauses::default(),
        received_on,
    );
    let uuid = uuid::Uuid::new_v4().to_string();
    let now_naive = now.naive_utc();
    let received_at = crate::clock::truncate(received_at).naive_utc();
    let form = filing.form.to_string();
    let subject = filing.subject.as_ref();
    write_tx(conn, |conn| {
        let open: Vec<&str> = Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        // Without an address there is nothing to match a duplicate on.
        let duplicate_of = match &filing.email {
            Some(email) => crate::store::portal::open_duplicate(
                conn,
                email.as_str(),
                filing.kind.as_str(),
                subject.as_ref().map(|s| {
                    (
                        s.email.as_ref().map(|e| e.as_str()),
                        s.customer_ref.as_deref(),
                    )
                }),
                &open,
            )?,
            None => None,
        };
        let row = rows::insert(
            conn,
            &NewRequest {
                uuid: &uuid,
                ref_year: chrono::Datelike::year(&received_on),
                kind: filing.kind.as_str(),
                status: filing.initial_status.as_str(),
                profile: &filing.profile,
                channel: filing.channel.as_str(),
                language: &filing.language,
                requester_name: &filing.name,
                // An empty address: none given, as after anonymisation.
                requester_email: filing.email.as_ref().map_or("", |e| e.as_str()),
                customer_ref: filing.customer_ref.as_deref(),
                details: &filing.details,
                received_at,
                received_on,
                due_on: due.due_on,
                created_by: actor,
                created_at: now_naive,
                country: filing.country.as_deref(),
                representative: filing.representative,
                subject_name: subject.map(|s| s.name.as_str()),
                subject_email: subject.and_then(|s| s.email.as_ref()).map(|e| e.as_str()),
                subject_customer_ref: subject.and_then(|s| s.customer_ref.as_deref()),
                acting: filing.acting.as_str(),
                subject_birth_date: subject.and_then(|s| s.birth_date),
                form: &form,
                duplicate_of,
            },
        )?;
        if let Some(contact) = filing.contact(row.id) {
            contacts::insert(conn, &contact)?;
        }
        let mut data = json!({ "channel": filing.channel.as_str(), "profile": filing.profile, "due_on": due.due_on, "duplicate_of": duplicate_of });
        if let Some(number) = &filing.registered_number {
            data["registered_number"] = json!(number);
        }
        let data = data.to_string();
        let received = rows::insert_event(
            conn,
            &NewEvent {
                request_id: row.id,
                kind: "received",
                at: received_at,
                recorded_at: now_naive,
                actor,
                from_status: None,
                to_status: Some(filing.initial_status.as_str()),
                note: None,
                data: &data,
            },
        )?;
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "request.filed",
            &json!({ "reference": reference(&row).to_string(), "kind": row.kind, "channel": row.channel, "profile": row.profile }),
            now_naive,
        )?;
        if filing.initial_status.is_open() {
            reminders::look_again(conn, row.id, law.today(now))?;
        }
        Ok((row, received))
    })
}

fn invalid(error: FieldError) -> WorkflowError {
    WorkflowError::invalid(error.field, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::domain::filing::{Attachment, Person};

    fn draft<'a>(country: Option<&'a str>, answers: &'a [(&'a str, &'a str); 1]) -> Draft<'a> {
        Draft {
            kind: "access",
            name: "Camille",
            email: "camille@example.fr",
            customer_ref: "",
            details: "",
            received_at: None,
            profile: None,
            channel: "web",
            language: "fr",
            person: country.map(|country| Person {
                country,
                acting: "self",
                mandate: Attachment::Absent,
                parental_proof: Attachment::Absent,
            }),
            answers: country.map(|_| answers as &dyn rules::Answers),
            subject: None,
            postal: Default::default(),
            contact: "",
            registered_number: "",
        }
    }

    /// The law of the default settings, and a fixed moment to file at.
    fn default_law_and_now() -> (Law, DateTime<Utc>) {
        let law = Settings::load_from(None, Vec::new())
            .unwrap()
            .law()
            .unwrap();
        (law, "2025-03-10T12:00:00Z".parse().unwrap())
    }

    #[test]
    fn the_profile_is_the_one_asked_for_else_the_countrys_else_the_default() {
        let (law, now) = default_law_and_now();
        let answers = [("access_scope", "all")];
        // (profile asked for, country, profile filed under)
        let cases = [
            (None, None, "two-months"),
            (Some("gdpr"), None, "gdpr"),
            (None, Some("FR"), "two-months"),
            (None, Some("CA-QC"), "quebec"),
            (None, Some("GB"), "uk-gdpr"),
            (None, Some("OTHER"), "two-months"),
            (Some("ccpa"), Some("GB"), "ccpa"),
        ];
        for (asked, country, expected) in cases {
            let draft = Draft {
                profile: asked,
                ..draft(country, &answers)
            };
            let filing = check_filing(&law, &draft, Status::New, now).unwrap();
            assert_eq!(filing.profile, expected, "{asked:?} {country:?}");
        }
    }

    #[test]
    fn the_kinds_answers_are_kept_as_a_json_object() {
        let (law, now) = default_law_and_now();
        let answers = [("access_scope", "all")];
        let portal = check_filing(&law, &draft(Some("BE"), &answers), Status::New, now).unwrap();
        assert_eq!(portal.form, json!({ "access_scope": "all" }));
        assert_eq!(portal.country.as_deref(), Some("BE"));
        assert_eq!(portal.initial_status, Status::New);
        let api = check_filing(&law, &draft(None, &answers), Status::Verifying, now).unwrap();
        assert_eq!(api.form, json!({}));
        assert_eq!((api.country, api.representative), (None, false));
        assert_eq!(api.initial_status, Status::Verifying);
    }
}
