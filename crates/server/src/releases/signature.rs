//! Tauri updater signatures: minisign signatures and public keys, each stored as base64 of
//! minisign's own text (what `tauri signer` writes and the app's updater decodes).

use std::{
    io::Read,
    path::{Path, PathBuf},
};

use base64::Engine as _;
use minisign_verify::{PublicKey, Signature};

use super::ReleaseError;

/// A bundle's `.sig`: the text as published (base64) and the decoded minisign signature.
pub struct BundleSignature {
    base64: String,
    signature: Signature,
}

impl std::fmt::Debug for BundleSignature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleSignature")
            .field("trusted_comment", &self.signature.trusted_comment())
            .finish_non_exhaustive()
    }
}

impl BundleSignature {
    /// Decodes a `.sig` file's content (surrounding whitespace ignored); `path` names it in
    /// errors.
    pub fn decode(content: &str, path: &Path) -> Result<Self, ReleaseError> {
        let not_a_signature = |reason: String| ReleaseError::NotASignature {
            path: path.to_owned(),
            reason,
        };
        let base64 = content.trim();
        if base64.is_empty() {
            return Err(ReleaseError::SignatureEmpty(path.to_owned()));
        }
        let text = decode_base64_text(base64).map_err(not_a_signature)?;
        let signature = Signature::decode(&text).map_err(|e| not_a_signature(e.to_string()))?;
        Ok(Self {
            base64: base64.to_owned(),
            signature,
        })
    }

    /// Reads and decodes a `.sig` file.
    pub fn read(path: &Path) -> Result<Self, ReleaseError> {
        let bytes = std::fs::read(path).map_err(|source| ReleaseError::SignatureUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let content = String::from_utf8(bytes).map_err(|_| ReleaseError::NotASignature {
            path: path.to_owned(),
            reason: "it is not text".to_owned(),
        })?;
        Self::decode(&content, path)
    }

    /// The `.sig` content as served in the update manifest.
    pub fn base64(&self) -> &str {
        &self.base64
    }

    /// The version the signature was made for (`version:` in its trusted comment).
    pub fn signed_version(&self) -> Option<&str> {
        signed_version(self.signature.trusted_comment())
    }

    /// Checks that the signature is bound to `version` the way the app's updater checks it:
    /// equal as semver (a leading `v` ignored), else equal as text.
    pub fn check_version(&self, version: &str) -> Result<(), ReleaseError> {
        let Some(signed) = self.signed_version() else {
            return Err(ReleaseError::UnversionedSignature {
                version: version.to_owned(),
            });
        };
        let same = match (
            semver::Version::parse(signed.trim_start_matches('v')),
            semver::Version::parse(version.trim_start_matches('v')),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => signed == version,
        };
        if same {
            Ok(())
        } else {
            Err(ReleaseError::VersionMismatch {
                signed: signed.to_owned(),
                version: version.to_owned(),
            })
        }
    }

    pub(super) fn minisign(&self) -> &Signature {
        &self.signature
    }
}

/// The `version` field of a trusted comment: Tauri writes tab-separated `key:value` pairs,
/// e.g. `timestamp:1700000000\tfile:app.deb\tversion:1.2.3`.
pub fn signed_version(trusted_comment: &str) -> Option<&str> {
    trusted_comment
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"))
}

/// The public key a bundle must verify with (`--pubkey`).
pub struct TrustedKey {
    key: PublicKey,
    path: PathBuf,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKey")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TrustedKey {
    /// Decodes a public key file's content: base64 of minisign's `.pub` text (what
    /// `tauri signer generate` writes and `plugins.updater.pubkey` holds), or that text itself.
    pub fn decode(content: &str, path: &Path) -> Result<Self, ReleaseError> {
        let content = content.trim();
        let text = decode_base64_text(content).unwrap_or_else(|_| content.to_owned());
        let key = PublicKey::decode(&text)
            .or_else(|_| PublicKey::from_base64(&text))
            .map_err(|e| ReleaseError::NotAPublicKey {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            key,
            path: path.to_owned(),
        })
    }

