use super::*;

const PROFILES: [&str; 3] = ["gdpr", "two-months", "uk-gdpr"];

/// What a check says: each field in error with its code.
type Said = Vec<(&'static str, Code)>;
/// Answers to a kind's own questions, by field name.
type Given<'a> = Vec<(&'a str, &'a str)>;

fn now() -> DateTime<Utc> {
    "2025-03-10T12:00:00Z".parse().unwrap()
}

/// A draft that passes, as the API sends one: no person, no answers.
fn api_draft() -> Draft<'static> {
    Draft {
        kind: "access",
        name: "Camille Martin",
        email: "camille@example.fr",
        customer_ref: "",
        details: "",
        received_at: None,
        profile: None,
        channel: "api",
        language: "fr",
        person: None,
        answers: None,
        subject: None,
        postal: PostalDraft::default(),
        contact: "",
        registered_number: "",
    }
}

/// The same, as the portal sends one: a person acting for themselves.
fn portal_draft(kind: RequestKind, answers: &dyn Answers) -> Draft<'_> {
    Draft {
        kind: kind.as_str(),
        channel: "web",
        person: Some(Person {
            country: "FR",
            acting: "self",
            mandate: Attachment::Absent,
            parental_proof: Attachment::Absent,
        }),
        answers: Some(answers),
        // The portal always sends the group about the person represented, empty or not.
        subject: Some(SubjectDraft::default()),
        ..api_draft()
    }
}

/// A person represented, as typed.
fn paul<'a>(name: &'a str, email: &'a str, customer_ref: &'a str) -> Option<SubjectDraft<'a>> {
    Some(SubjectDraft {
        name,
        email,
        customer_ref,
        ..Default::default()
    })
}

fn errors(draft: &Draft<'_>) -> Said {
    match check(draft, &PROFILES, now()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
    }
}

fn long(n: usize) -> String {
    // Multi-byte on purpose: limits count characters, not bytes.
    "é".repeat(n)
}

#[test]
fn each_kind_asks_its_own_questions() {
    // (kind, [(field, required whatever else is answered)])
    let expected: [(RequestKind, &[(&str, bool)]); 9] = [
        (
            RequestKind::Access,
            &[("access_scope", true), ("access_specifics", false)],
        ),
        (
            RequestKind::Rectification,
            &[
                ("rectification_wrong", true),
                ("rectification_correct", true),
            ],
        ),
        (
            RequestKind::Erasure,
            &[
                ("erasure_scope", true),
                ("erasure_part", false),
                ("erasure_reason", false),
            ],
        ),
        (
            RequestKind::Restriction,
            &[
                ("restriction_ground", true),
                ("restriction_explanation", false),
            ],
        ),
        (
            RequestKind::Portability,
            &[
                ("portability_data", true),
                ("portability_destination", true),
                ("portability_controller", false),
                ("portability_controller_email", false),
            ],
        ),
        (
            RequestKind::Objection,
            &[
                ("objection_direct_marketing", false),
                ("objection_processing", false),
                ("objection_reason", false),
            ],
        ),
        (
            RequestKind::ConsentWithdrawal,
            &[("consent_withdrawal_consent", true)],
        ),
        (
            RequestKind::Directives,
            &[
                ("directives_action", true),
                ("directives_type", false),
                ("directives_fate", false),
                ("directives_instructions", false),
                ("directives_designee_name", false),
                ("directives_designee_email", false),
            ],
        ),
        (
            RequestKind::Heir,
            &[
                ("heir_capacity", true),
                ("heir_date_of_death", true),
                ("heir_death_certificate", true),
                ("heir_capacity_proof", true),
                ("heir_request", true),
                ("heir_update", false),
            ],
        ),
    ];
    for (kind, fields) in expected {
        let got: Vec<(&str, bool)> = own_fields(kind)
            .iter()
            .map(|f| (f.name, f.is_required()))
            .collect();
        assert_eq!(got, fields, "{kind}");
    }
}

#[test]
fn own_fields_are_texts_choices_and_boxes_and_texts_take_twenty_thousand_characters() {
    for kind in RequestKind::ALL {
        for field in own_fields(kind) {
            match field.shape {
                // The name of the person the directives designate is a line, as names are.
                Shape::Text { max } if field.name == "directives_designee_name" => {
                    assert_eq!(max, MAX_LINE)
                }
                Shape::Text { max } => assert_eq!(max, MAX_TEXT, "{}", field.name),
                Shape::Choice(values) => assert!(!values.is_empty()),
                Shape::Flag => {}
                // Where a portability's data are sent (art. 20(2)), and whom post-mortem
                // directives name: checked as an address.
                Shape::Email => assert!(
                    field.name == "portability_controller_email"
                        || matches!(kind, RequestKind::Directives | RequestKind::Heir),
                    "{} is not a kind's own",
                    field.name
                ),
                // Only what a request after a death asks: the day of death, the death
                // certificate and the proof.
                Shape::Date | Shape::Document => assert!(
                    matches!(kind, RequestKind::Directives | RequestKind::Heir),
                    "{} is not a kind's own",
                    field.name
                ),
            }
            // A field's need only ever points at a field of the same kind.
            if let Need::When { field: other, .. }
            | Need::With(other)
            | Need::Unless(other)
            | Need::WhenNot { field: other, .. } = field.need
            {
                assert!(own_fields(kind).iter().any(|f| f.name == other), "{other}");
            }
        }
    }
}

