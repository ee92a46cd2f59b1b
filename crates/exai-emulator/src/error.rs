//! The one error type of the emulator library.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything that can stop the emulator from starting, saving or stopping.
///
/// Errors a *client* causes (a bad token, a malformed body) are never an `EmulatorError`: they are
/// answered over HTTP in Azure's own error shapes, as Azure would answer them.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The TLS certificate authority or the server certificate could not be generated.
    #[error(
        "could not generate the emulator's TLS certificates: {message}\nhint: this is a bug in the emulator; please report it"
    )]
    Certificate {
        /// What the certificate library reported.
        message: String,
    },

    /// The TLS server configuration could not be built from the generated certificates.
    #[error(
        "could not configure TLS for the emulator: {source}\nhint: this is a bug in the emulator; please report it"
    )]
    Tls {
        /// The error from the TLS library.
        source: std::io::Error,
    },

    /// The listen address could not be bound.
    #[error(
        "could not listen on `{address}`: {source}\nhint: choose another address or port (port 0 picks a free one), or stop the process that holds it"
    )]
    Bind {
        /// The address the emulator tried to listen on.
        address: SocketAddr,
        /// The error from the operating system.
        source: std::io::Error,
    },

    /// The HTTPS server stopped with an error.
    #[error("the emulator's HTTPS server failed: {source}\nhint: restart the emulator")]
    Server {
        /// The error the server stopped with.
        source: std::io::Error,
    },

    /// The state file exists but could not be read.
    #[error(
        "could not read the emulator state file `{path}`: {source}\nhint: check the file's permissions, or point the emulator at another state file"
    )]
    StateRead {
        /// The state file.
        path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },

    /// The state file is not a valid emulator state file (not JSON, or not the expected shape).
    #[error(
        "the emulator state file `{path}` is corrupt: {message}\nhint: fix the file or move it away; the emulator never overwrites a file it cannot read"
    )]
    StateCorrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// The state file was written by an emulator with another state format version.
    #[error(
        "the emulator state file `{path}` has format version {found}, but this emulator reads only version {supported}\nhint: use the exai version that wrote it, or move the file away to start from an empty state"
    )]
    StateVersion {
        /// The state file.
        path: PathBuf,
        /// The version found in the file.
        found: u64,
        /// The version this emulator reads and writes.
        supported: u32,
    },

    /// Another emulator is already using the state file.
    #[error(
        "the emulator state file `{path}` is in use by another emulator (lock file `{lock_path}` is held)\nhint: stop the other emulator, or give this one another state file"
    )]
    StateInUse {
        /// The state file.
        path: PathBuf,
        /// The lock file that is held.
        lock_path: PathBuf,
    },

    /// The lock file next to the state file could not be created or locked.
    #[error(
        "could not lock the emulator state file `{path}` through `{lock_path}`: {source}\nhint: check that the directory is writable and its file system supports locks"
    )]
    StateLock {
        /// The state file.
        path: PathBuf,
        /// The lock file.
        lock_path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },

    /// The state could not be saved.
    #[error(
        "could not save the emulator state to `{path}`: {source}\nhint: check that the directory exists, is writable and has free space"
    )]
    StateWrite {
        /// The state file.
        path: PathBuf,
        /// The error from the operating system or the serializer.
        source: std::io::Error,
    },

    /// The request log file could not be opened.
    #[error(
        "could not open the request log file `{path}`: {source}\nhint: check that the directory exists and is writable, or run without a request log file"
    )]
    RequestLog {
        /// The request log file.
        path: PathBuf,
        /// The error from the operating system.
        source: std::io::Error,
    },
}
