//! Resolving each cluster's SSH public key before planning: read from the file the spec names,
//! or generated once and kept under `.exai/ssh/`.
//!
//! This is the one step between the spec and the plan that touches the filesystem, which is why
//! it lives here and not in `exai-spec` or `exai-model` (no I/O there). It fills
//! [`Cluster::ssh_public_key`](exai_model::kinds::Cluster) so the cluster's create body carries
//! `linuxProfile.ssh.publicKeys[0].keyData`, the way `az aks create --generate-ssh-keys` does
//! (azure-cli `acs/_validators.py` `validate_ssh_key` and azure-cli-core `keys.py`,
//! `shared/reference/azure-rest-facts.md` §3b): an existing public key is reused, a public key is
//! re-derived from an existing private key, and only when neither exists is a new pair written
//! (private key mode 0600, directory 0700). A key is never overwritten.
//!
//! Only RSA keys are accepted: AKS refuses others ("The value of parameter
//! linuxProfile.ssh.publicKeys.keyData is invalid" for an Ed25519 key, Azure/AKS#4431, 2024;
//! the CLI's validator accepts only `ssh-rsa`, facts §3b). Azure's minimum is 2048 bits
//! (learn.microsoft.com "Detailed steps: Create and manage SSH keys", supported formats); exai
//! generates 4096.
//!
//! The private key is written to its file and nowhere else: not in notes, errors or logs.

use exai_model::DesiredSpec;
use exai_model::DesiredState;
use exai_model::kinds::SshKeySource;
use ssh_key::{Algorithm, LineEnding, PrivateKey, PublicKey};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The size of generated RSA keys, in bits.
pub const GENERATED_KEY_BITS: usize = 4096;

/// The smallest RSA key Azure accepts, in bits ("SSH protocol 2 (SSH-2) RSA public-private key
/// pairs with a minimum length of 2048 bits", learn.microsoft.com, supported SSH key formats).
pub const MIN_RSA_BITS: u32 = 2048;

/// An SSH key could not be read or generated.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The public key file could not be read.
    #[error("cannot read the SSH public key file `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The file does not hold an OpenSSH public key.
    #[error("`{path}` is not an OpenSSH public key: {reason}")]
    NotAPublicKey {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key is of a kind AKS refuses.
    #[error("`{path}` holds {what}, which AKS refuses: it accepts only RSA keys of at least {MIN_RSA_BITS} bits")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The kind of key found (e.g. an `ssh-ed25519` key).
        what: String,
    },
    /// A path starts with `~` and there is no home directory to expand it with.
    #[error("cannot expand `~` in `{path}`: `HOME` is not set")]
    NoHome {
        /// The path as written in the spec.
        path: String,
    },
    /// A generated key could not be written.
    #[error("cannot write the SSH key file `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The key pair could not be generated, or the existing private key could not be read.
    #[error("cannot {action} the SSH key `{path}`: {message}")]
    Key {
        /// What was being done (`generate`, `read`).
        action: &'static str,
        /// The private key's file.
        path: PathBuf,
        /// What went wrong (never key material).
        message: String,
    },
}

impl PrepareError {
    /// Returns what to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::Read { .. } => "check `ssh.publicKeyFile` in the spec, or use `ssh: { generate: true }`".to_owned(),
            Self::NotAPublicKey { .. } => {
                "point `ssh.publicKeyFile` at the `.pub` file (one line starting with `ssh-rsa AAAA`), never the private key".to_owned()
            }
            Self::Unsupported { .. } => {
                "create an RSA key (`ssh-keygen -t rsa -b 4096`) and point `ssh.publicKeyFile` at its `.pub`, or use `ssh: { generate: true }`".to_owned()
            }
            Self::NoHome { .. } => "set `HOME`, or write the path without `~`".to_owned(),
            Self::Write { .. } => "check that the directory is writable".to_owned(),
            Self::Key { .. } => {
                "move the unreadable key files out of `.exai/ssh/` to let exai generate a new pair (nothing was overwritten)".to_owned()
            }
        }
    }
}

