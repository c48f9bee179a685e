//! Reads back what the writer wrote with a reader of its own, small and strict: it goes
//! through the central directory like most unzip tools, and checks each local header and
//! data descriptor against it like a streaming reader would. Then with the `zip` crate, an
//! independent reader, so the format is not only ours to judge.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use chrono::NaiveDate;
use flate2::read::DeflateDecoder;

use super::*;
use crate::fulfil::sealed::{OpenReader, SealWriter};

fn when() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 5, 6)
        .unwrap()
        .and_hms_opt(7, 8, 11)
        .unwrap()
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

#[derive(Debug)]
struct Listed {
    name: String,
    method: u16,
    crc32: u32,
    compressed: u64,
    size: u64,
    offset: u64,
    time: u16,
    date: u16,
}

/// One central directory record starting at `at`; returns it and where the next starts.
fn central_record(zip: &[u8], at: usize) -> (Listed, usize) {
    assert_eq!(u32_at(zip, at), CENTRAL_HEADER_SIG);
    assert_eq!(u16_at(zip, at + 6), VERSION_NEEDED);
    assert_eq!(u16_at(zip, at + 8), FLAG_DATA_DESCRIPTOR | FLAG_UTF8);
    let name_len = usize::from(u16_at(zip, at + 28));
    let extra_len = usize::from(u16_at(zip, at + 30));
    let comment_len = usize::from(u16_at(zip, at + 32));
    let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
    let mut size = u64::from(u32_at(zip, at + 24));
    let mut compressed = u64::from(u32_at(zip, at + 20));
    let mut offset = u64::from(u32_at(zip, at + 42));
    let extra = &zip[at + 46 + name_len..at + 46 + name_len + extra_len];
    if !extra.is_empty() {
        assert_eq!(u16_at(extra, 0), ZIP64_EXTRA_ID);
        let mut field = 4;
        for value in [&mut size, &mut compressed, &mut offset] {
            if *value == u64::from(U32_MARK) {
                *value = u64_at(extra, field);
                field += 8;
            }
        }
        assert_eq!(
            field,
            extra.len(),
            "ZIP64 field holds exactly the marked values"
        );
        assert_eq!(usize::from(u16_at(extra, 2)), extra.len() - 4);
    }
    let listed = Listed {
        name,
        method: u16_at(zip, at + 10),
        time: u16_at(zip, at + 12),
        date: u16_at(zip, at + 14),
        crc32: u32_at(zip, at + 16),
        compressed,
        size,
        offset,
    };
    (listed, at + 46 + name_len + extra_len + comment_len)
}

/// The central directory, found from the end records.
fn list(zip: &[u8]) -> Vec<Listed> {
    let end = zip.len() - 22;
    assert_eq!(
        u32_at(zip, end),
        END_SIG,
        "no comment, so the end record is last"
    );
    let mut count = u64::from(u16_at(zip, end + 10));
    let mut directory_size = u64::from(u32_at(zip, end + 12));
    let mut directory_offset = u64::from(u32_at(zip, end + 16));
    if end >= 20 && u32_at(zip, end - 20) == ZIP64_LOCATOR_SIG {
        let zip64_end = u64_at(zip, end - 12) as usize;
        assert_eq!(
            zip64_end,
            end - 20 - 56,
            "ZIP64 end record just before the locator"
        );
        assert_eq!(u32_at(zip, zip64_end), ZIP64_END_SIG);
        count = u64_at(zip, zip64_end + 32);
        directory_size = u64_at(zip, zip64_end + 40);
        directory_offset = u64_at(zip, zip64_end + 48);
        assert_eq!(directory_offset + directory_size, zip64_end as u64);
    } else {
        assert_eq!(directory_offset + directory_size, end as u64);
    }
    let mut at = directory_offset as usize;
    let mut listed = Vec::new();
    for _ in 0..count {
        let (entry, next) = central_record(zip, at);
        listed.push(entry);
        at = next;
    }
    assert_eq!(at as u64, directory_offset + directory_size);
    listed
}

