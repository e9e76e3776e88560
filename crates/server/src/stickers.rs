//! Sticker packs: the built-in `goose` pack (drawn by the project, embedded in the binary)
//! and operator packs from `--stickers-dir` (`DIR/<pack>/pack.json` + `<id>.png`), all read
//! once at start and served from memory.

use std::{
    io,
    path::{Path, PathBuf},
};

use bytes::Bytes;
use serde::Deserialize;

/// Id of the built-in pack.
pub const BUILTIN_PACK: &str = "goose";
/// Largest sticker PNG accepted from an operator pack.
pub const MAX_STICKER_BYTES: usize = 1024 * 1024;
/// Most stickers in one pack.
pub const MAX_STICKERS_PER_PACK: usize = 500;

const GOOSE_JSON: &str = include_str!("../assets/stickers/goose/pack.json");

macro_rules! goose {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_bytes!(concat!("../assets/stickers/goose/", $id, ".png")))),*]
    };
}

/// The built-in pack's PNGs (rendered from the SVGs beside them by
/// `scripts/render-stickers.sh`), in pack.json order.
const GOOSE_PNGS: &[(&str, &[u8])] = goose!(
    "hello",
    "thanks",
    "laugh",
    "love",
    "ok",
    "thumbs_up",
    "surprised",
    "sleepy",
    "cry",
    "angry",
    "party",
    "coffee",
    "jiayou",
    "bye",
);

/// Why the sticker packs could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum StickerError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("sticker pack {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// One sticker.
#[derive(Debug, Clone)]
pub struct Sticker {
    pub id: String,
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub png: Bytes,
    /// Quoted SHA-256 of the PNG, for `ETag`.
    pub etag: String,
}

/// One pack.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    pub name: String,
    pub stickers: Vec<Sticker>,
}

/// Every pack this server serves.
#[derive(Debug, Clone)]
pub struct StickerPacks {
    packs: Vec<Pack>,
}

/// `pack.json`.
#[derive(Debug, Deserialize)]
struct PackFile {
    name: String,
    stickers: Vec<PackEntry>,
}

#[derive(Debug, Deserialize)]
struct PackEntry {
    id: String,
    name: String,
}

/// Pack and sticker ids: 1–64 of `a-z 0-9 _ -`, starting with a letter or digit (so an id
/// is always a plain file name).
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Width and height from a PNG's IHDR; `None` when `bytes` is not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

impl StickerPacks {
    /// The built-in pack, then the packs in `dir` (by folder name). Blocking.
    pub fn load(dir: Option<&Path>) -> Result<Self, StickerError> {
        let mut packs = vec![builtin()?];
        if let Some(dir) = dir {
            packs.extend(load_dir(dir)?);
        }
        Ok(Self { packs })
    }

    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    /// The sticker `id` of `pack`, if served.
    pub fn find(&self, pack: &str, id: &str) -> Option<&Sticker> {
        self.packs
            .iter()
            .find(|p| p.id == pack)?
            .stickers
            .iter()
            .find(|s| s.id == id)
    }
}

fn builtin() -> Result<Pack, StickerError> {
    let path = Path::new("<built-in>/goose/pack.json");
    build_pack(BUILTIN_PACK, path, GOOSE_JSON, |id| {
        GOOSE_PNGS
            .iter()
            .find(|(name, _)| *name == id)
            .map(|(_, png)| Bytes::from_static(png))
            .ok_or_else(|| format!("no PNG for sticker {id:?}"))
    })
}

fn load_dir(dir: &Path) -> Result<Vec<Pack>, StickerError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StickerError::Io { path, source }
    };
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        if entry.file_type().map_err(io_err(&entry.path()))?.is_dir() {
            folders.push(entry.path());
        }
    }
    folders.sort();
    let mut packs = Vec::new();
    for folder in folders {
        let invalid = |reason: String| StickerError::Invalid {
            path: folder.clone(),
            reason,
        };
        let id = folder
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| valid_id(n))
            .ok_or_else(|| invalid("the folder name is not a valid pack id (a-z 0-9 _ -)".into()))?
            .to_owned();
        if id == BUILTIN_PACK {
            return Err(invalid(format!(
                "{BUILTIN_PACK:?} is the built-in pack's id"
            )));
        }
        let json_path = folder.join("pack.json");
        let json = std::fs::read_to_string(&json_path).map_err(io_err(&json_path))?;
        let pack = build_pack(&id, &json_path, &json, |sticker| {
            let png = folder.join(format!("{sticker}.png"));
            let meta = std::fs::metadata(&png).map_err(|e| format!("{}: {e}", png.display()))?;
            if meta.len() > MAX_STICKER_BYTES as u64 {
                return Err(format!(
                    "{} is larger than {MAX_STICKER_BYTES} bytes",
                    png.display()
                ));
            }
            std::fs::read(&png)
                .map(Bytes::from)
                .map_err(|e| format!("{}: {e}", png.display()))
        })?;
        packs.push(pack);
    }
    Ok(packs)
}

