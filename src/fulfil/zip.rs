//! A ZIP writer that only ever appends, so it can write into a pipe or a [`SealWriter`]
//! rather than a seekable file, with memory bounded by one deflate state whatever the
//! size of the entries.
//!
//! Since sizes and CRC are known only after an entry's data, every entry sets general
//! purpose bit 3 and puts them in a data descriptor after the data (and in the central
//! directory). As an entry may turn out larger than 4 GiB, every local header carries a
//! ZIP64 extra field and every data descriptor has 8-byte sizes: that is how a reader
//! going through the file front to back knows the descriptor's width (APPNOTE 4.3.9.2),
//! and it is the layout Info-ZIP's `zip` writes into a pipe. The central directory has
//! ZIP64 fields only for values that do not fit in 32 bits, and the ZIP64 end records
//! come only when the directory's count, size or offset need them.
//!
//! [`SealWriter`]: crate::fulfil::sealed::SealWriter

use std::collections::HashSet;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDateTime, Timelike};
use flate2::{Compression, Crc};
use sha2::{Digest, Sha256};

use deflate::ParallelDeflate;

mod deflate;

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const ZIP64_END_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const END_SIG: u32 = 0x0605_4b50;

const ZIP64_EXTRA_ID: u16 = 0x0001;
// 4.5 is the version that knows ZIP64; made by "Unix" so unzip applies the file mode.
const VERSION_NEEDED: u16 = 45;
const VERSION_MADE_BY: u16 = (3 << 8) | 45;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
const FILE_MODE: u32 = 0o100_644;

// Content is gathered into pieces this large before it is hashed and passed on: renderers
// write a few bytes at a time, and per-call costs added up to more than the hashing.
const PIECE: usize = 64 * 1024;

const U32_MARK: u32 = u32::MAX;
const U16_MARK: u16 = u16::MAX;

/// One finished entry, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the uncompressed bytes.
    pub sha256: String,
    pub crc32: u32,
}

/// What the central directory needs beyond [`Entry`].
struct Placement {
    offset: u64,
    compressed: u64,
    method: u16,
}

struct Current {
    name: String,
    method: u16,
    offset: u64,
    data_start: u64,
    size: u64,
    crc: Crc,
    sha256: Sha256,
}

/// Counts what reaches the inner writer: offsets and compressed sizes come from here.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Sink<W: Write> {
    Plain(Counting<W>),
    Deflate(ParallelDeflate<Counting<W>>),
    // Only while moving between the two, or after an error left the writer unusable.
    Broken,
}

impl<W: Write> Sink<W> {
    fn plain(&mut self) -> io::Result<&mut Counting<W>> {
        match self {
            Sink::Plain(out) => Ok(out),
            _ => Err(broken()),
        }
    }
}

fn broken() -> io::Error {
    io::Error::other("ZIP writer unusable after an earlier error")
}

/// Streams a ZIP archive into `W`. Writes go straight through (or through deflate), so
/// wrap a file in a `BufWriter` if you write in small pieces.
pub struct ZipWriter<W: Write> {
    sink: Sink<W>,
    dos_time: u16,
    dos_date: u16,
    current: Option<Current>,
    // Content of the current entry not yet hashed nor passed on; at most PIECE bytes.
    piece: Vec<u8>,
    entries: Vec<Entry>,
    placements: Vec<Placement>,
    names: HashSet<String>,
}

impl<W: Write> ZipWriter<W> {
    /// Every entry gets `modified` as its date (DOS time: two-second steps, 1980–2107,
    /// clamped to those years).
    pub fn new(inner: W, modified: NaiveDateTime) -> Self {
        let (dos_date, dos_time) = dos_date_time(modified);
        Self {
            sink: Sink::Plain(Counting { inner, written: 0 }),
            dos_time,
            dos_date,
            current: None,
            piece: Vec::with_capacity(PIECE),
            entries: Vec::new(),
            placements: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// A writer for a stream that already holds `offset` bytes, which the archive's offsets
    /// count (as when appended to other data): how tests reach offsets past 4 GiB without
    /// writing 4 GiB.
    #[cfg(test)]
    fn continuing_at(inner: W, modified: NaiveDateTime, offset: u64) -> Self {
        let mut writer = Self::new(inner, modified);
        if let Sink::Plain(out) = &mut writer.sink {
            out.written = offset;
        }
        writer
    }

    /// The entries finished so far, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Ends the current entry, if any, and starts `name`; what is written next is its
    /// content, deflated if `compress`. Names are relative paths with `/` between parts.
    pub fn start_file(&mut self, name: &str, compress: bool) -> io::Result<()> {
        check_name(name)?;
        if self.names.contains(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("duplicate entry name in ZIP: {name}"),
            ));
        }
        self.finish_entry()?;
        let method = if compress {
            METHOD_DEFLATE
        } else {
            METHOD_STORED
        };
        let out = self.sink.plain()?;
        let offset = out.written;

        let mut header = Vec::with_capacity(30 + name.len() + 20);
        put_u32(&mut header, LOCAL_HEADER_SIG);
        put_u16(&mut header, VERSION_NEEDED);
        put_u16(&mut header, FLAG_DATA_DESCRIPTOR | FLAG_UTF8);
        put_u16(&mut header, method);
        put_u16(&mut header, self.dos_time);
        put_u16(&mut header, self.dos_date);
        put_u32(&mut header, 0); // CRC-32: in the data descriptor
        put_u32(&mut header, U32_MARK); // sizes: in the ZIP64 field, there 0 (unknown yet)
        put_u32(&mut header, U32_MARK);
        put_u16(&mut header, name.len() as u16);
        put_u16(&mut header, 20);
        header.extend_from_slice(name.as_bytes());
        put_u16(&mut header, ZIP64_EXTRA_ID);
        put_u16(&mut header, 16);
        put_u64(&mut header, 0);
        put_u64(&mut header, 0);
        out.write_all(&header)?;
        let data_start = out.written;

        if compress {
            match std::mem::replace(&mut self.sink, Sink::Broken) {
                // The fast level: a package is written once and downloaded a few times, and
                // on data like ours it is about twice as fast for a few percent more bytes.
                Sink::Plain(out) => {
                    self.sink = Sink::Deflate(ParallelDeflate::new(
                        out,
                        Compression::fast(),
                        deflate_workers(),
                    )?)
                }
                _ => return Err(broken()),
            }
        }
        self.names.insert(name.to_string());
        self.current = Some(Current {
            name: name.to_string(),
            method,
            offset,
            data_start,
            size: 0,
            crc: Crc::new(),
            sha256: Sha256::new(),
        });
        Ok(())
    }

