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
