//! The fulfilment folder: what sources found and teams uploaded, encrypted at rest under
//! random names until the package is built and purged. Kept in `state.fulfilment_files`
//! (a folder, or the database): this module seals and opens, the store keeps.

use std::io::BufWriter;

use crate::state::AppState;
use crate::store::files::{StoredReader, StoredWriter};

use super::*;

/// Copies a file, encrypted, under a new random name in the fulfilment folder; in pieces,
/// never whole in memory.
pub(super) fn stage_file(state: &AppState, path: &std::path::Path) -> std::io::Result<String> {
    let (name, mut writer) = create_sealed(state)?;
    let copied = std::fs::File::open(path)
        .and_then(|mut from| std::io::copy(&mut from, &mut writer))
        .and_then(|_| finish_sealed(writer));
    match copied {
        Ok(_) => Ok(name),
        Err(e) => {
            delete_staged(state, &name);
            Err(e)
        }
    }
}

pub type SealedFile = BufWriter<crate::fulfil::sealed::SealWriter<StoredWriter>>;

/// A new encrypted file in the fulfilment folder, and its name. It counts once
/// [`finish_sealed`] returned; dropped before, delete it with [`delete_staged`].
pub fn create_sealed(state: &AppState) -> std::io::Result<(String, SealedFile)> {
    let (name, file) = state.fulfilment_files.create()?;
    let sealed = crate::fulfil::sealed::SealWriter::new(file, &package_key(state))?;
    Ok((name, BufWriter::with_capacity(64 * 1024, sealed)))
}

/// Seals the final chunk and makes the file whole; returns its size as stored.
pub fn finish_sealed(writer: SealedFile) -> std::io::Result<u64> {
    writer
        .into_inner()
        .map_err(|e| e.into_error())?
        .finish()?
        .finish()
}

pub fn open_sealed(
    state: &AppState,
    name: &str,
) -> std::io::Result<crate::fulfil::sealed::OpenReader<std::io::BufReader<StoredReader>>> {
    let file = state.fulfilment_files.open(name)?;
    crate::fulfil::sealed::OpenReader::new(
        std::io::BufReader::with_capacity(64 * 1024, file),
        &package_key(state),
    )
}

/// Deletes a staged file or package; one already gone is fine, one that cannot go is
/// logged (its caller has nothing better to do with the error).
pub fn delete_staged(state: &AppState, name: &str) {
    if let Err(e) = state.fulfilment_files.delete(name) {
        tracing::warn!(error = %e, "cannot delete a staged file");
    }
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
