//! Files kept in the database (`storage.backend = "database"`), so that every web node sees
//! the same ones: a row in `stored_files` per file and its bytes in `stored_file_chunks`, in
//! order. A file counts only once finished; one a crash left half-written is never read and
//! goes with [`unfinished_before`]. [`ChunkWriter`] and [`ChunkReader`] stream a file
//! through them one chunk at a time, for [`crate::store::files`].

use std::io;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{stored_file_chunks, stored_files};
use super::{DbConn, Manager, Pool};

pub(super) fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("stored files: {e}"))
}

pub(super) fn not_stored() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such stored file")
}

fn earlier_failure() -> io::Error {
    io::Error::other("an earlier chunk of this stored file failed")
}

pub(super) fn conn(pool: &Pool) -> io::Result<diesel::r2d2::PooledConnection<Manager>> {
    pool.get().map_err(io_error)
}

/// Bytes per chunk but the last: big enough that a 1 GiB package is a few thousand rows,
/// small enough that a writer and a reader each hold one chunk in memory, no more.
pub const CHUNK_SIZE: usize = 512 * 1024;

/// Records a new file, unfinished and empty.
pub fn create(conn: &mut DbConn, name: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(stored_files::table)
        .values((
            stored_files::name.eq(name),
            stored_files::size.eq(0i64),
            stored_files::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Adds the chunk `seq` (counted from 0) of an unfinished file.
pub fn append(conn: &mut DbConn, name: &str, seq: i64, data: &[u8]) -> QueryResult<()> {
    diesel::insert_into(stored_file_chunks::table)
        .values((
            stored_file_chunks::name.eq(name),
            stored_file_chunks::seq.eq(seq),
            stored_file_chunks::data.eq(data),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a file whole: from now on it is read. `false` when it is gone (deleted meanwhile).
pub fn finish(conn: &mut DbConn, name: &str, size: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        stored_files::table
            .filter(stored_files::name.eq(name))
            .filter(stored_files::finished_at.is_null()),
    )
    .set((
        stored_files::size.eq(size),
        stored_files::finished_at.eq(Some(now)),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// The size of a finished file; `None` when there is none by that name, or not finished.
pub fn finished_size(conn: &mut DbConn, name: &str) -> QueryResult<Option<i64>> {
    stored_files::table
        .filter(stored_files::name.eq(name))
        .filter(stored_files::finished_at.is_not_null())
        .select(stored_files::size)
        .first(conn)
        .optional()
}

/// The chunk `seq` of a file, if there is one.
pub fn chunk(conn: &mut DbConn, name: &str, seq: i64) -> QueryResult<Option<Vec<u8>>> {
    stored_file_chunks::table
        .filter(stored_file_chunks::name.eq(name))
        .filter(stored_file_chunks::seq.eq(seq))
        .select(stored_file_chunks::data)
        .first(conn)
        .optional()
}

/// Deletes a file, finished or not, with its chunks (the foreign key cascades, in the same
/// statement: no file is ever left without its bytes).
pub fn delete(conn: &mut DbConn, name: &str) -> QueryResult<()> {
    diesel::delete(stored_files::table.filter(stored_files::name.eq(name)))
        .execute(conn)
        .map(drop)
}

/// Files begun before `cutoff` and never finished: a writer that stopped half-way.
pub fn unfinished_before(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<Vec<String>> {
    stored_files::table
        .filter(stored_files::finished_at.is_null())
        .filter(stored_files::created_at.lt(cutoff))
        .select(stored_files::name)
        .load(conn)
}

/// How many files and chunks there are (for tests and checks).
pub fn counts(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let files = stored_files::table.count().get_result(conn)?;
    let chunks = stored_file_chunks::table.count().get_result(conn)?;
    Ok((files, chunks))
}

/// Inserts a chunk each time one fills, on a connection taken from the pool for that insert
/// only: a slow producer (a source answering slowly) holds no connection while it works.
pub struct ChunkWriter {
    pool: Pool,
    name: String,
    buf: Vec<u8>,
    seq: i64,
    size: u64,
    // A chunk that failed leaves a gap: nothing more is written, and finish refuses.
    failed: bool,
}

impl ChunkWriter {
    /// Records the file, unfinished, and starts writing it.
    pub(super) fn create(pool: Pool, name: &str, now: NaiveDateTime) -> io::Result<Self> {
        create(&mut *conn(&pool)?, name, now).map_err(io_error)?;
        Ok(ChunkWriter {
            pool,
            name: name.to_string(),
            buf: Vec::with_capacity(CHUNK_SIZE),
            seq: 0,
            size: 0,
            failed: false,
        })
    }

    fn write_chunk(&mut self) -> io::Result<()> {
        if self.failed {
            return Err(earlier_failure());
        }
        self.failed = true;
        append(&mut *conn(&self.pool)?, &self.name, self.seq, &self.buf).map_err(io_error)?;
        self.size += self.buf.len() as u64;
        self.seq += 1;
        self.buf.clear();
        self.failed = false;
        Ok(())
    }

    /// Writes what is buffered and marks the file whole; returns its size.
    pub(super) fn finish(mut self, now: NaiveDateTime) -> io::Result<u64> {
        if !self.buf.is_empty() || self.failed {
            self.write_chunk()?;
        }
        let size = i64::try_from(self.size).map_err(io_error)?;
        if !finish(&mut *conn(&self.pool)?, &self.name, size, now).map_err(io_error)? {
            return Err(not_stored());
        }
        Ok(self.size)
    }
}

impl io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.failed {
            return Err(earlier_failure());
        }
        let take = data.len().min(CHUNK_SIZE - self.buf.len());
        self.buf.extend_from_slice(&data[..take]);
        if self.buf.len() == CHUNK_SIZE {
            self.write_chunk()?;
        }
        Ok(take)
    }

    /// A partial chunk waits for the next write or for finish: flushing it would only cut
    /// the file in smaller rows, and the file counts at finish anyway.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Fetches one chunk at a time, each on a connection taken for that query only: a download
/// to a slow client holds no connection while it waits.
pub struct ChunkReader {
    pool: Pool,
    name: String,
    // Bytes not yet fetched: a chunk missing before the end (the file deleted meanwhile) is
    // an error, never a quietly shorter file.
    left: u64,
    seq: i64,
    buf: Vec<u8>,
    pos: usize,
}

impl ChunkReader {
    /// A finished file; one never finished is not found.
    pub(super) fn open(pool: Pool, name: &str) -> io::Result<Self> {
        let size = finished_size(&mut *conn(&pool)?, name)
            .map_err(io_error)?
            .ok_or_else(not_stored)?;
        Ok(ChunkReader {
            pool,
            name: name.to_string(),
            left: u64::try_from(size).unwrap_or(0),
            seq: 0,
            buf: Vec::new(),
            pos: 0,
        })
    }
}

impl io::Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.left == 0 || out.is_empty() {
                return Ok(0);
            }
            let data = chunk(&mut *conn(&self.pool)?, &self.name, self.seq)
                .map_err(io_error)?
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "stored file cut short (deleted while read?)",
                    )
                })?;
            self.left = self.left.saturating_sub(data.len() as u64);
            self.buf = data;
            self.pos = 0;
            self.seq += 1;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
