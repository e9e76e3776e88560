//! What an upload is, judged from its first bytes (never from a name or a header).

/// Bytes [`sniff`] needs to recognise every accepted type (WebP's tag sits at 8..12).
pub const SNIFF_LEN: usize = 16;

/// The image types the server stores: JPEG, PNG, GIF, WebP.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    use infer::image;
    if image::is_jpeg(head) {
        Some("image/jpeg")
    } else if image::is_png(head) && head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if image::is_gif(head) && (head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a")) {
        Some("image/gif")
    } else if image::is_webp(head) && head.starts_with(b"RIFF") {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_image_types_and_nothing_else() {
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        for other in [
            &b""[..],
            b"hello, this is text",
            b"%PDF-1.7\n",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"\x89PNX\r\n\x1a\n",
            b"GIF",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"\0\0\0\x18ftypheic",
        ] {
            assert_eq!(sniff(other), None, "{other:?}");
        }
    }
}
