//! Bad input on the portal: each gets a clear message in the person's language, and nothing
//! already accepted is lost.

use crate::helpers::TestApp;
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00 this program cannot be run in DOS mode";

fn base<'a>(csrf: &'a str, email: &'a str) -> Vec<Part<'a>> {
    vec![
        Part::Field("csrf", csrf),
        Part::Field("name", "Camille Martin"),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
        Part::Field("access_scope", "all"),
    ]
}

async fn bad_forms_are_reshown_with_messages(app: TestApp) {
    let (before, _, _) = app.counts();
    let mut b = Browser::new(&app);
    let form = b.get("/fr/request/access").await;
    let csrf = form.csrf();

    // Missing fields: listed at the top and beside each field, in French, values kept.
    let res = b
        .post(
            "/fr/request/access",
            &[
                Part::Field("csrf", &csrf),
                Part::Field("email", "camille@example.fr"),
                Part::Field("acting", "self"),
                Part::Field("country", "FR"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Merci de corriger");
    res.assert_contains("Indiquez votre nom.");
    res.assert_contains("Choisissez une des options.");
    res.assert_contains("value=\"camille@example.fr\"");
    res.assert_contains("href=\"#name\"");

    // A malformed email, in English.
    let form_en = b.get("/en/request/access").await;
    let csrf_en = form_en.csrf();
    let mut parts = base(&csrf_en, "camille.example.fr");
    parts.push(Part::Field("details", "kept text"));
    let res = b.post("/en/request/access", &parts).await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Enter a valid email address");
    res.assert_contains("kept text");

    // A representative must attach a mandate; a renamed executable is not one.
    let mut parts = base(&csrf, "rep@example.fr");
    parts[4] = Part::Field("acting", "representative");
    let res = b.post("/fr/request/access", &parts).await;
    res.assert_contains("Joignez le mandat signé");
    parts.push(Part::File("mandate", "mandat.pdf", EXE));
    let res = b.post("/fr/request/access", &parts).await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Le fichier doit être un PDF");

    // Objection: direct marketing needs no reason; another processing does.
    let form_o = b.get("/en/request/objection").await;
    let csrf_o = form_o.csrf();
    let res = b
        .post(
            "/en/request/objection",
            &[
                Part::Field("csrf", &csrf_o),
                Part::Field("name", "C"),
                Part::Field("email", "c@example.org"),
                Part::Field("country", "FR"),
                Part::Field("acting", "self"),
                Part::Field("objection_processing", "Profiling"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Explain the grounds");

    // A replayed form without its CSRF cookie: refused before its body is read, the form
    // comes back (empty: nothing of the body was read) to fill in and send again.
    let mut stranger = Browser::new(&app);
    let res = stranger
        .post("/fr/request/access", &base(&csrf, "forged@example.fr"))
        .await;
    assert_eq!(res.status.as_u16(), 403);
    res.assert_contains("Votre formulaire a expiré");
    assert!(!res.html.contains("forged@example.fr"));
    assert!(
        stranger.cookies.contains_key("dsar_csrf"),
        "a new cookie to send it again"
    );

    let (after, _, _) = app.counts();
    assert_eq!(after, before, "no refused form stored a request");

    // A real mandate sent with a form that comes back (the person represented is not
    // named): the mandate is said to be chosen again, since the box comes back empty.
    let mut parts = base(&csrf, "rep@example.fr");
    parts[4] = Part::Field("acting", "representative");
    parts.push(Part::File("mandate", "mandat.pdf", PDF));
    let res = b.post("/fr/request/access", &parts).await;
    assert_eq!(res.status.as_u16(), 422);
    res.assert_contains("Le fichier choisi n&#39;a pas été conservé avec le formulaire");
    assert_eq!(app.counts().0, before);

    // A representative with a real mandate, naming the person represented, is accepted.
    let mut parts = base(&csrf, "rep@example.fr");
    parts[4] = Part::Field("acting", "representative");
    parts.push(Part::File("mandate", "mandat.pdf", PDF));
    parts.push(Part::Field("subject_name", "Paul Durand"));
    parts.push(Part::Field("subject_email", "paul.durand@example.fr"));
    let res = b.post("/fr/request/access", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    assert_eq!(app.counts().0, before + 1);
}
on_both_backends!(portal_bad_forms, bad_forms_are_reshown_with_messages);

async fn oversized_uploads_are_refused_in_the_persons_language(app: TestApp) {
    let mut b = Browser::new(&app);
    let form = b.get("/en/request/access").await;
    let csrf = form.csrf();
    let big = [b"%PDF-1.4\n".as_slice(), &vec![b'x'; 5000]].concat();
    let mut parts = base(&csrf, "big@example.org");
    parts[4] = Part::Field("acting", "representative");
    parts.push(Part::File("mandate", "mandate.pdf", &big));
    let res = b.post("/en/request/access", &parts).await;
    assert_eq!(res.status.as_u16(), 413);
    res.assert_contains("larger than allowed (2 KB)");
    assert_eq!(app.counts().0, 0);
}
on_both_backends!(
    portal_too_large,
    oversized_uploads_are_refused_in_the_persons_language,
    [("DSAR_PORTAL__MAX_UPLOAD_BYTES", "2000")]
);

async fn forged_and_expired_links_open_nothing(app: TestApp) {
    let mut b = Browser::new(&app);
    let forged = b.get(&format!("/fr/r/{}", "ab".repeat(32))).await;
    assert_eq!(forged.status.as_u16(), 404);
    forged.assert_contains("Ce lien n&#39;est pas valable");
    let short = b.get("/en/r/1234").await;
    assert_eq!(short.status.as_u16(), 404);
    short.assert_contains("This link is not valid");

    let form = b.get("/en/request/access").await;
    let csrf = form.csrf();
    let res = b
        .post("/en/request/access", &base(&csrf, "late@example.org"))
        .await;
    assert_eq!(res.status.as_u16(), 303);
    app.run_worker().await;
    let link = mails_to(&app, "late@example.org")[0].link().expect("link");
    app.state.clock.advance(chrono::Duration::days(31));
    let expired = b.get(&link).await;
    assert_eq!(expired.status.as_u16(), 404);
    expired.assert_contains("may have expired");
    // The request itself is still there.
    assert_eq!(app.counts().0, 1);
}
on_both_backends!(portal_links, forged_and_expired_links_open_nothing);

async fn a_flood_from_one_address_is_slowed_and_loses_nothing(app: TestApp) {
    let mut b = Browser::new(&app);
    let form = b.get("/fr/request/access").await;
    let csrf = form.csrf();
    for i in 0..3 {
        let email = format!("flood{i}@example.fr");
        let res = b.post("/fr/request/access", &base(&csrf, &email)).await;
        assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    }
    let res = b
        .post("/fr/request/access", &base(&csrf, "flood3@example.fr"))
        .await;
    assert_eq!(res.status.as_u16(), 429);
    res.assert_contains("Trop de demandes");
    res.assert_contains("déjà envoyées sont bien enregistrées");
    assert_eq!(app.counts().0, 3, "the accepted requests are kept");
}
on_both_backends!(
    portal_flood,
    a_flood_from_one_address_is_slowed_and_loses_nothing,
    [("DSAR_PORTAL__SUBMISSIONS_PER_HOUR", "3")]
);

async fn a_duplicate_is_linked_to_the_open_request(app: TestApp) {
    let mut b = Browser::new(&app);
    let form = b.get("/en/request/access").await;
    let csrf = form.csrf();
    let first = b
        .post("/en/request/access", &base(&csrf, "twice@example.org"))
        .await;
    let first = b.follow(first).await;
    let start = first.html.find("DSAR-").expect("reference");
    let reference = &first.html[start..start + 16];
    let second = b
        .post("/en/request/access", &base(&csrf, "twice@example.org"))
        .await;
    let second = b.follow(second).await;
    second.assert_contains("You already had an open request of this kind");
    second.assert_contains(reference);
}
on_both_backends!(portal_duplicates, a_duplicate_is_linked_to_the_open_request);

/// The identity document is deleted as soon as staff decide; only the facts remain.
async fn a_decided_document_is_purged(app: TestApp) {
    let mut b = Browser::new(&app);
    let form = b.get("/fr/request/erasure").await;
    let csrf = form.csrf();
    let mut parts = base(&csrf, "doc@example.fr");
    parts[5] = Part::Field("erasure_scope", "all");
    let res = b.post("/fr/request/erasure", &parts).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    app.run_worker().await;
    let link = mails_to(&app, "doc@example.fr")[0].link().expect("link");
    let page = b.get(&link).await;
    let up = b
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::File("document", "id.exe.pdf", EXE),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 422);
    up.assert_contains("Le fichier doit être un PDF");
    let up = b
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::File("document", "id.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 303);

    let mut conn = app.state.pool.get().expect("conn");
    let request = dsar::store::requests::list(
        &mut conn,
        &dsar::store::requests::ListFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .expect("list")
    .remove(0);
    let docs = dsar::store::portal::documents_for(&mut conn, request.id).expect("docs");
    assert_eq!(docs.len(), 1);
    let name = docs[0].storage_name.clone().expect("stored");
    assert!(app.state.files.exists(&name));
    let now = app.state.clock.now();
    dsar::workflow::requester::decide_document(
        &mut conn, &app.state, docs[0].id, true, None, "staff:1", now,
    )
    .expect("decide");
    assert!(!app.state.files.exists(&name), "the file is gone");
    let doc = &dsar::store::portal::documents_for(&mut conn, request.id).expect("docs")[0];
    assert_eq!(doc.decision.as_deref(), Some("accepted"));
    assert_eq!(doc.decided_by.as_deref(), Some("staff:1"));
    assert!(doc.storage_name.is_none() && doc.original_name.is_none() && doc.deleted_at.is_some());

    // An undecided document older than the cap is purged all the same, and the trail says how many.
    let page = b.get(&link).await;
    let up = b
        .post(
            &format!("{link}/message"),
            &[
                Part::Field("csrf", &page.csrf()),
                Part::Field("body", "ci-joint"),
                Part::File("attachment", "scan.pdf", PDF),
            ],
        )
        .await;
    assert_eq!(up.status.as_u16(), 303);
    let row = dsar::store::requests::get(&mut conn, request.id).expect("row");
    let checked = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(checked.path(), PDF).expect("written");
    let second = dsar::workflow::requester::upload_identity(
        &mut conn,
        &app.state,
        &row,
        checked.path(),
        dsar::store::files::Sniffed::Pdf,
        "again.pdf",
        now,
    );
    assert!(second.is_ok());
    let docs = dsar::store::portal::documents_for(&mut conn, request.id).expect("docs");
    let pending: Vec<String> = docs
        .iter()
        .filter(|d| d.purpose == "identity")
        .filter_map(|d| d.storage_name.clone())
        .collect();
    assert_eq!(pending.len(), 1);
    let purged = dsar::workflow::requester::purge_documents(
        &mut conn,
        &app.state,
        chrono::Duration::zero(),
        now + chrono::Duration::seconds(1),
    )
    .expect("purge");
    assert_eq!(
        purged, 1,
        "only identity documents are purged, not message attachments"
    );
    assert!(!app.state.files.exists(&pending[0]));
    assert!(dsar::store::audit::seal_all(&mut conn).expect("seal") > 0);
    let trail = dsar::store::audit::verify(&mut conn).expect("verify");
    assert!(
        matches!(trail, dsar::store::audit::ChainStatus::Intact { .. }),
        "{trail:?}"
    );
}
on_both_backends!(portal_document_purge, a_decided_document_is_purged);

/// SMTP down: the request is accepted and its confirmation waits in the outbox with the
/// error; once an SMTP server appears, the mail arrives, once.
async fn smtp_down_does_not_lose_a_request(backend: crate::helpers::Backend) {
    use crate::smtp_sink::{SmtpSink, free_port};
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let Some(app) = crate::helpers::try_spawn(
        backend,
        &[
            ("DSAR_MAIL__SMTP_URL", &smtp_url),
            ("DSAR_MAIL__TIMEOUT_SECONDS", "5"),
        ],
    )
    .await
    else {
        return;
    };
    let mut b = Browser::new(&app);
    let form = b.get("/en/request/access").await;
    let res = b
        .post(
            "/en/request/access",
            &base(&form.csrf(), "down@example.org"),
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "accepted while SMTP is down");
    app.run_worker().await;
    let pending = {
        use diesel::prelude::*;
        use dsar::store::schema::mail_outbox;
        let mut conn = app.state.pool.get().expect("conn");
        mail_outbox::table
            .select((mail_outbox::sent_at.is_null(), mail_outbox::last_error))
            .load::<(bool, Option<String>)>(&mut *conn)
            .expect("outbox")
    };
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0].0
            && pending[0]
                .1
                .as_deref()
                .is_some_and(|e| e.starts_with("SMTP")),
        "{pending:?}"
    );

    let sink = SmtpSink::start(port);
    app.state.clock.advance(chrono::Duration::hours(1));
    app.run_worker().await;
    let received = sink.messages();
    assert_eq!(received.len(), 1);
    let mail = crate::web::Mail::parse(received[0].clone());
    assert!(mail.link().is_some(), "the confirmation carries its link");
    assert_eq!(app.counts().0, 1);
}

mod portal_smtp_down {
    #[actix_web::test]
    async fn sqlite() {
        super::smtp_down_does_not_lose_a_request(crate::helpers::Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        super::smtp_down_does_not_lose_a_request(crate::helpers::Backend::Postgres).await;
    }
}
