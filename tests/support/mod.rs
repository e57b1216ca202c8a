//! Shared helpers for integration tests: bare remotes seeded with the `git`
//! CLI, a smart-HTTP git server, the HTTP server the service fakes run on,
//! and the `cycle` binary run in a throwaway directory (`run`).
#![allow(dead_code)]

pub mod apply_world;
pub mod conda_fake;
pub mod confluence_fake;
pub mod full_world;
pub mod git_http;
pub mod github_fake;
pub mod http_fake;
pub mod jira_fake;
pub mod run;
pub mod slack_fake;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The whitespace-separated words of `line`: a command line written as
/// one string (`words("prepare --site summit --cycle 44 --dry-run")`), or a
/// list of names.
pub fn words(line: &'static str) -> Vec<&'static str> {
    line.split_whitespace().collect()
}

/// The repository root (`CARGO_MANIFEST_DIR`): the shipped sites, templates and releases.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The text of the repository file `rel` (e.g. `sites/summit.yaml`).
pub fn read_repo_file(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

/// Every file of a `tests/fixtures` directory as (repo-relative path,
/// content), sorted by path.
pub fn fixture_files(dir: &str) -> Vec<(String, String)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let root = root().join("tests/fixtures").join(dir);
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// Every file below `dirs` as (path, bytes); a missing directory has none.
pub fn files_below(dirs: &[&Path]) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        walk(dir, &mut out);
    }
    out
}

/// Panics when one of `secrets` shows in one of `texts` or in a file below
/// `dirs` (the journal, the cache); returns how many files were read.
pub fn assert_no_secret(secrets: &[&str], texts: &[&str], dirs: &[&Path]) -> usize {
    for text in texts {
        for secret in secrets {
            assert!(!text.contains(secret), "a token leaked into:\n{text}");
        }
    }
    let files = files_below(dirs);
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            assert!(!text.contains(secret), "a token in {}", path.display());
        }
    }
    files.len()
}

/// Runs `git` in `dir` with a fixed identity; panics on failure, returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test Seeder",
            "-c",
            "user.email=seeder@example.org",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Runs `git --git-dir=<bare>` and returns trimmed stdout.
pub fn git_dir(bare: &Path, args: &[&str]) -> String {
    let mut full = vec!["--git-dir".to_string(), bare.display().to_string()];
    full.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    git(bare.parent().unwrap_or(bare), &refs)
}

/// A file to seed: path, content, executable bit.
pub struct Seed<'a> {
    /// Repository-relative path.
    pub path: &'a str,
    /// Content.
    pub content: &'a str,
    /// Whether to commit it as `100755`.
    pub executable: bool,
}

/// Shorthand for a regular file.
pub fn file<'a>(path: &'a str, content: &'a str) -> Seed<'a> {
    Seed {
        path,
        content,
        executable: false,
    }
}

/// Shorthand for an executable file.
pub fn exe<'a>(path: &'a str, content: &'a str) -> Seed<'a> {
    Seed {
        path,
        content,
        executable: true,
    }
}

/// Creates the bare repository `<parent>/<name>` (with `http.receivepack`
/// enabled) whose `main` holds one commit with `files`, packed as a hosting
/// service keeps its repositories (a fetch then reuses the pack instead of
/// compressing loose objects). Like a hosting service it keeps each pushed
/// pack as received (`receive.unpackLimit`) and does not collect garbage
/// while answering a push (`receive.autogc`). Returns its path.
pub fn create_bare_remote(parent: &Path, name: &str, files: &[Seed<'_>]) -> PathBuf {
    let bare = parent.join(name);
    git(parent, &["init", "-q", "--bare", "-b", "main", name]);
    git_dir(&bare, &["config", "http.receivepack", "true"]);
    git_dir(&bare, &["config", "receive.unpackLimit", "1"]);
    git_dir(&bare, &["config", "receive.autogc", "false"]);
    commit_to_remote(&bare, "main", files, "seed");
    git_dir(&bare, &["repack", "-adq"]);
    bare
}

/// Clones `bare`, writes `files` on `branch` (created from `main` when
/// missing), commits and pushes. Returns the new commit id.
pub fn commit_to_remote(bare: &Path, branch: &str, files: &[Seed<'_>], message: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    let heads = git_dir(bare, &["for-each-ref", "--format=%(refname)", "refs/heads"]);
    if heads.is_empty() {
        git(tmp.path(), &["init", "-q", "-b", branch, "w"]);
    } else {
        git(
            tmp.path(),
            &["clone", "-q", &bare.display().to_string(), "w"],
        );
        let exists = heads.lines().any(|l| l == format!("refs/heads/{branch}"));
        if exists {
            git(&work, &["checkout", "-q", branch]);
        } else {
            git(&work, &["checkout", "-q", "-b", branch]);
        }
    }
    for f in files {
        let p = work.join(f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, f.content).unwrap();
        git(&work, &["add", f.path]);
        if f.executable {
            git(&work, &["update-index", "--chmod=+x", f.path]);
        }
    }
    git(&work, &["commit", "-q", "--allow-empty", "-m", message]);
    git(
        &work,
        &[
            "push",
            "-q",
            &bare.display().to_string(),
            &format!("HEAD:refs/heads/{branch}"),
        ],
    );
    git(&work, &["rev-parse", "HEAD"])
}

/// The shipped `releases/c0044.000.yaml` with the first occurrence of each
/// `from` (which must occur) replaced by its `to`, written to `dir/file`.
pub fn manifest_with(dir: &Path, file: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = read_repo_file("releases/c0044.000.yaml");
    for (from, to) in edits {
        assert!(text.contains(from), "{from} not in the manifest");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// Creates the bare `<owner>/ts_cycle_build.git` from ts_cycle_build's real
/// `cycle/cycle.env` files (`tests/fixtures/ts_cycle_build`): `main` at
/// Cycle 44 revision 7, tag `c0044.000` at the cycle's commit. Returns its path.
pub fn create_cycle_build_remote(owner: &Path) -> PathBuf {
    let fixture = |name: &str| read_repo_file(&format!("tests/fixtures/ts_cycle_build/{name}"));
    let first = fixture("cycle.env.c0044.000");
    let bare = create_bare_remote(
        owner,
        "ts_cycle_build.git",
        &[file("cycle/cycle.env", &first)],
    );
    let tagged = git_dir(&bare, &["rev-parse", "main"]);
    git_dir(&bare, &["tag", "c0044.000", &tagged]);
    let latest = fixture("cycle.env.c0044.007");
    commit_to_remote(
        &bare,
        "main",
        &[file("cycle/cycle.env", &latest)],
        "Cycle 44 revision 7.",
    );
    bare
}

/// `file://` URL of a local path.
pub fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}
