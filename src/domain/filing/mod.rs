//! Filing a request, checked once for every channel: [`check`] turns what a person typed in
//! the portal, or what a system sent to the API, into [`Checked`] facts, or lists every field
//! that is wrong at once. Each error names its field and carries a [`Code`] with the values
//! needed to say it, so the API says it in English and the portal in the person's language.
//! What a request holds, per kind, is the table in [`schema`].

mod schema;

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;

use chrono::{DateTime, Months, NaiveDate, TimeDelta, Utc};

use crate::domain::email::{EmailAddress, InvalidEmail};
use crate::domain::kind::{Channel, RequestKind, UnknownValue, text_enum};
use crate::domain::text::{self, TextFault, TextKind};

pub use schema::*;

/// What was submitted, as it came: nothing here is trusted yet.
#[derive(Clone, Copy)]
pub struct Draft<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    /// Empty when none was given.
    pub customer_ref: &'a str,
    /// Empty when none were given.
    pub details: &'a str,
    /// When the request reached the organisation (RFC 3339); `None`: now.
    pub received_at: Option<&'a str>,
    /// The deadline profile asked for; `None` leaves it to the country, or to the default.
    pub profile: Option<&'a str>,
    pub channel: &'a str,
    pub language: &'a str,
    /// Who acts and from where ([`PERSON`]); `None` where the channel does not ask (the API).
    pub person: Option<Person<'a>>,
    /// The kind's own answers ([`own_fields`]); `None` where the channel does not ask them
    /// (the API files the request with its details only).
    pub answers: Option<&'a dyn Answers>,
    /// The person represented ([`SUBJECT`]), as sent. The portal always sends its group and
    /// it is read only when `acting` is `representative`; the API sends its `subject` object
    /// only when a representative files, so there its presence says so.
    pub subject: Option<SubjectDraft<'a>>,
    /// The postal address; all empty where none was given (or the channel does not ask).
    pub postal: PostalDraft<'a>,
    /// How the person wants to be answered ([`CONTACT_CHOICES`]); empty: email, or post when
    /// no email address is given.
    pub contact: &'a str,
    /// The registered letter the request came by; empty when none.
    pub registered_number: &'a str,
}

/// A postal address as typed; empty texts where nothing was given.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostalDraft<'a> {
    pub lines: &'a str,
    pub postcode: &'a str,
    pub city: &'a str,
    pub country: &'a str,
}

impl PostalDraft<'_> {
    fn is_empty(&self) -> bool {
        [self.lines, self.postcode, self.city, self.country]
            .iter()
            .all(|v| v.trim().is_empty())
    }
}

/// A postal address, checked: lines, postcode and city are there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub lines: String,
    pub postcode: String,
    pub city: String,
    pub country: Option<String>,
}

/// The person a representative (or a parent) acts for, as typed; empty texts where nothing
/// was given.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubjectDraft<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub customer_ref: &'a str,
    /// A child's date of birth; empty when none was given.
    pub birth_date: &'a str,
    /// How the filer acts for them, where the channel asks it here (the API's `subject`);
    /// empty: as a representative, or as `Person::acting` says on the portal.
    pub acting: &'a str,
}

/// The person a representative or a parent acts for, checked: the sources are searched for
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Represented {
    pub name: String,
    /// At least one of `email` and `customer_ref` is there.
    pub email: Option<EmailAddress>,
    pub customer_ref: Option<String>,
    /// A child's date of birth (a parent acts); `None` for a represented adult.
    pub birth_date: Option<NaiveDate>,
}

text_enum! {
    /// How the person filing stands to the person whose data it is.
    pub enum Acting (what = "way of acting", ignore_case = false) {
        /// The requester is the person.
        Myself => "self",
        /// An authorised representative, with a signed mandate.
        Representative => "representative",
        /// A holder of parental authority (parent or legal guardian) for a minor child.
        Parent => "parent",
    }
}

impl Acting {
    /// Whether someone acts for another person, whom the sources are searched for.
    pub fn for_another(self) -> bool {
        self != Acting::Myself
    }
}

