//! urbancast-io: every file urbancast writes goes to a temporary file in the same folder and
//! is renamed over the destination when complete, so a reader (or a run killed half-way)
//! never sees half a file. A destination that exists and is not a regular file (a device such
//! as `/dev/full`, a pipe) is written directly, never replaced.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The temporary name used for `path` while it is written: hidden, in the same folder, with
/// the same extension (writers that pick the format from the extension still work).
pub fn temp_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{stem}.tmp-{}{ext}", std::process::id()))
}

/// Runs `write` on a temporary path beside `path`, then renames the result to `path`. On
/// error the temporary file is removed and `path` is left as it was.
pub fn with_temp<T, E: Into<anyhow::Error>>(path: &Path, write: impl FnOnce(&Path) -> Result<T, E>) -> Result<T> {
    if path.exists() && !path.is_file() {
        return write(path).map_err(Into::into);
    }
    let tmp = temp_path(path);
    match write(&tmp) {
        Ok(v) => {
            std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
            Ok(v)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e.into())
        }
    }
}

/// Writes `bytes` to `path` through a temporary file (see [`with_temp`]); the folder must exist.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    let bytes = bytes.as_ref();
    with_temp(path, |p| -> Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(p)?;
        f.write_all(bytes)?;
        f.flush()?;
        Ok(())
    })
    .with_context(|| format!("writing {}", path.display()))
}

/// [`write_atomic`] of `value` as pretty JSON.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).with_context(|| format!("serialising {}", path.display()))?;
    write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_atomic(&p, b"old").unwrap();
        let r: Result<()> = with_temp(&p, |t| -> Result<()> {
            std::fs::write(t, b"half")?;
            anyhow::bail!("disk full")
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "no temporary left behind");
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(temp_path(&p).extension().unwrap(), "json");
    }
}
