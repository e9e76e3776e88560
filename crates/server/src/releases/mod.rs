//! App releases served to the updater (docs/UPDATES.md, "Server: publishing and serving
//! releases").
//!
//! A release is a folder `<releases-dir>/<target>/<version>/` holding the bundle and a
//! `release.json` ([`Release`]). `admin release publish` builds it in a hidden staging folder
//! beside it and renames it into place, so a reader sees a whole release or none. Folder names
//! are only ever built from a validated target and a parsed semver version; nothing is cached,
//! so a release published while the server runs is seen at its next request.

mod publish;
mod signature;
#[cfg(test)]
pub(crate) mod test_signer;

use std::{
    cmp::Ordering,
    io,
    path::{Path, PathBuf},
};

use semver::Version;
use serde::{Deserialize, Serialize};

pub use publish::PublishRequest;

/// `t` as RFC 3339 in UTC, whole seconds (`2026-11-26T01:02:03Z`): the updater parses
/// `pub_date` as RFC 3339.
pub fn format_utc(t: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(t)
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
pub use signature::{signed_version, BundleSignature, TrustedKey};

/// The file beside each bundle describing it.
pub const RELEASE_FILE: &str = "release.json";

/// Longest accepted target name.
const MAX_TARGET_LEN: usize = 64;

/// `release.json`: what the update manifest is made of, plus what an operator checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The semver version, as published.
    pub version: String,
    /// Release notes shown by the app, if any.
    pub notes: Option<String>,
    /// When it was published, RFC 3339 UTC.
    pub pub_date: String,
    /// The `.sig` file's content: base64 of minisign's signature text.
    pub signature: String,
    /// The bundle's file name in the release folder.
    pub file: String,
    /// The bundle's size in bytes.
    pub size: u64,
    /// The bundle's SHA-256, lowercase hex.
    pub sha256: String,
}

/// A release and the target it was published for (`admin release list` / `publish`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub target: String,
    #[serde(flatten)]
    pub release: Release,
}

/// Why a release cannot be published or read. Messages are shown to the operator as is.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("version `{version}` is not semver (e.g. 0.2.0 or 0.3.0-beta.1): {source}")]
    BadVersion {
        version: String,
        source: semver::Error,
    },
    #[error("target `{0}` must be 1 to 64 of a-z, 0-9, `_` and `-` (e.g. linux-x86_64-deb)")]
    BadTarget(String),
    #[error("cannot tell the target from the file name `{0}` (not .deb, .AppImage or .rpm); pass --target")]
    UnknownBundleType(String),
    #[error("the bundle's file name `{0}` must be letters, digits, `.`, `_`, `+` and `-` only (and not release.json)")]
    BadFileName(String),
    #[error("cannot read the bundle {path}: {source}")]
    BundleUnreadable { path: PathBuf, source: io::Error },
    #[error("the bundle {0} is empty")]
    BundleEmpty(PathBuf),
    #[error("cannot read the signature {path}: {source}")]
    SignatureUnreadable { path: PathBuf, source: io::Error },
    #[error("the signature {0} is empty")]
    SignatureEmpty(PathBuf),
    #[error("the signature {path} is not a minisign signature (expected base64 of minisign's signature text, as `tauri signer sign` writes it): {reason}")]
    NotASignature { path: PathBuf, reason: String },
    #[error("the signature's trusted comment names no version; sign with `tauri signer sign --app-version {version}` (the app accepts only signatures bound to a version)")]
    UnversionedSignature { version: String },
    #[error("the signature was made for version {signed}, not {version} (its trusted comment says `version:{signed}`)")]
    VersionMismatch { signed: String, version: String },
    #[error("cannot read the public key {path}: {source}")]
    PublicKeyUnreadable { path: PathBuf, source: io::Error },
    #[error("the public key {path} is not a minisign public key (expected the `.pub` file `tauri signer generate` writes): {reason}")]
    NotAPublicKey { path: PathBuf, reason: String },
    #[error("the signature was not made with the key {key} (another key id)")]
    WrongKey { key: PathBuf },
    #[error("the signature does not verify the bundle {bundle} with the key {key}")]
    BadSignature { bundle: PathBuf, key: PathBuf },
    #[error("{target} {version} is already published ({path}); publish another version")]
    AlreadyPublished {
        target: String,
        version: String,
        path: PathBuf,
    },
    #[error("releases dir: {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a valid release.json: {source}")]
    BadRecord {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} says version `{found}`, but it lies in the folder of {folder}")]
    MisplacedRecord {
        path: PathBuf,
        found: String,
        folder: String,
    },
}

