//! Writing files so that a reader never sees half of one: a temporary file in the same folder,
//! flushed, then renamed over the destination.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The temporary name used for `path` while it is being written (same folder, hidden).
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `bytes` to `path` atomically (temporary file + rename); the folder must exist. A
/// destination that exists and is not a regular file (a device such as `/dev/full` or
/// `/dev/stdout`, a pipe) is written directly, never replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.exists() && !path.is_file() {
        let res = std::fs::OpenOptions::new().write(true).open(path).and_then(|mut f| f.write_all(bytes).and_then(|_| f.flush()));
        return res.with_context(|| format!("writing {}", path.display()));
    }
    let tmp = temp_path(path);
    let res = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// [`write_atomic`] of `value` as pretty JSON.
pub fn write_json_atomic<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).with_context(|| format!("serialising {}", path.display()))?;
    write_atomic(path, text.as_bytes())
}
