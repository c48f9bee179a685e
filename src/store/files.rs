//! Stored files under random names: uploads, and the fulfilment folder's staged data and
//! packages. In a local folder that is never served (`storage.backend = "folder"`, the
//! default) or in the database (`"database"`, see [`super::blobs`]), so that every web node
//! sees the same files. Nothing else opens a stored name: callers get a writer that is
//! finished or thrown away, a reader, a delete.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{Pool, blobs};

#[derive(Clone)]
pub struct FileStore {
    dir: PathBuf,
    place: Place,
}

#[derive(Clone)]
enum Place {
    /// `private`: files readable by their owner only (encrypted exports are, uploads never
    /// were).
    Folder {
        private: bool,
    },
    Database(Pool),
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = match self.place {
            Place::Folder { .. } => "folder",
            Place::Database(_) => "database",
        };
        f.debug_struct("FileStore")
            .field("dir", &self.dir)
            .field("place", &place)
            .finish()
    }
}

pub use crate::documents::Sniffed;

fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}

impl FileStore {
    /// Files in the folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileStore {
            dir: dir.into(),
            place: Place::Folder { private: false },
        }
    }

    /// Files in the database behind `pool`; `dir` only holds uploads being received.
    pub fn in_database(dir: impl Into<PathBuf>, pool: Pool) -> Self {
        FileStore {
            dir: dir.into(),
            place: Place::Database(pool),
        }
    }

    /// In a folder, files are created readable by their owner only.
    pub fn private(mut self) -> Self {
        if let Place::Folder { private } = &mut self.place {
            *private = true;
        }
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new file under a new random name, and its name: whatever is written to it counts
    /// once [`StoredWriter::finish`] returned; until then nothing reads it.
    pub fn create(&self) -> std::io::Result<(String, StoredWriter)> {
        let name = crate::crypto::random_token();
        let sink = match &self.place {
            Place::Folder { private } => Sink::File(self.create_file(&name, *private)?),
            Place::Database(pool) => {
                Sink::Database(blobs::ChunkWriter::create(pool.clone(), &name, now())?)
            }
        };
        Ok((name, StoredWriter { sink }))
    }

    fn create_file(&self, name: &str, private: bool) -> std::io::Result<std::fs::File> {
        std::fs::create_dir_all(&self.dir)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        options.open(self.dir.join(name))
    }

    /// Writes `bytes` under a new random name and returns the name.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let (name, mut writer) = self.create()?;
        let written = writer.write_all(bytes).and_then(|()| writer.finish());
        match written {
            Ok(_) => Ok(name),
            Err(e) => {
                let _ = self.delete(&name);
                Err(e)
            }
        }
    }

    /// Copies the file at `src` (an upload already checked) under a new random name; returns
    /// the name and the size. In a folder the copy goes through the kernel, never through
    /// our memory; into the database one chunk at a time.
    pub fn put_file(&self, src: &Path) -> std::io::Result<(String, u64)> {
        let mut from = std::fs::File::open(src)?;
        let (name, mut writer) = self.create()?;
        let copied = match &mut writer.sink {
            // File to file, so that std's copy can hand it to the kernel.
            Sink::File(file) => std::io::copy(&mut from, file),
            Sink::Database(_) => std::io::copy(&mut from, &mut writer),
        }
        .and_then(|size| writer.finish().map(|_| size));
        match copied {
            Ok(size) => Ok((name, size)),
            Err(e) => {
                let _ = self.delete(&name);
                Err(e)
            }
        }
    }

    /// Copies into this (database) store every stored file of `folder`, under the same name,
    /// so that the rows naming them keep working after `storage.backend` changes from
    /// `"folder"` to `"database"`. Files already there whole are left; one left unfinished is
    /// written again. The folder is not touched. Returns how many files were copied and their
    /// bytes.
    pub fn import_folder(&self, folder: &Path) -> std::io::Result<(usize, u64)> {
        let Place::Database(pool) = &self.place else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "files are imported into the database store only",
            ));
        };
        let entries = match std::fs::read_dir(folder) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
            other => other?,
        };
        let (mut files, mut bytes) = (0, 0);
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            // Only names this store made: the incoming folder and anything else stay out.
            if self.path(&name).is_err() || !entry.file_type()?.is_file() || self.exists(&name) {
                continue;
            }
            blobs::delete(&mut *blobs::conn(pool)?, &name).map_err(blobs::io_error)?;
            let mut writer = blobs::ChunkWriter::create(pool.clone(), &name, now())?;
            std::io::copy(&mut std::fs::File::open(entry.path())?, &mut writer)?;
            bytes += writer.finish(now())?;
            files += 1;
        }
        Ok((files, bytes))
    }

    /// The folder where uploads wait, as temporary files, while they are received and
    /// checked: on the same disk as the store, never in memory (a tmpfs `/tmp` would be).
    /// On this node's disk whatever the backend: one request receives and checks an upload.
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

    /// Deletes files a writer began before `age` ago and never finished (a crash, a
    /// `kill -9` mid-write): in the database only, as a folder's are deleted by their
    /// writer's caller or never written at all. Returns how many went.
    pub fn sweep_unfinished(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let Place::Database(pool) = &self.place else {
            return Ok(0);
        };
        let age = chrono::Duration::from_std(age).map_err(blobs::io_error)?;
        let mut conn = blobs::conn(pool)?;
        let names = blobs::unfinished_before(&mut conn, now() - age).map_err(blobs::io_error)?;
        for name in &names {
            blobs::delete(&mut conn, name).map_err(blobs::io_error)?;
        }
        Ok(names.len())
    }

    /// A stored file opened for reading, to be sent in pieces. A file never finished is not
    /// found.
    pub fn open(&self, name: &str) -> std::io::Result<StoredReader> {
        let source = match &self.place {
            Place::Folder { .. } => Source::File(std::fs::File::open(self.path(name)?)?),
            Place::Database(pool) => {
                check_name(name)?;
                Source::Database(blobs::ChunkReader::open(pool.clone(), name)?)
            }
        };
        Ok(StoredReader { source })
    }

    pub fn read(&self, name: &str) -> std::io::Result<Vec<u8>> {
        match &self.place {
            Place::Folder { .. } => std::fs::read(self.path(name)?),
            Place::Database(_) => {
                let mut bytes = Vec::new();
                self.open(name)?.read_to_end(&mut bytes)?;
                Ok(bytes)
            }
        }
    }

    /// Deletes a file (finished or not); one already gone counts as deleted.
    pub fn delete(&self, name: &str) -> std::io::Result<()> {
        match &self.place {
            Place::Folder { .. } => match std::fs::remove_file(self.path(name)?) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Place::Database(pool) => {
                check_name(name)?;
                blobs::delete(&mut *blobs::conn(pool)?, name).map_err(blobs::io_error)
            }
        }
    }

    pub fn exists(&self, name: &str) -> bool {
        match &self.place {
            Place::Folder { .. } => self.path(name).map(|p| p.exists()).unwrap_or(false),
            Place::Database(pool) => {
                check_name(name).is_ok()
                    && blobs::conn(pool)
                        .ok()
                        .and_then(|mut c| blobs::finished_size(&mut c, name).ok())
                        .flatten()
                        .is_some()
            }
        }
    }

    fn path(&self, name: &str) -> std::io::Result<PathBuf> {
        check_name(name)?;
        Ok(self.dir.join(name))
    }
}

