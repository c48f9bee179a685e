//! Uploaded files on local disk, under random names, in a folder that is never served.
//! Kept behind this small interface so that shared storage (several web nodes) stays a
//! local change.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

pub use crate::documents::Sniffed;

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

    /// Copies the file at `src` (an upload already checked) under a new random name; returns
    /// the name and the size. The copy goes through the kernel, never through our memory.
    pub fn put_file(&self, src: &Path) -> std::io::Result<(String, u64)> {
        std::fs::create_dir_all(&self.dir)?;
        let name = crate::crypto::random_token();
        let mut from = std::fs::File::open(src)?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.dir.join(&name))?;
        let copied = std::io::copy(&mut from, &mut file).and_then(|size| {
            file.sync_all()?;
            Ok(size)
        });
        match copied {
            Ok(size) => Ok((name, size)),
            Err(e) => {
                let _ = std::fs::remove_file(self.dir.join(&name));
                Err(e)
            }
        }
    }

    /// The folder where uploads wait, as temporary files, while they are received and
    /// checked: on the same disk as the store, never in memory (a tmpfs `/tmp` would be).
    pub fn incoming_dir(&self) -> std::io::Result<PathBuf> {
        let dir = self.dir.join("incoming");
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Deletes uploads left in the incoming folder by a server that stopped while receiving
    /// or checking them (a crash, a `kill -9`): those older than `age`, which no live request
    /// still reads. Returns how many went.
    pub fn sweep_incoming(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let dir = self.dir.join("incoming");
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        let now = std::time::SystemTime::now();
        let mut removed = 0;
        // One file that cannot go (its permissions changed, a disk error) is left for the next
        // night with a warning: the rest of the sweep, and the purge around it, go on.
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the incoming folder further");
                    break;
                }
            };
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| now.duration_since(at).is_ok_and(|d| d >= age));
            let ours = entry.file_name().to_string_lossy().starts_with("upload-");
            if ours && stale {
                match std::fs::remove_file(entry.path()) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        tracing::warn!(error = %e, file = ?entry.file_name(), "cannot delete a leftover upload");
                    }
                    _ => removed += 1,
                }
            }
        }
        Ok(removed)
    }

    /// A stored file opened for reading, to be sent in pieces.
    pub fn open(&self, name: &str) -> std::io::Result<std::fs::File> {
        std::fs::File::open(self.path(name)?)
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
    use std::time::Duration;

    use super::*;

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
        let src = dir.path().join("upload");
        std::fs::write(&src, b"%PDF-1.4 copied").expect("src");
        let (copy, size) = store.put_file(&src).expect("put_file");
        assert_eq!(size, 15);
        assert_eq!(store.read(&copy).expect("read"), b"%PDF-1.4 copied");
        assert!(store.incoming_dir().expect("incoming").is_dir());
        assert!(store.read("../../etc/passwd").is_err());
    }

    #[test]
    fn uploads_left_by_a_stopped_server_are_swept_once_old() {
        let dir = tempfile::tempdir().expect("dir");
        let store = FileStore::new(dir.path());
        assert_eq!(
            store
                .sweep_incoming(Duration::from_secs(3600))
                .expect("none yet"),
            0
        );
        let incoming = store.incoming_dir().expect("incoming");
        let write = |name: &str, age_secs: u64| {
            let file = std::fs::File::create(incoming.join(name)).expect("create");
            file.set_modified(std::time::SystemTime::now() - Duration::from_secs(age_secs))
                .expect("mtime");
        };
        write("upload-left", 2 * 3600);
        write("upload-receiving", 60);
        write("not-ours", 2 * 3600);
        assert_eq!(
            store
                .sweep_incoming(Duration::from_secs(3600))
                .expect("sweep"),
            1
        );
        assert!(!incoming.join("upload-left").exists());
        assert!(incoming.join("upload-receiving").exists());
        assert!(incoming.join("not-ours").exists());
    }

    #[test]
    fn one_leftover_that_cannot_go_does_not_stop_the_sweep() {
        let dir = tempfile::tempdir().expect("dir");
        let store = FileStore::new(dir.path());
        let incoming = store.incoming_dir().expect("incoming");
        let old = std::time::SystemTime::now() - Duration::from_secs(2 * 3600);
        // A folder cannot be removed as a file: the sweep warns and goes on.
        std::fs::create_dir(incoming.join("upload-stuck")).expect("dir");
        std::fs::File::open(incoming.join("upload-stuck"))
            .and_then(|f| f.set_modified(old))
            .expect("mtime");
        for name in ["upload-a", "upload-z"] {
            std::fs::File::create(incoming.join(name))
                .and_then(|f| f.set_modified(old))
                .expect("create");
        }
        assert_eq!(
            store
                .sweep_incoming(Duration::from_secs(3600))
                .expect("sweep"),
            2
        );
        assert!(incoming.join("upload-stuck").exists());
        assert!(!incoming.join("upload-a").exists() && !incoming.join("upload-z").exists());
    }
}
