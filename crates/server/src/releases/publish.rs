//! `admin release publish`: validate a bundle and its signature, then add the release to
//! the releases dir atomically.

use std::{
    cmp::Ordering,
    fs::File,
    io::{self, Read, Write},
    path::{Path, PathBuf},
    time::SystemTime,
};

use sha2::Digest;

use super::{
    infer_target, parse_version, validate_file_name, validate_target, BundleSignature, Published,
    Release, ReleaseError, ReleasesDir, TrustedKey, RELEASE_FILE,
};

/// What the operator asks to publish.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub bundle: PathBuf,
    pub signature: PathBuf,
    pub version: String,
    /// Default: inferred from the bundle's file name.
    pub target: Option<String>,
    pub notes: Option<String>,
    /// When given, the signature must verify the bundle with this key.
    pub pubkey: Option<PathBuf>,
}

impl ReleasesDir {
    /// Validates `req` and publishes it as of `now`. The release folder is assembled under a
    /// hidden name in the target's folder and renamed into place, so readers (a running
    /// server, another node) never see a bundle without its `release.json` or a half-copied
    /// one, and two concurrent publishes of one version cannot both succeed.
    pub fn publish(
        &self,
        req: &PublishRequest,
        now: SystemTime,
    ) -> Result<Published, ReleaseError> {
        let version = parse_version(&req.version)?;
        let file = bundle_file_name(&req.bundle)?;
        let target = match &req.target {
            Some(t) => {
                validate_target(t)?;
                t.clone()
            }
            None => infer_target(&file)?,
        };
        let signature = BundleSignature::read(&req.signature)?;
        signature.check_version(&req.version)?;
        let key = req.pubkey.as_deref().map(TrustedKey::read).transpose()?;
        let unreadable = |source| ReleaseError::BundleUnreadable {
            path: req.bundle.clone(),
            source,
        };
        let mut bundle = File::open(&req.bundle).map_err(unreadable)?;
        if bundle.metadata().map_err(unreadable)?.len() == 0 {
            return Err(ReleaseError::BundleEmpty(req.bundle.clone()));
        }
        self.refuse_duplicate(&target, &version)?;
        let mut verifier = key.as_ref().map(|k| k.verifier(&signature)).transpose()?;

        let target_dir = self.root().join(&target);
        std::fs::create_dir_all(&target_dir).map_err(|e| ReleaseError::io(&target_dir, e))?;
        let staging = Staging::create(&target_dir, &version.to_string())?;
        let copied = copy_hashing(&mut bundle, &staging.path.join(&file), |chunk| {
            if let Some(v) = verifier.as_mut() {
                v.update(chunk);
            }
        })
        .map_err(|e| match e {
            CopyError::Read(source) => ReleaseError::BundleUnreadable {
                path: req.bundle.clone(),
                source,
            },
            CopyError::Write(path, source) => ReleaseError::Io { path, source },
        })?;
        if copied.size == 0 {
            return Err(ReleaseError::BundleEmpty(req.bundle.clone()));
        }
        if let Some(v) = verifier {
            v.finish(&req.bundle)?;
        }

        let release = Release {
            version: version.to_string(),
            notes: req
                .notes
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            pub_date: super::format_utc(now),
            signature: signature.base64().to_owned(),
            file,
            size: copied.size,
            sha256: copied.sha256,
        };
        let record = staging.path.join(RELEASE_FILE);
        let json =
            serde_json::to_vec_pretty(&release).map_err(|source| ReleaseError::BadRecord {
                path: record.clone(),
                source,
            })?;
        write_synced(&record, &json).map_err(|e| ReleaseError::io(&record, e))?;

        let final_dir = self.release_dir(&target, &version);
        staging.commit(&final_dir).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty => {
                ReleaseError::AlreadyPublished {
                    target: target.clone(),
                    version: version.to_string(),
                    path: final_dir.clone(),
                }
            }
            _ => ReleaseError::io(&final_dir, e),
        })?;
        // Make the rename itself durable (best effort: not every filesystem allows it).
        if let Ok(dir) = File::open(&target_dir) {
            let _ = dir.sync_all();
        }
        Ok(Published { target, release })
    }

    /// A version equal by semver precedence (e.g. `0.2.0+b1` for `0.2.0`) is the same release
    /// to the updater, so it cannot be published twice.
    fn refuse_duplicate(
        &self,
        target: &str,
        version: &semver::Version,
    ) -> Result<(), ReleaseError> {
        let existing = self
            .versions(target)?
            .into_iter()
            .find(|v| v.cmp_precedence(version) == Ordering::Equal);
        match existing {
            Some(v) => Err(ReleaseError::AlreadyPublished {
                target: target.to_owned(),
                version: v.to_string(),
                path: self.release_dir(target, &v),
            }),
            None => Ok(()),
        }
    }
}