impl ReleaseError {
    fn io(path: &Path, source: io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Parses a release version (semver, no leading `v`).
pub fn parse_version(version: &str) -> Result<Version, ReleaseError> {
    Version::parse(version).map_err(|source| ReleaseError::BadVersion {
        version: version.to_owned(),
        source,
    })
}

/// Checks a target name: it becomes a folder name, so only `[a-z0-9_-]`, at most 64.
pub fn validate_target(target: &str) -> Result<(), ReleaseError> {
    let ok = !target.is_empty()
        && target.len() <= MAX_TARGET_LEN
        && target
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReleaseError::BadTarget(target.to_owned()))
    }
}

/// Checks a bundle's file name: a plain name that is safe in a path and a
/// `Content-Disposition` header, and that is not the release record's name.
pub fn validate_file_name(name: &str) -> Result<(), ReleaseError> {
    let ok = !name.is_empty()
        && name != RELEASE_FILE
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReleaseError::BadFileName(name.to_owned()))
    }
}

/// The updater target a bundle is for, from its file name: the kind from the extension
/// (`.deb`, `.AppImage`, `.rpm`) and the CPU from the name (`arm64`/`aarch64` → aarch64,
/// anything else x86_64, which is what Tauri names its bundles on an x86_64 build machine).
pub fn infer_target(file_name: &str) -> Result<String, ReleaseError> {
    let lower = file_name.to_ascii_lowercase();
    let kind = if lower.ends_with(".deb") {
        "deb"
    } else if lower.ends_with(".appimage") {
        "appimage"
    } else if lower.ends_with(".rpm") {
        "rpm"
    } else {
        return Err(ReleaseError::UnknownBundleType(file_name.to_owned()));
    };
    let arch = if lower.contains("aarch64") || lower.contains("arm64") {
        "aarch64"
    } else {
        "x86_64"
    };
    Ok(format!("linux-{arch}-{kind}"))
}

/// Whether `candidate` is an update for `current`: greater by semver precedence
/// (pre-releases sort before their release; build metadata is ignored).
pub fn is_newer(candidate: &Version, current: &Version) -> bool {
    candidate.cmp_precedence(current) == Ordering::Greater
}

/// The releases folder: `<root>/<target>/<version>/{<bundle>, release.json}`.
///
/// Blocking file I/O: async callers run these in `spawn_blocking`.
#[derive(Debug, Clone)]
pub struct ReleasesDir {
    root: PathBuf,
}

impl ReleasesDir {
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn target_dir(&self, target: &str) -> PathBuf {
        self.root.join(target)
    }

    /// The folder of one release (whether or not it exists).
    pub fn release_dir(&self, target: &str, version: &Version) -> PathBuf {
        self.target_dir(target).join(version.to_string())
    }

