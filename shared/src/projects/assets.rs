//! Product images: what may be uploaded (sniffed from the bytes, never trusted from the
//! client's content type or name), under which R2 key, and how it is served.

pub const MAX_ASSET_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_FILENAME_LEN: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl ImageKind {
    /// Detects the image type from its magic bytes. SVG is deliberately not accepted: it is
    /// a document that can carry script.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpg",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }
}

/// A safe file name: ASCII letters, digits, '-', '_' and one extension that matches the
/// sniffed type. Path separators, dots, spaces and anything else become '-'.
pub fn sanitize_filename(raw: &str, kind: ImageKind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let mut clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while clean.contains("--") {
        clean = clean.replace("--", "-");
    }
    let clean = clean.trim_matches('-');
    let stem = if clean.is_empty() { "image" } else { clean };
    let max_stem = MAX_FILENAME_LEN - kind.extension().len() - 1;
    format!("{}.{}", &stem[..stem.len().min(max_stem)], kind.extension())
}

/// `{platformId}/{timestamp}-{filename}`, the spec's R2 layout, with 32 random bits after the
/// timestamp: a Worker's clock only moves between I/O, so two uploads of one name at once would
/// otherwise get one key (and the second a 500 from the key's UNIQUE constraint).
pub fn object_key(platform_id: &str, unix_millis: u64, filename: &str) -> String {
    format!(
        "{platform_id}/{unix_millis}-{}-{filename}",
        dream_core::keys::random_hex(4)
    )
}

/// Validates the path of `GET /api/assets/{platformId}/{file}` before it touches R2.
pub fn parse_asset_path(platform_id: &str, file: &str) -> Option<String> {
    let platform_ok = platform_id.starts_with("plt_")
        && platform_id.len() <= 64
        && platform_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let file_ok = !file.is_empty()
        && file.len() <= MAX_FILENAME_LEN + 30
        && !file.starts_with('.')
        && file
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    (platform_ok && file_ok).then(|| format!("{platform_id}/{file}"))
}

/// The content type to serve for a stored key, from its extension (we wrote it).
pub fn content_type_for(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_only_raster_images() {
        assert_eq!(ImageKind::sniff(b"\x89PNG\r\n\x1a\n....."), Some(ImageKind::Png));
        assert_eq!(ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(ImageKind::Jpeg));
        assert_eq!(ImageKind::sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(ImageKind::sniff(b"GIF89a...."), Some(ImageKind::Gif));
        for bad in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'>"[..],
            b"<?xml version",
            b"%PDF-1.7",
            b"",
            b"RIFF....AVI ",
        ] {
            assert_eq!(ImageKind::sniff(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn filenames_are_made_safe() {
        assert_eq!(sanitize_filename("Mug Photo.PNG", ImageKind::Png), "mug-photo.png");
        assert_eq!(sanitize_filename("../../etc/passwd", ImageKind::Png), "passwd.png");
        assert_eq!(sanitize_filename("C:\\x\\evil.svg", ImageKind::Gif), "evil.gif");
        assert_eq!(sanitize_filename("shirt.jpeg.exe", ImageKind::Jpeg), "shirt-jpeg.jpg");
        assert_eq!(sanitize_filename("...", ImageKind::Webp), "image.webp");
        assert_eq!(sanitize_filename("ünïcode✓", ImageKind::Png), "n-code.png");
        assert!(sanitize_filename(&"a".repeat(500), ImageKind::Png).len() <= MAX_FILENAME_LEN);
    }

    #[test]
    fn asset_paths_cannot_escape_the_platform() {
        assert_eq!(
            parse_asset_path("plt_abc", "1700000000000-mug.png").as_deref(),
            Some("plt_abc/1700000000000-mug.png")
        );
        for (platform, file) in [
            ("plt_abc", "../plt_x/a.png"),
            ("plt_abc", ".hidden"),
            ("abc", "a.png"),
            ("plt_a/b", "a.png"),
            ("plt_abc", "a b.png"),
            ("plt_abc", ""),
        ] {
            assert_eq!(parse_asset_path(platform, file), None, "{platform}/{file}");
        }
    }

    #[test]
    fn object_keys_of_one_name_at_one_instant_differ_and_can_be_served() {
        let longest = sanitize_filename(&"a".repeat(500), ImageKind::Png);
        let first = object_key("plt_abc", 1_700_000_000_000, &longest);
        let second = object_key("plt_abc", 1_700_000_000_000, &longest);
        assert_ne!(first, second);
        let file = first.strip_prefix("plt_abc/").unwrap();
        assert_eq!(parse_asset_path("plt_abc", file), Some(first.clone()));
    }

    #[test]
    fn serves_the_type_it_stored() {
        assert_eq!(content_type_for("plt_a/1-x.jpg"), "image/jpeg");
        assert_eq!(content_type_for("plt_a/1-x"), "application/octet-stream");
    }
}