/// The bundle's file name, validated.
fn bundle_file_name(bundle: &Path) -> Result<String, ReleaseError> {
    let name = bundle
        .file_name()
        .ok_or_else(|| ReleaseError::BadFileName(bundle.display().to_string()))?;
    let name = name
        .to_str()
        .ok_or_else(|| ReleaseError::BadFileName(name.to_string_lossy().into_owned()))?;
    validate_file_name(name)?;
    Ok(name.to_owned())
}

/// A hidden folder in the target's folder, removed unless committed.
struct Staging {
    path: PathBuf,
    committed: bool,
}

impl Staging {
    fn create(target_dir: &Path, version: &str) -> Result<Self, ReleaseError> {
        let name = format!(
            ".publishing-{version}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        );
        let path = target_dir.join(name);
        std::fs::create_dir(&path).map_err(|e| ReleaseError::io(&path, e))?;
        Ok(Self {
            path,
            committed: false,
        })
    }

    /// Renames the folder to `dest`; fails if `dest` exists and is not empty.
    fn commit(mut self, dest: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, dest)?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            if let Err(e) = std::fs::remove_dir_all(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a staging folder");
            }
        }
    }
}

struct Copied {
    size: u64,
    sha256: String,
}

enum CopyError {
    Read(io::Error),
    Write(PathBuf, io::Error),
}

