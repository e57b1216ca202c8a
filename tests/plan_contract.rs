//! The plan is the contract: for every selection (each kind with `--only`,
//! each with `--skip`, site subsets, a revision, a date moved after a first
//! apply), the steps a dry run shows as to apply are exactly the steps the
//! apply then writes, against every fake at once
//! (`tests/support/full_world.rs`); the services written are exactly those
//! of those steps; and a second dry run of the same selection shows nothing
//! to apply (exit 0).

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::full_world::FullWorld;
use support::run::texts;

/// The summary verbs of an apply that wrote something.
const WRITES: [&str; 5] = ["created", "updated", "scheduled", "posted", "rescheduled"];

/// Every step of a JSON plan with its action and whether it is selected.
fn steps(plan: &Value) -> Vec<(String, String, bool)> {
    let site_steps = plan["sites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["steps"].as_array().unwrap().iter());
    site_steps
        .chain(plan["cycle_steps"].as_array().unwrap().iter())
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["action"].as_str().unwrap().to_string(),
                s["selected"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The ids a plan shows as to apply: selected, creating or updating.
fn to_apply(plan: &Value) -> BTreeSet<String> {
    steps(plan)
        .into_iter()
        .filter(|(_, action, selected)| *selected && (action == "create" || action == "update"))
        .map(|(id, _, _)| id)
        .collect()
}

/// The service a step id writes to.
fn service(id: &str) -> &'static str {
    let kind = id.split(':').nth(1).unwrap_or_default();
    match kind {
        "jira" | "calendar" => "jira",
        "config" => "git",
        "confluence" => "confluence",
        "slack" | "review-notice" => "slack",
        "pr" => "github",
        _ => panic!("no service for {id}"),
    }
}

/// The dry run of `args` as JSON, and its exit code.
fn dry_run(world: &FullWorld, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["prepare"];
    all.extend_from_slice(args);
    all.extend(["--dry-run", "--json"]);
    let out = world.run(&all);
    let (stdout, stderr) = texts(&out);
    let plan = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {all:?}\n{stdout}\n{stderr}"));
    (plan, out.status.code().unwrap())
}

/// Checks the contract for one selection and returns what was applied.
fn contract(world: &FullWorld, args: &[&str]) -> BTreeSet<String> {
    let (plan, code) = dry_run(world, args);
    let shown = to_apply(&plan);
    assert_eq!(
        code,
        if shown.is_empty() { 0 } else { 2 },
        "{args:?}: exit 2 exactly when something would be written: {shown:?}"
    );
    let counted = plan["summary"]["to_apply"].as_u64().unwrap() as usize;
    assert_eq!(counted, shown.len(), "{args:?}: the summary counts them");

    world.clear();
    let refs_before = world.refs("lsst-sqre/phalanx.git");
    let mut all = vec!["prepare"];
    all.extend_from_slice(args);
    all.extend(["--yes", "--json"]);
    let out = world.run(&all);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}\n{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let written: BTreeSet<String> = rows
        .iter()
        .filter(|r| WRITES.contains(&r["action"].as_str().unwrap()))
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        written, shown,
        "{args:?}: the apply wrote exactly what the dry run showed\n{stdout}\n{stderr}"
    );
    // What the dry run showed waiting, missed or up to date, the apply did
    // not write either.
    for (id, action, selected) in steps(&plan) {
        if !selected {
            assert!(
                rows.iter().all(|r| r["id"] != id.as_str()),
                "{args:?}: {id} is not selected and did not run"
            );
        } else if action == "waiting" {
            let row = rows.iter().find(|r| r["id"] == id.as_str()).unwrap();
            assert_eq!(row["action"], "waiting", "{args:?}: {id}");
        }
    }

    // The services written are exactly those of the steps shown.
    let mut services: BTreeSet<&str> = world
        .writes()
        .iter()
        .map(|w| match w.split(' ').next().unwrap() {
            "jira" => "jira",
            "github" => "github",
            "confluence" => "confluence",
            "slack" => "slack",
            other => panic!("{other}"),
        })
        .collect();
    if world.refs("lsst-sqre/phalanx.git") != refs_before {
        services.insert("git");
    }
    let expected: BTreeSet<&str> = shown.iter().map(|id| service(id)).collect();
    assert_eq!(
        services,
        expected,
        "{args:?}: services written {:?}",
        world.writes()
    );

    // Converged: the same dry run shows nothing to apply.
    world.clear();
    let (again, code) = dry_run(world, args);
    assert_eq!(
        (to_apply(&again), code),
        (BTreeSet::new(), 0),
        "{args:?}: a second dry run has nothing to apply"
    );
    assert_eq!(
        world.writes(),
        Vec::<String>::new(),
        "a dry run writes nothing"
    );
    shown
}

const CYCLE: [&str; 3] = ["--cycle", "44", "--cycle-build-ref={{ full_tag }}"];

fn with<'a>(sites: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = sites.to_vec();
    args.extend(CYCLE);
    args.extend_from_slice(extra);
    args
}