/// The person filing, as the portal asks: where they live and for whom they act.
#[derive(Debug, Clone, Copy)]
pub struct Person<'a> {
    pub country: &'a str,
    pub acting: &'a str,
    pub mandate: Attachment,
    /// The proof of parental authority, when a parent acts.
    pub parental_proof: Attachment,
}

/// What came as an attached document. The caller looks at the bytes (see
/// `store::files::Sniffed`); the law only needs to know which case it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    Absent,
    /// Something that is not a PDF, a JPEG or a PNG image.
    NotADocument,
    Document,
}

/// Answers by field name; a field not answered reads as empty, as a form sends it.
pub trait Answers {
    fn get(&self, field: &str) -> &str;
}

impl<S: BuildHasher> Answers for HashMap<String, String, S> {
    fn get(&self, field: &str) -> &str {
        HashMap::get(self, field).map(String::as_str).unwrap_or("")
    }
}

impl<const N: usize> Answers for [(&str, &str); N] {
    fn get(&self, field: &str) -> &str {
        self.iter()
            .find(|(name, _)| *name == field)
            .map(|(_, value)| *value)
            .unwrap_or("")
    }
}

/// The answers as a request keeps them (its `form`): a choice or a text by its field; a box,
/// or anything else, reads as empty.
impl Answers for serde_json::Map<String, serde_json::Value> {
    fn get(&self, field: &str) -> &str {
        serde_json::Map::get(self, field)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    }
}

/// For the fields whose need depends on no other answer.
const NO_ANSWERS: [(&str, &str); 0] = [];

/// A filing that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub kind: RequestKind,
    pub name: String,
    /// `None` only when a postal address is given: the answers then go by post.
    pub email: Option<EmailAddress>,
    pub customer_ref: Option<String>,
    pub details: String,
    pub received_at: DateTime<Utc>,
    /// As asked for and known; `None` when none was asked for.
    pub profile: Option<String>,
    pub channel: Channel,
    pub language: &'static str,
    pub country: Option<&'static str>,
    pub representative: bool,
    /// How the requester acts ([`Acting::Representative`] exactly when `representative`).
    pub acting: Acting,
    /// Whom a representative or a parent acts for; `None` for a person acting for themselves.
    pub subject: Option<Represented>,
    /// The kind's own answers, in schema order; texts left empty are left out.
    pub answers: Vec<(&'static str, Answer)>,
    pub postal: Option<PostalAddress>,
    /// Every answer goes by letter: asked for, or no email address given.
    pub prefers_post: bool,
    pub registered_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Text(String),
    Choice(&'static str),
    Flag(bool),
}

/// One thing wrong with one field. A field has at most one error at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name in [`schema`], or `kind`, `received_at`, `profile`, `channel`.
    pub field: &'static str,
    pub code: Code,
}

/// Why a field is refused, with what it takes to say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// Empty where something is needed.
    Required,
    /// Empty, though needed because `other` is filled in.
    RequiredWith {
        other: &'static str,
    },
    /// Empty, though needed because the box `other` is not ticked.
    RequiredUnless {
        other: &'static str,
    },
    /// Empty, as is `or`, though one of the two is needed.
    RequiredEither {
        or: &'static str,
    },
    /// Longer than `max` characters once trimmed.
    TooLong {
        max: usize,
    },
    /// Not one of `allowed` (empty included).
    NotAllowed {
        allowed: &'static [&'static str],
    },
    /// Not a word of a closed vocabulary (kind, channel).
    Unknown(UnknownValue),
    Email(InvalidEmail),
    NotAnInstant {
        given: String,
    },
    /// Not a day written 2026-03-14 or 14/03/2026.
    NotADay {
        given: String,
    },
    /// A moment after now (beyond [`CLOCK_SKEW`]): a request cannot have reached the
    /// organisation yet.
    InFuture,
    /// A moment before `earliest` ([`EARLIEST_RECEIPT`]): a mistyped date.
    TooEarly {
        earliest: NaiveDate,
    },
    UnknownProfile {
        given: String,
        expected: Vec<String>,
    },
    /// An attachment that is not a PDF, a JPEG or a PNG image.
    NotADocument,
    /// A text that breaks the rule every typed text follows (see [`text`]).
    Text(TextFault),
    /// A child who has come of age (`age` years) on the day of filing: they act for themselves,
    /// or give a mandate.
    OfAge {
        age: u32,
    },
}

