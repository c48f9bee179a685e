//! A small HTML client for the portal tests: keeps cookies like a browser, posts forms as
//! multipart, and reads the mails the real transport wrote to the outbox folder.

use std::collections::HashMap;

use awc::http::StatusCode;

use crate::eml::Eml;
use crate::helpers::TestApp;

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
    /// The body as it came, for downloads.
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl Page {
    /// The value of the first `name="…" value="…"` input.
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')?;
        Some(self.html[start..start + end].to_string())
    }

    pub fn csrf(&self) -> String {
        self.input("csrf").expect("the page has a CSRF token")
    }

    #[track_caller]
    pub fn assert_contains(&self, text: &str) {
        assert!(
            self.html.contains(text),
            "page ({}) lacks {text:?}:\n{}",
            self.status,
            self.html
        );
    }
}

pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookies: HashMap<String, String>,
    pub accept_language: Option<String>,
}

pub enum Part<'a> {
    Field(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: HashMap::new(),
            accept_language: None,
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: awc::ClientRequest, body: Option<(String, Vec<u8>)>) -> Page {
        let mut req = req;
        if !self.cookies.is_empty() {
            req = req.insert_header(("Cookie", self.cookie_header()));
        }
        if let Some(lang) = &self.accept_language {
            req = req.insert_header(("Accept-Language", lang.clone()));
        }
        let mut res = match body {
            Some((content_type, bytes)) => {
                req.insert_header(("Content-Type", content_type))
                    .send_body(bytes)
                    .await
            }
            None => req.send().await,
        }
        .expect("server answers");
        for value in res.headers().get_all("set-cookie") {
            let pair = value.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.body().limit(10 * 1024 * 1024).await.expect("body");
        Page {
            status: res.status(),
            location,
            html: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
            content_type,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let url = self.url(path);
        let req = self.app.client.get(url);
        self.send(req, None).await
    }

    /// Follows one redirect, as a browser would after a POST.
    pub async fn follow(&mut self, page: Page) -> Page {
        match page.location.clone() {
            Some(location) if page.status.is_redirection() => self.get(&location).await,
            _ => page,
        }
    }

    pub async fn post(&mut self, path: &str, parts: &[Part<'_>]) -> Page {
        let (content_type, body) = multipart(parts);
        let url = self.url(path);
        let req = self.app.client.post(url);
        self.send(req, Some((content_type, body))).await
    }

    pub async fn post_urlencoded(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let url = self.url(path);
        let req = self.app.client.post(url);
        self.send(
            req,
            Some((
                "application/x-www-form-urlencoded".into(),
                body.into_bytes(),
            )),
        )
        .await
    }

    /// Posts a body as it is, under `content_type`: for forms no browser would send.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let url = self.url(path);
        let req = self.app.client.post(url);
        self.send(req, Some((content_type.to_string(), body))).await
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.app.address, path)
        }
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----dsar-test-boundary-7f3a9c";
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Field(name, value) => {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file_name, bytes) => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A mail as the transport wrote it, with its text part decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub raw: String,
    pub text: String,
    pub subject: String,
}

impl Mail {
    pub fn parse(raw: String) -> Mail {
        let eml = Eml::parse(&raw);
        let text = eml.part("text/plain").to_string();
        let subject = eml.subject();
        Mail { raw, text, subject }
    }

    /// The portal link the mail carries, as a path.
    pub fn link(&self) -> Option<String> {
        let start = self.text.find("/r/")?;
        let before = &self.text[..start];
        let lang_start = before.rfind('/')?;
        let token: String = self.text[start + 3..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect();
        (token.len() == 64).then(|| format!("{}/r/{token}", &self.text[lang_start..start]))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        Eml::parse(&self.raw).header(name).map(str::to_string)
    }
}

/// Every mail in the outbox folder addressed to `to`, oldest first.
pub fn mails_to(app: &TestApp, to: &str) -> Vec<Mail> {
    mails_in(&app.outbox_dir(), to)
}

/// Every mail in the outbox folder `dir` addressed to `to`, oldest first.
pub fn mails_in(dir: &std::path::Path, to: &str) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(std::time::SystemTime, String, Mail)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let mail = Mail::parse(std::fs::read_to_string(&path).expect("readable eml"));
        if !mail.header("To").is_some_and(|v| v.contains(to)) {
            continue;
        }
        let modified = entry.metadata().and_then(|m| m.modified()).expect("mtime");
        found.push((modified, path.display().to_string(), mail));
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    found.into_iter().map(|(_, _, m)| m).collect()
}
