//! `cycle prepare --only pr` end to end: the summit's phalanx ticket branch
//! pushed to a real bare remote (`--only config`), then its pull request
//! found, opened or updated against the GitHub fake, and the review notice
//! posted once to the Slack fake with the PR's link.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::github_fake::{self, FakePull, Fault, GithubFake};
use support::run::{DirArg, TestDirs, code, cycle_command, texts};
use support::slack_fake::{self, SlackFake};
use support::words;
use support::{Seed, assert_no_secret, create_bare_remote, file, fixture_files, read_repo_file};

const REPO: &str = "lsst-sqre/phalanx";
const HEAD: &str = "lsst-sqre:tickets/OSW-2010";
/// phalanx's convention: the ticket key first ("OSW-2010: Cycle 44 Summit configuration.").
const TITLE: &str = "OSW-2010: Cycle 44 Summit configuration";
/// A title written by hand before the convention was followed.
const HAND_TITLE: &str = "Cycle 44 Summit configuration";
/// What a person wrote on a PR opened by hand.
const HAND_BODY: &str = "Summit configuration for Cycle 44.\n\nold body text\n";

/// The shipped summit with reviewers, a team, a label and optionally a fork.
fn summit_yaml(fork: Option<&str>) -> String {
    let shipped = read_repo_file("sites/summit.yaml");
    let old = "    pull_request:\n      reviewers: []\n      labels: []\n";
    assert!(shipped.contains(old), "the shipped summit changed");
    let mut new = "    pull_request:\n      reviewers: [athornton, rra]\n      team_reviewers: [lsst-sqre/square]\n      labels: [cycle-build]\n".to_string();
    if let Some(fork) = fork {
        new.push_str(&format!("      fork: {fork}\n"));
    }
    shipped.replace(old, &new)
}

/// Bare remotes laid out as `$GITHUB_SERVER_URL/owner/name.git`, the
/// sites, state and cache directories, and the two fakes.
struct World {
    dirs: TestDirs,
    github: GithubFake,
    slack: SlackFake,
}

impl World {
    fn new() -> Self {
        Self::with_fork(None)
    }

    fn with_fork(fork: Option<&str>) -> Self {
        let world = Self {
            dirs: TestDirs::new(),
            github: GithubFake::start(),
            slack: SlackFake::start(),
        };
        let remotes = world.dirs.remotes();
        std::fs::create_dir_all(remotes.join("lsst-sqre")).unwrap();
        let phalanx = fixture_files("phalanx");
        let seeds: Vec<Seed<'_>> = phalanx.iter().map(|(p, c)| file(p, c)).collect();
        create_bare_remote(&remotes, "lsst-sqre/phalanx.git", &seeds);
        if let Some(fork) = fork {
            // A fork shares the upstream's history.
            let (owner, _) = fork.split_once('/').unwrap();
            std::fs::create_dir_all(remotes.join(owner)).unwrap();
            let upstream = remotes.join("lsst-sqre/phalanx.git");
            support::git(
                &remotes,
                &[
                    "clone",
                    "-q",
                    "--bare",
                    upstream.to_str().unwrap(),
                    &format!("{fork}.git"),
                ],
            );
        }
        world.dirs.copy_shipped_sites(&["bts.yaml", "tts.yaml"]);
        std::fs::write(world.dirs.sites().join("summit.yaml"), summit_yaml(fork)).unwrap();
        world
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = cycle_command(&self.dirs, &[DirArg::Cache, DirArg::State, DirArg::Sites]);
        cmd.env("GITHUB_SERVER_URL", self.dirs.remotes_url())
            .env("GITHUB_TOKEN", github_fake::TOKEN)
            .env("GITHUB_API_URL", self.github.url())
            .env("SLACK_BOT_TOKEN", self.slack.token())
            .env("SLACK_API_URL", self.slack.url())
            .env("CYCLE_RETRY_BASE_MS", "5")
            .env("GIT_AUTHOR_NAME", "Release Manager")
            .env("GIT_AUTHOR_EMAIL", "rm@example.org")
            .args(args);
        cmd
    }

