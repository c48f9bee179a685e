//! Reads a posted `multipart/form-data` form into text fields and files, within bounds fixed
//! before the first byte: what the headers already refuse (another site's page, a body longer
//! than the cap) is answered without reading the body; text stays small in memory; a file goes
//! to a temporary file on disk as it arrives, removed when dropped; one file per form, one
//! byte cap for the whole body. Then [`clean`] checks and rewrites the file
//! ([`crate::documents`]), one at a time on a thread of its own, so that neither many posts
//! nor a decompression bomb can take the server's memory.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use tempfile::NamedTempFile;

use crate::documents::{self, Refused, Sniffed};
use crate::i18n::Strings;
use crate::store::files::FileStore;

/// A text field never over this.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// All text fields of a form together (the longest, a message, is 20,000 characters).
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Parts of a form, fields and files, at most (the request form has about thirty).
pub const MAX_PARTS: usize = 64;
/// File parts of a form, at most: every form has one file input.
pub const MAX_FILES: usize = 1;
/// Part headers and boundaries, on top of the text and the file.
const FRAMING_BYTES: usize = 64 * 1024;
/// File bytes are written to disk in pieces of this size.
const SPILL_BYTES: usize = 256 * 1024;

/// The longest body a form with a file of `max_file_bytes` can honestly have.
pub fn body_cap(max_file_bytes: usize) -> usize {
    max_file_bytes
        .saturating_add(MAX_TEXT_BYTES)
        .saturating_add(FRAMING_BYTES)
}

/// What the request's headers alone refuse, before its body is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Early {
    /// Posted from another site's page (`Origin`, `Sec-Fetch-Site`).
    CrossSite,
    /// A declared length over [`body_cap`].
    TooLarge,
}

/// Checks the headers of a form post: the page it came from is ours (the configured base URL
/// or the host the browser asked for), and its declared length fits the cap.
pub fn refuse_early(req: &HttpRequest, base_url: &str, max_file_bytes: usize) -> Option<Early> {
    let headers = req.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Some(Early::CrossSite);
    }
    // Our pages send `Referrer-Policy: no-referrer`, under which Chromium posts forms with
    // `Origin: null`: that says nothing of the page, so only a named origin is compared
    // (Sec-Fetch-Site above and the CSRF token still apply).
    if let Some(origin) = headers
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null")
    {
        let origin = origin.to_str().unwrap_or("null");
        let host = req.connection_info().host().to_string();
        if !same_origin(origin, base_url, &host) {
            return Some(Early::CrossSite);
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(len) if len > body_cap(max_file_bytes) as u64 => Some(Early::TooLarge),
        _ => None,
    }
}

/// Whether `origin` (scheme://host[:port]) is the base URL's, or names the host the request
/// was sent to (as the browser saw it, port included).
fn same_origin(origin: &str, base_url: &str, request_host: &str) -> bool {
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let Some(origin_host) = origin.host_str() else {
        return false;
    };
    let authority = match origin.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_string(),
    };
    let base = url::Url::parse(base_url).ok();
    let base_matches = base.is_some_and(|b| {
        b.scheme() == origin.scheme()
            && b.host_str() == Some(origin_host)
            && b.port_or_known_default() == origin.port_or_known_default()
    });
    base_matches || authority.eq_ignore_ascii_case(request_host)
}

/// A file as received: on disk, removed when this is dropped.
pub struct UploadedFile {
    /// The name the browser gave, kept only to show staff: no path, no control characters.
    pub file_name: String,
    pub len: u64,
    temp: NamedTempFile,
}

impl UploadedFile {
    pub fn path(&self) -> &Path {
        self.temp.path()
    }
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
        self.files.get(name).filter(|f| f.len > 0)
    }
}

#[derive(Debug)]
pub enum UploadError {
    /// Over the byte cap: the person is told the limit.
    TooLarge,
    /// Not a form we read (not multipart, truncated, a field too long or not UTF-8, too
    /// many parts or files).
    Malformed(String),
    /// The temporary file could not be written: our fault, not the form's.
    Io(std::io::Error),
}

impl From<actix_web::error::BlockingError> for UploadError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        UploadError::Io(std::io::Error::other(e.to_string()))
    }
}

