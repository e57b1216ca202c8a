//! `cycle check` end to end: the real binary against the GitHub fake (tags,
//! paginated), the conda channel fake, the Jira fake (CAP release tickets
//! with links) and bare git remotes for ts_cycle_build and ts_xml (merges
//! of ticket branches into `develop`, version tags). Tests assert on the
//! findings, the exit code and what the fakes received.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use support::conda_fake::CondaFake;
use support::github_fake::{self, GithubFake};
use support::http_fake::paths as request_paths;
use support::jira_fake::{self, JiraFake};
use support::run::{DirArg, TestDirs, code, cycle_command, stdout};
use support::words;
use support::{commit_to_remote, create_bare_remote, file, git, git_dir};

/// A cycle.env of Cycle 44 with the manifest's core versions and a few products.
fn cycle_env(rev: &str, extra: &str) -> String {
    format!(
        "#\n# Cycle\n#\nCYCLE=c0044\nrev={rev}\nhub=ts-dockerhub.lsst.org\nts_xml=27.0.0\nts_sal=10.1.1\n\
         ts_idl=4.7.1\nts_salobj=8.2.9\nlibrdkafka=2.12.1\npython_confluent_kafka=2.12.2\n\
         ts_develop=0.5.16\nts_atdome=1.11.6\nts_ataos=1.11.3a1\nlove_manager=7.0.0\n{extra}"
    )
}

struct World {
    dirs: TestDirs,
    github: GithubFake,
    conda: CondaFake,
    jira: JiraFake,
}

impl World {
    /// Everything of the cycle released, built and done.
    fn ready(extra_env: &str) -> Self {
        let world = Self {
            dirs: TestDirs::new(),
            github: GithubFake::start(),
            conda: CondaFake::start(),
            jira: JiraFake::start(),
        };
        let owner = world.dirs.remotes().join("lsst-ts");
        std::fs::create_dir_all(&owner).unwrap();
        let build = create_bare_remote(
            &owner,
            "ts_cycle_build.git",
            &[file("cycle/cycle.env", &cycle_env(".000", extra_env))],
        );
        commit_to_remote(
            &build,
            "revision-3",
            &[file("cycle/cycle.env", &cycle_env(".003", extra_env))],
            "Cycle 44 revision 3.",
        );
        let tip = git_dir(&build, &["rev-parse", "revision-3"]);
        git_dir(&build, &["tag", "c0044.003", &tip]);
        // ts_atdome: 150 tags, the cycle's on the second page.
        let mut atdome: Vec<String> = (0..149).map(|n| format!("v2.{n}.0")).collect();
        atdome.push("v1.11.6".into());
        let atdome: Vec<&str> = atdome.iter().map(String::as_str).collect();
        world.github.add_tags("lsst-ts/ts_atdome", &atdome);
        for (repo, tags) in [
            ("lsst-ts/ts_xml", &["v27.0.0", "v26.0.0"][..]),
            ("lsst-ts/ts_sal", &["v10.1.1"]),
            ("lsst-ts/ts_idl", &["v4.7.1"]),
            ("lsst-ts/ts_salobj", &["v8.2.9"]),
            ("lsst-ts/ts_ataos", &["v1.11.3-alpha.1", "v1.11.2"]),
            ("lsst-ts/LOVE-manager", &["v7.0.0"]),
        ] {
            world.github.add_tags(repo, tags);
        }
        for (name, version, subdir, build) in [
            ("ts-idl", "4.7.1", "linux-64", "27.0.0_10.1.1_py313_0"),
            ("ts-idl", "4.7.1", "linux-64", "26.0.0_10.0.0_py313_0"),
            ("ts-salobj", "8.2.9", "noarch", "py_0"),
            ("ts-develop", "0.5.16", "noarch", "0"),
            ("ts-atdome", "1.11.6", "noarch", "py_0"),
            ("ts-ataos", "1.11.3a1", "noarch", "py_0"),
        ] {
            world.conda.add("lsstts", name, version, subdir, build);
        }
        let cap = world.jira.add_issue(
            "CAP",
            "Story",
            "Catch all ticket for OSW work for XML 27.0.0",
        );
        let dm1 = world.jira.add_issue("DM", "Story", "Add MTMount events");
        let dm2 = world.jira.add_issue("DM", "Story", "Rename ATDome topic");
        let dm3 = world.jira.add_issue("DM", "Story", "Follow-up work");
        world.jira.resolve(&cap);
        world.jira.resolve(&dm1);
        world.jira.set_field(
            &dm2,
            "status",
            json!({"name": "In Progress", "statusCategory": {"key": "indeterminate"}}),
        );
        world.jira.set_field(&dm2, "labels", json!(["xmldone"]));
        world
            .jira
            .set_field(&dm3, "status", json!({"name": "To Do"}));
        world
            .jira
            .set_field(&cap, "fixVersions", json!([{"name": "ts_xml 27.0.0"}]));
        world.jira.set_field(
            &cap,
            "issuelinks",
            json!([
                link("Relates", "relates to", "inwardIssue", &dm1),
                link("Relates", "relates to", "outwardIssue", &dm2),
                link("Triggers", "is triggering", "outwardIssue", &dm3),
            ]),
        );
        create_xml_remote(&owner, &["DM-1", "DM-2"]);
        world
    }

