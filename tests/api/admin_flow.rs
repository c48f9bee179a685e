//! A request from the portal to its answer: identity verified by staff, a hold with the clock
//! stopped, an extension, fulfilment — each mail the requester receives, and the due dates.

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

async fn from_portal_to_answer(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let email = "camille@example.fr";
    let mut person = Browser::new(&app);
    let form = person.get("/fr/request/erasure").await;
    let csrf = form.csrf();
    let filed = person
        .post(
            "/fr/request/erasure",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("name", "Camille Martin"),
                Part::Field("email", email),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("erasure_scope", "all"),
            ],
        )
        .await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    let filed = person.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    let reference = filed.html[start..start + 16].to_string();
    app.run_worker().await;
    let link = mails_to(&app, email)[0].link().expect("link");
    let page = person.get(&link).await;
    let up = person
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::File("document", "cni.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 303);

    // The DPO checks the document: accepted, deleted, the request verified.
    let mut dpo =
        crate::admin::staff_named(&app, "dana@example.org", "Dana", dsar::staff::Role::Dpo).await;
    let page_url = format!("/admin/requests/{reference}");
    let page = dpo.get(&page_url).await;
    page.assert_contains("Review the document sent and accept or refuse it.");
    let csrf = page.input("csrf").expect("csrf");
    let doc = page.input("document").expect("a pending document");
    let act = format!("{page_url}/action");
    let res = dpo
        .post_urlencoded(
            &act,
            &[
                ("csrf", &csrf),
                ("action", "identity"),
                ("document", &doc),
                ("decision", "accept"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303);
    let page = dpo.follow(res).await;
    page.assert_contains("In progress");
    // By name, not by account number.
    page.assert_contains("Accepted by Dana on ");
    // Received Monday 3 March: two months → Saturday 3 May → Monday 5 May.
    page.assert_contains("due on 5 May 2025");

    // A standard reply, in the requester's language, fills the message box.
    let canned = dpo.get(&format!("{page_url}?reply=received")).await;
    canned.assert_contains("Nous avons bien reçu votre demande");
    canned.assert_contains("au plus tard le 5 mai 2025");

    // On hold for a clarification: the clock stops; the requester is asked by mail.
    let res = dpo
        .post_urlencoded(
            &act,
            &[
                ("csrf", &csrf),
                ("action", "hold"),
                ("reason", "clarification"),
                ("text", "Quel est votre numéro de client ?"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303);
    dpo.follow(res).await.assert_contains("Clock stopped");
    app.run_worker().await;
    let asked = mails_to(&app, email).last().cloned().expect("hold mail");
    assert!(
        asked.text.contains("Quel est votre numéro de client"),
        "{}",
        asked.text
    );
    assert!(asked.text.contains("suspendu"), "{}", asked.text);

    // Five days later the requester has answered: the clock runs again, five days later.
    app.state.clock.advance(chrono::Duration::days(5));
    // Five days idle end any session: the form posted now asks to sign in again.
    let res = dpo
        .post_urlencoded(&act, &[("csrf", &csrf), ("action", "resume")])
        .await;
    assert_eq!(
        res.location.as_deref(),
        Some(format!("/admin/login?next={page_url}").as_str())
    );
    let mut dpo = sign_in(&app, "dana@example.org").await;
    let csrf = dpo.get(&page_url).await.input("csrf").expect("csrf");
    let res = dpo
        .post_urlencoded(&act, &[("csrf", &csrf), ("action", "resume")])
        .await;
    let page = dpo.follow(res).await;
    // 3 May + 5 days = Thursday 8 May, a public holiday → Friday 9 May.
    page.assert_contains("due on 9 May 2025");

    // Extended by a month, with the reason sent: counted from receipt, 3 June + 5 = Sunday
    // 8 June → Whit Monday 9 June → Tuesday 10 June.
    let res = dpo
        .post_urlencoded(
            &act,
            &[
                ("csrf", &csrf),
                ("action", "extend"),
                ("months", "1"),
                ("days", "0"),
                ("text", "Vos données sont réparties dans quatre systèmes."),
            ],
        )
        .await;
    let page = dpo.follow(res).await;
    page.assert_contains("due on 10 June 2025");
    app.run_worker().await;
    let notice = mails_to(&app, email)
        .last()
        .cloned()
        .expect("extension mail");
    assert!(notice.text.contains("quatre systèmes"), "{}", notice.text);
    assert!(notice.text.contains("10 juin 2025"), "{}", notice.text);

    // Fulfilled with the letter, which the requester receives.
    // A renamed executable is refused and nothing is sent; the real PDF goes with the letter.
    let send = format!("{page_url}/send");
    let letter = "Bonjour,\nVos données ont été effacées, sauf vos factures (10 ans, art. L123-22 du Code de commerce).";
    let res = dpo
        .post(
            &send,
            &[
                Part::Field("csrf", &csrf),
                Part::Field("action", "fulfil"),
                Part::Field("text", letter),
                Part::File("attachment", "attestation.pdf", b"MZ\x90\x00 not a pdf"),
            ],
        )
        .await;
    dpo.follow(res)
        .await
        .assert_contains("Attach a PDF, JPEG or PNG file");
    let res = dpo
        .post(
            &send,
            &[
                Part::Field("csrf", &csrf),
                Part::Field("action", "fulfil"),
                Part::Field("text", letter),
                Part::File("attachment", "attestation.pdf", PDF),
            ],
        )
        .await;
    let page = dpo.follow(res).await;
    page.assert_contains("fulfilled");
    app.run_worker().await;
    let answer = mails_to(&app, email).last().cloned().expect("answer mail");
    assert!(answer.text.contains("L123-22"), "{}", answer.text);
    let subjects: Vec<String> = mails_to(&app, email)
        .iter()
        .map(|m| m.subject.clone())
        .collect();
    assert_eq!(
        subjects.len(),
        5,
        "confirm, identity needed, on hold, extended, fulfilled: {subjects:?}"
    );

    // The requester's page agrees.
    let status = person.get(&link).await;
    status.assert_contains("traitée");
    status.assert_contains("Télécharger le fichier joint");
    let start = status
        .html
        .find(&format!("{link}/files/"))
        .expect("download link");
    let file_url = status.html[start..]
        .split('"')
        .next()
        .expect("url")
        .to_string();
    let file = person.get(&file_url).await;
    assert_eq!(file.status.as_u16(), 200);
    assert!(file.html.starts_with("%PDF-1.4"), "{}", file.html);
    // Another link, or none, opens nothing.
    let forged = file_url.replace(
        &link,
        "/fr/r/0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert_eq!(Browser::new(&app).get(&forged).await.status.as_u16(), 404);

    // The whole story is in the audit trail, sealed and intact.
    let mut conn = app.state.pool.get().expect("conn");
    dsar::store::audit::seal_all(&mut conn).expect("seal");
    assert!(matches!(
        dsar::store::audit::verify(&mut conn).expect("verify"),
        dsar::store::audit::ChainStatus::Intact { .. }
    ));
    let row = dsar::workflow::find(&mut conn, &reference).expect("row");
    let actions: Vec<String> = dsar::store::audit::for_target(&mut conn, "request", &row.uuid)
        .expect("trail")
        .into_iter()
        .map(|a| a.action)
        .collect();
    for expected in [
        "request.filed",
        "request.confirm_email",
        "document.accepted",
        "request.verify",
        "request.hold",
        "request.resume",
        "request.extend",
        "request.fulfil",
        "document.download",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
}
async fn sign_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    crate::admin::signed_in(app, email).await
}

on_both_backends!(admin_flow, from_portal_to_answer);
