//! PDFs pass through unchanged once scanned for what a viewer would run or open by itself.
//! The scan reads every byte as PDF syntax would (names decoded from their `#xx` escapes,
//! wherever they stand), and reads compressed object streams too, where a dictionary with
//! `/JavaScript` can hide from a scan of the raw bytes. A PDF it cannot read through is
//! refused: what is not checked is not stored.

use std::io::{BufRead, Write};

use flate2::{Decompress, FlushDecompress, Status};

use super::{Error, Refused};

/// Names that make a PDF act on its own when opened or clicked: scripts, actions that start
/// programs, open other files or post data, embedded files and the rich-media and XFA forms
/// that carry their own code.
const ACTIVE: [&str; 12] = [
    "JS",
    "JavaScript",
    "AA",
    "Launch",
    "EmbeddedFile",
    "EmbeddedFiles",
    "RichMedia",
    "XFA",
    "SubmitForm",
    "ImportData",
    "GoToR",
    "GoToE",
];

/// More inflated object-stream bytes than any honest document of our upload size holds: the
/// bound that keeps a compression bomb from costing more than a second of work.
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// Longest name compared; PDF readers stop at 127 bytes.
const MAX_NAME: usize = 127;

/// Copies `input` to `output`, refusing it if the scan finds active content.
pub(super) fn copy_checked<R: BufRead, W: Write>(mut input: R, mut output: W) -> Result<(), Error> {
    let mut scan = Scan::new(true);
    loop {
        let chunk = input.fill_buf().map_err(Error::Io)?;
        if chunk.is_empty() {
            break;
        }
        scan.feed(chunk)?;
        output.write_all(chunk).map_err(Error::Io)?;
        let n = chunk.len();
        input.consume(n);
    }
    scan.finish()?;
    output.flush().map_err(Error::Io)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lex {
    /// Between tokens, or inside a token we do not read (numbers, strings, binary data).
    Other,
    /// In a name, after its `/`.
    Name,
    /// In a name, after `#`.
    Hash,
    /// In a name, after `#` and one hex digit.
    HashDigit(u8),
    /// In a keyword (a run of regular characters not starting with `/`).
    Word,
}

/// What the current object's dictionary said, as far as object streams go.
#[derive(Default, Clone, Copy)]
struct ObjectFlags {
    object_stream: bool,
    flate: bool,
    /// A filter or parameter we do not undo (ASCII85, LZW, predictors …).
    other_filter: bool,
}

struct Scan {
    lex: Lex,
    name: Vec<u8>,
    name_overflow: bool,
    word: Vec<u8>,
    flags: ObjectFlags,
    /// Whether `stream` may start inflating an object stream (not inside one).
    outer: bool,
    stream: StreamState,
    inflated: u64,
}

enum StreamState {
    None,
    /// Just after the `stream` keyword of an object stream, before the data's first byte.
    Starting,
    Inflating(Box<Inflating>),
}

struct Inflating {
    inflater: Decompress,
    inner: Scan,
    out: Vec<u8>,
}

fn is_space(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Scan {
    fn new(outer: bool) -> Self {
        Scan {
            lex: Lex::Other,
            name: Vec::with_capacity(MAX_NAME),
            name_overflow: false,
            word: Vec::with_capacity(16),
            flags: ObjectFlags::default(),
            outer,
            stream: StreamState::None,
            inflated: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), Refused> {
        let mut at = 0;
        while at < bytes.len() {
            match &mut self.stream {
                StreamState::Starting => {
                    let b = bytes[at];
                    // Skipped whole: no zlib stream starts with either byte, so nothing can
                    // hide behind them.
                    if b == b'\r' || b == b'\n' {
                        self.lex_byte(b, false)?;
                        at += 1;
                        continue;
                    }
                    self.stream = StreamState::Inflating(Box::new(Inflating {
                        inflater: Decompress::new(true),
                        inner: Scan::new(false),
                        out: vec![0u8; 32 * 1024],
                    }));
                }
                StreamState::Inflating(inflating) => {
                    let budget = MAX_INFLATED.saturating_sub(self.inflated);
                    let (used, done, produced) = inflating.step(&bytes[at..], budget)?;
                    let ended = done.then(|| inflating.inner.finish());
                    self.inflated += produced;
                    // The compressed bytes are read as raw syntax too, names only.
                    for &b in &bytes[at..at + used] {
                        self.lex_byte(b, false)?;
                    }
                    at += used;
                    if let Some(ended) = ended {
                        ended?;
                        self.stream = StreamState::None;
                        self.lex = Lex::Other;
                    }
                }
                StreamState::None => {
                    self.lex_byte(bytes[at], true)?;
                    at += 1;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Refused> {
        if matches!(self.stream, StreamState::Inflating(_)) {
            return Err(Refused::Unreadable("object stream cut short"));
        }
        // A name or keyword at the very end counts as ended.
        self.lex_byte(b' ', true)
    }

    /// Reads one byte; `keywords` is false inside compressed data, where only names count.
    fn lex_byte(&mut self, b: u8, keywords: bool) -> Result<(), Refused> {
        match self.lex {
            Lex::Name | Lex::Hash | Lex::HashDigit(_) if is_space(b) || is_delimiter(b) => {
                // `#` followed by less than two hex digits stands for itself.
                match self.lex {
                    Lex::Hash => self.push_name(b'#'),
                    Lex::HashDigit(d) => {
                        self.push_name(b'#');
                        self.push_name(b"0123456789ABCDEF"[usize::from(d)]);
                    }
                    _ => {}
                }
                self.end_name()?;
                self.lex = Lex::Other;
            }
            Lex::Name => {
                if b == b'#' {
                    self.lex = Lex::Hash;
                } else {
                    self.push_name(b);
                }
                return Ok(());
            }
            Lex::Hash => {
                match hex(b) {
                    Some(d) => self.lex = Lex::HashDigit(d),
                    None => {
                        self.push_name(b'#');
                        self.push_name(b);
                        self.lex = Lex::Name;
                    }
                }
                return Ok(());
            }
            Lex::HashDigit(d) => {
                match hex(b) {
                    Some(e) => self.push_name(d * 16 + e),
                    None => {
                        self.push_name(b'#');
                        self.push_name(b"0123456789ABCDEF"[usize::from(d)]);
                        self.push_name(b);
                    }
                }
                self.lex = Lex::Name;
                return Ok(());
            }
            Lex::Word if is_space(b) || is_delimiter(b) => {
                if keywords {
                    self.end_word()?;
                }
                self.word.clear();
                self.lex = Lex::Other;
            }
            Lex::Word => {
                if self.word.len() < 16 {
                    self.word.push(b);
                }
                return Ok(());
            }
            Lex::Other => {}
        }
        // Between tokens: what starts here.
        if b == b'/' {
            self.name.clear();
            self.name_overflow = false;
            self.lex = Lex::Name;
        } else if !is_space(b) && !is_delimiter(b) {
            self.word.clear();
            self.word.push(b);
            self.lex = Lex::Word;
        }
        Ok(())
    }

    fn push_name(&mut self, b: u8) {
        if self.name.len() < MAX_NAME {
            self.name.push(b);
        } else {
            self.name_overflow = true;
        }
    }

    fn end_name(&mut self) -> Result<(), Refused> {
        if self.name_overflow {
            return Ok(());
        }
        if let Some(found) = ACTIVE.iter().find(|a| a.as_bytes() == self.name.as_slice()) {
            return Err(Refused::ActiveContent(found));
        }
        match self.name.as_slice() {
            b"Encrypt" => return Err(Refused::Encrypted),
            b"ObjStm" => self.flags.object_stream = true,
            b"FlateDecode" | b"Fl" => self.flags.flate = true,
            b"ASCIIHexDecode" | b"AHx" | b"ASCII85Decode" | b"A85" | b"LZWDecode" | b"LZW"
            | b"RunLengthDecode" | b"RL" | b"Crypt" | b"Predictor" | b"DecodeParms" => {
                self.flags.other_filter = true
            }
            _ => {}
        }
        Ok(())
    }

    /// A keyword ended by `next`: objects reset what their dictionary said, and the data of
    /// an object stream is inflated and scanned in turn.
    fn end_word(&mut self) -> Result<(), Refused> {
        match self.word.as_slice() {
            b"obj" | b"endobj" => self.flags = ObjectFlags::default(),
            b"stream" if self.flags.object_stream => {
                if !self.outer {
                    return Err(Refused::Unreadable("object stream inside an object stream"));
                }
                if self.flags.other_filter {
                    return Err(Refused::Unreadable(
                        "object stream with an unsupported filter",
                    ));
                }
                if self.flags.flate {
                    // The data starts after the end of line that ended the keyword.
                    self.stream = StreamState::Starting;
                }
                // Uncompressed, its dictionaries were read as raw syntax already.
            }
            _ => {}
        }
        Ok(())
    }
}

impl Inflating {
    /// Inflates from `input`, at most `budget` bytes out: (bytes used, whether the stream
    /// ended, bytes produced).
    fn step(&mut self, input: &[u8], budget: u64) -> Result<(usize, bool, u64), Refused> {
        let mut used = 0;
        let mut produced = 0u64;
        loop {
            let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
            let status = self
                .inflater
                .decompress(&input[used..], &mut self.out, FlushDecompress::None)
                .map_err(|_| Refused::Unreadable("corrupt object stream"))?;
            let took = usize::try_from(self.inflater.total_in() - before_in).unwrap_or(usize::MAX);
            let made = usize::try_from(self.inflater.total_out() - before_out).unwrap_or(0);
            used = used.saturating_add(took).min(input.len());
            produced += made as u64;
            if produced > budget {
                return Err(Refused::Unreadable("too much compressed content"));
            }
            self.inner.feed(&self.out[..made])?;
            match status {
                Status::StreamEnd => return Ok((used, true, produced)),
                // All input taken and room left: wait for more.
                _ if used >= input.len() && made < self.out.len() => {
                    return Ok((used, false, produced));
                }
                _ if took == 0 && made == 0 => {
                    return Err(Refused::Unreadable("corrupt object stream"));
                }
                _ => {}
            }
        }
    }
}
