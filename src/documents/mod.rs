//! What an uploaded document may be, decided from its bytes alone: a PDF without active
//! content (scripts, launch actions, embedded files, forms that post), or a JPEG or PNG image
//! decoded and written again, so that what is stored is pixels this module wrote, never the
//! sender's bytes (a PNG header followed by HTML comes out as a plain PNG).
//!
//! Pure over readers and writers, with bounded memory: a PNG goes row by row, a JPEG is
//! decoded at a reduced scale within a pixel budget, a PDF is scanned as it streams. A fuzz
//! target can call [`sanitize`] on any bytes.

mod image;
mod pdf;

use std::io::{BufRead, Read, Seek, SeekFrom, Write};

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

    /// The file name ending that goes with the content.
    pub fn extension(self) -> &'static str {
        match self {
            Sniffed::Pdf => "pdf",
            Sniffed::Jpeg => "jpg",
            Sniffed::Png => "png",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, Sniffed::Jpeg | Sniffed::Png)
    }
}

/// Why a file is not taken; each case has its own message for the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Neither a PDF, a JPEG nor a PNG, by its content.
    NotADocument,
    /// It starts like one but cannot be read through (truncated, corrupt, an unsupported
    /// variant): nothing we cannot read is stored.
    Unreadable(&'static str),
    /// An image larger, in pixels, than we decode.
    TooManyPixels,
    /// A PDF with active content: the name found (`JavaScript`, `Launch`, …).
    ActiveContent(&'static str),
    /// A password-protected PDF: its content cannot be checked (nor read by the team).
    Encrypted,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::NotADocument => f.write_str("not a PDF, JPEG or PNG file"),
            Refused::Unreadable(why) => write!(f, "unreadable document: {why}"),
            Refused::TooManyPixels => f.write_str("image too large in pixels"),
            Refused::ActiveContent(name) => write!(f, "PDF with active content (/{name})"),
            Refused::Encrypted => f.write_str("encrypted PDF"),
        }
    }
}

/// A refusal, or a failure to read or write that is not the file's fault.
#[derive(Debug)]
pub enum Error {
    Refused(Refused),
    Io(std::io::Error),
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Self {
        Error::Refused(r)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused(r) => r.fmt(f),
            Error::Io(e) => write!(f, "cannot read or write a document: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// A document as it may be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    pub kind: Sniffed,
    pub bytes: Vec<u8>,
}

/// `bytes` made safe to store and show, or why not.
pub fn sanitize(bytes: &[u8]) -> Result<Clean, Refused> {
    let mut out = Vec::new();
    match sanitize_stream(std::io::Cursor::new(bytes), &mut out) {
        Ok(kind) => Ok(Clean { kind, bytes: out }),
        Err(Error::Refused(r)) => Err(r),
        // Reading a slice and writing a vector never fail: only a decoder's own error can
        // land here, and a file it cannot read is not stored.
        Err(Error::Io(_)) => Err(Refused::Unreadable("read error")),
    }
}

/// Reads a document from `input` and writes what may be stored to `output`: the PDF as it
/// came once scanned, an image decoded and encoded again. On an error `output` holds a
/// partial file that the caller throws away.
pub fn sanitize_stream<R: BufRead + Seek, W: Write>(
    mut input: R,
    output: W,
) -> Result<Sniffed, Error> {
    let mut head = [0u8; 8];
    let got = read_up_to(&mut input, &mut head).map_err(Error::Io)?;
    let kind = Sniffed::detect(&head[..got]).ok_or(Refused::NotADocument)?;
    input.seek(SeekFrom::Start(0)).map_err(Error::Io)?;
    match kind {
        Sniffed::Pdf => pdf::copy_checked(input, output)?,
        Sniffed::Png => image::png(input, output)?,
        Sniffed::Jpeg => image::jpeg(input, output)?,
    }
    Ok(kind)
}

fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Whether `input` is text a team may export (CSV, JSON, plain text): UTF-8 throughout, no
/// control characters but line breaks and tabs. Read in pieces, never whole.
pub fn is_plain_text(mut input: impl Read) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 * 1024];
    // Bytes of a character cut by the end of the previous piece.
    let mut carried = 0;
    loop {
        let n = input.read(&mut buf[carried..])?;
        if n == 0 {
            return Ok(carried == 0);
        }
        let filled = carried + n;
        let (text, rest) = match std::str::from_utf8(&buf[..filled]) {
            Ok(text) => (text, 0),
            // A character cut at the end: keep its bytes for the next piece.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                (
                    std::str::from_utf8(&buf[..valid]).unwrap_or_default(),
                    filled - valid,
                )
            }
            Err(_) => return Ok(false),
        };
        if text
            .chars()
            .any(|c| c.is_control() && !"\r\n\t".contains(c))
        {
            return Ok(false);
        }
        buf.copy_within(filled - rest..filled, 0);
        carried = rest;
    }
}

#[cfg(test)]
mod tests;