    /// `cycle prepare --site summit --cycle 44 --ticket summit=OSW-2010 ARGS`;
    /// returns (exit code, stdout, stderr) and checks no token leaked.
    fn prepare(&self, args: &[&str]) -> (i32, String, String) {
        let mut full = words("prepare --site summit --cycle 44 --ticket summit=OSW-2010");
        full.extend(args);
        let out = self.command(&full).output().unwrap();
        let (stdout, stderr) = texts(&out);
        self.assert_no_token(&[&stdout, &stderr]);
        (code(&out), stdout, stderr)
    }

    /// Forgets the requests so far, runs `prepare` with `args` and asserts
    /// that it succeeded without a write to GitHub or Slack; its output.
    fn prepare_writing_nothing(&self, args: &[&str]) -> String {
        self.github.clear();
        self.slack.clear_requests();
        let (code, stdout, stderr) = self.prepare(args);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(
            self.github.writes().is_empty(),
            "{:?}",
            self.github.writes()
        );
        assert!(self.slack_writes().is_empty(), "{:?}", self.slack_writes());
        stdout
    }

    /// A world whose ticket branch is pushed and has an open PR a person
    /// wrote (`title`, [`HAND_BODY`]); the PR's number.
    fn with_pull_by_hand(title: &str) -> (Self, u64) {
        let world = Self::new();
        world.push_branch();
        let number = world
            .github
            .add_pull(FakePull::open(REPO, HEAD, "main", title, HAND_BODY));
        (world, number)
    }

    /// Pushes the ticket branch (`--only config`).
    fn push_branch(&self) {
        let (code, stdout, stderr) = self.prepare(&["--only", "config", "--yes"]);
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(self.github.writes().is_empty(), "config writes no PR");
        self.github.clear();
        self.slack.clear_requests();
    }

    /// The Slack requests that write.
    fn slack_writes(&self) -> Vec<String> {
        self.slack
            .writes()
            .into_iter()
            .map(|r| r.path)
            .filter(|p| {
                [
                    "chat.postMessage",
                    "chat.update",
                    "chat.scheduleMessage",
                    "chat.deleteScheduledMessage",
                ]
                .iter()
                .any(|m| p.ends_with(m))
            })
            .collect()
    }

    /// The review notices posted to `#ts-build`.
    fn notices(&self) -> Vec<slack_fake::Posted> {
        self.slack
            .posted()
            .into_iter()
            .filter(|p| p.channel == "C0TSBUILD1")
            .collect()
    }

    /// Neither token in `outputs`, the state directory (journal) or the cache.
    fn assert_no_token(&self, outputs: &[&str]) {
        let slack = self.slack.token();
        assert_no_secret(
            &[github_fake::TOKEN, slack.as_str()],
            outputs,
            &[&self.dirs.state(), &self.dirs.cache()],
        );
    }

    fn journal(&self) -> String {
        std::fs::read_to_string(self.dirs.state().join("journal/c0044.000.json")).unwrap()
    }
}

/// The summary row of step `id` (the summary comes after the plan).
fn line_with<'a>(text: &'a str, id: &str) -> &'a str {
    text.lines()
        .rev()
        .find(|l| l.trim_start().starts_with(&format!("{id} ")))
        .unwrap_or_else(|| panic!("no summary row of {id} in:\n{text}"))
}

