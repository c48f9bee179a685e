//! A French DPO's whole day in a real browser, on the demonstration shop (its register, its
//! database and its paper-archives team), the organisation and the accounts in French: the
//! queue's tabs, a bulk assignment, an identity document reviewed beside its decision, the
//! sources sent, their data reviewed and released, answers, a refusal with its confirmation,
//! a hold, a resumption, an extension, a message, the reports, both registers, the audit
//! trail, then the administrator's pages; and the staff mails the day wrote (the invitation,
//! the morning digest). Every page passes axe-core at both widths (`check_page`, screenshots
//! as `target/browser-artifacts/day-*`), and neither a page's visible text nor a mail shows a
//! domain code, a job kind, a UUID, raw JSON or an English word.

use std::cell::RefCell;

use serde_json::json;

use crate::browser::Driver;
use crate::browser_request::confirm_with_id_card;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Browser, Part, mails_to};
use dsar::demo::{CAMILLE, HUGO, LEA};

const DPO: &str = "dominique.lefevre@boutique-demo.example";
const ADMIN: &str = "alix.bernard@boutique-demo.example";
const INVITED: &str = "noemie.girard@boutique-demo.example";
const PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

/// Codes that are also the French words a page rightly uses ("Rectification (art. 16)",
/// "Demande excessive", "Formulaire de contact", "Archives papier"): not looked for.
const FRENCH_TOO: [&str; 10] = [
    "rectification",
    // A kind's code and the French word (« directives relatives au sort des données »).
    "directives",
    "restriction",
    "objection",
    "excessive",
    "purge",
    "contact",
    "messages",
    "cv",
    "archives",
];

/// English words a French page must not show.
const ENGLISH: [&str; 11] = [
    "request", "status", "pending", "submit", "save", "delete", "download", "none", "null", "true",
    "false",
];

/// Every code the domain and the worker speak, from their own lists, the ids the
/// organisation's register and sources file give its activities, categories of data, sources
/// and tables, and the English words; lower case, less the codes that are French words too.
pub(crate) fn forbidden(state: &dsar::state::AppState) -> Vec<String> {
    let mut config: Vec<&str> = Vec::new();
    if let Some(register) = &state.register {
        for a in &register.activities {
            config.push(&a.id);
            config.extend(a.categories.iter().map(|c| c.id.as_str()));
        }
    }
    for source in &state.sources.list {
        config.push(&source.id);
        if let dsar::config::sources::Connector::Sql(sql) = &source.connector {
            config.extend(sql.tables.iter().map(|t| t.name.as_str()));
        }
    }
    forbidden_with(&config)
}

/// The domain's and the worker's codes, the English words, and `config`'s ids.
fn forbidden_with(config: &[&str]) -> Vec<String> {
    use dsar::domain::fulfilment::{Operation, PackageStatus, RunStatus};
    use dsar::domain::stage::{Sources, Stage};
    use dsar::domain::verification::Method;
    use dsar::domain::{RejectGround, RequestKind, Status};
    let mut words: Vec<&str> = Vec::new();
    words.extend(Status::NAMES);
    words.extend(RequestKind::NAMES);
    words.extend(RejectGround::NAMES);
    words.extend(Operation::NAMES);
    words.extend(Method::NAMES);
    words.extend(Stage::NAMES);
    words.extend(Sources::NAMES);
    words.extend(RunStatus::NAMES);
    words.extend(PackageStatus::NAMES);
    words.extend([
        dsar::mail::SEND_MAIL,
        dsar::fulfil::SOURCE_RUN,
        dsar::fulfil::BUILD_EXPORT,
        dsar::worker::reminders::DEADLINE_SWEEP,
        dsar::worker::follow_up::REQUESTER_SWEEP,
        dsar::worker::purge::PURGE,
    ]);
    words.extend(ENGLISH);
    words.extend(config);
    let mut words: Vec<String> = words
        .into_iter()
        .map(str::to_lowercase)
        .filter(|w| !FRENCH_TOO.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    words
}

/// What in `text` a French reader should never meet, each with a little context.
pub(crate) fn offences(text: &str, forbidden: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        if c.is_alphanumeric() || c == '_' {
            continue;
        }
        let word = &text[start..i];
        if !word.is_empty() && forbidden.contains(&word.to_lowercase()) {
            let from = text[..start]
                .char_indices()
                .rev()
                .nth(30)
                .map_or(0, |(at, _)| at);
            let to = text[i..]
                .char_indices()
                .nth(30)
                .map_or(text.len(), |(at, _)| i + at);
            found.push(format!(
                "{word:?} in «{}»",
                text[from..to].replace('\n', " ⏎ ")
            ));
        }
        start = i + c.len_utf8();
    }
    if crate::staff_lists::has_uuid(text) {
        found.push("a UUID".into());
    }
    if text.contains("{\"") {
        found.push("raw JSON".into());
    }
    found
}