    /// Reads and decodes a public key file.
    pub fn read(path: &Path) -> Result<Self, ReleaseError> {
        let content =
            std::fs::read_to_string(path).map_err(|source| ReleaseError::PublicKeyUnreadable {
                path: path.to_owned(),
                source,
            })?;
        Self::decode(&content, path)
    }

    /// Starts checking a bundle against `signature`; feed it the bundle's bytes.
    pub fn verifier<'a>(
        &'a self,
        signature: &'a BundleSignature,
    ) -> Result<BundleVerifier<'a>, ReleaseError> {
        let sig = signature.minisign();
        let inner = match self.key.verify_stream(sig) {
            Ok(stream) => Inner::Stream(Box::new(stream)),
            Err(minisign_verify::Error::UnexpectedKeyId) => {
                return Err(ReleaseError::WrongKey {
                    key: self.path.clone(),
                })
            }
            // Legacy (not prehashed) signatures cannot be streamed: keep the bytes.
            Err(_) => Inner::Legacy(Vec::new()),
        };
        Ok(BundleVerifier {
            key: self,
            signature: sig,
            inner,
        })
    }

    /// Verifies a whole bundle on disk (reads it in chunks).
    pub fn verify_file(
        &self,
        signature: &BundleSignature,
        bundle: &Path,
    ) -> Result<(), ReleaseError> {
        let mut verifier = self.verifier(signature)?;
        let mut file =
            std::fs::File::open(bundle).map_err(|source| ReleaseError::BundleUnreadable {
                path: bundle.to_owned(),
                source,
            })?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|source| ReleaseError::BundleUnreadable {
                    path: bundle.to_owned(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            verifier.update(&buf[..n]);
        }
        verifier.finish(bundle)
    }
}

enum Inner<'a> {
    Stream(Box<minisign_verify::StreamVerifier<'a>>),
    Legacy(Vec<u8>),
}

/// Checks a bundle's bytes against a signature as they go by.
pub struct BundleVerifier<'a> {
    key: &'a TrustedKey,
    signature: &'a Signature,
    inner: Inner<'a>,
}

impl BundleVerifier<'_> {
    pub fn update(&mut self, chunk: &[u8]) {
        match &mut self.inner {
            Inner::Stream(stream) => stream.update(chunk),
            Inner::Legacy(bytes) => bytes.extend_from_slice(chunk),
        }
    }

    /// `Ok` when the bytes fed were signed by the key (`bundle` names them in the error).
    pub fn finish(self, bundle: &Path) -> Result<(), ReleaseError> {
        let result = match self.inner {
            Inner::Stream(mut stream) => stream.finalize(),
            Inner::Legacy(bytes) => self.key.key.verify(&bytes, self.signature, true),
        };
        result.map_err(|_| ReleaseError::BadSignature {
            bundle: bundle.to_owned(),
            key: self.key.path.clone(),
        })
    }
}