/// Checks a draft against the schema of its kind. `profiles` are the configured deadline
/// profiles; `now` is when the filing happens.
pub fn check(
    draft: &Draft<'_>,
    profiles: &[&str],
    now: DateTime<Utc>,
) -> Result<Checked, Vec<FieldError>> {
    let mut e = Errors::default();
    // In the order the API has always listed its errors.
    let kind = e.take(
        "kind",
        draft.kind.parse::<RequestKind>().map_err(Code::Unknown),
    );
    let name = e.text(&NAME, draft.name, &NO_ANSWERS);
    let postal = e.postal(&draft.postal);
    // Without an email address the answers go by post, so a postal address stands in for it;
    // but not on the portal, where the confirmation mail's link is what proves the filing.
    let email = if draft.email.trim().is_empty()
        && !draft.postal.is_empty()
        && draft.channel != Channel::Web.as_str()
    {
        Some(None)
    } else {
        e.take(
            "email",
            EmailAddress::parse(draft.email).map_err(Code::Email),
        )
        .map(Some)
    };
    let contact = e.choice(&CONTACT, draft.contact, &NO_ANSWERS);
    if contact == Some("post") && draft.postal.is_empty() {
        e.fail(ADDRESS_LINES.name, Code::RequiredWith { other: "contact" });
    }
    let registered_number = e.text(&REGISTERED_NUMBER, draft.registered_number, &NO_ANSWERS);
    let details = e.text(&DETAILS, draft.details, &NO_ANSWERS);
    let received_at = match draft.received_at {
        None => Some(now),
        Some(raw) => e
            .take("received_at", parse_instant(raw))
            .and_then(|at| received(at, now).map_err(|error| e.0.push(error)).ok()),
    };
    let profile = match draft.profile {
        Some(asked) if !profiles.contains(&asked) => {
            e.0.push(unknown_profile(asked, profiles));
            None
        }
        asked => asked,
    };
    let channel = e.take(
        "channel",
        draft.channel.parse::<Channel>().map_err(Code::Unknown),
    );
    let language = e.choice(&LANGUAGE, draft.language, &NO_ANSWERS);
    let customer_ref = e.text(&CUSTOMER_REF, draft.customer_ref, &NO_ANSWERS);
    // After a death the filer always acts for someone else, the deceased, whom the sources
    // are searched for: the death certificate and the proof of capacity stand for a mandate.
    let for_the_dead = kind == Some(RequestKind::Heir);
    // Post-mortem directives are the person's own (art. 85): no one files them for another.
    let own_only = kind == Some(RequestKind::Directives);
    let (country, acting) = match &draft.person {
        Some(person) if for_the_dead => (
            e.choice(&COUNTRY, person.country, &NO_ANSWERS),
            Some("representative"),
        ),
        Some(person) if own_only => (e.choice(&COUNTRY, person.country, &NO_ANSWERS), None),
        Some(person) => e.person(person),
        None if for_the_dead => (None, Some("representative")),
        None if own_only => (None, None),
        // The API asks no `acting`: its `subject` object says someone acts for another, and
        // how (a representative unless it says a parent).
        None => (
            None,
            draft.subject.and_then(|s| match s.acting {
                "" => Some("representative"),
                given => e.choice(&SUBJECT_ACTING, given, &NO_ANSWERS),
            }),
        ),
    };
    let acting = match acting {
        Some("representative") => Acting::Representative,
        Some("parent") => Acting::Parent,
        _ => Acting::Myself,
    };
    let representative = acting == Acting::Representative;
    // What a person acting for themselves left in the group is not theirs to give: ignored.
    let subject = if acting.for_another() {
        let day = received_at.unwrap_or(now).date_naive();
        e.subject(&draft.subject.unwrap_or_default(), acting, day)
    } else {
        None
    };
    let answers = match (kind, draft.answers) {
        (Some(kind), Some(given)) => e.answers(own_fields(kind), given, now),
        _ => Vec::new(),
    };
    match (kind, email, received_at, channel, language) {
        (Some(kind), Some(email), Some(received_at), Some(channel), Some(language))
            if e.0.is_empty() =>
        {
            Ok(Checked {
                kind,
                name: name.unwrap_or_default(),
                prefers_post: contact == Some("post") || email.is_none(),
                email,
                customer_ref,
                details: details.unwrap_or_default(),
                received_at,
                profile: profile.map(str::to_string),
                channel,
                language,
                country,
                representative,
                acting,
                subject,
                answers,
                postal,
                registered_number,
            })
        }
        // Every `None` above pushed its error.
        _ => Err(e.0),
    }
}

