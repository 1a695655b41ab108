//! Reading numeric arrays from `.npy` files and `.npz` archives, as `f32`.
//!
//! Only plain numeric dtypes are accepted (float64/32, signed and unsigned integers, bool); object
//! arrays are refused and nothing is ever unpickled. From an `.npz` only the requested member is
//! read, so archives that also hold a pickled member (MetaST's `config.npy`) are fine.
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::ReadNpyExt;

use crate::error::{DataError, Result};

/// Names of the arrays in an `.npz` archive (the `.npy` suffix stripped, as NumPy does).
pub fn npz_keys(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let zip = open_zip(path)?;
    Ok(zip.file_names().map(|n| n.strip_suffix(".npy").unwrap_or(n).to_string()).collect())
}

/// Reads member `key` (with or without `.npy`) of an `.npz` archive as `f32`, whatever its
/// numeric dtype. A missing key is a [`DataError::MissingKey`] listing the keys present.
pub fn read_npz_array(path: impl AsRef<Path>, key: &str) -> Result<ArrayD<f32>> {
    let path = path.as_ref();
    let mut zip = open_zip(path)?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let member = [key.to_string(), format!("{key}.npy")].into_iter().find(|n| names.contains(n));
    let Some(member) = member else {
        let mut present: Vec<&str> = names.iter().map(|n| n.strip_suffix(".npy").unwrap_or(n)).collect();
        present.sort_unstable();
        return Err(DataError::MissingKey { path: path.into(), key: key.into(), present: present.join(", ") });
    };
    let mut entry = zip.by_name(&member).map_err(|e| DataError::format(path, format!("key `{key}`: cannot read archive member: {e}")))?;
    // The declared size is only a hint: cap the pre-allocation so a lying header cannot exhaust memory.
    let mut bytes = Vec::with_capacity(entry.size().min(1 << 28) as usize);
    entry.read_to_end(&mut bytes).map_err(|e| DataError::format(path, format!("key `{key}`: cannot decompress archive member: {e}")))?;
    parse_npy(&bytes, path, Some(key))
}

/// Reads a `.npy` file as `f32`, whatever its numeric dtype.
pub fn read_npy_array(path: impl AsRef<Path>) -> Result<ArrayD<f32>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_npy(&bytes, path, None)
}

/// Checks an array shape against a pattern such as `"T, lng, lat, 2"`: the rank must match, and
/// numeric entries are required sizes (named entries are free). Fails with [`DataError::Shape`].
pub fn check_shape(path: impl AsRef<Path>, key: &str, found: &[usize], pattern: &str) -> Result<()> {
    let want: Vec<&str> = pattern.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let ok = want.len() == found.len() && want.iter().zip(found).all(|(w, f)| w.parse::<usize>().map_or(true, |n| n == *f));
    if ok {
        Ok(())
    } else {
        Err(DataError::Shape { path: path.as_ref().into(), key: key.into(), expected: format!("shape ({pattern})"), found: found.to_vec() })
    }
}

/// Returns a closure that moves a [`DataError::City`] (from [`crate::City::new`] and friends) to
/// a [`DataError::Format`] naming `path`, keeping the original text (step / region / channel).
pub fn in_file(path: &Path) -> impl FnOnce(DataError) -> DataError + '_ {
    move |e| match e {
        DataError::City { city, what } => DataError::format(path, format!("city `{city}`: {what}")),
        other => other,
    }
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    zip::ZipArchive::new(BufReader::new(file)).map_err(|e| DataError::format(path, format!("not a readable .npz (zip) archive: {e}")))
}

/// The parts of an `.npy` header we need.
struct Header {
    descr: String,
    shape: Vec<usize>,
    data_len: usize,
}

/// Parses the `.npy` header (magic, version, dict) without evaluating anything.
fn parse_header(bytes: &[u8]) -> std::result::Result<Header, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy array (bad magic bytes)".into());
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let end = start.checked_add(len).filter(|&e| e <= bytes.len()).ok_or("truncated .npy header")?;
    let dict = String::from_utf8_lossy(&bytes[start..end]);
    let after = |k: &str| dict.find(k).map(|i| dict[i + k.len()..].trim_start().trim_start_matches(':').trim_start());
    let descr_rest = after("'descr'").or_else(|| after("\"descr\"")).ok_or("header has no `descr`")?;
    let quote = descr_rest.chars().next().filter(|c| *c == '\'' || *c == '"');
    let descr = match quote {
        Some(q) => descr_rest[1..].split(q).next().unwrap_or_default().to_string(),
        None => {
            return Err(format!("unsupported structured dtype {}", descr_rest.split('}').next().unwrap_or("")));
        }
    };
    let shape_rest = after("'shape'").or_else(|| after("\"shape\"")).ok_or("header has no `shape`")?;
    let inner = shape_rest.strip_prefix('(').and_then(|s| s.split(')').next()).ok_or("malformed `shape` in header")?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>().map_err(|_| format!("bad shape entry `{s}`")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Header { descr, shape, data_len: bytes.len() - end })
}

/// Decodes a whole `.npy` byte buffer into `f32`, checking the header against the data size
/// before anything is allocated.
fn parse_npy(bytes: &[u8], path: &Path, key: Option<&str>) -> Result<ArrayD<f32>> {
    let fail = |what: String| match key {
        Some(key) => DataError::format(path, format!("key `{key}`: {what}")),
        None => DataError::format(path, what),
    };
    let h = parse_header(bytes).map_err(fail)?;
    let d = h.descr.as_bytes();
    let (kind, size) = match d {
        [_, k, rest @ ..] if b"<>|=".contains(&d[0]) => (*k, std::str::from_utf8(rest).ok().and_then(|s| s.parse::<usize>().ok())),
        _ => (0, None),
    };
    let supported = matches!((kind, size), (b'f', Some(4 | 8)) | (b'i' | b'u', Some(1 | 2 | 4 | 8)) | (b'b', Some(1)));
    let Some(size) = size.filter(|_| supported) else {
        return Err(fail(format!("unsupported dtype `{}` (need a numeric float/int array; object arrays are never unpickled)", h.descr)));
    };
    let need = h.shape.iter().try_fold(size, |acc, &n| acc.checked_mul(n));
    if need != Some(h.data_len) {
        return Err(fail(format!(
            "header shape {:?} of `{}` needs {} bytes of data but {} are present",
            h.shape,
            h.descr,
            need.map_or("too many".to_string(), |n| n.to_string()),
            h.data_len
        )));
    }
    let decoded = match (kind, size) {
        (b'f', 8) => ArrayD::<f64>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'f', _) => ArrayD::<f32>::read_npy(bytes),
        (b'i', 1) => ArrayD::<i8>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'i', 2) => ArrayD::<i16>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'i', 4) => ArrayD::<i32>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'i', _) => ArrayD::<i64>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'u', 1) => ArrayD::<u8>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'u', 2) => ArrayD::<u16>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'u', 4) => ArrayD::<u32>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        (b'u', _) => ArrayD::<u64>::read_npy(bytes).map(|a| a.mapv(|v| v as f32)),
        _ => ArrayD::<bool>::read_npy(bytes).map(|a| a.mapv(|v| v as u8 as f32)),
    }
    .map_err(|e| fail(format!("cannot decode .npy data: {e}")))?;
    // Fortran-ordered files decode to column-major arrays; hand out row-major ones.
    Ok(if decoded.is_standard_layout() { decoded } else { decoded.as_standard_layout().into_owned() })
}