#[test]
fn the_requester_and_the_person_are_the_same_for_every_kind() {
    let requester: Vec<(&str, Shape, Need)> = REQUESTER
        .iter()
        .map(|f| (f.name, f.shape, f.need))
        .collect();
    assert_eq!(
        requester,
        [
            ("name", Shape::Text { max: 200 }, Need::Required),
            ("email", Shape::Email, Need::Required),
            ("customer_ref", Shape::Text { max: 200 }, Need::Optional),
        ]
    );
    let person: Vec<(&str, bool)> = PERSON.iter().map(|f| (f.name, f.is_required())).collect();
    assert_eq!(
        person,
        [
            ("country", true),
            ("acting", true),
            ("mandate", false),
            ("parental_proof", false)
        ]
    );
    assert_eq!(DETAILS.shape, Shape::Text { max: 20_000 });
    assert_eq!(
        MANDATE.need,
        Need::When {
            field: "acting",
            is: "representative"
        }
    );
}

#[test]
fn the_kinds_own_answers_are_checked_field_by_field() {
    let t20001 = "a".repeat(20_001);
    let t20000 = "a".repeat(20_000);
    let scope = Code::NotAllowed {
        allowed: &["all", "specific"],
    };
    // (kind, answers, errors)
    #[rustfmt::skip]
    let cases: Vec<(RequestKind, Given<'_>, Said)> = vec![
        (RequestKind::Access, vec![], vec![("access_scope", scope.clone())]),
        (RequestKind::Access, vec![("access_scope", "All")], vec![("access_scope", scope.clone())]),
        (RequestKind::Access, vec![("access_scope", " all")], vec![("access_scope", scope)]),
        (RequestKind::Access, vec![("access_scope", "all")], vec![]),
        (RequestKind::Access, vec![("access_scope", "specific")], vec![("access_specifics", Code::Required)]),
        (RequestKind::Access, vec![("access_scope", "specific"), ("access_specifics", " \n ")], vec![("access_specifics", Code::Required)]),
        (RequestKind::Access, vec![("access_scope", "specific"), ("access_specifics", &t20000)], vec![]),
        (RequestKind::Access, vec![("access_scope", "all"), ("access_specifics", &t20001)], vec![("access_specifics", Code::TooLong { max: 20_000 })]),
        (RequestKind::Rectification, vec![], vec![("rectification_wrong", Code::Required), ("rectification_correct", Code::Required)]),
        (RequestKind::Rectification, vec![("rectification_wrong", "x"), ("rectification_correct", &t20001)], vec![("rectification_correct", Code::TooLong { max: 20_000 })]),
        (RequestKind::Erasure, vec![("erasure_scope", "part")], vec![("erasure_part", Code::Required)]),
        (RequestKind::Erasure, vec![("erasure_scope", "all"), ("erasure_reason", &t20001)], vec![("erasure_reason", Code::TooLong { max: 20_000 })]),
        (RequestKind::Erasure, vec![("erasure_scope", "everything")], vec![("erasure_scope", Code::NotAllowed { allowed: &["all", "part"] })]),
        (RequestKind::Restriction, vec![("restriction_ground", "bored")], vec![("restriction_ground", Code::NotAllowed { allowed: &["accuracy", "unlawful", "legal_claims", "objection_pending"] })]),
        (RequestKind::Restriction, vec![("restriction_ground", "legal_claims")], vec![]),
        (RequestKind::Portability, vec![], vec![("portability_data", Code::Required), ("portability_destination", Code::NotAllowed { allowed: &["me", "controller"] })]),
        (RequestKind::Portability, vec![("portability_data", "orders"), ("portability_destination", "controller")], vec![("portability_controller", Code::Required), ("portability_controller_email", Code::Required)]),
        (RequestKind::Portability, vec![("portability_data", "orders"), ("portability_destination", "controller"), ("portability_controller", "Nouvelle Boutique"), ("portability_controller_email", "nowhere")], vec![("portability_controller_email", Code::Email(crate::domain::email::InvalidEmail::MissingAt))]),
        (RequestKind::Portability, vec![("portability_data", "orders"), ("portability_destination", "me")], vec![]),
        (RequestKind::Objection, vec![], vec![("objection_processing", Code::RequiredUnless { other: "objection_direct_marketing" })]),
        (RequestKind::Objection, vec![("objection_direct_marketing", "yes")], vec![]),
        (RequestKind::Objection, vec![("objection_processing", "Profiling")], vec![("objection_reason", Code::RequiredWith { other: "objection_processing" })]),
        (RequestKind::Objection, vec![("objection_processing", "Profiling"), ("objection_reason", "  ")], vec![("objection_reason", Code::RequiredWith { other: "objection_processing" })]),
        (RequestKind::Objection, vec![("objection_processing", "Profiling"), ("objection_reason", "I moved")], vec![]),
        (RequestKind::Objection, vec![("objection_direct_marketing", "yes"), ("objection_processing", &t20001)], vec![("objection_processing", Code::TooLong { max: 20_000 }), ("objection_reason", Code::RequiredWith { other: "objection_processing" })]),
        (RequestKind::ConsentWithdrawal, vec![("consent_withdrawal_consent", "   ")], vec![("consent_withdrawal_consent", Code::Required)]),
    ];
    for (kind, answers, expected) in cases {
        let map: HashMap<String, String> = answers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            errors(&portal_draft(kind, &map)),
            expected,
            "{kind} with {answers:?}"
        );
    }
}