/// Whether preparing may create files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGeneration {
    /// Generate a key pair the spec asks for and does not have yet (`apply`).
    Allowed,
    /// Never write: a key not generated yet stays unknown (`plan`, `validate`, dry runs:
    /// they must have no side effects). The plan does not compare SSH keys, so nothing is lost.
    Forbidden,
}

/// Fills the SSH public key of every cluster in `desired`, and returns one note per cluster
/// saying where its key came from. Relative paths are taken from `base` (the spec's
/// directory), generated keys live in `<base>/.exai/ssh/<address>` and `<address>.pub`.
pub fn prepare_ssh_keys(
    desired: &mut DesiredState,
    base: &Path,
    generation: KeyGeneration,
) -> Result<Vec<String>, PrepareError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    prepare_with_home(desired, base, home.as_deref(), generation)
}

fn prepare_with_home(
    desired: &mut DesiredState,
    base: &Path,
    home: Option<&Path>,
    generation: KeyGeneration,
) -> Result<Vec<String>, PrepareError> {
    let mut notes = Vec::new();
    for resource in &mut desired.resources {
        let DesiredSpec::Cluster(cluster) = &mut resource.spec else {
            continue;
        };
        let address = resource.address.as_str();
        let (key, note) = match &cluster.ssh {
            SshKeySource::File { path } => {
                let file = expand(path, base, home)?;
                let key = read_public_key(&file)?;
                (key, format!("{address}: SSH public key read from `{}`", file.display()))
            }
            SshKeySource::Generate => {
                let dir = base.join(".exai").join("ssh");
                let exists = dir.join(format!("{address}.pub")).exists() || dir.join(address).exists();
                if !exists && generation == KeyGeneration::Forbidden {
                    notes.push(format!("{address}: an SSH key pair will be generated by `exai apply`"));
                    continue;
                }
                generated_key(&dir, address)?
            }
        };
        cluster.ssh_public_key = Some(key);
        notes.push(note);
    }
    Ok(notes)
}

