//! Zipped files, unpacked within the import's bound before GDAL sees them.
//!
//! GDAL's `/vsizip/` inflates whatever a zip holds, as far as it goes: a
//! 334 KB zip of a 98 MB GeoJSON reached the reader whole. Here the sizes
//! the zip declares are added up first, before anything is inflated; then
//! each file is inflated to a temporary folder counting the bytes actually
//! written, since declared sizes can lie, and the count stops at the bound.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::limits::{Bound, MAX_ZIP_ENTRIES};
use super::{FileProblem, ImportError};

/// Whether the file starts like a zip (a local file header, or the end
/// record of an empty zip).
pub(super) fn is_zip(path: &Path) -> bool {
    let mut head = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && matches!(&head, b"PK\x03\x04" | b"PK\x05\x06")
}

/// Unpacks `zip` into `into` (`None`: inflates to nowhere, only counting,
/// for a zipped format GDAL opens itself such as KMZ), refusing beyond
/// `max_bytes` uncompressed. Returns the files written, relative to `into`.
/// `shown` is the zip as messages name it.
///
/// # Errors
/// [`ImportError::OverBound`] past the bound (declared or inflated), and
/// [`ImportError::File`] for a zip that cannot be read, a file that would
/// land outside `into`, or an archive inside the archive.
pub(super) fn unpack(
    zip: &Path,
    shown: &Path,
    into: Option<&Path>,
    max_bytes: u64,
) -> Result<Vec<PathBuf>, ImportError> {
    let problem = |problem| ImportError::File {
        file: shown.to_owned(),
        problem,
    };
    let broken = |e: &dyn std::fmt::Display| {
        problem(FileProblem::Archive {
            reason: e.to_string(),
        })
    };
    let over = |what: String, bound| ImportError::OverBound {
        file: shown.to_owned(),
        what,
        bound,
    };
    let file = File::open(zip).map_err(|e| broken(&e))?;
    let mut archive = zip::ZipArchive::new(io::BufReader::new(file)).map_err(|e| broken(&e))?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(over(
            format!("the zip holds {} files", archive.len()),
            Bound::ZipEntries(MAX_ZIP_ENTRIES),
        ));
    }
    // The declared sizes first, before inflating anything.
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| broken(&e))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > max_bytes {
        return Err(over(
            format!("its files declare {declared} bytes uncompressed"),
            Bound::Uncompressed(max_bytes),
        ));
    }
    let mut written = Vec::new();
    let mut left = max_bytes;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| broken(&e))?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            continue;
        }
        let Some(relative) = entry.enclosed_name() else {
            return Err(problem(FileProblem::UnsafeEntry { name }));
        };
        let mut sink: Box<dyn Write> = match into {
            None => Box::new(io::sink()),
            Some(dir) => {
                let path = dir.join(&relative);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| broken(&e))?;
                }
                Box::new(File::create(&path).map_err(|e| broken(&e))?)
            }
        };
        // One byte past what is left tells an entry that goes over.
        let mut limited = (&mut entry).take(left.saturating_add(1));
        let mut head = [0u8; 4];
        let n = read_up_to(&mut limited, &mut head).map_err(|e| broken(&e))?;
        if matches!(&head[..n], b"PK\x03\x04" | b"PK\x05\x06") {
            return Err(problem(FileProblem::NestedArchive { name }));
        }
        sink.write_all(&head[..n]).map_err(|e| broken(&e))?;
        let copied = io::copy(&mut limited, &mut sink).map_err(|e| broken(&e))? + n as u64;
        if copied > left {
            return Err(over(
                format!("{name} inflates past what the zip declares ({declared} bytes in all)"),
                Bound::Uncompressed(max_bytes),
            ));
        }
        left -= copied;
        sink.flush().map_err(|e| broken(&e))?;
        written.push(relative);
    }
    Ok(written)
}

/// Reads until `buf` is full or the reader ends; the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
