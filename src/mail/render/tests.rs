use chrono::NaiveDate;

use super::*;

fn facts<'a>(lang: &'a str, link: Option<&'a str>) -> MailFacts<'a> {
    MailFacts {
        lang,
        to: "camille@example.fr",
        organisation: "Exemple SAS",
        dpo_email: "dpo@example.org",
        reference: "DSAR-2026-000123",
        kind_label: if lang == "fr" {
            "droit d'accès"
        } else {
            "right of access"
        },
        link,
        due_on: NaiveDate::from_ymd_opt(2027, 1, 1),
        clock_stopped: false,
        note: Some("Merci de préciser votre numéro de client."),
        ground: Some("excessive"),
        amount: Some("12,50 €"),
        on_behalf: None,
    }
}

fn rendered(kind: MailKind, facts: &MailFacts<'_>) -> Rendered {
    render(kind, &View::new(kind, facts).expect("view")).expect("renders")
}

const LINK: &str = "https://privacy.example.org/r/abc?t=1&u=2";

/// askama writes `&` as `&#38;`, `<` as `&#60;`…: what a mail client shows.
fn unescaped(html: &str) -> String {
    html.replace("&#38;", "&")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
}

#[test]
fn every_mail_renders_in_both_languages_with_the_common_parts() {
    for kind in MailKind::ALL {
        for (lang, greeting, dpo_words) in [
            (
                "fr",
                "Bonjour,",
                "Délégué à la protection des données (DPO)",
            ),
            ("en", "Hello,", "Data protection officer (DPO)"),
        ] {
            let mail = rendered(kind, &facts(lang, Some(LINK)));
            assert!(
                mail.subject.contains("DSAR-2026-000123") && mail.subject.contains("Exemple SAS"),
                "{kind} {lang}: {}",
                mail.subject
            );
            assert!(!mail.subject.contains('\n'));
            for body in [&mail.text, &unescaped(&mail.html)] {
                assert!(body.contains(greeting), "{kind} {lang}: {body}");
                assert!(body.contains(dpo_words), "{kind} {lang}: {body}");
                assert!(body.contains("DSAR-2026-000123"), "{kind} {lang}");
                assert!(body.contains("dpo@example.org"), "{kind} {lang}");
                assert!(body.contains("Exemple SAS"), "{kind} {lang}");
            }
            assert!(mail.text.contains(LINK), "{kind} {lang}: {}", mail.text);
            assert!(
                !mail.html.contains("&u=2"),
                "{kind} {lang}: the link is escaped"
            );
            assert!(
                unescaped(&mail.html).contains(&format!("href=\"{LINK}\"")),
                "{kind} {lang}: {}",
                mail.html
            );
            assert!(mail.text.ends_with(".\n") || mail.text.ends_with(")\n"));
            assert!(
                !mail.text.contains("\n\n\n"),
                "{kind} {lang}: {}",
                mail.text
            );
        }
    }
}

#[test]
fn the_html_part_escapes_what_the_caller_supplies() {
    let mut f = facts("en", Some(LINK));
    f.organisation = "<script>alert(1)</script> & Co";
    let mail = rendered(MailKind::Received, &f);
    assert!(!mail.html.contains("<script>"));
    assert!(unescaped(&mail.html).contains("<script>alert(1)</script> & Co"));
    // The text part is plain text: shown as written.
    assert!(mail.text.contains("<script>alert(1)</script> & Co"));
}

#[test]
fn the_identity_mail_says_the_deadline_is_suspended_only_when_it_is() {
    let mut f = facts("fr", Some(LINK));
    let running = rendered(MailKind::IdentityNeeded, &f);
    assert!(!running.text.contains("suspendu"));
    f.clock_stopped = true;
    let stopped = rendered(MailKind::IdentityNeeded, &f);
    assert!(stopped.text.contains("le délai de réponse est suspendu"));
    assert!(stopped.html.contains("le délai de réponse est suspendu"));
    assert!(stopped.text.contains("justificatif d'identité"));

    let mut f = facts("en", Some(LINK));
    f.clock_stopped = true;
    let stopped = rendered(MailKind::IdentityNeeded, &f);
    assert!(stopped.text.contains("the response deadline is suspended"));
}

