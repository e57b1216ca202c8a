//! `cycle prepare --only confluence` end to end: the real binary against the
//! Confluence fake (Cloud v2 and Data Center v1), the Jira fake for the
//! tickets' links, and ts_cycle_build's real `cycle/cycle.env` files in a
//! bare git remote laid out as `$GITHUB_SERVER_URL/lsst-ts/ts_cycle_build.git`
//! (`main` at revision 7, tag `c0044.000` at the cycle's commit). Tests
//! assert on what the fakes received and stored, and on the journal.

mod support;

use std::process::Output;

use assert_cmd::Command;
use support::confluence_fake::{self as fake, ConfluenceFake, PARENT_ID, SPACE, outside};
use support::github_fake::{self, GithubFake};
use support::http_fake::paths;
use support::jira_fake::{self, JiraFake};
use support::run::{DirArg, TestDirs, code, cycle_command, stderr, stdout};
use support::slack_fake::SlackFake;
use support::words;
use support::{manifest_with, read_repo_file};

const TITLE: &str = "Cycle 44 Upgrade";
const TICKET: &str = "summit=OSW-2010";
/// Reads the cycle's own commit of ts_cycle_build (a template of the cycle).
const AT_TAG: &str = "--cycle-build-ref={{ full_tag }}";

/// Which credentials the Confluence fake is given.
#[derive(Clone, Copy, PartialEq)]
enum Api {
    Cloud,
    DataCenter,
}

struct World {
    dirs: TestDirs,
    confluence: ConfluenceFake,
    jira: JiraFake,
    /// Answers the pull-request lookups the page's ticket table makes (no
    /// PR exists), so no run waits on api.github.com.
    github: GithubFake,
    api: Api,
    /// Whether CONFLUENCE_* variables are set.
    configured: bool,
    slack: Option<SlackFake>,
}

impl World {
    fn new() -> Self {
        Self::with_api(Api::Cloud)
    }

    fn with_api(api: Api) -> Self {
        let world = Self {
            dirs: TestDirs::new(),
            confluence: ConfluenceFake::start(),
            jira: JiraFake::start(),
            github: GithubFake::start(),
            api,
            configured: true,
            slack: None,
        };
        let owner = world.dirs.remotes().join("lsst-ts");
        std::fs::create_dir_all(&owner).unwrap();
        support::create_cycle_build_remote(&owner);
        world
    }

    fn journal(&self, tag: &str) -> String {
        std::fs::read_to_string(self.dirs.state().join(format!("journal/{tag}.json"))).unwrap()
    }

    fn command(&self) -> Command {
        let mut cmd = cycle_command(&self.dirs, &[DirArg::Cache, DirArg::State]);
        cmd.env("XDG_CONFIG_HOME", self.dirs.path().join("xdg"))
            .env("USER", "release-manager")
            .env("GITHUB_SERVER_URL", self.dirs.remotes_url())
            .env("GITHUB_TOKEN", github_fake::TOKEN)
            .env("GITHUB_API_URL", self.github.url())
            .env("JIRA_URL", self.jira.url())
            .env("JIRA_USER", jira_fake::USER)
            .env("JIRA_API_TOKEN", jira_fake::TOKEN);
        if self.configured {
            cmd.env("CONFLUENCE_URL", self.confluence.url());
            match self.api {
                Api::Cloud => {
                    cmd.env("CONFLUENCE_USER", fake::USER)
                        .env("CONFLUENCE_API_TOKEN", fake::API_TOKEN);
                }
                Api::DataCenter => {
                    cmd.env("CONFLUENCE_PAT", fake::PAT)
                        .args(["--confluence-api", "datacenter-v1"]);
                }
            }
        }
        if let Some(slack) = &self.slack {
            cmd.env("SLACK_API_URL", slack.url())
                .env("SLACK_BOT_TOKEN", slack.token());
        }
        cmd
    }