/// Sets the expiry of every client secret in `desired` to `now` plus its `expiresInDays`
/// (RFC 3339, whole seconds, UTC), as `addPassword`'s `endDateTime`. The model has no clock;
/// this is where the one moment an apply runs at enters the requests.
pub fn prepare_secrets(desired: &mut DesiredState, now: std::time::SystemTime) {
    let now = time::OffsetDateTime::from(now).replace_nanosecond(0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    for resource in &mut desired.resources {
        if let DesiredSpec::ClientSecret(secret) = &mut resource.spec {
            let end = now + time::Duration::days(i64::from(secret.expires_in_days));
            secret.end_date_time = end.format(&time::format_description::well_known::Rfc3339).ok();
        }
    }
}

/// Expands a leading `~` (`~` or `~/...`) with `home`, and makes a relative path relative to
/// `base`.
fn expand(path: &str, base: &Path, home: Option<&Path>) -> Result<PathBuf, PrepareError> {
    let rest = if path == "~" { Some("") } else { path.strip_prefix("~/") };
    match rest {
        Some(rest) => {
            let home = home.ok_or_else(|| PrepareError::NoHome { path: path.to_owned() })?;
            Ok(if rest.is_empty() { home.to_path_buf() } else { home.join(rest) })
        }
        None => Ok(base.join(path)),
    }
}

/// Reads and checks an OpenSSH RSA public key file; returns its key line as written.
fn read_public_key(path: &Path) -> Result<String, PrepareError> {
    let text = fs::read_to_string(path).map_err(|source| match source.kind() {
        io::ErrorKind::InvalidData => {
            PrepareError::NotAPublicKey { path: path.to_owned(), reason: "it is not text".to_owned() }
        }
        _ => PrepareError::Read { path: path.to_owned(), source },
    })?;
    check_public_key(path, &text)
}

fn check_public_key(path: &Path, text: &str) -> Result<String, PrepareError> {
    let not_a_key = |reason: &str| PrepareError::NotAPublicKey { path: path.to_owned(), reason: reason.to_owned() };
    // Only the first word is quoted back in errors: if someone pointed at a private key, no
    // part of it is echoed.
    if text.contains("PRIVATE KEY") {
        return Err(not_a_key("it holds a private key; give the `.pub` file"));
    }
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next().ok_or_else(|| not_a_key("the file is empty"))?;
    if lines.next().is_some() {
        // `publicKeys`: "A maximum of 1 key may be specified" (swagger, facts §3).
        return Err(not_a_key("it holds more than one key; AKS takes exactly one"));
    }
    let key = PublicKey::from_openssh(line).map_err(|_| {
        let first = line.split_whitespace().next().unwrap_or_default();
        let shown: String = first.chars().take(40).collect();
        not_a_key(&format!("expected a line like `ssh-rsa AAAA... comment`, found one starting with `{shown}`"))
    })?;
    match key.algorithm() {
        Algorithm::Rsa { .. } => {
            let bits = key.key_data().rsa().and_then(|rsa| rsa.n.as_positive_bytes()).map_or(0, |n| {
                let leading = n.first().map_or(8, |b| b.leading_zeros());
                u32::try_from(n.len() * 8).unwrap_or(u32::MAX).saturating_sub(leading)
            });
            if bits < MIN_RSA_BITS {
                return Err(PrepareError::Unsupported { path: path.to_owned(), what: format!("a {bits}-bit RSA key") });
            }
            Ok(line.to_owned())
        }
        other => Err(PrepareError::Unsupported { path: path.to_owned(), what: format!("an `{}` key", other.as_str()) }),
    }
}

/// Returns the key pair generated for `address` in `dir`, generating it the first time.
fn generated_key(dir: &Path, address: &str) -> Result<(String, String), PrepareError> {
    let private_path = dir.join(address);
    let public_path = dir.join(format!("{address}.pub"));
    if public_path.exists() {
        let key = read_public_key(&public_path)?;
        return Ok((key, format!("{address}: SSH public key reused from `{}`", public_path.display())));
    }
    create_private_dir(dir)?;
    let comment = format!("exai {address}");
    if private_path.exists() {
        // As azure-cli-core `keys.py`: the private key exists, its public half is written.
        let text = fs::read_to_string(&private_path)
            .map_err(|source| PrepareError::Read { path: private_path.clone(), source })?;
        let private = PrivateKey::from_openssh(&text).map_err(|e| PrepareError::Key {
            action: "read",
            path: private_path.clone(),
            message: e.to_string(),
        })?;
        let line = public_line(private.public_key(), &comment, &private_path)?;
        write_new(&public_path, line.as_bytes(), 0o644)?;
        let note = format!("{address}: SSH public key re-derived from `{}`", private_path.display());
        return Ok((check_public_key(&public_path, &line)?, note));
    }
    let key_error = |e: ssh_key::Error| PrepareError::Key {
        action: "generate",
        path: private_path.clone(),
        message: e.to_string(),
    };
    let keypair = ssh_key::private::RsaKeypair::random(&mut rand_core::OsRng, GENERATED_KEY_BITS).map_err(key_error)?;
    let mut private = PrivateKey::from(keypair);
    private.set_comment(&comment);
    let encoded = private.to_openssh(LineEnding::LF).map_err(key_error)?;
    // The private key first, created exclusively with mode 0600: an existing file is never
    // replaced, and the key is never readable by others, not even for an instant.
    write_new(&private_path, encoded.as_bytes(), 0o600)?;
    let line = public_line(private.public_key(), &comment, &private_path)?;
    write_new(&public_path, line.as_bytes(), 0o644)?;
    let note = format!(
        "{address}: generated an RSA {GENERATED_KEY_BITS}-bit SSH key pair: `{}` (private, mode 0600) and `{}`; keep them, the nodes accept only this key",
        private_path.display(),
        public_path.display()
    );
    Ok((line.trim_end().to_owned(), note))
}

fn public_line(public: &PublicKey, comment: &str, private_path: &Path) -> Result<String, PrepareError> {
    let mut public = public.clone();
    public.set_comment(comment);
    public.to_openssh().map(|line| format!("{line}\n")).map_err(|e| PrepareError::Key {
        action: "generate",
        path: private_path.to_owned(),
        message: e.to_string(),
    })
}

/// Creates `dir` (and its parents) and makes it private to the user (0700), as azure-cli-core
/// `keys.py` does for `~/.ssh`.
fn create_private_dir(dir: &Path) -> Result<(), PrepareError> {
    let write_error = |source| PrepareError::Write { path: dir.to_owned(), source };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir).map_err(write_error)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(write_error)?;
    }
    #[cfg(not(unix))]
    builder.create(dir).map_err(write_error)?;
    Ok(())
}

