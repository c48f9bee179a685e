//! Portal journeys that used to dead-end: a reloaded confirmation, an unknown address, an
//! answered hold, a corrected form, a closed request's withdrawal, a lost link.

use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Page, Part, mails_to};

fn access_form<'a>(
    csrf: &'a str,
    email: &'a str,
    kind_answer: (&'a str, &'a str),
) -> Vec<Part<'a>> {
    vec![
        Part::Field("csrf", csrf),
        Part::Field("name", "Camille Martin"),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
        Part::Field(kind_answer.0, kind_answer.1),
    ]
}

fn reference_in(page: &Page) -> String {
    let start = page
        .html
        .find("DSAR-")
        .expect("the page gives the reference");
    page.html[start..start + 16].to_string()
}

/// Files an access request through the form; returns the confirmation page.
async fn file(browser: &mut Browser<'_>, lang: &str, email: &str) -> Page {
    let form = browser.get(&format!("/{lang}/request/access")).await;
    let csrf = form.csrf();
    let done = browser
        .post(
            &format!("/{lang}/request/access"),
            &access_form(&csrf, email, ("access_scope", "all")),
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.html);
    browser.follow(done).await
}

/// The request's page, opened from its confirmation mail (which confirms the address).
async fn open_from_mail(app: &TestApp, browser: &mut Browser<'_>, email: &str) -> String {
    app.run_worker().await;
    let link = mails_to(app, email)[0].link().expect("a link");
    let page = browser.get(&link).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.html);
    link
}

struct Words {
    recorded: &'static str,
    not_found: &'static str,
    waiting: &'static str,
    answered: &'static str,
    stays_suspended: &'static str,
    in_progress: &'static str,
    withdrawn: &'static str,
    confirm_withdrawal: &'static str,
    link_sent: &'static str,
    resend_button: &'static str,
    mail_subject: &'static str,
    greeting: &'static str,
    email_invalid: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            recorded: "Votre demande est enregistrée",
            not_found: "Page introuvable",
            waiting: "en attente d&#39;un élément de votre part",
            answered: "votre réponse est entre les mains de notre équipe",
            stays_suspended: "Le délai reste suspendu jusqu&#39;à ce que notre équipe reprenne",
            in_progress: "en cours de traitement",
            withdrawn: "Votre demande est retirée",
            confirm_withdrawal: "Oui, retirer ma demande",
            link_sent: "nous venons de lui envoyer un nouveau lien",
            resend_button: "Recevoir à nouveau le lien",
            mail_subject: "le lien vers votre demande",
            greeting: "Bonjour",
            email_invalid: "Indiquez une adresse électronique valide",
        },
        _ => Words {
            recorded: "Your request is recorded",
            not_found: "Page not found",
            waiting: "waiting for something from you",
            answered: "your answer is with our team",
            stays_suspended: "The deadline stays suspended until our team resumes",
            in_progress: "being handled",
            withdrawn: "Your request is withdrawn",
            confirm_withdrawal: "Yes, withdraw my request",
            link_sent: "we have just sent it a new link",
            resend_button: "Send me the link again",
            mail_subject: "the link to your request",
            greeting: "Hello",
            email_invalid: "Enter a valid email address",
        },
    }
}