    fn command(&self) -> assert_cmd::Command {
        let mut cmd = cycle_command(&self.dirs, &[DirArg::Cache, DirArg::State]);
        cmd.env("XDG_CONFIG_HOME", self.dirs.path().join("xdg"))
            .env("GITHUB_SERVER_URL", self.dirs.remotes_url())
            .env("GITHUB_TOKEN", github_fake::TOKEN)
            .env("GITHUB_API_URL", self.github.url())
            .env("CYCLE_CONDA_API_URL", self.conda.url())
            .env("JIRA_URL", self.jira.url())
            .env("JIRA_USER", jira_fake::USER)
            .env("JIRA_API_TOKEN", jira_fake::TOKEN)
            .env("CYCLE_RETRY_BASE_MS", "10");
        cmd
    }

    fn check(&self, args: &[&str]) -> (Output, Value) {
        let out = self
            .command()
            .args(["check", "--cycle", "44", "--format", "json"])
            .args(args)
            .output()
            .unwrap();
        let text = stdout(&out);
        support::assert_no_secret(
            &[github_fake::TOKEN, jira_fake::TOKEN],
            &[&text, &support::run::stderr(&out)],
            &[&self.dirs.cache()],
        );
        let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (out, doc)
    }
}

fn link(name: &str, outward: &str, side: &str, key: &str) -> Value {
    json!({"id": "1", "type": {"name": name, "inward": "is related to", "outward": outward}, side: {"key": key}})
}

/// `lsst-ts/ts_xml.git`: tag v26.0.0 on main, then on `develop` a merge of
/// `tickets/<KEY>` for each key (newest last). Returns the merges' ids.
fn create_xml_remote(owner: &Path, keys: &[&str]) -> Vec<String> {
    let bare = create_bare_remote(owner, "ts_xml.git", &[file("README.md", "ts_xml\n")]);
    let main = git_dir(&bare, &["rev-parse", "main"]);
    git_dir(&bare, &["tag", "v26.0.0", &main]);
    merge_tickets(&bare, keys)
}

/// Merges a new `tickets/<KEY>` branch into `develop` of `bare` per key.
fn merge_tickets(bare: &Path, keys: &[&str]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    git(
        tmp.path(),
        &["clone", "-q", &bare.display().to_string(), "w"],
    );
    let work = tmp.path().join("w");
    let has_develop = !git_dir(bare, &["branch", "--list", "develop"]).is_empty();
    if has_develop {
        git(&work, &["checkout", "-q", "develop"]);
    } else {
        git(&work, &["checkout", "-q", "-b", "develop"]);
    }
    let mut merges = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        git(
            &work,
            &["checkout", "-q", "-b", &format!("tickets/{key}"), "develop"],
        );
        std::fs::write(work.join(format!("{key}.txt")), key).unwrap();
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", &format!("Work of {key}.")]);
        git(&work, &["checkout", "-q", "develop"]);
        git(
            &work,
            &[
                "merge",
                "-q",
                "--no-ff",
                "-m",
                &format!("Merge pull request #{} from lsst-ts/tickets/{key}", 100 + n),
                &format!("tickets/{key}"),
            ],
        );
        merges.push(git(&work, &["rev-parse", "HEAD"]));
    }
    git(&work, &["push", "-q", "origin", "develop"]);
    merges
}

