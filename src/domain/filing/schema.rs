//! The fields of a request, per kind: who the requester is (asked on every channel), who acts
//! and from where (asked by the portal), each kind's own questions, and the free-text details.
//! One table, so the API, the portal's form and its checks cannot drift apart.

use crate::domain::kind::RequestKind;

/// A name or a reference: one line.
pub const MAX_LINE: usize = 200;
/// What a person writes in their own words: the details, and each kind's own answers.
pub const MAX_TEXT: usize = 20_000;

/// Where the person lives, as the portal offers it. The configuration maps a country to a
/// deadline profile (`deadlines.countries`); one it does not map gets the default profile.
pub const COUNTRIES: [&str; 14] = [
    "FR", "BE", "LU", "DE", "ES", "IT", "NL", "CH", "GB", "CA", "CA-QC", "US-CA", "BR", "OTHER",
];
/// The languages a requester is written to in.
pub const LANGUAGES: [&str; 2] = ["fr", "en"];
/// For oneself, for someone else as an authorised representative (who sends a mandate), or
/// for one's minor child as a holder of parental authority (who sends a proof of it).
pub const ACTING_AS: [&str; 3] = ["self", "representative", "parent"];
/// How the API's `subject` object says the filer acts for that person.
pub const ACTING_FOR_ANOTHER: [&str; 2] = ["representative", "parent"];
/// From this age a person acts for themselves (or gives a mandate): a parent no longer acts
/// for them (Code civil art. 388 and 414).
pub const AGE_OF_MAJORITY: u32 = 18;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Free text, trimmed, at most `max` characters once trimmed.
    Text { max: usize },
    /// An email address (see [`EmailAddress`](crate::domain::email::EmailAddress)).
    Email,
    /// One of a closed list of values, given exactly.
    Choice(&'static [&'static str]),
    /// A tick box: ticked when anything at all is sent.
    Flag,
    /// An attached document: a PDF, a JPEG or a PNG image. Among a kind's own answers, the
    /// caller says what came as [`ATTACHED`] or [`NOT_A_DOCUMENT`], nothing when none did.
    Document,
    /// A day in the past or today, as a date field sends it (2026-03-14) or as people write
    /// it (14/03/2026).
    Date,
}

/// What a kind's own document field reads when a PDF, a JPEG or a PNG image came with it.
pub const ATTACHED: &str = "attached";
/// What it reads when something else came.
pub const NOT_A_DOCUMENT: &str = "not_a_document";

