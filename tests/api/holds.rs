//! What follows an answer, black-box on the example shop (SQLite, or PostgreSQL in CI): a
//! restriction recorded when it is fulfilled, its lift announced to the person by mail and
//! carried out by the worker on the day; the rows an erasure kept under a legal obligation,
//! held, listed as their end comes, then erased in the shop by the worker (or left to the
//! team); a fee decided, mailed, waived, and in the register.

use diesel::prelude::*;
use serde_json::json;

use crate::admin::{signed_in, staff};
use crate::fulfilment::{World, sources_action, world};
use crate::helpers::{Backend, TestApp};
use crate::web::{Browser, Page, Part, mails_to};

fn audit_count(app: &TestApp, action: &str) -> usize {
    use dsar::store::schema::audit_log;
    let mut conn = app.state.pool.get().expect("conn");
    audit_log::table
        .filter(audit_log::action.eq(action))
        .count()
        .get_result::<i64>(&mut *conn)
        .expect("audit") as usize
}

/// A request filed through the API and verified, as the person wrote it on the portal's form.
pub(crate) async fn verified(app: &TestApp, kind: &str, form: serde_json::Value) -> String {
    let reference = app
        .file_verified(json!({ "kind": kind, "language": "fr",
            "requester": { "name": "Jeanne Martin", "email": "jeanne.martin@example.fr" } }))
        .await;
    let mut conn = app.state.pool.get().expect("conn");
    let row = dsar::workflow::find(&mut conn, &reference).expect("request");
    diesel::update(dsar::store::schema::requests::table.find(row.id))
        .set(dsar::store::schema::requests::form.eq(form.to_string()))
        .execute(&mut *conn)
        .expect("form");
    reference
}