async fn reloading_the_confirmation_files_nothing(app: TestApp, lang: &str) {
    let w = words(lang);
    let mut b = Browser::new(&app);
    let form = b.get(&format!("/{lang}/request/access")).await;
    let csrf = form.csrf();
    let email = format!("reload.{lang}@example.org");
    let done = b
        .post(
            &format!("/{lang}/request/access"),
            &access_form(&csrf, &email, ("access_scope", "all")),
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.html);
    let location = done.location.clone().expect("a redirect");
    assert_eq!(
        location,
        format!("/{lang}/submitted"),
        "nothing secret in the address"
    );
    let page = b.follow(done).await;
    assert_eq!(page.status.as_u16(), 200);
    page.assert_contains(w.recorded);
    page.assert_contains(&email);
    let reference = reference_in(&page);
    // A reload shows the same page and files nothing more.
    for _ in 0..2 {
        let again = b.get(&location).await;
        assert_eq!(again.status.as_u16(), 200);
        again.assert_contains(w.recorded);
        again.assert_contains(&reference);
    }
    assert_eq!(
        app.counts().0,
        1,
        "one request, however often the page is reloaded"
    );
    app.run_worker().await;
    assert_eq!(mails_to(&app, &email).len(), 1, "one confirmation mail");
    // The page offers the link again.
    page.assert_contains(&format!("action=\"/{lang}/link\""));
    // Someone else (no cookie), or the same browser once the page is stale, learns nothing.
    let stranger = Browser::new(&app).get(&location).await;
    assert_eq!(stranger.status.as_u16(), 200);
    assert!(!stranger.html.contains(&reference) && !stranger.html.contains(&email));
    app.state.clock.advance(chrono::Duration::hours(1));
    let stale = b.get(&location).await;
    assert!(!stale.html.contains(&reference), "{}", stale.html);
}
async fn reload_fr(app: TestApp) {
    reloading_the_confirmation_files_nothing(app, "fr").await;
}
async fn reload_en(app: TestApp) {
    reloading_the_confirmation_files_nothing(app, "en").await;
}
on_both_backends!(portal_reload_fr, reload_fr);
on_both_backends!(portal_reload_en, reload_en);

async fn unknown_paths_lead_back_home(app: TestApp) {
    let mut b = Browser::new(&app);
    for (path, lang) in [
        ("/en/request", "en"),
        ("/fr/nimporte", "fr"),
        ("/en/r/abc/nothing", "en"),
    ] {
        let page = b.get(path).await;
        assert_eq!(page.status.as_u16(), 404, "{path}");
        assert!(page.content_type.starts_with("text/html"), "{path}");
        page.assert_contains(words(lang).not_found);
        page.assert_contains(&format!("href=\"/{lang}/\""));
    }
    // A real page with a trailing slash: to the page.
    let slash = b.get("/fr/request/access/").await;
    assert_eq!(slash.status.as_u16(), 301);
    assert_eq!(slash.location.as_deref(), Some("/fr/request/access"));
    // No language in the path: the browser's, else French.
    let mut english = Browser::new(&app);
    english.accept_language = Some("en-GB,en;q=0.9".into());
    let page = english.get("/static/nope.css").await;
    assert_eq!(page.status.as_u16(), 404);
    page.assert_contains("Page not found");
    page.assert_contains("href=\"/en/\"");
    let page = Browser::new(&app).get("/static/nope.css").await;
    assert_eq!(page.status.as_u16(), 404);
    page.assert_contains("Page introuvable");
    // A post to nowhere gets the page too.
    let posted = b.post_urlencoded("/fr/nimporte", &[("a", "b")]).await;
    assert_eq!(posted.status.as_u16(), 404);
    posted.assert_contains("Page introuvable");
    // The API keeps its JSON problems, the dashboard its own pages.
    let api = app.get("/api/v2/requests").await;
    crate::helpers::assert_problem(&api, 404, "no API route");
    let api = app.get("/api/v1/nothing").await;
    crate::helpers::assert_problem(&api, 404, "no API route");
    let admin = b.get("/admin/nothing").await;
    assert!(!admin.html.contains("Page introuvable"), "{}", admin.html);
}
on_both_backends!(portal_unknown_paths, unknown_paths_lead_back_home);

