//! Images are decoded and encoded again: only pixels cross, so trailing bytes (a PNG header
//! followed by HTML), comments and metadata (EXIF with its GPS position, text chunks) stay
//! behind. Memory is bounded whatever the file claims: a PNG goes row by row; a JPEG is
//! decoded at the IDCT scale that brings it under [`JPEG_LONG_SIDE`] and [`JPEG_MAX_SAMPLES`],
//! and refused when even 1/8 would not, or when, progressive, its coefficients would not fit
//! [`JPEG_PROGRESSIVE_BUDGET`].

use std::io::{BufRead, Seek, Write};

use jpeg_decoder::PixelFormat;
use jpeg_encoder::{ImageBuffer, JpegColorType};

use super::{Error, Refused};

/// PNG: the widest or tallest image taken. A row costs a few times its width in memory.
pub const PNG_MAX_SIDE: u32 = 16_384;
/// PNG: the most pixels taken; each one is decoded and compressed again.
pub const PNG_MAX_PIXELS: u64 = 64_000_000;
/// PNG: an interlaced image must be held whole to write it back; at most this much.
const PNG_INTERLACED_BUDGET: u64 = 16 * 1024 * 1024;

/// JPEG: the long side of the image stored, at most (a phone photo is halved; an identity
/// document stays perfectly legible).
pub const JPEG_LONG_SIDE: u32 = 2400;
/// JPEG: bytes of decoded samples of the image stored, at most (2400 × 1800 in colour; less
/// in CMYK, which has four): the decoder holds them twice, as planes and as the image.
pub const JPEG_MAX_SAMPLES: u64 = 2400 * 1800 * 3;
/// JPEG: bytes of coefficients a progressive JPEG may need, two per sample of the whole
/// image, kept at full size whatever the scale: a 1920 × 1080 colour image fits.
pub const JPEG_PROGRESSIVE_BUDGET: u64 = 12 * 1024 * 1024;

/// Decodes a PNG row by row and writes each row again, 8 bits per sample.
pub(super) fn png<R: BufRead + Seek, W: Write>(input: R, output: W) -> Result<(), Error> {
    let unreadable = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => Error::Refused(Refused::TooManyPixels),
        _ => Error::Refused(Refused::Unreadable("corrupt PNG")),
    };
    let mut decoder = png::Decoder::new_with_limits(input, png::Limits { bytes: 4 << 20 });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let header = decoder.read_header_info().map_err(unreadable)?;
    let (width, height) = (header.width, header.height);
    if width > PNG_MAX_SIDE
        || height > PNG_MAX_SIDE
        || u64::from(width) * u64::from(height) > PNG_MAX_PIXELS
    {
        return Err(Refused::TooManyPixels.into());
    }
    let mut reader = decoder.read_info().map_err(unreadable)?;
    let (color, depth) = reader.output_color_type();
    if depth != png::BitDepth::Eight {
        return Err(Refused::Unreadable("PNG sample depth").into());
    }
    let mut encoder = png::Encoder::new(output, width, height);
    encoder.set_color(color);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let encoding = |e: png::EncodingError| match e {
        png::EncodingError::IoError(e) => Error::Io(e),
        _ => Error::Refused(Refused::Unreadable("PNG cannot be written again")),
    };
    let mut writer = encoder.write_header().map_err(encoding)?;
    if reader.info().interlaced {
        // Rows come in seven passes: the image is assembled first, within a budget.
        let size = reader.output_buffer_size().ok_or(Refused::TooManyPixels)?;
        if size as u64 > PNG_INTERLACED_BUDGET {
            return Err(Refused::TooManyPixels.into());
        }
        let mut image = vec![0u8; size];
        reader.next_frame(&mut image).map_err(unreadable)?;
        // Compressed as it is written, never into a second buffer.
        let mut stream = writer.stream_writer().map_err(encoding)?;
        stream.write_all(&image).map_err(Error::Io)?;
        stream.finish().map_err(encoding)?;
        return Ok(());
    }
    let mut stream = writer.stream_writer().map_err(encoding)?;
    let mut rows = 0u32;
    while let Some(row) = reader.next_row().map_err(unreadable)? {
        stream.write_all(row.data()).map_err(Error::Io)?;
        rows += 1;
    }
    if rows != height {
        return Err(Refused::Unreadable("PNG cut short").into());
    }
    stream.finish().map_err(encoding)?;
    Ok(())
}

