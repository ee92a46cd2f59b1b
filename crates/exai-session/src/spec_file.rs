//! Reading the spec file: its bytes, their digest, and the spec they hold.

use std::path::Path;

/// A spec read from disk.
#[derive(Debug)]
pub struct SpecFile {
    /// The spec.
    pub spec: exai_spec::Spec,
    /// The path, as shown and recorded in plans.
    pub file: String,
    /// `sha256:` and the digest of the file's bytes, recorded in plans.
    pub digest: String,
    /// The file's text, for the source lines of diagnostics.
    pub source: String,
}

/// Why the spec file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// There is no file to read at the path.
    #[error("cannot read the spec `{file}`: {source}")]
    Missing {
        /// The path, as shown.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file exists and its bytes cannot be read.
    #[error("cannot read the spec `{file}`: {source}")]
    Unreadable {
        /// The path, as shown.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than any spec exai reads.
    #[error("the spec `{file}` is {size} bytes; exai reads specs of at most {} bytes", exai_spec::MAX_SPEC_BYTES)]
    TooLarge {
        /// The path, as shown.
        file: String,
        /// Its size in bytes.
        size: u64,
    },
    /// The file is not UTF-8 text.
    #[error("the spec `{file}` is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// The path, as shown.
        file: String,
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// The spec has problems, each located in `source`.
    #[error("{error}")]
    Invalid {
        /// The problems.
        error: exai_spec::SpecError,
        /// The file's text, for their source lines.
        text: String,
    },
}

impl LoadError {
    /// Returns what to do next, where something can be said.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::Missing { .. } => {
                "pass the spec with `-f FILE`; without it exai reads `./exai.yaml` (the example is `specs/exai.yaml`)"
            }
            Self::TooLarge { .. } => "check that this is the right file: a platform description is a few kilobytes",
            Self::NotUtf8 { .. } => "save the file as UTF-8",
            Self::Unreadable { .. } | Self::Invalid { .. } => return None,
        };
        Some(hint.to_owned())
    }
}

/// Reads and validates the spec at `path`, resolving `${VAR}` through `env`.
pub fn read_spec(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<SpecFile, LoadError> {
    let file = path.display().to_string();
    let metadata = std::fs::metadata(path).map_err(|source| LoadError::Missing { file: file.clone(), source })?;
    if metadata.len() > exai_spec::MAX_SPEC_BYTES as u64 {
        return Err(LoadError::TooLarge { file, size: metadata.len() });
    }
    let bytes = std::fs::read(path).map_err(|source| LoadError::Unreadable { file: file.clone(), source })?;
    let digest = exai_model::sha256_digest(&bytes);
    let text = String::from_utf8(bytes)
        .map_err(|e| LoadError::NotUtf8 { file: file.clone(), offset: e.utf8_error().valid_up_to() })?;
    let spec = exai_spec::parse(&file, &text, env).map_err(|error| LoadError::Invalid { error, text: text.clone() })?;
    Ok(SpecFile { spec, file, digest, source: text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_file_is_read_with_its_digest_or_refused_with_what_to_do() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("exai.yaml");
        let env = |_: &str| Some("00000000-0000-0000-0000-000000000000".to_owned());
        let missing = read_spec(&path, &env).unwrap_err();
        assert!(matches!(missing, LoadError::Missing { .. }));
        assert!(missing.hint().is_some_and(|h| h.starts_with("pass the spec with `-f FILE`")));

        std::fs::write(&path, b"version: 1\n\xff").expect("write");
        let not_text = read_spec(&path, &env).unwrap_err();
        assert_eq!(
            not_text.to_string(),
            format!("the spec `{}` is not UTF-8 text (invalid byte at offset 11)", path.display())
        );

        let text = include_str!("../../../specs/valid/minimal.yaml");
        std::fs::write(&path, text).expect("write");
        let read = read_spec(&path, &env).expect("the minimal spec");
        assert_eq!(read.digest, exai_model::sha256_digest(text.as_bytes()));
        assert_eq!((read.file, read.source.as_str()), (path.display().to_string(), text));

        std::fs::write(&path, "version: 2\n").expect("write");
        assert!(matches!(read_spec(&path, &env), Err(LoadError::Invalid { text, .. }) if text == "version: 2\n"));
    }
}