/// The day the GDPR became applicable (art. 99(2)): no request under it was received
/// before. An earlier date is a typo (2015 for 2025, 0025 for 2025), and a deadline computed
/// from it would have passed years ago. A letter received last week, or last year, is fine.
pub const EARLIEST_RECEIPT: NaiveDate = match NaiveDate::from_ymd_opt(2018, 5, 25) {
    Some(day) => day,
    None => NaiveDate::MIN,
};

/// How far ahead of ours the clock of a system that files may run.
pub const CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// When a request was received, checked: not before [`EARLIEST_RECEIPT`] (in UTC), not
/// after `now`. A moment up to [`CLOCK_SKEW`] ahead is taken as `now`: the sender's clock
/// runs a little fast, and the request is no less received.
pub fn received(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    let refuse = |code| FieldError {
        field: "received_at",
        code,
    };
    if at.date_naive() < EARLIEST_RECEIPT {
        return Err(refuse(Code::TooEarly {
            earliest: EARLIEST_RECEIPT,
        }));
    }
    if at > now + CLOCK_SKEW {
        return Err(refuse(Code::InFuture));
    }
    Ok(at.min(now))
}

/// `given` is not among the configured `profiles`.
pub fn unknown_profile(given: &str, profiles: &[&str]) -> FieldError {
    FieldError {
        field: "profile",
        code: Code::UnknownProfile {
            given: given.to_string(),
            expected: profiles.iter().map(|p| p.to_string()).collect(),
        },
    }
}

/// A day written 2026-03-14 (as a date field sends it) or 14/03/2026 (as people write it),
/// not after `now`'s day: a death to come is a typo.
pub fn past_day(raw: &str, now: DateTime<Utc>) -> Result<NaiveDate, Code> {
    let day = parse_day(raw).ok_or_else(|| Code::NotADay {
        given: raw.trim().to_string(),
    })?;
    // A day ahead of UTC's is today somewhere: only what is later everywhere is refused.
    if day > (now + TimeDelta::days(1)).date_naive() {
        return Err(Code::InFuture);
    }
    Ok(day)
}

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, Code> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Code::NotAnInstant {
            given: raw.to_string(),
        })
}

/// Which text rule a field follows: the names of people need a letter, one-line fields no
/// line breaks.
fn text_kind(spec: &FieldSpec) -> TextKind {
    match spec.shape {
        _ if spec.name == NAME.name || spec.name == SUBJECT_NAME.name => TextKind::Name,
        Shape::Date => TextKind::Line,
        Shape::Text { max } if max > MAX_LINE => TextKind::Long,
        _ => TextKind::Line,
    }
}

/// Whether an empty field is wrong, given the other answers; with which code.
fn missing(need: Need, others: &dyn Answers) -> Option<Code> {
    match need {
        Need::Required => Some(Code::Required),
        Need::Optional => None,
        Need::When { field, is } => (others.get(field) == is).then_some(Code::Required),
        Need::With(other) => {
            (!others.get(other).trim().is_empty()).then_some(Code::RequiredWith { other })
        }
        Need::Unless(other) => others
            .get(other)
            .is_empty()
            .then_some(Code::RequiredUnless { other }),
        Need::EitherWhen { field, is, or } => (others.get(field) == is
            && others.get(or).trim().is_empty())
        .then_some(Code::RequiredEither { or }),
        Need::WhenNot { field, is } => (others.get(field) != is).then_some(Code::Required),
    }
}

