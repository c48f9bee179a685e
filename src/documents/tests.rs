use std::io::Write;

use super::*;

/// A `w`×`h` RGB PNG with a gradient, as a camera app would write it.
fn png_image(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .add_text_chunk("Comment".into(), "<script>alert(1)</script>".into())
        .expect("text chunk");
    let mut writer = encoder.write_header().expect("header");
    let data: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
    writer.write_image_data(&data).expect("data");
    writer.finish().expect("finish");
    out
}

fn jpeg_image(w: u16, h: u16, progressive: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    encoder.set_progressive(progressive);
    let data: Vec<u8> = (0..usize::from(w) * usize::from(h) * 3)
        .map(|i| (i % 253) as u8)
        .collect();
    encoder
        .encode(&data, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    out
}

/// `jpeg` with a segment inserted right after its start marker.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len() + 2).expect("short segment");
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// `jpeg` claiming to be `w`×`h` in its frame header.
fn claiming(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|m| m[0] == 0xFF && (m[1] == 0xC0 || m[1] == 0xC2))
        .expect("frame header");
    out[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().expect("our PNG reads");
    (reader.info().width, reader.info().height)
}

fn jpeg_size(bytes: &[u8]) -> (u16, u16) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.decode().expect("our JPEG reads");
    let info = decoder.info().expect("info");
    (info.width, info.height)
}

#[test]
fn the_type_comes_from_the_content_not_the_name() {
    assert_eq!(Sniffed::detect(b"%PDF-1.7 ..."), Some(Sniffed::Pdf));
    assert_eq!(
        Sniffed::detect(&[0xFF, 0xD8, 0xFF, 0xE0]),
        Some(Sniffed::Jpeg)
    );
    assert_eq!(
        Sniffed::detect(b"\x89PNG\r\n\x1a\n...."),
        Some(Sniffed::Png)
    );
    for other in [
        b"MZ\x90\x00 an exe".as_slice(),
        b"\x7fELF",
        b"<html><script>",
        b"GIF89a",
        b"",
    ] {
        assert_eq!(Sniffed::detect(other), None);
        assert_eq!(sanitize(other), Err(Refused::NotADocument));
    }
}

#[test]
fn a_png_followed_by_html_comes_out_as_a_plain_png() {
    let mut polyglot = png_image(40, 30);
    polyglot
        .extend_from_slice(b"<html><body><script>alert(document.cookie)</script></body></html>");
    let clean = sanitize(&polyglot).expect("the image is taken");
    assert_eq!(clean.kind, Sniffed::Png);
    assert!(!contains(&clean.bytes, b"<html"), "trailing HTML dropped");
    assert!(!contains(&clean.bytes, b"<script"), "text chunk dropped");
    assert_eq!(png_size(&clean.bytes), (40, 30));
}

#[test]
fn a_png_header_without_an_image_is_refused() {
    let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
    fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
    assert!(matches!(sanitize(&fake), Err(Refused::Unreadable(_))));
    let cut = png_image(40, 30);
    assert!(matches!(
        sanitize(&cut[..cut.len() - 30]),
        Err(Refused::Unreadable(_))
    ));
}

#[test]
fn a_png_too_large_in_pixels_is_refused_before_decoding() {
    // The header alone claims the size: a bomb is refused without inflating anything.
    let wide = png_image(image::PNG_MAX_SIDE + 1, 1);
    assert_eq!(sanitize(&wide), Err(Refused::TooManyPixels));
}

#[test]
fn a_jpeg_followed_by_text_comes_out_without_it() {
    let photo = jpeg_image(64, 48, false);
    let mut polyglot = with_segment(&photo, 0xFE, b"<script>alert(1)</script>");
    polyglot.extend_from_slice(b"\n<html>trailing text</html>\n");
    let clean = sanitize(&polyglot).expect("the photo is taken");
    assert_eq!(clean.kind, Sniffed::Jpeg);
    assert!(!contains(&clean.bytes, b"<html"));
    assert!(!contains(&clean.bytes, b"<script"));
    assert_eq!(jpeg_size(&clean.bytes), (64, 48));
}

#[test]
fn a_large_jpeg_is_scaled_down_to_the_long_side() {
    let photo = jpeg_image(3000, 1000, false);
    let clean = sanitize(&photo).expect("taken");
    assert_eq!(jpeg_size(&clean.bytes), (1500, 500));
}

#[test]
fn jpegs_too_large_even_scaled_are_refused_before_decoding() {
    let small = jpeg_image(16, 16, false);
    assert_eq!(
        sanitize(&claiming(&small, 60_000, 60_000)),
        Err(Refused::TooManyPixels)
    );
    // A progressive JPEG keeps every coefficient of the full image: bounded at full size.
    let progressive = jpeg_image(16, 16, true);
    assert_eq!(
        sanitize(&claiming(&progressive, 4000, 4000)),
        Err(Refused::TooManyPixels)
    );
    assert!(sanitize(&progressive).is_ok());
    // A square image is brought under the pixel bound, not only the long side.
    let square = jpeg_image(4800, 4800, false);
    assert_eq!(
        jpeg_size(&sanitize(&square).expect("taken").bytes),
        (1200, 1200)
    );
}

#[test]
fn a_jpeg_is_turned_upright_as_its_exif_says() {
    let photo = jpeg_image(40, 20, false);
    // EXIF: "Exif\0\0", a little-endian TIFF header, one IFD entry: orientation = 6.
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x01\0".to_vec();
    exif.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    exif.extend_from_slice(&[0, 0, 0, 0]);
    let clean = sanitize(&with_segment(&photo, 0xE1, &exif)).expect("taken");
    assert_eq!(jpeg_size(&clean.bytes), (20, 40));
    assert!(!contains(&clean.bytes, b"Exif"), "metadata dropped");
}