    /// The published versions of `target` (folder names that parse as semver; staging
    /// folders start with `.` and never do). A missing target is no versions.
    fn versions(&self, target: &str) -> Result<Vec<Version>, ReleaseError> {
        let dir = self.target_dir(target);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ReleaseError::io(&dir, e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ReleaseError::io(&dir, e))?;
            if let Some(v) = entry.file_name().to_str().and_then(|n| n.parse().ok()) {
                versions.push(v);
            }
        }
        Ok(versions)
    }

    /// The targets that have a folder (names that are valid targets).
    fn targets(&self) -> Result<Vec<String>, ReleaseError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ReleaseError::io(&self.root, e)),
        };
        let mut targets = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ReleaseError::io(&self.root, e))?;
            if let Some(name) = entry.file_name().to_str() {
                if validate_target(name).is_ok() {
                    targets.push(name.to_owned());
                }
            }
        }
        targets.sort();
        Ok(targets)
    }

    /// The release record of `target` `version`: `None` when that folder or its
    /// `release.json` does not exist; an error when the record is unreadable, or names
    /// another version or an unsafe file.
    pub fn find(&self, target: &str, version: &Version) -> Result<Option<Release>, ReleaseError> {
        let path = self.release_dir(target, version).join(RELEASE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ReleaseError::io(&path, e)),
        };
        let release: Release =
            serde_json::from_slice(&bytes).map_err(|source| ReleaseError::BadRecord {
                path: path.clone(),
                source,
            })?;
        let same_version = Version::parse(&release.version).is_ok_and(|v| v == *version);
        if !same_version {
            return Err(ReleaseError::MisplacedRecord {
                path,
                found: release.version,
                folder: version.to_string(),
            });
        }
        validate_file_name(&release.file)?;
        Ok(Some(release))
    }

    /// Where the bundle of `release` (of `target`) lies.
    pub fn bundle_path(&self, target: &str, version: &Version, release: &Release) -> PathBuf {
        self.release_dir(target, version).join(&release.file)
    }

    /// The newest release of `target` newer than `current` (semver precedence), if any.
    /// A release whose record is broken is skipped (and logged), so one bad folder does
    /// not stop updates to the others.
    pub fn newest_after(
        &self,
        target: &str,
        current: &Version,
    ) -> Result<Option<Release>, ReleaseError> {
        let mut newer: Vec<Version> = self
            .versions(target)?
            .into_iter()
            .filter(|v| is_newer(v, current))
            .collect();
        newer.sort_by(|a, b| b.cmp_precedence(a).then_with(|| b.cmp(a)));
        for version in newer {
            match self.find(target, &version) {
                Ok(Some(release)) => return Ok(Some(release)),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "skipping a broken release"),
            }
        }
        Ok(None)
    }

    /// Every published release, by target then version (oldest first).
    pub fn list(&self) -> Result<Vec<Published>, ReleaseError> {
        let mut all = Vec::new();
        for target in self.targets()? {
            let mut versions = self.versions(&target)?;
            versions.sort_by(|a, b| a.cmp_precedence(b).then_with(|| a.cmp(b)));
            for version in versions {
                if let Some(release) = self.find(&target, &version)? {
                    all.push(Published {
                        target: target.clone(),
                        release,
                    });
                }
            }
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pub_dates_are_rfc3339_utc_in_whole_seconds() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |secs: u64, nanos: u32| format_utc(UNIX_EPOCH + Duration::new(secs, nanos));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_795_654_202, 999_000_000), "2026-11-26T00:50:02Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00Z");
    }

    fn v(s: &str) -> Version {
        Version::parse(s).expect("semver")
    }

    #[test]
    fn newer_follows_semver_precedence() {
        assert!(is_newer(&v("0.2.0"), &v("0.1.0")));
        assert!(is_newer(&v("0.10.0"), &v("0.9.0")), "numeric, not text");
        assert!(!is_newer(&v("0.1.0"), &v("0.1.0")));
        assert!(!is_newer(&v("0.1.0"), &v("0.2.0")));
        // A pre-release is older than its release and newer than the one before.
        assert!(is_newer(&v("0.2.0-beta.1"), &v("0.1.0")));
        assert!(!is_newer(&v("0.2.0-beta.1"), &v("0.2.0")));
        assert!(is_newer(&v("0.2.0"), &v("0.2.0-beta.1")));
        assert!(is_newer(&v("0.2.0-beta.2"), &v("0.2.0-beta.1")));
        assert!(is_newer(&v("0.2.0-beta.11"), &v("0.2.0-beta.2")));
        assert!(is_newer(&v("0.2.0-rc.1"), &v("0.2.0-beta.9")));
        // Build metadata does not make a version newer.
        assert!(!is_newer(&v("0.2.0+build.7"), &v("0.2.0")));
    }

    #[test]
    fn versions_must_be_semver() {
        assert!(parse_version("0.2.0").is_ok());
        assert!(parse_version("1.0.0-rc.1+abc").is_ok());
        for bad in ["", "v0.2.0", "0.2", "latest", "0.2.0.1", "../0.2.0"] {
            let e = parse_version(bad).expect_err(bad);
            assert!(e.to_string().contains("is not semver"), "{e}");
        }
    }

    #[test]
    fn targets_are_plain_names() {
        for ok in ["linux-x86_64-deb", "linux-aarch64-appimage", "a", "x_1"] {
            assert!(validate_target(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "Linux", "linux/x86", "..", "a.b", "a b", long.as_str()] {
            let e = validate_target(bad).expect_err(bad);
            assert!(e.to_string().contains("must be 1 to 64"), "{e}");
        }
    }

    #[test]
    fn file_names_are_plain_names() {
        assert!(validate_file_name("Hongyan_0.2.0_amd64.deb").is_ok());
        assert!(validate_file_name("Hongyan-0.2.0-1.x86_64.rpm").is_ok());
        for bad in [
            "",
            "release.json",
            ".hidden",
            "a b.deb",
            "a/b.deb",
            "é.deb",
            "x\".deb",
        ] {
            assert!(
                matches!(validate_file_name(bad), Err(ReleaseError::BadFileName(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn targets_are_inferred_from_tauri_bundle_names() {
        let cases = [
            ("Hongyan_0.2.0_amd64.deb", "linux-x86_64-deb"),
            ("Hongyan_0.2.0_amd64.AppImage", "linux-x86_64-appimage"),
            ("Hongyan-0.2.0-1.x86_64.rpm", "linux-x86_64-rpm"),
            ("Hongyan_0.2.0_arm64.deb", "linux-aarch64-deb"),
            ("Hongyan_0.2.0_aarch64.AppImage", "linux-aarch64-appimage"),
            ("Hongyan-0.2.0-1.aarch64.rpm", "linux-aarch64-rpm"),
        ];
        for (name, target) in cases {
            assert_eq!(infer_target(name).expect(name), target, "{name}");
        }
        for bad in ["Hongyan_0.2.0_x64-setup.exe", "Hongyan.tar.gz", "deb"] {
            let e = infer_target(bad).expect_err(bad);
            assert!(e.to_string().contains("pass --target"), "{e}");
        }
    }
}