    /// `cycle prepare --site summit --cycle 44 --ticket summit=OSW-2010
    /// --only confluence` plus `args`.
    fn prepare(&self, args: &[&str]) -> Output {
        let out = self
            .command()
            .args([
                "prepare",
                "--site",
                "summit",
                "--cycle",
                "44",
                "--ticket",
                TICKET,
                "--only",
                "confluence",
            ])
            .args(args)
            .output()
            .unwrap();
        self.check_no_secret(&out);
        out
    }

    /// Fails if a token shows in the output, the journal or the cache.
    fn check_no_secret(&self, out: &Output) {
        let secrets = [
            fake::API_TOKEN,
            fake::PAT,
            jira_fake::TOKEN,
            github_fake::TOKEN,
            "ATATT",
        ];
        let text = format!("{}{}", stdout(out), stderr(out));
        support::assert_no_secret(
            &secrets,
            &[&text],
            &[&self.dirs.state(), &self.dirs.cache()],
        );
    }

    fn page(&self) -> fake::FakePage {
        self.confluence.page_titled(TITLE).expect("the cycle page")
    }
}

fn assert_code(out: &Output, want: i32) {
    assert_eq!(
        code(out),
        want,
        "stdout:\n{}\nstderr:\n{}",
        stdout(out),
        stderr(out)
    );
}

fn assert_well_formed(body: &str) {
    let doc = format!("<root>{body}</root>");
    let mut reader = quick_xml::Reader::from_str(&doc);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed: {e}\n{doc}"),
        }
    }
}

#[test]
fn creates_the_page_then_finds_it_unchanged_and_writes_nothing() {
    let w = World::new();
    // The dry run says what it would create, and writes nothing.
    let dry = w.prepare(&[AT_TAG, "--dry-run"]);
    assert_code(&dry, 2);
    assert!(
        stdout(&dry).contains(&format!(
            "would create page '{TITLE}' under page {PARENT_ID} in space {SPACE}"
        )),
        "{}",
        stdout(&dry)
    );
    assert!(w.confluence.writes().is_empty());

    let out = w.prepare(&[AT_TAG, "--yes"]);
    assert_code(&out, 0);
    let page = w.page();
    assert_eq!(page.parent_id.as_deref(), Some(PARENT_ID));
    assert_eq!(page.space, SPACE);
    assert_eq!(page.version, 1);
    assert!(
        stdout(&out).contains("cycle:confluence"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("created"), "{}", stdout(&out));
    // The ticket links to Jira; the real Cycle 44 versions are on the page.
    assert!(
        page.body.contains(&format!(
            "<td><a href=\"{}/browse/OSW-2010\">OSW-2010</a></td>",
            w.jira.url().trim_end_matches('/')
        )),
        "{}",
        page.body
    );
    for row in [
        "<tr><th>ts_xml</th><td>27.0.0</td></tr>",
        "<tr><th>ts_sal</th><td>10.1.1</td></tr>",
        "<tr><th>librdkafka</th><td>2.12.1</td></tr>",
    ] {
        assert!(page.body.contains(row), "{row} in {}", page.body);
    }
    assert_well_formed(&page.body);
    let journal: serde_json::Value = serde_json::from_str(&w.journal("c0044.000")).unwrap();
    let entry = &journal["steps"]["cycle:confluence"];
    assert_eq!(entry["status"], "FINISHED");
    assert_eq!(entry["outcome"]["id"], page.id.as_str());
    assert_eq!(entry["outcome"]["version"], 1);

    // A rerun finds the page by its title and writes nothing.
    w.confluence.clear();
    let dry = w.prepare(&[AT_TAG, "--dry-run"]);
    // Nothing to write: the page is done and its announcement waits for
    // the build team.
    assert_code(&dry, 0);
    assert!(
        stdout(&dry).contains("0 steps to apply, 1 up to date, 1 waiting"),
        "{}",
        stdout(&dry)
    );
    assert!(
        stdout(&dry).contains("[no change] Confluence page \"Cycle 44 Upgrade\""),
        "{}",
        stdout(&dry)
    );
    assert!(
        stdout(&dry).contains(&format!(
            "page {} (version 1) already has every section",
            page.id
        )),
        "{}",
        stdout(&dry)
    );
    let again = w.prepare(&[AT_TAG, "--yes"]);
    assert_code(&again, 0);
    assert!(stdout(&again).contains("unchanged"), "{}", stdout(&again));
    assert!(
        w.confluence.writes().is_empty(),
        "{:?}",
        w.confluence.writes()
    );
    assert_eq!(w.page().version, 1);
}

#[test]
fn a_change_updates_the_page_with_the_next_version_and_the_dry_run_shows_the_diff() {
    let w = World::new();
    assert_code(&w.prepare(&[AT_TAG, "--yes"]), 0);
    let id = w.page().id;
    let dir = tempfile::tempdir().unwrap();
    let changed = manifest_with(
        dir.path(),
        "c0044.000.yaml",
        &[("kafka: 3.9.0", "kafka: 3.9.1")],
    );
    let release = format!("--release={}", changed.display());
    w.confluence.clear();

    let dry = w.prepare(&[AT_TAG, &release, "--dry-run"]);
    assert_code(&dry, 2);
    let text = stdout(&dry);
    assert!(
        text.contains(&format!(
            "page {id} (version 1) exists; would update section versions as version 2"
        )),
        "{text}"
    );
    assert!(
        text.contains("-    <tr><th>kafka</th><td>3.9.0</td></tr>"),
        "{text}"
    );
    assert!(
        text.contains("+    <tr><th>kafka</th><td>3.9.1</td></tr>"),
        "{text}"
    );
    assert!(w.confluence.writes().is_empty());

    let out = w.prepare(&[AT_TAG, &release, "--yes"]);
    assert_code(&out, 0);
    assert!(stdout(&out).contains("updated"), "{}", stdout(&out));
    let puts: Vec<_> = w
        .confluence
        .writes()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].json()["version"]["number"], 2);
    assert!(
        w.page()
            .body
            .contains("<tr><th>kafka</th><td>3.9.1</td></tr>")
    );
    assert!(w.journal("c0044.000").contains("\"version\": 2"));
}

