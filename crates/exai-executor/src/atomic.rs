//! Writing a file in one step: the one way exai writes the files it keeps (a saved plan, a
//! generated SSH key pair, a secret handed over).
//!
//! The contents go to a temporary file beside the target (`.<name>.<random>.tmp`, created with
//! the target's mode, so a private file is never readable by others, not even for an instant),
//! are flushed to disk, and the temporary file is renamed into place with
//! `tempfile::NamedTempFile::persist` (or linked, never over an existing file, with
//! `persist_noclobber`). A crash or a full disk leaves the old file or the new one, never an
//! empty or partial one; a failed write removes its temporary file.

use std::io::{self, Write};
use std::path::Path;

/// What becomes of a file already at the target path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// It is replaced.
    Replace,
    /// It is kept, and the write fails with [`io::ErrorKind::AlreadyExists`].
    Keep,
}

/// Writes `contents` to `path` in one step: a temporary file in the same directory, created
/// with `mode` (on Unix; the process's umask applies, as for any file created), flushed to disk
/// and renamed into place, then the directory flushed so the rename is durable too.
pub fn write_atomically(path: &Path, contents: &[u8], mode: u32, existing: Existing) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut temporary = builder.tempfile_in(dir).map_err(without_temporary_path)?;
    // Through the `File`: `NamedTempFile`'s own `Write` names the temporary file in its errors.
    temporary.as_file_mut().write_all(contents)?;
    temporary.as_file().sync_all()?;
    // On failure the temporary file comes back in the error and is removed when it drops.
    match existing {
        Existing::Replace => temporary.persist(path).map_err(|e| e.error)?,
        Existing::Keep => temporary.persist_noclobber(path).map_err(|e| e.error)?,
    };
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Returns `error` without the ` at path "<temporary file>"` tempfile appends to a creation
/// error: the caller names the file it writes, and the temporary file's random name (which no
/// longer exists) would only make the message differ from one run to the next.
fn without_temporary_path(error: io::Error) -> io::Error {
    let text = error.to_string();
    match text.rsplit_once(" at path \"") {
        Some((cause, _)) => io::Error::new(error.kind(), cause.to_owned()),
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn a_replacing_write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write_atomically(&path, b"one", 0o666, Existing::Replace).unwrap();
        write_atomically(&path, b"two", 0o666, Existing::Replace).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(names(dir.path()), ["plan.json"]);
    }

    #[test]
    fn a_keeping_write_never_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_atomically(&path, b"first", 0o600, Existing::Keep).unwrap();
        let err = write_atomically(&path, b"second", 0o600, Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        assert_eq!(names(dir.path()), ["key"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_has_its_mode_from_creation() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.json");
        write_atomically(&path, b"{}", 0o600, Existing::Replace).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_write_into_a_missing_directory_or_to_no_file_name_fails() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomically(&dir.path().join("missing/plan.json"), b"x", 0o666, Existing::Replace).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(err.to_string(), io::Error::from_raw_os_error(2).to_string(), "the cause alone, as std::fs says it");
        let err = write_atomically(Path::new(""), b"x", 0o666, Existing::Replace).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }
}
