//! A reader for the mails the tests receive: headers and decoded MIME parts, enough to
//! check what lettre wrote without a mail-parsing dependency.

/// Just enough of RFC 5322 / MIME to read what lettre writes: headers (unfolded, RFC 2047
/// words decoded on request), and the parts of one multipart body, decoded.
pub struct Eml {
    headers: Vec<(String, String)>,
    /// (MIME type, decoded body) of each part.
    pub parts: Vec<(String, String)>,
}

impl Eml {
    pub fn parse(raw: &str) -> Eml {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("headers, blank line, body");
        let headers = parse_headers(head);
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let parts = match boundary(&content_type) {
            None => Vec::new(),
            Some(boundary) => body
                .split(&format!("--{boundary}"))
                .skip(1)
                .filter(|part| !part.starts_with("--"))
                .map(|part| {
                    let (head, body) = part
                        .trim_start_matches('\n')
                        .split_once("\n\n")
                        .expect("part headers");
                    let headers = parse_headers(head);
                    let get = |name: &str| {
                        headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.to_ascii_lowercase())
                            .unwrap_or_default()
                    };
                    let decoded = match get("Content-Transfer-Encoding").as_str() {
                        "quoted-printable" => decode_quoted_printable(body),
                        "base64" => String::from_utf8(decode_base64(body)).expect("utf-8"),
                        _ => body.to_string(),
                    };
                    let mime = get("Content-Type");
                    let mime = mime.split(';').next().unwrap_or("").trim().to_string();
                    (mime, decoded)
                })
                .collect(),
        };
        Eml { headers, parts }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn subject(&self) -> String {
        decode_words(self.header("Subject").expect("Subject"))
    }

    pub fn part(&self, mime: &str) -> &str {
        self.parts
            .iter()
            .find(|(m, _)| m == mime)
            .map(|(_, body)| body.as_str())
            .unwrap_or_else(|| panic!("no {mime} part"))
    }
}

fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    headers
}

fn boundary(content_type: &str) -> Option<String> {
    let at = content_type.find("boundary=")?;
    let rest = &content_type[at + "boundary=".len()..];
    let value = rest.trim_start_matches('"');
    let end = value.find(['"', ';']).unwrap_or(value.len());
    Some(value[..end].to_string())
}

fn decode_quoted_printable(body: &str) -> String {
    let mut bytes = Vec::new();
    let mut lines = body.split('\n').peekable();
    while let Some(line) = lines.next() {
        let (line, soft_break) = match line.strip_suffix('=') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let raw = line.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'=' && i + 2 < raw.len() {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).expect("hex");
                bytes.push(u8::from_str_radix(hex, 16).expect("hex byte"));
                i += 3;
            } else {
                bytes.push(raw[i]);
                i += 1;
            }
        }
        if !soft_break && lines.peek().is_some() {
            bytes.push(b'\n');
        }
    }
    String::from_utf8(bytes).expect("utf-8")
}

pub fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64 digit") as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`), as lettre writes a subject.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut after_encoded = false;
    for word in value.split_whitespace() {
        let decoded = word
            .strip_prefix("=?")
            .and_then(|w| w.strip_suffix("?="))
            .and_then(|w| {
                let mut fields = w.splitn(3, '?');
                let (_charset, encoding, text) = (fields.next()?, fields.next()?, fields.next()?);
                Some(match encoding.to_ascii_lowercase().as_str() {
                    "b" => String::from_utf8(decode_base64(text)).expect("utf-8"),
                    _ => decode_quoted_printable(&text.replace('_', " ")),
                })
            });
        // Blanks between two encoded words are folding, not text (RFC 2047 6.2).
        let folding = after_encoded && decoded.is_some();
        if !out.is_empty() && !folding {
            out.push(' ');
        }
        after_encoded = decoded.is_some();
        out.push_str(decoded.as_deref().unwrap_or(word));
    }
    out
}