/// Every entry's name and content, checked against its local header, descriptor and CRC.
fn read_zip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    list(zip)
        .into_iter()
        .map(|entry| {
            let at = entry.offset as usize;
            assert_eq!(u32_at(zip, at), LOCAL_HEADER_SIG);
            assert_eq!(u16_at(zip, at + 6), FLAG_DATA_DESCRIPTOR | FLAG_UTF8);
            assert_eq!(u16_at(zip, at + 8), entry.method);
            let name_len = usize::from(u16_at(zip, at + 26));
            let extra_len = usize::from(u16_at(zip, at + 28));
            assert_eq!(&zip[at + 30..at + 30 + name_len], entry.name.as_bytes());
            assert_eq!(extra_len, 20);
            assert_eq!(u16_at(zip, at + 30 + name_len), ZIP64_EXTRA_ID);
            let data_start = at + 30 + name_len + extra_len;
            let data_end = data_start + entry.compressed as usize;
            let descriptor = &zip[data_end..data_end + 24];
            assert_eq!(u32_at(descriptor, 0), DATA_DESCRIPTOR_SIG);
            assert_eq!(u32_at(descriptor, 4), entry.crc32);
            assert_eq!(u64_at(descriptor, 8), entry.compressed);
            assert_eq!(u64_at(descriptor, 16), entry.size);

            let data = &zip[data_start..data_end];
            let content = match entry.method {
                METHOD_STORED => data.to_vec(),
                METHOD_DEFLATE => {
                    let mut out = Vec::new();
                    DeflateDecoder::new(data).read_to_end(&mut out).unwrap();
                    out
                }
                other => panic!("unexpected method {other}"),
            };
            assert_eq!(content.len() as u64, entry.size);
            let mut crc = Crc::new();
            crc.update(&content);
            assert_eq!(crc.sum(), entry.crc32, "{}", entry.name);
            (entry.name, content)
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::crypto::hex(&Sha256::digest(bytes))
}

fn three_entries<W: Write>(zip: &mut ZipWriter<W>) -> Vec<(String, Vec<u8>)> {
    let stored: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let deflated = "{\"requests\": [\"access\", \"erasure\"]}\n"
        .repeat(5_000)
        .into_bytes();
    zip.start_file("data/stored.bin", false).unwrap();
    zip.write_all(&stored).unwrap();
    zip.start_file("données/requêtes.json", true).unwrap();
    for part in deflated.chunks(4_000) {
        zip.write_all(part).unwrap();
    }
    zip.start_file("empty.txt", true).unwrap();
    vec![
        ("data/stored.bin".to_string(), stored),
        ("données/requêtes.json".to_string(), deflated),
        ("empty.txt".to_string(), Vec::new()),
    ]
}

#[test]
fn stored_deflated_and_empty_entries_read_back() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    let expected = three_entries(&mut zip);
    assert_eq!(zip.entries().len(), 2, "the last entry is still open");
    let (bytes, entries) = zip.finish().unwrap();

    assert_eq!(read_zip(&bytes), expected);
    for (entry, (name, content)) in entries.iter().zip(&expected) {
        assert_eq!(&entry.name, name);
        assert_eq!(entry.size, content.len() as u64);
        assert_eq!(entry.sha256, sha256_hex(content));
        let mut crc = Crc::new();
        crc.update(content);
        assert_eq!(entry.crc32, crc.sum());
    }
    assert_eq!(
        entries[2].sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let listed = list(&bytes);
    assert_eq!(listed[0].method, METHOD_STORED);
    assert_eq!(listed[1].method, METHOD_DEFLATE);
    assert!(
        listed[1].compressed * 20 < listed[1].size,
        "deflate did its job"
    );
}

#[test]
fn an_empty_archive_is_just_the_end_record() {
    let (bytes, entries) = ZipWriter::new(Vec::new(), when()).finish().unwrap();
    assert!(entries.is_empty());
    assert_eq!(bytes.len(), 22);
    assert!(read_zip(&bytes).is_empty());
}

#[test]
fn entries_carry_the_dos_date() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    zip.start_file("a", false).unwrap();
    let (bytes, _) = zip.finish().unwrap();
    let listed = list(&bytes);
    assert_eq!(listed[0].date, (44 << 9) | (5 << 5) | 6);
    assert_eq!(listed[0].time, (7 << 11) | (8 << 5) | 5);

    let before_dos = NaiveDate::from_ymd_opt(1970, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(dos_date_time(before_dos), ((1 << 5) | 1, 0));
}

#[test]
fn unsafe_or_duplicate_names_are_refused() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    zip.start_file("a/b.txt", true).unwrap();
    zip.write_all(b"kept").unwrap();
    for name in [
        "",
        "/etc/passwd",
        "../up.txt",
        "a/../../up.txt",
        "a/./b",
        "..",
        "a\\b.txt",
        "a//b",
        "folder/",
        "C:/x",
        "line\nbreak",
        "a/b.txt",
    ] {
        let err = zip.start_file(name, false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
    }
    // A refused name leaves the open entry as it was.
    zip.write_all(b" on").unwrap();
    let (bytes, entries) = zip.finish().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        read_zip(&bytes),
        vec![("a/b.txt".to_string(), b"kept on".to_vec())]
    );
}

