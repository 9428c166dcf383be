//! Cover downloads: only http(s), only images (by header and by bytes), at
//! most the domain's cover size, placeholders treated as no cover.

use shelfkeeper_domain::cover::{ImageKind, MAX_COVER_BYTES, sniff};

/// Smaller images are placeholders, not covers (Open Library's "no cover"
/// GIF is 43 bytes).
pub const MIN_COVER_BYTES: usize = 1024;

/// Open Library sends a placeholder for a missing cover unless asked not
/// to; with `default=false` it answers 404 instead.
pub(crate) fn prepare_url(url: &str) -> Result<reqwest::Url, String> {
    let mut parsed = reqwest::Url::parse(url.trim()).map_err(|_| url.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(url.to_string());
    }
    if parsed.host_str() == Some("covers.openlibrary.org") && !parsed.query_pairs().any(|(k, _)| k == "default") {
        parsed.query_pairs_mut().append_pair("default", "false");
    }
    Ok(parsed)
}

pub(crate) fn check_content_type(ct: Option<&str>) -> Result<(), String> {
    match ct {
        Some(ct) if ct.trim().to_ascii_lowercase().starts_with("image/") => Ok(()),
        Some(ct) => Err(format!("the server says it is {ct}")),
        None => Err("the server does not say what it is".into()),
    }
}

/// What the downloaded bytes are: a cover, a placeholder, or not an image.
pub(crate) enum Verdict {
    Cover,
    Placeholder,
    NotAnImage(String),
}

pub(crate) fn judge(bytes: &[u8]) -> Verdict {
    let kind = match sniff(bytes) {
        Ok(kind) => kind,
        Err(e) => return Verdict::NotAnImage(e.to_string()),
    };
    if bytes.len() < MIN_COVER_BYTES || dimensions(kind, bytes).is_some_and(|(w, h)| w <= 1 || h <= 1) {
        Verdict::Placeholder
    } else {
        Verdict::Cover
    }
}

/// Width and height from the image header, where it is easy to find.
pub(crate) fn dimensions(kind: ImageKind, b: &[u8]) -> Option<(u32, u32)> {
    let be16 = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let le16 = |i: usize| Some(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?]) as u32);
    let be32 = |i: usize| Some(u32::from_be_bytes([*b.get(i)?, *b.get(i + 1)?, *b.get(i + 2)?, *b.get(i + 3)?]));
    match kind {
        ImageKind::Gif => Some((le16(6)?, le16(8)?)),
        ImageKind::Png => (b.get(12..16)? == b"IHDR").then_some((be32(16)?, be32(20)?)),
        ImageKind::Jpeg => {
            // Walk the markers to the first start-of-frame.
            let mut i = 2;
            while i + 9 < b.len() {
                if b[i] != 0xFF {
                    return None;
                }
                let marker = b[i + 1];
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                let len = be16(i + 2)? as usize;
                if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                i += 2 + len;
            }
            None
        }
        ImageKind::Webp => match b.get(12..16)? {
            b"VP8X" => {
                let w = u32::from_le_bytes([*b.get(24)?, *b.get(25)?, *b.get(26)?, 0]) + 1;
                let h = u32::from_le_bytes([*b.get(27)?, *b.get(28)?, *b.get(29)?, 0]) + 1;
                Some((w, h))
            }
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            b"VP8L" => {
                let bits = u32::from_le_bytes([*b.get(21)?, *b.get(22)?, *b.get(23)?, *b.get(24)?]);
                Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
            }
            _ => None,
        },
    }
}

pub(crate) const MAX_BYTES: usize = MAX_COVER_BYTES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dimensions_of_each_format() {
        let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
        assert_eq!(gif.len(), 43);
        assert_eq!(dimensions(ImageKind::Gif, gif), Some((1, 1)));
        assert!(matches!(judge(gif), Verdict::Placeholder));
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\x01\x2c\0\0\x01\xc2\x08\x02\0\0\0".to_vec();
        assert_eq!(dimensions(ImageKind::Png, &png), Some((300, 450)));
        png.resize(4000, 0);
        assert!(matches!(judge(&png), Verdict::Cover));
        // SOI, APP0 (16 bytes), SOF0 with height 450 and width 300.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xC2, 0x01, 0x2C, 0x03]);
        jpeg.resize(2000, 0);
        assert_eq!(dimensions(ImageKind::Jpeg, &jpeg), Some((300, 450)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0x2B, 0x01, 0x00, 0xC1, 0x01, 0x00]);
        assert_eq!(dimensions(ImageKind::Webp, &webp), Some((300, 450)));
        assert!(matches!(judge(b"<html><body>Not found</body></html> and more"), Verdict::NotAnImage(_)));
    }

    #[test]
    fn only_http_urls_and_open_library_gets_no_placeholder() {
        assert!(prepare_url("file:///etc/passwd").is_err());
        assert!(prepare_url("javascript:alert(1)").is_err());
        assert!(prepare_url("not a url").is_err());
        assert_eq!(
            prepare_url("https://covers.openlibrary.org/b/id/123-L.jpg").unwrap().as_str(),
            "https://covers.openlibrary.org/b/id/123-L.jpg?default=false"
        );
        assert_eq!(prepare_url("http://127.0.0.1:9/c.png").unwrap().as_str(), "http://127.0.0.1:9/c.png");
    }
}