/// Collects every error, so one answer lists all there is to fix.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn fail(&mut self, field: &'static str, code: Code) {
        self.0.push(FieldError { field, code });
    }

    fn take<T>(&mut self, field: &'static str, parsed: Result<T, Code>) -> Option<T> {
        parsed.map_err(|code| self.fail(field, code)).ok()
    }

    /// A trimmed text; `None` when empty (or wrong).
    fn text(&mut self, spec: &FieldSpec, raw: &str, others: &dyn Answers) -> Option<String> {
        let value = raw.trim();
        let max = match spec.shape {
            Shape::Text { max } => max,
            _ => usize::MAX,
        };
        if value.chars().count() > max {
            self.fail(spec.name, Code::TooLong { max });
            None
        } else if value.is_empty() {
            if let Some(code) = missing(spec.need, others) {
                self.fail(spec.name, code);
            }
            None
        } else if let Err(fault) = text::check(value, text_kind(spec)) {
            self.fail(spec.name, Code::Text(fault));
            None
        } else {
            Some(value.to_string())
        }
    }

    fn choice(
        &mut self,
        spec: &FieldSpec,
        raw: &str,
        others: &dyn Answers,
    ) -> Option<&'static str> {
        let Shape::Choice(allowed) = spec.shape else {
            return None;
        };
        match allowed.iter().find(|value| **value == raw) {
            Some(value) => Some(value),
            None if raw.is_empty() && missing(spec.need, others).is_none() => None,
            None => {
                self.fail(spec.name, Code::NotAllowed { allowed });
                None
            }
        }
    }

    /// Where the person lives and for whom they act (`None` when that is not a choice given).
    fn person(&mut self, person: &Person<'_>) -> (Option<&'static str>, Option<&'static str>) {
        let country = self.choice(&COUNTRY, person.country, &NO_ANSWERS);
        let acting = self.choice(&ACTING, person.acting, &NO_ANSWERS);
        match person.mandate {
            Attachment::NotADocument => self.fail(MANDATE.name, Code::NotADocument),
            Attachment::Absent => {
                if let Some(code) = missing(MANDATE.need, &[(ACTING.name, acting.unwrap_or(""))]) {
                    self.fail(MANDATE.name, code);
                }
            }
            Attachment::Document => {}
        }
        match person.parental_proof {
            Attachment::NotADocument => self.fail(PARENTAL_PROOF.name, Code::NotADocument),
            Attachment::Absent => {
                if let Some(code) =
                    missing(PARENTAL_PROOF.need, &[(ACTING.name, acting.unwrap_or(""))])
                {
                    self.fail(PARENTAL_PROOF.name, code);
                }
            }
            Attachment::Document => {}
        }
        (country, acting)
    }

    /// A postal address: nothing, or its lines, postcode and city (the country may be left out).
    fn postal(&mut self, raw: &PostalDraft<'_>) -> Option<PostalAddress> {
        if raw.is_empty() {
            return None;
        }
        // Once one part is given, the others needed are asked for by name.
        let given = [(ADDRESS_LINES.name, "given")];
        let mut part = |spec: &FieldSpec, value: &str| {
            let text = self.text(spec, value, &given);
            if text.is_none() && value.trim().is_empty() && spec.name != POSTAL_COUNTRY.name {
                self.fail(spec.name, Code::Required);
            }
            text
        };
        let lines = part(&ADDRESS_LINES, raw.lines);
        let postcode = part(&POSTCODE, raw.postcode);
        let city = part(&CITY, raw.city);
        let country = part(&POSTAL_COUNTRY, raw.country);
        Some(PostalAddress {
            lines: lines?,
            postcode: postcode?,
            city: city?,
            country,
        })
    }

    /// The person a representative or a parent acts for: a name, and an address or a
    /// customer reference; a child's date of birth, before their majority on `day` (the day
    /// of filing).
    fn subject(
        &mut self,
        raw: &SubjectDraft<'_>,
        acting: Acting,
        day: NaiveDate,
    ) -> Option<Represented> {
        // A child is found in the sources as a represented person is: the schema's needs for
        // the representative's case are the parent's too.
        let others = [
            (ACTING.name, "representative"),
            (SUBJECT_CUSTOMER_REF.name, raw.customer_ref),
        ];
        let birth_date = match acting {
            Acting::Parent => Some(self.birth_date(raw.birth_date, day)),
            _ => None,
        };
        let name = self.text(&SUBJECT_NAME, raw.name, &others);
        let email = if raw.email.trim().is_empty() {
            if let Some(code) = missing(SUBJECT_EMAIL.need, &others) {
                self.fail(SUBJECT_EMAIL.name, code);
            }
            None
        } else {
            self.take(
                SUBJECT_EMAIL.name,
                EmailAddress::parse(raw.email).map_err(Code::Email),
            )
        };
        let customer_ref = self.text(&SUBJECT_CUSTOMER_REF, raw.customer_ref, &others);
        Some(Represented {
            name: name?,
            email,
            customer_ref,
            // A parent's child without a valid date of birth is refused above.
            birth_date: match birth_date {
                Some(born) => Some(born?),
                None => None,
            },
        })
    }

    /// A child's date of birth: a day, not after `day`, and less than [`AGE_OF_MAJORITY`]
    /// years before it.
    fn birth_date(&mut self, raw: &str, day: NaiveDate) -> Option<NaiveDate> {
        let raw = raw.trim();
        if raw.is_empty() {
            self.fail(SUBJECT_BIRTH_DATE.name, Code::Required);
            return None;
        }
        let Some(born) = parse_day(raw) else {
            let given = raw.to_string();
            self.fail(SUBJECT_BIRTH_DATE.name, Code::NotADay { given });
            return None;
        };
        if born > day {
            self.fail(SUBJECT_BIRTH_DATE.name, Code::InFuture);
            return None;
        }
        let age = age_on(born, day);
        if age >= AGE_OF_MAJORITY {
            self.fail(SUBJECT_BIRTH_DATE.name, Code::OfAge { age });
            return None;
        }
        Some(born)
    }

    /// A kind's own answers: its fields are texts, choices and boxes.
    fn answers(
        &mut self,
        fields: &[FieldSpec],
        given: &dyn Answers,
        now: DateTime<Utc>,
    ) -> Vec<(&'static str, Answer)> {
        let mut answers = Vec::new();
        for spec in fields {
            let raw = given.get(spec.name);
            let answer = match spec.shape {
                Shape::Choice(_) => self.choice(spec, raw, given).map(Answer::Choice),
                Shape::Flag => Some(Answer::Flag(!raw.is_empty())),
                Shape::Text { .. } => self.text(spec, raw, given).map(Answer::Text),
                Shape::Email if raw.trim().is_empty() => {
                    if let Some(code) = missing(spec.need, given) {
                        self.fail(spec.name, code);
                    }
                    None
                }
                Shape::Email => self
                    .take(spec.name, EmailAddress::parse(raw).map_err(Code::Email))
                    .map(|email| Answer::Text(email.as_str().to_string())),
                // The file is the caller's to keep: the answers only say it came.
                Shape::Document => {
                    match raw {
                        ATTACHED => {}
                        NOT_A_DOCUMENT => self.fail(spec.name, Code::NotADocument),
                        _ => {
                            if let Some(code) = missing(spec.need, given) {
                                self.fail(spec.name, code);
                            }
                        }
                    }
                    None
                }
                Shape::Date if raw.trim().is_empty() => {
                    if let Some(code) = missing(spec.need, given) {
                        self.fail(spec.name, code);
                    }
                    None
                }
                Shape::Date => self
                    .take(spec.name, past_day(raw, now))
                    .map(|day| Answer::Text(day.to_string())),
            };
            if let Some(answer) = answer {
                answers.push((spec.name, answer));
            }
        }
        answers
    }
}

