//! Two release managers at once (issue 30): `cycle prepare --all --yes`
//! started at the same moment on two machines (separate state, cache and
//! home directories) against every service's fake, Jira answering 40 ms
//! late, ends with exactly one of everything; a rerun repairs duplicates an
//! older version left behind and never touches a person's.
//! See `docs/concurrency.md`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::Duration;

use serde_json::json;
use support::full_world::FullWorld;
use support::github_fake::PullState;
use support::run::texts;

const PREPARE: [&str; 6] = [
    "prepare",
    "--all",
    "--cycle",
    "44",
    "--cycle-build-ref={{ full_tag }}",
    "--yes",
];

/// [`PREPARE`] as a dry run.
const DRY_RUN: [&str; 6] = [
    "prepare",
    "--all",
    "--cycle",
    "44",
    "--cycle-build-ref={{ full_tag }}",
    "--dry-run",
];

/// Trials of two runs at once.
const TRIALS: usize = 10;

/// The page's title.
const PAGE: &str = "Cycle 44 Upgrade";

fn ok(out: &Output) -> bool {
    out.status.code() == Some(0)
}

fn shown(out: &Output) -> String {
    let (stdout, stderr) = texts(out);
    format!("{stdout}\n{stderr}")
}

/// Checks there is exactly one of everything; returns the open tickets'
/// keys by summary.
fn one_of_everything(world: &FullWorld, trial: &str) -> BTreeMap<String, String> {
    // One open ticket per summary: three sites' and the summit's calendar.
    let issues = world.jira.issues();
    let mut open: BTreeMap<String, String> = BTreeMap::new();
    for issue in issues.iter().filter(|i| !i.resolved) {
        if let Some(other) = open.insert(issue.summary.clone(), issue.key.clone()) {
            panic!("{trial}: {other} and {} both open: {issues:#?}", issue.key);
        }
    }
    assert_eq!(open.len(), 4, "{trial}: {open:?}");
    // Every other issue was closed as a duplicate of the open one.
    for issue in issues.iter().filter(|i| i.resolved) {
        assert_eq!(
            issue.fields["resolution"]["name"], "Duplicate",
            "{trial}: {issue:#?}"
        );
        let winner = &open[&issue.summary];
        assert!(
            issue.fields["issuelinks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["outwardIssue"]["key"] == json!(winner)),
            "{trial}: {issue:#?}"
        );
    }
    let keys: BTreeSet<&String> = open.values().collect();
    // One ticket branch per site, named after the ticket kept.
    let refs = world.refs("lsst-sqre/phalanx.git");
    let branches: BTreeSet<String> = refs
        .lines()
        .filter_map(|l| l.split_once(" refs/heads/tickets/"))
        .map(|(_, key)| key.to_string())
        .collect();
    assert_eq!(branches.len(), 3, "{trial}: {refs}");
    assert!(branches.iter().all(|b| keys.contains(b)), "{trial}: {refs}");
    // One open PR per branch, none other.
    let pulls = world.github.pulls();
    let open_pulls: BTreeSet<String> = pulls
        .iter()
        .filter(|p| p.state == PullState::Open)
        .map(|p| p.head_ref.trim_start_matches("tickets/").to_string())
        .collect();
    assert_eq!(open_pulls, branches, "{trial}: {pulls:#?}");
    assert_eq!(pulls.len(), 3, "{trial}: {pulls:#?}");
    // One page.
    let pages: Vec<_> = world
        .confluence
        .pages()
        .into_iter()
        .filter(|p| p.title == PAGE)
        .collect();
    assert_eq!(pages.len(), 1, "{trial}");
    // Three scheduled announcements per site, each once; each posted
    // message (review notices) once.
    let scheduled = world.slack.scheduled();
    let texts: BTreeSet<&String> = scheduled.iter().map(|m| &m.text).collect();
    assert_eq!(scheduled.len(), 9, "{trial}: {scheduled:#?}");
    assert_eq!(texts.len(), 9, "{trial}: {scheduled:#?}");
    let posted = world.slack.posted();
    let posted_texts: BTreeSet<&String> = posted.iter().map(|m| &m.text).collect();
    assert_eq!(posted_texts.len(), posted.len(), "{trial}: {posted:#?}");
    open
}

#[test]
fn two_runs_at_once_end_with_one_of_everything() {
    // Trials in which both runs filed a ticket (the race happened), and
    // reruns needed.
    let (mut raced, mut reruns) = (0, 0);
    for trial in 0..TRIALS {
        let trial = format!("trial {trial}");
        let world = FullWorld::new();
        world.jira.set_latency(Duration::from_millis(40));
        let machines = [
            world.dirs.path().join("machine-a"),
            world.dirs.path().join("machine-b"),
        ];
        let runs: Vec<Output> = std::thread::scope(|s| {
            let handles: Vec<_> = machines
                .iter()
                .map(|m| s.spawn(|| world.run_on(m, &PREPARE)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // At most one rerun of each side.
        for (machine, run) in machines.iter().zip(&runs) {
            if !ok(run) {
                reruns += 1;
                let said = shown(run);
                for line in said
                    .lines()
                    .filter(|l| l.contains(" failed ") || l.starts_with("error"))
                {
                    println!("{trial}: {line}");
                }
                let again = world.run_on(machine, &PREPARE);
                assert!(
                    ok(&again),
                    "{trial}: {}\nthen\n{}",
                    shown(run),
                    shown(&again)
                );
            }
        }
        one_of_everything(&world, &trial);
        if world.jira.issues().iter().any(|i| i.resolved) {
            raced += 1;
        }
        // A further run writes nothing.
        world.clear();
        let further = world.run_on(&machines[0], &PREPARE);
        assert!(ok(&further), "{trial}: {}", shown(&further));
        assert_eq!(
            world.writes(),
            Vec::<String>::new(),
            "{trial}: {}",
            shown(&further)
        );
    }
    println!("{TRIALS} trials: both runs filed tickets in {raced}; {reruns} reruns");
    // The runs start together and Jira answers 40 ms late: both search
    // before either files, nearly every time.
    assert!(raced > 0, "the runs never raced");
}

/// Runs `prepare` on machine `name` of the world.
fn run(world: &FullWorld, name: &str) -> Output {
    world.run_on(&world.dirs.path().join(name), &PREPARE)
}

/// The ticket of `summary`'s duplicate as an older version filed it: the
/// same summary, type, description and fields as `key`'s.
fn duplicate_of(world: &FullWorld, key: &str) -> String {
    let original = world.jira.issue(key).unwrap();
    let copy = world
        .jira
        .add_issue(&original.project, &original.issue_type, &original.summary);
    world
        .jira
        .set_field(&copy, "description", original.description.clone());
    copy
}

#[test]
fn a_rerun_retires_the_duplicates_an_older_version_filed() {
    let world = FullWorld::new();
    // What an older version's race left: two tickets of the summit's
    // summary, each with its branch and PR. Made here by a first run, then
    // a second ticket with its own branch and PR, as the other machine's run
    // made them.
    let first = run(&world, "machine-a");
    assert!(ok(&first), "{}", shown(&first));
    let keys: Vec<(String, String)> = world
        .github
        .pulls()
        .iter()
        .map(|p| (p.head_ref.clone(), p.repo.clone()))
        .collect();
    let (branch, _) = &keys[0];
    let winner = branch.trim_start_matches("tickets/").to_string();
    let loser = duplicate_of(&world, &winner);
    // Its branch (the winner's commit under the duplicate's name) and PR.
    let bare = world.dirs.remotes().join("lsst-sqre/phalanx.git");
    let tip = support::git_dir(&bare, &["rev-parse", &format!("refs/heads/{branch}")]);
    support::git_dir(
        &bare,
        &["update-ref", &format!("refs/heads/tickets/{loser}"), &tip],
    );
    let theirs = world.github.pulls()[0].clone();
    let number = world.github.add_pull(support::github_fake::FakePull {
        head_ref: format!("tickets/{loser}"),
        ..theirs
    });
    // And the other run's scheduled announcements: a copy of each.
    let originals: Vec<String> = world
        .slack
        .scheduled()
        .iter()
        .map(|m| m.id.clone())
        .collect();
    for id in &originals {
        world.slack.copy_scheduled(id);
    }
    assert_eq!(world.slack.scheduled().len(), 18);
    // A dry run says what an apply will do, and writes nothing.
    world.clear();
    let dry = world.run_on(&world.dirs.path().join("machine-b"), &DRY_RUN);
    let said = shown(&dry);
    assert!(
        said.contains(&format!(
            "{loser} has the same summary as {winner} and was filed by cycle too"
        )),
        "{said}"
    );
    assert_eq!(world.writes(), Vec::<String>::new(), "{said}");
    // The rerun on the machine whose journal holds the duplicate (its run
    // filed it; the other run's ticket won).
    let journal = world
        .dirs
        .path()
        .join("machine-a/state/journal/c0044.000.json");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(&format!("\"{winner}\"")), "{text}");
    std::fs::write(
        &journal,
        text.replace(&format!("\"{winner}\""), &format!("\"{loser}\"")),
    )
    .unwrap();
    world.clear();
    let rerun = run(&world, "machine-a");
    let said = shown(&rerun);
    assert!(ok(&rerun), "{said}");
    assert!(
        said.contains(&format!("{loser} closed as a duplicate of {winner}")),
        "{said}"
    );
    assert!(said.contains(&format!("PR #{number}")), "{said}");
    // The duplicate is closed, linked, commented; its PR closed.
    let dup = world.jira.issue(&loser).unwrap();
    assert!(dup.resolved);
    assert_eq!(dup.fields["resolution"]["name"], "Duplicate");
    assert_eq!(
        dup.fields["issuelinks"][0]["outwardIssue"]["key"],
        json!(winner)
    );
    let comment = dup.fields["comment"]["comments"][0]["body"].to_string();
    assert!(comment.contains(&winner), "{comment}");
    let pulls = world.github.pulls();
    let closed = pulls.iter().find(|p| p.number == number).unwrap();
    assert_eq!(closed.state, PullState::Closed);
    assert!(
        pulls
            .iter()
            .filter(|p| p.number != number)
            .all(|p| p.state == PullState::Open)
    );
    // One copy of each announcement is left.
    let scheduled = world.slack.scheduled();
    assert_eq!(scheduled.len(), 9, "{scheduled:#?}");
    let texts: BTreeSet<(&String, i64)> = scheduled.iter().map(|m| (&m.text, m.post_at)).collect();
    assert_eq!(texts.len(), 9);
    // The winner and the other sites are untouched.
    assert!(!world.jira.issue(&winner).unwrap().resolved);
    // The journal names the ticket kept again.
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(&format!("\"key\": \"{winner}\"")), "{text}");
    // A further run writes nothing.
    world.clear();
    let further = run(&world, "machine-a");
    assert!(ok(&further), "{}", shown(&further));
    assert_eq!(world.writes(), Vec::<String>::new(), "{}", shown(&further));
}

#[test]
fn a_duplicate_a_person_filed_is_reported_and_left_alone() {
    let world = FullWorld::new();
    let first = run(&world, "machine-a");
    assert!(ok(&first), "{}", shown(&first));
    let pulls = world.github.pulls();
    let kept = pulls[0].head_ref.trim_start_matches("tickets/").to_string();
    let original = world.jira.issue(&kept).unwrap();
    // A person files a ticket of the same summary by hand.
    let theirs = world
        .jira
        .add_issue(&original.project, &original.issue_type, &original.summary);
    let before = world.jira.issue(&theirs).unwrap();
    world.clear();
    let rerun = run(&world, "machine-a");
    let said = shown(&rerun);
    assert!(ok(&rerun), "{said}");
    assert!(
        said.contains(&format!("{theirs} has the same summary as {kept}")),
        "{said}"
    );
    assert!(said.contains("not filed by cycle"), "{said}");
    assert!(said.contains("reported"), "the summary says it: {said}");
    assert_eq!(world.jira.issue(&theirs).unwrap(), before);
    assert_eq!(world.writes(), Vec::<String>::new(), "{said}");
}