#[test]
fn the_fields_every_request_has_are_checked_on_every_channel() {
    let n201 = long(201);
    let n200 = long(200);
    let t20001 = "a".repeat(20_001);
    let ok = api_draft();
    // (draft, errors)
    #[rustfmt::skip]
    let cases: Vec<(Draft<'_>, Said)> = vec![
        (ok, vec![]),
        (Draft { kind: "deletion", ..ok }, vec![("kind", Code::Unknown("deletion".parse::<RequestKind>().unwrap_err()))]),
        (Draft { name: "", ..ok }, vec![("name", Code::Required)]),
        (Draft { name: " \t ", ..ok }, vec![("name", Code::Required)]),
        (Draft { name: &n200, ..ok }, vec![]),
        (Draft { name: &n201, ..ok }, vec![("name", Code::TooLong { max: 200 })]),
        (Draft { email: "camille.example.fr", ..ok }, vec![("email", Code::Email(InvalidEmail::MissingAt))]),
        (Draft { email: "", ..ok }, vec![("email", Code::Email(InvalidEmail::Empty))]),
        (Draft { customer_ref: &n200, ..ok }, vec![]),
        (Draft { customer_ref: &n201, ..ok }, vec![("customer_ref", Code::TooLong { max: 200 })]),
        (Draft { details: &t20001, ..ok }, vec![("details", Code::TooLong { max: 20_000 })]),
        (Draft { received_at: Some("yesterday"), ..ok }, vec![("received_at", Code::NotAnInstant { given: "yesterday".into() })]),
        (Draft { received_at: Some("2025-03-10T12:05:01Z"), ..ok }, vec![("received_at", Code::InFuture)]),
        (Draft { received_at: Some("2025-03-10T12:05:00Z"), ..ok }, vec![]),
        (Draft { received_at: Some("0025-03-10T09:00:00Z"), ..ok }, vec![("received_at", Code::TooEarly { earliest: EARLIEST_RECEIPT })]),
        (Draft { received_at: Some("2018-05-24T23:59:59Z"), ..ok }, vec![("received_at", Code::TooEarly { earliest: EARLIEST_RECEIPT })]),
        (Draft { received_at: Some("2018-05-25T00:00:00Z"), ..ok }, vec![]),
        (Draft { received_at: Some("2025-03-10T13:00:00+01:00"), ..ok }, vec![]),
        (Draft { profile: Some("mars"), ..ok }, vec![("profile", Code::UnknownProfile { given: "mars".into(), expected: vec!["gdpr".into(), "two-months".into(), "uk-gdpr".into()] })]),
        (Draft { profile: Some("gdpr"), ..ok }, vec![]),
        (Draft { channel: "pigeon", ..ok }, vec![("channel", Code::Unknown("pigeon".parse::<Channel>().unwrap_err()))]),
        (Draft { language: "de", ..ok }, vec![("language", Code::NotAllowed { allowed: &["fr", "en"] })]),
        (Draft { language: "", ..ok }, vec![("language", Code::NotAllowed { allowed: &["fr", "en"] })]),
        (Draft { language: "EN", ..ok }, vec![("language", Code::NotAllowed { allowed: &["fr", "en"] })]),
    ];
    for (draft, expected) in cases {
        assert_eq!(
            errors(&draft),
            expected,
            "{:?}",
            (draft.kind, draft.name.len(), draft.email, draft.received_at)
        );
    }
}

