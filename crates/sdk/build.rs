//! Reads `core_level` from the one place the release's versions live: the workspace
//! `Cargo.toml`, `[workspace.metadata.hongyan] core-level` (docs/UPDATES.md).

use std::{env, fs, path::Path};

fn main() {
    let manifest =
        Path::new(&env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../../Cargo.toml");
    println!("cargo:rerun-if-changed={}", manifest.display());
    let text = fs::read_to_string(&manifest)
        .unwrap_or_else(|e| panic!("reading {}: {e}", manifest.display()));
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", manifest.display()));
    let level = doc
        .get("workspace")
        .and_then(|w| w.get("metadata"))
        .and_then(|m| m.get("hongyan"))
        .and_then(|h| h.get("core-level"))
        .and_then(toml::Value::as_integer)
        .unwrap_or_else(|| {
            panic!(
                "{}: [workspace.metadata.hongyan] core-level (an integer) is missing",
                manifest.display()
            )
        });
    let level = u32::try_from(level).unwrap_or_else(|_| panic!("core-level {level} is not a u32"));
    println!("cargo:rustc-env=HONGYAN_CORE_LEVEL={level}");
}