#[test]
fn writing_before_start_file_is_an_error() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    let err = zip.write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn more_than_65535_entries_get_the_zip64_end_records() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    for i in 0..70_000 {
        zip.start_file(&format!("{i}"), false).unwrap();
    }
    let (bytes, entries) = zip.finish().unwrap();
    assert_eq!(entries.len(), 70_000);
    let end = bytes.len() - 22;
    assert_eq!(u16_at(&bytes, end + 10), U16_MARK);
    let listed = list(&bytes);
    assert_eq!(listed.len(), 70_000);
    assert_eq!(listed[69_999].name, "69999");
}

#[test]
fn values_past_4_gib_go_to_the_zip64_field() {
    let entry = Entry {
        name: "big.bin".to_string(),
        size: 5 << 30,
        sha256: String::new(),
        crc32: 1,
    };
    let placement = Placement {
        offset: 6 << 30,
        compressed: 1_000,
        method: METHOD_DEFLATE,
    };
    let mut record = Vec::new();
    central_header(&mut record, &entry, &placement, 0, 0);
    let (listed, next) = central_record(&record, 0);
    assert_eq!(next, record.len());
    assert_eq!(u32_at(&record, 20), 1_000, "the small size stays in place");
    assert_eq!(listed.size, 5 << 30);
    assert_eq!(listed.compressed, 1_000);
    assert_eq!(listed.offset, 6 << 30);
}

#[test]
fn a_zip_written_through_a_seal_opens_and_reads_back() {
    let key = [42u8; 32];
    let seal = SealWriter::new(Vec::new(), &key).unwrap();
    let mut zip = ZipWriter::new(seal, when());
    let expected = three_entries(&mut zip);
    let (seal, entries) = zip.finish().unwrap();
    let sealed = seal.finish().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(!sealed.windows(15).any(|w| w == b"data/stored.bin"));

    let mut opened = Vec::new();
    OpenReader::new(&sealed[..], &key)
        .unwrap()
        .read_to_end(&mut opened)
        .unwrap();
    assert_eq!(read_zip(&opened), expected);
}

// Read back by the `zip` crate.

/// Every entry's name and content as the `zip` crate reads them; reading an entry to its end
/// makes the crate check the CRC-32 the archive gives for it.
fn read_with_zip_crate<R: Read + Seek>(archive: R) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(archive).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content)
                .unwrap_or_else(|e| panic!("{}: {e}", file.name()));
            assert_eq!(file.size(), content.len() as u64, "{}", file.name());
            let mut crc = Crc::new();
            crc.update(&content);
            assert_eq!(file.crc32(), crc.sum(), "{}", file.name());
            (file.name().to_string(), content)
        })
        .collect()
}

