//! One `cycle prepare --all --cycle 44 --yes` run against every service at
//! once: the Jira, GitHub, Confluence and Slack fakes, and bare git remotes
//! of phalanx (the real April 2026 files) and ts_cycle_build (its real
//! `cycle/cycle.env` files). The first run must leave everything in its
//! final state (the page lists every site's PR, not "not yet opened"), so a
//! second run sends no write request to any of them.

mod support;

use std::path::Path;
use std::process::Output;

use chrono::{Duration, TimeZone, Utc};
use support::confluence_fake::{self, ConfluenceFake};
use support::github_fake::{self, GithubFake};
use support::jira_fake::{self, JiraFake};
use support::run::{DirArg, TestDirs, cycle_command, texts};
use support::slack_fake::SlackFake;
use support::{Seed, create_bare_remote, file, fixture_files, read_repo_file};

/// The Slack methods that write.
const SLACK_WRITES: [&str; 4] = [
    "chat.postMessage",
    "chat.update",
    "chat.scheduleMessage",
    "chat.deleteScheduledMessage",
];

/// Every service's fake, the remotes and the run directories.
struct World {
    dirs: TestDirs,
    jira: JiraFake,
    github: GithubFake,
    confluence: ConfluenceFake,
    slack: SlackFake,
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
fn manifest() -> String {
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

impl World {
    fn new() -> Self {
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
        support::create_cycle_build_remote(&remotes.join("lsst-ts"));
        std::fs::create_dir_all(world.dirs.releases()).unwrap();
        std::fs::write(world.dirs.releases().join("c0044.000.yaml"), manifest()).unwrap();
        world
    }

    /// `cycle prepare --all --cycle 44 --yes` with every service configured.
    fn prepare(&self) -> Output {
        let out = cycle_command(
            &self.dirs,
            &[DirArg::Cache, DirArg::State, DirArg::Releases],
        )
        .env("XDG_CONFIG_HOME", self.dirs.path().join("xdg"))
        .env("GITHUB_SERVER_URL", self.dirs.remotes_url())
        .env("GITHUB_TOKEN", github_fake::TOKEN)
        .env("GITHUB_API_URL", self.github.url())
        .env("JIRA_URL", self.jira.url())
        .env("JIRA_USER", jira_fake::USER)
        .env("JIRA_API_TOKEN", jira_fake::TOKEN)
        .env("CONFLUENCE_URL", self.confluence.url())
        .env("CONFLUENCE_USER", confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", confluence_fake::API_TOKEN)
        .env("SLACK_BOT_TOKEN", self.slack.token())
        .env("SLACK_API_URL", self.slack.url())
        .env("CYCLE_RETRY_BASE_MS", "5")
        .env("GIT_AUTHOR_NAME", "Release Manager")
        .env("GIT_AUTHOR_EMAIL", "rm@example.org")
        .args([
            "prepare",
            "--all",
            "--cycle",
            "44",
            "--cycle-build-ref={{ full_tag }}",
            "--yes",
        ])
        .output()
        .unwrap();
        let (stdout, stderr) = texts(&out);
        let slack = self.slack.token();
        support::assert_no_secret(
            &[
                github_fake::TOKEN,
                jira_fake::TOKEN,
                confluence_fake::API_TOKEN,
                slack.as_str(),
            ],
            &[&stdout, &stderr],
            &[&self.dirs.state(), &self.dirs.cache()],
        );
        out
    }

    /// Every ref of a bare remote with its object id.
    fn refs(&self, repo: &str) -> String {
        refs_of(&self.dirs.remotes().join(repo))
    }

    fn clear(&self) {
        self.jira.clear_requests();
        self.github.clear();
        self.confluence.clear();
        self.slack.clear_requests();
    }

    /// Each write request any fake received, as `service METHOD path`.
    fn writes(&self) -> Vec<String> {
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
    support::git_dir(bare, &["for-each-ref", "--format=%(objectname) %(refname)"])
}

#[test]
fn one_run_converges_and_a_second_run_writes_nothing() {
    let world = World::new();
    let first = world.prepare();
    let (stdout, stderr) = texts(&first);
    assert_eq!(first.status.code(), Some(0), "{stdout}\n{stderr}");

    // Every site's ticket, branch and PR exist.
    let pulls = world.github.pulls();
    assert_eq!(pulls.len(), 3, "{pulls:?}");
    let branches = world.refs("lsst-sqre/phalanx.git");
    for pull in &pulls {
        assert!(
            branches.contains(&format!("refs/heads/{}", pull.head_ref)),
            "{branches}"
        );
    }

    // The page was written once, after the PRs: it links each of them.
    let page = world
        .confluence
        .page_titled("Cycle 44 Upgrade")
        .expect("the cycle page");
    assert_eq!(page.version, 1, "the page was written once");
    assert_eq!(page.parent_id.as_deref(), Some(confluence_fake::PARENT_ID));
    assert!(!page.body.contains("not yet opened"), "{}", page.body);
    for pull in &pulls {
        let link = format!("https://github.com/lsst-sqre/phalanx/pull/{}", pull.number);
        assert!(page.body.contains(&link), "{link} not on the page");
    }

    // The second run observes everything and writes nothing anywhere.
    let before = (
        world.refs("lsst-sqre/phalanx.git"),
        world.refs("lsst-ts/ts_cycle_build.git"),
    );
    world.clear();
    let second = world.prepare();
    let (stdout, stderr) = texts(&second);
    assert_eq!(second.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(world.writes(), Vec::<String>::new(), "{stdout}");
    assert_eq!(
        (
            world.refs("lsst-sqre/phalanx.git"),
            world.refs("lsst-ts/ts_cycle_build.git"),
        ),
        before
    );
    assert_eq!(world.github.pulls().len(), 3);
    assert_eq!(
        world
            .confluence
            .page_titled("Cycle 44 Upgrade")
            .unwrap()
            .version,
        1
    );
}