#[test]
fn opens_the_pr_tells_the_reviewers_once_and_a_rerun_writes_nothing() {
    let world = World::new();
    world.push_branch();

    // Dry run: what would be opened; nothing is written anywhere.
    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "would open PR lsst-sqre/phalanx: tickets/OSW-2010 → main, reviewers athornton, rra, team lsst-sqre/square, labels cycle-build"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("no PR from lsst-sqre:tickets/OSW-2010 into main yet"),
        "{stdout}"
    );
    assert!(world.github.writes().is_empty());
    assert!(world.slack_writes().is_empty());

    // Apply: the PR is opened with the reviewers, then the notice posted.
    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let pulls = world.github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    let pr = &pulls[0];
    let url = format!("https://github.com/{REPO}/pull/{}", pr.number);
    let create = world
        .github
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/repos/lsst-sqre/phalanx/pulls")
        .expect("a create request");
    let sent = create.json();
    assert_eq!(sent["head"], "tickets/OSW-2010");
    assert_eq!(sent["base"], "main");
    assert_eq!(sent["title"], TITLE);
    assert_eq!(sent["draft"], false);
    let body = sent["body"].as_str().unwrap();
    assert!(body.contains("ticket OSW-2010"), "{body}");
    // The change summary computed from the pushed branch.
    assert!(body.contains("- New tag"), "{body}");
    assert!(body.contains("`c0044`"), "{body}");
    assert!(body.contains("revisions reset to 0"), "{body}");
    assert!(body.contains("`environments/values-summit.yaml`"), "{body}");
    assert!(
        body.contains("`applications/nublado/values-summit.yaml`"),
        "{body}"
    );
    assert_eq!(
        (pr.head_owner.as_str(), pr.head_ref.as_str()),
        ("lsst-sqre", "tickets/OSW-2010")
    );
    assert_eq!(pr.base, "main");
    assert_eq!(pr.requested_reviewers, ["athornton", "rra"]);
    assert_eq!(pr.requested_teams, ["square"]);
    assert_eq!(pr.labels, ["cycle-build"]);
    let row = line_with(&stdout, "summit:pr:lsst-sqre/phalanx");
    assert!(row.contains("created"), "{row}");
    assert!(row.contains(&url), "{row}");
    let notices = world.notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0]
            .text
            .contains(&format!("<{url}|lsst-sqre/phalanx#{}>", pr.number)),
        "{}",
        notices[0].text
    );
    assert!(notices[0].text.contains("ready for review (OSW-2010)"));
    assert!(world.journal().contains(&url));

    // Rerun: everything is found; no write request to GitHub or Slack.
    let stdout = world.prepare_writing_nothing(&["--only", "pr", "--yes"]);
    assert!(line_with(&stdout, "summit:pr:lsst-sqre/phalanx").contains("found"));
    assert_eq!(world.notices().len(), 1);
    assert_eq!(world.github.pulls().len(), 1);

    // The dry run now says there is nothing to do for the PR.
    let (code, stdout, _) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert!(code == 0 || code == 2);
    assert!(
        stdout.contains(&format!("PR #{} exists and is up to date", pr.number)),
        "{stdout}"
    );

    // A lost journal changes nothing: GitHub and Slack are the truth.
    std::fs::remove_file(world.dirs.state().join("journal/c0044.000.json")).unwrap();
    world.prepare_writing_nothing(&["--only", "pr", "--yes"]);
    assert_eq!(world.notices().len(), 1);
}

#[test]
fn an_open_pr_is_reused_and_its_body_updated() {
    let (world, number) = World::with_pull_by_hand(HAND_TITLE);

    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "PR #{number} exists; title and body would change; reviewers athornton, rra, team square would be asked; labels cycle-build would be added"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("-old body text"), "{stdout}");
    assert!(
        stdout.contains("+- New tags: `c0044`, `recommended_c0044`"),
        "{stdout}"
    );
    assert!(world.github.writes().is_empty());

    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(world.github.pulls().len(), 1, "never a second PR");
    let pr = world.github.pull(REPO, number).unwrap();
    let body = pr.body.unwrap();
    assert!(body.contains("ticket OSW-2010"), "{body}");
    assert!(!body.contains("old body text"), "{body}");
    assert_eq!(pr.title, TITLE);
    assert_eq!(pr.requested_reviewers, ["athornton", "rra"]);
    let writes: Vec<(String, String)> = world
        .github
        .writes()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert!(
        writes.contains(&("PATCH".into(), format!("/repos/{REPO}/pulls/{number}"))),
        "{writes:?}"
    );
    assert!(
        !writes.contains(&("POST".into(), format!("/repos/{REPO}/pulls"))),
        "{writes:?}"
    );
    assert!(line_with(&stdout, "summit:pr:lsst-sqre/phalanx").contains("updated"));
    assert_eq!(world.notices().len(), 1);
}

