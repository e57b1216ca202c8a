//! A saved plan: `cycle prepare … --dry-run --out plan.json`, then `cycle
//! apply plan.json` applies exactly that plan, or refuses (exit 1, nothing
//! written anywhere) naming each drift: a push to the base branch, a ticket
//! made by hand, an input file changed.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::full_world::FullWorld;
use support::run::texts;
use support::{file, github_fake, jira_fake};

const SUMMARY: &str = "Ready summit deployment configuration for Cycle 44";

/// Saves the summit's plan (tickets, calendar, config); returns its path.
fn save(world: &FullWorld) -> PathBuf {
    let out = world.dirs.path().join("plan.json");
    let run = world.run(&[
        "prepare",
        "--site",
        "summit",
        "--cycle",
        "44",
        "--only",
        "jira,calendar,config",
        "--dry-run",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (stdout, stderr) = texts(&run);
    assert_eq!(run.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("cycle apply"), "{stderr}");
    out
}

fn apply(world: &FullWorld, plan: &std::path::Path) -> (i32, String, String) {
    world.clear();
    let run = world.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    let (stdout, stderr) = texts(&run);
    (run.status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn a_fresh_plan_is_applied_and_holds_no_secret() {
    let world = FullWorld::new();
    let plan = save(&world);
    let text = std::fs::read_to_string(&plan).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], 2);
    assert_eq!(doc["command"]["sites"], serde_json::json!(["summit"]));
    assert_eq!(
        doc["command"]["only"],
        serde_json::json!(["jira", "calendar", "config"])
    );
    assert!(
        doc["basis"]["inputs"]["sites/summit.yaml"]
            .as_str()
            .unwrap()
            .len()
            == 64
    );
    assert!(
        doc["basis"]["branches"]["lsst-sqre/phalanx main"].is_string(),
        "{doc:#}"
    );
    for secret in [github_fake::TOKEN, jira_fake::TOKEN, "xoxb-", "ATATT"] {
        assert!(!text.contains(secret), "{secret} in the plan file");
    }

    let (code, stdout, stderr) = apply(&world, &plan);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let created: Vec<String> = world.jira.issues().into_iter().map(|i| i.summary).collect();
    assert!(created.contains(&SUMMARY.to_string()), "{created:?}");
    assert!(created.contains(&"Control System Cycle 44 Upgrade".to_string()));
    assert!(
        world
            .refs("lsst-sqre/phalanx.git")
            .contains("refs/heads/tickets/OSW-1")
    );
}

#[test]
fn a_push_to_the_base_branch_makes_the_plan_stale() {
    let world = FullWorld::new();
    let plan = save(&world);
    let bare = world.dirs.remotes().join("lsst-sqre/phalanx.git");
    support::commit_to_remote(
        &bare,
        "main",
        &[file("README.md", "moved\n")],
        "someone's change",
    );
    let before = world.refs("lsst-sqre/phalanx.git");

    let (code, stdout, stderr) = apply(&world, &plan);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the saved plan is stale; nothing was applied"),
        "{stderr}"
    );
    assert!(
        stderr.contains("branch lsst-sqre/phalanx main moved"),
        "{stderr}"
    );
    assert_eq!(world.writes(), Vec::<String>::new());
    assert_eq!(world.refs("lsst-sqre/phalanx.git"), before);
    assert!(world.jira.issues().is_empty());
}

#[test]
fn a_ticket_made_by_hand_or_a_changed_site_makes_the_plan_stale() {
    let world = FullWorld::new();
    let plan = save(&world);
    let key = world.jira.add_issue("OSW", "Story", SUMMARY);
    let (code, _, stderr) = apply(&world, &plan);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!("summit: ticket {key} appeared")),
        "{stderr}"
    );
    assert_eq!(world.writes(), Vec::<String>::new());

    let world = FullWorld::new();
    let plan = save(&world);
    world.edit_site("summit", "hours: 8", "hours: 9");
    let (code, _, stderr) = apply(&world, &plan);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("input file sites/summit.yaml changed"),
        "{stderr}"
    );
    assert_eq!(world.writes(), Vec::<String>::new());
}

#[test]
fn another_format_or_a_broken_file_is_one_clear_error() {
    let world = FullWorld::new();
    let plan = world.dirs.path().join("plan.json");
    std::fs::write(&plan, r#"{"format": 9}"#).unwrap();
    let (code, _, stderr) = apply(&world, &plan);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("saved plan format 9; this cycle reads format 2"),
        "{stderr}"
    );
}

/// Saves the plan of every site and step of a converged cycle (nothing to
/// apply: the page announcements wait for the build team).
fn save_all(world: &FullWorld, env: &[(&str, &str)]) -> PathBuf {
    let out = world.dirs.path().join("all.json");
    let run = world.run_env(
        &[
            "prepare",
            "--all",
            "--cycle",
            "44",
            "--cycle-build-ref={{ full_tag }}",
            "--dry-run",
            "--out",
            out.to_str().unwrap(),
        ],
        env,
    );
    let (stdout, stderr) = texts(&run);
    assert!(
        matches!(run.status.code(), Some(0 | 2)),
        "{stdout}\n{stderr}"
    );
    out
}

/// `cycle apply` of `plan` must refuse naming `drift`, writing nothing.
fn refused(world: &FullWorld, plan: &std::path::Path, env: &[(&str, &str)], drift: &str) {
    world.clear();
    let before = world.refs("lsst-sqre/phalanx.git");
    let run = world.run_env(&["apply", plan.to_str().unwrap(), "--yes"], env);
    let (stdout, stderr) = texts(&run);
    assert_eq!(run.status.code(), Some(1), "{drift}\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("the saved plan is stale; nothing was applied"),
        "{stderr}"
    );
    assert!(stderr.contains(drift), "want `{drift}` in:\n{stderr}");
    assert_eq!(world.writes(), Vec::<String>::new(), "{drift}");
    assert_eq!(world.refs("lsst-sqre/phalanx.git"), before, "{drift}");
}