/// The page's visible text, less what is marked as `<code>`: the settings page names each
/// configuration key an administrator would change, on purpose.
pub(crate) const VISIBLE_TEXT: &str = "let text = document.body.innerText; \
    for (const c of document.querySelectorAll('code')) { text = text.split(c.innerText).join(' '); } \
    return text;";

struct Day<'a> {
    d: &'a Driver,
    app: &'a TestApp,
    forbidden: Vec<String>,
    /// Every offence met, by page: the test fails with all of them at the end.
    offences: RefCell<Vec<String>>,
}

impl Day<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    /// The page as it stands: axe and the 390 px check, then its visible words.
    async fn look(&self, name: &str) {
        self.d.check_page(&format!("day-{name}")).await;
        self.words(name).await;
    }

    /// The page's visible words only: for the pages the other browser tests already hold to
    /// axe at both widths in both languages, which keeps the day under a minute or so.
    async fn words(&self, name: &str) {
        let text = self
            .d
            .session_call(
                "POST",
                "/execute/sync",
                Some(json!({ "script": VISIBLE_TEXT, "args": [] })),
            )
            .await;
        let text = text.as_str().unwrap_or_default();
        assert!(
            text.contains("Boutique Démo"),
            "{name}: no text read: {text:?}"
        );
        self.read(name, text);
    }

    /// Keeps what was read beside the screenshots (`day-NAME.txt`), for people to read too.
    fn read(&self, name: &str, text: &str) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
        std::fs::create_dir_all(&dir).expect("artefact dir");
        let file = format!("day-{}.txt", name.replace([' ', ','], "-"));
        std::fs::write(dir.join(file), text).expect("text written");
        self.offences.borrow_mut().extend(
            offences(text, &self.forbidden)
                .into_iter()
                .map(|o| format!("{name}: {o}")),
        );
    }

    /// Opens `path`, waits for `words`, and looks at it.
    async fn visit(&self, path: &str, name: &str, words: &str) {
        self.d.goto(&self.url(path)).await;
        self.d.expect(words).await;
        self.look(name).await;
    }

    /// Opens `path`, waits for `words`, and reads it (see [`Day::words`]).
    async fn read_through(&self, path: &str, name: &str, words: &str) {
        self.d.goto(&self.url(path)).await;
        self.d.expect(words).await;
        self.words(name).await;
    }

    async fn sign_in(&self, email: &str, name: &str) {
        self.d.goto(&self.url("/admin/login?lang=fr")).await;
        self.d.fill("email", email).await;
        self.d.fill("password", PASSWORD).await;
        self.d.click_text("Se connecter").await;
        self.d.expect(name).await;
    }

    /// Replaces what a field holds (a number field's 0) with `text`.
    async fn replace(&self, css: &str, text: &str) {
        let id = self.d.find(css).await;
        self.d
            .session_call("POST", &format!("/element/{id}/clear"), None)
            .await;
        self.d.type_into(css, text).await;
    }

    /// Types what the team did into the task's form on the request page.
    async fn task_comment(&self, text: &str) {
        self.d.type_into("input[id^='task-comment-']", text).await;
    }
}

