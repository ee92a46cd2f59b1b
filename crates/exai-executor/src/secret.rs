//! Keeping a secret Azure shows once — the `secretText` of a new client secret — in a file of
//! its own, and nowhere else.
//!
//! The file (mode 0600, in a directory of mode 0700) is written *before* the write that returns
//! the secret is sent, as a reservation holding the creds without the secret, so a secret is
//! never created in Azure with nowhere to keep it, and a lost answer leaves a file a later plan
//! recognises as "not handed over" ([`check_secret_files`]). Every write of the file goes to a
//! temporary file, is flushed to disk and renamed into place: a crash leaves the old file or
//! the new one, never an empty or partial one. The whole check–add–write runs under the file's
//! lock ([`SecretLock`]), so two applies from one directory add one secret, not two. The
//! document the apply keeps for later requests has the secret removed. Nothing here prints or
//! logs the secret; errors name files and never their contents.
//!
//! The file holds `azure/login`'s `creds` input: `clientId`, `clientSecret`, `subscriptionId`,
//! `tenantId` (Azure/login `src/common/LoginConfig.ts`, docs/azure-facts.md §7), ready to paste into a GitHub
//! secret, plus the `keyId` of the secret it holds.

use crate::atomic::{Existing, write_atomically};
use exai_model::kinds::SecretHandover;
use exai_model::{DesiredSpec, DesiredState, Kind, Known, LiveResource, LiveState, Observation, SecretOutput};
use serde_json::{Map, Value};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// Another apply holds the file's lock (it is adding this secret) and did not finish in
    /// time.
    #[error("another exai apply is adding the secret kept in `{path}` and has not finished")]
    InFlight {
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
            Self::InFlight { .. } => "wait for the other apply to end (or stop it), then run `exai apply` again; nothing was sent".to_owned(),
            Self::Missing { .. } | Self::Write { .. } => {
                "run `exai plan`: it shows the secret nobody holds and plans its rotation (a new one into the file, the orphan removed)".to_owned()
            }
        }
    }
}

/// How long an apply waits for another process that holds a secret file's lock (adding that
/// secret) before it refuses.
const LOCK_WAIT: Duration = Duration::from_secs(600);

/// How often the lock is tried again while another process holds it.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// A secret file's lock, held while the secret is checked, added and written, so two applies
/// from one directory never add it twice: the second waits, then finds the first's secret in
/// the file and adopts it. The lock is the operating system's (`flock`), released when the
/// process ends, however it ends: a killed apply never leaves a stale lock behind.
pub(crate) struct SecretLock {
    dir: PathBuf,
    target: PathBuf,
    _lock: fs::File,
}