/// Copies `from` into a new file `to` (synced), hashing it and showing each chunk to
/// `inspect`.
fn copy_hashing(
    from: &mut impl Read,
    to: &Path,
    mut inspect: impl FnMut(&[u8]),
) -> Result<Copied, CopyError> {
    let write_err = |e| CopyError::Write(to.to_owned(), e);
    let mut out = File::create_new(to).map_err(write_err)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        inspect(chunk);
        out.write_all(chunk).map_err(write_err)?;
        size += n as u64;
    }
    out.sync_all().map_err(write_err)?;
    Ok(Copied {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create_new(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use semver::Version;

    use super::*;
    use crate::releases::test_signer::Signer;

    const DEB: &str = "Hongyan_0.2.0_amd64.deb";

    struct Fixture {
        tmp: tempfile::TempDir,
        signer: Signer,
        dir: ReleasesDir,
    }

    impl Fixture {
        fn new() -> Self {
            let tmp = tempfile::tempdir().expect("tmp");
            let dir = ReleasesDir::at(tmp.path().join("releases"));
            Self {
                tmp,
                signer: Signer::new(),
                dir,
            }
        }

        /// Writes a bundle named `name` and its `.sig` (signed for `signed_for`); returns the
        /// request to publish it as `version`.
        fn bundle(
            &self,
            name: &str,
            bytes: &[u8],
            signed_for: &str,
            version: &str,
        ) -> PublishRequest {
            let src = self.tmp.path().join("src").join(version);
            std::fs::create_dir_all(&src).expect("mkdir");
            let bundle = src.join(name);
            std::fs::write(&bundle, bytes).expect("bundle");
            let signature = src.join(format!("{name}.sig"));
            std::fs::write(&signature, self.signer.sign(bytes, name, signed_for)).expect("sig");
            PublishRequest {
                bundle,
                signature,
                version: version.to_owned(),
                target: None,
                notes: None,
                pubkey: None,
            }
        }

        fn pubkey(&self, signer: &Signer) -> PathBuf {
            let path = self
                .tmp
                .path()
                .join(format!("{}.pub", uuid::Uuid::now_v7()));
            std::fs::write(&path, signer.pubkey()).expect("pub");
            path
        }

        fn publish(&self, req: &PublishRequest) -> Result<Published, ReleaseError> {
            self.dir
                .publish(req, UNIX_EPOCH + Duration::from_secs(1_795_654_202))
        }

        /// Every entry under the releases dir (relative paths), to see what a failure left.
        fn tree(&self) -> Vec<String> {
            fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    return;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    out.push(
                        p.strip_prefix(root)
                            .expect("under root")
                            .display()
                            .to_string(),
                    );
                    if p.is_dir() {
                        walk(root, &p, out);
                    }
                }
            }
            let mut out = Vec::new();
            walk(self.dir.root(), self.dir.root(), &mut out);
            out.sort();
            out
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).expect("semver")
    }

    #[test]
    fn publish_writes_the_bundle_and_its_record() {
        let f = Fixture::new();
        let mut req = f.bundle(DEB, b"deb bytes", "0.2.0", "0.2.0");
        req.notes = Some("  What changed \n".into());
        req.pubkey = Some(f.pubkey(&f.signer));
        let published = f.publish(&req).expect("published");
        assert_eq!(published.target, "linux-x86_64-deb");
        let r = &published.release;
        assert_eq!(r.version, "0.2.0");
        assert_eq!(r.notes.as_deref(), Some("What changed"));
        assert_eq!(r.pub_date, "2026-11-26T00:50:02Z");
        assert_eq!(r.file, DEB);
        assert_eq!(r.size, 9);
        assert_eq!(r.sha256, hex::encode(sha2::Sha256::digest(b"deb bytes")));
        let sig = std::fs::read_to_string(&req.signature).expect("sig");
        assert_eq!(r.signature, sig);
        assert_eq!(
            f.tree(),
            [
                "linux-x86_64-deb",
                "linux-x86_64-deb/0.2.0",
                "linux-x86_64-deb/0.2.0/Hongyan_0.2.0_amd64.deb",
                "linux-x86_64-deb/0.2.0/release.json",
            ],
            "no staging folder left"
        );
        let copy = f.dir.bundle_path("linux-x86_64-deb", &v("0.2.0"), r);
        assert_eq!(std::fs::read(copy).expect("copy"), b"deb bytes");
        assert_eq!(
            f.dir.find("linux-x86_64-deb", &v("0.2.0")).expect("find"),
            Some(r.clone())
        );
        let on_disk: serde_json::Value = serde_json::from_slice(
            &std::fs::read(f.dir.root().join("linux-x86_64-deb/0.2.0/release.json")).expect("json"),
        )
        .expect("json");
        let keys: Vec<_> = on_disk
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys.len(), 7, "{keys:?}");
        for k in [
            "version",
            "notes",
            "pub_date",
            "signature",
            "file",
            "size",
            "sha256",
        ] {
            assert!(on_disk.get(k).is_some(), "release.json lacks {k}");
        }
    }

    #[test]
    fn bad_requests_are_refused_and_leave_nothing_behind() {
        let f = Fixture::new();
        let good = f.bundle(DEB, b"deb bytes", "0.2.0", "0.2.0");
        let other = Signer::new();
        let mut cases: Vec<(PublishRequest, &str)> = Vec::new();

        let mut r = good.clone();
        r.version = "0.2".into();
        cases.push((r, "version `0.2` is not semver"));
        let mut r = good.clone();
        r.target = Some("Linux/x86".into());
        cases.push((r, "target `Linux/x86` must be"));
        let r = f.bundle("Hongyan.exe", b"x", "0.2.0", "0.2.0");
        cases.push((r, "cannot tell the target from the file name `Hongyan.exe`"));
        let mut r = good.clone();
        r.bundle = f.tmp.path().join("missing.deb");
        cases.push((r, "cannot read the bundle"));
        let r = f.bundle("Empty_0.2.0_amd64.deb", b"", "0.2.0", "0.2.0");
        cases.push((r, "is empty"));
        let mut r = good.clone();
        r.signature = f.tmp.path().join("missing.sig");
        cases.push((r, "cannot read the signature"));
        let mut r = good.clone();
        r.signature = f.tmp.path().join("garbage.sig");
        std::fs::write(&r.signature, "not a signature").expect("write");
        cases.push((r, "is not a minisign signature"));
        let mut r = good.clone();
        r.version = "0.3.0".into();
        cases.push((r, "made for version 0.2.0, not 0.3.0"));
        let mut r = good.clone();
        r.signature = f.tmp.path().join("unversioned.sig");
        let unversioned = f
            .signer
            .sign_with_comment(b"deb bytes", "timestamp:1\tfile:x.deb");
        std::fs::write(&r.signature, unversioned).expect("write");
        cases.push((r, "trusted comment names no version"));
        let mut r = good.clone();
        r.pubkey = Some(f.pubkey(&other));
        cases.push((r, "was not made with the key"));
        let mut r = good.clone();
        r.pubkey = Some(f.pubkey(&f.signer));
        std::fs::write(f.tmp.path().join("tampered.deb"), b"deb bytez").expect("write");
        r.bundle = f.tmp.path().join("tampered.deb");
        cases.push((r, "does not verify the bundle"));
        let mut r = good.clone();
        r.pubkey = Some(f.tmp.path().join("nokey.pub"));
        cases.push((r, "cannot read the public key"));

        for (req, message) in cases {
            let e = f.publish(&req).expect_err(message);
            assert!(e.to_string().contains(message), "{message:?} not in {e}");
            let left: Vec<_> = f.tree().into_iter().filter(|p| p.contains('/')).collect();
            assert!(left.is_empty(), "{message}: left {left:?}");
        }
    }

    #[test]
    fn a_version_is_published_once_per_target() {
        let f = Fixture::new();
        let req = f.bundle(DEB, b"one", "0.2.0", "0.2.0");
        f.publish(&req).expect("first");
        let again = f.bundle(DEB, b"two", "0.2.0", "0.2.0");
        let e = f.publish(&again).expect_err("duplicate");
        assert!(
            e.to_string()
                .contains("linux-x86_64-deb 0.2.0 is already published"),
            "{e}"
        );
        // Build metadata does not make another release.
        let build = f.bundle(DEB, b"three", "0.2.0+b1", "0.2.0+b1");
        assert!(matches!(
            f.publish(&build),
            Err(ReleaseError::AlreadyPublished { .. })
        ));
        // The first copy is untouched, and another target may have the version.
        let r = f
            .dir
            .find("linux-x86_64-deb", &v("0.2.0"))
            .expect("find")
            .expect("some");
        assert_eq!(r.size, 3);
        let mut appimage = f.bundle("Hongyan_0.2.0_amd64.AppImage", b"app", "0.2.0", "0.2.0");
        appimage.target = None;
        assert_eq!(
            f.publish(&appimage).expect("other target").target,
            "linux-x86_64-appimage"
        );
    }

    #[test]
    fn a_folder_copied_under_another_version_is_not_offered() {
        let f = Fixture::new();
        f.publish(&f.bundle(DEB, b"one", "0.2.0", "0.2.0"))
            .expect("0.2.0");
        let target = f.dir.root().join("linux-x86_64-deb");
        // Renaming 0.2.0 to 0.9.0 by hand would offer 0.2.0's bytes as 0.9.0 (the app would
        // refuse them: signed for 0.2.0). The record's version must be its folder's.
        std::fs::create_dir(target.join("0.9.0")).expect("mkdir");
        for file in [DEB, RELEASE_FILE] {
            std::fs::copy(
                target.join("0.2.0").join(file),
                target.join("0.9.0").join(file),
            )
            .expect("copy");
        }
        let e = f
            .dir
            .find("linux-x86_64-deb", &v("0.9.0"))
            .expect_err("misplaced");
        assert!(
            e.to_string()
                .contains("says version `0.2.0`, but it lies in the folder of 0.9.0"),
            "{e}"
        );
        let newest = f
            .dir
            .newest_after("linux-x86_64-deb", &v("0.1.0"))
            .expect("read");
        assert_eq!(newest.map(|r| r.version).as_deref(), Some("0.2.0"));
    }

    #[test]
    fn a_half_built_release_is_invisible() {
        let f = Fixture::new();
        f.publish(&f.bundle(DEB, b"one", "0.1.5", "0.1.5"))
            .expect("0.1.5");
        // What a publish in progress looks like to a reader: a hidden staging folder, and
        // (from a hand copy) a version folder without its record.
        let target = f.dir.root().join("linux-x86_64-deb");
        let staging = target.join(".publishing-0.3.0-1-x");
        std::fs::create_dir_all(&staging).expect("staging");
        std::fs::write(staging.join(DEB), b"half").expect("half");
        std::fs::create_dir_all(target.join("0.4.0")).expect("bare");
        let newest = f
            .dir
            .newest_after("linux-x86_64-deb", &v("0.1.0"))
            .expect("read");
        assert_eq!(newest.map(|r| r.version), Some("0.1.5".to_owned()));
        assert_eq!(f.dir.list().expect("list").len(), 1);
        // A version folder made by hand blocks that version.
        std::fs::write(target.join("0.4.0").join("other"), b"by hand").expect("hand");
        let e = f
            .publish(&f.bundle(DEB, b"late", "0.4.0", "0.4.0"))
            .expect_err("taken");
        assert!(matches!(e, ReleaseError::AlreadyPublished { .. }), "{e}");
        assert_eq!(
            std::fs::read(target.join("0.4.0/other")).expect("kept"),
            b"by hand"
        );
    }

    #[test]
    fn a_publish_that_loses_a_race_keeps_the_winner_and_cleans_up() {
        // Two nodes publishing one version at once: both pass the duplicate check, and the
        // second rename finds the first one's folder.
        let tmp = tempfile::tempdir().expect("tmp");
        let winner = Staging::create(tmp.path(), "0.2.0").expect("winner");
        std::fs::write(winner.path.join(RELEASE_FILE), b"{}").expect("record");
        let loser = Staging::create(tmp.path(), "0.2.0").expect("loser");
        std::fs::write(loser.path.join(RELEASE_FILE), b"{}").expect("record");
        let loser_path = loser.path.clone();
        let dest = tmp.path().join("0.2.0");
        winner.commit(&dest).expect("first rename wins");
        let e = loser.commit(&dest).expect_err("second rename loses");
        assert!(
            matches!(
                e.kind(),
                io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty
            ),
            "{e:?} (publish maps these to AlreadyPublished)"
        );
        assert!(dest.join(RELEASE_FILE).exists());
        assert!(
            !loser_path.exists(),
            "the loser's staging folder is removed"
        );
    }

    #[test]
    fn the_newest_newer_release_is_offered() {
        let f = Fixture::new();
        for ver in ["0.1.0", "0.2.0-beta.1", "0.2.0", "0.10.0-rc.1", "0.3.0"] {
            f.publish(&f.bundle(DEB, ver.as_bytes(), ver, ver))
                .expect(ver);
        }
        let newest = |current: &str| {
            f.dir
                .newest_after("linux-x86_64-deb", &v(current))
                .expect("read")
                .map(|r| r.version)
        };
        assert_eq!(newest("0.1.0").as_deref(), Some("0.10.0-rc.1"));
        assert_eq!(newest("0.10.0-rc.1"), None);
        assert_eq!(newest("0.10.0"), None);
        assert!(f
            .dir
            .newest_after("linux-x86_64-rpm", &v("0.0.1"))
            .expect("read")
            .is_none());
        let listed: Vec<_> = f
            .dir
            .list()
            .expect("list")
            .into_iter()
            .map(|p| p.release.version)
            .collect();
        assert_eq!(
            listed,
            ["0.1.0", "0.2.0-beta.1", "0.2.0", "0.3.0", "0.10.0-rc.1"]
        );
        // A broken record is skipped by the updater (the next newest is offered) and named
        // by `list`.
        std::fs::write(
            f.dir
                .root()
                .join("linux-x86_64-deb/0.10.0-rc.1/release.json"),
            b"{ broken",
        )
        .expect("break");
        assert_eq!(newest("0.1.0").as_deref(), Some("0.3.0"));
        let e = f.dir.list().expect_err("broken");
        assert!(e.to_string().contains("is not a valid release.json"), "{e}");
    }
}