#[test]
fn a_conflict_is_reread_and_retried_and_human_text_survives_two_reruns() {
    let w = World::new();
    assert_code(&w.prepare(&[AT_TAG, "--yes"]), 0);
    let id = w.page().id;
    w.confluence.insert_after_section(
        &id,
        "versions",
        "\n<p>Ask <em>Tiago</em> before upgrading &amp; restarting.</p>",
    );
    w.confluence.human_edit(&id, |b| {
        format!("<h1>Notes</h1>\n{b}\n<p>Last words.</p>\n")
    });
    let before = outside(&w.page().body);
    let dir = tempfile::tempdir().unwrap();
    let first = manifest_with(dir.path(), "a.yaml", &[("kafka: 3.9.0", "kafka: 3.9.1")]);
    let second = manifest_with(
        dir.path(),
        "b.yaml",
        &[("valid_as_of: 2026-02-02", "valid_as_of: 2026-02-09")],
    );
    // Someone saves the page just before the first update arrives: 409.
    w.confluence.edit_before_next_update(|b| {
        fake::after_section(b, "schedule", "\n<p>Meanwhile: dome closed.</p>")
    });
    w.confluence.clear();
    let out = w.prepare(&[AT_TAG, &format!("--release={}", first.display()), "--yes"]);
    assert_code(&out, 0);
    let versions: Vec<u64> = w
        .confluence
        .writes()
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.json()["version"]["number"].as_u64().unwrap())
        .collect();
    let start = w.page().version - 1;
    assert_eq!(versions, [start, start + 1], "stale, then after re-reading");
    let body = w.page().body;
    assert!(body.contains("<p>Meanwhile: dome closed.</p>"));
    // Everything outside the sections is kept, the concurrent edit included.
    let kept = outside(&body).replace("\n<p>Meanwhile: dome closed.</p>", "");
    assert_eq!(kept, before, "human text outside the sections is kept");
    let after_first = outside(&body);

    let out = w.prepare(&[AT_TAG, &format!("--release={}", second.display()), "--yes"]);
    assert_code(&out, 0);
    let body = w.page().body;
    assert!(body.contains("<p>Valid as of 2026-02-09.</p>"));
    assert_eq!(
        outside(&body),
        after_first,
        "byte for byte after two reruns"
    );
}

