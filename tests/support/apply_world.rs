//! The world of the apply engine's acceptance tests and benchmark: a Jira
//! Cloud fake, an authenticating smart-HTTP git server over a bare
//! `lsst-sqre/phalanx` seeded with the real April 2026 phalanx files
//! (`tests/fixtures/phalanx`, every site on an older cycle), temporary state
//! and cache directories, and the `cycle` binary run with the shipped
//! `sites/`, `templates/` and `releases/`.

use std::path::PathBuf;
use std::process::{Command, Output};

pub use super::fixture_files;
use super::git_http::GitHttpServer;
use super::jira_fake::{self, JiraFake};
use super::run::cycle_std_command;
// Where `prepare_apply` and the `apply` bench import it from.
#[allow(unused_imports)]
pub use super::run::texts;
use super::{Seed, create_bare_remote, file, git_dir};

/// The GitHub token the git server accepts (must never be printed or stored).
pub const GITHUB_TOKEN: &str = "ghp_ApplyEngineTestToken_7c41";
/// The calendar's start and end date fields (`sites/summit.yaml`).
pub const CALENDAR_FIELDS: [&str; 2] = ["customfield_10059", "customfield_10061"];
/// The shipped sites, in the order `--all` prepares them.
pub const SITES: [&str; 3] = ["bts", "summit", "tts"];
/// `prepare --all --only jira,calendar,config --yes`.
pub const PREPARE_ALL: [&str; 7] = [
    "prepare",
    "--all",
    "--cycle",
    "44",
    "--only",
    "jira,calendar,config",
    "--yes",
];

/// Fakes, remotes and directories of one apply scenario.
pub struct ApplyWorld {
    /// Holds remotes, state and cache.
    pub tmp: tempfile::TempDir,
    /// Jira Cloud (REST v3).
    pub jira: JiraFake,
    /// Smart HTTP over `remotes/`, Basic auth with [`GITHUB_TOKEN`].
    pub git: GitHttpServer,
}

impl Default for ApplyWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl ApplyWorld {
    /// A fresh world: empty Jira, phalanx at the April 2026 tree.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let remotes = tmp.path().join("remotes");
        std::fs::create_dir_all(remotes.join("lsst-sqre")).unwrap();
        let files = fixture_files("phalanx");
        let seeds: Vec<Seed<'_>> = files.iter().map(|(p, c)| file(p, c)).collect();
        create_bare_remote(&remotes, "lsst-sqre/phalanx.git", &seeds);
        let jira = JiraFake::start();
        let git = GitHttpServer::start(&remotes, "x-access-token", GITHUB_TOKEN);
        Self { tmp, jira, git }
    }

    /// The bare phalanx remote.
    pub fn phalanx(&self) -> PathBuf {
        self.tmp.path().join("remotes/lsst-sqre/phalanx.git")
    }

    /// `CYCLE_STATE_DIR`.
    pub fn state(&self) -> PathBuf {
        self.tmp.path().join("state")
    }

    /// `CYCLE_CACHE_DIR`.
    pub fn cache(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }

    /// The journal of Cycle 44.
    pub fn journal_path(&self) -> PathBuf {
        self.state().join("journal/c0044.000.json")
    }

    /// The journal of Cycle 44 as JSON (`Null` when absent or unreadable).
    pub fn journal(&self) -> serde_json::Value {
        std::fs::read_to_string(self.journal_path())
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The journaled status of a step (`""` when not journaled).
    pub fn status(&self, step: &str) -> String {
        self.journal()["steps"][step]["status"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The binary with the world's environment: Jira Cloud credentials,
    /// the git server as `GITHUB_SERVER_URL`, the token, a commit identity,
    /// short retry backoffs, no colour, run from the repository root (the
    /// shipped sites, templates and releases).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = cycle_std_command(self.tmp.path());
        cmd.env("JIRA_URL", self.jira.url())
            .env("JIRA_USER", jira_fake::USER)
            .env("JIRA_API_TOKEN", jira_fake::TOKEN)
            .env("CYCLE_JIRA_API_VERSION", "3")
            .env("GITHUB_SERVER_URL", self.git.url("").trim_end_matches('/'))
            .env("GITHUB_TOKEN", GITHUB_TOKEN)
            .env("CYCLE_STATE_DIR", self.state())
            .env("CYCLE_CACHE_DIR", self.cache())
            .env("CYCLE_RETRY_BASE_MS", "20")
            .env("GIT_AUTHOR_NAME", "Release Manager")
            .env("GIT_AUTHOR_EMAIL", "rm@example.org")
            .args(args);
        cmd
    }

    /// Runs the binary to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run cycle")
    }

    /// The remote's `tickets/*` branches as (name, commit).
    pub fn ticket_branches(&self) -> Vec<(String, String)> {
        git_dir(
            &self.phalanx(),
            &[
                "for-each-ref",
                "--format=%(refname:strip=2) %(objectname)",
                "refs/heads/tickets",
            ],
        )
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect()
    }
}