fn findings(doc: &Value, status: &str) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == status)
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_ready_cycle_exits_0_and_every_check_passes() {
    let world = World::ready("");
    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 0, "{doc:#}");
    assert_eq!(doc["ready"], true);
    let ok: Vec<String> = findings(&doc, "ok").into_iter().map(|(c, _)| c).collect();
    assert_eq!(
        ok,
        ["cycle-build", "releases", "conda", "xml-tickets", "merges"],
        "{doc:#}"
    );
    assert!(findings(&doc, "fail").is_empty());

    // What the fakes received: every tag page of ts_atdome, no recipe or
    // ignored package, the conda names, the release's JQL and its links.
    let paths: Vec<String> = world
        .github
        .requests()
        .iter()
        .map(|r| format!("{}?{}", r.path, r.query))
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p == "/repos/lsst-ts/ts_atdome/tags?per_page=100&page=2"),
        "{paths:?}"
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("ts_develop") || p.contains("librdkafka"))
    );
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("/repos/lsst-ts/LOVE-manager/tags"))
    );
    let mut conda = request_paths(&world.conda.requests());
    conda.sort();
    assert_eq!(
        conda,
        [
            "/package/lsstts/ts-ataos",
            "/package/lsstts/ts-atdome",
            "/package/lsstts/ts-develop",
            "/package/lsstts/ts-idl",
            "/package/lsstts/ts-salobj"
        ]
    );
    let jql: Vec<String> = world
        .jira
        .requests()
        .iter()
        .filter_map(|r| r.param("jql"))
        .collect();
    assert_eq!(
        jql,
        [
            "project = CAP AND fixVersion = \"ts_xml 27.0.0\"",
            "key in (DM-1, DM-2)"
        ]
    );
    assert!(world.jira.writes().is_empty() && world.github.writes().is_empty());
}

#[test]
fn every_finding_is_produced_once_with_what_to_do() {
    let world = World::ready("ts_atmcs=2.1.4\n");
    world.github.add_tags("lsst-ts/ts_atmcs", &["v2.1.3"]);
    let dm4 = world.jira.add_issue("DM", "Story", "Still open");
    world.jira.set_field(
        &dm4,
        "status",
        json!({"name": "In Review", "statusCategory": {"key": "indeterminate"}}),
    );
    world.jira.set_field(
        &dm4,
        "assignee",
        json!({"displayName": "Tiago Ribeiro", "accountId": "x"}),
    );
    let cap = "CAP-1";
    world.jira.set_field(
        cap,
        "issuelinks",
        json!([
            link("Relates", "relates to", "inwardIssue", "DM-1"),
            link("Relates", "relates to", "outwardIssue", "DM-2"),
            link("Relates", "relates to", "outwardIssue", &dm4),
        ]),
    );
    let xml = world.dirs.remotes().join("lsst-ts/ts_xml.git");
    merge_tickets(&xml, &["DM-9"]);

    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 1, "{doc:#}");
    assert_eq!(doc["ready"], false);
    let errors = findings(&doc, "fail");
    assert_eq!(
        errors,
        [
            ("releases".to_string(), "ts_atmcs".to_string()),
            ("conda".to_string(), "ts-atmcs".to_string()),
            ("xml-tickets".to_string(), dm4.clone()),
            ("merges".to_string(), "DM-9".to_string()),
        ],
        "{doc:#}"
    );
    let all = doc["findings"].as_array().unwrap();
    let get = |check: &str| {
        all.iter()
            .find(|f| f["check"] == check && f["status"] == "fail")
            .unwrap()
    };
    assert!(
        get("releases")["found"]
            .as_str()
            .unwrap()
            .contains("newest tag: v2.1.3")
    );
    assert!(
        get("xml-tickets")["found"]
            .as_str()
            .unwrap()
            .contains("(Tiago Ribeiro): In Review")
    );
    for f in all.iter().filter(|f| f["status"] == "fail") {
        assert!(!f["fix"].as_str().unwrap().is_empty(), "{f}");
    }

    // Text: each finding with what to do, and the verdict.
    let text = world
        .command()
        .args(["check", "--cycle", "44"])
        .output()
        .unwrap();
    let text = stdout(&text);
    assert!(text.contains("not ready (4 to fix)"), "{text}");
    assert!(text.contains("→ tag v2.1.4 in lsst-ts/ts_atmcs"), "{text}");
}

#[test]
fn a_revision_lists_its_tickets_with_the_commits_that_merged_them() {
    let world = World::ready("");
    let (out, doc) = world.check(&["--revision", "3", "--cycle-build-ref", "{{ full_tag }}"]);
    assert_eq!(code(&out), 0, "{doc:#}");
    let rows: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "revision-section")
        .collect();
    let xml = world.dirs.remotes().join("lsst-ts/ts_xml.git");
    let subjects: Vec<&str> = rows
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["CAP-1", "DM-1", "DM-2"]);
    let dm1 = git_dir(
        &xml,
        &[
            "log",
            "--merges",
            "--format=%H",
            "--grep",
            "tickets/DM-1$",
            "develop",
        ],
    );
    assert_eq!(
        rows[1]["found"],
        format!(
            "DM-1: {}/lsst-ts/ts_xml/commit/{dm1} (the XML Changes row `cycle prepare` writes; \
             the page itself was not read)",
            world.dirs.remotes_url()
        )
    );
    assert_eq!(rows[0]["status"], "warn", "CAP-1 has no branch of its own");
}