#[test]
fn a_422_already_exists_is_read_as_found() {
    let (world, number) = World::with_pull_by_hand(TITLE);
    // A lagging replica lists nothing, to the observation and to the step:
    // the step opens, GitHub answers 422, the step lists again and reuses.
    world
        .github
        .fail_next("GET", "/pulls", Fault::StaleEmptyList);
    world
        .github
        .fail_next("GET", "/pulls", Fault::StaleEmptyList);
    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let creates = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/repos/{REPO}/pulls"))
        .count();
    assert_eq!(creates, 1, "one refused attempt");
    assert_eq!(world.github.pulls().len(), 1, "never a second PR");
    let pr = world.github.pull(REPO, number).unwrap();
    assert!(pr.body.unwrap().contains("ticket OSW-2010"));
    let row = line_with(&stdout, "summit:pr:lsst-sqre/phalanx");
    assert!(row.contains("updated"), "{row}");
    assert!(row.contains(&format!("/pull/{number}")), "{row}");
}

#[test]
fn a_merged_pr_finishes_the_step_as_merged() {
    let (world, number) = World::with_pull_by_hand(TITLE);
    world.github.merge(REPO, number);

    let (_, stdout, _) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert!(
        stdout.contains(&format!("PR #{number} was merged")),
        "{stdout}"
    );
    assert!(!stdout.contains("would open PR"), "{stdout}");

    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(line_with(&stdout, "summit:pr:lsst-sqre/phalanx").contains("merged"));
    assert!(
        world.github.writes().is_empty(),
        "{:?}",
        world.github.writes()
    );
    assert_eq!(world.github.pulls().len(), 1);
    assert!(world.notices().is_empty(), "a merged PR needs no review");
}

#[test]
fn a_closed_pr_fails_the_step_and_is_never_reopened_or_duplicated() {
    let (world, number) = World::with_pull_by_hand(TITLE);
    world.github.close(REPO, number);

    let (code, stdout, _) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains(&format!("PR #{number} was closed without merging")),
        "{stdout}"
    );

    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let row = line_with(&stdout, "summit:pr:lsst-sqre/phalanx");
    assert!(row.contains("failed"), "{row}");
    assert!(
        row.contains(&format!(
            "pull request #{number} (https://github.com/{REPO}/pull/{number}) from {HEAD} into main was closed without merging"
        )),
        "{row}"
    );
    assert!(line_with(&stdout, "summit:review-notice:lsst-sqre/phalanx").contains("blocked"));
    assert!(
        world.github.writes().is_empty(),
        "{:?}",
        world.github.writes()
    );
    assert_eq!(world.github.pulls().len(), 1);
    assert!(world.notices().is_empty());
    assert!(world.journal().contains("FAILED"));
}

#[test]
fn a_short_rate_limit_is_waited_out_and_a_long_one_reported() {
    let world = World::new();
    world.push_branch();
    world
        .github
        .fail_next("GET", "/pulls", Fault::PrimaryRateLimit { reset_in: 7200 });
    world
        .github
        .fail_next("GET", "/pulls", Fault::PrimaryRateLimit { reset_in: 7200 });
    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let row = line_with(&stdout, "summit:pr:lsst-sqre/phalanx");
    assert!(row.contains("GitHub rate limit"), "{row}");
    assert!(row.contains("run again after that"), "{row}");
    assert!(world.github.pulls().is_empty());
    assert!(world.notices().is_empty());

    // A secondary limit with a short Retry-After on the create is waited
    // out (after listing again), then the PR is opened once.
    world.github.clear();
    world.github.fail_next(
        "POST",
        "/pulls",
        Fault::SecondaryRateLimit { retry_after: 1 },
    );
    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let creates = world
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/repos/{REPO}/pulls"))
        .count();
    assert_eq!(creates, 2, "refused once, then opened");
    assert_eq!(world.github.pulls().len(), 1);
    assert!(line_with(&stdout, "summit:pr:lsst-sqre/phalanx").contains("created"));
    assert_eq!(world.notices().len(), 1);
}

