//! The portal in a real browser: headless Chromium driven over WebDriver (chromedriver), a
//! person filling the form, opening the mailed link and seeing their request.
//! Skips with a reason when Chromium is absent; `.ci/run` installs it and sets
//! DSAR_TEST_REQUIRE_BROWSER=1 so that CI never skips it silently.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, try_spawn};
use crate::web::mails_to;

const REQUIRE_ENV: &str = "DSAR_TEST_REQUIRE_BROWSER";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    process: Child,
    base: String,
    session: String,
    client: awc::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

impl Driver {
    async fn start() -> Option<Driver> {
        let chromium = find_program(&[
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/usr/bin/google-chrome",
        ]);
        let driver = find_program(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_ENV}=1 but chromium or chromedriver is not installed");
            }
            eprintln!(
                "skipped: browser test (install Debian's chromium and chromium-driver to run it)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let process = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if client.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut driver = Driver {
            process,
            base,
            session: String::new(),
            client,
            _profile: profile,
        };
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1000,1400",
                     format!("--user-data-dir={}", driver._profile.path().display())]
        } } } });
        let created = driver.call("POST", "/session", Some(caps)).await;
        driver.session = created["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        Some(driver)
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{}", self.base, path);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url),
        };
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None if method == "POST" => req.send_json(&json!({})).await,
            None => req.send().await,
        }
        .expect("chromedriver answers");
        let value: Value = res
            .json()
            .limit(50 * 1024 * 1024)
            .await
            .expect("JSON from chromedriver");
        assert!(
            value["value"]["error"].is_null(),
            "WebDriver {method} {path}: {value}"
        );
        value.get("value").cloned().unwrap_or(Value::Null)
    }

    async fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{}", self.session, path), body)
            .await
    }

    async fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .session_call(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.session_call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.session_call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    async fn source(&self) -> String {
        self.session_call("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page source once it contains `text`: a click returns before the next page has
    /// loaded, so reading the source at once may still see the previous one.
    async fn wait_for(&self, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            let source = self.source().await;
            if source.contains(text) || std::time::Instant::now() > deadline {
                return source;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot where CI keeps artefacts and prints its path.
    async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let data = self.session_call("GET", "/screenshot", None).await;
        let png = crate::eml::decode_base64(data.as_str().expect("base64 PNG"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
        std::fs::create_dir_all(&dir).expect("artefact dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        println!("browser screenshot: {}", path.display());
        path
    }
}

#[actix_web::test]
async fn a_person_files_a_request_in_chromium_and_follows_the_mailed_link() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app: TestApp = try_spawn(Backend::Sqlite, &[]).await.expect("app");

    driver.goto(&format!("{}/en/", app.address)).await;
    driver.click("a[href='/en/request/access']").await;
    driver.type_into("#name", "Camille Martin").await;
    driver
        .type_into("#email", "camille.browser@example.org")
        .await;
    driver
        .click("input[name='access_scope'][value='all']")
        .await;
    driver.screenshot("portal-form").await;
    driver.click("button[type='submit']").await;
    let submitted = driver.wait_for("Your request is recorded").await;
    assert!(
        submitted.contains("Your request is recorded"),
        "{submitted}"
    );

    app.run_worker().await;
    let link = mails_to(&app, "camille.browser@example.org")
        .first()
        .and_then(|m| m.link())
        .expect("a mailed link");
    driver.goto(&format!("{}{link}", app.address)).await;
    let status = driver.wait_for("your email address is confirmed").await;
    assert!(
        status.contains("your email address is confirmed"),
        "{status}"
    );
    assert!(status.contains("being handled"), "{status}");
    let shot = driver.screenshot("portal-status").await;
    assert!(std::fs::metadata(shot).expect("screenshot").len() > 1000);
    let reference = status
        .split("DSAR-")
        .nth(1)
        .map(|r| format!("DSAR-{}", &r[..11]))
        .expect("reference on the page");

    // A member of the privacy team signs in, finds the request in the queue and opens it.
    {
        let mut conn = app.state.pool.get().expect("conn");
        let (user, _) = dsar::staff::add_user(
            &mut conn,
            "dana@example.org",
            "Dana",
            dsar::staff::Role::Dpo,
            "test",
            app.state.clock.now(),
        )
        .expect("user");
        let hash = dsar::staff::hash_password("correct horse battery staple").expect("hash");
        dsar::store::users::set_password(&mut conn, user.id, &hash).expect("password");
    }
    driver.goto(&format!("{}/admin", app.address)).await;
    driver.type_into("#email", "dana@example.org").await;
    driver
        .type_into("#password", "correct horse battery staple")
        .await;
    driver.click("button[type='submit']").await;
    let queue = driver.wait_for(&reference).await;
    assert!(queue.contains(&reference), "{queue}");
    driver.screenshot("admin-queue").await;
    driver
        .click(&format!("a[href='/admin/requests/{reference}']"))
        .await;
    let page = driver.wait_for("Camille Martin").await;
    assert!(
        page.contains("Camille Martin") && page.contains("Deadline"),
        "{page}"
    );
    driver.screenshot("admin-request").await;

    // The letter offered for an access request is sent as it stands.
    driver.click("#fulfil").await;
    let done = driver.wait_for("Done: fulfil").await;
    assert!(done.contains("fulfilled"), "{done}");
    driver.screenshot("admin-fulfilled").await;
    app.run_worker().await;
    let answer = mails_to(&app, "camille.browser@example.org")
        .last()
        .cloned()
        .expect("the answer mail");
    assert!(answer.text.contains("Article 15"), "{}", answer.text);
    driver.session_call("DELETE", "", None).await;
}
