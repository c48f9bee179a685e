//! Files in the database (`storage.backend = "database"`): a document uploaded on the portal
//! and viewed by staff, an access package built by the worker and downloaded by the person,
//! purges that take the chunks away, a file a writer never finished neither served nor kept;
//! and two web nodes on one PostgreSQL database, each with folders of its own, serving what
//! the other stored.

use std::io::Write;

use diesel::{ExpressionMethods, RunQueryDsl};
use serde_json::json;

use crate::admin::{PASSWORD, account, sign_in, staff};
use crate::fulfilment::{World, archives_task, sources_action, unzip, world};
use crate::helpers::{Backend, TestApp};
use crate::web::{Browser, Part, mails_to};

const IN_DATABASE: (&str, &str) = ("DSAR_STORAGE__BACKEND", "database");

/// A PDF of a bit more than two chunks (comments pad it): read back whole, it proves the
/// chunks come back in order.
fn big_pdf() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut line = 0u32;
    while pdf.len() < 1_300_000 {
        writeln!(pdf, "% padding line {line:08} of a scanned identity card").expect("line");
        line += 1;
    }
    pdf.extend_from_slice(b"1 0 obj << /Type /Catalog >> endobj\n%%EOF\n");
    pdf
}

/// Stored files and chunks in the database.
fn counts(app: &TestApp) -> (i64, i64) {
    let mut conn = app.state.pool.get().expect("conn");
    dsar::store::blobs::counts(&mut conn).expect("counts")
}

/// What is in a folder, besides the incoming one (uploads being received).
fn on_disk(dir: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "incoming")
                .collect()
        })
        .unwrap_or_default()
}

fn nothing_on_disk(app: &TestApp) {
    let s = &app.state.settings;
    assert_eq!(on_disk(&s.storage.dir), Vec::<String>::new());
    assert_eq!(on_disk(&s.fulfilment.dir), Vec::<String>::new());
}