#[test]
fn a_revision_section_is_written_once_in_three_runs_with_versions_from_cycle_env() {
    let w = World::new();
    assert_code(&w.prepare(&[AT_TAG, "--yes"]), 0);
    let cycle_page = w.page().body;
    // Revision 7 as ts_cycle_build's main records it: the manifest leaves
    // the six versions out, they come from cycle.env.
    let dir = tempfile::tempdir().unwrap();
    let shipped = read_repo_file("releases/c0044.003.yaml");
    let manifest = dir.path().join("c0044.007.yaml");
    std::fs::write(&manifest, shipped.replace("revision: 3", "revision: 7")).unwrap();
    let release = format!("--release={}", manifest.display());
    w.confluence.clear();
    for run in 0..3 {
        let out = w
            .command()
            .args([
                "prepare",
                "--site",
                "summit",
                &release,
                "--ticket",
                "summit=OSW-2107",
                "--only",
                "confluence",
                "--yes",
            ])
            .output()
            .unwrap();
        w.check_no_secret(&out);
        assert_code(&out, 0);
        let want = if run == 0 { "updated" } else { "unchanged" };
        assert!(stdout(&out).contains(want), "run {run}: {}", stdout(&out));
    }
    assert_eq!(w.confluence.writes().len(), 1, "one update in three runs");
    let body = w.page().body;
    assert_eq!(body.matches("cycle:revision-7:begin").count(), 1);
    assert_eq!(body.matches("<h2>Cycle 44, Revision 7</h2>").count(), 1);
    assert!(body.starts_with(&cycle_page), "the cycle's sections stay");
    let section = &body[cycle_page.len()..];
    for row in [
        "<tr><th>ts_xml</th><td>27.1.1</td></tr>",
        "<tr><th>ts_idl</th><td>4.7.1</td></tr>",
        "<tr><th>python-confluent-kafka</th><td>2.12.2</td></tr>",
    ] {
        assert!(
            section.contains(row),
            "{row} filled from cycle.env: {section}"
        );
    }
    assert!(section.contains("<li>MTScheduler</li>"));
    assert!(section.contains("OSW-2107"));
    assert_well_formed(&body);
}