const PDF_HEAD: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R";
const PDF_TAIL: &[u8] = b" >>\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn pdf_with(dict: &[u8]) -> Vec<u8> {
    [PDF_HEAD, dict, PDF_TAIL].concat()
}

#[test]
fn a_plain_pdf_passes_unchanged() {
    let pdf = pdf_with(b" /OpenAction [3 0 R /Fit] /Info (JSON and /JSX are fine)");
    let clean = sanitize(&pdf).expect("plain PDF");
    assert_eq!(clean.kind, Sniffed::Pdf);
    assert_eq!(clean.bytes, pdf);
}

#[test]
fn pdfs_with_active_content_are_refused_however_the_names_are_written() {
    for (dict, name) in [
        (
            b" /OpenAction << /S /JavaScript /JS (app.alert(1)) >>".as_slice(),
            "JavaScript",
        ),
        (b"/OpenAction<</S/JS(x)>>", "JS"),
        (b" /OpenAction << /S /J#61va#53cript >>", "JavaScript"),
        (b" /Names << /Embedded#46iles 5 0 R >>", "EmbeddedFiles"),
        (b" /A << /S /Launch /F (cmd.exe) >>", "Launch"),
        (b" /AA << /O 4 0 R >>", "AA"),
        (b" /AcroForm << /XFA 6 0 R >>", "XFA"),
        (b" /Annots [<< /Subtype /RichMedia >>]", "RichMedia"),
        (
            b" /A << /S /SubmitForm /F (https://evil.example) >>",
            "SubmitForm",
        ),
        (b" /Type /EmbeddedFile", "EmbeddedFile"),
    ] {
        assert_eq!(
            sanitize(&pdf_with(dict)),
            Err(Refused::ActiveContent(name)),
            "{}",
            String::from_utf8_lossy(dict)
        );
    }
    assert_eq!(
        sanitize(&pdf_with(b" /Encrypt 9 0 R")),
        Err(Refused::Encrypted)
    );
}

fn object_stream(filters: &[u8], content: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(content).expect("deflate");
    let data = z.finish().expect("deflate");
    let mut pdf = b"%PDF-1.7\n4 0 obj\n<< /Type /ObjStm /N 1 /First 4 ".to_vec();
    pdf.extend_from_slice(filters);
    pdf.extend_from_slice(format!(" /Length {} >>\nstream\r\n", data.len()).as_bytes());
    pdf.extend_from_slice(&data);
    pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
    pdf
}

#[test]
fn compressed_object_streams_are_read_too() {
    // Enough pages before it that the compressor codes the names, not stores them.
    let mut hidden = b"<< /Type /Page /Parent 2 0 R >>\n".repeat(200);
    hidden.extend_from_slice(b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>");
    let pdf = object_stream(b"/Filter /FlateDecode", &hidden);
    assert!(!contains(&pdf, b"JavaScript"), "hidden from a raw scan");
    assert_eq!(sanitize(&pdf), Err(Refused::ActiveContent("JavaScript")));
    let harmless = object_stream(b"/Filter /FlateDecode", b"5 0 << /Type /Page >>");
    assert!(sanitize(&harmless).is_ok());
    // Read one byte at a time: names, escapes and the inflater cross every boundary.
    let mut out = Vec::new();
    let one_by_one = std::io::BufReader::with_capacity(1, std::io::Cursor::new(&pdf));
    assert!(matches!(
        sanitize_stream(one_by_one, &mut out),
        Err(Error::Refused(Refused::ActiveContent("JavaScript")))
    ));
    let escaped = pdf_with(b" /OpenAction << /S /J#61vaScript >>");
    let one_by_one = std::io::BufReader::with_capacity(1, std::io::Cursor::new(&escaped));
    assert!(matches!(
        sanitize_stream(one_by_one, &mut Vec::new()),
        Err(Error::Refused(Refused::ActiveContent("JavaScript")))
    ));
}

#[test]
fn object_streams_we_cannot_read_are_refused() {
    let other = object_stream(b"/Filter [/ASCII85Decode /FlateDecode]", b"5 0 << >>");
    assert!(matches!(sanitize(&other), Err(Refused::Unreadable(_))));
    let mut corrupt = object_stream(b"/Filter /FlateDecode", b"5 0 << /Type /Page >>");
    let at = corrupt
        .windows(6)
        .position(|w| w == b"stream")
        .expect("stream")
        + 10;
    corrupt[at..at + 4].copy_from_slice(b"\xff\xff\xff\xff");
    assert!(matches!(sanitize(&corrupt), Err(Refused::Unreadable(_))));
    // A compression bomb stops at the bound, not at the end of memory.
    let bomb = object_stream(b"/Filter /FlateDecode", &vec![b' '; 70 * 1024 * 1024]);
    assert!(bomb.len() < 200 * 1024);
    assert!(matches!(sanitize(&bomb), Err(Refused::Unreadable(_))));
}

#[test]
fn plain_text_is_checked_in_pieces() {
    assert!(is_plain_text(&b"name,email\r\nA,a@example.org\n\tok"[..]).expect("read"));
    // A character cut by the 64 KiB piece boundary.
    let mut long = vec![b'a'; 64 * 1024 - 1];
    long.extend_from_slice("é, ü".as_bytes());
    assert!(is_plain_text(&long[..]).expect("read"));
    assert!(!is_plain_text(&b"nul\0byte"[..]).expect("read"));
    assert!(!is_plain_text(&b"\xff\xfe"[..]).expect("read"));
    assert!(!is_plain_text(&"cut é".as_bytes()[..5]).expect("read"));
}
