//! Encryption at rest for export packages: AES-256-GCM in the STREAM construction
//! (Hoang, Reyhanitabar, Rogaway, Vizár — "Online Authenticated-Encryption and its
//! Nonce-Reuse Misuse-Resistance"), so a file of any size is sealed and opened in 64 KiB
//! steps and every step is authenticated before a byte of it is handed out.
//!
//! Layout:
//!
//! ```text
//! header   "DSARSEAL" (8) ‖ version 1 (1) ‖ random nonce prefix (7)
//! chunk i  AES-256-GCM(plaintext_i) ‖ tag (16)
//!          nonce = prefix ‖ i as u32 big-endian ‖ 1 on the final chunk, else 0
//!          associated data = the 16-byte header
//! ```
//!
//! Every chunk but the final one holds exactly [`CHUNK_SIZE`] bytes of plaintext, which is
//! what lets a reader find the boundaries without lengths in the file. The final chunk
//! holds fewer (possibly none) and is always written, so cutting the file at a chunk
//! boundary is caught too. The counter rules out reordering and dropping chunks; the flag
//! rules out truncation; the header as associated data rules out swapping headers.
//!
//! That nonce is exactly the one of `aead`'s STREAM with a 32-bit big-endian counter
//! ([`StreamBE32`](aes_gcm::aead::stream::StreamBE32)), so that crate keeps the counter and
//! the flag, and consumes the stream with its final chunk.

use std::io::{self, Read, Write};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};

/// Plaintext bytes in each chunk but the final one.
pub const CHUNK_SIZE: usize = 64 * 1024;

const MAGIC: &[u8; 8] = b"DSARSEAL";
const VERSION: u8 = 1;
const PREFIX_LEN: usize = 7;
const HEADER_LEN: usize = MAGIC.len() + 1 + PREFIX_LEN;
const TAG_LEN: usize = 16;
const SEALED_CHUNK: usize = CHUNK_SIZE + TAG_LEN;

type Header = [u8; HEADER_LEN];

fn invalid(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

fn earlier_failure() -> io::Error {
    io::Error::other("an earlier write of this sealed file failed")
}

/// Seals everything written to it into `inner`. Call [`SealWriter::finish`]: without the
/// final chunk the file does not open.
pub struct SealWriter<W: Write> {
    inner: W,
    header: Header,
    // `None` once a chunk failed to be sealed or written: going on would leave a gap in the
    // file or, worse, seal other plaintext under a nonce whose ciphertext may already be out.
    stream: Option<EncryptorBE32<Aes256Gcm>>,
    // Plaintext of the chunk being filled; encrypted in place, so its capacity leaves room
    // for the tag and it never reallocates.
    buf: Vec<u8>,
}

impl<W: Write> SealWriter<W> {
    /// Writes the header to `inner` at once, with a fresh random nonce prefix. 56 random
    /// bits keep prefixes apart for far more files than one key will ever seal.
    pub fn new(inner: W, key: &[u8; 32]) -> io::Result<Self> {
        let mut prefix = [0u8; PREFIX_LEN];
        rand::fill(&mut prefix);
        Self::with_prefix(inner, key, prefix)
    }

    // `new` draws the prefix; tests choose it, to pin the bytes on disk.
    fn with_prefix(mut inner: W, key: &[u8; 32], prefix: [u8; PREFIX_LEN]) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        header[MAGIC.len()] = VERSION;
        header[MAGIC.len() + 1..].copy_from_slice(&prefix);
        inner.write_all(&header)?;
        let stream = EncryptorBE32::from_aead(Aes256Gcm::new(key.into()), &prefix.into());
        Ok(Self {
            inner,
            header,
            stream: Some(stream),
            buf: Vec::with_capacity(SEALED_CHUNK),
        })
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        // Put back only once the chunk is out: any error fails the writer for good.
        let mut stream = self.stream.take().ok_or_else(earlier_failure)?;
        let next = if last {
            stream
                .encrypt_last_in_place(&self.header, &mut self.buf)
                .map(|()| None)
        } else {
            // Refused after 2^32 - 1 chunks (256 TiB), where the counter would wrap.
            stream
                .encrypt_next_in_place(&self.header, &mut self.buf)
                .map(|()| Some(stream))
        }
        .map_err(|_| io::Error::other("AES-GCM refused to seal a chunk"))?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.stream = next;
        Ok(())
    }

    /// Seals the final chunk (what is buffered, possibly nothing), flushes and hands back
    /// the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_chunk(true)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.stream.is_none() {
            return Err(earlier_failure());
        }
        let take = data.len().min(CHUNK_SIZE - self.buf.len());
        self.buf.extend_from_slice(&data[..take]);
        // A full chunk is sealed as not-final right away: finish() then always seals a
        // short (possibly empty) final chunk, which keeps the reader's framing simple.
        if self.buf.len() == CHUNK_SIZE {
            self.seal_chunk(false)?;
        }
        Ok(take)
    }

    /// Flushes the inner writer only: a partial chunk cannot be sealed before the end, as
    /// every chunk but the final one must be full.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Opens what a [`SealWriter`] wrote. Hands out a chunk's plaintext only after its tag