#[test]
fn the_zip_crate_reads_stored_deflated_and_empty_entries() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    let expected = three_entries(&mut zip);
    let (bytes, entries) = zip.finish().unwrap();

    assert_eq!(read_with_zip_crate(Cursor::new(&bytes)), expected);
    let mut archive = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    for (i, (entry, method)) in entries
        .iter()
        .zip([
            zip::CompressionMethod::Stored,
            zip::CompressionMethod::Deflated,
            zip::CompressionMethod::Deflated,
        ])
        .enumerate()
    {
        let file = archive.by_index(i).unwrap();
        assert_eq!(file.name(), entry.name);
        assert_eq!(file.compression(), method, "{}", entry.name);
        assert_eq!(file.crc32(), entry.crc32, "{}", entry.name);
        assert_eq!(file.unix_mode(), Some(FILE_MODE), "{}", entry.name);
        let modified = file.last_modified().unwrap();
        assert_eq!(
            (
                modified.year(),
                modified.month(),
                modified.day(),
                modified.hour(),
                modified.minute(),
                modified.second()
            ),
            (2024, 5, 6, 7, 8, 10),
            "DOS time counts in two-second steps"
        );
    }
}

#[test]
fn the_zip_crate_reads_a_zip_opened_from_its_seal() {
    let key = [42u8; 32];
    let mut zip = ZipWriter::new(SealWriter::new(Vec::new(), &key).unwrap(), when());
    let expected = three_entries(&mut zip);
    let (seal, _) = zip.finish().unwrap();
    let sealed = seal.finish().unwrap();
    let mut opened = Vec::new();
    OpenReader::new(&sealed[..], &key)
        .unwrap()
        .read_to_end(&mut opened)
        .unwrap();
    assert_eq!(read_with_zip_crate(Cursor::new(opened)), expected);
}

#[test]
fn the_zip_crate_reads_the_zip64_end_records_of_70000_entries() {
    let mut zip = ZipWriter::new(Vec::new(), when());
    for i in 0..70_000 {
        zip.start_file(&format!("{i}"), false).unwrap();
        zip.write_all(format!("entry {i}").as_bytes()).unwrap();
    }
    let (bytes, _) = zip.finish().unwrap();
    assert_eq!(
        u32_at(&bytes, bytes.len() - 22 - 20),
        ZIP64_LOCATOR_SIG,
        "the count needs the ZIP64 end records"
    );
    let read = read_with_zip_crate(Cursor::new(bytes));
    assert_eq!(read.len(), 70_000);
    for i in [0, 65_534, 65_535, 69_999] {
        assert_eq!(read[i], (format!("{i}"), format!("entry {i}").into_bytes()));
    }
}

/// An archive's bytes with its runs of zeros left out, readable and seekable as the whole:
/// how an archive past 4 GiB fits in a test's memory.
#[derive(Default)]
struct Sparse {
    /// Where each kept write starts, and its bytes; in order, never overlapping.
    parts: Vec<(u64, Vec<u8>)>,
    len: u64,
}

static ZEROS: [u8; 1 << 16] = [0; 1 << 16];

