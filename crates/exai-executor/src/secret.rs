//! Keeping a secret Azure shows once — the `secretText` of a new client secret — in a file of
//! its own, and nowhere else.
//!
//! The file is created (exclusively, mode 0600, in a directory of mode 0700) *before* the write
//! that returns the secret is sent, so a secret is never created in Azure with nowhere to keep
//! it; the secret is written to it, flushed, and the file renamed into place. The document the
//! apply keeps for later requests has the secret removed. Nothing here prints or logs the
//! secret; errors name files and never their contents.
//!
//! The file holds `azure/login`'s `creds` input: `clientId`, `clientSecret`, `subscriptionId`,
//! `tenantId` (Azure/login `src/common/LoginConfig.ts`, facts §7), ready to paste into a GitHub
//! secret. A file already there holds a secret Azure no longer has (exai creates one only when
//! none exists), and is replaced.

use exai_model::SecretOutput;
use serde_json::{Map, Value};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A secret could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// No directory was given for secrets.
    #[error("this write returns a secret, and no directory was given to keep it in")]
    NoDirectory,
    /// The file could not be made ready (before anything was sent).
    #[error("cannot create `{path}` to keep the secret in: {source}")]
    Prepare {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Azure's answer has no secret where one was expected.
    #[error("Azure's answer has no secret at `{pointer}`; `{path}` was not written")]
    Missing {
        /// Where it was looked for.
        pointer: String,
        /// The file.
        path: PathBuf,
    },
    /// The secret was created in Azure but could not be written.
    #[error("the secret was created in Azure but could not be written to `{path}`: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl SecretError {
    /// Returns what to do about it.
    pub fn hint(&self) -> String {
        match self {
            Self::NoDirectory => "this is a bug in exai: the command did not say where secrets go".to_owned(),
            Self::Prepare { .. } => "make the directory writable and run `exai apply` again; nothing was sent".to_owned(),
            Self::Missing { .. } | Self::Write { .. } => {
                "remove the secret exai just created (`az ad app credential list --id <appId>` shows it; its name starts with `exai-owner:`), then run `exai apply` again to create a new one".to_owned()
            }
        }
    }
}

/// A file made ready for a secret, before the write that returns it is sent.
pub(crate) struct PendingSecret {
    temporary: PathBuf,
    file: fs::File,
    target: PathBuf,
}

impl PendingSecret {
    /// Creates `dir` (0700) and a new temporary file (0600) beside `output.file`.
    pub(crate) fn create(dir: Option<&Path>, output: &SecretOutput) -> Result<Self, SecretError> {
        let dir = dir.ok_or(SecretError::NoDirectory)?;
        let target = dir.join(&output.file);
        let prepare = |source| SecretError::Prepare { path: target.clone(), source };
        create_private_dir(dir).map_err(prepare)?;
        let temporary = dir.join(format!(".{}.{}.tmp", output.file, std::process::id()));
        let _ = fs::remove_file(&temporary);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&temporary).map_err(prepare)?;
        Ok(Self { temporary, file, target })
    }

    /// Writes the secret found in `answer` to the file, removes it from `answer`, and returns
    /// the file's path.
    pub(crate) fn finish(mut self, answer: Option<&mut Value>, output: &SecretOutput) -> Result<PathBuf, SecretError> {
        let missing = || SecretError::Missing { pointer: output.pointer.clone(), path: self.target.clone() };
        let Some(answer) = answer else {
            let _ = fs::remove_file(&self.temporary);
            return Err(missing());
        };
        let Some(slot) = answer.pointer_mut(&output.pointer) else {
            let _ = fs::remove_file(&self.temporary);
            return Err(missing());
        };
        let secret = std::mem::take(slot);
        if !secret.is_string() {
            let _ = fs::remove_file(&self.temporary);
            return Err(missing());
        }
        let mut members: Vec<(String, Value)> = output.with.clone().into_iter().collect();
        members.push((output.member.clone(), secret));
        // In key order: `clientId, clientSecret, subscriptionId, tenantId`, as `az ad sp
        // create-for-rbac --sdk-auth` printed it (facts §7).
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let creds: Map<String, Value> = members.into_iter().collect();
        let target = self.target.clone();
        let written = (|| {
            let mut text = serde_json::to_vec_pretty(&Value::Object(creds))?;
            text.push(b'\n');
            self.file.write_all(&text)?;
            self.file.sync_all()?;
            fs::rename(&self.temporary, &self.target)
        })();
        written.map_err(|source| {
            let _ = fs::remove_file(&self.temporary);
            SecretError::Write { path: target.clone(), source }
        })?;
        Ok(target)
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    builder.create(dir)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn output() -> SecretOutput {
        let mut with = Map::new();
        with.insert("clientId".into(), json!("app-id"));
        with.insert("subscriptionId".into(), json!("sub"));
        with.insert("tenantId".into(), json!("tenant"));
        SecretOutput {
            pointer: "/secretText".into(),
            file: "perso.deployer.secret.json".into(),
            member: "clientSecret".into(),
            with,
        }
    }

    #[test]
    fn the_secret_goes_to_a_private_file_in_the_creds_shape_and_leaves_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join(".exai/secrets");
        let pending = PendingSecret::create(Some(&secrets), &output()).unwrap();
        let mut answer = json!({"keyId": "k", "secretText": "abc8Q~very-secret", "hint": "abc"});
        let path = pending.finish(Some(&mut answer), &output()).unwrap();
        assert_eq!(answer["secretText"], Value::Null, "the answer kept for later requests has no secret");
        let creds: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            creds,
            json!({"clientId": "app-id", "clientSecret": "abc8Q~very-secret", "subscriptionId": "sub", "tenantId": "tenant"})
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&secrets), 0o700);
        }
        assert_eq!(fs::read_dir(&secrets).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn an_answer_without_a_secret_is_an_error_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let pending = PendingSecret::create(Some(dir.path()), &output()).unwrap();
        let mut answer = json!({"keyId": "k"});
        let err = pending.finish(Some(&mut answer), &output()).unwrap_err();
        assert!(matches!(err, SecretError::Missing { .. }), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(matches!(PendingSecret::create(None, &output()), Err(SecretError::NoDirectory)));
    }
}
