//! Every service at once: the Jira, GitHub, Confluence and Slack fakes, and
//! bare git remotes of phalanx (the real April 2026 files) and
//! ts_cycle_build (its real `cycle/cycle.env` files) under
//! `$GITHUB_SERVER_URL`, the shipped sites copied where a test may edit
//! them, and a Cycle 44 manifest whose deployments are in the next weeks.

use std::path::Path;
use std::process::Output;

use chrono::{Duration, TimeZone, Utc};

use super::confluence_fake::{self, ConfluenceFake};
use super::github_fake::{self, GithubFake};
use super::jira_fake::{self, JiraFake};
use super::run::{DirArg, TestDirs, cycle_command, texts};
use super::slack_fake::SlackFake;
use super::{Seed, create_bare_remote, file, fixture_files, read_repo_file};

/// The Slack methods that write.
const SLACK_WRITES: [&str; 5] = [
    "chat.postMessage",
    "chat.delete",
    "chat.update",
    "chat.scheduleMessage",
    "chat.deleteScheduledMessage",
];

/// Every service's fake, the remotes and the run directories.
pub struct FullWorld {
    /// Remotes, sites, releases, state and cache.
    pub dirs: TestDirs,
    /// Jira Cloud.
    pub jira: JiraFake,
    /// GitHub's REST API.
    pub github: GithubFake,
    /// Confluence Cloud.
    pub confluence: ConfluenceFake,
    /// Slack's Web API, its clock at the real time.
    pub slack: SlackFake,
}