/// Files a request on the French portal as the person would; returns its reference and, when
/// asked, confirms the address and sends an identity document.
async fn filed_on_the_portal(
    app: &TestApp,
    kind: &str,
    name: &str,
    email: &str,
    fields: &[(&str, &str)],
    confirm_with_document: bool,
) -> String {
    let mut person = Browser::new(app);
    let form = person.get(&format!("/fr/request/{kind}")).await;
    let csrf = form.csrf();
    let mut parts = vec![
        Part::Field("csrf", &csrf),
        Part::Field("name", name),
        Part::Field("email", email),
        Part::Field("country", "FR"),
        Part::Field("acting", "self"),
    ];
    parts.extend(fields.iter().map(|(k, v)| Part::Field(k, v)));
    let filed = person.post(&format!("/fr/request/{kind}"), &parts).await;
    assert_eq!(filed.status.as_u16(), 303, "{}", filed.html);
    let filed = person.follow(filed).await;
    let start = filed.html.find("DSAR-").expect("reference");
    let reference = filed.html[start..start + 16].to_string();
    if confirm_with_document {
        confirm_with_id_card(app, &mut person, email).await;
    }
    reference
}

async fn by_api(app: &TestApp, kind: &str, name: &str, email: &str, verified: bool) -> String {
    let body =
        json!({ "kind": kind, "language": "fr", "requester": { "name": name, "email": email } });
    if verified {
        app.file_verified(body).await
    } else {
        app.file(body).await["reference"]
            .as_str()
            .expect("reference")
            .to_string()
    }
}