#[test]
fn a_version_mismatch_is_reported_and_blocks_the_page_unless_accepted() {
    let w = World::new();
    // The default ref is main, at revision 7: another revision, another ts_xml.
    let dry = w.prepare(&["--dry-run"]);
    // The page waits on the findings: applying now would write nothing.
    assert_code(&dry, 0);
    let text = stdout(&dry);
    assert!(
        text.contains("[waiting] Confluence page")
            && text.contains("waiting on findings: ts_cycle_build cycle/cycle.env at main ("),
        "{text}"
    );
    assert!(
        text.contains("pre-flight finding: ts_cycle_build cycle/cycle.env at main (")
            && text.contains(") is for c0044.007, but the release being prepared is c0044.000"),
        "{text}"
    );
    assert!(
        text.contains("pre-flight finding: ts_xml is 27.0.0 in the release manifest but 27.1.1"),
        "{text}"
    );
    assert!(
        text.contains("blocked: the page is not published"),
        "{text}"
    );

    // The apply does what the plan showed: nothing, and says why.
    let out = w.prepare(&["--yes"]);
    assert_code(&out, 0);
    let row = stdout(&out)
        .lines()
        .find(|l| l.trim_start().starts_with("cycle:confluence"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        row.contains("waiting") && row.contains("on findings: ts_cycle_build"),
        "{}",
        stdout(&out)
    );
    assert!(w.confluence.writes().is_empty(), "nothing written");
    assert!(w.confluence.page_titled(TITLE).is_none());
    assert!(w.journal("c0044.000").contains("PENDING"));

    let out = w.prepare(&["--yes", "--accept-version-mismatch"]);
    assert_code(&out, 0);
    let body = w.page().body;
    assert!(
        body.contains("<tr><th>ts_xml</th><td>27.0.0</td></tr>"),
        "the manifest's versions are published"
    );
}

#[test]
fn data_center_v1_creates_and_finds_the_page() {
    let w = World::with_api(Api::DataCenter);
    assert_code(&w.prepare(&[AT_TAG, "--yes"]), 0);
    let page = w.page();
    assert_eq!(page.parent_id.as_deref(), Some(PARENT_ID));
    let paths = paths(&w.confluence.requests());
    assert!(
        paths.iter().all(|p| p.starts_with("/rest/api/")),
        "{paths:?}"
    );
    w.confluence.clear();
    let again = w.prepare(&[AT_TAG, "--yes"]);
    assert_code(&again, 0);
    assert!(w.confluence.writes().is_empty());
}

#[test]
fn missing_confluence_settings_are_one_error_and_offline_uses_the_manifest() {
    let mut w = World::new();
    w.configured = false;
    let out = w.prepare(&[AT_TAG, "--yes"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("CONFLUENCE_URL"), "{err}");
    assert!(w.confluence.requests().is_empty());
    assert!(!w.dirs.state().join("journal").exists(), "no side effect");

    // A dry run without them says the page was not looked up.
    let dry = w.prepare(&[AT_TAG, "--dry-run"]);
    assert_code(&dry, 2);
    assert!(
        stdout(&dry).contains("the page was not looked up: Confluence is not configured"),
        "{}",
        stdout(&dry)
    );

    // Offline without a cached clone of ts_cycle_build: the manifest's versions, said so.
    let fresh = World::new();
    let offline = fresh.prepare(&["--offline"]);
    assert_code(&offline, 2);
    assert!(
        stdout(&offline).contains(
            "offline and ts_cycle_build has never been cloned into the cache: the versions are the release manifest's"
        ),
        "{}",
        stdout(&offline)
    );
    assert!(fresh.confluence.requests().is_empty());
}

#[test]
fn the_page_is_announced_once_after_the_build_team_is_marked_done() {
    let mut w = World::new();
    w.slack = Some(SlackFake::start());
    let slack = w.slack.as_ref().unwrap();
    let announced = |slack: &SlackFake| -> Vec<String> {
        slack
            .posted()
            .into_iter()
            .filter(|p| {
                p.text
                    .starts_with("All base artifacts of Cycle 44 are built")
            })
            .map(|p| p.text)
            .collect()
    };
    // The page and its announcement are both `confluence` steps.
    let only = ["--only", "confluence", AT_TAG, "--yes"];

    // The page is published; its announcement waits for the build team:
    // the step stays pending and the run is not a failure.
    let out = w.prepare(&only);
    assert_code(&out, 0);
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("summit:slack:page_ready"))
        .unwrap_or_else(|| panic!("no page_ready row in {text}"));
    assert!(row.contains("waiting"), "{row}");
    assert!(
        row.contains("summit:build-team (a person's step: once done, run `cycle mark --site summit --cycle 44 build-team done`)"),
        "{row}"
    );
    assert!(announced(slack).is_empty());

    let mark = w
        .command()
        .args(words("mark --site summit --cycle 44 build-team done"))
        .output()
        .unwrap();
    assert_code(&mark, 0);

    let out = w.prepare(&only);
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("summit:slack:page_ready"))
        .unwrap_or_else(|| panic!("no page_ready row in {text}"));
    assert!(row.contains("posted"), "{row}\n{}", stderr(&out));
    let journal: serde_json::Value = serde_json::from_str(&w.journal("c0044.000")).unwrap();
    let url = journal["steps"]["cycle:confluence"]["outcome"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let posted = announced(slack);
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(
        posted[0].contains(&format!("<{url}|Cycle 44 Upgrade>")),
        "{}",
        posted[0]
    );

    // A rerun finds the announcement and posts nothing more.
    let out = w.prepare(&only);
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("summit:slack:page_ready"))
        .unwrap_or_else(|| panic!("no page_ready row in {text}"));
    assert!(row.contains("unchanged"), "{row}");
    assert_eq!(announced(slack).len(), 1);
}
