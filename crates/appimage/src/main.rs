//! `hongyan-appimage`: packs the built app into `Hongyan_<version>_amd64.AppImage` without
//! network access (docs/UPDATES.md, "AppImage").
//!
//! The AppDir holds the app binary (marked as an AppImage build, so the updater replaces the
//! AppImage file), its desktop entry and icons; `mksquashfs` packs it and the AppImage
//! runtime from the `appimage` crate goes in front. GTK and WebKitGTK are not bundled: the
//! AppImage uses the system's, the same libraries the .deb depends on.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Parser;

/// The app's name inside the AppDir (binary, desktop entry, icon).
const NAME: &str = "hongyan";

#[derive(Parser)]
#[command(about = "Packs the built Hongyan app into an AppImage (offline)")]
struct Args {
    /// The app binary built with the UI embedded (`tauri build`).
    #[arg(long)]
    binary: PathBuf,
    /// The app version (the file name's).
    #[arg(long)]
    version: String,
    /// The desktop entry template (src-tauri/packaging/hongyan.desktop).
    #[arg(long)]
    desktop_template: PathBuf,
    /// A square PNG icon (icons/128x128.png).
    #[arg(long)]
    icon: PathBuf,
    /// Where to write the AppImage (a folder).
    #[arg(long)]
    out: PathBuf,
}

/// Tauri's bundle-type marker: `tauri_utils::platform::__TAURI_BUNDLE_TYPE`, a `&str` static
/// whose text the bundler rewrites (`…_VAR_UNK` in a plain build, `…_VAR_DEB` in a .deb) so
/// the app knows how it was installed and its updater which installer to use.
const BUNDLE_TYPE_SYMBOL: &str = "__TAURI_BUNDLE_TYPE";
const BUNDLE_TYPE_PREFIX: &[u8] = b"__TAURI_BUNDLE_TYPE_VAR_";

/// Marks the ELF `binary` as an AppImage build (`…_VAR_APP`), whatever it was marked before.
///
/// The static is a pointer + length; in a position-independent executable the pointer is a
/// dynamic relocation whose addend is the text's address. That text is found through the
/// symbol, never by searching: the same prefix also appears in the comparison strings.
fn mark_as_appimage(binary: &mut [u8]) -> Result<()> {
    use object::{Object, ObjectSection, ObjectSymbol};
    let text_at = {
        let elf = object::File::parse(&*binary).context("not an ELF executable")?;
        let symbol = elf
            .symbols()
            .find(|s| s.name().is_ok_and(|n| n.contains(BUNDLE_TYPE_SYMBOL)))
            .context("no __TAURI_BUNDLE_TYPE symbol: is this a Tauri 2 app with its symbols?")?;
        let slot = symbol.address();
        let text = match elf
            .dynamic_relocations()
            .into_iter()
            .flatten()
            .find(|(offset, _)| *offset == slot)
        {
            Some((_, reloc)) => u64::try_from(reloc.addend()).context("negative addend")?,
            // Not position-independent: the pointer is in the file.
            None => {
                let section = elf
                    .sections()
                    .find(|s| (s.address()..s.address() + s.size()).contains(&slot))
                    .context("the symbol is in no section")?;
                let data = section.data()?;
                let at = usize::try_from(slot - section.address())?;
                let bytes = data.get(at..at + 8).context("the pointer is cut short")?;
                u64::from_le_bytes(bytes.try_into()?)
            }
        };
        let section = elf
            .sections()
            .find(|s| (s.address()..s.address() + s.size()).contains(&text))
            .context("the marker text is in no section")?;
        let (file_start, _) = section
            .file_range()
            .context("the marker text is not in the file")?;
        usize::try_from(file_start + (text - section.address()))?
    };
    let end = text_at + BUNDLE_TYPE_PREFIX.len();
    if binary.get(text_at..end) != Some(BUNDLE_TYPE_PREFIX) {
        bail!("the bundle-type symbol does not point at its marker text");
    }
    let letters = binary
        .get_mut(end..end + 3)
        .context("the marker is cut short")?;
    letters.copy_from_slice(b"APP");
    Ok(())
}

/// The desktop entry from the packages' template (the variables Tauri's bundler fills in).
fn desktop_entry(template: &str) -> String {
    template
        .replace("{{name}}", "Hongyan")
        .replace("{{comment}}", "Hongyan (鸿雁) instant messenger")
        .replace("{{exec}}", NAME)
        .replace("{{icon}}", NAME)
}

fn build(args: &Args) -> Result<PathBuf> {
    let mut binary = std::fs::read(&args.binary)
        .with_context(|| format!("reading {}", args.binary.display()))?;
    mark_as_appimage(&mut binary)?;
    let template = std::fs::read_to_string(&args.desktop_template)
        .with_context(|| format!("reading {}", args.desktop_template.display()))?;

    std::fs::create_dir_all(&args.out)?;
    let work = tempdir_in(&args.out)?;
    let image = appimage::AppImage::new(&work, NAME.to_owned())?;
    let appdir = image.appdir().to_owned();
    let bin = appdir.join("usr/bin").join(NAME);
    std::fs::create_dir_all(bin.parent().context("usr/bin")?)?;
    std::fs::write(&bin, &binary)?;
    set_executable(&bin)?;
    std::os::unix::fs::symlink(Path::new("usr/bin").join(NAME), appdir.join("AppRun"))?;
    std::fs::write(
        appdir.join(format!("{NAME}.desktop")),
        desktop_entry(&template),
    )?;
    image.add_icon(&args.icon)?;

    let out = args
        .out
        .join(format!("Hongyan_{}_amd64.AppImage", args.version));
    image
        .build(&out, None)
        .context("building the AppImage (mksquashfs from squashfs-tools is needed)")?;
    std::fs::remove_dir_all(&work).ok();
    Ok(out)
}