#[actix_web::test]
async fn a_french_dpos_day_meets_no_code_no_uuid_and_no_english_word() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = dsar::demo::prepare(dir.path()).expect("the demo's files");
    let mut env = demo.env();
    env.push(("DSAR_ORGANISATION__LANGUAGE", "fr"));
    let Some(app) = try_spawn(Backend::Sqlite, &env).await else {
        return;
    };
    let Some(d) = Driver::start().await else {
        return;
    };
    let started = std::time::Instant::now();
    // Accounts with no language of their own: they read the organisation's, French.
    app.staff_account(DPO, "Dominique Lefèvre", dsar::staff::Role::Dpo);
    app.staff_account(ADMIN, "Alix Bernard", dsar::staff::Role::Admin);

    // The morning's inbox. One request filed in January and never answered: overdue.
    app.set_now("2026-01-05T10:00:00Z");
    let overdue = by_api(
        &app,
        "access",
        "Olga Martineau",
        "olga.martineau@example.fr",
        true,
    )
    .await;
    app.set_now("2026-03-16T09:00:00Z");
    // Camille asks for erasure on the portal and sends her identity card.
    let camille = filed_on_the_portal(
        &app,
        "erasure",
        CAMILLE.name,
        CAMILLE.email,
        &[
            ("erasure_scope", "all"),
            ("details", "Je ne suis plus cliente de la boutique."),
        ],
        true,
    )
    .await;
    // Hugo's access, checked already: to send to the sources.
    let hugo = by_api(&app, "access", HUGO.name, HUGO.email, true).await;
    // Léa's objection to the newsletter, her address not confirmed yet.
    let lea = filed_on_the_portal(
        &app,
        "objection",
        LEA.name,
        LEA.email,
        &[("objection_direct_marketing", "on")],
        false,
    )
    .await;
    // A rectification to hold, resume and extend; an access request to refuse.
    let paul = by_api(
        &app,
        "rectification",
        "Paul Durand",
        "paul.durand@example.fr",
        true,
    )
    .await;
    let zoe = by_api(&app, "access", "Zoé Fabre", "zoe.fabre@example.fr", false).await;
    app.run_worker().await;

    let day = Day {
        d: &d,
        app: &app,
        forbidden: forbidden(&app.state),
        offences: RefCell::new(Vec::new()),
    };
    d.goto(&day.url("/admin/login?lang=fr")).await;
    day.words("login").await;
    day.sign_in(DPO, "Dominique Lefèvre").await;

    // Triage: every tab of the inbox (held to axe by `browser_lists`: read here).
    for (tab, name) in [
        ("", "queue"),
        ("?stage=to_verify", "queue-to-verify"),
        ("?stage=to_send", "queue-to-send"),
        ("?stage=overdue", "queue-overdue"),
        ("?stage=unconfirmed", "queue-unconfirmed"),
    ] {
        day.read_through(&format!("/admin{tab}"), name, "Dominique Lefèvre")
            .await;
    }
    // Camille's and Hugo's requests taken in one go.
    d.goto(&day.url("/admin")).await;
    d.click(&format!("#pick-{camille}")).await;
    d.click(&format!("#pick-{hugo}")).await;
    d.click_text("Attribuer").await;
    d.expect("demandes attribuées").await;
    day.look("queue-assigned").await;

    // Camille: her identity card beside the decision; accepted; sent to the sources.
    let camille_url = format!("/admin/requests/{camille}");
    day.visit(&camille_url, "verify", "Examiner le justificatif")
        .await;
    d.expect("Attribuée à Dominique Lefèvre par Dominique Lefèvre")
        .await;
    d.click_text("Accepter").await;
    d.expect("Votre décision sur le justificatif est enregistrée")
        .await;
    day.look("to-send").await;
    d.click("#dispatch").await;
    d.expect("La demande est envoyée aux sources").await;
    app.run_worker().await;
    day.visit(&camille_url, "erasure-task", "Archives papier")
        .await;
    day.task_comment("Aucun dossier papier au nom de Camille Martin")
        .await;
    d.click_text("Fait").await;
    d.expect("La tâche est terminée").await;
    app.run_worker().await;
    day.visit(&camille_url, "erasure-to-answer", "Envoyer la réponse")
        .await;
    d.click("#fulfil").await;
    d.expect("La réponse est envoyée").await;
    app.run_worker().await;
    day.read_through(&camille_url, "erasure-answered", "Cette demande est close")
        .await;

    // Hugo: his data gathered, the package reviewed, released, then the answer.
    let hugo_url = format!("/admin/requests/{hugo}");
    day.visit(&hugo_url, "access-to-send", "Envoyer aux sources")
        .await;
    d.click("#dispatch").await;
    d.expect("La demande est envoyée aux sources").await;
    app.run_worker().await;
    day.visit(&hugo_url, "access-gathering", "Archives papier")
        .await;
    day.task_comment("Cartons 2024 et 2025 : rien au nom de Hugo Bernard")
        .await;
    d.click_text("Rien trouvé").await;
    d.expect("La tâche est terminée").await;
    app.run_worker().await;
    day.visit(&hugo_url, "access-review", "Transmettre au demandeur")
        .await;
    d.click("#release").await;
    d.expect("Le dossier est transmis au demandeur").await;
    app.run_worker().await;
    day.visit(&hugo_url, "access-released", "Envoyer la réponse")
        .await;
    d.click("#fulfil").await;
    d.expect("La réponse est envoyée").await;
    app.run_worker().await;
    day.visit(&hugo_url, "access-answered", "Cette demande est close")
        .await;

    // Paul: a question (the clock stops), his answer, a month more, a message.
    let paul_url = format!("/admin/requests/{paul}");
    d.goto(&day.url(&paul_url)).await;
    d.type_into(
        "#hold-text",
        "Quelle adresse souhaitez-vous voir corrigée, et en quoi ?",
    )
    .await;
    d.click_text("Mettre en attente et envoyer").await;
    d.expect("La demande est en attente").await;
    day.words("on-hold").await;
    day.read_through("/admin?stage=waiting", "queue-waiting", "Paul Durand")
        .await;
    d.goto(&day.url(&paul_url)).await;
    d.click_text("Reprendre la demande").await;
    d.expect("La demande a repris").await;
    day.replace("#ext-months", "1").await;
    d.type_into(
        "#ext-text",
        "Votre demande concerne trois de nos systèmes : il nous faut un mois de plus.",
    )
    .await;
    d.click_text("Prolonger le délai").await;
    d.expect("Le délai est prolongé").await;
    d.type_into(
        "#reply",
        "Nous avons bien reçu votre réponse et corrigeons votre adresse.",
    )
    .await;
    d.click_text("Envoyer le message").await;
    d.expect("Le message est envoyé au demandeur").await;
    day.look("extended-and-written").await;

    // Zoé: a refusal, with its confirmation first.
    let zoe_url = format!("/admin/requests/{zoe}");
    day.read_through(
        &format!("{zoe_url}?confirm=reject"),
        "reject-confirm",
        "Ce qui va se passer",
    )
    .await;
    d.click("#ground-0").await;
    d.type_into(
        "#reject-text",
        "Vous nous avez adressé cette même demande quarante fois ce mois-ci.",
    )
    .await;
    d.click("button.danger").await;
    d.expect("La demande est refusée").await;
    day.words("rejected").await;

    // The rest of the inbox, then what the DPO answers for.
    day.visit(
        &format!("/admin/requests/{overdue}"),
        "overdue",
        "Envoyer aux sources",
    )
    .await;
    day.visit(
        &format!("/admin/requests/{lea}"),
        "unconfirmed",
        "Attendre que le demandeur confirme",
    )
    .await;
    for (tab, name) in [
        ("?stage=gathering", "queue-gathering"),
        ("?stage=to_answer", "queue-to-answer"),
    ] {
        day.read_through(&format!("/admin{tab}"), name, "Dominique Lefèvre")
            .await;
    }
    day.read_through(
        "/admin/reports?from=2026-01&to=2026-03",
        "reports",
        "Registre des demandes",
    )
    .await;
    day.read_through("/admin/register", "register", "Durée de conservation")
        .await;
    day.read_through("/admin/audit", "audit", "Journal d'audit")
        .await;
    day.read_through("/admin/account", "account", "Dominique Lefèvre")
        .await;
    d.click_text("Se déconnecter").await;

    // The administrator's pages, and a colleague invited.
    day.sign_in(ADMIN, "Alix Bernard").await;
    day.read_through("/admin/users", "users", "Alix Bernard")
        .await;
    d.fill("email", INVITED).await;
    d.fill("name", "Noémie Girard").await;
    d.click_text("Envoyer l'invitation").await;
    d.expect("Noémie Girard").await;
    day.look("users-invited").await;
    day.read_through("/admin/settings", "settings", "Alix Bernard")
        .await;
    day.read_through("/admin/jobs", "jobs", "Alix Bernard")
        .await;

    // The next morning's digest for the DPO: the overdue request.
    app.set_now("2026-03-17T07:30:00Z");
    let state = app.state.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let worker = dsar::worker::standard(state).expect("the worker starts");
        worker.enqueue_scheduled().expect("the morning's tasks");
        while worker.run_once().expect("worker reaches the database") {}
    })
    .await
    .expect("worker thread");
    for (to, what, subject) in [
        (INVITED, "invitation", "votre accès"),
        (DPO, "digest", "en retard"),
    ] {
        let mails = mails_to(&app, to);
        assert!(
            mails.iter().any(|m| m.subject.contains(subject)),
            "no {what} for {to}: {:?}",
            mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        for mail in mails {
            day.read(&format!("{what} mail, subject"), &mail.subject);
            day.read(&format!("{what} mail"), &mail.text);
        }
    }
    d.quit().await;

    let offences = day.offences.take();
    assert!(
        offences.is_empty(),
        "{} thing(s) a French DPO should not read:\n{}",
        offences.len(),
        offences.join("\n")
    );
    println!("the day took {:?}", started.elapsed());
}

#[test]
fn the_reader_catches_codes_job_kinds_uuids_json_and_english_words() {
    let forbidden = forbidden_with(&["shop", "newsletter_subscribers"]);
    let text = "Statut : in_progress. Tâche send_mail. 0b6c1f1e-3f4a-4c1d-9a53-2a7c1d9e8f00 \
                {\"a\": 1} Download; Rectification (art. 16), demande excessive, purge. \
                newsletter_subscribers : 1";
    let found = offences(text, &forbidden);
    for expected in [
        "in_progress",
        "send_mail",
        "a UUID",
        "raw JSON",
        "Download",
        "newsletter_subscribers",
    ] {
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{expected} not caught: {found:?}"
        );
    }
    assert_eq!(found.len(), 6, "{found:?}");
    assert!(
        offences(
            "Accès (art. 15) : en cours d'examen, délai suspendu",
            &forbidden
        )
        .is_empty()
    );
}