/// Files an erasure request on `app`'s French portal and sends `pdf` as the identity
/// document; returns the document's id.
async fn uploaded(app: &TestApp, email: &str, pdf: &[u8]) -> i64 {
    let mut person = Browser::new(app);
    let link = crate::uploads::filed(app, &mut person, email).await;
    let csrf = person.get(&link).await.csrf();
    let res = person
        .post(
            &format!("{link}/identity"),
            &[
                Part::Field("csrf", &csrf),
                Part::File("document", "cni.pdf", pdf),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let mut conn = app.state.pool.get().expect("conn");
    let request = dsar::store::requests::list(
        &mut conn,
        &dsar::store::requests::ListFilter {
            limit: 50,
            ..Default::default()
        },
    )
    .expect("requests")
    .into_iter()
    .find(|r| r.requester_email == email)
    .expect("the request");
    dsar::store::portal::documents_for(&mut conn, request.id)
        .expect("documents")
        .pop()
        .expect("the document")
        .id
}

async fn a_document_lives_in_the_database_and_goes_with_the_purge(app: TestApp) {
    let pdf = big_pdf();
    let doc = uploaded(&app, "camille@example.fr", &pdf).await;
    nothing_on_disk(&app);
    let (files, chunks) = counts(&app);
    assert_eq!(files, 1);
    assert_eq!(chunks, 3, "1.3 MB in 512 KiB chunks");

    account(&app, "staff@example.org", dsar::staff::Role::Dpo);
    let (mut dpo, _) = sign_in(&app, "staff@example.org", PASSWORD).await;
    let res = dpo.get(&format!("/admin/documents/{doc}")).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.content_type, "application/pdf");
    // The settings page says where files are.
    account(&app, "admin@example.org", dsar::staff::Role::Admin);
    let (mut admin, _) = sign_in(&app, "admin@example.org", PASSWORD).await;
    let settings = admin.get("/admin/settings").await;
    settings.assert_contains("Where files are kept");
    settings.assert_contains("in the database (database)");
    assert!(res.bytes == pdf, "the document comes back whole, in order");

    // Past the longest a document is kept, the purge deletes it, chunks and all.
    app.state.clock.advance(chrono::Duration::days(31));
    let purged = {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge")
    };
    assert_eq!(purged.documents, 1);
    assert_eq!(counts(&app), (0, 0));
    // (A month idle ended the session.)
    let (mut dpo, _) = sign_in(&app, "staff@example.org", PASSWORD).await;
    assert_eq!(
        dpo.get(&format!("/admin/documents/{doc}"))
            .await
            .status
            .as_u16(),
        404
    );
}
crate::on_both_backends!(
    document_in_the_database,
    a_document_lives_in_the_database_and_goes_with_the_purge,
    [("DSAR_STORAGE__BACKEND", "database")]
);

async fn a_file_never_finished_is_never_served_and_the_purge_deletes_it(app: TestApp) {
    let files = &app.state.files;
    let (name, mut writer) = files.create().expect("create");
    writer.write_all(&vec![7u8; 600 * 1024]).expect("a chunk");
    drop(writer);
    assert_eq!(counts(&app), (1, 1));
    assert!(!files.exists(&name));
    assert_eq!(
        files.open(&name).err().map(|e| e.kind()),
        Some(std::io::ErrorKind::NotFound)
    );
    // A day later, the nightly purge takes it for a crashed writer's.
    let finished = files.put(b"%PDF-1.4 kept").expect("put");
    {
        use dsar::store::schema::stored_files;
        let mut conn = app.state.pool.get().expect("conn");
        let day_before = chrono::Utc::now().naive_utc() - chrono::Duration::hours(25);
        diesel::update(stored_files::table)
            .set(stored_files::created_at.eq(day_before))
            .execute(&mut *conn)
            .expect("older");
        let purged =
            dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge");
        assert_eq!(purged.unfinished, 1);
    }
    assert_eq!(counts(&app), (1, 1), "what was finished stays");
    assert_eq!(files.read(&finished).expect("read"), b"%PDF-1.4 kept");
}
crate::on_both_backends!(
    unfinished_files,
    a_file_never_finished_is_never_served_and_the_purge_deletes_it,
    [("DSAR_STORAGE__BACKEND", "database")]
);

/// Dispatches an access request to the sources, answers the archives team's task with a file
/// and builds the package, all on `app`; returns the reference.
async fn built(w: &World, dpo: &mut Browser<'_>) -> String {
    let app = &w.app;
    let reference = app
        .file_verified(json!({
            "kind": "access", "language": "fr",
            "requester": { "name": "Jeanne Martin", "email": "jeanne.martin@example.fr" }
        }))
        .await;
    sources_action(dpo, &reference, &[("action", "dispatch")]).await;
    app.run_worker().await;
    archives_task(dpo, &reference, true).await;
    app.run_worker().await;
    let page = dpo.get(&format!("/admin/requests/{reference}")).await;
    page.assert_contains("Data package <span class=\"rq-tag\">to review</span>");
    reference
}

async fn package(backend: Backend) {
    let Some(w) = world(backend, &[IN_DATABASE]).await else {
        return;
    };
    let app = &w.app;
    let mut dpo = staff(app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let jeanne = built(&w, &mut dpo).await;
    nothing_on_disk(app);
    let (files, chunks) = counts(app);
    // Staged data of the two sources found, the archives' file, the package.
    assert!(
        files >= 4 && chunks >= files,
        "{files} files, {chunks} chunks"
    );

    let review = dpo.get(&format!("/admin/requests/{jeanne}/package")).await;
    assert_eq!(review.status.as_u16(), 200);
    let names: Vec<String> = unzip(&review.bytes).into_iter().map(|f| f.0).collect();
    assert!(names.iter().any(|n| n == "data/shop.json"), "{names:?}");
    assert!(names.iter().any(|n| n == "data/archives/bon-2019.pdf"));
    sources_action(&mut dpo, &jeanne, &[("action", "release")]).await;
    app.run_worker().await;
    let link = mails_to(app, "jeanne.martin@example.fr")
        .pop()
        .and_then(|m| m.link())
        .expect("link");
    let got = Browser::new(app).get(&format!("{link}/export")).await;
    assert_eq!(got.status.as_u16(), 200);
    assert!(
        got.bytes == review.bytes,
        "the person gets what staff reviewed"
    );

    // Past the download period the purge deletes the package and the staged data.
    app.state.clock.advance(chrono::Duration::days(15));
    let purged = {
        let mut conn = app.state.pool.get().expect("conn");
        dsar::worker::purge::run(&mut conn, &app.state, app.state.clock.now()).expect("purge")
    };
    assert_eq!(purged.packages, 1);
    assert_eq!(counts(app), (0, 0));
}

mod package_in_the_database {
    use super::*;

    #[actix_web::test]
    async fn sqlite() {
        package(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn postgres() {
        package(Backend::Postgres).await;
    }
}

/// Two web nodes on one PostgreSQL database, each with its own `storage.dir` and
/// `fulfilment.dir`: what one stored, the other serves.
#[actix_web::test]
async fn two_nodes_share_the_files() {
    let Some(w) = world(Backend::Postgres, &[IN_DATABASE]).await else {
        return;
    };
    let a = &w.app;
    let s = &a.state.settings;
    let b = a
        .spawn_node(&[
            IN_DATABASE,
            ("DSAR_REGISTER__FILE", s.register.file.as_str()),
            (
                "DSAR_FULFILMENT__SOURCES_FILE",
                s.fulfilment.sources_file.as_str(),
            ),
        ])
        .await;
    assert_ne!(a.state.settings.storage.dir, b.state.settings.storage.dir);
    assert_ne!(
        a.state.settings.fulfilment.dir,
        b.state.settings.fulfilment.dir
    );

    // Uploaded through A, viewed by staff through B.
    let pdf = big_pdf();
    let doc = uploaded(a, "camille@example.fr", &pdf).await;
    account(a, "staff@example.org", dsar::staff::Role::Dpo);
    let (mut on_b, _) = sign_in(&b, "staff@example.org", PASSWORD).await;
    let res = on_b.get(&format!("/admin/documents/{doc}")).await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(res.bytes == pdf, "B serves what A stored");

    // Built by A's worker, downloaded by the person through B.
    let mut on_a = staff(a, "dana@example.org", dsar::staff::Role::Dpo).await;
    let jeanne = built(&w, &mut on_a).await;
    let review = on_b.get(&format!("/admin/requests/{jeanne}/package")).await;
    assert_eq!(review.status.as_u16(), 200);
    sources_action(&mut on_a, &jeanne, &[("action", "release")]).await;
    a.run_worker().await;
    let link = mails_to(a, "jeanne.martin@example.fr")
        .pop()
        .and_then(|m| m.link())
        .expect("link");
    let got = Browser::new(&b).get(&format!("{link}/export")).await;
    assert_eq!(got.status.as_u16(), 200);
    assert!(got.bytes == review.bytes, "B sends the package A built");
    let names: Vec<String> = unzip(&got.bytes).into_iter().map(|f| f.0).collect();
    assert!(names.iter().any(|n| n == "data/shop.json"), "{names:?}");
    nothing_on_disk(a);
    nothing_on_disk(&b);
}

/// Stored files have a pool of their own: a handler that holds the main pool's only
/// connection still writes and reads a file's chunks, where sharing one pool would have it
/// wait for itself.
async fn a_pool_of_one_still_moves_files(app: TestApp) {
    assert_eq!(app.state.settings.database.pool_size, 1);
    let pdf = big_pdf();
    let doc = uploaded(&app, "camille@example.fr", &pdf).await;
    account(&app, "staff@example.org", dsar::staff::Role::Dpo);
    let (mut dpo, _) = sign_in(&app, "staff@example.org", PASSWORD).await;
    let res = dpo.get(&format!("/admin/documents/{doc}")).await;
    assert_eq!(res.status.as_u16(), 200);
    assert!(res.bytes == pdf, "the document comes back whole");
}
crate::on_both_backends!(
    pool_of_one,
    a_pool_of_one_still_moves_files,
    [
        ("DSAR_STORAGE__BACKEND", "database"),
        ("DSAR_DATABASE__POOL_SIZE", "1")
    ]
);