impl SecretLock {
    /// Creates `dir` (0700) and takes the lock of `output.file`, waiting for another process
    /// that holds it; then removes temporary files a killed apply left behind.
    pub(crate) async fn acquire(dir: Option<&Path>, output: &SecretOutput) -> Result<Self, SecretError> {
        let dir = dir.ok_or(SecretError::NoDirectory)?;
        let target = dir.join(&output.file);
        let prepare = |source| SecretError::Prepare { path: target.clone(), source };
        create_private_dir(dir).map_err(prepare)?;
        let lock_path = dir.join(format!(".{}.lock", output.file));
        let lock = lock_options().open(&lock_path).map_err(prepare)?;
        let started = std::time::Instant::now();
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                    tokio::time::sleep(LOCK_POLL).await;
                }
                Err(fs::TryLockError::WouldBlock) => return Err(SecretError::InFlight { path: target }),
                Err(fs::TryLockError::Error(source)) => return Err(prepare(source)),
            }
        }
        let this = Self { dir: dir.to_path_buf(), target, _lock: lock };
        this.remove_temporaries(output);
        Ok(this)
    }

    /// Removes `.<file>.<random>.tmp` files: only an apply holding the lock writes them, so any
    /// found now were left by one that was killed.
    fn remove_temporaries(&self, output: &SecretOutput) {
        let prefix = format!(".{}.", output.file);
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&prefix) && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Returns the key id of the secret the file holds for the application `client_id`, when
    /// it holds one (a non-empty secret, that application, a key id).
    pub(crate) fn held_key(&self, output: &SecretOutput) -> Option<String> {
        let client_id = output.with.get("clientId").and_then(Value::as_str)?;
        match handover(&self.target, Some(client_id))? {
            SecretHandover::Holds { key_id } => Some(key_id),
            SecretHandover::NotHandedOver { .. } => None,
        }
    }

    /// Writes the file as a *reservation* before the write that creates the secret is sent:
    /// the creds without the secret. If the answer never comes (lost, or the apply is killed),
    /// the next plan finds a live secret the file does not hold, and plans its rotation.
    pub(crate) fn reserve(&self, output: &SecretOutput) -> Result<(), SecretError> {
        let creds = creds(output, Value::from(""), None);
        self.replace(&creds).map_err(|source| SecretError::Prepare { path: self.target.clone(), source })
    }

    /// Writes the secret found in `answer` to the file (with its key id), removes it from
    /// `answer`, and returns the file's path.
    pub(crate) fn finish(&self, answer: Option<&mut Value>, output: &SecretOutput) -> Result<PathBuf, SecretError> {
        let missing = || SecretError::Missing { pointer: output.pointer.clone(), path: self.target.clone() };
        let answer = answer.ok_or_else(missing)?;
        let key = output.key_pointer.as_deref().and_then(|p| answer.pointer(p)).cloned();
        let slot = answer.pointer_mut(&output.pointer).ok_or_else(missing)?;
        let secret = std::mem::take(slot);
        if secret.as_str().is_none_or(str::is_empty) {
            return Err(missing());
        }
        self.replace(&creds(output, secret, key))
            .map_err(|source| SecretError::Write { path: self.target.clone(), source })?;
        Ok(self.target.clone())
    }

    /// Replaces the file with `creds` in one step ([`write_atomically`]: a temporary file
    /// created 0600, flushed to disk, renamed into place), so a crash leaves the old file or the
    /// new one, never a part.
    fn replace(&self, creds: &Value) -> io::Result<()> {
        let mut text = serde_json::to_vec_pretty(creds)?;
        text.push(b'\n');
        write_atomically(&self.target, &text, 0o600, Existing::Replace)
    }
}

/// Returns the file's members in `azure/login`'s `creds` shape, plus `keyId` (which secret of
/// the application it is; `azure/login` ignores members it does not read, as it did the
/// endpoints `az ad sp create-for-rbac --sdk-auth` printed).
fn creds(output: &SecretOutput, secret: Value, key: Option<Value>) -> Value {
    let mut members: Vec<(String, Value)> = output.with.clone().into_iter().collect();
    members.push((output.member.clone(), secret));
    if let Some(key) = key.filter(Value::is_string) {
        members.push(("keyId".to_owned(), key));
    }
    // In key order: `clientId, clientSecret, keyId, subscriptionId, tenantId`, as `az ad sp
    // create-for-rbac --sdk-auth` printed its members (docs/azure-facts.md §7).
    members.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(members.into_iter().collect::<Map<String, Value>>())
}

/// Returns the options that open (or create, mode 0600) the lock file, never truncating it.
fn lock_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Returns what the secret file at `path` hands over: a secret of the application
/// `client_id` (when known) with its key id, or why not; `None` when there is no file. exai
/// cannot log in from a plan, so the file is checked for what a login needs: a non-empty
/// `clientSecret`, the application's `clientId`, and the `keyId` that names the live secret.
///
/// No file at all says nothing: the secret was handed over and the file deleted (as the apply
/// that wrote it suggests), or this is another checkout (a CI runner, a pull-request job),
/// where no file ever was. Rotating then would replace a secret that works with one nobody
/// keeps. A secret exai created but could not hand over always leaves a file: the file is
/// reserved (written without the secret) before the secret is requested, so a lost answer or a
/// killed apply leaves the reservation, which is checked here.
pub(crate) fn handover(path: &Path, client_id: Option<&str>) -> Option<SecretHandover> {
    let not = |why: String| Some(SecretHandover::NotHandedOver { why });
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => return not(format!("unreadable: {}", e.kind())),
    };
    let Ok(creds) = serde_json::from_slice::<Value>(&text) else {
        return not("unreadable: not the JSON exai writes".to_owned());
    };
    let member = |name: &str| creds.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
    if member("clientSecret").is_none() {
        return not(
            "empty: the secret was created but never written to it (a lost answer or an interrupted apply)".to_owned()
        );
    }
    match (member("clientId"), client_id) {
        (Some(file), Some(live)) if !file.eq_ignore_ascii_case(live) => {
            return not(format!("for another application (clientId `{file}`)"));
        }
        (None, _) => return not("unreadable: it names no clientId".to_owned()),
        _ => {}
    }
    match member("keyId") {
        Some(key) => Some(SecretHandover::Holds { key_id: key.to_owned() }),
        None => not("it does not say which secret it holds (no keyId: written by an older exai)".to_owned()),
    }
}