    fn finish_entry(&mut self) -> io::Result<()> {
        self.pass_piece()?;
        let Some(current) = self.current.take() else {
            return Ok(());
        };
        if let Sink::Deflate(_) = self.sink {
            match std::mem::replace(&mut self.sink, Sink::Broken) {
                Sink::Deflate(encoder) => self.sink = Sink::Plain(encoder.finish()?),
                _ => return Err(broken()),
            }
        }
        let out = self.sink.plain()?;
        let compressed = out.written - current.data_start;
        let crc32 = current.crc.sum();

        let mut descriptor = Vec::with_capacity(24);
        put_u32(&mut descriptor, DATA_DESCRIPTOR_SIG);
        put_u32(&mut descriptor, crc32);
        put_u64(&mut descriptor, compressed);
        put_u64(&mut descriptor, current.size);
        out.write_all(&descriptor)?;

        self.entries.push(Entry {
            name: current.name,
            size: current.size,
            sha256: crate::crypto::hex(&current.sha256.finalize()),
            crc32,
        });
        self.placements.push(Placement {
            offset: current.offset,
            compressed,
            method: current.method,
        });
        Ok(())
    }

    /// Ends the last entry, writes the central directory and the end records, and hands
    /// back the inner writer (flushed) with every entry.
    pub fn finish(mut self) -> io::Result<(W, Vec<Entry>)> {
        self.finish_entry()?;
        let out = self.sink.plain()?;
        let directory_offset = out.written;
        let mut record = Vec::with_capacity(256);
        for (entry, placement) in self.entries.iter().zip(&self.placements) {
            record.clear();
            central_header(&mut record, entry, placement, self.dos_time, self.dos_date);
            out.write_all(&record)?;
        }
        let directory_size = out.written - directory_offset;
        let count = self.entries.len() as u64;

        record.clear();
        let needs_zip64 = count >= u64::from(U16_MARK)
            || directory_size >= u64::from(U32_MARK)
            || directory_offset >= u64::from(U32_MARK);
        if needs_zip64 {
            let zip64_end_offset = out.written;
            put_u32(&mut record, ZIP64_END_SIG);
            put_u64(&mut record, 44); // size of the rest of this record
            put_u16(&mut record, VERSION_MADE_BY);
            put_u16(&mut record, VERSION_NEEDED);
            put_u32(&mut record, 0); // this disk
            put_u32(&mut record, 0); // disk with the central directory
            put_u64(&mut record, count); // entries on this disk
            put_u64(&mut record, count);
            put_u64(&mut record, directory_size);
            put_u64(&mut record, directory_offset);
            put_u32(&mut record, ZIP64_LOCATOR_SIG);
            put_u32(&mut record, 0); // disk with the ZIP64 end record
            put_u64(&mut record, zip64_end_offset);
            put_u32(&mut record, 1); // disks in all
        }
        put_u32(&mut record, END_SIG);
        put_u16(&mut record, 0); // this disk
        put_u16(&mut record, 0); // disk with the central directory
        let count16 = u16::try_from(count).unwrap_or(U16_MARK);
        put_u16(&mut record, count16);
        put_u16(&mut record, count16);
        put_u32(&mut record, capped(directory_size));
        put_u32(&mut record, capped(directory_offset));
        put_u16(&mut record, 0); // comment length
        out.write_all(&record)?;
        out.flush()?;

        match std::mem::replace(&mut self.sink, Sink::Broken) {
            Sink::Plain(out) => Ok((out.inner, self.entries)),
            _ => Err(broken()),
        }
    }
}