impl fmt::Display for FieldError {
    /// In English, as the API says it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.field, &self.code) {
            ("name", Code::Required) => f.write_str("the requester's name is required"),
            ("name", Code::TooLong { max }) => {
                write!(f, "the name is longer than {max} characters")
            }
            ("customer_ref", Code::TooLong { max }) => {
                write!(f, "the customer reference is longer than {max} characters")
            }
            ("subject_name", Code::Required) => {
                f.write_str("the name of the person represented is required")
            }
            ("subject_name", Code::TooLong { max }) => write!(
                f,
                "the name of the person represented is longer than {max} characters"
            ),
            ("subject_email", Code::RequiredEither { .. }) => f.write_str(
                "the email address or the customer reference of the person represented is required: the data sources find them by one of these",
            ),
            ("subject_birth_date", Code::Required) => {
                f.write_str("the child's date of birth is required when a parent acts for them")
            }
            ("subject_birth_date", Code::OfAge { age }) => write!(
                f,
                "the child is {age} on the day of filing, of age: they act for themselves, or give a mandate to a representative"
            ),
            ("subject_birth_date", Code::InFuture) => {
                f.write_str("the child's date of birth is in the future")
            }
            ("parental_proof", Code::Required) => f.write_str(
                "a proof of parental authority (livret de famille, birth certificate or judgment) is required",
            ),
            ("subject_customer_ref", Code::TooLong { max }) => write!(
                f,
                "the customer reference of the person represented is longer than {max} characters"
            ),
            ("details", Code::TooLong { max }) => {
                write!(f, "details are longer than {max} characters")
            }
            ("address_lines", Code::RequiredWith { .. }) => {
                f.write_str("the postal address is required when the answers go by post")
            }
            ("received_at", Code::InFuture) => f.write_str(
                "received_at is in the future; give the moment the request reached the organisation",
            ),
            ("received_at", Code::TooEarly { earliest }) => write!(
                f,
                "received_at is before {earliest}, when the GDPR became applicable; check the year"
            ),
            ("language", Code::NotAllowed { allowed }) => {
                write!(f, "language must be {}", quoted_alternatives(allowed))
            }
            (field, Code::Required) => write!(f, "{field} is required"),
            (field, Code::RequiredWith { other }) => {
                write!(f, "{field} is required when {other} is given")
            }
            (field, Code::RequiredUnless { other }) => {
                write!(f, "{field} is required unless {other} is ticked")
            }
            (field, Code::RequiredEither { or }) => write!(f, "{field} or {or} is required"),
            (field, Code::TooLong { max }) => {
                write!(f, "{field} is longer than {max} characters")
            }
            (field, Code::NotAllowed { allowed }) => {
                write!(f, "{field} must be one of: {}", allowed.join(", "))
            }
            (_, Code::Unknown(error)) => write!(f, "{error}"),
            (_, Code::Email(error)) => write!(f, "{error}"),
            (_, Code::NotAnInstant { given }) => write!(
                f,
                "\"{given}\" is not an RFC 3339 date-time such as 2025-01-31T10:00:00Z"
            ),
            ("heir_date_of_death", Code::InFuture) => {
                f.write_str("the date of death is in the future")
            }
            (field, Code::InFuture) => write!(f, "{field} is in the future"),
            (field, Code::NotADay { given }) => write!(
                f,
                "{field}: \"{given}\" is not a day written 2026-03-14 or 14/03/2026"
            ),
            (field, Code::TooEarly { earliest }) => write!(f, "{field} is before {earliest}"),
            (_, Code::UnknownProfile { given, expected }) => write!(
                f,
                "unknown profile \"{given}\"; expected one of: {}",
                expected.join(", ")
            ),
            (field, Code::NotADocument) => {
                write!(f, "{field} must be a PDF, a JPEG or a PNG image")
            }
            (field, Code::Text(fault)) => write!(f, "{field} {fault}"),
            (field, Code::OfAge { age }) => write!(f, "{field}: {age} years, of age"),
        }
    }
}

/// A day as a date input sends it (`2014-03-09`) or as a French person types it
/// (`09/03/2014`).
pub fn parse_day(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
}

/// Full years of age on `day` of a person born on `born` (one born on 29 February has a
/// birthday on 28 February in other years).
pub fn age_on(born: NaiveDate, day: NaiveDate) -> u32 {
    (0..=200u32)
        .take_while(|years| {
            born.checked_add_months(Months::new(years * 12))
                .is_some_and(|birthday| birthday <= day)
        })
        .last()
        .unwrap_or(0)
}

/// `"fr" or "en"`; `"a", "b" or "c"`.
fn quoted_alternatives(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

#[cfg(test)]
mod tests;