/// Decodes a JPEG at a reduced scale when it is large, turns it upright as its EXIF says,
/// and encodes it again.
pub(super) fn jpeg<R: BufRead + Seek, W: Write>(input: R, output: W) -> Result<(), Error> {
    let unreadable = |_| Error::Refused(Refused::Unreadable("corrupt JPEG"));
    let mut decoder = jpeg_decoder::Decoder::new(input);
    decoder.read_info().map_err(unreadable)?;
    let info = decoder.info().ok_or(Refused::Unreadable("corrupt JPEG"))?;
    let (full_w, full_h) = (u32::from(info.width), u32::from(info.height));
    let samples = match info.pixel_format {
        PixelFormat::L8 => 1u64,
        PixelFormat::L16 => 2,
        PixelFormat::RGB24 => 3,
        PixelFormat::CMYK32 => 4,
    };
    if info.coding_process == jpeg_decoder::CodingProcess::DctProgressive
        && u64::from(full_w) * u64::from(full_h) * samples * 2 > JPEG_PROGRESSIVE_BUDGET
    {
        // Two bytes per coefficient, every one of the full image, before any scaling.
        return Err(Refused::TooManyPixels.into());
    }
    // The largest of the decoder's scales (1, 1/2, 1/4, 1/8) that fits both bounds.
    let long = full_w.max(full_h);
    let divisor = [1u32, 2, 4, 8]
        .into_iter()
        .find(|d| {
            long.div_ceil(*d) <= JPEG_LONG_SIDE
                && u64::from(full_w.div_ceil(*d)) * u64::from(full_h.div_ceil(*d)) * samples
                    <= JPEG_MAX_SAMPLES
        })
        .ok_or(Refused::TooManyPixels)?;
    let (want_w, want_h) = (full_w.div_ceil(divisor), full_h.div_ceil(divisor));
    let (w, h) = if divisor == 1 {
        (info.width, info.height)
    } else {
        decoder
            .scale(
                u16::try_from(want_w).unwrap_or(u16::MAX),
                u16::try_from(want_h).unwrap_or(u16::MAX),
            )
            .map_err(unreadable)?
    };
    let out_bytes = u64::from(w) * u64::from(h) * samples;
    if out_bytes > JPEG_MAX_SAMPLES || u32::from(w.max(h)) > JPEG_LONG_SIDE {
        return Err(Refused::TooManyPixels.into());
    }
    decoder.set_max_decoding_buffer_size(usize::try_from(out_bytes).unwrap_or(usize::MAX));
    let mut pixels = decoder.decode().map_err(unreadable)?;
    let orientation = decoder.exif_data().map_or(1, orientation);
    let (color, samples) = match info.pixel_format {
        PixelFormat::L8 => (JpegColorType::Luma, 1),
        PixelFormat::L16 => {
            // Big-endian 16-bit grey: the high byte is the 8-bit value.
            pixels = pixels.chunks_exact(2).map(|p| p[0]).collect();
            (JpegColorType::Luma, 1)
        }
        PixelFormat::RGB24 => (JpegColorType::Ycbcr, 3),
        PixelFormat::CMYK32 => (JpegColorType::Cmyk, 4),
    };
    if pixels.len() < usize::from(w) * usize::from(h) * samples {
        return Err(Refused::Unreadable("corrupt JPEG").into());
    }
    let image = Upright {
        pixels: &pixels,
        width: w,
        height: h,
        samples,
        color,
        orientation,
    };
    let mut out = std::io::BufWriter::new(output);
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode_image(image)
        .map_err(|e| match e {
            jpeg_encoder::EncodingError::IoError(e) => Error::Io(e),
            _ => Error::Refused(Refused::Unreadable("JPEG cannot be written again")),
        })?;
    out.flush().map_err(Error::Io)
}

/// The EXIF orientation (1 to 8; 1 is upright), from the TIFF structure the decoder found in
/// the APP1 segment.
fn orientation(exif: &[u8]) -> u8 {
    let big = match exif.get(..4) {
        Some(b"MM\0*") => true,
        Some(b"II*\0") => false,
        _ => return 1,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = exif.get(at..at + 2)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = exif.get(at..at + 4)?;
        Some(if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let found = (|| {
        let ifd = usize::try_from(u32_at(4)?).ok()?;
        let count = usize::from(u16_at(ifd)?);
        (0..count).find_map(|i| {
            let entry = ifd + 2 + i * 12;
            (u16_at(entry)? == 0x0112).then(|| u16_at(entry + 8))?
        })
    })();
    match found {
        Some(o @ 1..=8) => o as u8,
        _ => 1,
    }
}

/// The decoded pixels seen upright: the encoder asks for rows of the turned image, which are
/// read from the stored ones, so no second copy of the image is made.
struct Upright<'a> {
    pixels: &'a [u8],
    width: u16,
    height: u16,
    samples: usize,
    color: JpegColorType,
    orientation: u8,
}

impl Upright<'_> {
    /// Whether width and height swap (orientations 5 to 8 turn by a quarter).
    fn swaps(&self) -> bool {
        self.orientation >= 5
    }

    /// The stored pixel shown at (x, y) of the upright image.
    fn source(&self, x: usize, y: usize) -> usize {
        let (w, h) = (usize::from(self.width), usize::from(self.height));
        let (sx, sy) = match self.orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => (x, y),
        };
        (sy * w + sx) * self.samples
    }
}

impl ImageBuffer for Upright<'_> {
    fn get_jpeg_color_type(&self) -> JpegColorType {
        self.color
    }

    fn width(&self) -> u16 {
        if self.swaps() {
            self.height
        } else {
            self.width
        }
    }

    fn height(&self) -> u16 {
        if self.swaps() {
            self.width
        } else {
            self.height
        }
    }

    fn fill_buffers(&self, y: u16, buffers: &mut [Vec<u8>; 4]) {
        let y = usize::from(y);
        for x in 0..usize::from(self.width()) {
            let at = self.source(x, y);
            let p = &self.pixels[at..at + self.samples];
            match self.color {
                JpegColorType::Ycbcr => {
                    let (l, cb, cr) = jpeg_encoder::rgb_to_ycbcr(p[0], p[1], p[2]);
                    buffers[0].push(l);
                    buffers[1].push(cb);
                    buffers[2].push(cr);
                }
                _ => {
                    for (buffer, v) in buffers.iter_mut().zip(p) {
                        buffer.push(*v);
                    }
                }
            }
        }
    }
}