#[test]
fn a_missing_token_is_one_error_before_any_step_and_only_when_needed() {
    let world = World::new();
    world.push_branch();
    let out = world
        .command(&[
            "prepare", "--site", "summit", "--cycle", "44", "--ticket", "OSW-2010", "--only", "pr",
            "--yes",
        ])
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("GITHUB_TOKEN"), "{stderr}");
    assert!(world.github.requests().is_empty());
    assert!(world.slack_writes().is_empty());

    // A dry run without a token shows the plan without looking PRs up.
    let out = world
        .command(&words(
            "prepare --site summit --cycle 44 --ticket OSW-2010 --only pr --dry-run",
        ))
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("would open PR lsst-sqre/phalanx"),
        "{stdout}"
    );
    assert!(world.github.requests().is_empty());
}

#[test]
fn a_fork_gets_the_branch_and_is_the_head_of_the_pr() {
    let world = World::with_fork(Some("rm-bot/phalanx"));
    let fork = world.dirs.remotes().join("rm-bot/phalanx.git");
    let upstream = world.dirs.remotes().join("lsst-sqre/phalanx.git");
    world.push_branch();
    let branches = |bare: &Path| {
        support::git_dir(bare, &["for-each-ref", "--format=%(refname)", "refs/heads"])
    };
    assert!(
        branches(&fork).contains("refs/heads/tickets/OSW-2010"),
        "{}",
        branches(&fork)
    );
    assert!(
        !branches(&upstream).contains("tickets/"),
        "the upstream gets no branch"
    );

    let (code, stdout, _) = world.prepare(&["--only", "pr", "--dry-run"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("would open PR lsst-sqre/phalanx: rm-bot:tickets/OSW-2010 → main"),
        "{stdout}"
    );

    let (code, stdout, stderr) = world.prepare(&["--only", "pr", "--yes"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let create = world
        .github
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == format!("/repos/{REPO}/pulls"))
        .expect("a create request");
    assert_eq!(create.json()["head"], "rm-bot:tickets/OSW-2010");
    let body = create.json()["body"].as_str().unwrap().to_string();
    assert!(body.contains("revisions reset to 0"), "{body}");
    let pulls = world.github.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].head_owner, "rm-bot");

    // A rerun finds the branch on the fork and the PR: nothing is written.
    let stdout = world.prepare_writing_nothing(&["--yes", "--only", "config,pr"]);
    assert!(line_with(&stdout, "summit:config:lsst-sqre/phalanx").contains("unchanged"));
}

/// A saved plan is made against the fork's ticket branch too: a commit
/// pushed there since makes `cycle apply` refuse, naming it, and write
/// nothing.
#[test]
fn a_saved_plan_is_stale_when_the_forks_ticket_branch_moved() {
    let world = World::with_fork(Some("rm-bot/phalanx"));
    world.push_branch();
    let fork = world.dirs.remotes().join("rm-bot/phalanx.git");
    let plan = world.dirs.path().join("plan.json");
    let (code, stdout, stderr) =
        world.prepare(&["--only", "pr", "--dry-run", "--out", plan.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let before = saved["basis"]["branches"]["rm-bot/phalanx tickets/OSW-2010"]
        .as_str()
        .unwrap_or_else(|| panic!("{saved:#}"))
        .to_string();
    support::commit_to_remote(
        &fork,
        "tickets/OSW-2010",
        &[file("NOTES.md", "a person's commit\n")],
        "a person's commit",
    );
    world.github.clear();
    let out = world
        .command(&["apply", plan.to_str().unwrap(), "--yes"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "branch rm-bot/phalanx tickets/OSW-2010 moved: {} → ",
            &before[..8]
        )),
        "{stderr}"
    );
    assert!(world.github.writes().is_empty());
    assert!(world.slack_writes().is_empty());
}