/// Only names this store made (hex) resolve, so a stored name can never walk out.
fn check_name(name: &str) -> std::io::Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a stored file name",
        ));
    }
    Ok(())
}

/// A file being written: [`StoredWriter::finish`] makes it count; dropped before, it is left
/// unfinished (delete it, or the purge does after a while in the database).
pub struct StoredWriter {
    sink: Sink,
}

enum Sink {
    File(std::fs::File),
    Database(blobs::ChunkWriter),
}

impl StoredWriter {
    /// Makes the file whole and durable; returns its size in bytes.
    pub fn finish(self) -> std::io::Result<u64> {
        match self.sink {
            Sink::File(file) => {
                file.sync_all()?;
                Ok(file.metadata()?.len())
            }
            Sink::Database(chunks) => chunks.finish(now()),
        }
    }
}

impl Write for StoredWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::File(file) => file.write(data),
            Sink::Database(chunks) => chunks.write(data),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::File(file) => file.flush(),
            Sink::Database(chunks) => chunks.flush(),
        }
    }
}

/// A finished file being read.
pub struct StoredReader {
    source: Source,
}

enum Source {
    File(std::fs::File),
    Database(blobs::ChunkReader),
}

impl Read for StoredReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.source {
            Source::File(file) => file.read(out),
            Source::Database(chunks) => chunks.read(out),
        }
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

    fn database_store(dir: &Path) -> FileStore {
        let settings = crate::config::Database {
            url: format!("sqlite://{}", dir.join("files.sqlite3").display()),
            pool_size: 3,
            busy_timeout_ms: 5000,
            sqlite_mmap_mib: 0,
            sqlite_group_commit: false,
            auto_migrate: true,
        };
        let pool = crate::store::connect(&settings).expect("pool");
        crate::store::migrate(&mut pool.get().expect("conn")).expect("migrate");
        FileStore::in_database(dir.join("files"), pool)
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn in_the_database_files_go_in_chunks_and_come_back_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let store = database_store(dir.path());
        for len in [0, 1, blobs::CHUNK_SIZE, 2 * blobs::CHUNK_SIZE + 5] {
            let (name, mut writer) = store.create().expect("create");
            // Odd-sized writes, so chunk boundaries fall inside them.
            for part in pattern(len).chunks(100_003) {
                writer.write_all(part).expect("write");
            }
            assert!(!store.exists(&name), "not before it is finished");
            assert_eq!(writer.finish().expect("finish"), len as u64);
            assert_eq!(store.read(&name).expect("read"), pattern(len), "len {len}");
            store.delete(&name).expect("delete");
            assert!(!store.exists(&name));
            store.delete(&name).expect("deleting twice is fine");
        }
        let src = dir.path().join("upload");
        std::fs::write(&src, b"%PDF-1.4 copied").expect("src");
        let (copy, size) = store.put_file(&src).expect("put_file");
        assert_eq!(size, 15);
        assert_eq!(store.read(&copy).expect("read"), b"%PDF-1.4 copied");
        assert!(store.open("../../etc/passwd").is_err());
        assert!(store.incoming_dir().expect("incoming").is_dir());
    }

    #[test]
    fn a_file_deleted_while_read_is_an_error_not_a_shorter_file() {
        let dir = tempfile::tempdir().expect("dir");
        let store = database_store(dir.path());
        let name = store.put(&pattern(3 * blobs::CHUNK_SIZE)).expect("put");
        let mut reader = store.open(&name).expect("open");
        let mut first = vec![0u8; 1000];
        reader.read_exact(&mut first).expect("the first chunk");
        store.delete(&name).expect("delete");
        let mut rest = Vec::new();
        let e = reader.read_to_end(&mut rest).expect_err("cut short");
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn unfinished_files_are_never_read_and_swept_once_old() {
        let dir = tempfile::tempdir().expect("dir");
        let store = database_store(dir.path());
        let (name, mut writer) = store.create().expect("create");
        writer
            .write_all(&pattern(blobs::CHUNK_SIZE + 1))
            .expect("write");
        drop(writer);
        assert_eq!(
            store.open(&name).err().map(|e| e.kind()),
            Some(std::io::ErrorKind::NotFound)
        );
        let kept = store.put(b"kept").expect("put");
        assert_eq!(
            store
                .sweep_unfinished(Duration::from_secs(3600))
                .expect("young"),
            0
        );
        assert_eq!(store.sweep_unfinished(Duration::ZERO).expect("sweep"), 1);
        let Place::Database(pool) = &store.place else {
            unreachable!()
        };
        assert_eq!(
            blobs::counts(&mut pool.get().expect("conn")).expect("counts"),
            (1, 1)
        );
        assert_eq!(store.read(&kept).expect("read"), b"kept");
        // A folder has no unfinished files to sweep: its writers' callers delete them.
        assert_eq!(
            FileStore::new(dir.path())
                .sweep_unfinished(Duration::ZERO)
                .expect("none"),
            0
        );
    }

    #[cfg(unix)]
    #[test]
    fn private_folders_keep_files_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let store = FileStore::new(dir.path()).private();
        let (name, mut writer) = store.create().expect("create");
        writer.write_all(b"sealed").expect("write");
        assert_eq!(writer.finish().expect("finish"), 6);
        let mode = std::fs::metadata(dir.path().join(&name))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
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