/// The shortest and longest multipart boundaries taken. Browsers and HTTP libraries write 16
/// to 70 characters (RFC 2046 allows 1 to 70); actix-multipart 0.7 panics on some bodies whose
/// boundary is under four characters (a slice `[2..1]` in `skip_until_boundary`, found by
/// `fuzz/run … multipart`), and a panic ends every request in flight on that worker.
pub const BOUNDARY_LEN: std::ops::RangeInclusive<usize> = 8..=70;

/// Whether the request's multipart boundary, read as actix-multipart reads it, has a length
/// in [`BOUNDARY_LEN`]. A missing or unparsable content type passes: the reader refuses it.
pub fn boundary_ok(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<actix_web::mime::Mime>().ok());
    match content_type
        .as_ref()
        .and_then(|ct| ct.get_param(actix_web::mime::BOUNDARY))
    {
        Some(boundary) => BOUNDARY_LEN.contains(&boundary.as_str().len()),
        None => true,
    }
}

/// How long a form may go without a byte arriving or a part ending before it is given up.
/// A stalled connection, and bodies on which actix-multipart 0.7 waits for ever although the
/// body has ended (a field whose closing boundary is one byte off, found by
/// `fuzz/run … multipart`): without it such a post held its connection open with no answer.
pub const BODY_IDLE: std::time::Duration = std::time::Duration::from_secs(15);

/// Reads the form; files go to temporary files under the store's incoming folder. `headers`
/// are the request's: a boundary the reader cannot take safely is refused before any byte.
pub async fn read(
    headers: &HeaderMap,
    multipart: Multipart,
    store: &FileStore,
    max_file_bytes: usize,
) -> Result<Submission, UploadError> {
    read_within(headers, multipart, store, max_file_bytes, BODY_IDLE).await
}

/// [`read`], giving up after `idle` without progress (the fuzz target's is short).
pub async fn read_within(
    headers: &HeaderMap,
    multipart: Multipart,
    store: &FileStore,
    max_file_bytes: usize,
    idle: std::time::Duration,
) -> Result<Submission, UploadError> {
    read_files(headers, multipart, store, max_file_bytes, MAX_FILES, idle).await
}

