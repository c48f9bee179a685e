//! Holders of parental authority: a parent files for their minor child with a proof of
//! parental authority; the sources are searched for the child, the parent is written to and
//! answered; a child of age and a missing proof are refused. And portable data sent to
//! another organisation (GDPR art. 20(2)): the other organisation gets its own download link.

use serde_json::{Value, json};

use dsar::demo::{CAMILLE, HUGO};

use crate::admin::staff;
use crate::demo::{demo_app, sources_action, through_the_sources};
use crate::fulfilment::unzip;
use crate::helpers::{Backend, TestApp, assert_problem};
use crate::on_both_backends;
use crate::web::{Browser, Part, mails_to};

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
/// Hugo's mother, who is no customer of the shop.
pub(crate) const MOTHER: &str = "sophie.bernard@example.org";
/// The organisation Camille's portable data go to.
const NEW_SHOP: &str = "dpo@nouvelle-boutique.example";

/// A mail's text on one line: the plain-text part wraps at 72 columns.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The portal's access form in French, filed by Hugo's mother for him; `proof` attached or
/// not, `born` as typed.
async fn file_for_hugo(b: &mut Browser<'_>, proof: bool, born: &str) -> crate::web::Page {
    let form = b.get("/fr/request/access").await;
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", "Sophie Bernard"),
        Part::Field("email", MOTHER),
        Part::Field("country", "FR"),
        Part::Field("acting", "parent"),
        Part::Field("subject_name", "Hugo Bernard"),
        Part::Field("subject_birth_date", born),
        Part::Field("subject_email", HUGO.email),
        Part::Field("subject_customer_ref", "C-00002"),
        Part::Field("access_scope", "all"),
    ];
    if proof {
        parts.push(Part::File("parental_proof", "livret-de-famille.pdf", PDF));
    }
    b.post("/fr/request/access", &parts).await
}

/// The reference a confirmation page shows.
fn reference_in(html: &str) -> String {
    let start = html.find("DSAR-").expect("reference");
    html[start..start + 16].to_string()
}