/// Whether a field must be filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
    /// Required when the choice `field` is `is`: "only some data" asks which.
    When {
        field: &'static str,
        is: &'static str,
    },
    /// Required once `field` is filled in: an objection to a processing says why
    /// (GDPR art. 21(1)).
    With(&'static str),
    /// Required unless the box `field` is ticked: objecting to direct marketing needs
    /// nothing more (GDPR art. 21(3)).
    Unless(&'static str),
    /// When the choice `field` is `is`, this field or `or` must be filled in (either will
    /// do): a represented person is found in the sources by their address or their customer
    /// reference, so one of the two is needed.
    EitherWhen {
        field: &'static str,
        is: &'static str,
        or: &'static str,
    },
    /// Required unless the choice `field` is `is`: withdrawn directives need no content.
    WhenNot {
        field: &'static str,
        is: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub shape: Shape,
    pub need: Need,
}

impl FieldSpec {
    /// Required whatever else is answered (the form marks it so).
    pub fn is_required(&self) -> bool {
        self.need == Need::Required
    }

    /// The longest text taken, in characters; `usize::MAX` for what is not a text.
    pub const fn max(&self) -> usize {
        match self.shape {
            Shape::Text { max } => max,
            _ => usize::MAX,
        }
    }
}

const fn spec(name: &'static str, shape: Shape, need: Need) -> FieldSpec {
    FieldSpec { name, shape, need }
}

const fn text(name: &'static str, need: Need) -> FieldSpec {
    spec(name, Shape::Text { max: MAX_TEXT }, need)
}

const fn choice(name: &'static str, values: &'static [&'static str]) -> FieldSpec {
    spec(name, Shape::Choice(values), Need::Required)
}

pub const NAME: FieldSpec = spec("name", Shape::Text { max: MAX_LINE }, Need::Required);
pub const EMAIL: FieldSpec = spec("email", Shape::Email, Need::Required);
pub const CUSTOMER_REF: FieldSpec = spec(
    "customer_ref",
    Shape::Text { max: MAX_LINE },
    Need::Optional,
);
pub const COUNTRY: FieldSpec = choice("country", &COUNTRIES);
pub const ACTING: FieldSpec = choice("acting", &ACTING_AS);
pub const MANDATE: FieldSpec = spec(
    "mandate",
    Shape::Document,
    Need::When {
        field: "acting",
        is: "representative",
    },
);
/// What shows the parent holds parental authority: a livret de famille, a birth certificate
/// naming them, or a judgment.
pub const PARENTAL_PROOF: FieldSpec = spec(
    "parental_proof",
    Shape::Document,
    Need::When {
        field: "acting",
        is: "parent",
    },
);
pub const DETAILS: FieldSpec = text("details", Need::Optional);
/// The language of the replies; the portal takes the page's, the API's caller names one.
pub const LANGUAGE: FieldSpec = choice("language", &LANGUAGES);

/// The person a representative acts for: who the data sources are searched for (the
/// representative is who is written to). Asked when `acting` is `representative`; the API
/// sends them as its `subject` object. The rule: their name is required, and at least one of
/// their email address or customer reference, since the sources match on one of those.
pub const SUBJECT_NAME: FieldSpec = spec(
    "subject_name",
    Shape::Text { max: MAX_LINE },
    Need::When {
        field: "acting",
        is: "representative",
    },
);
pub const SUBJECT_EMAIL: FieldSpec = spec(
    "subject_email",
    Shape::Email,
    Need::EitherWhen {
        field: "acting",
        is: "representative",
        or: "subject_customer_ref",
    },
);
pub const SUBJECT_CUSTOMER_REF: FieldSpec = spec(
    "subject_customer_ref",
    Shape::Text { max: MAX_LINE },
    Need::Optional,
);
/// The child's date of birth, when a parent acts: a child who has come of age on the day of
/// filing is refused (see [`AGE_OF_MAJORITY`]).
pub const SUBJECT_BIRTH_DATE: FieldSpec = spec(
    "subject_birth_date",
    Shape::Date,
    Need::When {
        field: "acting",
        is: "parent",
    },
);
/// How the API's filer acts for the person in its `subject` object; a representative when
/// absent.
pub const SUBJECT_ACTING: FieldSpec = spec(
    "subject_acting",
    Shape::Choice(&ACTING_FOR_ANOTHER),
    Need::Optional,
);

/// How the person wants to be answered: by email as usual, or by post (every later message
/// becomes a letter the team prints and sends). Left empty, email when there is an address.
pub const CONTACT_CHOICES: [&str; 2] = ["email", "post"];
pub const CONTACT: FieldSpec = spec("contact", Shape::Choice(&CONTACT_CHOICES), Need::Optional);
/// The postal address, as a window envelope shows it. Needed when the answer goes by post (the
/// person chose it, or gave no email address); once one part is given, the lines, postcode
/// and city are all needed.
pub const ADDRESS_LINES: FieldSpec = spec(
    "address_lines",
    Shape::Text {
        max: MAX_ADDRESS_LINES,
    },
    Need::Optional,
);
pub const POSTCODE: FieldSpec = spec("postcode", Shape::Text { max: 20 }, Need::Optional);
pub const CITY: FieldSpec = spec("city", Shape::Text { max: 100 }, Need::Optional);
pub const POSTAL_COUNTRY: FieldSpec =
    spec("postal_country", Shape::Text { max: 100 }, Need::Optional);
/// The number of the registered letter the request came by (« recommandé n° … »).
pub const REGISTERED_NUMBER: FieldSpec =
    spec("registered_number", Shape::Text { max: 40 }, Need::Optional);
/// Up to a few lines (a name of building, a street, a locality): over [`MAX_LINE`], so they
/// may hold line breaks.
pub const MAX_ADDRESS_LINES: usize = 300;

/// Who the requester is: asked on every channel.
pub const REQUESTER: [FieldSpec; 3] = [NAME, EMAIL, CUSTOMER_REF];
/// Who acts and from where: asked by the portal. A system filing through the API speaks for
/// the organisation, which knows its own customers.
pub const PERSON: [FieldSpec; 4] = [COUNTRY, ACTING, MANDATE, PARENTAL_PROOF];
/// The person represented, or the child a parent acts for (see [`SUBJECT_NAME`]).
pub const SUBJECT: [FieldSpec; 4] = [
    SUBJECT_NAME,
    SUBJECT_EMAIL,
    SUBJECT_CUSTOMER_REF,
    SUBJECT_BIRTH_DATE,
];

const ACCESS: [FieldSpec; 2] = [
    choice("access_scope", &["all", "specific"]),
    text(
        "access_specifics",
        Need::When {
            field: "access_scope",
            is: "specific",
        },
    ),
];
const RECTIFICATION: [FieldSpec; 2] = [
    text("rectification_wrong", Need::Required),
    text("rectification_correct", Need::Required),
];
const ERASURE: [FieldSpec; 3] = [
    choice("erasure_scope", &["all", "part"]),
    text(
        "erasure_part",
        Need::When {
            field: "erasure_scope",
            is: "part",
        },
    ),
    text("erasure_reason", Need::Optional),
];
/// The four cases of GDPR art. 18(1), (a) to (d).
const RESTRICTION: [FieldSpec; 2] = [
    choice(
        "restriction_ground",
        &["accuracy", "unlawful", "legal_claims", "objection_pending"],
    ),
    text("restriction_explanation", Need::Optional),
];
const PORTABILITY: [FieldSpec; 4] = [
    text("portability_data", Need::Required),
    choice("portability_destination", &["me", "controller"]),
    text(
        "portability_controller",
        Need::When {
            field: "portability_destination",
            is: "controller",
        },
    ),
    // Where the other organisation receives the download link (GDPR art. 20(2)).
    spec(
        "portability_controller_email",
        Shape::Email,
        Need::When {
            field: "portability_destination",
            is: "controller",
        },
    ),
];
const OBJECTION: [FieldSpec; 3] = [
    spec("objection_direct_marketing", Shape::Flag, Need::Optional),
    text(
        "objection_processing",
        Need::Unless("objection_direct_marketing"),
    ),
    text("objection_reason", Need::With("objection_processing")),
];
const CONSENT_WITHDRAWAL: [FieldSpec; 1] = [text("consent_withdrawal_consent", Need::Required)];

/// What a person does with their post-mortem directives (art. 85 loi Informatique et
/// Libertés): records them, replaces them, or withdraws them.
pub const DIRECTIVES_ACTIONS: [&str; 3] = ["record", "change", "withdraw"];
/// General directives cover all their data; specific ones, the processing of this
/// organisation only (art. 85, I).
pub const DIRECTIVES_TYPES: [&str; 2] = ["general", "specific"];
/// What should become of their data: kept, erased, or communicated to someone.
pub const DIRECTIVES_FATES: [&str; 3] = ["keep", "erase", "communicate"];
const UNLESS_WITHDRAWN: Need = Need::WhenNot {
    field: "directives_action",
    is: "withdraw",
};
const DIRECTIVES: [FieldSpec; 6] = [
    choice("directives_action", &DIRECTIVES_ACTIONS),
    spec(
        "directives_type",
        Shape::Choice(&DIRECTIVES_TYPES),
        UNLESS_WITHDRAWN,
    ),
    spec(
        "directives_fate",
        Shape::Choice(&DIRECTIVES_FATES),
        UNLESS_WITHDRAWN,
    ),
    text("directives_instructions", UNLESS_WITHDRAWN),
    spec(
        "directives_designee_name",
        Shape::Text { max: MAX_LINE },
        Need::Optional,
    ),
    spec("directives_designee_email", Shape::Email, Need::Optional),
];

/// Who asks after a death: the person the directives designate, or an heir.
pub const HEIR_CAPACITIES: [&str; 2] = ["designated", "heir"];
/// What they ask: that the directives be carried out; or, where there are none, what art. 85
/// (II) allows heirs: the data needed to settle the estate, closing the person's accounts, or
/// recording the death and updating the data.
pub const HEIR_ASKS: [&str; 4] = ["directives", "estate", "close", "update"];
/// The deceased person is the `subject_*` group (see [`SUBJECT`]): whom the sources are
/// searched for, as for a represented person; the filer is who is answered.
const HEIR: [FieldSpec; 6] = [
    choice("heir_capacity", &HEIR_CAPACITIES),
    spec("heir_date_of_death", Shape::Date, Need::Required),
    spec("heir_death_certificate", Shape::Document, Need::Required),
    spec("heir_capacity_proof", Shape::Document, Need::Required),
    choice("heir_request", &HEIR_ASKS),
    text(
        "heir_update",
        Need::When {
            field: "heir_request",
            is: "update",
        },
    ),
];

/// The questions a kind asks besides who the requester is and the details, in the order the
/// form shows them.
pub fn own_fields(kind: RequestKind) -> &'static [FieldSpec] {
    match kind {
        RequestKind::Access => &ACCESS,
        RequestKind::Rectification => &RECTIFICATION,
        RequestKind::Erasure => &ERASURE,
        RequestKind::Restriction => &RESTRICTION,
        RequestKind::Portability => &PORTABILITY,
        RequestKind::Objection => &OBJECTION,
        RequestKind::ConsentWithdrawal => &CONSENT_WITHDRAWAL,
        RequestKind::Directives => &DIRECTIVES,
        RequestKind::Heir => &HEIR,
    }
}