#[test]
fn the_received_mail_gives_kind_and_due_date_in_words() {
    let fr = rendered(MailKind::Received, &facts("fr", None));
    assert!(
        fr.text.contains("Demande\u{a0}: droit d'accès"),
        "{}",
        fr.text
    );
    // The text part may wrap between any two words: compare the words.
    assert!(
        flat(&fr.text).contains("au plus tard le 1er janvier 2027"),
        "{}",
        fr.text
    );
    assert!(fr.html.contains("1er janvier 2027"));
    let en = rendered(MailKind::Received, &facts("en", None));
    assert!(en.text.contains("Request: right of access"), "{}", en.text);
    assert!(
        flat(&en.text).contains("by 1 January 2027 at the latest"),
        "{}",
        en.text
    );
    let mut undated = facts("en", None);
    undated.due_on = None;
    let en = rendered(MailKind::Received, &undated);
    assert!(!en.text.contains("Response deadline"));
}

#[test]
fn the_withdrawn_mail_says_how_to_file_again() {
    let without_link = rendered(MailKind::Withdrawn, &facts("fr", None));
    assert!(flat(&without_link.text).contains("déposant une nouvelle demande"));
    assert!(
        without_link
            .text
            .contains("données\u{a0}:\ndpo@example.org"),
        "{}",
        without_link.text
    );
    let with_link = rendered(MailKind::Withdrawn, &facts("en", Some(LINK)));
    assert!(with_link.text.contains("File a new request:\n"));
}

#[test]
fn mails_that_are_about_a_link_refuse_to_go_without_one() {
    for kind in [
        MailKind::Confirm,
        MailKind::IdentityNeeded,
        MailKind::NewMessage,
    ] {
        assert!(matches!(
            View::new(kind, &facts("fr", None)),
            Err(MailError::MissingLink(k)) if k == kind
        ));
    }
}

#[test]
fn only_french_and_english_are_written() {
    assert!(matches!(
        View::new(MailKind::Received, &facts("de", None)),
        Err(MailError::Language(l)) if l == "de"
    ));
}

#[test]
fn text_is_tidied_but_keeps_the_signature_separator() {
    assert_eq!(
        tidy_text("\n\n a  \n\n\n\nb\n-- \nc\n\n"),
        "a\n\nb\n-- \nc\n"
    );
    assert_eq!(one_line(" a\n  b "), "a b");
}

/// The prefilled answer letter, as staff send it unchanged.
fn letter(lang: &str) -> String {
    let lang = mail_lang(lang).expect("lang");
    let mut letter = lang.strings().fill(
        "letters.access",
        &[
            ("name", "Camille Martin"),
            ("reference", "DSAR-2026-000123"),
        ],
    );
    letter.push_str("\n\nEffacé :\n- Boutique en ligne: customers (1 enregistrement, supprimé)\n- Boutique en ligne: orders (2 enregistrements, anonymisé)");
    letter
}

