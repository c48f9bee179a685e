//! The request page, black-box: the action panel offers only what the request's state allows,
//! a refused action keeps what was typed and says why in the staff's language, a refusal goes
//! through its confirmation page, and no code or identifier reaches the page.

use serde_json::{Value, json};

use crate::admin::staff;
use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Page, Part, mails_to};

/// Every action form of the page, by what it posts (or the link that opens it).
const ACTIONS: [&str; 10] = [
    "assign", "verify", "hold", "resume", "extend", "fulfil", "reply", "note", "dispatch", "reject",
];

/// The action forms the page holds.
fn offered(page: &Page) -> Vec<&'static str> {
    ACTIONS
        .into_iter()
        .filter(|a| {
            if *a == "reject" {
                page.html.contains("?confirm=reject")
            } else {
                page.html
                    .contains(&format!("name=\"action\" value=\"{a}\""))
            }
        })
        .collect()
}

/// The words a person reads: the page without its tags and what they hold.
fn visible(page: &Page) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in page.html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
}

async fn step(app: &TestApp, reference: &str, body: Value) {
    let res = app
        .post(&format!("/api/v1/requests/{reference}/events"), &body)
        .await;
    assert_eq!(res.status.as_u16(), 200, "{body}: {:?}", res.body);
}

/// A request filed through the API (waiting for its identity to be verified).
async fn filed(app: &TestApp, email: &str) -> (String, String) {
    let filed = app
        .file(json!({
            "kind": "erasure",
            "requester": { "name": "Camille Martin", "email": email },
            "language": "fr",
            "details": "Toutes mes données, merci."
        }))
        .await;
    (
        filed["reference"].as_str().expect("reference").to_string(),
        filed["id"].as_str().expect("id").to_string(),
    )
}

