//! A QR code as inline SVG: the modules as one path, drawn on the server, so the set-up of a
//! second factor needs no script and no image request.

use qrcode::{Color, EcLevel, QrCode};

/// A QR code's drawing: the side of its square (modules, quiet zone included) and the path of
/// its dark modules, for `templates/admin/account.html`.
pub struct QrSvg {
    pub size: usize,
    pub path: String,
}

/// Quiet zone around the code, in modules (the standard asks for four).
const QUIET: usize = 4;

/// Draws `text` (an `otpauth://` address) as a QR code; `None` if it is too long to encode.
pub fn draw(text: &str) -> Option<QrSvg> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % width + QUIET, i / width + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Some(QrSvg {
        size: width + 2 * QUIET,
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_otpauth_address_draws_a_square_of_modules() {
        let qr = draw("otpauth://totp/Exemple%20SAS:dana@example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Exemple%20SAS").expect("drawn");
        assert!(qr.size >= 21 + 8);
        assert!(qr.path.starts_with("M4 4h1v1h-1z"), "the finder's corner");
        assert!(qr.path.len() > 1000);
    }
}