fn set_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// A fresh work folder beside the output (the AppDir and the squashfs image).
fn tempdir_in(out: &Path) -> Result<PathBuf> {
    let dir = out.join(".appimage-work");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let out = build(&args)?;
    println!("{}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This very test binary carries no Tauri marker: a clear error, nothing changed.
    #[test]
    fn a_binary_without_the_marker_is_refused() {
        let exe = std::env::current_exe().unwrap();
        let mut bytes = std::fs::read(exe).unwrap();
        let before = bytes.clone();
        let err = mark_as_appimage(&mut bytes).unwrap_err().to_string();
        assert!(err.contains("__TAURI_BUNDLE_TYPE"), "{err}");
        assert!(bytes == before);
        assert!(mark_as_appimage(&mut b"not an ELF".to_vec()).is_err());
    }

    #[test]
    fn the_desktop_entry_fills_the_template() {
        let entry =
            desktop_entry("Name={{name}}\nExec={{exec}}\nIcon={{icon}}\nComment={{comment}}\n");
        assert_eq!(
            entry,
            "Name=Hongyan\nExec=hongyan\nIcon=hongyan\nComment=Hongyan (鸿雁) instant messenger\n"
        );
    }

    /// A stand-in for the app: a C program with Tauri's marker as a global pointer (and the
    /// same prefix in other strings, as in the real binary), compiled like Rust compiles.
    fn stand_in(dir: &Path, pie: bool) -> PathBuf {
        let src = dir.join("app.c");
        std::fs::write(
            &src,
            r#"#include <stdio.h>
const char *volatile __TAURI_BUNDLE_TYPE = "__TAURI_BUNDLE_TYPE_VAR_UNK";
const char *volatile others = "__TAURI_BUNDLE_TYPE_VAR_DEB__TAURI_BUNDLE_TYPE_VAR_APP";
int main(void) { printf("%s %s\n", __TAURI_BUNDLE_TYPE, others); return 0; }
"#,
        )
        .unwrap();
        let bin = dir.join(if pie { "app-pie" } else { "app-no-pie" });
        let status = std::process::Command::new("gcc")
            .arg(if pie { "-pie" } else { "-no-pie" })
            .arg(if pie { "-fPIE" } else { "-fno-PIE" })
            .arg("-o")
            .arg(&bin)
            .arg(&src)
            .status()
            .expect("gcc (build-essential)");
        assert!(status.success());
        bin
    }

    #[test]
    fn the_marker_the_program_reads_becomes_app() {
        let tmp = tempfile::tempdir().unwrap();
        for pie in [true, false] {
            let bin = stand_in(tmp.path(), pie);
            let mut bytes = std::fs::read(&bin).unwrap();
            mark_as_appimage(&mut bytes).unwrap();
            std::fs::write(&bin, &bytes).unwrap();
            let out = std::process::Command::new(&bin).output().unwrap();
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "__TAURI_BUNDLE_TYPE_VAR_APP __TAURI_BUNDLE_TYPE_VAR_DEB__TAURI_BUNDLE_TYPE_VAR_APP\n",
                "pie: {pie}"
            );
        }
    }

    /// A real AppImage: the runtime in front (ELF, AppImage type-2 magic), and run the way
    /// a machine without FUSE runs it, the packed program starts, marked as an AppImage.
    #[test]
    fn builds_an_appimage_that_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let template = tmp.path().join("t.desktop");
        std::fs::write(&template, "[Desktop Entry]\nName={{name}}\nExec={{exec}}\nIcon={{icon}}\nType=Application\nCategories=Network;\n").unwrap();
        let icon = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../icons/32x32.png");
        let args = Args {
            binary: stand_in(tmp.path(), true),
            version: "9.8.7".into(),
            desktop_template: template,
            icon,
            out: tmp.path().join("out"),
        };
        let out = build(&args).unwrap();
        assert_eq!(out.file_name().unwrap(), "Hongyan_9.8.7_amd64.AppImage");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..4], b"\x7fELF");
        assert_eq!(&bytes[8..11], b"AI\x02", "AppImage type 2 magic");
        let ran = std::process::Command::new(&out)
            .env("APPIMAGE_EXTRACT_AND_RUN", "1")
            .env("TMPDIR", tmp.path())
            .output()
            .unwrap();
        assert!(ran.status.success(), "{ran:?}");
        assert!(
            String::from_utf8_lossy(&ran.stdout).starts_with("__TAURI_BUNDLE_TYPE_VAR_APP "),
            "{ran:?}"
        );
        assert!(!tmp.path().join("out/.appimage-work").exists());
    }
}
