//! Records the commit exai is built from, as `EXAI_COMMIT_SHORT` for `crate::VERSION`.
//!
//! Two builds of the same version number can differ (a workflow pinned by commit, a saved plan
//! checked by the exai that applies it), so the version a user and a plan see carries the
//! commit: from git when the crate is built in exai's own checkout (`cargo build`, and
//! `cargo install --git`, whose checkout is a git repository), else from the `EXAI_COMMIT`
//! variable (a build from a source archive), else `unknown`.
//!
//! A work tree with uncommitted changes is not marked `-dirty`: cargo reruns a build script only
//! on the files it names, and naming every source file to keep such a mark true would rerun
//! this script (and rebuild what depends on this crate) on every edit; a mark that goes stale
//! would say less than none. The commit is the one the tree started from (as uv does).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=EXAI_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // crates/exai-session → the workspace root
    let root = manifest_dir.ancestors().nth(2).map_or_else(|| manifest_dir.clone(), Path::to_path_buf);
    let commit = git_commit(&root).or_else(|| {
        let given = std::env::var("EXAI_COMMIT").ok()?;
        let commit = short(&given);
        if commit.is_none() {
            println!("cargo::warning=EXAI_COMMIT `{given}` is not a commit id (7 to 64 hexadecimal digits); ignored");
        }
        commit
    });
    let commit = commit.unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=EXAI_COMMIT_SHORT={commit}");
}

/// Returns the short commit of `root`'s checkout, when `root` is the top of a git work tree
/// (not a directory inside some other repository, as a vendored copy would be), and asks cargo
/// to run this script again when that commit changes.
fn git_commit(root: &Path) -> Option<String> {
    let top = git(root, &["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    // HEAD names the branch (or the commit, detached); the branch's ref, the packed refs and
    // HEAD's log change on a commit, a checkout or a reset. In a linked work tree these live
    // under the common git directory, which `--git-path` resolves. Only files that exist are
    // named: cargo reruns a script on every build for a missing one.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned(), "logs/HEAD".to_owned()];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(root, &["rev-parse", "--git-path", &name]) {
            let path = root.join(path);
            if path.is_file() {
                println!("cargo::rerun-if-changed={}", path.display());
            }
        }
    }
    git(root, &["rev-parse", "--short=7", "HEAD"]).and_then(|commit| short(&commit))
}

/// Returns what `git args` prints in `dir`, trimmed, when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).current_dir(dir).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Returns `commit` as 7 hexadecimal digits (a full id shortened, so a commit given in full
/// and one read from git are the same), or `None` when it is not a commit id.
fn short(commit: &str) -> Option<String> {
    let commit = commit.trim().to_ascii_lowercase();
    let hex = commit.len() >= 7 && commit.len() <= 64 && commit.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| commit[..7].to_owned())
}