/// Writes `contents` to a file that must not exist yet, created with `mode` (on Unix).
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), PrepareError> {
    let write_error = |source| PrepareError::Write { path: path.to_owned(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(write_error)?;
    file.write_all(contents).map_err(write_error)?;
    file.sync_all().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use exai_model::kinds::{Cluster, NodePool, PoolMode, PoolSize};
    use exai_model::{Address, DesiredResource, Location, Tags};

    const RSA_PUB: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQClaHZPRrW9+CC3ZFhgYUv4UpdxaOjpZ7OgBmU52dnMWsMkFEHIk0/UVcaBwLO+oAcu+pXwYcgeYxPUk2sHAxqfaZDK4SgUcOJGMnb3zsS0JDIbd1X6T4NCHzuPAKbRNmNLTFw4R+weDKl2oHTInL1HCj41Sw3c9WJ7u+qkMN38g81wXRf8+ToXGal0Owqz6OzUORxc8KlJQox4DbqejMitck201i9ZBdjYL4JadFMgiGT8BBsE+KvL00FX+GD/rNqAFQsneY95LLc8/0BkZHLYF5r/x02HAhCDE4Iyrd1X39uTJgBmLTZ8VTyl+8Z7kFyDguHKMPQlHrWyEXDlRNvH test@exai";
    const ED25519_PUB: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBIT0EIcVda93qUvWSK7EU2MRxOLHaJk4yEcLa8ehYc4 test@exai";

    fn desired(ssh: SshKeySource) -> DesiredState {
        let cluster = Cluster {
            subscription: "sub".into(),
            resource_group: "rg".into(),
            name: "aks".into(),
            location: Location::from_azure("francecentral"),
            kubernetes_version: None,
            dns_prefix: "aks-rg-sub".into(),
            node_pools: vec![NodePool {
                name: "nodepool1".into(),
                vm_size: "Standard_B2s".into(),
                mode: PoolMode::System,
                size: PoolSize::Fixed { count: 1 },
            }],
            ssh,
            monitoring_workspace: None,
            tags: Tags::new(),
            ssh_public_key: None,
        };
        DesiredState {
            tenant: "t".into(),
            resources: vec![DesiredResource {
                address: Address::new("perso", "cluster"),
                depends_on: vec![],
                protect: false,
                spec: DesiredSpec::Cluster(Box::new(cluster)),
            }],
        }
    }

    fn key_of(state: &DesiredState) -> Option<String> {
        match &state.resources[0].spec {
            DesiredSpec::Cluster(c) => c.ssh_public_key.clone(),
            _ => None,
        }
    }

    #[test]
    fn a_public_key_file_is_read_relative_to_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("id_rsa.pub"), format!("{RSA_PUB}\n")).unwrap();
        let mut state = desired(SshKeySource::File { path: "id_rsa.pub".into() });
        let notes = prepare_with_home(&mut state, dir.path(), None, KeyGeneration::Allowed).unwrap();
        assert_eq!(key_of(&state).as_deref(), Some(RSA_PUB));
        assert!(notes[0].starts_with("perso.cluster: SSH public key read from"), "{notes:?}");
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = tempfile::tempdir().unwrap();
        fs::create_dir(home.path().join(".ssh")).unwrap();
        fs::write(home.path().join(".ssh/id_rsa.pub"), RSA_PUB).unwrap();
        let mut state = desired(SshKeySource::File { path: "~/.ssh/id_rsa.pub".into() });
        prepare_with_home(&mut state, Path::new("/nonexistent"), Some(home.path()), KeyGeneration::Allowed).unwrap();
        assert_eq!(key_of(&state).as_deref(), Some(RSA_PUB));
        let mut state = desired(SshKeySource::File { path: "~/.ssh/id_rsa.pub".into() });
        let err = prepare_with_home(&mut state, home.path(), None, KeyGeneration::Allowed).unwrap_err();
        assert!(matches!(err, PrepareError::NoHome { .. }), "{err}");
    }

    #[test]
    fn bad_files_are_refused_naming_the_file_and_never_echoing_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("missing.pub", None, "cannot read the SSH public key file"),
            ("empty.pub", Some(""), "the file is empty"),
            ("garbage.pub", Some("hello world"), "found one starting with `hello`"),
            ("ed.pub", Some(ED25519_PUB), "an `ssh-ed25519` key, which AKS refuses"),
            ("two.pub", Some(&*format!("{RSA_PUB}\n{RSA_PUB}\n")), "more than one key"),
            (
                "id_rsa",
                Some(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-secret-bits\n-----END OPENSSH PRIVATE KEY-----\n",
                ),
                "holds a private key",
            ),
        ];
        for (name, contents, expected) in cases {
            if let Some(contents) = contents {
                fs::write(dir.path().join(name), contents).unwrap();
            }
            let mut state = desired(SshKeySource::File { path: name.into() });
            let err = prepare_with_home(&mut state, dir.path(), None, KeyGeneration::Allowed).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(expected), "{name}: {message}");
            assert!(message.contains(name), "{name}: the error names the file: {message}");
            assert!(!message.contains("secret-bits"), "{message}");
            assert_eq!(key_of(&state), None);
        }
    }

    #[test]
    fn a_generated_key_pair_is_private_made_once_and_reused() {
        let base = tempfile::tempdir().unwrap();
        let mut state = desired(SshKeySource::Generate);
        let notes = prepare_with_home(&mut state, base.path(), None, KeyGeneration::Allowed).unwrap();
        let key = key_of(&state).unwrap();
        assert!(key.starts_with("ssh-rsa AAAA") && key.ends_with("exai perso.cluster"), "{key}");
        assert!(notes[0].contains("generated an RSA 4096-bit SSH key pair"), "{notes:?}");
        let dir = base.path().join(".exai/ssh");
        let private = fs::read_to_string(dir.join("perso.cluster")).unwrap();
        assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assert!(!notes[0].contains(private.lines().nth(1).unwrap()), "the note shows no key material");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&dir.join("perso.cluster")), 0o600);
        }

        // Again: the same key, nothing rewritten.
        let mut again = desired(SshKeySource::Generate);
        let notes = prepare_with_home(&mut again, base.path(), None, KeyGeneration::Allowed).unwrap();
        assert_eq!(key_of(&again), Some(key.clone()));
        assert!(notes[0].contains("reused"), "{notes:?}");
        assert_eq!(fs::read_to_string(dir.join("perso.cluster")).unwrap(), private);

        // The public half lost: derived again from the private key, which is kept.
        fs::remove_file(dir.join("perso.cluster.pub")).unwrap();
        let mut derived = desired(SshKeySource::Generate);
        prepare_with_home(&mut derived, base.path(), None, KeyGeneration::Allowed).unwrap();
        assert_eq!(key_of(&derived), Some(key));
        assert_eq!(fs::read_to_string(dir.join("perso.cluster")).unwrap(), private);

        // A plan must not write: with generation forbidden, a missing key stays unknown.
        let fresh = tempfile::tempdir().unwrap();
        let mut planned = desired(SshKeySource::Generate);
        let notes = prepare_with_home(&mut planned, fresh.path(), None, KeyGeneration::Forbidden).unwrap();
        assert!(notes[0].contains("will be generated by `exai apply`"), "{notes:?}");
        assert!(!fresh.path().join(".exai").exists(), "nothing was written");
    }
}