#[test]
fn every_kind_of_step_drifts_by_name_and_an_unchanged_plan_applies() {
    let world = FullWorld::new();
    let first = world.run(&[
        "prepare",
        "--all",
        "--cycle",
        "44",
        "--cycle-build-ref={{ full_tag }}",
        "--yes",
    ]);
    assert_eq!(first.status.code(), Some(0), "{}", texts(&first).0);
    let key = |site: &str| {
        let name = if site == "bts" {
            "Base test stand"
        } else {
            site
        };
        let issues = world.jira.issues();
        issues
            .iter()
            .find(|i| i.summary.starts_with(&format!("Ready {name} deployment")))
            .unwrap_or_else(|| panic!("{issues:#?}"))
            .key
            .clone()
    };

    // Nothing changed: the plan applies, writing nothing (all is done,
    // the announcements wait).
    let plan = save_all(&world, &[]);
    world.clear();
    let run = world.run(&["apply", plan.to_str().unwrap(), "--yes"]);
    let (stdout, stderr) = texts(&run);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(world.writes(), Vec::<String>::new());

    // A ticket resolved by hand, then reopened.
    let summit = key("summit");
    let plan = save_all(&world, &[]);
    world.jira.resolve(&summit);
    refused(
        &world,
        &plan,
        &[],
        &format!("summit:jira: {summit} To Do → {summit} Done (resolved)"),
    );
    let plan = save_all(&world, &[]);
    world.jira.reopen(&summit);
    refused(
        &world,
        &plan,
        &[],
        &format!("summit:jira: {summit} Done (resolved) → {summit} To Do"),
    );

    // The ticket branch moved.
    let plan = save_all(&world, &[]);
    let bare = world.dirs.remotes().join("lsst-sqre/phalanx.git");
    let bts = key("bts");
    support::commit_to_remote(
        &bare,
        &format!("tickets/{bts}"),
        &[file("NOTES.md", "a person's commit\n")],
        "a person's commit",
    );
    refused(
        &world,
        &plan,
        &[],
        &format!("branch lsst-sqre/phalanx tickets/{bts} moved: "),
    );

    // The page edited by a person.
    let plan = save_all(&world, &[]);
    let page = world.confluence.page_titled("Cycle 44 Upgrade").unwrap();
    world
        .confluence
        .human_edit(&page.id, |body| format!("{body}<p>A person's note.</p>"));
    refused(
        &world,
        &plan,
        &[],
        &format!(
            "cycle:confluence: page {} version {} → page {} version {}",
            page.id,
            page.version,
            page.id,
            page.version + 1
        ),
    );

    // A scheduled message deleted, another moved.
    let plan = save_all(&world, &[]);
    let scheduled = world.slack.scheduled();
    let start = scheduled
        .iter()
        .find(|m| m.text.contains("· summit ·") && m.text.contains("· start"))
        .unwrap_or_else(|| panic!("{scheduled:#?}"));
    world.slack.delete_scheduled(&start.id);
    refused(
        &world,
        &plan,
        &[],
        &format!(
            "summit:slack:start: scheduled {} at {} → nothing in Slack",
            start.id, start.post_at
        ),
    );
    let plan = save_all(&world, &[]);
    let day_before = world
        .slack
        .scheduled()
        .into_iter()
        .find(|m| m.text.contains("· tts ·") && m.text.contains("day before"))
        .unwrap_or_else(|| panic!("{:#?}", world.slack.scheduled()));
    world
        .slack
        .move_scheduled(&day_before.id, day_before.post_at + 3600);
    refused(
        &world,
        &plan,
        &[],
        &format!(
            "tts:slack:day_before: scheduled {} at {} → scheduled {} at {}",
            day_before.id,
            day_before.post_at,
            day_before.id,
            day_before.post_at + 3600
        ),
    );

    // A PR closed by hand.
    let plan = save_all(&world, &[]);
    let pull = world
        .github
        .pulls()
        .into_iter()
        .find(|p| p.head_ref == format!("tickets/{bts}"))
        .unwrap();
    world.github.close("lsst-sqre/phalanx", pull.number);
    refused(
        &world,
        &plan,
        &[],
        &format!(
            "bts:pr:lsst-sqre/phalanx: PR #{} open → PR #{} closed",
            pull.number, pull.number
        ),
    );

    // A template changed.
    let templates = world.dirs.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    for entry in std::fs::read_dir(support::root().join("templates")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
    }
    let dir = templates.to_str().unwrap();
    let env = [("CYCLE_TEMPLATES_DIR", dir)];
    let plan = save_all(&world, &env);
    let path = templates.join("slack_start.mrkdwn");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n")).unwrap();
    refused(
        &world,
        &plan,
        &env,
        "input file templates/slack_start.mrkdwn changed",
    );

    // Another committer.
    let plan = save_all(&world, &[]);
    refused(
        &world,
        &plan,
        &[
            ("GIT_COMMITTER_NAME", "Someone Else"),
            ("GIT_COMMITTER_EMAIL", "else@example.org"),
        ],
        "the identity that commits changed: author Release Manager <rm@example.org>; \
         committer Release Manager <rm@example.org> → author Release Manager \
         <rm@example.org>; committer Someone Else <else@example.org>",
    );
}