async fn a_parent_files_for_a_child_whose_data_are_searched(backend: Backend) {
    let Some((app, _demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let (before, _, _) = app.counts();
    let mut mother = Browser::new(&app);
    let form = mother.get("/fr/request/access").await;
    form.assert_contains("pour votre enfant mineur (titulaire de l");
    form.assert_contains("name=\"parental_proof\"");
    form.assert_contains("type=\"text\" id=\"subject_birth_date\"");

    // No proof of parental authority: said in French, at the top and by the field.
    let res = file_for_hugo(&mut mother, false, "2012-05-14").await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains(
        "Joignez ce justificatif : il est obligatoire lorsque vous agissez pour votre enfant.",
    );
    res.assert_contains("href=\"#parental_proof\"");
    res.assert_contains("value=\"Hugo Bernard\"");
    // A "child" of age: they act for themselves, or give a mandate.
    let res = file_for_hugo(&mut mother, true, "14/05/2000").await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("Votre enfant a 18 ans ou plus : il exerce ses droits lui-même");
    res.assert_contains("href=\"#subject_birth_date\"");
    assert_eq!(app.counts().0, before, "no refused form stored a request");

    // With the proof and a minor's date of birth, typed the French way: filed.
    let res = file_for_hugo(&mut mother, true, "14/05/2012").await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let res = mother.follow(res).await;
    let reference = reference_in(&res.html);
    app.run_worker().await;
    let confirm = mails_to(&app, MOTHER).pop().expect("the confirmation mail");
    assert!(
        flat(&confirm.text).contains(
            "Cette demande porte sur les données de votre enfant, Hugo Bernard, pour qui vous agissez en tant que titulaire de l'autorité parentale."
        ),
        "{}",
        confirm.text
    );
    let link = confirm.link().expect("link");
    mother.get(&link).await;

    // The DPO sees who asks and for whom, and the proof waiting beside the identity step.
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page_url = format!("/admin/requests/{reference}");
    let page = dpo.get(&page_url).await;
    page.assert_contains("Who asks: a parent (holder of parental authority)");
    page.assert_contains("Parent of Hugo Bernard, born on 14 May 2012");
    page.assert_contains("The child");
    page.assert_contains("Proof of parental authority");
    let queue = dpo.get("/admin").await;
    queue.assert_contains("Hugo Bernard (by their parent, Sophie Bernard)");
    let doc = page
        .input("document")
        .expect("the proof waits for a decision");
    let res = dpo
        .post_urlencoded(
            &format!("{page_url}/action"),
            &[
                ("csrf", &page.csrf()),
                ("action", "identity"),
                ("document", &doc),
                ("decision", "accept"),
            ],
        )
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains(
        "proof of parental authority (and identity document) sent through the portal",
    );

    // The sources are searched for Hugo: his order is in the package, Camille's are not.
    through_the_sources(&app, &mut dpo, &reference).await;
    let package = dpo.get(&format!("{page_url}/package")).await;
    let files = unzip(&package.bytes);
    let (_, shop) = files
        .iter()
        .find(|(n, _)| n == "data/shop.json")
        .expect("the shop's data");
    let shop: Value = serde_json::from_slice(shop).expect("json");
    assert_eq!(shop["tables"]["customers"][0]["ref"], "C-00002");
    assert_eq!(
        shop["tables"]["orders"].as_array().map(Vec::len),
        Some(HUGO.orders)
    );
    let everything: String = files
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert!(
        !everything.contains("C-00001"),
        "Camille is in Hugo's package"
    );
    assert!(!everything.contains(MOTHER), "the mother is no customer");

    // The answer goes to the mother, saying whose data it is about; nothing goes to Hugo.
    sources_action(&mut dpo, &reference, "release").await;
    app.run_worker().await;
    let ready = mails_to(&app, MOTHER).pop().expect("the package mail");
    assert!(ready.link().is_some(), "{}", ready.text);
    assert!(
        flat(&ready.text).contains("les données de votre enfant, Hugo Bernard"),
        "{}",
        ready.text
    );
    assert!(mails_to(&app, HUGO.email).is_empty());
    let read = app.get("/api/v1/requests").await;
    let filed = &read.body["items"][0];
    assert_eq!(filed["subject"]["acting"], "parent");
    assert_eq!(filed["subject"]["birth_date"], "2012-05-14");
    assert_eq!(filed["verified"]["method"], "parental_authority_upload");
}

mod parent_on_the_portal {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        a_parent_files_for_a_child_whose_data_are_searched(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        a_parent_files_for_a_child_whose_data_are_searched(Backend::Postgres).await;
    }
}

async fn the_api_files_a_parent_s_request(app: TestApp) {
    app.set_now("2025-03-03T10:00:00Z");
    let filed = app
        .file(json!({
            "kind": "access",
            "language": "fr",
            "requester": { "name": "Sophie Bernard", "email": MOTHER },
            "subject": { "name": "Hugo Bernard", "customer_ref": "C-00002", "acting": "parent", "birth_date": "2012-05-14" }
        }))
        .await;
    assert_eq!(
        filed["subject"],
        json!({ "name": "Hugo Bernard", "email": null, "customer_ref": "C-00002", "acting": "parent", "birth_date": "2012-05-14" })
    );
    // A representative, as before, when the subject says nothing of how.
    let represented = app
        .file(json!({
            "kind": "access",
            "requester": { "name": "Claire Dubois", "email": "claire@avocats.example" },
            "subject": { "name": "Paul Durand", "email": "paul@example.fr" }
        }))
        .await;
    assert_eq!(represented["subject"]["acting"], "representative");
    assert_eq!(represented["subject"]["birth_date"], Value::Null);

    let (before, _, _) = app.counts();
    // (subject, what the problem names)
    let bad: [(Value, &str); 4] = [
        (
            json!({ "name": "Hugo", "customer_ref": "C-2", "acting": "parent" }),
            "subject.birth_date",
        ),
        (
            json!({ "name": "Hugo", "customer_ref": "C-2", "acting": "parent", "birth_date": "2000-01-01" }),
            "subject.birth_date",
        ),
        (
            json!({ "name": "Hugo", "customer_ref": "C-2", "acting": "parent", "birth_date": "mai 2012" }),
            "subject.birth_date",
        ),
        (
            json!({ "name": "Hugo", "customer_ref": "C-2", "acting": "uncle" }),
            "subject.acting",
        ),
    ];
    for (subject, names) in bad {
        let res = app
            .post(
                "/api/v1/requests",
                &json!({
                    "kind": "access",
                    "requester": { "name": "Sophie Bernard", "email": MOTHER },
                    "subject": subject
                }),
            )
            .await;
        assert_problem(&res, 422, names);
    }
    let res = app
        .post(
            "/api/v1/requests",
            &json!({
                "kind": "access",
                "requester": { "name": "Sophie Bernard", "email": MOTHER },
                "subject": { "name": "Hugo", "customer_ref": "C-2", "acting": "parent", "birth_date": "2000-01-01" }
            }),
        )
        .await;
    assert!(
        res.body.to_string().contains("they act for themselves"),
        "{}",
        res.body
    );
    assert_eq!(app.counts().0, before, "no refused filing stored a request");
}
on_both_backends!(api_parent, the_api_files_a_parent_s_request);

/// Camille's portability request in French, her data to go to another organisation.
async fn file_portability(b: &mut Browser<'_>, email: &str) -> crate::web::Page {
    let form = b.get("/fr/request/portability").await;
    form.assert_contains("name=\"portability_controller_email\"");
    let csrf = form.csrf();
    b.post(
        "/fr/request/portability",
        &[
            Part::Field("csrf", &csrf),
            Part::Field("name", CAMILLE.name),
            Part::Field("email", CAMILLE.email),
            Part::Field("country", "FR"),
            Part::Field("acting", "self"),
            Part::Field("portability_data", "Mes commandes et mes factures"),
            Part::Field("portability_destination", "controller"),
            Part::Field("portability_controller", "Nouvelle Boutique SAS"),
            Part::Field("portability_controller_email", email),
        ],
    )
    .await
}

async fn portable_data_go_to_the_organisation_the_person_names(backend: Backend) {
    let Some((app, _demo, _dir)) = demo_app(backend).await else {
        return;
    };
    let mut camille = Browser::new(&app);
    let res = file_portability(&mut camille, "pas-une-adresse").await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("href=\"#portability_controller_email\"");
    res.assert_contains("Indiquez une adresse électronique valide");
    let res = file_portability(&mut camille, NEW_SHOP).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let reference = reference_in(&camille.follow(res).await.html);
    app.run_worker().await;
    let link = mails_to(&app, CAMILLE.email)[0].link().expect("link");
    camille.get(&link).await;

    // The DPO sees where the data are to go.
    let mut dpo = staff(&app, "dana@example.org", dsar::staff::Role::Dpo).await;
    let page_url = format!("/admin/requests/{reference}");
    let page = dpo.get(&page_url).await;
    page.assert_contains("Email address of the receiving organisation");
    page.assert_contains(NEW_SHOP);
    through_the_sources(&app, &mut dpo, &reference).await;
    sources_action(&mut dpo, &reference, "release").await;
    app.run_worker().await;

    // The other organisation gets a link of its own, that opens the package and nothing else.
    let sent = mails_to(&app, NEW_SHOP);
    assert_eq!(sent.len(), 1, "one mail to the other organisation");
    let to_them = flat(&sent[0].text);
    assert!(
        to_them.contains("À la demande de Camille Martin"),
        "{to_them}"
    );
    assert!(
        to_them.contains("article 20, paragraphe 2, du RGPD"),
        "{to_them}"
    );
    assert!(!to_them.contains("/r/"), "no link to the person's own page");
    // Its footer speaks to an organisation, not to the person who asked.
    assert!(
        to_them.contains("référence de la demande de portabilité")
            && !to_them.contains("votre demande")
            && !sent[0].raw.contains("votre demande"),
        "{to_them}"
    );
    let start = to_them.find("/fr/transfer/").expect("the download link");
    let path: String = to_them[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    // The person is told it was sent, and to whom.
    let told = mails_to(&app, CAMILLE.email)
        .pop()
        .expect("the package mail");
    assert!(
        flat(&told.text).contains(&format!(
            "nous avons aussi envoyé le lien de téléchargement de vos données à Nouvelle Boutique SAS ({NEW_SHOP})"
        )),
        "{}",
        told.text
    );
    let mut them = Browser::new(&app);
    let package = them.get(&path).await;
    assert_eq!(package.status.as_u16(), 200, "{}", package.html);
    assert_eq!(package.content_type, "application/zip");
    assert!(
        unzip(&package.bytes)
            .iter()
            .any(|(n, _)| n == "data/shop.json")
    );
    assert_eq!(them.get("/fr/transfer/0123").await.status.as_u16(), 404);

    // The timeline and the audit trail say so.
    let page = dpo.get(&page_url).await;
    page.assert_contains(&format!(
        "Download link sent to Nouvelle Boutique SAS ({NEW_SHOP})"
    ));
    let audit = dpo.get("/admin/audit").await;
    audit.assert_contains("Portable data sent to another organisation");
    audit.assert_contains("The organisation the portable data were sent to");
}

mod portability_to_another_organisation {
    use super::*;
    #[actix_web::test]
    async fn sqlite() {
        portable_data_go_to_the_organisation_the_person_names(Backend::Sqlite).await;
    }
    #[actix_web::test]
    async fn postgres() {
        portable_data_go_to_the_organisation_the_person_names(Backend::Postgres).await;
    }
}

/// The staff's intake form: a mother's letter for her son born on `born`, by post.
async fn parent_letter(dpo: &mut Browser<'_>, csrf: &str, born: &str) -> crate::web::Page {
    let fields = [
        ("csrf", csrf),
        ("channel", "post"),
        ("kind", "access"),
        ("received_on", "2025-11-28"),
        ("name", "Sophie Bernard"),
        ("address_lines", "3 rue des Écoles"),
        ("postcode", "69003"),
        ("city", "Lyon"),
        ("email", ""),
        ("acting", "parent"),
        ("subject_name", "Hugo Bernard"),
        ("subject_birth_date", born),
        ("subject_customer_ref", "C-00002"),
        ("language", "fr"),
        ("identity", "verified"),
    ];
    let mut parts: Vec<Part<'_>> = fields.iter().map(|(k, v)| Part::Field(k, v)).collect();
    parts.push(Part::File("letter", "courrier.pdf", PDF));
    parts.push(Part::File("id_copy", "livret-et-cni.pdf", PDF));
    dpo.post("/admin/requests/new", &parts).await
}

async fn a_parent_s_letter_is_filed_by_the_team_and_answered_by_post(app: TestApp) {
    app.set_now("2025-12-01T09:30:00Z");
    let mut dpo = crate::admin::staff_named(
        &app,
        "marie@example.org",
        "Marie Martin",
        dsar::staff::Role::Dpo,
    )
    .await;
    let form = dpo.get("/admin/requests/new").await;
    form.assert_contains("for their minor child (holder of parental authority)");
    let csrf = form.csrf();
    // Of age on the day the letter arrived: refused, in the staff's words, by the field.
    let res = parent_letter(&mut dpo, &csrf, "2007-11-27").await;
    assert_eq!(res.status.as_u16(), 422, "{}", res.html);
    res.assert_contains("The child is 18 on the day of receipt");
    res.assert_contains("href=\"#subject_birth_date\"");
    let res = parent_letter(&mut dpo, &csrf, "2012-05-14").await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.html);
    let page = dpo.follow(res).await;
    page.assert_contains("Parent of Hugo Bernard, born on 14 May 2012");
    let reference = reference_in(&page.html);
    // The acknowledgement, printed, says whose data the request is about.
    let printed = dpo
        .get(&format!(
            "/admin/requests/{reference}/letters/acknowledgement"
        ))
        .await;
    assert_eq!(printed.status.as_u16(), 200);
    printed.assert_contains("Cette demande porte sur les données de votre enfant, Hugo Bernard");
}
on_both_backends!(
    parent_by_post,
    a_parent_s_letter_is_filed_by_the_team_and_answered_by_post
);