#[test]
fn the_person_filing_on_the_portal_is_checked() {
    let none: [(&str, &str); 1] = [("access_scope", "all")];
    let person = |country, acting, mandate| Draft {
        person: Some(Person {
            country,
            acting,
            mandate,
            parental_proof: Attachment::Absent,
        }),
        subject: paul("Paul Durand", "paul@example.fr", ""),
        ..portal_draft(RequestKind::Access, &none)
    };
    let countries = Code::NotAllowed {
        allowed: &COUNTRIES,
    };
    let acting = Code::NotAllowed {
        allowed: &["self", "representative", "parent"],
    };
    use Attachment::{Absent, Document, NotADocument};
    // (country, acting, mandate, errors)
    #[rustfmt::skip]
    let cases: Vec<(&str, &str, Attachment, Said)> = vec![
        ("FR", "self", Absent, vec![]),
        ("CA-QC", "self", Absent, vec![]),
        ("OTHER", "self", Absent, vec![]),
        ("fr", "self", Absent, vec![("country", countries.clone())]),
        ("", "self", Absent, vec![("country", countries)]),
        ("FR", "", Absent, vec![("acting", acting.clone())]),
        // Whom they act for is unknown, so no mandate is asked for yet.
        ("FR", "boss", Absent, vec![("acting", acting)]),
        ("FR", "representative", Absent, vec![("mandate", Code::Required)]),
        ("FR", "representative", Document, vec![]),
        ("FR", "representative", NotADocument, vec![("mandate", Code::NotADocument)]),
        // Not needed, but what is sent must still be a document.
        ("FR", "self", NotADocument, vec![("mandate", Code::NotADocument)]),
        ("FR", "self", Document, vec![]),
    ];
    for (country, acting, mandate, expected) in cases {
        assert_eq!(
            errors(&person(country, acting, mandate)),
            expected,
            "{country} {acting} {mandate:?}"
        );
    }
}

#[test]
fn every_error_comes_at_once_in_the_order_the_api_lists_them() {
    let n201 = long(201);
    let t20001 = "a".repeat(20_001);
    let answers: [(&str, &str); 0] = [];
    let draft = Draft {
        kind: "access",
        name: "  ",
        email: "bad",
        customer_ref: &n201,
        details: &t20001,
        received_at: Some("2999-01-01T00:00:00Z"),
        profile: Some("mars"),
        channel: "fax",
        language: "de",
        person: Some(Person {
            country: "ZZ",
            acting: "representative",
            mandate: Attachment::Absent,
            parental_proof: Attachment::Absent,
        }),
        answers: Some(&answers),
        subject: Some(SubjectDraft::default()),
        ..api_draft()
    };
    let fields: Vec<&str> = errors(&draft).iter().map(|(f, _)| *f).collect();
    assert_eq!(
        fields,
        [
            "name",
            "email",
            "details",
            "received_at",
            "profile",
            "channel",
            "language",
            "customer_ref",
            "country",
            "mandate",
            "subject_name",
            "subject_email",
            "access_scope",
        ]
    );
}

#[test]
fn without_answers_the_kinds_own_questions_are_not_asked() {
    // The API files with the details only: an access request needs no scope there. (After
    // a death the deceased is always needed: see below.)
    for kind in RequestKind::ALL
        .into_iter()
        .filter(|k| *k != RequestKind::Heir)
    {
        let draft = Draft {
            kind: kind.as_str(),
            ..api_draft()
        };
        let checked = check(&draft, &PROFILES, now()).unwrap();
        assert!(checked.answers.is_empty());
        assert_eq!((checked.country, checked.representative), (None, false));
        assert_eq!(checked.subject, None);
    }
}

