//! A real browser for the journeys (`journeys.rs`): headless Chromium driven over WebDriver
//! (chromedriver). Buttons are found by their visible text and fields by their names, so a
//! redesign of the markup keeps the journeys.
//! Skips with a reason when Chromium is absent; `.ci/run` installs it and sets
//! DSAR_TEST_REQUIRE_BROWSER=1 so that CI never skips it silently.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const REQUIRE_ENV: &str = "DSAR_TEST_REQUIRE_BROWSER";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    process: Child,
    base: String,
    session: String,
    client: awc::Client,
    _profile: tempfile::TempDir,
    /// Where the browser saves what it downloads.
    pub downloads: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The rules every page is held to: WCAG 2.0, 2.1 and 2.2 at A and AA, and axe's best practices.
const AXE_TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']";

/// axe-core's script, as `.ci/run` installs it (`npm install axe-core` in `target/axe`), or
/// where DSAR_TEST_AXE names it. Without it pages are still checked for width; CI requires it.
fn axe_source() -> Option<String> {
    let path = std::env::var("DSAR_TEST_AXE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") => {
            panic!("{REQUIRE_ENV}=1 but axe-core is not at {}", path.display())
        }
        Err(_) => {
            eprintln!(
                "skipped: axe-core checks ({} is missing: npm install --prefix target/axe axe-core)",
                path.display()
            );
            None
        }
    }
}