/// The words of a text, one space apart (a non-breaking space stays one).
fn flat(text: &str) -> String {
    text.split([' ', '\n'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn every_mail_greets_once_and_signs_once_even_with_the_prefilled_letter() {
    for kind in MailKind::ALL {
        for (lang, greetings, signature) in [
            (
                "fr",
                ["Bonjour", "Cordialement"],
                "L'équipe protection des données",
            ),
            ("en", ["Hello", "Dear "], "The data protection team"),
        ] {
            let note = letter(lang);
            let mut f = facts(lang, Some(LINK));
            f.note = Some(note.as_str());
            let mail = rendered(kind, &f);
            for body in [&mail.text, &unescaped(&mail.html)] {
                let hellos: usize = greetings.iter().map(|g| count(body, g)).sum();
                assert_eq!(hellos, 1, "{kind} {lang}: {body}");
                assert_eq!(count(body, signature), 1, "{kind} {lang}: {body}");
                assert!(
                    !body.contains("Kind regards")
                        && !body.contains("Le délégué à la protection des données\n")
                );
            }
        }
    }
}

#[test]
fn the_teams_text_becomes_paragraphs_line_breaks_and_a_list_in_html() {
    let mut f = facts("fr", Some(LINK));
    f.note = Some(
        "Premier paragraphe <b>gras</b> & co.\r\n\r\nDeuxième\nligne.\n\nEffacé :\n- customers\n- orders",
    );
    let mail = rendered(MailKind::Fulfilled, &f);
    let html = &mail.html;
    assert!(!html.contains("pre-wrap"), "{html}");
    assert!(
        html.contains("<p style=\"margin:0 0 16px;\">Premier paragraphe &#60;b&#62;gras&#60;/b&#62; &#38; co.</p>"),
        "{html}"
    );
    assert!(html.contains(">Deuxième<br>\nligne.</p>"), "{html}");
    assert!(
        html.contains(">Effacé :</p>\n<ul style=\"margin:0 0 16px;padding-left:24px;\"><li>customers</li><li>orders</li></ul>"),
        "{html}"
    );
    // The button's address is spelled out below it.
    assert!(unescaped(html).contains(&format!(">{LINK}</a>")), "{html}");
}

#[test]
fn the_text_part_wraps_at_72_columns_between_words() {
    let long_link = "https://privacy.example.org/fr/r/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for kind in MailKind::ALL {
        for lang in ["fr", "en"] {
            let note = format!("{}\n\nVoir {long_link} pour le détail.", letter(lang));
            let mut f = facts(lang, Some(long_link));
            f.note = Some(note.as_str());
            f.kind_label = if lang == "fr" {
                "droit à l'effacement (« droit à l'oubli »)"
            } else {
                "right to erasure (\"right to be forgotten\")"
            };
            f.clock_stopped = true;
            let mail = rendered(kind, &f);
            for line in mail.text.lines() {
                assert!(
                    line.chars().count() <= 72 || !line.trim().contains(' '),
                    "{kind} {lang}: a line of {} columns: {line}\n{}",
                    line.chars().count(),
                    mail.text
                );
                assert!(
                    !line.starts_with([':', ';', '?', '!', '»']),
                    "{kind} {lang}: {line}"
                );
            }
            assert!(
                mail.text.lines().any(|l| l == long_link),
                "{kind} {lang}: {}",
                mail.text
            );
            // Nothing lost or cut: the words read the same once the lines are joined.
            let words = mail.text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                words.contains("The data protection team")
                    || words.contains("L'équipe protection des données")
            );
            if matches!(kind, MailKind::Fulfilled) {
                let letter_words = letter(lang)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(
                    words.contains(&letter_words),
                    "{kind} {lang}: {}",
                    mail.text
                );
            }
        }
    }
}

#[test]
fn a_kind_name_with_its_own_parentheses_is_never_put_in_parentheses() {
    for kind in MailKind::ALL {
        for (lang, label) in [
            ("fr", "droit à l'effacement (« droit à l'oubli »)"),
            ("en", "right to erasure (\"right to be forgotten\")"),
        ] {
            let mut f = facts(lang, Some(LINK));
            f.kind_label = label;
            let mail = rendered(kind, &f);
            for body in [&mail.text, &unescaped(&mail.html)] {
                let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
                assert!(
                    !flat.contains(&format!("({label}")),
                    "{kind} {lang}: {flat}"
                );
                assert!(
                    !flat.contains("»))") && !flat.contains("\"))"),
                    "{kind} {lang}: {flat}"
                );
            }
        }
    }
}

#[test]
fn wrapping_keeps_short_lines_long_words_and_list_indents() {
    assert_eq!(wrap_text("a b\n\n-- \n", 72), "a b\n\n-- \n");
    assert_eq!(wrap_text("aaa bbb ccc", 7), "aaa bbb\nccc\n");
    assert_eq!(
        wrap_text("aa https://x.example/long bb", 6),
        "aa\nhttps://x.example/long\nbb\n"
    );
    assert_eq!(wrap_text("- one two three", 9), "- one two\n  three\n");
    assert_eq!(
        wrap_text("Motif : voir « ceci »", 8),
        "Motif :\nvoir\n« ceci »\n"
    );
}

#[test]
#[ignore = "prints every mail, to read them: cargo test -- --ignored --nocapture print_every_mail"]
fn print_every_mail() {
    for kind in MailKind::ALL {
        for lang in ["fr", "en"] {
            let mut f = facts(lang, Some(LINK));
            f.clock_stopped = true;
            let mail = rendered(kind, &f);
            println!(
                "==== {kind} {lang}\nSubject: {}\n\n{}\n---- html\n{}",
                mail.subject, mail.text, mail.html
            );
        }
    }
}