/// [`read_within`] for a form with up to `max_files` file inputs (the staff's intake: the
/// letter and the identity copy); `max_file_bytes` caps their bytes together.
pub async fn read_files(
    headers: &HeaderMap,
    mut multipart: Multipart,
    store: &FileStore,
    max_file_bytes: usize,
    max_files: usize,
    idle: std::time::Duration,
) -> Result<Submission, UploadError> {
    let stalled = |_| UploadError::Malformed("the form stopped arriving".into());
    if !boundary_ok(headers) {
        return Err(UploadError::Malformed(
            "multipart boundary of an unusual length".into(),
        ));
    }
    let mut out = Submission::default();
    let cap = body_cap(max_file_bytes);
    let (mut parts, mut files, mut body, mut text, mut file_bytes) = (0, 0, 0usize, 0usize, 0usize);
    let malformed = |e: actix_multipart::MultipartError| UploadError::Malformed(e.to_string());
    while let Some(part) = actix_web::rt::time::timeout(idle, multipart.next())
        .await
        .map_err(stalled)?
    {
        let mut part = part.map_err(malformed)?;
        parts += 1;
        if parts > MAX_PARTS {
            return Err(UploadError::Malformed("too many fields".into()));
        }
        let name = part.name().map(str::to_string);
        let file_name = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        if file_name.is_some() {
            files += 1;
            if files > max_files {
                return Err(UploadError::Malformed("too many files".into()));
            }
        }
        let mut bytes = Vec::new();
        let mut spill: Option<(NamedTempFile, std::fs::File)> = None;
        let mut written = 0u64;
        while let Some(chunk) = actix_web::rt::time::timeout(idle, part.next())
            .await
            .map_err(stalled)?
        {
            let chunk = chunk.map_err(malformed)?;
            body = body.saturating_add(chunk.len());
            if body > cap {
                return Err(UploadError::TooLarge);
            }
            match (&name, &file_name) {
                // A nameless part is read (and counted) only to reach the next one.
                (None, _) => continue,
                (Some(_), Some(_)) => {
                    file_bytes += chunk.len();
                    if file_bytes > max_file_bytes {
                        return Err(UploadError::TooLarge);
                    }
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() >= SPILL_BYTES {
                        let (temp, file) = match spill.take() {
                            Some(open) => open,
                            None => create_temp(store).await?,
                        };
                        let (file, buf) = write_out(file, bytes).await?;
                        written += buf.len() as u64;
                        bytes = buf;
                        bytes.clear();
                        spill = Some((temp, file));
                    }
                }
                (Some(field), None) => {
                    text += chunk.len();
                    if bytes.len() + chunk.len() > MAX_FIELD_BYTES || text > MAX_TEXT_BYTES {
                        return Err(UploadError::Malformed(format!("field {field} too long")));
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
        let Some(name) = name else {
            continue;
        };
        match file_name {
            Some(file_name) => {
                if bytes.is_empty() && spill.is_none() {
                    continue;
                }
                let (temp, file) = match spill.take() {
                    Some(open) => open,
                    None => create_temp(store).await?,
                };
                let (_, buf) = write_out(file, bytes).await?;
                written += buf.len() as u64;
                out.files.insert(
                    name,
                    UploadedFile {
                        file_name: sanitize_name(&file_name),
                        len: written,
                        temp,
                    },
                );
            }
            None => {
                let value = String::from_utf8(bytes)
                    .map_err(|_| UploadError::Malformed(format!("field {name} is not UTF-8")))?;
                out.fields.insert(name, value);
            }
        }
    }
    Ok(out)
}

async fn create_temp(store: &FileStore) -> Result<(NamedTempFile, std::fs::File), UploadError> {
    let store = store.clone();
    web::block(move || {
        let temp = new_temp(&store)?;
        let file = temp.as_file().try_clone()?;
        Ok::<_, std::io::Error>((temp, file))
    })
    .await?
    .map_err(UploadError::Io)
}

fn new_temp(store: &FileStore) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(store.incoming_dir()?)
}

/// Appends `buf` to `file` on the blocking pool; gives both back (the buffer to be reused).
async fn write_out(
    mut file: std::fs::File,
    buf: Vec<u8>,
) -> Result<(std::fs::File, Vec<u8>), UploadError> {
    web::block(move || {
        file.write_all(&buf)?;
        Ok::<_, std::io::Error>((file, buf))
    })
    .await?
    .map_err(UploadError::Io)
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

/// A document as it may be stored: re-encoded or scanned, in a temporary file of its own.
pub struct CleanFile {
    pub kind: Sniffed,
    /// The name the browser gave, its ending made to match the content.
    pub file_name: String,
    temp: NamedTempFile,
}

impl CleanFile {
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    pub fn into_temp_path(self) -> tempfile::TempPath {
        self.temp.into_temp_path()
    }
}

/// Why an uploaded file is not stored.
#[derive(Debug)]
pub enum Rejected {
    Refused(Refused),
    /// Reading or writing the temporary files failed: our fault.
    Io(std::io::Error),
}

/// A file to check, and where to say how it went.
struct Job {
    src: std::path::PathBuf,
    store: FileStore,
    reply: tokio::sync::oneshot::Sender<Result<(Sniffed, NamedTempFile), Rejected>>,
}

/// Checking documents (decoding images above all) is the one costly step. It runs on one
/// thread of its own, one file after another: memory stays bounded by one decode whatever
/// number of uploads arrive together, and the allocator reuses that one thread's memory
/// instead of keeping a decode's worth on each thread of the blocking pool.
static CHECKER: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
    std::sync::OnceLock::new();

fn checker() -> std::io::Result<std::sync::mpsc::Sender<Job>> {
    let sender = CHECKER.get_or_init(|| {
        let (sender, jobs) = std::sync::mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("dsar-documents".into())
            .spawn(move || {
                for job in jobs {
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        sanitize_into_temp(&job.src, &job.store)
                    }));
                    let answer = match checked {
                        Ok(Ok(done)) => Ok(done),
                        Ok(Err(documents::Error::Refused(r))) => Err(Rejected::Refused(r)),
                        Ok(Err(documents::Error::Io(e))) => Err(Rejected::Io(e)),
                        Err(_) => {
                            // A decoder that panics on a hostile file has still refused it.
                            tracing::warn!("a document decoder panicked");
                            Err(Rejected::Refused(Refused::Unreadable("decoder failed")))
                        }
                    };
                    let _ = job.reply.send(answer);
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the document checker");
        }
        std::sync::Mutex::new(sender)
    });
    sender
        .lock()
        .map(|s| s.clone())
        .map_err(|_| std::io::Error::other("document checker poisoned"))
}

/// Checks `file` and writes what may be stored ([`documents::sanitize_stream`]).
pub async fn clean(file: &UploadedFile, store: &FileStore) -> Result<CleanFile, Rejected> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let job = Job {
        src: file.path().to_path_buf(),
        store: store.clone(),
        reply,
    };
    checker()
        .and_then(|c| {
            c.send(job)
                .map_err(|_| std::io::Error::other("document checker gone"))
        })
        .map_err(Rejected::Io)?;
    let (kind, temp) = answer
        .await
        .map_err(|_| Rejected::Io(std::io::Error::other("document checker gone")))??;
    Ok(CleanFile {
        kind,
        file_name: with_extension(&file.file_name, kind),
        temp,
    })
}

fn sanitize_into_temp(
    src: &Path,
    store: &FileStore,
) -> Result<(Sniffed, NamedTempFile), documents::Error> {
    let input = std::fs::File::open(src).map_err(documents::Error::Io)?;
    let temp = new_temp(store).map_err(documents::Error::Io)?;
    let mut output = std::io::BufWriter::with_capacity(64 * 1024, temp.as_file());
    let kind = documents::sanitize_stream(
        std::io::BufReader::with_capacity(64 * 1024, input),
        &mut output,
    )?;
    output.flush().map_err(documents::Error::Io)?;
    drop(output);
    temp.as_file().sync_all().map_err(documents::Error::Io)?;
    Ok((kind, temp))
}

/// `name` with the ending of what the file is: a "photo.html" that is a PNG is shown as
/// "photo.png".
fn with_extension(name: &str, kind: Sniffed) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{stem}.{}", kind.extension())
}

/// What the person is told about a refused file, in their language.
pub fn refusal_message(refused: &Refused, t: &Strings) -> String {
    let key = match refused {
        Refused::NotADocument => "errors.file_type",
        Refused::Unreadable(_) => "errors.file_unreadable",
        Refused::TooManyPixels => "errors.image_too_large",
        Refused::ActiveContent(_) => "errors.pdf_active",
        Refused::Encrypted => "errors.pdf_encrypted",
    };
    t.t(key).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(sanitize_name("C:\\Users\\me\\id.pdf"), "id.pdf");
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name(""), "document");
    }

    #[test]
    fn file_names_end_as_their_content() {
        assert_eq!(with_extension("photo.html", Sniffed::Png), "photo.png");
        assert_eq!(with_extension("scan", Sniffed::Pdf), "scan.pdf");
        assert_eq!(with_extension(".htaccess", Sniffed::Jpeg), ".htaccess.jpg");
    }

    #[test]
    fn only_our_own_pages_may_post() {
        let base = "https://dsar.example.org";
        assert!(same_origin(
            "https://dsar.example.org",
            base,
            "internal:8080"
        ));
        assert!(same_origin(
            "https://dsar.example.org:443",
            base,
            "internal:8080"
        ));
        assert!(same_origin(
            "http://127.0.0.1:41234",
            base,
            "127.0.0.1:41234"
        ));
        assert!(!same_origin(
            "https://evil.example",
            base,
            "dsar.example.org"
        ));
        assert!(!same_origin("http://dsar.example.org", base, "other"));
        assert!(!same_origin("null", base, "dsar.example.org"));
    }

    #[test]
    fn the_body_cap_leaves_room_for_the_text_only() {
        assert_eq!(
            body_cap(10 * 1024 * 1024),
            10 * 1024 * 1024 + MAX_TEXT_BYTES + FRAMING_BYTES
        );
    }
}