#[test]
fn what_passes_comes_out_trimmed_and_typed() {
    let answers: [(&str, &str); 4] = [
        ("objection_direct_marketing", "yes"),
        ("objection_processing", "  Profiling "),
        ("objection_reason", "I moved"),
        ("ignored", "not a field of this kind"),
    ];
    let draft = Draft {
        name: "  Camille Martin ",
        email: " Camille@Example.FR ",
        customer_ref: " C-1042 ",
        details: "\n  Everything \n",
        received_at: Some(" 2025-03-10T09:00:00+01:00 "),
        profile: Some("gdpr"),
        language: "en",
        person: Some(Person {
            country: "BE",
            acting: "representative",
            mandate: Attachment::Document,
            parental_proof: Attachment::Absent,
        }),
        subject: paul(" Paul Durand ", " Paul.Durand@Example.FR ", "  "),
        ..portal_draft(RequestKind::Objection, &answers)
    };
    let checked = check(&draft, &PROFILES, now()).unwrap();
    assert_eq!(
        checked,
        Checked {
            kind: RequestKind::Objection,
            name: "Camille Martin".into(),
            email: Some(EmailAddress::parse("Camille@example.fr").unwrap()),
            customer_ref: Some("C-1042".into()),
            details: "Everything".into(),
            received_at: "2025-03-10T08:00:00Z".parse().unwrap(),
            profile: Some("gdpr".into()),
            channel: Channel::Web,
            language: "en",
            country: Some("BE"),
            representative: true,
            acting: Acting::Representative,
            subject: Some(Represented {
                name: "Paul Durand".into(),
                email: Some(EmailAddress::parse("Paul.Durand@example.fr").unwrap()),
                customer_ref: None,
                birth_date: None,
            }),
            answers: vec![
                ("objection_direct_marketing", Answer::Flag(true)),
                ("objection_processing", Answer::Text("Profiling".into())),
                ("objection_reason", Answer::Text("I moved".into())),
            ],
            postal: None,
            prefers_post: false,
            registered_number: None,
        }
    );
    // Empty optional texts are left out; an unticked box is kept, as false.
    let answers: [(&str, &str); 2] = [
        ("objection_processing", "Profiling"),
        ("objection_reason", "I moved"),
    ];
    let draft = Draft {
        customer_ref: "   ",
        ..portal_draft(RequestKind::Objection, &answers)
    };
    let checked = check(&draft, &PROFILES, now()).unwrap();
    assert_eq!(checked.customer_ref, None);
    assert_eq!(checked.received_at, now());
    assert_eq!(
        checked.answers[0],
        ("objection_direct_marketing", Answer::Flag(false))
    );
}

#[test]
fn the_api_says_each_error_in_english() {
    let error = |field, code| FieldError { field, code }.to_string();
    // (field, code, message)
    #[rustfmt::skip]
    let cases: Vec<(&str, Code, &str)> = vec![
        ("name", Code::Required, "the requester's name is required"),
        ("name", Code::TooLong { max: 200 }, "the name is longer than 200 characters"),
        ("customer_ref", Code::TooLong { max: 200 }, "the customer reference is longer than 200 characters"),
        ("details", Code::TooLong { max: 20_000 }, "details are longer than 20000 characters"),
        ("email", Code::Email(InvalidEmail::MissingAt), "the email address is missing an @"),
        ("received_at", Code::NotAnInstant { given: "yesterday".into() }, "\"yesterday\" is not an RFC 3339 date-time such as 2025-01-31T10:00:00Z"),
        ("received_at", Code::InFuture, "received_at is in the future; give the moment the request reached the organisation"),
        ("received_at", Code::TooEarly { earliest: EARLIEST_RECEIPT }, "received_at is before 2018-05-25, when the GDPR became applicable; check the year"),
        ("profile", Code::UnknownProfile { given: "mars".into(), expected: vec!["gdpr".into(), "two-months".into()] }, "unknown profile \"mars\"; expected one of: gdpr, two-months"),
        ("channel", Code::Unknown("fax".parse::<Channel>().unwrap_err()), "unknown channel \"fax\"; expected one of: web, email, post, phone, in_person, api"),
        ("language", Code::NotAllowed { allowed: &LANGUAGES }, "language must be \"fr\" or \"en\""),
        ("access_scope", Code::NotAllowed { allowed: &["all", "specific"] }, "access_scope must be one of: all, specific"),
        ("erasure_part", Code::Required, "erasure_part is required"),
        ("objection_reason", Code::RequiredWith { other: "objection_processing" }, "objection_reason is required when objection_processing is given"),
        ("objection_processing", Code::RequiredUnless { other: "objection_direct_marketing" }, "objection_processing is required unless objection_direct_marketing is ticked"),
        ("mandate", Code::NotADocument, "mandate must be a PDF, a JPEG or a PNG image"),
        ("subject_name", Code::Required, "the name of the person represented is required"),
        ("subject_name", Code::TooLong { max: 200 }, "the name of the person represented is longer than 200 characters"),
        ("subject_email", Code::RequiredEither { or: "subject_customer_ref" }, "the email address or the customer reference of the person represented is required: the data sources find them by one of these"),
        ("subject_customer_ref", Code::TooLong { max: 200 }, "the customer reference of the person represented is longer than 200 characters"),
    ];
    for (field, code, message) in cases {
        assert_eq!(error(field, code), message);
    }
}

#[test]
fn the_person_represented_is_asked_only_of_a_representative() {
    let subject: Vec<(&str, Shape, Need)> =
        SUBJECT.iter().map(|f| (f.name, f.shape, f.need)).collect();
    let representative = Need::When {
        field: "acting",
        is: "representative",
    };
    assert_eq!(
        subject,
        [
            ("subject_name", Shape::Text { max: 200 }, representative),
            (
                "subject_email",
                Shape::Email,
                Need::EitherWhen {
                    field: "acting",
                    is: "representative",
                    or: "subject_customer_ref"
                }
            ),
            (
                "subject_customer_ref",
                Shape::Text { max: 200 },
                Need::Optional
            ),
            // A parent's child: the sources find them as a represented person, and their
            // age is checked on the day of filing.
            (
                "subject_birth_date",
                Shape::Date,
                Need::When {
                    field: "acting",
                    is: "parent"
                }
            ),
        ]
    );
    // None is required whatever else is answered: the form marks the group, not the fields.
    assert!(SUBJECT.iter().all(|f| !f.is_required()));
}