/// A request filed on the portal and not confirmed yet: new.
async fn unconfirmed(app: &TestApp, email: &str) -> String {
    let mut person = Browser::new(app);
    let form = person.get("/fr/request/access").await;
    let res = person
        .post(
            "/fr/request/access",
            &[
                Part::Field("csrf", &form.csrf()),
                Part::Field("name", "Hugo Petit"),
                Part::Field("email", email),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("access_scope", "all"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = person.follow(res).await;
    let start = page.html.find("DSAR-").expect("reference");
    page.html[start..start + 16].to_string()
}

fn set_lang(app: &TestApp, email: &str, lang: &str) {
    let mut conn = app.state.pool.get().expect("conn");
    let user = dsar::store::users::find_by_email(&mut conn, email)
        .expect("lookup")
        .expect("user");
    dsar::store::users::set_lang(&mut conn, user.id, Some(lang)).expect("lang");
}

async fn each_state_offers_only_what_it_allows(app: TestApp) {
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let new = unconfirmed(&app, "hugo@example.fr").await;
    let (verifying, _) = filed(&app, "a@example.fr").await;
    let (in_progress, _) = filed(&app, "b@example.fr").await;
    step(
        &app,
        &in_progress,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    let (on_hold, _) = filed(&app, "c@example.fr").await;
    step(
        &app,
        &on_hold,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    step(
        &app,
        &on_hold,
        json!({ "type": "hold", "note": "Quel compte ?" }),
    )
    .await;
    let (fulfilled, _) = filed(&app, "d@example.fr").await;
    step(
        &app,
        &fulfilled,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    step(&app, &fulfilled, json!({ "type": "fulfil" })).await;
    let (rejected, _) = filed(&app, "e@example.fr").await;
    step(
        &app,
        &rejected,
        json!({ "type": "reject", "ground": "manifestly_unfounded", "note": "Quarante fois." }),
    )
    .await;
    let (withdrawn, _) = filed(&app, "f@example.fr").await;
    step(&app, &withdrawn, json!({ "type": "withdraw" })).await;

    // No data source is configured here: the answer is written by hand once in progress.
    let cases: [(&str, &[&str]); 7] = [
        (&new, &["assign", "verify", "extend", "reply", "note"]),
        (
            &verifying,
            &[
                "assign", "verify", "hold", "extend", "reply", "note", "reject",
            ],
        ),
        (
            &in_progress,
            &[
                "assign", "hold", "extend", "fulfil", "reply", "note", "reject",
            ],
        ),
        (
            &on_hold,
            &["assign", "resume", "extend", "reply", "note", "reject"],
        ),
        (&fulfilled, &["note"]),
        (&rejected, &["note"]),
        (&withdrawn, &["note"]),
    ];
    for (reference, expected) in cases {
        let page = dpo.get(&format!("/admin/requests/{reference}")).await;
        assert_eq!(page.status.as_u16(), 200);
        assert_eq!(offered(&page), expected, "{reference}");
    }

    // The next step comes first, in words.
    let page = dpo.get(&format!("/admin/requests/{verifying}")).await;
    page.assert_contains("Verify the requester&#39;s identity, or ask them for a proof.");
    let page = dpo.get(&format!("/admin/requests/{on_hold}")).await;
    page.assert_contains("Wait for the requester&#39;s answer, then resume the request.");
    page.assert_contains("Clock stopped");

    // A viewer reads the page and is offered nothing.
    let mut viewer = staff(&app, "viewer@example.org", dsar::staff::Role::Viewer).await;
    let page = viewer.get(&format!("/admin/requests/{in_progress}")).await;
    assert_eq!(offered(&page), Vec::<&str>::new());
    page.assert_contains("Your role lets you read this request, not act on it.");
}

async fn a_refused_action_keeps_what_was_typed_and_says_why(app: TestApp) {
    let mut en = staff(&app, "en@example.org", dsar::staff::Role::Dpo).await;
    let mut fr = staff(&app, "fr@example.org", dsar::staff::Role::Dpo).await;
    set_lang(&app, "fr@example.org", "fr");
    let (reference, _) = filed(&app, "camille@example.fr").await;
    step(
        &app,
        &reference,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    let url = format!("/admin/requests/{reference}");
    let before = app.counts();

    // Beyond the cap of the default rule (one month more): refused, the reasons kept.
    for (browser, error, said, remains) in [
        (
            &mut fr,
            "<title>Erreur\u{a0}: ",
            "Cette prolongation dépasse le maximum permis",
            "il reste 1 mois",
        ),
        (
            &mut en,
            "<title>Error: ",
            "This extension goes beyond the most allowed",
            "1 month remains",
        ),
    ] {
        let csrf = browser.get(&url).await.csrf();
        let page = browser
            .post_urlencoded(
                &format!("{url}/action"),
                &[
                    ("csrf", &csrf),
                    ("action", "extend"),
                    ("months", "4"),
                    ("days", "0"),
                    ("text", "Vos données sont dans quatre systèmes."),
                ],
            )
            .await;
        assert_eq!(page.status.as_u16(), 422, "{}", page.html);
        page.assert_contains(error);
        page.assert_contains(said);
        page.assert_contains(remains);
        page.assert_contains("Vos données sont dans quatre systèmes.</textarea>");
        page.assert_contains("name=\"months\" type=\"number\" inputmode=\"numeric\" min=\"0\" max=\"12\" value=\"4\"");
        page.assert_contains("tabindex=\"-1\" autofocus");
        page.assert_contains("href=\"#ext-months\"");
        assert!(!page.html.contains("goes beyond the cap"), "{}", page.html);
    }

    // An empty message: the French sentence, the field linked.
    let csrf = fr.get(&url).await.csrf();
    let page = fr
        .post_urlencoded(
            &format!("{url}/action"),
            &[("csrf", &csrf), ("action", "note"), ("text", "   ")],
        )
        .await;
    assert_eq!(page.status.as_u16(), 422);
    page.assert_contains("Écrivez la note.");
    page.assert_contains("href=\"#note\"");

    // A move the state does not allow (a request in progress cannot be resumed): in words,
    // never the transition table.
    for (browser, said) in [
        (&mut fr, "La demande n&#39;est pas en attente"),
        (
            &mut en,
            "The request is not on hold: there is nothing to resume.",
        ),
    ] {
        let csrf = browser.get(&url).await.csrf();
        let page = browser
            .post_urlencoded(
                &format!("{url}/action"),
                &[("csrf", &csrf), ("action", "resume")],
            )
            .await;
        assert_eq!(page.status.as_u16(), 422);
        page.assert_contains(said);
        assert!(!page.html.contains("in_progress"), "{}", page.html);
    }
    assert_eq!(app.counts(), before, "nothing was recorded");

    // A hold on a request nobody confirmed yet: refused in words, the question kept.
    let new = unconfirmed(&app, "hugo@example.fr").await;
    let new_url = format!("/admin/requests/{new}");
    let csrf = fr.get(&new_url).await.csrf();
    let page = fr
        .post_urlencoded(
            &format!("{new_url}/action"),
            &[
                ("csrf", &csrf),
                ("action", "hold"),
                ("reason", "identity"),
                ("text", "Merci d'envoyer une pièce d'identité."),
            ],
        )
        .await;
    assert_eq!(page.status.as_u16(), 422);
    page.assert_contains(
        "Seule une demande en cours de vérification ou de traitement peut être mise en attente",
    );
    page.assert_contains("Nouvelle");
    assert!(!page.html.contains("cannot become"), "{}", page.html);

    // Done: back on the page with a notice in words.
    let csrf = csrf_of(&mut en, &url).await;
    let res = en
        .post_urlencoded(
            &format!("{url}/action"),
            &[
                ("csrf", &csrf),
                ("action", "note"),
                ("text", "Called the shop."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303);
    let page = en.follow(res).await;
    page.assert_contains("The note is added.");
    page.assert_contains("Called the shop.");
}

async fn csrf_of(browser: &mut Browser<'_>, url: &str) -> String {
    browser.get(url).await.csrf()
}

async fn a_refusal_goes_through_its_confirmation(app: TestApp) {
    let mut fr = staff(&app, "fr@example.org", dsar::staff::Role::Dpo).await;
    set_lang(&app, "fr@example.org", "fr");
    let email = "camille@example.fr";
    let (reference, _) = filed(&app, email).await;
    let url = format!("/admin/requests/{reference}");
    let page = fr.get(&url).await;
    page.assert_contains("Refuser la demande");
    // No refusal from the request page itself: only a link to the confirmation.
    assert!(!page.html.contains("name=\"action\" value=\"reject\""));

    let confirm = fr.get(&format!("{url}?confirm=reject")).await;
    assert_eq!(confirm.status.as_u16(), 200);
    confirm.assert_contains("Ce qui va se passer");
    confirm.assert_contains("Demande manifestement infondée (art. 12.5 du RGPD)");
    confirm.assert_contains("Exception à l&#39;effacement (art. 17.3 du RGPD)");
    confirm.assert_contains("name=\"action\" value=\"reject\"");

    // No explanation: the page comes back with the ground chosen and the reason.
    let res = fr
        .post_urlencoded(
            &format!("{url}/action"),
            &[
                ("csrf", &confirm.csrf()),
                ("action", "reject"),
                ("ground", "excessive"),
                ("text", ""),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("<title>Erreur\u{a0}: Refuser la demande");
    res.assert_contains("Écrivez l&#39;explication du refus");
    res.assert_contains("value=\"excessive\" checked");

    let res = fr
        .post_urlencoded(
            &format!("{url}/action"),
            &[
                ("csrf", &confirm.csrf()),
                ("action", "reject"),
                ("ground", "excessive"),
                ("text", "Vous avez déposé la même demande chaque semaine."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = fr.follow(res).await;
    page.assert_contains("La demande est refusée");
    page.assert_contains("Refusée");
    page.assert_contains(
        "Demande refusée\u{a0}: Demande excessive, notamment par son caractère répétitif",
    );
    // Closed: no confirmation any more.
    let again = fr.get(&format!("{url}?confirm=reject")).await;
    assert_eq!(again.status.as_u16(), 303);
    app.run_worker().await;
    let mail = mails_to(&app, email).pop().expect("the refusal's mail");
    assert!(mail.text.contains("chaque semaine"), "{}", mail.text);
}

async fn no_code_or_identifier_reaches_the_page(app: TestApp) {
    let mut en = staff(&app, "en@example.org", dsar::staff::Role::Dpo).await;
    let mut fr = staff(&app, "fr@example.org", dsar::staff::Role::Dpo).await;
    set_lang(&app, "fr@example.org", "fr");
    let (reference, uuid) = filed(&app, "camille@example.fr").await;
    step(
        &app,
        &reference,
        json!({ "type": "verify", "method": "id_document" }),
    )
    .await;
    step(
        &app,
        &reference,
        json!({ "type": "hold", "note": "Quel compte ?" }),
    )
    .await;
    step(&app, &reference, json!({ "type": "resume" })).await;
    let url = format!("/admin/requests/{reference}");
    let csrf = csrf_of(&mut fr, &url).await;
    for (action, text) in [
        ("note", "Appel au magasin."),
        ("reply", "Bonjour, c'est en cours."),
    ] {
        let res = if action == "reply" {
            fr.post(
                &format!("{url}/send"),
                &[
                    Part::Field("csrf", &csrf),
                    Part::Field("action", action),
                    Part::Field("text", text),
                ],
            )
            .await
        } else {
            fr.post_urlencoded(
                &format!("{url}/action"),
                &[("csrf", &csrf), ("action", action), ("text", text)],
            )
            .await
        };
        assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    }
    let res = fr
        .post_urlencoded(
            &format!("{url}/action"),
            &[
                ("csrf", &csrf),
                ("action", "extend"),
                ("months", "1"),
                ("days", "0"),
                ("text", "Quatre systèmes."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    for (browser, words) in [
        (
            &mut fr,
            [
                "Identité vérifiée (pièce d'identité vue)",
                "Message de l'équipe",
                "Note interne",
                "Courriel",
            ],
        ),
        (
            &mut en,
            [
                "Identity verified (identity document seen)",
                "Message from the team",
                "Internal note",
                "Mail",
            ],
        ),
    ] {
        let page = browser.get(&url).await;
        let text = visible(&page);
        for word in words {
            assert!(text.contains(word), "{word} missing: {text}");
        }
        for code in [
            uuid.as_str(),
            "in_progress",
            "on_hold",
            "verifying",
            "confirm_email",
            "id_document",
            "staff:",
            "api:",
            "two-months",
            "erasure",
            "[missing",
            "Done:",
        ] {
            assert!(!text.contains(code), "{code} shown: {text}");
        }
        assert!(!page.html.contains(&uuid), "the UUID is in the page");
    }
}

on_both_backends!(staff_request_offers, each_state_offers_only_what_it_allows);
on_both_backends!(
    staff_request_refusals,
    a_refused_action_keeps_what_was_typed_and_says_why
);
on_both_backends!(
    staff_request_reject,
    a_refusal_goes_through_its_confirmation
);
on_both_backends!(staff_request_words, no_code_or_identifier_reaches_the_page);