impl Write for Sparse {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Compared a block at a time (memcmp): byte by byte is slow without optimisation.
        if !buf.chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()]) {
            self.parts.push((self.len, buf.to_vec()));
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct SparseReader {
    sparse: Sparse,
    pos: u64,
}

impl Read for SparseReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.sparse.len.saturating_sub(self.pos);
        let want = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let pos = self.pos;
        // The last part starting at or before pos, if pos falls inside it.
        let next = self.sparse.parts.partition_point(|(at, _)| *at <= pos);
        let n = match next.checked_sub(1).map(|i| &self.sparse.parts[i]) {
            Some((at, bytes)) if pos < at + bytes.len() as u64 => {
                let from = (pos - at) as usize;
                let n = want.min(bytes.len() - from);
                out[..n].copy_from_slice(&bytes[from..from + n]);
                n
            }
            _ => {
                let gap = self
                    .sparse
                    .parts
                    .get(next)
                    .map_or(u64::MAX, |(at, _)| at - pos);
                let n = want.min(usize::try_from(gap).unwrap_or(usize::MAX));
                out[..n].fill(0);
                n
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SparseReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(at) => Some(at),
            SeekFrom::End(delta) => self.sparse.len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        self.pos = pos.ok_or_else(|| io::Error::other("seek before the start"))?;
        Ok(self.pos)
    }
}

#[test]
fn the_zip_crate_finds_entries_and_the_directory_past_4_gib() {
    // As if 5 GiB of other data came first: every offset needs its ZIP64 field.
    let start = 5 << 30;
    let sparse = Sparse {
        parts: Vec::new(),
        len: start,
    };
    let mut zip = ZipWriter::continuing_at(sparse, when(), start);
    let expected = three_entries(&mut zip);
    let (sparse, _) = zip.finish().unwrap();

    let tail = &sparse.parts[sparse.parts.len() - 1].1;
    assert_eq!(
        u32_at(tail, tail.len() - 22 - 20),
        ZIP64_LOCATOR_SIG,
        "the directory's offset needs the ZIP64 end records"
    );
    let mut archive = zip::ZipArchive::new(SparseReader { sparse, pos: 0 }).unwrap();
    for i in 0..archive.len() {
        assert!(archive.by_index(i).unwrap().header_start() > u64::from(U32_MARK));
    }
    let reader = archive.into_inner();
    assert_eq!(read_with_zip_crate(reader), expected);
}

#[test]
#[ignore = "pushes 4 GiB through CRC-32 and SHA-256, seconds even optimised: \
            cargo test -- --ignored the_zip_crate_reads_an_entry_over_4_gib"]
fn the_zip_crate_reads_an_entry_over_4_gib() {
    // 4 GiB and a bit of zeros, stored: size, compressed size, the next entry's offset and
    // the directory's all go past 32 bits.
    let big: u64 = (4 << 30) + 12_345;
    let mut zip = ZipWriter::new(Sparse::default(), when());
    zip.start_file("big.bin", false).unwrap();
    let block = vec![0u8; 1 << 20];
    let mut left = big;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        zip.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    zip.start_file("after.txt", true).unwrap();
    zip.write_all(b"still here").unwrap();
    let (sparse, entries) = zip.finish().unwrap();
    assert_eq!(entries[0].size, big);

    let mut archive = zip::ZipArchive::new(SparseReader { sparse, pos: 0 }).unwrap();
    let after = archive.by_name("after.txt").unwrap();
    assert!(after.header_start() > u64::from(U32_MARK));
    drop(after);
    let mut file = archive.by_name("big.bin").unwrap();
    assert_eq!(file.size(), big);
    assert_eq!(file.compressed_size(), big);
    assert_eq!(file.crc32(), entries[0].crc32);
    // Read to the end, so the crate checks the CRC over all of it.
    let mut read = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].chunks(ZEROS.len()).all(|c| c == &ZEROS[..c.len()]));
        read += n as u64;
    }
    assert_eq!(read, big);
    drop(file);
    let mut after = archive.by_name("after.txt").unwrap();
    let mut text = String::new();
    after.read_to_string(&mut text).unwrap();
    assert_eq!(text, "still here");
}

/// Several MiB, so the entry is deflated as several chunks on worker threads; written in
/// odd-sized pieces with a flush in the middle, as renderers and `io::copy` write.
#[test]
fn an_entry_of_many_deflate_chunks_reads_back_with_both_readers() {
    let mut content = Vec::new();
    let mut x: u32 = 7;
    while content.len() < 3 * deflate::CHUNK + 12_345 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        content.extend_from_slice(
            format!("{{\"id\":{},\"v\":\"{x:08x}\"}},\n", content.len()).as_bytes(),
        );
    }
    let mut zip = ZipWriter::new(Vec::new(), when());
    zip.start_file("big.json", true).unwrap();
    let (head, tail) = content.split_at(deflate::CHUNK + 999);
    for piece in head.chunks(777) {
        zip.write_all(piece).unwrap();
    }
    zip.flush().unwrap();
    zip.write_all(tail).unwrap();
    zip.start_file("after", true).unwrap();
    zip.write_all(b"after").unwrap();
    let (bytes, entries) = zip.finish().unwrap();

    let expected = vec![
        ("big.json".to_string(), content.clone()),
        ("after".to_string(), b"after".to_vec()),
    ];
    assert_eq!(read_zip(&bytes), expected);
    assert_eq!(read_with_zip_crate(Cursor::new(&bytes)), expected);
    assert_eq!(entries[0].sha256, sha256_hex(&content));
    assert!(list(&bytes)[0].compressed * 2 < content.len() as u64);
}
