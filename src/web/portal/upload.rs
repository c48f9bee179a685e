//! Reads a `multipart/form-data` (or urlencoded) form into fields and files, with caps: a
//! text field never over 64 KiB, a file never over the configured size.

use std::collections::HashMap;

use actix_multipart::Multipart;
use futures_util::StreamExt;

const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELDS: usize = 64;

pub struct UploadedFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct Submission {
    pub fields: HashMap<String, String>,
    pub files: HashMap<String, UploadedFile>,
}

impl Submission {
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    /// A file the person chose (browsers send an empty part when none was).
    pub fn file(&self, name: &str) -> Option<&UploadedFile> {
        self.files.get(name).filter(|f| !f.bytes.is_empty())
    }
}

#[derive(Debug)]
pub enum UploadError {
    /// A file over the cap: the person is told the limit.
    TooLarge,
    /// Not a form we can read (truncated, wrong encoding).
    Malformed(String),
}

pub async fn read(
    mut multipart: Multipart,
    max_file_bytes: usize,
) -> Result<Submission, UploadError> {
    let mut out = Submission::default();
    let mut count = 0;
    while let Some(part) = multipart.next().await {
        let mut part = part.map_err(|e| UploadError::Malformed(e.to_string()))?;
        count += 1;
        if count > MAX_FIELDS {
            return Err(UploadError::Malformed("too many fields".into()));
        }
        let Some(name) = part.name().map(str::to_string) else {
            continue;
        };
        let file_name = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let cap = if file_name.is_some() {
            max_file_bytes
        } else {
            MAX_FIELD_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk.map_err(|e| UploadError::Malformed(e.to_string()))?;
            if bytes.len() + chunk.len() > cap {
                return Err(if file_name.is_some() {
                    UploadError::TooLarge
                } else {
                    UploadError::Malformed(format!("field {name} too long"))
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) => {
                out.files.insert(
                    name,
                    UploadedFile {
                        file_name: sanitize_name(&file_name),
                        bytes,
                    },
                );
            }
            None => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| UploadError::Malformed(format!("field {name} is not UTF-8")))?;
                out.fields.insert(name, text);
            }
        }
    }
    Ok(out)
}

/// The original file name, kept only to show staff: no paths, no control characters.
fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "document".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(super::sanitize_name("C:\\Users\\me\\id.pdf"), "id.pdf");
        assert_eq!(super::sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(super::sanitize_name(""), "document");
    }
}