async fn an_answered_hold_says_the_team_has_it(app: TestApp, lang: &str) {
    app.set_now("2025-03-03T10:00:00Z");
    let w = words(lang);
    let email = format!("hold.{lang}@example.org");
    let mut b = Browser::new(&app);
    let reference = reference_in(&file(&mut b, lang, &email).await);
    let link = open_from_mail(&app, &mut b, &email).await;
    let held = app
        .post(
            &format!("/api/v1/requests/{reference}/events"),
            &json!({ "type": "hold", "note": "Which customer account?" }),
        )
        .await;
    assert_eq!(held.status.as_u16(), 200, "{:?}", held.body);
    let page = b.get(&link).await;
    page.assert_contains(w.waiting);

    app.set_now("2025-03-05T09:00:00Z");
    let sent = b
        .post(
            &format!("{link}/message"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("body", "The account is C-1042"),
                Part::File("attachment", "", b""),
            ],
        )
        .await;
    assert_eq!(sent.status.as_u16(), 303, "{}", sent.html);
    let page = b.follow(sent).await;
    page.assert_contains(w.answered);
    page.assert_contains(w.stays_suspended);
    assert!(!page.html.contains(w.waiting), "{}", page.html);
    // Still true on the next visit, until the team resumes.
    b.get(&link).await.assert_contains(w.answered);
    let resumed = app
        .post(
            &format!("/api/v1/requests/{reference}/events"),
            &json!({ "type": "resume" }),
        )
        .await;
    assert_eq!(resumed.status.as_u16(), 200, "{:?}", resumed.body);
    let page = b.get(&link).await;
    page.assert_contains(w.in_progress);
    assert!(!page.html.contains(w.answered));
}
async fn hold_fr(app: TestApp) {
    an_answered_hold_says_the_team_has_it(app, "fr").await;
}
async fn hold_en(app: TestApp) {
    an_answered_hold_says_the_team_has_it(app, "en").await;
}
on_both_backends!(portal_hold_answered_fr, hold_fr);
on_both_backends!(portal_hold_answered_en, hold_en);

/// Two filings an hour allowed: corrected forms do not use them up, and even invalid posts
/// are bounded (ten per allowed filing).
async fn only_accepted_filings_count_against_the_limit(app: TestApp) {
    let mut b = Browser::new(&app);
    let form = b.get("/en/request/access").await;
    let csrf = form.csrf();
    let mut posts = 0;
    for _ in 0..3 {
        let wrong = b
            .post(
                "/en/request/access",
                &access_form(&csrf, "not-an-address", ("access_scope", "all")),
            )
            .await;
        posts += 1;
        assert_eq!(wrong.status.as_u16(), 422, "{}", wrong.html);
        wrong.assert_contains("Enter a valid email address");
    }
    for i in 0..2 {
        let email = format!("ok{i}@example.org");
        let ok = b
            .post(
                "/en/request/access",
                &access_form(&csrf, &email, ("access_scope", "all")),
            )
            .await;
        posts += 1;
        assert_eq!(ok.status.as_u16(), 303, "{}", ok.html);
    }
    let over = b
        .post(
            "/en/request/access",
            &access_form(&csrf, "ok2@example.org", ("access_scope", "all")),
        )
        .await;
    posts += 1;
    assert_eq!(over.status.as_u16(), 429);
    over.assert_contains("Too many requests");
    assert_eq!(app.counts().0, 2);
    // A flood of invalid posts meets the looser bound: 2 × 10 posts an hour.
    while posts < 20 {
        let wrong = b
            .post(
                "/en/request/access",
                &access_form(&csrf, "nope", ("access_scope", "all")),
            )
            .await;
        assert_eq!(wrong.status.as_u16(), 422);
        posts += 1;
    }
    let flood = b
        .post(
            "/en/request/access",
            &access_form(&csrf, "nope", ("access_scope", "all")),
        )
        .await;
    assert_eq!(flood.status.as_u16(), 429);
}
on_both_backends!(
    portal_limit_counts_filings,
    only_accepted_filings_count_against_the_limit,
    [("DSAR_PORTAL__SUBMISSIONS_PER_HOUR", "2")]
);

