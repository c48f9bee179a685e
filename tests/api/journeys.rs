//! Every journey of the product in a real browser, on the demonstration organisation's data
//! (`dsar::demo`): a person files on the portal, confirms from the mailed link, the DPO takes
//! the request through the dashboard and the sources, and the person reads the answer on the
//! status page (and downloads the package). Access, erasure, rectification, objection to
//! direct marketing and a representative's access request, one after the other on one server
//! and one browser per backend.
//!
//! Buttons are found by their visible text, fields by their names.

use diesel::{Connection, RunQueryDsl};

use crate::browser::Driver;
use crate::fulfilment::unzip;
use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::{Mail, mails_to};

const DPO_EMAIL: &str = "dpo.journeys@example.org";
const DPO_PASSWORD: &str = crate::helpers::STAFF_PASSWORD;

struct Journey<'a> {
    driver: &'a Driver,
    app: &'a TestApp,
    shop: std::path::PathBuf,
    /// Screenshots once, on the first backend: they are for people to look at.
    shots: bool,
    _files: &'a tempfile::TempDir,
}

#[actix_web::test]
async fn journeys_on_sqlite() {
    journeys(Backend::Sqlite).await;
}

#[actix_web::test]
async fn journeys_on_postgres() {
    journeys(Backend::Postgres).await;
}

async fn journeys(backend: Backend) {
    let files = tempfile::tempdir().expect("temp dir");
    let demo = dsar::demo::prepare(files.path()).expect("the demonstration data");
    let Some(app) = try_spawn(backend, &demo.env()).await else {
        return;
    };
    let Some(driver) = Driver::start().await else {
        return;
    };
    add_dpo(&app);
    let journey = Journey {
        driver: &driver,
        app: &app,
        shop: files.path().join("shop.sqlite3"),
        shots: backend == Backend::Sqlite,
        _files: &files,
    };
    journey.sign_in().await;
    // Camille last: her erasure empties what the other journeys read.
    journey.access().await;
    journey.objection().await;
    journey.rectification().await;
    journey.representative().await;
    journey.erasure().await;
    driver.quit().await;
}

fn add_dpo(app: &TestApp) {
    app.staff_account(DPO_EMAIL, "Dominique Lefèvre", dsar::staff::Role::Dpo);
}

/// A small PNG: what a person photographs as their identity document.
pub(crate) fn id_card(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("carte-identite.png");
    let png = crate::eml::decode_base64(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    );
    std::fs::write(&path, png).expect("png written");
    path
}

