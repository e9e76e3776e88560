//! Test keys and signatures in the format `tauri signer` writes (it signs with the same
//! `minisign` crate): the key and the signature each as base64 of minisign's text.

use std::io::Cursor;

use base64::Engine as _;

pub struct Signer {
    keys: minisign::KeyPair,
}

impl Signer {
    pub fn new() -> Self {
        Self {
            keys: minisign::KeyPair::generate_unencrypted_keypair().expect("keypair"),
        }
    }

    /// The `.pub` file's content.
    pub fn pubkey(&self) -> String {
        let text = self.keys.pk.to_box().expect("pk box").into_string();
        b64(&text)
    }

    /// A `.sig` file's content with this trusted comment.
    pub fn sign_with_comment(&self, bytes: &[u8], trusted_comment: &str) -> String {
        let sig = minisign::sign(
            Some(&self.keys.pk),
            &self.keys.sk,
            Cursor::new(bytes),
            Some(trusted_comment),
            Some("signature from tauri secret key"),
        )
        .expect("sign");
        b64(&sig.into_string())
    }

    /// What `tauri signer sign --app-version <version> <file>` writes.
    pub fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        self.sign_with_comment(
            bytes,
            &format!("timestamp:1795654202\tfile:{file}\tversion:{version}"),
        )
    }
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}