impl<W: Write> ZipWriter<W> {
    /// Hashes the gathered piece and passes it to the sink.
    fn pass_piece(&mut self) -> io::Result<()> {
        if self.piece.is_empty() {
            return Ok(());
        }
        let piece = std::mem::take(&mut self.piece);
        let passed = self.pass(&piece);
        self.piece = piece;
        self.piece.clear();
        passed
    }

    fn pass(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(current) = self.current.as_mut() else {
            return Err(broken());
        };
        let passed = match &mut self.sink {
            Sink::Plain(out) => out.write_all(data),
            Sink::Deflate(encoder) => encoder.write_all(data),
            Sink::Broken => Err(broken()),
        };
        // Part of the data may be in the entry: its size and hashes can no longer match it.
        if let Err(e) = passed {
            self.sink = Sink::Broken;
            return Err(e);
        }
        current.crc.update(data);
        current.sha256.update(data);
        current.size += data.len() as u64;
        Ok(())
    }
}

impl<W: Write> Write for ZipWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.current.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "write to a ZIP before start_file",
            ));
        }
        if let Sink::Broken = self.sink {
            return Err(broken());
        }
        if self.piece.is_empty() && data.len() >= PIECE {
            self.pass(data)?;
            return Ok(data.len());
        }
        let n = data.len().min(PIECE - self.piece.len());
        self.piece.extend_from_slice(&data[..n]);
        if self.piece.len() == PIECE {
            self.pass_piece()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pass_piece()?;
        match &mut self.sink {
            Sink::Plain(out) => out.flush(),
            Sink::Deflate(encoder) => encoder.flush(),
            Sink::Broken => Err(broken()),
        }
    }
}

fn central_header(
    record: &mut Vec<u8>,
    entry: &Entry,
    placement: &Placement,
    dos_time: u16,
    dos_date: u16,
) {
    // The ZIP64 field holds, in this order, just the values that do not fit in 32 bits.
    let mut zip64 = Vec::with_capacity(24);
    for value in [entry.size, placement.compressed, placement.offset] {
        if value >= u64::from(U32_MARK) {
            put_u64(&mut zip64, value);
        }
    }
    put_u32(record, CENTRAL_HEADER_SIG);
    put_u16(record, VERSION_MADE_BY);
    put_u16(record, VERSION_NEEDED);
    put_u16(record, FLAG_DATA_DESCRIPTOR | FLAG_UTF8);
    put_u16(record, placement.method);
    put_u16(record, dos_time);
    put_u16(record, dos_date);
    put_u32(record, entry.crc32);
    put_u32(record, capped(placement.compressed));
    put_u32(record, capped(entry.size));
    put_u16(record, entry.name.len() as u16);
    put_u16(
        record,
        if zip64.is_empty() {
            0
        } else {
            4 + zip64.len() as u16
        },
    );
    put_u16(record, 0); // comment length
    put_u16(record, 0); // disk number start
    put_u16(record, 0); // internal attributes
    put_u32(record, FILE_MODE << 16);
    put_u32(record, capped(placement.offset));
    record.extend_from_slice(entry.name.as_bytes());
    if !zip64.is_empty() {
        put_u16(record, ZIP64_EXTRA_ID);
        put_u16(record, zip64.len() as u16);
        record.extend_from_slice(&zip64);
    }
}

/// Threads that deflate an entry: one per core, as rendering waits on them more often than
/// they on it.
fn deflate_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The value itself if it fits, else the mark that sends readers to the ZIP64 field.
fn capped(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(U32_MARK)
}

/// Names become paths when unpacked: only plain relative ones that cannot leave the
/// target folder or mean different files on different systems.
fn check_name(name: &str) -> io::Result<()> {
    let refuse = |why: &str| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("ZIP entry name {name:?} refused: {why}"),
        ))
    };
    if name.is_empty() {
        return refuse("empty");
    }
    if name.len() > usize::from(u16::MAX) {
        return refuse("longer than 65,535 bytes");
    }
    if name.starts_with('/') {
        return refuse("absolute path");
    }
    if name.contains('\\') {
        return refuse("backslash");
    }
    if name.chars().any(char::is_control) {
        return refuse("control character");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return refuse("drive letter");
    }
    for part in name.split('/') {
        match part {
            "" => return refuse("empty path component (or a folder name)"),
            "." | ".." => return refuse("relative path component"),
            _ => {}
        }
    }
    Ok(())
}

fn dos_date_time(at: NaiveDateTime) -> (u16, u16) {
    if at.year() < 1980 {
        return ((1 << 5) | 1, 0);
    }
    if at.year() > 2107 {
        return ((127 << 9) | (12 << 5) | 31, (23 << 11) | (59 << 5) | 29);
    }
    let date = (((at.year() - 1980) as u16) << 9) | ((at.month() as u16) << 5) | at.day() as u16;
    let time = ((at.hour() as u16) << 11) | ((at.minute() as u16) << 5) | (at.second() / 2) as u16;
    (date, time)
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests;