#[test]
fn a_representative_names_the_person_and_how_to_find_them() {
    let answers: [(&str, &str); 1] = [("access_scope", "all")];
    let n201 = long(201);
    let either = Code::RequiredEither {
        or: "subject_customer_ref",
    };
    let on_portal = |acting, subject| Draft {
        person: Some(Person {
            country: "FR",
            acting,
            mandate: Attachment::Document,
            parental_proof: Attachment::Absent,
        }),
        subject,
        ..portal_draft(RequestKind::Access, &answers)
    };
    // (acting, person represented, errors)
    #[rustfmt::skip]
    let cases: Vec<(&str, Option<SubjectDraft<'_>>, Said)> = vec![
        ("representative", paul("Paul Durand", "paul@example.fr", ""), vec![]),
        ("representative", paul("Paul Durand", "", "C-2210"), vec![]),
        ("representative", paul("Paul Durand", "paul@example.fr", "C-2210"), vec![]),
        ("representative", paul("", "paul@example.fr", ""), vec![("subject_name", Code::Required)]),
        ("representative", paul("  ", "", " "), vec![("subject_name", Code::Required), ("subject_email", either.clone())]),
        ("representative", paul("Paul Durand", "", ""), vec![("subject_email", either.clone())]),
        ("representative", paul("Paul Durand", "paul.example.fr", ""), vec![("subject_email", Code::Email(InvalidEmail::MissingAt))]),
        // A wrong address is wrong even when the customer reference would do.
        ("representative", paul("Paul Durand", "paul@", "C-2210"), vec![("subject_email", Code::Email(InvalidEmail::EmptyDomain))]),
        ("representative", paul(&n201, "paul@example.fr", &n201), vec![("subject_name", Code::TooLong { max: 200 }), ("subject_customer_ref", Code::TooLong { max: 200 })]),
        ("representative", None, vec![("subject_name", Code::Required), ("subject_email", either)]),
        // For oneself, whatever was left in the group is neither checked nor kept.
        ("self", paul("", "not an address", &n201), vec![]),
    ];
    for (acting, subject, expected) in cases {
        assert_eq!(
            errors(&on_portal(acting, subject)),
            expected,
            "{acting} {subject:?}"
        );
    }
    let checked = check(
        &on_portal("self", paul("Paul", "paul@example.fr", "")),
        &PROFILES,
        now(),
    )
    .unwrap();
    assert_eq!((checked.representative, checked.subject), (false, None));
    let checked = check(
        &on_portal("representative", paul(" Paul Durand ", "", " C-2210 ")),
        &PROFILES,
        now(),
    )
    .unwrap();
    assert_eq!(
        checked.subject,
        Some(Represented {
            name: "Paul Durand".into(),
            email: None,
            customer_ref: Some("C-2210".into()),
            birth_date: None,
        })
    );
}

#[test]
fn on_the_api_a_subject_says_a_representative_files() {
    let draft = Draft {
        subject: paul("Paul Durand", "Paul@Example.fr", ""),
        ..api_draft()
    };
    let checked = check(&draft, &PROFILES, now()).unwrap();
    assert!(checked.representative);
    assert_eq!(
        checked.subject.and_then(|s| s.email).map(|e| e.to_string()),
        Some("Paul@example.fr".to_string())
    );
    let draft = Draft {
        subject: paul("", "", ""),
        ..api_draft()
    };
    assert_eq!(
        errors(&draft),
        [
            ("subject_name", Code::Required),
            (
                "subject_email",
                Code::RequiredEither {
                    or: "subject_customer_ref"
                }
            ),
        ]
    );
}