/// `hour`:00 local time `days` from today in zone `tz`, as a manifest
/// writes it.
fn local(tz: chrono_tz::Tz, days: i64, hour: u32) -> String {
    let day = (Utc::now() + Duration::days(days))
        .with_timezone(&tz)
        .date_naive();
    let at = day.and_hms_opt(hour, 0, 0).unwrap();
    assert!(tz.from_local_datetime(&at).single().is_some());
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A test stand's deployment `days` from today: the start at 09:00, then
/// integration testing from 13:00 until 17:00 two days later.
fn test_stand(tz: chrono_tz::Tz, days: i64) -> String {
    format!(
        "    start: {}\n    integration_testing:\n      ready_by: {}\n      until: {}\n",
        local(tz, days, 9),
        local(tz, days, 13),
        local(tz, days + 2, 17)
    )
}

/// The shipped Cycle 44 manifest with every site's deployment in the next
/// weeks (Slack schedules nothing in the past, nor beyond 120 days).
pub fn manifest() -> String {
    let shipped = read_repo_file("releases/c0044.000.yaml");
    let (head, tail) = shipped.split_once("# Local times of each site.").unwrap();
    let (_, rest) = tail.split_once("\noperational_changes:").unwrap();
    let chile = chrono_tz::America::Santiago;
    let tucson = chrono_tz::America::Phoenix;
    format!(
        "{head}deployments:\n  bts:\n{}  tts:\n{}  summit:\n    start: {}\n\noperational_changes:{rest}",
        test_stand(chile, 10),
        test_stand(tucson, 17),
        local(chile, 24, 9),
    )
}

impl Default for FullWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl FullWorld {
    /// Fakes set up as the shipped sites expect them.
    pub fn new() -> Self {
        let world = Self {
            dirs: TestDirs::new(),
            jira: JiraFake::start(),
            github: GithubFake::start(),
            confluence: ConfluenceFake::start(),
            slack: SlackFake::start(),
        };
        world.slack.set_now(Utc::now().timestamp());
        let remotes = world.dirs.remotes();
        std::fs::create_dir_all(remotes.join("lsst-sqre")).unwrap();
        std::fs::create_dir_all(remotes.join("lsst-ts")).unwrap();
        let phalanx = fixture_files("phalanx");
        let seeds: Vec<Seed<'_>> = phalanx.iter().map(|(p, c)| file(p, c)).collect();
        create_bare_remote(&remotes, "lsst-sqre/phalanx.git", &seeds);
        super::create_cycle_build_remote(&remotes.join("lsst-ts"));
        std::fs::create_dir_all(world.dirs.releases()).unwrap();
        std::fs::write(world.dirs.releases().join("c0044.000.yaml"), manifest()).unwrap();
        world
            .dirs
            .copy_shipped_sites(&["bts.yaml", "summit.yaml", "tts.yaml"]);
        world
    }

    /// Replaces the first `from` (which must occur) in `sites/<site>.yaml`.
    pub fn edit_site(&self, site: &str, from: &str, to: &str) {
        let path = self.dirs.sites().join(format!("{site}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{from} not in {site}.yaml");
        std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    }

    /// `cycle ARGS` with every service configured; checks no token leaked.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    /// `cycle` with the world's directories and git remotes
    /// (`GITHUB_SERVER_URL`) but no service: a test sets those it wants.
    pub fn bare_command(&self) -> assert_cmd::Command {
        let mut cmd = cycle_command(
            &self.dirs,
            &[
                DirArg::Cache,
                DirArg::State,
                DirArg::Releases,
                DirArg::Sites,
            ],
        );
        cmd.env("GITHUB_SERVER_URL", self.dirs.remotes_url());
        cmd
    }

    /// [`FullWorld::run`] with further environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = self
            .bare_command()
            .env("XDG_CONFIG_HOME", self.dirs.path().join("xdg"))
            .envs(self.service_env())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        self.assert_no_token(&out, &[&self.dirs.state(), &self.dirs.cache()]);
        out
    }

    /// `cycle ARGS` as [`FullWorld::run`] runs it, but on another machine:
    /// its state, cache and home directories are `machine/state`,
    /// `machine/cache` and `machine` (the sites, releases and services are
    /// shared). Checks no token leaked.
    pub fn run_on(&self, machine: &Path, args: &[&str]) -> Output {
        std::fs::create_dir_all(machine).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cycle"))
            .current_dir(super::root())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", machine)
            .env("NO_COLOR", "1")
            .env("CYCLE_NO_CHECK", "true")
            .arg("--cache-dir")
            .arg(machine.join("cache"))
            .arg("--state-dir")
            .arg(machine.join("state"))
            .arg("--releases-dir")
            .arg(self.dirs.releases())
            .arg("--sites-dir")
            .arg(self.dirs.sites())
            .env("XDG_CONFIG_HOME", machine.join("xdg"))
            .envs(self.service_env())
            .args(args)
            .output()
            .unwrap();
        self.assert_no_token(&out, &[&machine.join("state"), &machine.join("cache")]);
        out
    }

    /// The variables that point `cycle` at the fakes and the bare remotes,
    /// with their tokens, a fast retry and a git author.
    fn service_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_SERVER_URL", self.dirs.remotes_url()),
            ("GITHUB_TOKEN", github_fake::TOKEN.to_string()),
            ("GITHUB_API_URL", self.github.url()),
            ("JIRA_URL", self.jira.url()),
            ("JIRA_USER", jira_fake::USER.to_string()),
            ("JIRA_API_TOKEN", jira_fake::TOKEN.to_string()),
            ("CONFLUENCE_URL", self.confluence.url()),
            ("CONFLUENCE_USER", confluence_fake::USER.to_string()),
            (
                "CONFLUENCE_API_TOKEN",
                confluence_fake::API_TOKEN.to_string(),
            ),
            ("SLACK_BOT_TOKEN", self.slack.token()),
            ("SLACK_API_URL", self.slack.url()),
            ("CYCLE_RETRY_BASE_MS", "5".to_string()),
            ("GIT_AUTHOR_NAME", "Release Manager".to_string()),
            ("GIT_AUTHOR_EMAIL", "rm@example.org".to_string()),
        ]
    }

    /// Asserts that no token of the fakes is in `out` or in a file below
    /// `dirs`.
    fn assert_no_token(&self, out: &Output, dirs: &[&Path]) {
        let (stdout, stderr) = texts(out);
        let slack = self.slack.token();
        super::assert_no_secret(
            &[
                github_fake::TOKEN,
                jira_fake::TOKEN,
                confluence_fake::API_TOKEN,
                slack.as_str(),
            ],
            &[&stdout, &stderr],
            dirs,
        );
    }

    /// Every ref of the bare remote `repo` (e.g. `lsst-sqre/phalanx.git`).
    pub fn refs(&self, repo: &str) -> String {
        refs_of(&self.dirs.remotes().join(repo))
    }

    /// Forgets every fake's recorded requests.
    pub fn clear(&self) {
        self.jira.clear_requests();
        self.github.clear();
        self.confluence.clear();
        self.slack.clear_requests();
    }

    /// Each write request any fake received, as `service METHOD path`.
    pub fn writes(&self) -> Vec<String> {
        let mut writes: Vec<String> = Vec::new();
        writes.extend(
            self.jira
                .writes()
                .iter()
                .map(|r| format!("jira {} {}", r.method, r.path)),
        );
        writes.extend(
            self.github
                .writes()
                .iter()
                .map(|r| format!("github {} {}", r.method, r.path)),
        );
        writes.extend(
            self.confluence
                .writes()
                .iter()
                .map(|r| format!("confluence {} {}", r.method, r.path)),
        );
        writes.extend(
            self.slack
                .requests()
                .iter()
                .filter(|r| SLACK_WRITES.iter().any(|m| r.path.ends_with(m)))
                .map(|r| format!("slack {}", r.path)),
        );
        writes
    }
}

fn refs_of(bare: &Path) -> String {
    super::git_dir(bare, &["for-each-ref", "--format=%(objectname) %(refname)"])
}
