//! Sticker packs and their images, cached under `<account dir>/stickers/`: the pack list
//! (`packs.json`, the last answer of `GET /api/v1/stickers`, used when the server cannot be
//! reached) and one PNG per sticker (`<pack>/<id>.png`, fetched on first use; stickers never
//! change under the same name).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::http::{sticker_name_arg, Http};
use crate::media::cache::write_atomic;
use crate::model::{Sticker, StickerPack};

/// The sticker cache directory's name inside the account dir.
pub const DIR_NAME: &str = "stickers";

const PACKS_FILE: &str = "packs.json";

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// One account's sticker cache.
#[derive(Debug)]
pub struct StickerCache {
    root: PathBuf,
    /// The last pack list seen (from the server or `packs.json`).
    packs: Mutex<Option<Vec<StickerPack>>>,
}

impl StickerCache {
    pub fn new(account_dir: &Path) -> Self {
        Self {
            root: account_dir.join(DIR_NAME),
            packs: Mutex::new(None),
        }
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn remembered(&self) -> Option<Vec<StickerPack>> {
        self.packs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn remember(&self, packs: &[StickerPack]) {
        *self.packs.lock().unwrap_or_else(|p| p.into_inner()) = Some(packs.to_vec());
    }

    /// The server's packs, remembered in memory and in `packs.json`; when the server cannot
    /// be reached, the last list seen.
    pub async fn packs(&self, http: &Http) -> Result<Vec<StickerPack>> {
        match http.sticker_packs().await {
            Ok(packs) => {
                self.remember(&packs);
                let json = serde_json::to_vec(&packs)
                    .map_err(|e| Error::Protocol(format!("sticker packs: {e}")))?;
                let (tmp, path) = (self.tmp_dir(), self.root.join(PACKS_FILE));
                tokio::task::spawn_blocking(move || write_atomic(&tmp, &path, &json)).await??;
                Ok(packs)
            }
            Err(e) if e.is_transient() => match self.cached_packs().await? {
                Some(packs) => Ok(packs),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The remembered list, else the one in `packs.json`.
    async fn cached_packs(&self) -> Result<Option<Vec<StickerPack>>> {
        if let Some(packs) = self.remembered() {
            return Ok(Some(packs));
        }
        let bytes = match tokio::fs::read(self.root.join(PACKS_FILE)).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let packs: Vec<StickerPack> = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Protocol(format!("cached sticker packs: {e}")))?;
        self.remember(&packs);
        Ok(Some(packs))
    }

    /// Sticker `id` of `pack` (from the remembered list; asks the server when it is not
    /// there). An unknown one is `Error::InvalidRequest`.
    pub async fn find(&self, http: &Http, pack: &str, id: &str) -> Result<Sticker> {
        if let Some(s) = self.remembered().and_then(|p| lookup(&p, pack, id)) {
            return Ok(s);
        }
        let packs = self.packs(http).await?;
        lookup(&packs, pack, id)
            .ok_or_else(|| Error::InvalidRequest(format!("no sticker {pack}/{id} on this server")))
    }

    /// The cached PNG of sticker `id` of `pack`, downloaded first when missing.
    pub async fn path(&self, http: &Http, pack: &str, id: &str) -> Result<PathBuf> {
        let path = self
            .root
            .join(sticker_name_arg(pack)?)
            .join(format!("{}.png", sticker_name_arg(id)?));
        if tokio::fs::try_exists(&path).await? {
            return Ok(path);
        }
        let bytes = match http.sticker_image(pack, id).await {
            Err(Error::Server { status: 404, .. }) => {
                return Err(Error::MediaUnavailable(format!("sticker {pack}/{id}")))
            }
            other => other?,
        };
        if !bytes.starts_with(PNG_MAGIC) {
            return Err(Error::Protocol(format!(
                "sticker {pack}/{id} is not a PNG image"
            )));
        }
        let (tmp, dest) = (self.tmp_dir(), path.clone());
        tokio::task::spawn_blocking(move || write_atomic(&tmp, &dest, &bytes)).await??;
        Ok(path)
    }
}

fn lookup(packs: &[StickerPack], pack: &str, id: &str) -> Option<Sticker> {
    packs
        .iter()
        .find(|p| p.id == pack)?
        .stickers
        .iter()
        .find(|s| s.id == id)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack() -> StickerPack {
        serde_json::from_str(
            r#"{"id":"goose","name":"Goose","stickers":[
                {"id":"wave","name":"Wave","url":"/api/v1/stickers/goose/wave.png","w":160,"h":160,"extra":1}]}"#,
        )
        .expect("pack json with an unknown field")
    }

    #[test]
    fn stickers_are_found_by_pack_and_id() {
        let packs = vec![pack()];
        let s = lookup(&packs, "goose", "wave").expect("found");
        assert_eq!(
            (s.w, s.h, s.url.as_str()),
            (160, 160, "/api/v1/stickers/goose/wave.png")
        );
        assert!(lookup(&packs, "goose", "nope").is_none());
        assert!(lookup(&packs, "other", "wave").is_none());
    }

    #[tokio::test]
    async fn the_pack_list_is_read_back_from_its_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let json = serde_json::to_vec(&vec![pack()]).expect("json");
        let root = dir.path().join(DIR_NAME);
        write_atomic(&root.join("tmp"), &root.join(PACKS_FILE), &json).expect("write");
        let cache = StickerCache::new(dir.path());
        let packs = cache.cached_packs().await.expect("read").expect("some");
        assert_eq!(packs, vec![pack()]);
        assert_eq!(cache.remembered(), Some(vec![pack()]));
        let empty = StickerCache::new(&dir.path().join("nobody"));
        assert!(empty.cached_packs().await.expect("read").is_none());
    }
}