/// Standard base64 (whitespace not allowed, like the updater) of UTF-8 text.
fn decode_base64_text(b64: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("not base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "its base64 is not of text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made by the real tool, not by this crate's test signer:
    //   npx tauri signer generate --ci -p "" -w updater.key
    //   printf 'hello bundle' > Hongyan_0.2.0_amd64.deb
    //   npx tauri signer sign -f updater.key --app-version 0.2.0 Hongyan_0.2.0_amd64.deb
    const TAURI_BUNDLE: &[u8] = b"hello bundle";
    const TAURI_SIG: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IHNpZ25hdHVyZSBmcm9tIHRhdXJpIHNlY3JldCBrZXkKUlVSUTVqTGhicWZyT3o1TXFMTmt4MHJoRXhXTDJSVnROaFNBOU00QUpxOVdjbzMrUXF6endla05SbWR1V0I4OHVOdkxPVDJKVXVkYXBnRFdRQmRGNk1Ua3l4dzRKSUthRnc4PQp0cnVzdGVkIGNvbW1lbnQ6IHRpbWVzdGFtcDoxNzk1NjU0MjAyCWZpbGU6SG9uZ3lhbl8wLjIuMF9hbWQ2NC5kZWIJdmVyc2lvbjowLjIuMApSaXhySDJObTlwRkZOdUtwYlpKNFB4cG1DQ0lQWFhvVzlsY1JPRjI4Q1FVRFdYT3E1NFBTMVdCeGhsdUt5VEh6Z0xvNEZWbXJ4Qk9qZ2RPVXB3amZEZz09Cg==";
    const TAURI_PUB: &str = "dW50cnVzdGVkIGNvbW1lbnQ6IG1pbmlzaWduIHB1YmxpYyBrZXk6IDNCRUJBNzZFRTEzMkU2NTAKUldSUTVqTGhicWZyTzF4QWpUdDBtaGNvczdjZnQ0WngrWW1MelBCL3BkZ1dtcXVYeUE0VjZCV1oK";

    fn path() -> &'static Path {
        Path::new("x.sig")
    }

    fn verify_bytes(key: &TrustedKey, sig: &BundleSignature, bytes: &[u8]) -> bool {
        let mut v = key.verifier(sig).expect("same key id");
        // In two chunks, like a file read in pieces.
        let (a, b) = bytes.split_at(bytes.len() / 2);
        v.update(a);
        v.update(b);
        v.finish(path()).is_ok()
    }

    #[test]
    fn a_tauri_signer_signature_verifies_and_names_its_version() {
        let sig = BundleSignature::decode(&format!("{TAURI_SIG}\n"), path()).expect("decodes");
        assert_eq!(
            sig.base64(),
            TAURI_SIG,
            "whitespace trimmed, else kept as is"
        );
        assert_eq!(sig.signed_version(), Some("0.2.0"));
        assert!(sig.check_version("0.2.0").is_ok());
        let key = TrustedKey::decode(TAURI_PUB, Path::new("k.pub")).expect("key");
        assert!(verify_bytes(&key, &sig, TAURI_BUNDLE));
        assert!(
            !verify_bytes(&key, &sig, b"hello bundlf"),
            "one byte changed"
        );
        // The key's own text (not base64) is accepted too.
        let text = decode_base64_text(TAURI_PUB).expect("text");
        let key = TrustedKey::decode(&text, Path::new("k.pub")).expect("key text");
        assert!(verify_bytes(&key, &sig, TAURI_BUNDLE));
    }

    #[test]
    fn the_signed_version_must_be_the_published_one() {
        let sig = BundleSignature::decode(TAURI_SIG, path()).expect("decodes");
        let e = sig.check_version("0.3.0").expect_err("mismatch");
        assert_eq!(
            e.to_string(),
            "the signature was made for version 0.2.0, not 0.3.0 (its trusted comment says `version:0.2.0`)"
        );
        assert_eq!(signed_version("timestamp:1\tfile:a.deb"), None);
        assert_eq!(
            signed_version("timestamp:1\tfile:a.deb\tversion:1.2.3-rc.1"),
            Some("1.2.3-rc.1")
        );
    }

    #[test]
    fn garbage_is_not_a_signature() {
        let cases = [
            ("not base64 !!", "not base64"),
            ("aGVsbG8=", "Invalid encoding"), // "hello"
            ("//79", "not of text"),
        ];
        for (content, why) in cases {
            let e = BundleSignature::decode(content, path()).expect_err(content);
            assert!(matches!(e, ReleaseError::NotASignature { .. }), "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
        assert!(matches!(
            BundleSignature::decode(" \n", path()),
            Err(ReleaseError::SignatureEmpty(_))
        ));
        let e = TrustedKey::decode("aGVsbG8=", Path::new("k.pub")).expect_err("not a key");
        assert!(matches!(e, ReleaseError::NotAPublicKey { .. }), "{e}");
    }
}
