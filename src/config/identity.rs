//! The organisation's identity, as requesters and staff see it: its name, its accent colour
//! and its logo, on the portal, the dashboard and in every mail. Both are checked when the
//! configuration loads: an accent that white text cannot be read on, or a logo that is not
//! an SVG or PNG file, stops the start with the reason.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

/// The accent of a fresh install: white text on it reads at 7.9:1.
pub const DEFAULT_ACCENT: &str = "#0b5394";
/// WCAG 2.x, 1.4.3: normal text needs 4.5:1 against its background.
const MIN_CONTRAST: f64 = 4.5;
/// A logo is shown in a header 40 px tall: a larger file is a mistake, not a logo.
const MAX_LOGO_BYTES: usize = 512 * 1024;

/// A `#rrggbb` colour on which white text, and as which text on white, reads at 4.5:1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent([u8; 3]);

impl Accent {
    pub fn parse(text: &str) -> anyhow::Result<Accent> {
        let text = text.trim();
        let hex = text.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "organisation.accent: \"{text}\" is not a colour written #rrggbb (e.g. {DEFAULT_ACCENT})"
            );
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        let accent = Accent([byte(0), byte(2), byte(4)]);
        let ratio = accent.contrast_with_white();
        if ratio < MIN_CONTRAST {
            bail!(
                "organisation.accent: white text on {} has a contrast of {ratio:.1}:1, under the 4.5:1 that WCAG asks for (buttons and links would be hard to read); choose a darker colour",
                accent.hex()
            );
        }
        Ok(accent)
    }

    /// `#rrggbb`, lower case: safe to write into a stylesheet or a mail's inline style.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// WCAG's contrast ratio between white and this colour.
    pub fn contrast_with_white(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0;
        let luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
        1.05 / (luminance + 0.05)
    }
}

impl Default for Accent {
    fn default() -> Self {
        Accent([0x0b, 0x53, 0x94])
    }
}

/// The logo's bytes, read once at start, and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Arc<[u8]>,
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
}

impl Logo {
    /// Reads the file at `path` and tells SVG from PNG by the content, not the name.
    pub fn load(path: &Path) -> anyhow::Result<Logo> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("organisation.logo: cannot read {}", path.display()))?;
        if bytes.len() > MAX_LOGO_BYTES {
            bail!(
                "organisation.logo: {} is {} KiB; a logo must be at most {} KiB",
                path.display(),
                bytes.len() / 1024,
                MAX_LOGO_BYTES / 1024
            );
        }
        let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if is_svg(&bytes) {
            "image/svg+xml"
        } else {
            bail!(
                "organisation.logo: {} is neither an SVG nor a PNG image",
                path.display()
            );
        };
        Ok(Logo {
            bytes: bytes.into(),
            content_type,
        })
    }

    /// The file name a mail gives the logo it carries inline.
    pub fn file_name(&self) -> &'static str {
        match self.content_type {
            "image/png" => "logo.png",
            _ => "logo.svg",
        }
    }
}

/// Text that opens (after an XML declaration, comments or a doctype) with an `<svg` element.
fn is_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let head: String = text.chars().take(4096).collect();
    head.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
        && head.contains("<svg")
}

/// The organisation as every page and mail shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Brand {
    pub accent: Accent,
    pub logo: Option<Logo>,
}

impl Brand {
    /// From `organisation.accent` (empty: the default) and `organisation.logo` (empty: none).
    pub fn load(accent: &str, logo: &str) -> anyhow::Result<Brand> {
        let accent = if accent.trim().is_empty() {
            Accent::default()
        } else {
            Accent::parse(accent)?
        };
        let logo = match logo.trim() {
            "" => None,
            path => Some(Logo::load(Path::new(path))?),
        };
        Ok(Brand { accent, logo })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_hex_colours_white_text_can_be_read_on() {
        assert_eq!(
            Accent::parse("#0B5394").map(Accent::hex).ok().as_deref(),
            Some("#0b5394")
        );
        assert!(Accent::parse("#1d4ed8").is_ok());
        for bad in ["0b5394", "#0b539", "#0b53944", "blue", "#gg0000", ""] {
            let err = Accent::parse(bad).unwrap_err().to_string();
            assert!(err.contains("#rrggbb"), "{bad}: {err}");
        }
        let err = Accent::parse("#ffdd00").unwrap_err().to_string();
        assert!(err.contains("4.5:1") && err.contains("#ffdd00"), "{err}");
        // #767676 is the lightest grey that passes on white.
        assert!(Accent::parse("#767676").is_ok());
        assert!(Accent::parse("#777777").is_err());
        assert!(Accent::default().contrast_with_white() > 7.0);
    }

    #[test]
    fn logos_are_told_by_their_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svg = dir.path().join("logo.png");
        std::fs::write(
            &svg,
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        )
        .expect("write");
        assert_eq!(Logo::load(&svg).expect("svg").content_type, "image/svg+xml");
        let png = dir.path().join("logo");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\nrest").expect("write");
        assert_eq!(Logo::load(&png).expect("png").content_type, "image/png");
        let text = dir.path().join("logo.svg");
        std::fs::write(&text, "just words").expect("write");
        let err = Logo::load(&text).unwrap_err().to_string();
        assert!(err.contains("neither an SVG nor a PNG"), "{err}");
        let err = format!(
            "{:#}",
            Logo::load(&dir.path().join("missing.svg")).unwrap_err()
        );
        assert!(
            err.contains("organisation.logo") && err.contains("missing.svg"),
            "{err}"
        );
    }
}