#[test]
fn each_kind_alone_and_each_kind_skipped_applies_exactly_what_was_shown() {
    for kind in ["jira", "calendar", "config", "confluence", "slack", "pr"] {
        let world = FullWorld::new();
        let applied = contract(&world, &with(&["--all"], &["--only", kind]));
        // A kind alone on an empty world: only the tickets and the messages
        // need nothing else first.
        match kind {
            "jira" | "calendar" | "slack" => assert!(!applied.is_empty(), "{kind}"),
            _ => assert!(applied.is_empty(), "{kind}: waits for the tickets"),
        }
    }
    for kind in ["jira", "calendar", "config", "confluence", "slack", "pr"] {
        let world = FullWorld::new();
        contract(&world, &with(&["--all"], &["--skip", kind]));
    }
}

#[test]
fn site_subsets_then_everything_then_a_moved_date() {
    let world = FullWorld::new();
    let summit = contract(&world, &with(&["--site", "summit"], &[]));
    assert!(
        summit.iter().all(|id| !id.starts_with("bts:")),
        "{summit:?}"
    );
    contract(
        &world,
        &with(
            &["--site", "bts", "--site", "tts"],
            &["--only", "jira,config"],
        ),
    );
    let rest = contract(&world, &with(&["--all"], &[]));
    assert!(
        rest.iter().all(|id| !id.starts_with("summit:jira")),
        "the summit is done: {rest:?}"
    );

    // The BTS deployment moves a day later: its messages are rescheduled
    // and the page updated, as the dry run says.
    let path = world.dirs.releases().join("c0044.000.yaml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let bts = manifest.split("  bts:\n    start: ").nth(1).unwrap();
    let start = &bts[..16];
    let day: chrono::NaiveDateTime =
        chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%d %H:%M").unwrap();
    let moved = (day + chrono::Duration::days(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    std::fs::write(
        &path,
        manifest.replacen(
            &format!("  bts:\n    start: {start}"),
            &format!("  bts:\n    start: {moved}"),
            1,
        ),
    )
    .unwrap();
    let moved = contract(&world, &with(&["--all"], &[]));
    for id in [
        "bts:slack:day_before",
        "bts:slack:start",
        "cycle:confluence",
    ] {
        assert!(moved.contains(id), "{id} in {moved:?}");
    }
}

#[test]
fn a_revision_applies_exactly_what_was_shown() {
    let world = FullWorld::new();
    let shipped = support::read_repo_file("releases/c0044.003.yaml");
    std::fs::write(world.dirs.releases().join("c0044.003.yaml"), shipped).unwrap();
    contract(
        &world,
        &[
            "--all",
            "--cycle",
            "44",
            "--revision",
            "3",
            "--cycle-build-ref={{ full_tag }}",
            "--skip",
            "confluence",
        ],
    );
}

#[test]
fn a_selection_that_selects_nothing_is_a_usage_error() {
    let world = FullWorld::new();
    let out = world.run(&with(
        &["prepare", "--site", "summit"],
        &["--only", "jira", "--skip", "jira", "--dry-run"],
    ));
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(64), "{stdout}{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --only and --skip leave no step selected"
    );
    assert!(stdout.is_empty());
}
