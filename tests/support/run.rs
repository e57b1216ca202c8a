//! Running the `cycle` binary in end-to-end tests: a throwaway directory
//! holding a test's remotes, sites, state, cache and releases, the binary
//! with a scrubbed environment run from the repository root, and the text
//! of what a run printed.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::root;

/// One test's temporary directory and the directories below it (none is
/// created until a test writes there).
pub struct TestDirs {
    /// Removed when the test ends.
    pub tmp: tempfile::TempDir,
}

impl Default for TestDirs {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDirs {
    /// A fresh, empty temporary directory.
    pub fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// The temporary directory itself (the runs' `HOME`).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Bare remotes laid out as `$GITHUB_SERVER_URL/owner/name.git`.
    pub fn remotes(&self) -> PathBuf {
        self.path().join("remotes")
    }

    /// [`Self::remotes`] as a `file://` URL, for `GITHUB_SERVER_URL`.
    pub fn remotes_url(&self) -> String {
        format!("file://{}", self.remotes().display())
    }

    /// `--sites-dir`.
    pub fn sites(&self) -> PathBuf {
        self.path().join("sites")
    }

    /// `--state-dir`.
    pub fn state(&self) -> PathBuf {
        self.path().join("state")
    }

    /// `--cache-dir`.
    pub fn cache(&self) -> PathBuf {
        self.path().join("cache")
    }

    /// `--releases-dir`.
    pub fn releases(&self) -> PathBuf {
        self.path().join("releases")
    }

    /// Copies the shipped `sites/<name>` files into [`Self::sites`], creating it.
    pub fn copy_shipped_sites(&self, names: &[&str]) {
        std::fs::create_dir_all(self.sites()).unwrap();
        for name in names {
            std::fs::copy(root().join("sites").join(name), self.sites().join(name)).unwrap();
        }
    }

    /// The directory a `--*-dir` option points at.
    fn dir(&self, option: DirArg) -> PathBuf {
        match option {
            DirArg::Cache => self.cache(),
            DirArg::State => self.state(),
            DirArg::Sites => self.sites(),
            DirArg::Releases => self.releases(),
        }
    }
}

/// A `--*-dir` option pointing `cycle` at one of the [`TestDirs`].
#[derive(Clone, Copy, Debug)]
pub enum DirArg {
    /// `--cache-dir`.
    Cache,
    /// `--state-dir`.
    State,
    /// `--sites-dir`.
    Sites,
    /// `--releases-dir`.
    Releases,
}

impl DirArg {
    fn flag(self) -> &'static str {
        match self {
            DirArg::Cache => "--cache-dir",
            DirArg::State => "--state-dir",
            DirArg::Sites => "--sites-dir",
            DirArg::Releases => "--releases-dir",
        }
    }
}

/// The binary run from the repository root (the shipped sites, templates
/// and releases) with an empty environment but `PATH`, `HOME=home`,
/// `NO_COLOR=1` and `CYCLE_NO_CHECK=true` (`prepare` runs `cycle check`'s
/// checks only in the tests that set it to `false`).
pub fn cycle_std_command(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cycle"));
    cmd.current_dir(root())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("CYCLE_NO_CHECK", "true");
    cmd
}

/// [`cycle_std_command`] with `HOME` in `dirs`, then the `options` in
/// that order, each pointing at its directory in `dirs`.
pub fn cycle_command(dirs: &TestDirs, options: &[DirArg]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(cycle_std_command(dirs.path()));
    for &option in options {
        cmd.arg(option.flag()).arg(dirs.dir(option));
    }
    cmd
}

/// Standard output of a run, lossily decoded.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error of a run, lossily decoded.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Standard output and error of a run, for messages and leak checks.
pub fn texts(out: &Output) -> (String, String) {
    (stdout(out), stderr(out))
}

/// The exit code of a run (`-1` when killed by a signal).
pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}
