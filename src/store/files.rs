//! Uploaded files on local disk, under random names, in a folder that is never served.
//! Kept behind this small interface so that shared storage (several web nodes) stays a
//! local change.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// What a file is, from its first bytes: a renamed executable stays what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Pdf,
    Jpeg,
    Png,
}

impl Sniffed {
    pub fn detect(bytes: &[u8]) -> Option<Sniffed> {
        if bytes.starts_with(b"%PDF-") {
            Some(Sniffed::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Sniffed::Jpeg)
        } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(Sniffed::Png)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Sniffed::Pdf => "application/pdf",
            Sniffed::Jpeg => "image/jpeg",
            Sniffed::Png => "image/png",
        }
    }
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` under a new random name and returns the name.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        std::fs::create_dir_all(&self.dir)?;
        let name = crate::crypto::random_token();
        let path = self.dir.join(&name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(name)
    }

    pub fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path(name)?)
    }

    /// Deletes a file; one already gone counts as deleted.
    pub fn delete(&self, name: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(name)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        self.path(name).map(|p| p.exists()).unwrap_or(false)
    }

    /// Only names this store made (hex) resolve, so a stored name can never walk out.
    fn path(&self, name: &str) -> std::io::Result<PathBuf> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a stored file name",
            ));
        }
        Ok(self.dir.join(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_the_type_not_the_name() {
        assert_eq!(Sniffed::detect(b"%PDF-1.7 ..."), Some(Sniffed::Pdf));
        assert_eq!(
            Sniffed::detect(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(Sniffed::Jpeg)
        );
        assert_eq!(
            Sniffed::detect(b"\x89PNG\r\n\x1a\n...."),
            Some(Sniffed::Png)
        );
        assert_eq!(Sniffed::detect(b"MZ\x90\x00 an exe"), None);
        assert_eq!(Sniffed::detect(b"\x7fELF"), None);
    }

    #[test]
    fn files_are_written_read_and_deleted_by_their_random_name() {
        let dir = tempfile::tempdir().expect("dir");
        let store = FileStore::new(dir.path().join("files"));
        let name = store.put(b"%PDF-1.4 hello").expect("put");
        assert_eq!(name.len(), 64);
        assert_eq!(store.read(&name).expect("read"), b"%PDF-1.4 hello");
        store.delete(&name).expect("delete");
        assert!(!store.exists(&name));
        store.delete(&name).expect("deleting twice is fine");
        assert!(store.read("../../etc/passwd").is_err());
    }
}