/// Checks, for every client secret in `desired` whose application exists in `live`, what its
/// file in `dir` hands over ([`SecretHandover`]), so the plan can tell a secret nobody holds
/// (its answer was lost, the apply was killed, the file deleted) from one that works.
///
/// Which of several marked secrets is the resource's live one depends on what the file holds
/// (the one it holds; the others are superseded), so the resource's observation in `live` is
/// chosen again once the file is known.
pub fn check_secret_files(desired: &mut DesiredState, live: &mut LiveState, dir: &Path) {
    for resource in &mut desired.resources {
        let DesiredSpec::ClientSecret(secret) = &mut resource.spec else { continue };
        let known = Known::from(live);
        let Some(app_id) = known.get(&secret.application, "/appId") else { continue };
        secret.handover = handover(&dir.join(secret.file_name()), app_id.as_str());
        let found = secret.observe_from(known).flatten();
        let Some(observation) = found.and_then(|document| {
            let id = secret.live_id(&document, known)?;
            Some(Observation::Present(LiveResource { id, document }))
        }) else {
            continue;
        };
        live.insert(resource.address.clone(), observation);
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
            key_pointer: Some("/keyId".into()),
            guard: None,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn the_secret_goes_to_a_private_file_in_the_creds_shape_and_leaves_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join(".exai/secrets");
        let lock = SecretLock::acquire(Some(&secrets), &output()).await.unwrap();
        lock.reserve(&output()).unwrap();
        let path = secrets.join("perso.deployer.secret.json");
        assert_eq!(
            handover(&path, Some("app-id")),
            Some(SecretHandover::NotHandedOver {
                why: "empty: the secret was created but never written to it (a lost answer or an interrupted apply)"
                    .into()
            }),
            "a reservation is recognised as not handed over"
        );
        let mut answer = json!({"keyId": "k", "secretText": "abc8Q~very-secret", "hint": "abc"});
        assert_eq!(lock.finish(Some(&mut answer), &output()).unwrap(), path);
        assert_eq!(answer["secretText"], Value::Null, "the answer kept for later requests has no secret");
        let creds: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            creds,
            json!({"clientId": "app-id", "clientSecret": "abc8Q~very-secret", "keyId": "k", "subscriptionId": "sub", "tenantId": "tenant"})
        );
        assert_eq!(handover(&path, Some("APP-ID")), Some(SecretHandover::Holds { key_id: "k".into() }));
        assert_eq!(lock.held_key(&output()).as_deref(), Some("k"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&secrets), 0o700);
        }
        assert_eq!(
            names(&secrets),
            [".perso.deployer.secret.json.lock", "perso.deployer.secret.json"],
            "no temporary file is left"
        );
    }

    #[tokio::test]
    async fn an_answer_without_a_secret_is_an_error_and_leaves_the_reservation() {
        let dir = tempfile::tempdir().unwrap();
        let lock = SecretLock::acquire(Some(dir.path()), &output()).await.unwrap();
        lock.reserve(&output()).unwrap();
        let mut answer = json!({"keyId": "k"});
        let err = lock.finish(Some(&mut answer), &output()).unwrap_err();
        assert!(matches!(err, SecretError::Missing { .. }), "{err}");
        assert!(lock.held_key(&output()).is_none());
        assert!(matches!(SecretLock::acquire(None, &output()).await, Err(SecretError::NoDirectory)));
    }

    #[tokio::test]
    async fn stale_temporary_files_are_removed_and_the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".perso.deployer.secret.json.4242.tmp"), "").unwrap();
        fs::write(dir.path().join(".other.json.4242.tmp"), "").unwrap();
        let lock = SecretLock::acquire(Some(dir.path()), &output()).await.unwrap();
        assert_eq!(names(dir.path()), [".other.json.4242.tmp", ".perso.deployer.secret.json.lock"]);
        let second =
            fs::OpenOptions::new().write(true).open(dir.path().join(".perso.deployer.secret.json.lock")).unwrap();
        assert!(matches!(second.try_lock(), Err(fs::TryLockError::WouldBlock)), "held while the first holds it");
        drop(lock);
        assert!(second.try_lock().is_ok(), "released with the first");
    }

    #[test]
    fn of_two_marked_secrets_the_one_the_file_holds_is_the_live_one() {
        use exai_model::kinds::{Application, ClientSecret};
        use exai_model::{Address, DesiredResource, ResourceId};
        let app = Address::new("perso", "deployer.app");
        let secret = ClientSecret {
            mark: exai_model::Mark::new("my-org/exai", &Address::new("perso", "deployer.secret"), false),
            address: Address::new("perso", "deployer.secret"),
            application: app.clone(),
            expires_in_days: 30,
            end_date_time: None,
            subscription: "s".into(),
            tenant: "t".into(),
            handover: None,
        };
        let mut desired = DesiredState::default();
        desired.resources.push(DesiredResource {
            address: app.clone(),
            depends_on: Vec::new(),
            protect: false,
            spec: DesiredSpec::Application(Application {
                mark: exai_model::Mark::new("my-org/exai", &app, false),
                address: app.clone(),
                display_name: "x".into(),
            }),
        });
        desired.resources.push(DesiredResource {
            address: secret.address.clone(),
            depends_on: vec![app.clone()],
            protect: false,
            spec: DesiredSpec::ClientSecret(secret.clone()),
        });
        let mark = "exai-owner:perso.deployer.secret";
        let mut live = LiveState::new();
        live.insert(
            app.clone(),
            Observation::Present(LiveResource {
                id: ResourceId::graph("/applications/a1"),
                document: json!({"id": "a1", "appId": "app-id", "passwordCredentials": [
                    {"keyId": "k1", "displayName": mark}, {"keyId": "k2", "displayName": mark},
                ]}),
            }),
        );
        // Observed before the file is known: the first marked one.
        let first = secret.observe_from(Known::from(&live)).flatten().unwrap();
        live.insert(
            secret.address.clone(),
            Observation::Present(LiveResource {
                id: ResourceId::graph("/applications/a1/passwordCredentials/k1"),
                document: first,
            }),
        );
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("perso.deployer.secret.json"),
            r#"{"clientId": "app-id", "clientSecret": "x", "keyId": "k2"}"#,
        )
        .unwrap();
        check_secret_files(&mut desired, &mut live, dir.path());
        let Some(Observation::Present(chosen)) = live.get(&secret.address) else { panic!("absent") };
        assert_eq!(chosen.id.as_str(), "/applications/a1/passwordCredentials/k2");
        let DesiredSpec::ClientSecret(checked) = &desired.resources[1].spec else { panic!() };
        assert_eq!(checked.handover, Some(SecretHandover::Holds { key_id: "k2".into() }));
    }

    #[test]
    fn a_file_hands_over_only_a_non_empty_secret_of_the_application_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let why = |h: Option<SecretHandover>| match h {
            None => "no file: handed over, or another checkout".to_owned(),
            Some(SecretHandover::NotHandedOver { why }) => why,
            Some(SecretHandover::Holds { key_id }) => format!("holds {key_id}"),
        };
        assert_eq!(why(handover(&path, Some("a"))), "no file: handed over, or another checkout");
        fs::write(&path, "").unwrap();
        assert_eq!(why(handover(&path, Some("a"))), "unreadable: not the JSON exai writes");
        fs::write(&path, r#"{"clientId": "b", "clientSecret": "x", "keyId": "k"}"#).unwrap();
        assert_eq!(why(handover(&path, Some("a"))), "for another application (clientId `b`)");
        fs::write(&path, r#"{"clientId": "a", "clientSecret": "x"}"#).unwrap();
        assert!(why(handover(&path, Some("a"))).contains("no keyId"));
        fs::write(&path, r#"{"clientId": "a", "clientSecret": "x", "keyId": "k"}"#).unwrap();
        assert_eq!(why(handover(&path, Some("a"))), "holds k");
    }
}