/// A pack from its `pack.json` text and a way to get each sticker's PNG.
fn build_pack(
    id: &str,
    json_path: &Path,
    json: &str,
    mut png_of: impl FnMut(&str) -> Result<Bytes, String>,
) -> Result<Pack, StickerError> {
    let invalid = |reason: String| StickerError::Invalid {
        path: json_path.to_path_buf(),
        reason,
    };
    let file: PackFile = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    if file.stickers.is_empty() || file.stickers.len() > MAX_STICKERS_PER_PACK {
        return Err(invalid(format!(
            "a pack holds 1 to {MAX_STICKERS_PER_PACK} stickers"
        )));
    }
    let mut stickers: Vec<Sticker> = Vec::with_capacity(file.stickers.len());
    for entry in file.stickers {
        if !valid_id(&entry.id) {
            return Err(invalid(format!(
                "{:?} is not a valid sticker id (a-z 0-9 _ -)",
                entry.id
            )));
        }
        if stickers.iter().any(|s| s.id == entry.id) {
            return Err(invalid(format!("sticker {:?} is listed twice", entry.id)));
        }
        let png = png_of(&entry.id).map_err(invalid)?;
        let (width, height) =
            png_size(&png).ok_or_else(|| invalid(format!("{}.png is not a PNG", entry.id)))?;
        let etag = format!("\"{}\"", crate::media::Sha256Hex::of(&png));
        stickers.push(Sticker {
            id: entry.id,
            name: entry.name,
            width,
            height,
            png,
            etag,
        });
    }
    Ok(Pack {
        id: id.to_owned(),
        name: file.name,
        stickers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_names() {
        for ok in ["goose", "a", "thumbs_up", "pack-2", &"x".repeat(64)] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            "../etc",
            "a/b",
            "a\\b",
            "A",
            "-x",
            "_x",
            ".png",
            "a.png",
            "名字",
            &"x".repeat(65),
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_builtin_pack_has_every_sticker_at_160px() {
        let packs = StickerPacks::load(None).expect("built-in pack");
        let goose = &packs.packs()[0];
        assert_eq!(goose.id, BUILTIN_PACK);
        assert_eq!(goose.stickers.len(), GOOSE_PNGS.len());
        for (sticker, (id, _)) in goose.stickers.iter().zip(GOOSE_PNGS) {
            assert_eq!(sticker.id, *id, "pack.json and the PNG list agree in order");
            assert_eq!((sticker.width, sticker.height), (160, 160), "{id}");
            assert!(!sticker.name.is_empty());
            assert!(
                sticker.png.len() < 40_000,
                "{id}: {} bytes",
                sticker.png.len()
            );
        }
        assert!(packs.find("goose", "hello").is_some());
        assert!(packs.find("goose", "nope").is_none());
        assert!(packs.find("nope", "hello").is_none());
    }

    /// (file name, bytes)
    type Files<'a> = &'a [(&'a str, &'a [u8])];

    fn write_pack(root: &Path, id: &str, json: &str, pngs: Files<'_>) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("pack.json"), json).expect("json");
        for (name, bytes) in pngs {
            std::fs::write(dir.join(format!("{name}.png")), bytes).expect("png");
        }
    }

    #[test]
    fn operator_packs_load_and_bad_ones_are_refused_clearly() {
        let hello = GOOSE_PNGS[0].1;
        let tmp = tempfile::tempdir().expect("tmp");
        write_pack(
            tmp.path(),
            "cats",
            r#"{"name":"Cats","stickers":[{"id":"meow","name":"Meow"}]}"#,
            &[("meow", hello)],
        );
        std::fs::write(tmp.path().join("README.txt"), "not a pack").expect("file");
        let packs = StickerPacks::load(Some(tmp.path())).expect("load");
        let ids: Vec<_> = packs.packs().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["goose", "cats"]);
        assert_eq!(packs.find("cats", "meow").map(|s| s.width), Some(160));

        // (pack folder, pack.json, PNGs, what the error says)
        let cases: &[(&str, &str, Files<'_>, &str)] = &[
            (
                "Bad",
                r#"{"name":"x","stickers":[{"id":"a","name":"a"}]}"#,
                &[("a", hello)],
                "folder name",
            ),
            (
                "dogs",
                r#"{"name":"x","stickers":[{"id":"../a","name":"a"}]}"#,
                &[],
                "not a valid sticker id",
            ),
            (
                "dogs",
                r#"{"name":"x","stickers":[{"id":"a","name":"a"}]}"#,
                &[],
                "a.png",
            ),
            (
                "dogs",
                r#"{"name":"x","stickers":[{"id":"a","name":"a"}]}"#,
                &[("a", b"GIF89a not png")],
                "not a PNG",
            ),
            ("dogs", r#"{"name":"x","stickers":[]}"#, &[], "1 to"),
            ("dogs", r#"{"stickers":[]}"#, &[], "name"),
            (
                "goose",
                r#"{"name":"x","stickers":[{"id":"a","name":"a"}]}"#,
                &[("a", hello)],
                "built-in",
            ),
        ];
        for (id, json, pngs, expect) in cases {
            let tmp = tempfile::tempdir().expect("tmp");
            write_pack(tmp.path(), id, json, pngs);
            let err = StickerPacks::load(Some(tmp.path()))
                .expect_err(id)
                .to_string();
            assert!(err.contains(expect), "{id} {json}: {err}");
        }
        assert!(matches!(
            StickerPacks::load(Some(&tmp.path().join("missing"))),
            Err(StickerError::Io { .. })
        ));
    }

    #[test]
    fn png_size_reads_ihdr() {
        assert_eq!(png_size(GOOSE_PNGS[0].1), Some((160, 160)));
        assert_eq!(png_size(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(png_size(&[0u8; 40]), None);
    }
}