fn find_program(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

impl Driver {
    pub async fn start() -> Option<Driver> {
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
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).expect("downloads dir");
        let mut driver = Driver {
            process,
            base,
            session: String::new(),
            client,
            _profile: profile,
            downloads,
        };
        let caps = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--window-size=1000,1400",
                     format!("--user-data-dir={}", driver._profile.path().display())],
            "prefs": { "download.default_directory": driver.downloads.display().to_string(),
                       "download.prompt_for_download": false }
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

    pub async fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{}", self.session, path), body)
            .await
    }

    pub async fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
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

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.session_call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.session_call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    pub async fn source(&self) -> String {
        self.session_call("GET", "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page source once it contains `text`: a click returns before the next page has
    /// loaded, so reading the source at once may still see the previous one.
    pub async fn wait_for(&self, text: &str) -> String {
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
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let data = self.session_call("GET", "/screenshot", None).await;
        let png = crate::eml::decode_base64(data.as_str().expect("base64 PNG"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
        std::fs::create_dir_all(&dir).expect("artefact dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        println!("browser screenshot: {}", path.display());
        path
    }

    /// The element whose visible text starts with `text`: a button, a link or a summary.
    pub async fn find_text(&self, text: &str) -> String {
        let quoted = if text.contains('\'') {
            format!("\"{text}\"")
        } else {
            format!("'{text}'")
        };
        let xpath = format!(
            "//*[self::button or self::a or self::summary][starts-with(normalize-space(.), {quoted})] \
             | //input[@type='submit'][starts-with(@value, {quoted})]"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let mut res = self
                .client
                .post(url)
                .send_json(&json!({ "using": "xpath", "value": xpath }))
                .await
                .expect("chromedriver answers");
            let found: Value = res.json().limit(1 << 20).await.expect("JSON");
            if let Some(id) = found["value"][ELEMENT].as_str() {
                return id.to_string();
            }
            if std::time::Instant::now() > deadline {
                let page = self.source().await;
                self.screenshot("failed-find").await;
                panic!("no button or link \"{text}\" on the page:\n{page}");
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the button or link whose visible text starts with `text`, and waits until the
    /// page it leads to has replaced this one (a later `goto` would otherwise race the form's
    /// answer).
    pub async fn click_text(&self, text: &str) {
        let id = self.find_text(text).await;
        self.session_call("POST", &format!("/element/{id}/click"), None)
            .await;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while !self.is_gone(&id).await {
            assert!(
                std::time::Instant::now() < deadline,
                "clicking \"{text}\" led nowhere"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks a link that downloads a file (the page stays).
    pub async fn download_text(&self, text: &str) {
        let id = self.find_text(text).await;
        self.session_call("POST", &format!("/element/{id}/click"), None)
            .await;
    }

    /// Whether the element has left the page (a new page was loaded).
    async fn is_gone(&self, id: &str) -> bool {
        let url = format!("{}/session/{}/element/{id}/name", self.base, self.session);
        let Ok(mut res) = self.client.get(url).send().await else {
            return false;
        };
        let value: Value = res.json().limit(1 << 20).await.unwrap_or(Value::Null);
        value["value"]["error"].as_str() == Some("stale element reference")
    }

    /// Types into the field named `name` (the first of that name when there are several).
    pub async fn fill(&self, name: &str, text: &str) {
        self.type_into(&format!("[name='{name}']"), text).await;
    }

    /// Ticks the radio button `name` = `value`, or the box `name` when `value` is empty.
    pub async fn choose(&self, name: &str, value: &str) {
        if value.is_empty() {
            self.click(&format!("input[name='{name}']")).await;
        } else {
            self.click(&format!("input[name='{name}'][value='{value}']"))
                .await;
        }
    }

    /// The page once it says `text`; fails with the page and a screenshot when it never does.
    pub async fn expect(&self, text: &str) -> String {
        let page = self.wait_for(text).await;
        if !page.contains(text) {
            self.screenshot("failed-expect").await;
            panic!("the page never said \"{text}\":\n{page}");
        }
        page
    }

    /// Screenshots at desktop (1,280 px) and phone (390 px) width, for people to look at.
    pub async fn screenshots(&self, name: &str) {
        for width in [1280, 390] {
            self.session_call(
                "POST",
                "/window/rect",
                Some(json!({ "width": width, "height": 1400 })),
            )
            .await;
            self.screenshot(&format!("{name}-{width}")).await;
        }
        self.session_call(
            "POST",
            "/window/rect",
            Some(json!({ "width": 1280, "height": 1400 })),
        )
        .await;
    }

    /// Checks the page as a person with any device or assistive technology meets it: axe-core
    /// with the WCAG 2.2 AA and best-practice rules finds nothing, at 1,280 px and at 390 px,
    /// and nothing scrolls sideways at 390 px; saves both screenshots as `name-1280/390`.
    /// Panics with every violation (rule, impact, up to five elements) when there is one.
    pub async fn check_page(&self, name: &str) {
        let axe = axe_source();
        for width in [1280, 390] {
            self.session_call(
                "POST",
                "/window/rect",
                Some(json!({ "width": width, "height": 1400 })),
            )
            .await;
            self.screenshot(&format!("{name}-{width}")).await;
            let overflow = self
                .session_call(
                    "POST",
                    "/execute/sync",
                    Some(json!({
                        "script": "return [document.documentElement.scrollWidth, window.innerWidth];",
                        "args": []
                    })),
                )
                .await;
            let (scroll, inner) = (overflow[0].as_i64(), overflow[1].as_i64());
            assert!(
                scroll <= inner,
                "{name} at {width} px: the page is {scroll:?} px wide in a {inner:?} px window"
            );
            let Some(axe) = &axe else { continue };
            let script = format!(
                "{axe}\n;const done = arguments[arguments.length - 1];\n\
                 axe.run(document, {{ runOnly: {{ type: 'tag', values: {AXE_TAGS} }} }})\n\
                 .then(r => done(r.violations.map(v => ({{ id: v.id, impact: v.impact, help: v.help,\n\
                   nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + n.html.slice(0, 160)) }}))))\n\
                 .catch(e => done([{{ id: 'axe-error', help: String(e) }}]));"
            );
            let violations = self
                .session_call(
                    "POST",
                    "/execute/async",
                    Some(json!({ "script": script, "args": [] })),
                )
                .await;
            let list = violations.as_array().cloned().unwrap_or_default();
            assert!(
                list.is_empty(),
                "{name} at {width} px: axe-core found {} violation(s):\n{}",
                list.len(),
                serde_json::to_string_pretty(&violations).unwrap_or_default()
            );
        }
        self.session_call(
            "POST",
            "/window/rect",
            Some(json!({ "width": 1280, "height": 1400 })),
        )
        .await;
    }

    /// Waits for a finished download whose name ends with `suffix`; returns its bytes.
    pub async fn downloaded(&self, suffix: &str) -> Vec<u8> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let done = std::fs::read_dir(&self.downloads)
                .expect("downloads dir")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(suffix));
            if let Some(path) = done {
                let bytes = std::fs::read(&path).expect("downloaded file");
                std::fs::remove_file(&path).expect("download removed");
                return bytes;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no download ending in {suffix}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn quit(&self) {
        self.session_call("DELETE", "", None).await;
    }
}