impl Journey<'_> {
    async fn shot(&self, name: &str) {
        if self.shots {
            self.driver.screenshots(name).await;
        }
    }

    async fn sign_in(&self) {
        let d = self.driver;
        d.goto(&format!("{}/admin", self.app.address)).await;
        d.fill("email", DPO_EMAIL).await;
        d.fill("password", DPO_PASSWORD).await;
        d.click_text("Sign in").await;
        d.expect("Dominique").await;
    }

    /// Fills the portal's form for `kind` in `lang` as `name` <`email`>; `answers` are the
    /// kind's own questions (a radio or box as `name=value` in `choices`). Returns the
    /// request's reference, read from the confirmation page.
    async fn file(
        &self,
        lang: &str,
        kind: &str,
        (name, email): (&str, &str),
        texts: &[(&str, &str)],
        choices: &[(&str, &str)],
    ) -> String {
        let d = self.driver;
        d.goto(&format!("{}/{lang}/", self.app.address)).await;
        d.click(&format!("a[href='/{lang}/request/{kind}']")).await;
        d.fill("name", name).await;
        d.fill("email", email).await;
        for (field, value) in choices {
            d.choose(field, value).await;
        }
        for (field, value) in texts {
            d.fill(field, value).await;
        }
        self.shot(&format!("portal-form-{kind}")).await;
        d.click_text(if lang == "fr" {
            "Envoyer ma demande"
        } else {
            "Send my request"
        })
        .await;
        let page = d
            .expect(if lang == "fr" {
                "Votre demande est enregistrée"
            } else {
                "Your request is recorded"
            })
            .await;
        reference_in(&page)
    }

    /// Opens the link of the first mail to `email` about `reference`, as the person would
    /// from their mailbox.
    async fn confirm(&self, email: &str, reference: &str) -> String {
        self.app.run_worker().await;
        let link = mails_to(self.app, email)
            .iter()
            .find(|m| m.text.contains(reference))
            .and_then(Mail::link)
            .expect("a mailed link");
        self.driver
            .goto(&format!("{}{link}", self.app.address))
            .await;
        link
    }

    /// The staff's page of the request, reached from the queue.
    async fn open(&self, reference: &str) -> String {
        let d = self.driver;
        d.goto(&format!("{}/admin", self.app.address)).await;
        d.click_text(reference).await;
        d.expect(reference).await
    }

    /// Runs the worker (the sources, the package), answers the archives team's task as the
    /// team would, then shows the request page again.
    async fn work(&self, reference: &str) -> String {
        let d = self.driver;
        let page_url = format!("{}/admin/requests/{reference}", self.app.address);
        self.app.run_worker().await;
        d.goto(&page_url).await;
        let mut page = d.expect(reference).await;
        if page.contains("/tasks/") {
            d.fill("comment", "Dossiers du siège consultés.").await;
            d.click_text(if page.contains("Nothing found") {
                "Nothing found"
            } else {
                "Done"
            })
            .await;
            d.expect("The task is done.").await;
            self.app.run_worker().await;
            d.goto(&page_url).await;
            page = d.expect(reference).await;
        }
        page
    }

    /// The last mail sent to `email`.
    async fn last_mail(&self, email: &str) -> Mail {
        self.app.run_worker().await;
        mails_to(self.app, email).pop().expect("a mail")
    }

    fn shop_count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn =
            diesel::sqlite::SqliteConnection::establish(&self.shop.display().to_string())
                .expect("the sample shop");
        diesel::sql_query(sql)
            .get_result::<Count>(&mut conn)
            .expect("count")
            .n
    }

    /// Access, in English: the package holds Camille's data and nobody else's; she
    /// downloads it from her status page.
    async fn access(&self) {
        let d = self.driver;
        let camille = &dsar::demo::CAMILLE;
        let reference = self
            .file(
                "en",
                "access",
                (camille.name, camille.email),
                &[],
                &[("access_scope", "all")],
            )
            .await;
        // Reloading the confirmation page does not file the request again.
        d.session_call("POST", "/refresh", None).await;
        d.expect("Your request is recorded").await;
        self.shot("portal-submitted").await;
        let link = self.confirm(camille.email, &reference).await;
        d.expect("your email address is confirmed").await;
        self.shot("portal-status-confirmed").await;

        // The confirmed address is proof enough for access: the DPO sends it to the sources.
        let page = self.open(&reference).await;
        assert!(page.contains("email link"), "verified by the link: {page}");
        self.shot("admin-request-access").await;
        d.click_text("Send to the sources").await;
        self.work(&reference).await;
        d.click_text("Release to the requester").await;
        d.expect("released").await;
        let page = self.work(&reference).await;
        self.shot("admin-request-released").await;
        assert!(page.contains("Send the answer"), "{page}");
        d.click_text("Send the answer").await;
        d.expect("fulfilled").await;

        let ready = self.last_mail(camille.email).await;
        assert!(
            ready.text.contains(camille.name) || ready.text.contains("Article 15"),
            "{}",
            ready.text
        );
        d.goto(&format!("{}{link}", self.app.address)).await;
        d.download_text("Download your data (zip)").await;
        let zip = d.downloaded(".zip").await;
        let shop = shop_json(&zip);
        assert!(shop.contains(camille.email), "{shop}");
        assert!(
            !shop.contains(dsar::demo::HUGO.email),
            "another customer's data: {shop}"
        );
        self.shot("portal-status-answered").await;
    }

    /// Erasure, in French: the identity document the policy asks for, the DPO's decision,
    /// orders deleted, invoices kept ten years, and the letter says so.
    async fn erasure(&self) {
        let d = self.driver;
        let camille = &dsar::demo::CAMILLE;
        let reference = self
            .file(
                "fr",
                "erasure",
                (camille.name, camille.email),
                &[],
                &[("erasure_scope", "all")],
            )
            .await;
        let link = self.confirm(camille.email, &reference).await;
        d.expect("justificatif").await;
        let card = id_card(self._files.path());
        d.type_into("input[name='document']", &card.display().to_string())
            .await;
        d.click_text("Envoyer le justificatif").await;
        self.shot("portal-status-identity-sent").await;

        self.open(&reference).await;
        d.click_text("Accept").await;
        d.expect("identity document").await;
        d.click_text("Send to the sources").await;
        let page = self.work(&reference).await;
        self.shot("admin-request-erasure").await;
        assert!(page.contains("L123-22"), "{page}");
        d.click_text("Send the answer").await;
        d.expect("fulfilled").await;

        let letter = self.last_mail(camille.email).await;
        assert!(letter.text.contains("L123-22"), "{}", letter.text);
        let customer = format!(
            "(SELECT id FROM customers WHERE ref = '{}')",
            camille.customer_ref.expect("Camille is a customer")
        );
        assert_eq!(
            self.shop_count(&format!(
                "SELECT COUNT(*) AS n FROM orders WHERE customer_id IN {customer}"
            )),
            0,
            "orders deleted"
        );
        assert!(
            self.shop_count(&format!(
                "SELECT COUNT(*) AS n FROM invoices WHERE customer_id IN {customer}"
            )) > 0,
            "invoices kept"
        );
        d.goto(&format!("{}{link}", self.app.address)).await;
        d.expect("L123-22").await;
    }

    /// Rectification, in English: the DPO types the correction the person asked for.
    async fn rectification(&self) {
        let d = self.driver;
        let person = &dsar::demo::HUGO;
        let reference = self
            .file(
                "en",
                "rectification",
                (person.name, person.email),
                &[
                    ("rectification_wrong", "My last name is misspelt."),
                    ("rectification_correct", "Lefebvre-Dubois"),
                ],
                &[],
            )
            .await;
        let link = self.confirm(person.email, &reference).await;
        d.expect("your email address is confirmed").await;
        self.open(&reference).await;
        d.fill("changes", "last_name = Lefebvre-Dubois").await;
        d.click_text("Send to the sources").await;
        self.work(&reference).await;
        d.click_text("Send the answer").await;
        d.expect("fulfilled").await;
        assert_eq!(
            self.shop_count(&format!(
                "SELECT COUNT(*) AS n FROM customers WHERE email = '{}' AND last_name = 'Lefebvre-Dubois'",
                person.email
            )),
            1
        );
        self.last_mail(person.email).await;
        d.goto(&format!("{}{link}", self.app.address)).await;
        d.expect("answered").await;
    }

    /// Objection to direct marketing, in French: no reason needed, the newsletter stops.
    async fn objection(&self) {
        let d = self.driver;
        let camille = &dsar::demo::CAMILLE;
        let reference = self
            .file(
                "fr",
                "objection",
                (camille.name, camille.email),
                &[],
                &[("objection_direct_marketing", "")],
            )
            .await;
        self.confirm(camille.email, &reference).await;
        self.open(&reference).await;
        d.click_text("Send to the sources").await;
        self.work(&reference).await;
        d.click_text("Send the answer").await;
        d.expect("fulfilled").await;
        assert_eq!(
            self.shop_count(&format!(
                "SELECT COUNT(*) AS n FROM newsletter_subscribers WHERE email = '{}' AND active = 1",
                camille.email
            )),
            0,
            "no more newsletter"
        );
    }

    /// A representative's access request, in English: the sources are searched for the
    /// person represented; the representative gets the mails and downloads the package.
    async fn representative(&self) {
        let d = self.driver;
        let represented = &dsar::demo::HUGO;
        let lawyer = ("Me Sophie Durand", "sophie.durand@avocats.example.net");
        let card = id_card(self._files.path());
        let reference = {
            d.goto(&format!("{}/en/request/access", self.app.address))
                .await;
            d.fill("name", lawyer.0).await;
            d.fill("email", lawyer.1).await;
            d.choose("access_scope", "all").await;
            d.choose("acting", "representative").await;
            d.fill("subject_name", represented.name).await;
            d.fill("subject_email", represented.email).await;
            d.type_into("input[name='mandate']", &card.display().to_string())
                .await;
            self.shot("portal-form-representative").await;
            d.click_text("Send my request").await;
            reference_in(&d.expect("Your request is recorded").await)
        };
        let link = self.confirm(lawyer.1, &reference).await;
        d.expect(&reference).await;
        let page = self.open(&reference).await;
        assert!(
            page.contains(represented.name) && page.contains(lawyer.0),
            "{page}"
        );
        d.click_text("Accept").await;
        d.click_text("Send to the sources").await;
        self.work(&reference).await;
        d.click_text("Release to the requester").await;
        d.expect("released").await;
        self.work(&reference).await;
        d.click_text("Send the answer").await;
        d.expect("fulfilled").await;
        self.last_mail(lawyer.1).await;
        d.goto(&format!("{}{link}", self.app.address)).await;
        d.download_text("Download your data (zip)").await;
        let shop = shop_json(&d.downloaded(".zip").await);
        assert!(shop.contains(represented.email), "{shop}");
        assert!(!shop.contains(lawyer.1), "{shop}");
    }
}

pub(crate) fn reference_in(page: &str) -> String {
    page.split("DSAR-")
        .nth(1)
        .map(|r| format!("DSAR-{}", &r[..11]))
        .expect("a reference on the page")
}

/// What the package holds from the shop's database.
pub(crate) fn shop_json(zip: &[u8]) -> String {
    unzip(zip)
        .into_iter()
        .find(|(name, _)| name == "data/shop.json")
        .map(|(_, bytes)| String::from_utf8_lossy(&bytes).to_string())
        .expect("the shop's data in the package")
}