async fn a_closed_request_offers_no_withdrawal(app: TestApp) {
    let w = words("en");
    let mut b = Browser::new(&app);
    let reference = reference_in(&file(&mut b, "en", "gone@example.org").await);
    let link = open_from_mail(&app, &mut b, "gone@example.org").await;
    let page = b.get(&link).await;
    page.assert_contains(&format!("href=\"{link}/withdraw\""));
    let confirm = b.get(&format!("{link}/withdraw")).await;
    let withdrawn = b
        .post_urlencoded(&format!("{link}/withdraw"), &[("csrf", &confirm.csrf())])
        .await;
    assert_eq!(withdrawn.status.as_u16(), 303);
    let page = b.follow(withdrawn).await;
    page.assert_contains(w.withdrawn);
    assert!(
        !page.html.contains(&format!("{link}/withdraw")),
        "{}",
        page.html
    );
    let again = b.get(&format!("{link}/withdraw")).await;
    assert_eq!(again.status.as_u16(), 303, "{}", again.html);
    assert_eq!(again.location.as_deref(), Some(link.as_str()));
    assert!(!again.html.contains(w.confirm_withdrawal));

    // A request answered meanwhile is never called withdrawn.
    let mut other = Browser::new(&app);
    let answered = reference_in(&file(&mut other, "en", "done@example.org").await);
    let link = open_from_mail(&app, &mut other, "done@example.org").await;
    let confirm = other.get(&format!("{link}/withdraw")).await;
    let fulfilled = app
        .post(
            &format!("/api/v1/requests/{answered}/events"),
            &json!({ "type": "fulfil" }),
        )
        .await;
    assert_eq!(fulfilled.status.as_u16(), 200, "{:?}", fulfilled.body);
    let late = other
        .post_urlencoded(&format!("{link}/withdraw"), &[("csrf", &confirm.csrf())])
        .await;
    assert_eq!(late.status.as_u16(), 303);
    let page = other.follow(late).await;
    assert!(!page.html.contains(w.withdrawn), "{}", page.html);
    page.assert_contains("answered");
    let api = app.get(&format!("/api/v1/requests/{answered}")).await;
    assert_eq!(api.body["status"], "fulfilled");
    let api = app.get(&format!("/api/v1/requests/{reference}")).await;
    assert_eq!(api.body["status"], "withdrawn");
}
on_both_backends!(
    portal_closed_no_withdrawal,
    a_closed_request_offers_no_withdrawal
);