#[test]
fn a_receipt_a_little_ahead_of_our_clock_is_now_and_an_old_one_stands() {
    let ahead = Draft {
        received_at: Some("2025-03-10T12:03:00Z"),
        ..api_draft()
    };
    let checked = check(&ahead, &PROFILES, now()).unwrap();
    assert_eq!(checked.received_at, now());
    // A letter that lay in a drawer for a year is still a request received then.
    let old = Draft {
        received_at: Some("2024-03-01T09:00:00+01:00"),
        ..api_draft()
    };
    let checked = check(&old, &PROFILES, now()).unwrap();
    assert_eq!(
        checked.received_at,
        "2024-03-01T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
}

#[test]
fn a_postal_address_stands_in_for_the_email_and_the_answers_go_by_post() {
    let postal = PostalDraft {
        lines: "12 rue des Lilas",
        postcode: "75011",
        city: "Paris",
        country: "",
    };
    let by_letter = Draft {
        email: "",
        postal,
        channel: "post",
        registered_number: "1A 234 567 8901 2",
        ..api_draft()
    };
    let checked = check(&by_letter, &PROFILES, now()).unwrap();
    assert_eq!(checked.email, None);
    assert!(checked.prefers_post);
    assert_eq!(
        checked.registered_number.as_deref(),
        Some("1A 234 567 8901 2")
    );
    assert_eq!(
        checked.postal,
        Some(PostalAddress {
            lines: "12 rue des Lilas".into(),
            postcode: "75011".into(),
            city: "Paris".into(),
            country: None,
        })
    );
    // With both, the answers go by email unless the person asks for letters.
    let both = Draft {
        postal,
        ..api_draft()
    };
    assert!(!check(&both, &PROFILES, now()).unwrap().prefers_post);
    let post = Draft {
        contact: "post",
        ..both
    };
    assert!(check(&post, &PROFILES, now()).unwrap().prefers_post);
    // On the portal the address is still needed: its confirmation link proves the filing.
    let portal = Draft {
        email: "",
        channel: "web",
        ..post
    };
    assert!(
        check(&portal, &PROFILES, now())
            .err()
            .is_some_and(|e| e.iter().any(|f| f.field == "email"))
    );
}

#[test]
fn an_address_is_whole_and_letters_need_one() {
    let cases: Vec<(Draft<'static>, Said)> = vec![
        (
            Draft {
                email: "",
                postal: PostalDraft {
                    city: "Paris",
                    ..Default::default()
                },
                ..api_draft()
            },
            vec![
                ("address_lines", Code::Required),
                ("postcode", Code::Required),
            ],
        ),
        (
            Draft {
                contact: "post",
                ..api_draft()
            },
            vec![("address_lines", Code::RequiredWith { other: "contact" })],
        ),
        (
            Draft {
                contact: "pigeon",
                ..api_draft()
            },
            vec![(
                "contact",
                Code::NotAllowed {
                    allowed: &CONTACT_CHOICES,
                },
            )],
        ),
        (
            Draft {
                email: "",
                ..api_draft()
            },
            vec![("email", Code::Email(InvalidEmail::Empty))],
        ),
    ];
    for (draft, said) in cases {
        assert_eq!(errors(&draft), said, "{:?}", draft.postal);
    }
}

#[test]
fn a_parent_acts_for_a_minor_child_with_a_proof_and_the_child_s_birth_date() {
    let answers: [(&str, &str); 1] = [("access_scope", "all")];
    let parent = |proof, birth_date| Draft {
        person: Some(Person {
            country: "FR",
            acting: "parent",
            mandate: Attachment::Absent,
            parental_proof: proof,
        }),
        subject: Some(SubjectDraft {
            name: "Léo Martin",
            email: "",
            customer_ref: "C-3001",
            birth_date,
            acting: "",
        }),
        ..portal_draft(RequestKind::Access, &answers)
    };
    // `now()` is in March 2025.
    let checked = check(
        &parent(Attachment::Document, "2014-03-09"),
        &PROFILES,
        now(),
    )
    .unwrap();
    assert_eq!(checked.acting, Acting::Parent);
    assert!(!checked.representative);
    assert_eq!(
        checked.subject.and_then(|s| s.birth_date),
        NaiveDate::from_ymd_opt(2014, 3, 9)
    );
    // Typed the French way, the same day.
    assert!(
        check(
            &parent(Attachment::Document, "09/03/2014"),
            &PROFILES,
            now()
        )
        .is_ok()
    );
    use Attachment::{Absent, Document};
    #[rustfmt::skip]
    let cases: Vec<(Attachment, &str, Said)> = vec![
        (Absent, "2014-03-09", vec![("parental_proof", Code::Required)]),
        (Document, "", vec![("subject_birth_date", Code::Required)]),
        (Document, "9 mars", vec![("subject_birth_date", Code::NotADay { given: "9 mars".into() })]),
        (Document, "2030-01-01", vec![("subject_birth_date", Code::InFuture)]),
        (Document, "2000-01-01", vec![("subject_birth_date", Code::OfAge { age: 25 })]),
    ];
    for (proof, born, expected) in cases {
        assert_eq!(errors(&parent(proof, born)), expected, "{proof:?} {born}");
    }
}

#[test]
fn a_child_comes_of_age_on_their_eighteenth_birthday() {
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(age_on(day(2007, 3, 10), day(2025, 3, 9)), 17);
    assert_eq!(age_on(day(2007, 3, 10), day(2025, 3, 10)), 18);
    assert_eq!(age_on(day(2008, 2, 29), day(2026, 2, 28)), 18);
    assert_eq!(age_on(day(2025, 3, 10), day(2025, 3, 10)), 0);
}

#[test]
fn the_api_says_a_parent_files_in_its_subject_object() {
    let subject = |acting| {
        Some(SubjectDraft {
            name: "Léo Martin",
            email: "leo@example.fr",
            customer_ref: "",
            birth_date: "2014-03-09",
            acting,
        })
    };
    let api = |acting| Draft {
        subject: subject(acting),
        ..api_draft()
    };
    let checked = check(&api("parent"), &PROFILES, now()).unwrap();
    assert_eq!(checked.acting, Acting::Parent);
    let checked = check(&api(""), &PROFILES, now()).unwrap();
    assert_eq!(checked.acting, Acting::Representative);
    assert_eq!(checked.subject.and_then(|s| s.birth_date), None);
    assert_eq!(
        errors(&api("uncle")),
        vec![(
            "subject_acting",
            Code::NotAllowed {
                allowed: &ACTING_FOR_ANOTHER
            }
        )]
    );
}

#[test]
fn after_a_death_the_deceased_is_needed_and_the_filer_acts_for_them() {
    let heir = |subject| Draft {
        kind: "heir",
        subject,
        ..api_draft()
    };
    let said = errors(&heir(None));
    assert_eq!(said[0], ("subject_name", Code::Required), "{said:?}");
    let deceased = SubjectDraft {
        name: "Jeanne Martin",
        email: "jeanne.martin@example.fr",
        customer_ref: "",
        ..SubjectDraft::default()
    };
    let checked = check(&heir(Some(deceased)), &PROFILES, now()).unwrap();
    assert!(checked.representative);
    assert_eq!(
        checked.subject.map(|s| s.name),
        Some("Jeanne Martin".into())
    );
}

#[test]
fn the_heirs_own_answers_need_both_documents_and_a_day_past() {
    let answers = |date: &'static str, certificate: &'static str| {
        [
            ("heir_capacity", "heir"),
            ("heir_date_of_death", date),
            ("heir_death_certificate", certificate),
            ("heir_capacity_proof", ATTACHED),
            ("heir_request", "close"),
        ]
    };
    let deceased = SubjectDraft {
        name: "Jeanne Martin",
        email: "",
        customer_ref: "C-1",
        ..SubjectDraft::default()
    };
    let said_for = |given: &[(&str, &str); 5]| {
        errors(&Draft {
            kind: "heir",
            subject: Some(deceased),
            answers: Some(given as &dyn Answers),
            ..api_draft()
        })
    };
    assert_eq!(said_for(&answers("14/02/2025", ATTACHED)), Vec::new());
    assert_eq!(said_for(&answers("2025-02-14", ATTACHED)), Vec::new());
    assert_eq!(
        said_for(&answers("2099-01-01", "")),
        [
            ("heir_date_of_death", Code::InFuture),
            ("heir_death_certificate", Code::Required)
        ]
    );
    assert_eq!(
        said_for(&answers("hier", NOT_A_DOCUMENT)),
        [
            (
                "heir_date_of_death",
                Code::NotADay {
                    given: "hier".into()
                }
            ),
            ("heir_death_certificate", Code::NotADocument)
        ]
    );
    let checked = check(
        &Draft {
            kind: "heir",
            subject: Some(deceased),
            answers: Some(&answers("14/02/2025", ATTACHED) as &dyn Answers),
            ..api_draft()
        },
        &PROFILES,
        now(),
    )
    .unwrap();
    // The day is kept as a date; the documents are the caller's, not answers.
    assert_eq!(
        checked.answers,
        [
            ("heir_capacity", Answer::Choice("heir")),
            ("heir_date_of_death", Answer::Text("2025-02-14".into())),
            ("heir_request", Answer::Choice("close")),
        ]
    );
}

#[test]
fn withdrawn_directives_need_nothing_more() {
    let said_for = |given: &[(&str, &str); 1]| {
        errors(&Draft {
            kind: "directives",
            answers: Some(given as &dyn Answers),
            ..api_draft()
        })
    };
    assert_eq!(said_for(&[("directives_action", "withdraw")]), Vec::new());
    assert_eq!(
        said_for(&[("directives_action", "record")]),
        [
            (
                "directives_type",
                Code::NotAllowed {
                    allowed: &DIRECTIVES_TYPES
                }
            ),
            (
                "directives_fate",
                Code::NotAllowed {
                    allowed: &DIRECTIVES_FATES
                }
            ),
            ("directives_instructions", Code::Required),
        ]
    );
}

#[test]
fn dates_are_read_as_typed() {
    assert_eq!(parse_day("2026-03-09").unwrap().to_string(), "2026-03-09");
    assert_eq!(parse_day(" 09/03/2026 ").unwrap().to_string(), "2026-03-09");
    assert!(parse_day("9 mars").is_none());
}