#[test]
fn offline_runs_the_cycle_build_check_and_skips_the_others() {
    let world = World::ready("");
    world.check(&[]);
    let (out, doc) = world.check(&["--offline"]);
    // Four checks verified nothing: not ready, exit 1.
    assert_eq!(code(&out), 1, "{doc:#}");
    assert_eq!(doc["ready"], false);
    assert_eq!(
        findings(&doc, "ok"),
        [("cycle-build".to_string(), "cycle/cycle.env".to_string())]
    );
    let skipped = findings(&doc, "skipped");
    assert_eq!(skipped.len(), 4, "{doc:#}");
    for f in doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "skipped")
    {
        assert!(
            f["found"]
                .as_str()
                .unwrap()
                .starts_with("skipped (offline)"),
            "{f}"
        );
    }
}

#[test]
fn markdown_is_a_table() {
    let world = World::ready("");
    let out = world
        .command()
        .args(["check", "--cycle", "44", "--format", "markdown"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.starts_with("## Cycle 44: ready\n\n| severity | check |"),
        "{text}"
    );
}

#[test]
fn prepare_lists_a_revisions_tickets_and_commits_on_its_page_section_replaced_on_rerun() {
    use support::confluence_fake::{self as fake, ConfluenceFake};
    let world = World::ready("");
    let confluence = ConfluenceFake::start();
    let prepare = || {
        let out = world
            .command()
            .env("CONFLUENCE_URL", confluence.url())
            .env("CONFLUENCE_USER", fake::USER)
            .env("CONFLUENCE_API_TOKEN", fake::API_TOKEN)
            .args([
                "prepare",
                "--site",
                "summit",
                "--cycle",
                "44",
                "--revision",
                "3",
                "--cycle-build-ref",
                "{{ full_tag }}",
                "--ticket",
                "summit=OSW-2700",
                "--only",
                "confluence",
                "--yes",
            ])
            .output()
            .unwrap();
        assert_eq!(
            code(&out),
            0,
            "{}{}",
            stdout(&out),
            support::run::stderr(&out)
        );
        confluence
            .page_titled("Cycle 44 Upgrade")
            .expect("the page")
            .body
    };
    let xml = world.dirs.remotes().join("lsst-ts/ts_xml.git");
    let sha = |key: &str| {
        git_dir(
            &xml,
            &[
                "log",
                "--merges",
                "--format=%H",
                "--grep",
                &format!("tickets/{key}$"),
                "develop",
            ],
        )
    };
    let commit = |key: &str| {
        let sha = sha(key);
        format!(
            "<a href=\"{}/lsst-ts/ts_xml/commit/{sha}\">{}</a>",
            world.dirs.remotes_url(),
            &sha[..7]
        )
    };
    let body = prepare();
    assert_eq!(body.matches("<h3>XML Changes</h3>").count(), 1, "{body}");
    for key in ["DM-1", "DM-2"] {
        let row = format!(
            "<tr><td><a href=\"{}/browse/{key}\">{key}</a></td><td>{}</td></tr>",
            world.jira.url(),
            commit(key)
        );
        assert!(body.contains(&row), "{row} in {body}");
    }
    assert!(body.contains("CAP-1</a></td><td>none found</td>"), "{body}");

    // A new ticket of the release, merged: the rerun replaces the section in place.
    let dm5 = world.jira.add_issue("DM", "Story", "Late XML change");
    world.jira.resolve(&dm5);
    world.jira.set_field(
        "CAP-1",
        "issuelinks",
        json!([
            link("Relates", "relates to", "inwardIssue", "DM-1"),
            link("Relates", "relates to", "outwardIssue", "DM-2"),
            link("Relates", "relates to", "outwardIssue", &dm5),
        ]),
    );
    merge_tickets(&xml, &[&dm5]);
    let body = prepare();
    assert_eq!(body.matches("<h3>XML Changes</h3>").count(), 1, "{body}");
    assert_eq!(body.matches("cycle:revision-3:begin").count(), 1, "{body}");
    assert!(body.contains(&commit(&dm5)), "{body}");
    assert!(body.contains(&commit("DM-1")));
}

#[test]
fn prepare_shows_the_findings_and_an_unreleased_version_blocks_only_the_page_announcement() {
    use support::confluence_fake::{self as fake, ConfluenceFake};
    use support::slack_fake::SlackFake;
    let world = World::ready("ts_atmcs=2.1.4\n");
    world.github.add_tags("lsst-ts/ts_atmcs", &["v2.1.3"]);
    world
        .conda
        .add("lsstts", "ts-atmcs", "2.1.4", "noarch", "py_0");
    let confluence = ConfluenceFake::start();
    let slack = SlackFake::start();
    let prepare = |args: &[&str]| {
        world
            .command()
            .env("CYCLE_NO_CHECK", "false")
            .env("CONFLUENCE_URL", confluence.url())
            .env("CONFLUENCE_USER", fake::USER)
            .env("CONFLUENCE_API_TOKEN", fake::API_TOKEN)
            .env("SLACK_API_URL", slack.url())
            .env("SLACK_BOT_TOKEN", slack.token())
            .args(words(
                "prepare --site summit --cycle 44 --ticket summit=OSW-2010",
            ))
            .args(["--only", "confluence"])
            .args(args)
            .output()
            .unwrap()
    };
    let dry = prepare(&["--dry-run"]);
    let text = stdout(&dry);
    assert!(text.contains("Pre-flight findings (cycle check)"), "{text}");
    assert_eq!(
        text.matches("ts_atmcs 2.1.4 is not released").count(),
        2,
        "the finding, and the announcement's note: {text}"
    );
    assert!(
        text.contains("[waiting] Announce the Confluence page")
            && text.contains("waiting on findings: ts_atmcs 2.1.4"),
        "{text}"
    );
    let markdown = prepare(&["--dry-run", "--format", "markdown"]);
    let text = stdout(&markdown);
    assert!(
        text.contains("#### Pre-flight findings (cycle check)\n\n<details><summary>1 finding, 1 error</summary>")
            && text.contains("| error | releases | ts\\_atmcs | ts\\_atmcs 2.1.4 is not released"),
        "the Markdown plan carries cycle check's findings: {text}"
    );
    let json = prepare(&["--dry-run", "--json"]);
    let plan: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(plan["checks"][0]["check"], "releases", "{plan:#}");
    assert_eq!(
        plan["checks"].as_array().unwrap().len(),
        1,
        "ok findings are not pre-flight findings"
    );

    // The page is published all the same (the finding only informs it) ...
    let out = prepare(&["--yes"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert!(confluence.page_titled("Cycle 44 Upgrade").is_some());
    let mark = world
        .command()
        .args(words("mark --site summit --cycle 44 build-team done"))
        .output()
        .unwrap();
    assert_eq!(code(&mark), 0);
    // ... but its announcement waits while the version is not released:
    // not a failure (the apply did all it could, exit 0), nothing posted.
    let dry = prepare(&["--dry-run"]);
    assert_eq!(code(&dry), 0, "only a waiting step: {}", stdout(&dry));
    let out = prepare(&["--yes"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    let row = stdout(&out)
        .lines()
        .find(|l| l.trim_start().starts_with("summit:slack:page_ready"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", stdout(&out)));
    assert!(
        row.contains("waiting") && row.contains("on findings: ts_atmcs 2.1.4"),
        "{row}"
    );
    assert!(slack.posted().is_empty(), "nothing was posted");

    // Released: the announcement goes out.
    world.github.add_tags("lsst-ts/ts_atmcs", &["v2.1.4"]);
    let out = prepare(&["--yes"]);
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(slack.posted().len(), 1);
}

#[test]
fn transient_failures_are_retried_and_an_unknown_repository_is_one_finding() {
    use support::github_fake::Fault;
    let world = World::ready("ts_newcsc=0.1.0\n");
    world
        .conda
        .add("lsstts", "ts-newcsc", "0.1.0", "noarch", "py_0");
    world.conda.fail_next(2);
    world
        .github
        .fail_next("GET", "/repos/lsst-ts/ts_xml/tags", Fault::ServerError);
    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 1, "{doc:#}");
    assert_eq!(
        findings(&doc, "fail"),
        [("releases".to_string(), "ts_newcsc".to_string())],
        "only the repository GitHub does not know: {doc:#}"
    );
    let all = doc["findings"].as_array().unwrap();
    let f = all.iter().find(|f| f["subject"] == "ts_newcsc").unwrap();
    assert!(
        f["found"]
            .as_str()
            .unwrap()
            .contains("cannot list the tags of lsst-ts/ts_newcsc"),
        "{f}"
    );
    let xml_tags = world
        .github
        .requests()
        .iter()
        .filter(|r| r.path == "/repos/lsst-ts/ts_xml/tags")
        .count();
    assert_eq!(xml_tags, 2, "the 500 was retried once");
    assert_eq!(world.conda.requests().len(), 6 + 2, "two 503s retried");
}

/// A port on 127.0.0.1 where nothing listens: connections are refused.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The finding of `check` about `subject`.
fn finding<'a>(doc: &'a Value, check: &str, subject: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["subject"] == subject)
        .unwrap_or_else(|| panic!("no {check} finding about {subject}: {doc:#}"))
}

#[test]
fn a_version_in_tag_form_matches_its_tag_and_a_merge_after_the_release_tag_is_not_its() {
    // Issue 33, item 16: the real Cycle 44 cycle.env writes ts_logging_frontend
    // in tag form, and the repository's tag is v0.17.0-alpha.1. Item 18: it
    // is a JavaScript application, not a conda package.
    let world = World::ready("ts_logging_frontend=0.17.0-alpha.1\n");
    world.github.add_tags(
        "lsst-ts/ts_logging_frontend",
        &["v0.17.0-alpha.1", "v0.16.0"],
    );
    // Item 17: ts_xml v27.0.0 is tagged after DM-1 and DM-2 were merged;
    // DM-77 was merged afterwards, for the next release, and the release
    // branch is named as the real ones are (release/v27_cycle44).
    let xml = world.dirs.remotes().join("lsst-ts/ts_xml.git");
    let released = git_dir(&xml, &["rev-parse", "develop"]);
    git_dir(&xml, &["tag", "v27.0.0", &released]);
    merge_tickets(&xml, &["DM-77"]);

    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 0, "{doc:#}");
    assert_eq!(doc["ready"], true);
    assert_eq!(
        finding(&doc, "releases", "cycle.env")["found"],
        "all 8 packages have a release tag"
    );
    assert_eq!(
        finding(&doc, "merges", "lsst-ts/ts_xml")["found"],
        "every ticket merged between v26.0.0 and v27.0.0 (2 merges) is a ticket of ts_xml 27.0.0"
    );
    let conda = request_paths(&world.conda.requests());
    assert!(
        !conda.iter().any(|p| p.contains("logging")),
        "ts-logging-frontend has no conda recipe: {conda:?}"
    );

    // Before the tag exists the walk starts at develop's tip, and DM-77 is
    // reported: it is not a ticket of the release.
    git_dir(&xml, &["tag", "-d", "v27.0.0"]);
    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 1, "{doc:#}");
    assert_eq!(
        findings(&doc, "fail"),
        [("merges".to_string(), "DM-77".to_string())]
    );
}

#[test]
fn a_package_the_channel_does_not_know_names_the_recipe_to_look_at() {
    // Item 18: ts_atbuilding's recipe (lsst-ts/ts_atbuilding_csc) names the
    // package ts-atbuilding-csc; ts_newcsc has no package in the channel.
    // ts_atmcssimulator's (lsst-ts/ts_atmcssimulator) names it ts-atmcs-simulator.
    let world = World::ready("ts_atbuilding=0.2.1\nts_atmcssimulator=2.0.0a9\nts_newcsc=0.1.0\n");
    world
        .github
        .add_tags("lsst-ts/ts_atbuilding_csc", &["v0.2.1"]);
    world
        .github
        .add_tags("lsst-ts/ts_atmcssimulator", &["v2.0.0-alpha.9"]);
    world.github.add_tags("lsst-ts/ts_newcsc", &["v0.1.0"]);
    world
        .conda
        .add("lsstts", "ts-atbuilding-csc", "0.2.1", "noarch", "py_0");
    world
        .conda
        .add("lsstts", "ts-atmcs-simulator", "2.0.0a9", "noarch", "py_0");
    let (out, doc) = world.check(&[]);
    assert_eq!(code(&out), 1, "{doc:#}");
    assert_eq!(
        findings(&doc, "fail"),
        [("conda".to_string(), "ts-newcsc".to_string())]
    );
    let f = finding(&doc, "conda", "ts-newcsc");
    assert_eq!(
        f["found"],
        "ts-newcsc 0.1.0 is not in lsstts: the channel has no package ts-newcsc"
    );
    assert_eq!(
        f["fix"],
        "look at the recipe of lsst-ts/ts_newcsc (conda/meta.yaml, package.name): map ts-newcsc \
         to that name under conda.names in checks.yaml, or list it under conda.skip when \
         lsst-ts/ts_newcsc has no conda recipe"
    );
    let asked = request_paths(&world.conda.requests());
    for name in ["ts-atbuilding-csc", "ts-atmcs-simulator"] {
        assert!(
            asked.contains(&format!("/package/lsstts/{name}")),
            "{asked:?}"
        );
    }
}

#[test]
fn an_unreachable_host_is_asked_once_and_is_one_finding_per_cause() {
    // Items 6 and 13: the conda API and GitHub's API refuse connections.
    let world = World::ready("");
    let conda = refused_url();
    let github = refused_url();
    let out = world
        .command()
        .env("CYCLE_CONDA_API_URL", &conda)
        .env("GITHUB_API_URL", &github)
        .env("CYCLE_RETRY_BASE_MS", "2000")
        .args(["check", "--cycle", "44", "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(code(&out), 1, "{doc:#}");
    let host = |url: &str| url.trim_start_matches("http://").to_string();
    assert_eq!(
        findings(&doc, "fail"),
        [
            ("releases".to_string(), "7 repositories".to_string()),
            ("conda".to_string(), "5 packages".to_string()),
        ],
        "{doc:#}"
    );
    let releases = finding(&doc, "releases", "7 repositories");
    assert_eq!(
        releases["found"],
        format!(
            "7 repositories: cannot list tags: cannot reach {}: the connection was refused \
             (lsst-ts/LOVE-manager, lsst-ts/ts_ataos, lsst-ts/ts_atdome, lsst-ts/ts_idl, \
             lsst-ts/ts_sal, and 2 more)",
            host(&github)
        )
    );
    assert!(
        releases["fix"]
            .as_str()
            .unwrap()
            .starts_with("check the network connection")
    );
    let conda_finding = finding(&doc, "conda", "5 packages");
    assert_eq!(
        conda_finding["found"],
        format!(
            "5 packages: cannot look up in lsstts: cannot reach {}: the connection was refused \
             (ts-ataos, ts-atdome, ts-develop, ts-idl, ts-salobj)",
            host(&conda)
        )
    );
    // No retry: with a 2 s backoff, four attempts per request would take
    // many seconds (the wall time itself is measured in benches/newcomer.rs).
    let text = world
        .command()
        .env("CYCLE_CONDA_API_URL", &conda)
        .env("GITHUB_API_URL", &github)
        .env("CYCLE_RETRY_BASE_MS", "2000")
        .args(["check", "--cycle", "44"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let text = stdout(&text);
    assert!(text.lines().all(|l| l.chars().count() <= 1000), "{text}");
    assert_eq!(text.matches("cannot reach").count(), 2, "{text}");
}

#[test]
fn offline_with_every_check_skipped_is_not_verified_in_every_format() {
    // Item 8: nothing verified is not ready.
    let world = World::ready("");
    let run = |format: &str| {
        let out = world
            .command()
            .args(["check", "--cycle", "44", "--offline", "--format", format])
            .output()
            .unwrap();
        (code(&out), stdout(&out))
    };
    let (c, text) = run("text");
    assert_eq!(c, 1);
    assert_eq!(
        text,
        "skipped  cycle-build      skipped (offline): ts_cycle_build has never been cloned into the cache\n\
         \x20                         → run once online\n\
         skipped  releases         skipped: cycle/cycle.env could not be read\n\
         skipped  conda            skipped: cycle/cycle.env could not be read\n\
         skipped  xml-tickets      skipped: cycle/cycle.env could not be read\n\
         skipped  merges           skipped: cycle/cycle.env could not be read\n\
         \n\
         Cycle 44: not verified (5 checks skipped)\n"
    );
    let (c, markdown) = run("markdown");
    assert_eq!(c, 1);
    assert!(
        markdown.starts_with("## Cycle 44: not verified (5 checks skipped)\n\n| severity |"),
        "{markdown}"
    );
    let (c, json) = run("json");
    assert_eq!(c, 1);
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["ready"], false);
}

#[test]
fn a_prepare_run_asks_each_tag_list_and_package_once_and_only_when_the_page_is_selected() {
    // Issue 33, item 15.
    let world = World::ready("");
    let prepare = |only: &str| {
        world.github.clear();
        let before = world.conda.requests().len();
        let out = world
            .command()
            .env("CYCLE_NO_CHECK", "false")
            .args([
                "prepare",
                "--site",
                "summit",
                "--cycle",
                "44",
                "--dry-run",
                "--only",
                only,
            ])
            .output()
            .unwrap();
        // (The world has no phalanx: the dry run's own pre-flight fails.)
        assert!(
            stdout(&out).contains("Plan for Cycle 44"),
            "{}",
            stdout(&out)
        );
        let tags: Vec<String> = world
            .github
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/tags"))
            .map(|r| format!("{}?{}", r.path, r.query))
            .collect();
        let conda = request_paths(&world.conda.requests()[before..]);
        (tags, conda)
    };
    let (mut tags, mut conda) = prepare("confluence");
    let asked = tags.len();
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), asked, "a tag page asked twice: {tags:?}");
    assert_eq!(
        asked, 8,
        "seven repositories, ts_atdome's two pages: {tags:?}"
    );
    let looked_up = conda.len();
    conda.sort();
    conda.dedup();
    assert_eq!(conda.len(), looked_up, "a package asked twice: {conda:?}");
    assert_eq!(looked_up, 5);
    // The findings gate only the page and its announcement.
    for only in ["jira", "config", "pr", "calendar"] {
        assert_eq!(prepare(only), (vec![], vec![]), "--only {only}");
    }
}

/// A saved plan made while a version is not released (its `page_ready`
/// waits on that finding) applies when nothing changed: the findings that
/// gate a step are evaluated again and compared. So does one made while
/// the conda channel cannot be reached; a version released in between is
/// named as drift.
#[test]
fn a_saved_plan_with_a_gating_finding_or_an_unreachable_channel_applies() {
    use support::confluence_fake::{self as fake, ConfluenceFake};
    use support::slack_fake::SlackFake;
    for unreachable in [false, true] {
        let world = World::ready("ts_atmcs=2.1.4\n");
        world.github.add_tags("lsst-ts/ts_atmcs", &["v2.1.3"]);
        let confluence = ConfluenceFake::start();
        let slack = SlackFake::start();
        let plan = world.dirs.path().join("plan.json");
        let run = |args: &[&str]| {
            let mut cmd = world.command();
            cmd.env("CYCLE_NO_CHECK", "false")
                .env("CONFLUENCE_URL", confluence.url())
                .env("CONFLUENCE_USER", fake::USER)
                .env("CONFLUENCE_API_TOKEN", fake::API_TOKEN)
                .env("SLACK_API_URL", slack.url())
                .env("SLACK_BOT_TOKEN", slack.token());
            if unreachable {
                cmd.env("CYCLE_CONDA_API_URL", "http://127.0.0.1:9/");
            }
            cmd.args(args).output().unwrap()
        };
        let mut save_plan = words(
            "prepare --site summit --cycle 44 --ticket summit=OSW-2010 --only confluence --dry-run --out",
        );
        save_plan.push(plan.to_str().unwrap());
        let mark = run(&words("mark --site summit --cycle 44 build-team done"));
        assert_eq!(code(&mark), 0);
        let save = run(&save_plan);
        assert_eq!(
            code(&save),
            2,
            "the page would be created: {}",
            stdout(&save)
        );
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
        let gates = &saved["basis"]["gates"]["summit:slack:page_ready"];
        assert!(
            gates[0]
                .as_str()
                .unwrap()
                .starts_with("ts_atmcs 2.1.4 is not released"),
            "{saved:#}"
        );

        let out = run(&["apply", plan.to_str().unwrap(), "--yes"]);
        assert_eq!(
            code(&out),
            0,
            "{}\n{}",
            stdout(&out),
            support::run::stderr(&out)
        );
        assert!(confluence.page_titled("Cycle 44 Upgrade").is_some());
        assert!(slack.posted().is_empty(), "page_ready waits");
        let row = stdout(&out)
            .lines()
            .find(|l| l.trim_start().starts_with("summit:slack:page_ready"))
            .map(str::to_string)
            .unwrap_or_default();
        assert!(
            row.contains("waiting") && row.contains("on findings: ts_atmcs 2.1.4"),
            "{row}"
        );

        // Released after the plan was made: the plan is stale, by name.
        let save = run(&save_plan);
        assert_eq!(code(&save), 0, "{}", stdout(&save));
        world.github.add_tags("lsst-ts/ts_atmcs", &["v2.1.4"]);
        let out = run(&["apply", plan.to_str().unwrap(), "--yes"]);
        let err = support::run::stderr(&out);
        assert_eq!(code(&out), 1, "{err}");
        assert!(
            err.contains("summit:slack:page_ready: the findings that gate it changed: ts_atmcs 2.1.4 is not released")
                && err.contains("→ no finding"),
            "{err}"
        );
        assert!(slack.posted().is_empty(), "nothing posted");
    }
}
