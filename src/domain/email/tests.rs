use super::*;

fn parse(input: &str) -> Result<String, InvalidEmail> {
    EmailAddress::parse(input).map(EmailAddress::into_string)
}

#[test]
fn a_plain_address_is_kept() {
    assert_eq!(
        parse("camille.martin@example.fr"),
        Ok("camille.martin@example.fr".into())
    );
    assert_eq!(
        parse("first+tag@mail.example.co.uk"),
        Ok("first+tag@mail.example.co.uk".into())
    );
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    assert_eq!(parse("  jean@example.fr \n"), Ok("jean@example.fr".into()));
}

#[test]
fn the_domain_is_lowercased_and_the_local_part_keeps_its_case() {
    assert_eq!(
        parse("Jean.Dupont@Example.FR"),
        Ok("Jean.Dupont@example.fr".into())
    );
}

#[test]
fn internationalised_addresses_are_accepted() {
    assert_eq!(parse("josé@café.fr"), Ok("josé@café.fr".into()));
    assert_eq!(parse("user@ÉCOLE.fr"), Ok("user@école.fr".into()));
    assert_eq!(parse("用户@例子.中国"), Ok("用户@例子.中国".into()));
}

#[test]
fn empty_input_is_refused() {
    assert_eq!(parse(""), Err(InvalidEmail::Empty));
    assert_eq!(parse("   "), Err(InvalidEmail::Empty));
}

#[test]
fn spaces_and_control_characters_inside_are_refused() {
    assert_eq!(
        parse("jean dupont@example.fr"),
        Err(InvalidEmail::Whitespace)
    );
    assert_eq!(
        parse("jean@example.fr\r\nBcc: x@y.z"),
        Err(InvalidEmail::Whitespace)
    );
    assert_eq!(parse("jean\u{0}@example.fr"), Err(InvalidEmail::Whitespace));
}

#[test]
fn the_at_sign_must_appear_exactly_once() {
    assert_eq!(parse("jean.example.fr"), Err(InvalidEmail::MissingAt));
    assert_eq!(
        parse("jean@dupont@example.fr"),
        Err(InvalidEmail::SeveralAt)
    );
}

#[test]
fn the_local_part_must_be_present_and_at_most_64_bytes() {
    assert_eq!(parse("@example.fr"), Err(InvalidEmail::EmptyLocalPart));
    let longest = format!("{}@example.fr", "a".repeat(64));
    assert!(parse(&longest).is_ok());
    let too_long = format!("{}@example.fr", "a".repeat(65));
    assert_eq!(parse(&too_long), Err(InvalidEmail::LocalPartTooLong));
}

#[test]
fn the_whole_address_is_at_most_254_bytes() {
    let label = "a".repeat(63);
    let domain = format!("{label}.{label}.{label}.{}", "b".repeat(57));
    let at_limit = format!("{}@{domain}", "c".repeat(254 - 1 - domain.len()));
    assert_eq!(at_limit.len(), 254);
    assert!(parse(&at_limit).is_ok());
    let over = format!("c{at_limit}");
    assert_eq!(parse(&over), Err(InvalidEmail::TooLong));
}

#[test]
fn dots_in_the_local_part_must_separate_something() {
    assert_eq!(parse(".jean@example.fr"), Err(InvalidEmail::MisplacedDot));
    assert_eq!(parse("jean.@example.fr"), Err(InvalidEmail::MisplacedDot));
    assert_eq!(
        parse("jean..dupont@example.fr"),
        Err(InvalidEmail::MisplacedDot)
    );
}

#[test]
fn quoting_characters_in_the_local_part_are_refused() {
    assert_eq!(
        parse("\"jean\"@example.fr"),
        Err(InvalidEmail::LocalPartCharacter)
    );
    assert_eq!(
        parse("jean<x>@example.fr"),
        Err(InvalidEmail::LocalPartCharacter)
    );
    assert_eq!(
        parse("a,b@example.fr"),
        Err(InvalidEmail::LocalPartCharacter)
    );
}

#[test]
fn the_domain_must_be_present_and_dotted() {
    assert_eq!(parse("jean@"), Err(InvalidEmail::EmptyDomain));
    assert_eq!(parse("jean@localhost"), Err(InvalidEmail::DomainWithoutDot));
}

#[test]
fn domain_labels_must_not_be_empty() {
    assert_eq!(
        parse("jean@.example.fr"),
        Err(InvalidEmail::EmptyDomainLabel)
    );
    assert_eq!(
        parse("jean@example.fr."),
        Err(InvalidEmail::EmptyDomainLabel)
    );
    assert_eq!(
        parse("jean@example..fr"),
        Err(InvalidEmail::EmptyDomainLabel)
    );
}

#[test]
fn domain_labels_must_not_start_or_end_with_a_hyphen() {
    assert_eq!(
        parse("jean@-example.fr"),
        Err(InvalidEmail::DomainLabelHyphen)
    );
    assert_eq!(
        parse("jean@example-.fr"),
        Err(InvalidEmail::DomainLabelHyphen)
    );
    assert!(parse("jean@my-example.fr").is_ok());
}

#[test]
fn domain_labels_are_at_most_63_bytes() {
    assert!(parse(&format!("jean@{}.fr", "a".repeat(63))).is_ok());
    assert_eq!(
        parse(&format!("jean@{}.fr", "a".repeat(64))),
        Err(InvalidEmail::DomainLabelTooLong)
    );
}

#[test]
fn domains_hold_only_letters_digits_and_hyphens() {
    assert_eq!(
        parse("jean@exa_mple.fr"),
        Err(InvalidEmail::DomainCharacter)
    );
    assert_eq!(
        parse("jean@[192.168.0.1]"),
        Err(InvalidEmail::DomainCharacter)
    );
    assert_eq!(
        parse("jean@example.fr/x"),
        Err(InvalidEmail::DomainCharacter)
    );
    assert_eq!(
        parse("jean@exa😀mple.fr"),
        Err(InvalidEmail::DomainCharacter)
    );
    assert!(parse("jean@123.example.fr").is_ok());
}

#[test]
fn messages_say_what_is_wrong_without_repeating_the_address() {
    let error = EmailAddress::parse("secret.person.example.fr").unwrap_err();
    assert_eq!(error.to_string(), "the email address is missing an @");
    assert_eq!(
        EmailAddress::parse("jean@").unwrap_err().to_string(),
        "the email address has no domain after the @"
    );
    for bad in [
        "", "a b@c.d", "@x.y", "a@b", "a@-b.c", "a..b@c.d", "a@b_c.d",
    ] {
        let message = EmailAddress::parse(bad).unwrap_err().to_string();
        assert!(bad.is_empty() || !message.contains(bad), "{message}");
    }
}

#[test]
fn display_and_serde_use_the_normalised_text() {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error, StrDeserializer};

    let address = EmailAddress::parse("Jean@Example.FR").unwrap();
    assert_eq!(address.to_string(), "Jean@example.fr");
    assert_eq!(address.as_str(), "Jean@example.fr");
    assert_eq!(
        "Jean@Example.FR".parse::<EmailAddress>(),
        Ok(address.clone())
    );
    assert_eq!(String::from(address.clone()), "Jean@example.fr");

    let text: StrDeserializer<'_, Error> = " Jean@EXAMPLE.fr ".into_deserializer();
    assert_eq!(EmailAddress::deserialize(text), Ok(address));
    let text: StrDeserializer<'_, Error> = "nobody".into_deserializer();
    assert!(EmailAddress::deserialize(text).is_err());
}
