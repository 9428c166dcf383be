//! Cover images: which files are accepted, and how a title names its cover.
//!
//! A cover is stored once, as an immutable blob with its own id; a title
//! points at it with `cover_ref = "cover:<uuid>"`. Changing a title's cover
//! writes a new blob and changes the title row (which replicates like any
//! title edit); a blob never changes, so replicas can fetch it by id.

use crate::{Error, Result};
use uuid::Uuid;

/// Larger files are refused: a cover is shown at most a few hundred pixels
/// high, and every byte is in the store, its backups and every replica.
pub const MAX_COVER_BYTES: usize = 2 * 1024 * 1024;

/// The image formats every webview shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageKind {
    pub fn mime(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
            ImageKind::Gif => "image/gif",
        }
    }

    pub fn from_mime(mime: &str) -> Option<ImageKind> {
        [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp, ImageKind::Gif].into_iter().find(|k| k.mime() == mime)
    }
}

/// Decides what an image file is from its first bytes, never from its name
/// or a server's say-so, and refuses anything else.
pub fn sniff(bytes: &[u8]) -> Result<ImageKind> {
    let invalid = |reason: String| Error::InvalidCover(reason);
    if bytes.is_empty() {
        return Err(invalid("the file is empty".into()));
    }
    if bytes.len() > MAX_COVER_BYTES {
        return Err(invalid(format!("the image is {} KiB; covers may be at most {} KiB", bytes.len() / 1024, MAX_COVER_BYTES / 1024)));
    }
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ImageKind::Jpeg
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        ImageKind::Png
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        ImageKind::Webp
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        ImageKind::Gif
    } else {
        return Err(invalid("not a JPEG, PNG, WebP or GIF image".into()));
    };
    // A header alone is not an image: real covers are hundreds of bytes at least.
    if bytes.len() < 32 {
        return Err(invalid("the image is truncated".into()));
    }
    Ok(kind)
}

/// The `cover_ref` of a stored cover blob.
pub fn cover_ref(id: Uuid) -> String {
    format!("cover:{id}")
}

/// The blob id in a `cover_ref`, if it names a stored cover (a ref may also
/// be something an import brought, such as a URL not fetched yet).
pub fn parse_cover_ref(cover_ref: &str) -> Option<Uuid> {
    cover_ref.strip_prefix("cover:").and_then(|id| Uuid::parse_str(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn padded(head: &[u8]) -> Vec<u8> {
        let mut v = head.to_vec();
        v.resize(200, 0);
        v
    }

    #[test]
    fn knows_the_four_formats_by_their_bytes() {
        assert_eq!(sniff(&padded(&[0xFF, 0xD8, 0xFF, 0xE0])).unwrap(), ImageKind::Jpeg);
        assert_eq!(sniff(&padded(b"\x89PNG\r\n\x1a\n")).unwrap(), ImageKind::Png);
        assert_eq!(sniff(&padded(b"RIFF\0\0\0\0WEBPVP8 ")).unwrap(), ImageKind::Webp);
        assert_eq!(sniff(&padded(b"GIF89a")).unwrap(), ImageKind::Gif);
        for k in [ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp, ImageKind::Gif] {
            assert_eq!(ImageKind::from_mime(k.mime()), Some(k));
        }
    }

    #[test]
    fn refuses_other_files_with_a_reason() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "empty"),
            (b"<html><body>Not found</body></html> padding padding padding", "not a JPEG"),
            (b"%PDF-1.7 padding padding padding padding padding", "not a JPEG"),
            (&[0xFF, 0xD8, 0xFF], "truncated"),
        ];
        for (bytes, reason) in cases {
            let e = sniff(bytes).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidCover);
            assert!(e.to_string().contains(reason), "{e}");
        }
        let huge = padded(&[0xFF, 0xD8, 0xFF]).into_iter().chain(std::iter::repeat_n(0, MAX_COVER_BYTES)).collect::<Vec<_>>();
        assert!(sniff(&huge).unwrap_err().to_string().contains("at most 2048 KiB"));
    }

    #[test]
    fn refs_round_trip_and_other_refs_are_not_blobs() {
        let id = Uuid::now_v7();
        assert_eq!(parse_cover_ref(&cover_ref(id)), Some(id));
        assert_eq!(parse_cover_ref("https://covers.example/1.jpg"), None);
        assert_eq!(parse_cover_ref("cover:not-a-uuid"), None);
    }
}