/// Sends the request to the sources, lets them run, answers the archives' task, and sends
/// the answer.
pub(crate) async fn answered(w: &World, dpo: &mut Browser<'_>, reference: &str) {
    let app = &w.app;
    sources_action(dpo, reference, &[("action", "dispatch")]).await;
    app.run_worker().await;
    // Every task a source left (the archives' search, a table restricted by hand): done.
    let marker = format!("/admin/requests/{reference}/tasks/");
    loop {
        let page = dpo.get(&format!("/admin/requests/{reference}")).await;
        if !page.html.contains(&marker) {
            break;
        }
        let run = id_after(&page, &marker);
        let res = dpo
            .post(
                &format!("{marker}{run}"),
                &[
                    Part::Field("csrf", &page.csrf()),
                    Part::Field("outcome", "none"),
                    Part::Field("comment", "Fait à la main."),
                ],
            )
            .await;
        assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    }
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    let res = dpo
        .post(
            &format!("/admin/requests/{reference}/send"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("action", "fulfil"),
                Part::Field("text", "Votre demande est traitée."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
}

/// The number in the first link to `prefix<id>` on the page.
fn id_after(page: &Page, prefix: &str) -> String {
    let start = page
        .html
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {}", page.html))
        + prefix.len();
    page.html[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

fn restricted(w: &World) -> Vec<String> {
    w.shop
        .texts("SELECT email || ':' || CAST(restricted AS TEXT) AS v FROM customers ORDER BY id")
}

async fn a_restriction_is_lifted_on_the_day_its_notice_gave(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let jeanne = verified(
        app,
        "restriction",
        json!({ "restriction_ground": "accuracy" }),
    )
    .await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    answered(&w, &mut dpo, &jeanne).await;
    assert_eq!(
        restricted(&w),
        ["Jeanne.Martin@Example.fr:1", "paul.durand@example.fr:0"]
    );

    // In force, listed, with the person's ground and the sources that restricted.
    let list = dpo.get("/admin/restrictions").await;
    assert_eq!(list.status.as_u16(), 200);
    for words in [
        jeanne.as_str(),
        "Jeanne Martin",
        "Accuracy of the data contested — Art. 18(1)(a) GDPR",
        "Boutique en ligne",
        "In force",
        "Lift the restriction",
    ] {
        list.assert_contains(words);
    }
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("Restriction of processing in force");
    let id = id_after(&list, "/admin/restrictions/");
    let lift_url = format!("/admin/restrictions/{id}/lift");
    let form = dpo.get(&lift_url).await;
    form.assert_contains("10 March 2025 at the earliest");

    // Too soon for the notice to reach her, or no reason: the form again, what was typed kept.
    let reason = "La vérification est terminée : vos données sont exactes.";
    let res = dpo
        .post_urlencoded(
            &lift_url,
            &[
                ("csrf", &form.csrf()),
                ("on", "2025-03-05"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("choose 10 March 2025 or later");
    res.assert_contains("vos données sont exactes");
    res.assert_contains("href=\"#lift-on\"");
    let res = dpo
        .post_urlencoded(
            &lift_url,
            &[
                ("csrf", &form.csrf()),
                ("on", "2025-03-17"),
                ("reason", "  "),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Give the reason for the lift");
    res.assert_contains("value=\"2025-03-17\"");
    assert_eq!(audit_count(app, "restriction.lift_scheduled"), 0);

    let res = dpo
        .post_urlencoded(
            &lift_url,
            &[
                ("csrf", &form.csrf()),
                ("on", "2025-03-17"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let list = dpo.follow(res).await;
    list.assert_contains("The lift is scheduled and the notice has gone to the person.");
    list.assert_contains("Lift announced for 17 March 2025");
    app.run_worker().await;

    // The notice, in her language, with the day and the reason, before anything changes.
    let notice = mails_to(app, "jeanne.martin@example.fr")
        .into_iter()
        .find(|m| m.subject.contains("levée prochaine de la limitation"))
        .expect("the notice");
    let words = notice.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("La limitation sera levée le 17 mars 2025.")
            && words.contains("vos données sont exactes")
            && words.contains("article 18, paragraphe 3, du RGPD"),
        "{}",
        notice.text
    );
    assert!(notice.link().is_some());
    assert_eq!(restricted(&w)[0], "Jeanne.Martin@Example.fr:1");

    // The day before: still restricted. On the day: the shop lifts it; the mailing service
    // and the archives cannot, so the team is asked to.
    app.set_now("2025-03-16T12:00:00Z");
    app.run_worker().await;
    assert_eq!(restricted(&w)[0], "Jeanne.Martin@Example.fr:1");
    app.set_now("2025-03-17T06:00:00Z");
    app.run_worker().await;
    assert_eq!(
        restricted(&w),
        ["Jeanne.Martin@Example.fr:0", "paul.durand@example.fr:0"]
    );
    assert_eq!(audit_count(app, "restriction.lift_task"), 1);
    let mut dpo = signed_in(app, "dana@example.org").await;
    let list = dpo.get("/admin/restrictions").await;
    list.assert_contains("To lift by the team");
    list.assert_contains("To lift by hand — Service d&#39;envoi des lettres");
    let res = dpo
        .post_urlencoded(
            &format!("/admin/restrictions/{id}/done"),
            &[
                ("csrf", &list.csrf()),
                ("note", "Levée faite dans l'outil d'envoi et aux archives."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let list = dpo.follow(res).await;
    list.assert_contains("The lift of the restriction is recorded.");
    list.assert_contains("No restriction of processing is in force.");
    // Once lifted, nothing more to do: the action is refused.
    let again = dpo
        .post_urlencoded(
            &format!("/admin/restrictions/{id}/done"),
            &[("csrf", &list.csrf()), ("note", "")],
        )
        .await;
    assert_eq!(again.status.as_u16(), 422);
    again.assert_contains("This action is no longer possible");

    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    for words in [
        "Lift of the restriction announced to the person for 17 March 2025",
        "Day of the lift: a source cannot lift the restriction itself, the team must",
        "Restriction of processing lifted",
        "Levée faite dans l&#39;outil d&#39;envoi",
    ] {
        page.assert_contains(words);
    }
    for action in [
        "restriction.recorded",
        "restriction.lift_scheduled",
        "restriction.lifted",
    ] {
        assert_eq!(audit_count(app, action), 1, "{action}");
    }
}

async fn kept_rows_are_erased_when_their_retention_ends(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let jeanne = verified(app, "erasure", json!({ "erasure_scope": "all" })).await;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    answered(&w, &mut dpo, &jeanne).await;
    let invoices = || {
        w.shop
            .texts("SELECT number AS v FROM invoices ORDER BY number")
    };
    assert_eq!(invoices(), ["F-2024-0001", "F-2024-0107", "F-2025-0042"]);
    assert_eq!(audit_count(app, "hold.recorded"), 1);
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    for words in [
        "Legal holds",
        "invoices (2 records) — Code de commerce, art. L123-22, until 10 February 2035",
        "bounce log (1 record) — anti-spam evidence, until 3 March 2026",
        "2 holds under a legal obligation recorded",
    ] {
        page.assert_contains(words);
    }

    // Nothing ends within 90 days yet; in January 2026, the bounce log does.
    let list = dpo.get("/admin/holds").await;
    list.assert_contains("No legal hold ends in the next 90 days.");
    list.assert_contains("2 more holds end later.");
    app.set_now("2026-01-15T10:00:00Z");
    let mut dpo = signed_in(app, "dana@example.org").await;
    let list = dpo.get("/admin/holds").await;
    list.assert_contains("bounce log (1 record)");
    list.assert_contains("in 47 days");
    list.assert_contains("1 more hold ends later.");

    // Its day: the mailing service cannot erase it itself, so the team is asked to.
    app.set_now("2026-03-03T09:00:00Z");
    app.run_worker().await;
    let mut dpo = signed_in(app, "dana@example.org").await;
    let list = dpo.get("/admin/holds").await;
    list.assert_contains("To erase by the team");
    list.assert_contains("this source cannot erase kept data itself");
    let hold = id_after(&list, "/admin/holds/");
    let res = dpo
        .post_urlencoded(
            &format!("/admin/holds/{hold}/done"),
            &[
                ("csrf", &list.csrf()),
                ("note", "Journal purgé par le prestataire."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    dpo.follow(res)
        .await
        .assert_contains("The erasure of the kept data is recorded.");
    assert_eq!(invoices().len(), 3, "the invoices are still kept");

    // Ten years after the last invoice: the worker erases hers in the shop, and only hers.
    app.set_now("2035-02-10T09:00:00Z");
    app.run_worker().await;
    assert_eq!(invoices(), ["F-2024-0107"]);
    assert_eq!(audit_count(app, "hold.ended"), 2);
    let mut dpo = signed_in(app, "dana@example.org").await;
    dpo.get("/admin/audit")
        .await
        .assert_contains("End of a legal hold: data erased by");
    let page = dpo.get(&format!("/admin/requests/{jeanne}")).await;
    page.assert_contains("ended: 2 records erased");
    page.assert_contains("Journal purgé par le prestataire.");
    let list = dpo.get("/admin/holds").await;
    list.assert_contains("No legal hold ends in the next 90 days.");
    // The keys that found her rows are gone with them.
    let mut conn = app.state.pool.get().expect("conn");
    let keys: Vec<String> = dsar::store::schema::retention_holds::table
        .select(dsar::store::schema::retention_holds::keys)
        .load(&mut *conn)
        .expect("holds");
    assert_eq!(keys, ["[]", "[]"]);
    // The nightly purge finds nothing more to re-enqueue.
    dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge");
    drop(conn);
    app.run_worker().await;
    assert_eq!(audit_count(app, "hold.ended"), 2);
}

async fn a_fee_is_mailed_waived_and_in_the_register(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let reference = app
        .file_verified(json!({ "kind": "access", "language": "fr",
            "requester": { "name": "Camille Martin", "email": "camille@example.fr" } }))
        .await;
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page_url = format!("/admin/requests/{reference}");
    let page = dpo.get(&page_url).await;
    page.assert_contains("Ask for a fee");
    let fee_url = format!("{page_url}/fee");
    let form = dpo.get(&fee_url).await;
    form.assert_contains("Further copies of the data — Art. 15(3) GDPR");
    form.assert_contains("The deadline keeps running while the fee is unpaid.");
    let reason =
        "Troisième copie de vos données demandée ce mois-ci : frais d'impression et d'envoi.";
    let res = dpo
        .post_urlencoded(
            &fee_url,
            &[
                ("csrf", &form.csrf()),
                ("basis", "further_copies"),
                ("amount", "12,505"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Give an amount in euros with at most two decimals");
    res.assert_contains("value=\"12,505\"");
    res.assert_contains("frais d&#39;impression");
    let res = dpo
        .post_urlencoded(
            &fee_url,
            &[
                ("csrf", &form.csrf()),
                ("basis", "further_copies"),
                ("amount", "12,50"),
                ("reason", reason),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    for words in [
        "The fee is recorded and the person is told.",
        "€12.50",
        "To be paid",
        "Fee asked: €12.50 — Further copies of the data — Art. 15(3) GDPR",
    ] {
        page.assert_contains(words);
    }
    assert!(!page.html.contains("Ask for a fee"), "one fee at a time");
    app.run_worker().await;
    let mail = mails_to(&app, "camille@example.fr")
        .into_iter()
        .find(|m| m.subject.contains("frais pour votre demande"))
        .expect("the fee mail");
    let words = mail.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        mail.text.contains("Montant : 12,50\u{a0}€.")
            && words.contains(
                "copies supplémentaires de vos données (article 15, paragraphe 3, du RGPD)"
            )
            && words.contains("frais d'impression")
            && words.contains("le délai de réponse à votre demande continue de courir"),
        "{}",
        mail.text
    );

    // Waived: said to her, on the page, and in the register.
    let fee = id_after(&page, &format!("{page_url}/fee/"));
    let res = dpo
        .post_urlencoded(
            &format!("{page_url}/fee/{fee}"),
            &[("csrf", &page.csrf()), ("outcome", "waived")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("The fee is waived and the person is told.");
    page.assert_contains("Fee waived (€12.50)");
    app.run_worker().await;
    let waived = mails_to(&app, "camille@example.fr")
        .into_iter()
        .find(|m| m.subject.contains("frais abandonnés"))
        .expect("the waiver mail");
    assert!(
        waived.text.contains("vous n'avez rien à payer"),
        "{}",
        waived.text
    );
    // Settled once.
    let again = dpo
        .post_urlencoded(
            &format!("{page_url}/fee/{fee}"),
            &[("csrf", &page.csrf()), ("outcome", "paid")],
        )
        .await;
    assert_eq!(again.status.as_u16(), 303);
    assert_eq!(audit_count(&app, "fee.paid"), 0);
    assert_eq!(audit_count(&app, "fee.asked"), 1);
    assert_eq!(audit_count(&app, "fee.waived"), 1);
    // The audit trail says it in words.
    let audit = dpo.get("/admin/audit").await;
    audit.assert_contains("Fee asked of the person by");
    audit.assert_contains("Fee waived by");

    let csv = dpo
        .get("/admin/reports/register.csv?from=2025-03&to=2025-03")
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    let header = csv.html.lines().next().expect("header");
    assert!(
        header.contains("Fee: basis,Fee: amount in euro cents,Fee: state"),
        "{header}"
    );
    let line = csv
        .html
        .lines()
        .find(|l| l.starts_with(&reference))
        .expect("the request in the register");
    assert!(
        line.ends_with(",Further copies of the data — Art. 15(3) GDPR,1250,Waived,,"),
        "{line}"
    );
    let json = dpo
        .get("/admin/reports/register.json?from=2025-03&to=2025-03")
        .await;
    let items: Vec<serde_json::Value> = serde_json::from_str(&json.html).expect("json");
    assert_eq!(items[0]["fee_cents"], 1250);
    assert_eq!(items[0]["fee_basis"], "further_copies");

    // The portal says honestly when a fee may be asked.
    let home = Browser::new(&app).get("/fr/").await;
    home.assert_contains("gratuitement. Seules des copies supplémentaires de vos données");
    let home = Browser::new(&app).get("/en/").await;
    home.assert_contains("may lead to a reasonable fee");
}

/// Every answer to `reference` goes by post, to an address in Lyon.
pub(crate) fn answers_by_post(app: &TestApp, reference: &str) {
    let mut conn = app.state.pool.get().expect("conn");
    let row = dsar::workflow::find(&mut conn, reference).expect("request");
    dsar::store::contacts::insert(
        &mut conn,
        &dsar::store::contacts::ContactRow {
            request_id: row.id,
            prefers_post: true,
            address_lines: Some("12 rue des Lilas".into()),
            postcode: Some("69003".into()),
            city: Some("Lyon".into()),
            country: None,
            received_registered: None,
        },
    )
    .expect("contact");
}

/// Jeanne's restriction, answered and in force (her answers by post when `by_post`): her
/// request's reference and the restriction's id.
async fn jeanne_restricted(w: &World, dpo: &mut Browser<'_>, by_post: bool) -> (String, String) {
    let app = &w.app;
    app.set_now("2025-03-03T10:00:00Z");
    let jeanne = verified(
        app,
        "restriction",
        json!({ "restriction_ground": "accuracy" }),
    )
    .await;
    if by_post {
        answers_by_post(app, &jeanne);
    }
    answered(w, dpo, &jeanne).await;
    let list = dpo.get("/admin/restrictions").await;
    (jeanne, id_after(&list, "/admin/restrictions/"))
}

/// Announces the lift of restriction `id` for `on`, as the lift form sends it.
async fn announce_lift(dpo: &mut Browser<'_>, id: &str, on: &str) -> Page {
    let lift_url = format!("/admin/restrictions/{id}/lift");
    let form = dpo.get(&lift_url).await;
    let res = dpo
        .post_urlencoded(
            &lift_url,
            &[
                ("csrf", &form.csrf()),
                ("on", on),
                ("reason", "La vérification est terminée."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    res
}

/// A person answered by post learns of a lift and of a fee only by letter: no mail goes, the
/// team is sent to the letters, each says what the mail would have said, and its sending is
/// recorded with a day typed the French way.
async fn a_person_answered_by_post_is_sent_the_lift_and_fee_letters(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let (jeanne, id) = jeanne_restricted(&w, &mut dpo, true).await;
    let mails_before = mails_to(app, "jeanne.martin@example.fr").len();
    let res = announce_lift(&mut dpo, &id, "17/03/2025").await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("/admin/requests/{jeanne}?done=lift_scheduled").as_str())
    );
    let page = dpo.follow(res).await;
    page.assert_contains("print the notice of the lift");
    page.assert_contains("Notice of the lifting of the restriction");

    let letter_url = format!("/admin/requests/{jeanne}/letters/restriction_lift");
    let letter = dpo.get(&letter_url).await;
    assert_eq!(letter.status.as_u16(), 200);
    for words in [
        "levée de la limitation du traitement de vos données",
        "article 18, paragraphe 3, du RGPD",
        "La limitation sera levée le 17 mars 2025.",
        "Pour la raison suivante : La vérification est terminée.",
        "12 rue des Lilas",
        "69003 LYON",
    ] {
        letter.assert_contains(words);
    }
    let res = dpo
        .post_urlencoded(
            &letter_url,
            &[
                ("csrf", &letter.csrf()),
                ("sent_on", "03/03/2025"),
                ("registered_number", "1A 234 567 8901 2"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let letter = dpo.follow(res).await;
    letter.assert_contains("3 March 2025");
    letter.assert_contains("1A 234 567 8901 2");

    // Called off after its notice went: a letter says so.
    let list = dpo.get("/admin/restrictions").await;
    let res = dpo
        .post_urlencoded(
            &format!("/admin/restrictions/{id}/cancel"),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("/admin/requests/{jeanne}?done=lift_cancelled").as_str())
    );
    let page = dpo.follow(res).await;
    page.assert_contains("if the notice of the lift has gone, print the letter that calls it off");
    page.assert_contains("Lift of the restriction called off");
    let letter = dpo
        .get(&format!("/admin/requests/{jeanne}/letters/lift_cancelled"))
        .await;
    letter.assert_contains("pour le 17 mars 2025. Cette levée n&#39;aura pas lieu");

    // A fee for a further copy, then its waiver: a letter each.
    let copy = app
        .file_verified(json!({ "kind": "access", "language": "fr",
            "requester": { "name": "Jeanne Martin", "email": "jeanne.martin@example.fr" } }))
        .await;
    answers_by_post(app, &copy);
    let page_url = format!("/admin/requests/{copy}");
    let fee_url = format!("{page_url}/fee");
    let form = dpo.get(&fee_url).await;
    let res = dpo
        .post_urlencoded(
            &fee_url,
            &[
                ("csrf", &form.csrf()),
                ("basis", "further_copies"),
                ("amount", "12,50"),
                ("reason", "Troisième copie demandée ce mois-ci."),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("print the letter “Fee asked”");
    let letter = dpo.get(&format!("{page_url}/letters/fee")).await;
    for words in [
        "des copies supplémentaires de vos données (article 15, paragraphe 3, du RGPD)",
        "Montant : 12,50\u{a0}€.",
        "Notre motif : Troisième copie demandée ce mois-ci.",
    ] {
        letter.assert_contains(words);
    }
    let fee = id_after(&page, &format!("{page_url}/fee/"));
    let res = dpo
        .post_urlencoded(
            &format!("{page_url}/fee/{fee}"),
            &[("csrf", &page.csrf()), ("outcome", "waived")],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("Print the letter that says so");
    let letter = dpo.get(&format!("{page_url}/letters/fee_settled")).await;
    letter.assert_contains("Nous renonçons aux frais annoncés pour votre demande");

    app.run_worker().await;
    assert_eq!(
        mails_to(app, "jeanne.martin@example.fr").len(),
        mails_before,
        "no mail to a person answered by post"
    );
}

/// A lift announced by mail and then called off: the person is told, by mail, that the
/// restriction stays in force.
async fn a_lift_called_off_is_said_to_the_person(backend: Backend) {
    let Some(w) = world(backend, &[]).await else {
        return;
    };
    let app = &w.app;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let (_, id) = jeanne_restricted(&w, &mut dpo, false).await;
    let res = announce_lift(&mut dpo, &id, "2025-03-17").await;
    let list = dpo.follow(res).await;
    let res = dpo
        .post_urlencoded(
            &format!("/admin/restrictions/{id}/cancel"),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let list = dpo.follow(res).await;
    list.assert_contains(
        "The lift is called off: the restriction stays in force, and the person is told.",
    );
    app.run_worker().await;
    let mail = mails_to(app, "jeanne.martin@example.fr")
        .into_iter()
        .find(|m| m.subject.contains("reste en vigueur"))
        .expect("the mail calling the lift off");
    let words = mail.text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("pour le 17 mars 2025")
            && words.contains("Cette levée n'aura pas lieu : la limitation reste en vigueur"),
        "{}",
        mail.text
    );
    assert_eq!(
        restricted(&w),
        ["Jeanne.Martin@Example.fr:1", "paul.durand@example.fr:0"]
    );
}

crate::on_both_backends!(
    a_fee_is_mailed_waived_and_in_the_register_on,
    a_fee_is_mailed_waived_and_in_the_register
);

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                super::$name(Backend::Sqlite).await;
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name(Backend::Postgres).await;
            }
        }
    };
}

both!(a_restriction_is_lifted_on_the_day_its_notice_gave);
both!(kept_rows_are_erased_when_their_retention_ends);
both!(a_person_answered_by_post_is_sent_the_lift_and_fee_letters);
both!(a_lift_called_off_is_said_to_the_person);
