//! The portal's multipart reader (`web::portal::upload::read`) on any body, cut into chunks
//! of sizes the fuzzer chooses, under a boundary of 1 to 70 characters: it never panics
//! (actix-multipart 0.7 did, under boundaries shorter than four characters, which the reader
//! now refuses), and what it accepts keeps its promises —
//! at most 64 parts, at most one file, fields of 64 KiB and 256 KiB of text in all, the file
//! on disk as long as it says, all under the body cap.
#![no_main]

use std::sync::OnceLock;

use actix_web::http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use actix_web::web::Bytes;
use dsar::store::files::FileStore;
use dsar::web::portal::upload::{self, MAX_FIELD_BYTES, MAX_FILES, MAX_PARTS, MAX_TEXT_BYTES};
use libfuzzer_sys::fuzz_target;

/// A body that is all there: anything still pending after this waits for nothing.
const IDLE: std::time::Duration = std::time::Duration::from_millis(200);

/// Small, so the fuzzer reaches the caps; the body cap follows from it.
const MAX_FILE: usize = 64 * 1024;

fn store() -> &'static FileStore {
    static DIR: OnceLock<(tempfile::TempDir, FileStore)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = FileStore::new(dir.path());
        (dir, store)
    })
    .1
}

fuzz_target!(|input: &[u8]| {
    // The first byte sets the chunk size (1–256 bytes), the second the boundary's length
    // (1–70: "XyZXyZ…"), the rest is the body.
    let [first, second, body @ ..] = input else {
        return;
    };
    let chunk = usize::from(*first) + 1;
    let boundary = &"XyZ".repeat(24)[..usize::from(*second) % 70 + 1];
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut headers = HeaderMap::new();
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let Ok(content_type) = HeaderValue::from_str(&content_type) else {
        return;
    };
    headers.insert(CONTENT_TYPE, content_type);
    let stream = futures_util::stream::iter(chunks);
    let multipart = actix_multipart::Multipart::new(&headers, stream);
    let outcome = actix_rt::System::new()
        .block_on(async { upload::read_within(&headers, multipart, store(), MAX_FILE, IDLE).await });
    let Ok(submission) = outcome else { return };
    assert!(submission.fields.len() + submission.files.len() <= MAX_PARTS);
    assert!(submission.files.len() <= MAX_FILES);
    let mut text = 0;
    for value in submission.fields.values() {
        assert!(value.len() <= MAX_FIELD_BYTES);
        text += value.len();
    }
    assert!(text <= MAX_TEXT_BYTES);
    for file in submission.files.values() {
        assert!(file.len as usize <= MAX_FILE);
        let on_disk = std::fs::metadata(file.path()).expect("the file is on disk").len();
        assert_eq!(on_disk, file.len);
        assert!(!file.file_name.is_empty() && !file.file_name.contains(['/', '\\']));
        assert!(!file.file_name.chars().any(char::is_control));
    }
});