/// checked out, and reports the end only after the final chunk did; anything else is
/// `InvalidData`.
pub struct OpenReader<R: Read> {
    inner: R,
    header: Header,
    // Ciphertext of the chunk being read, then its plaintext in buf[pos..plain_len].
    buf: Vec<u8>,
    pos: usize,
    plain_len: usize,
    // The byte read past a full chunk to learn whether the file ends there.
    lookahead: Option<u8>,
    state: State,
}

enum State {
    // Boxed: the cipher's key schedule is large, the other states are nothing.
    Reading(Box<DecryptorBE32<Aes256Gcm>>),
    // The final chunk opened: only what is left in buf remains.
    Finished,
    // Once a chunk failed, every later read fails too, instead of going on past a gap.
    Failed,
}

impl<R: Read> OpenReader<R> {
    /// Reads and checks the header; the key is checked with the first chunk.
    pub fn new(mut inner: R, key: &[u8; 32]) -> io::Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        inner.read_exact(&mut header).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => invalid("sealed file shorter than its header"),
            _ => e,
        })?;
        if &header[..MAGIC.len()] != MAGIC {
            return Err(invalid("not a sealed file"));
        }
        if header[MAGIC.len()] != VERSION {
            return Err(invalid("unknown sealed file version"));
        }
        let prefix = &header[MAGIC.len() + 1..];
        let stream = DecryptorBE32::from_aead(Aes256Gcm::new(key.into()), prefix.into());
        Ok(Self {
            inner,
            header,
            buf: vec![0u8; SEALED_CHUNK],
            pos: 0,
            plain_len: 0,
            lookahead: None,
            state: State::Reading(Box::new(stream)),
        })
    }

    /// Fills buf with up to one sealed chunk; returns how many bytes and whether the
    /// stream ended right after them.
    fn read_sealed_chunk(&mut self) -> io::Result<(usize, bool)> {
        let mut filled = 0;
        if let Some(byte) = self.lookahead.take() {
            self.buf[0] = byte;
            filled = 1;
        }
        while filled < SEALED_CHUNK {
            match self.inner.read(&mut self.buf[filled..]) {
                Ok(0) => return Ok((filled, true)),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // A full chunk may be the final one (a writer may fill it) or may be followed by
        // more: only the next byte tells, and the flag in the nonce must agree with it.
        let mut next = [0u8; 1];
        loop {
            match self.inner.read(&mut next) {
                Ok(0) => return Ok((filled, true)),
                Ok(_) => {
                    self.lookahead = Some(next[0]);
                    return Ok((filled, false));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn open_next_chunk(&mut self) -> io::Result<()> {
        // Failed until this chunk opens.
        let State::Reading(mut stream) = std::mem::replace(&mut self.state, State::Failed) else {
            return Err(invalid("sealed file read past its end"));
        };
        // Room for a whole sealed chunk; opening it shortens buf to the plaintext.
        self.buf.resize(SEALED_CHUNK, 0);
        let (len, last) = self.read_sealed_chunk()?;
        if len < TAG_LEN {
            return Err(invalid("sealed file truncated"));
        }
        self.buf.truncate(len);
        let altered = |_| invalid("sealed file altered, truncated or under another key");
        self.state = if last {
            (*stream)
                .decrypt_last_in_place(&self.header, &mut self.buf)
                .map_err(altered)?;
            State::Finished
        } else {
            stream
                .decrypt_next_in_place(&self.header, &mut self.buf)
                .map_err(altered)?;
            State::Reading(stream)
        };
        self.pos = 0;
        self.plain_len = self.buf.len();
        Ok(())
    }
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pos < self.plain_len {
                let n = out.len().min(self.plain_len - self.pos);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match self.state {
                State::Finished => return Ok(0),
                State::Failed => return Err(invalid("sealed file already failed to open")),
                State::Reading(_) => {
                    if let Err(e) = self.open_next_chunk() {
                        self.state = State::Failed;
                        self.plain_len = 0;
                        return Err(e);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn seal(plain: &[u8], key: &[u8; 32]) -> Vec<u8> {
        let mut writer = SealWriter::new(Vec::new(), key).unwrap();
        // Odd-sized writes so chunk boundaries fall inside them.
        for part in plain.chunks(10_007) {
            writer.write_all(part).unwrap();
        }
        writer.finish().unwrap()
    }

    fn open(sealed: &[u8], key: &[u8; 32]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        OpenReader::new(sealed, key)?.read_to_end(&mut out)?;
        Ok(out)
    }

    fn assert_invalid(result: io::Result<Vec<u8>>) {
        match result {
            Ok(plain) => panic!("opened {} bytes that should not open", plain.len()),
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}"),
        }
    }

    fn pinned_key() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    fn seal_pinned(plain: &[u8]) -> Vec<u8> {
        let mut writer = SealWriter::with_prefix(Vec::new(), &pinned_key(), *b"dsar-v1").unwrap();
        for part in plain.chunks(10_007) {
            writer.write_all(part).unwrap();
        }
        writer.finish().unwrap()
    }

    fn sha256_hex(bytes: &[u8]) -> String {
        use sha2::Digest;
        crate::crypto::hex(&sha2::Sha256::digest(bytes))
    }

    /// The bytes on disk for a fixed key and nonce prefix, as version 1 has always written
    /// them: packages already sealed must keep opening whatever the code underneath.
    #[test]
    fn the_format_on_disk_is_pinned() {
        // Header ("DSARSEAL", version 1, prefix "dsar-v1"), the 12 sealed bytes, the tag.
        assert_eq!(
            crate::crypto::hex(&seal_pinned(b"a short file")),
            "445341525345414c01647361722d7631\
             f06308e8d2ab91871c949760\
             ea3c31ca46cfad9ace026c3e9331884f"
        );
        // Three chunks: two full ones, then a short final one.
        let long = seal_pinned(&pattern(2 * CHUNK_SIZE + 5));
        assert_eq!(long.len(), HEADER_LEN + 2 * SEALED_CHUNK + 5 + TAG_LEN);
        let tag_ending_at = |end: usize| crate::crypto::hex(&long[end - TAG_LEN..end]);
        assert_eq!(
            tag_ending_at(HEADER_LEN + SEALED_CHUNK),
            "74e3ac0d1bffefb28234e47f1cfa5439"
        );
        assert_eq!(
            tag_ending_at(HEADER_LEN + 2 * SEALED_CHUNK),
            "563054df15e8ec214c354bcc43b883d0"
        );
        assert_eq!(
            tag_ending_at(long.len()),
            "21184b573ef9c7fff5c11b620508aa9d"
        );
        assert_eq!(
            sha256_hex(&long),
            "a37edbfcf536db0acfaa08b0282e9bc0cba3a8fdd7f0001b5612998c64397ae0"
        );
        // One full chunk, then the empty final chunk: its tag alone.
        let exact = seal_pinned(&pattern(CHUNK_SIZE));
        assert_eq!(exact.len(), HEADER_LEN + SEALED_CHUNK + TAG_LEN);
        assert_eq!(
            crate::crypto::hex(&exact[exact.len() - TAG_LEN..]),
            "5ee1115b45d39a73512b418cf4bf3db5"
        );
        assert_eq!(
            sha256_hex(&exact),
            "dd12d5f2a0ed61e812ef4bf9bf4810a54649161b3d83eaaad07a3464d6423d4e"
        );
        // And what was written that way opens.
        assert_eq!(
            open(&long, &pinned_key()).unwrap(),
            pattern(2 * CHUNK_SIZE + 5)
        );
        assert_eq!(open(&exact, &pinned_key()).unwrap(), pattern(CHUNK_SIZE));
    }

    #[test]
    fn round_trips_at_and_around_chunk_boundaries() {
        for len in [0, 1, 65_535, 65_536, 65_537, 3 * 65_536 + 5] {
            let plain = pattern(len);
            let sealed = seal(&plain, &KEY);
            let chunks = len / CHUNK_SIZE + 1;
            assert_eq!(
                sealed.len(),
                HEADER_LEN + len + chunks * TAG_LEN,
                "len {len}"
            );
            assert_eq!(open(&sealed, &KEY).unwrap(), plain, "len {len}");
        }
    }

    #[test]
    fn reads_in_small_steps() {
        let plain = pattern(2 * CHUNK_SIZE + 3);
        let sealed = seal(&plain, &KEY);
        let mut reader = OpenReader::new(&sealed[..], &KEY).unwrap();
        let mut out = Vec::new();
        let mut step = [0u8; 333];
        loop {
            let n = reader.read(&mut step).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&step[..n]);
        }
        assert_eq!(out, plain);
    }

    #[test]
    fn a_wrong_key_opens_nothing() {
        let sealed = seal(&pattern(100), &KEY);
        assert_invalid(open(&sealed, &[8u8; 32]));
    }

    #[test]
    fn any_flipped_byte_is_caught() {
        let sealed = seal(&pattern(CHUNK_SIZE + 10), &KEY);
        // In the header, the first chunk, its tag, and the final chunk.
        for at in [
            0,
            8,
            9,
            HEADER_LEN,
            HEADER_LEN + 500,
            HEADER_LEN + SEALED_CHUNK - 1,
        ] {
            let mut altered = sealed.clone();
            altered[at] ^= 0x01;
            assert_invalid(open(&altered, &KEY));
        }
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0x80;
        assert_invalid(open(&altered, &KEY));
    }

    #[test]
    fn truncation_at_a_chunk_boundary_is_caught() {
        let sealed = seal(&pattern(2 * CHUNK_SIZE + 10), &KEY);
        for chunks in 0..=2 {
            assert_invalid(open(&sealed[..HEADER_LEN + chunks * SEALED_CHUNK], &KEY));
        }
        // A whole file whose final chunk is empty, cut just before that chunk.
        let sealed = seal(&pattern(CHUNK_SIZE), &KEY);
        assert_eq!(sealed.len(), HEADER_LEN + SEALED_CHUNK + TAG_LEN);
        assert_invalid(open(&sealed[..HEADER_LEN + SEALED_CHUNK], &KEY));
    }

    #[test]
    fn truncation_inside_a_chunk_or_header_is_caught() {
        let sealed = seal(&pattern(CHUNK_SIZE + 10), &KEY);
        for len in [
            3,
            HEADER_LEN - 1,
            HEADER_LEN + 15,
            HEADER_LEN + 1000,
            sealed.len() - 1,
        ] {
            assert_invalid(open(&sealed[..len], &KEY));
        }
    }

    #[test]
    fn reordered_or_dropped_chunks_are_caught() {
        let sealed = seal(&pattern(3 * CHUNK_SIZE + 5), &KEY);
        let chunk = |i: usize| &sealed[HEADER_LEN + i * SEALED_CHUNK..][..SEALED_CHUNK];
        let tail = &sealed[HEADER_LEN + 3 * SEALED_CHUNK..];
        let header = &sealed[..HEADER_LEN];
        let swapped = [header, chunk(1), chunk(0), chunk(2), tail].concat();
        assert_invalid(open(&swapped, &KEY));
        let dropped = [header, chunk(0), chunk(2), tail].concat();
        assert_invalid(open(&dropped, &KEY));
    }

    #[test]
    fn the_header_of_another_file_does_not_fit() {
        let a = seal(&pattern(100), &KEY);
        let b = seal(&pattern(100), &KEY);
        let spliced = [&b[..HEADER_LEN], &a[HEADER_LEN..]].concat();
        assert_invalid(open(&spliced, &KEY));
    }

    #[test]
    fn appended_bytes_are_caught() {
        for len in [0, 10, CHUNK_SIZE] {
            let mut sealed = seal(&pattern(len), &KEY);
            sealed.extend_from_slice(b"garbage");
            assert_invalid(open(&sealed, &KEY));
        }
        // Exactly one sealed chunk's worth of garbage after the final chunk.
        let mut sealed = seal(&pattern(10), &KEY);
        sealed.extend_from_slice(&[0u8; SEALED_CHUNK]);
        assert_invalid(open(&sealed, &KEY));
    }

    /// The nonce as the module's documentation lays it out, built by hand.
    fn nonce(
        prefix: &[u8],
        counter: u32,
        last: bool,
    ) -> aes_gcm::Nonce<aes_gcm::aead::consts::U12> {
        let mut bytes = [0u8; 12];
        bytes[..PREFIX_LEN].copy_from_slice(prefix);
        bytes[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&counter.to_be_bytes());
        bytes[11] = u8::from(last);
        bytes.into()
    }

    #[test]
    fn a_full_final_chunk_opens_only_if_flagged_final() {
        use aes_gcm::aead::AeadInPlace;
        // Another writer may end on a full chunk; the reader must tell it from a cut file.
        let cipher = Aes256Gcm::new((&KEY).into());
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8] = VERSION;
        let plain = pattern(CHUNK_SIZE);
        let sealed_with = |last: bool| {
            let mut buf = plain.clone();
            cipher
                .encrypt_in_place(&nonce(&header[9..], 0, last), &header, &mut buf)
                .unwrap();
            [&header[..], &buf].concat()
        };
        assert_eq!(open(&sealed_with(true), &KEY).unwrap(), plain);
        assert_invalid(open(&sealed_with(false), &KEY));
    }

    #[test]
    fn reads_after_a_failure_keep_failing() {
        let mut sealed = seal(&pattern(2 * CHUNK_SIZE), &KEY);
        sealed[HEADER_LEN + 3] ^= 1;
        let mut reader = OpenReader::new(&sealed[..], &KEY).unwrap();
        let mut buf = [0u8; 16];
        assert!(reader.read(&mut buf).is_err());
        assert!(reader.read(&mut buf).is_err());
    }

    #[test]
    fn foreign_files_are_refused() {
        assert_invalid(open(b"PK\x03\x04 not sealed at all", &KEY));
        let mut sealed = seal(b"x", &KEY);
        sealed[8] = 2;
        assert_invalid(open(&sealed, &KEY));
    }
}