async fn the_link_can_be_sent_again(app: TestApp, lang: &str) {
    let w = words(lang);
    let email = format!("lost.{lang}@example.org");
    let mut b = Browser::new(&app);
    file(&mut b, lang, &email).await;
    // A second request from the same address, of another kind, then a closed one.
    let form = b.get(&format!("/{lang}/request/restriction")).await;
    let filed = b
        .post(
            &format!("/{lang}/request/restriction"),
            &access_form(&form.csrf(), &email, ("restriction_ground", "accuracy")),
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    app.run_worker().await;
    assert_eq!(mails_to(&app, &email).len(), 2);
    let first_link = mails_to(&app, &email)[0].link().expect("link");

    // The form is on the home page; the answer is the same page for every address.
    let mut person = Browser::new(&app);
    let home = person.get(&format!("/{lang}/")).await;
    home.assert_contains(w.resend_button);
    home.assert_contains(&format!("action=\"/{lang}/link\""));
    // Typed in capitals: the same address.
    let asked = person
        .post_urlencoded(
            &format!("/{lang}/link"),
            &[("csrf", &home.csrf()), ("email", &email.to_uppercase())],
        )
        .await;
    assert_eq!(asked.status.as_u16(), 303, "{}", asked.html);
    let answer = person.follow(asked).await;
    answer.assert_contains(w.link_sent);
    let nobody = person
        .post_urlencoded(
            &format!("/{lang}/link"),
            &[("csrf", &home.csrf()), ("email", "nobody@example.org")],
        )
        .await;
    assert_eq!(nobody.location, Some(format!("/{lang}/link/sent")));
    assert_eq!(
        person.follow(nobody).await.html,
        answer.html,
        "no enumeration"
    );

    app.run_worker().await;
    let mails = mails_to(&app, &email);
    assert_eq!(mails.len(), 4, "a fresh link for each open request");
    for mail in &mails[2..] {
        assert!(mail.subject.contains(w.mail_subject), "{}", mail.subject);
        assert!(mail.text.contains(w.greeting), "{}", mail.text);
        let link = mail.link().expect("a fresh link");
        assert!(link.starts_with(&format!("/{lang}/r/")), "{link}");
        assert_ne!(link, first_link);
        assert_eq!(person.get(&link).await.status.as_u16(), 200);
    }
    assert!(mails_to(&app, "nobody@example.org").is_empty());
    assert_eq!(
        b.get(&first_link).await.status.as_u16(),
        200,
        "the old link still works"
    );

    // A typo is shown back with what was typed; a forged post is refused.
    let typo = person
        .post_urlencoded(
            &format!("/{lang}/link"),
            &[("csrf", &home.csrf()), ("email", "lost.example.org")],
        )
        .await;
    assert_eq!(typo.status.as_u16(), 422);
    typo.assert_contains(w.email_invalid);
    typo.assert_contains("value=\"lost.example.org\"");
    let forged = Browser::new(&app)
        .post_urlencoded(
            &format!("/{lang}/link"),
            &[("csrf", &home.csrf()), ("email", &email)],
        )
        .await;
    assert_eq!(forged.status.as_u16(), 403);

    // Asked again and again, an address gets three rounds an hour, then nothing more, and
    // the page does not change.
    for _ in 0..3 {
        let again = person
            .post_urlencoded(
                &format!("/{lang}/link"),
                &[("csrf", &home.csrf()), ("email", &email)],
            )
            .await;
        assert_eq!(again.status.as_u16(), 303);
    }
    app.run_worker().await;
    // Two confirmations, the first round of links, the two "received" mails that opening
    // those links caused (it confirms the address), then two more rounds only.
    assert_eq!(
        mails_to(&app, &email).len(),
        10,
        "three rounds of two links"
    );
}
async fn resend_fr(app: TestApp) {
    the_link_can_be_sent_again(app, "fr").await;
}
async fn resend_en(app: TestApp) {
    the_link_can_be_sent_again(app, "en").await;
}
on_both_backends!(portal_resend_fr, resend_fr);
on_both_backends!(portal_resend_en, resend_en);

/// A withdrawn request gets no link; too many asks from one connection are slowed.
async fn links_only_for_open_requests_and_asks_are_limited(app: TestApp) {
    let mut b = Browser::new(&app);
    file(&mut b, "en", "closed@example.org").await;
    let link = open_from_mail(&app, &mut b, "closed@example.org").await;
    let confirm = b.get(&format!("{link}/withdraw")).await;
    b.post_urlencoded(&format!("{link}/withdraw"), &[("csrf", &confirm.csrf())])
        .await;
    app.run_worker().await;
    let before = mails_to(&app, "closed@example.org").len();
    let home = b.get("/en/link").await;
    home.assert_contains("Send me the link again");
    for i in 0..10 {
        let email = match i {
            0 => "closed@example.org".to_string(),
            i => format!("x{i}@example.org"),
        };
        let asked = b
            .post_urlencoded("/en/link", &[("csrf", &home.csrf()), ("email", &email)])
            .await;
        assert_eq!(asked.status.as_u16(), 303);
    }
    let asked = b
        .post_urlencoded(
            "/en/link",
            &[("csrf", &home.csrf()), ("email", "x10@example.org")],
        )
        .await;
    assert_eq!(
        asked.status.as_u16(),
        429,
        "ten asks an hour from one connection"
    );
    asked.assert_contains("Too many requests");
    app.run_worker().await;
    assert_eq!(mails_to(&app, "closed@example.org").len(), before);
}
on_both_backends!(
    portal_resend_limits,
    links_only_for_open_requests_and_asks_are_limited
);
