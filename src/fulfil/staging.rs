//! The fulfilment folder: what sources found and teams uploaded, encrypted at rest under
//! random names until the package is built and purged.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use crate::state::AppState;

use super::*;

pub fn staged_path(state: &AppState, name: &str) -> PathBuf {
    PathBuf::from(&state.settings.fulfilment.dir).join(name)
}

/// Copies a file, encrypted, under a new random name in the fulfilment folder; in pieces,
/// never whole in memory.
pub(super) fn stage_file(state: &AppState, path: &std::path::Path) -> std::io::Result<String> {
    let (name, mut writer) = create_sealed(state)?;
    let mut from = std::fs::File::open(path)?;
    std::io::copy(&mut from, &mut writer)?;
    writer.flush()?;
    writer.into_inner().map_err(|e| e.into_error())?.finish()?;
    Ok(name)
}

pub(super) type SealedFile = BufWriter<crate::fulfil::sealed::SealWriter<std::fs::File>>;

/// A new encrypted file in the fulfilment folder, and its name.
pub fn create_sealed(state: &AppState) -> std::io::Result<(String, SealedFile)> {
    let dir = PathBuf::from(&state.settings.fulfilment.dir);
    std::fs::create_dir_all(&dir)?;
    let name = crate::crypto::random_token();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(dir.join(&name))?;
    let sealed = crate::fulfil::sealed::SealWriter::new(file, &package_key(state))?;
    Ok((name, BufWriter::with_capacity(64 * 1024, sealed)))
}

pub fn open_sealed(
    state: &AppState,
    name: &str,
) -> std::io::Result<crate::fulfil::sealed::OpenReader<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(staged_path(state, name))?;
    crate::fulfil::sealed::OpenReader::new(
        std::io::BufReader::with_capacity(64 * 1024, file),
        &package_key(state),
    )
}

pub(super) fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._- ".contains(*c))
        .take(80)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "document".into()
    } else {
        cleaned
    }
}
