//! `cycle prepare` applying the plan, end to end: the real binary against
//! the Jira Cloud fake and an authenticating smart-HTTP git server over a
//! bare phalanx holding real files, with the shipped sites (summit, TTS,
//! BTS: all in lsst-sqre/phalanx) and the summit's calendar ticket.
//!
//! Covers the acceptance of the apply engine: convergence (one ticket per
//! site, branches named after the created keys, a rerun that only reads,
//! a lost journal), faults (500, 429 with `Retry-After`, a lost answer to
//! a create, SIGKILL between the ticket and the config step, SIGINT),
//! concurrency (the sites' steps overlap; each repository fetched once per
//! run), `cycle status` and secrets.

mod support;

use std::collections::BTreeSet;
use std::process::{Child, Output};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use support::apply_world::{ApplyWorld, CALENDAR_FIELDS, GITHUB_TOKEN, PREPARE_ALL, SITES, texts};
use support::jira_fake::{self, FakeIssue, Fault};
use support::words;

const CREATE: &str = "/rest/api/3/issue";
const SEARCH: &str = "/rest/api/3/search/jql";

/// The configuration ticket summary of a site (`templates/jira_summary.txt`).
fn summary(site: &str) -> String {
    let text_name = match site {
        "summit" => "summit",
        "tts" => "Tucson test stand",
        "bts" => "Base test stand",
        _ => unreachable!(),
    };
    format!("Ready {text_name} deployment configuration for Cycle 44")
}

const CALENDAR_SUMMARY: &str = "Control System Cycle 44 Upgrade";

fn assert_code(out: &Output, code: i32) {
    let (stdout, stderr) = texts(out);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
}

/// The configuration tickets (project OSW) by site, and the calendar tickets.
fn tickets(world: &ApplyWorld) -> (Vec<(String, FakeIssue)>, Vec<FakeIssue>) {
    let issues = world.jira.issues();
    let mut by_site = Vec::new();
    for site in SITES {
        for issue in issues.iter().filter(|i| i.summary == summary(site)) {
            by_site.push((site.to_string(), issue.clone()));
        }
    }
    let calendar = issues
        .iter()
        .filter(|i| i.summary == CALENDAR_SUMMARY)
        .cloned()
        .collect();
    (by_site, calendar)
}

/// Asserts the converged state: one OSW ticket per site, one SUMMIT
/// calendar ticket, nothing else in Jira, and one `tickets/<KEY>` branch
/// per site named after its ticket, with the site's tag on it. Returns
/// site → key.
fn assert_converged(world: &ApplyWorld) -> Vec<(String, String)> {
    let (by_site, calendar) = tickets(world);
    let sites: Vec<&str> = by_site.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(sites, SITES, "one ticket per site: {by_site:#?}");
    assert_eq!(calendar.len(), 1, "one calendar ticket: {calendar:#?}");
    assert_eq!(world.jira.issues().len(), 4, "{:#?}", world.jira.issues());
    let cal = &calendar[0];
    assert_eq!(cal.project, "SUMMIT");
    assert_eq!(cal.issue_type, "Task");
    assert_eq!(cal.priority.as_deref(), Some("SUMMIT-1"));
    assert_eq!(cal.labels, ["SoftwareRelease"]);
    for field in CALENDAR_FIELDS {
        assert_eq!(cal.fields[field], "2026-02-24", "{:?}", cal.fields);
    }
    let keys: Vec<(String, String)> = by_site
        .iter()
        .map(|(site, issue)| {
            assert_eq!(issue.project, "OSW");
            assert_eq!(issue.issue_type, "Story");
            assert_eq!(issue.fields["customfield_10056"]["value"], "Deployment");
            assert_eq!(
                issue.assignee,
                json!({ "accountId": world.jira.account_id("mreuter") })
            );
            (site.clone(), issue.key.clone())
        })
        .collect();
    let branches: BTreeSet<String> = world
        .ticket_branches()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let expected: BTreeSet<String> = keys.iter().map(|(_, k)| format!("tickets/{k}")).collect();
    assert_eq!(branches, expected, "one branch per ticket, named after it");
    for (site, key) in &keys {
        let env = match site.as_str() {
            "bts" => "base",
            "tts" => "tucson-teststand",
            other => other,
        };
        let file = support::git_dir(
            &world.phalanx(),
            &[
                "show",
                &format!("tickets/{key}:environments/values-{env}.yaml"),
            ],
        );
        assert!(file.contains("imageTag: \"c0044\""), "{site}: {file}");
    }
    keys
}

/// Fails when a token of the world appears in `outputs`, the state
/// directory (journal) or the cache.
fn assert_no_secret(world: &ApplyWorld, outputs: &[&Output]) {
    let texts: Vec<String> = outputs
        .iter()
        .flat_map(|out| {
            let (stdout, stderr) = texts(out);
            [stdout, stderr]
        })
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let seen = support::assert_no_secret(
        &[GITHUB_TOKEN, jira_fake::TOKEN],
        &texts,
        &[&world.state(), &world.cache()],
    );
    assert!(
        seen > 10,
        "the journal and the cache were read ({seen} files)"
    );
}

/// Fetches of phalanx started at the git server (`info/refs` for upload-pack).
fn fetches(world: &ApplyWorld) -> usize {
    world
        .git
        .requests()
        .iter()
        .filter(|r| r.starts_fetch())
        .count()
}

fn pushes(world: &ApplyWorld) -> usize {
    world.git.requests().iter().filter(|r| r.is_push()).count()
}

#[test]
fn two_runs_leave_one_ticket_per_site_and_the_summit_calendar_ticket() {
    let world = ApplyWorld::new();
    let first = world.run(&PREPARE_ALL);
    assert_code(&first, 0);
    let keys = assert_converged(&world);
    let creates = world
        .jira
        .writes()
        .iter()
        .filter(|r| r.method == "POST" && r.path == CREATE)
        .count();
    assert_eq!(
        creates, 4,
        "three configuration tickets and the calendar one"
    );
    // The calendar ticket carries exactly the fields vanward's
    // create_summit_upgrade_ticket.py sends: the deployment's day (in
    // Chile) as both date fields, priority, components, label, assignee,
    // participants and discipline, with users resolved to account ids.
    let calendar = world
        .jira
        .writes()
        .into_iter()
        .find(|r| r.path == CREATE && created_summary(r) == CALENDAR_SUMMARY)
        .unwrap();
    let mut fields = calendar.json()["fields"].clone();
    assert_eq!(
        fields["description"]["type"], "doc",
        "v3: Atlassian Document Format"
    );
    assert_eq!(
        adf_text(&fields["description"]),
        "Upgrade of Control Software (Cycle 44) and XML (27.0.0) on the summit.\n\
         To occur at 09:00 CLST - all systems will be unusable at this time."
    );
    fields.as_object_mut().unwrap().remove("description");
    let id = |name: &str| json!({ "accountId": world.jira.account_id(name) });
    assert_eq!(
        fields,
        json!({
            "project": { "key": "SUMMIT" },
            "issuetype": { "name": "Task" },
            "summary": CALENDAR_SUMMARY,
            "assignee": id("mreuter"),
            "labels": ["SoftwareRelease"],
            "priority": { "name": "SUMMIT-1" },
            "components": [
                { "name": "AuxTel" },
                { "name": "ComCam" },
                { "name": "SIT-COM" },
                { "name": "Software Updates" }
            ],
            "customfield_10059": "2026-02-24",
            "customfield_10061": "2026-02-24",
            "customfield_10151": [id("mreuter"), id("rbovill"), id("aibsen")],
            "customfield_10141": [{ "value": "Software" }]
        })
    );
    // The configuration tickets: vanward's create_configuration_tickets.py.
    let config = world
        .jira
        .writes()
        .into_iter()
        .find(|r| r.path == CREATE && created_summary(r).starts_with("Ready summit"))
        .unwrap();
    let mut fields = config.json()["fields"].clone();
    fields.as_object_mut().unwrap().remove("description");
    assert_eq!(
        fields,
        json!({
            "project": { "key": "OSW" },
            "issuetype": { "name": "Story" },
            "summary": "Ready summit deployment configuration for Cycle 44",
            "assignee": id("mreuter"),
            "customfield_10056": { "value": "Deployment" }
        })
    );
    let user_searches = world
        .jira
        .requests()
        .iter()
        .filter(|r| r.path == "/rest/api/3/user/search")
        .count();
    assert_eq!(user_searches, 3, "each user looked up once per run");
    assert_eq!(fetches(&world), 1, "phalanx fetched once for three sites");
    assert_eq!(pushes(&world), 3, "one push per site's branch");
    let (stdout, _) = texts(&first);
    for (site, key) in &keys {
        assert!(
            stdout.contains(&format!("{site}:jira")) && stdout.contains(key),
            "{stdout}"
        );
        assert!(stdout.contains(&format!("tickets/{key} @")), "{stdout}");
    }
    let branches = world.ticket_branches();

    // The second run only reads: no Jira write, no push, one fetch.
    world.jira.clear_requests();
    world.git.clear();
    let second = world.run(&PREPARE_ALL);
    assert_code(&second, 0);
    assert!(
        world.jira.writes().is_empty(),
        "the rerun wrote to Jira: {:#?}",
        world.jira.writes()
    );
    assert_eq!(pushes(&world), 0);
    assert_eq!(fetches(&world), 1);
    assert_eq!(assert_converged(&world), keys);
    assert_eq!(world.ticket_branches(), branches);
    let (stdout, _) = texts(&second);
    let summary = stdout.split("\nSummary\n").nth(1).unwrap_or_default();
    assert!(summary.ends_with("4 found, 3 unchanged.\n"), "{stdout}");

    // A lost journal costs lookups, never a duplicate.
    std::fs::remove_file(world.journal_path()).unwrap();
    world.jira.clear_requests();
    world.git.clear();
    let third = world.run(&PREPARE_ALL);
    assert_code(&third, 0);
    assert!(world.jira.writes().is_empty(), "{:#?}", world.jira.writes());
    assert_eq!(pushes(&world), 0);
    assert_eq!(assert_converged(&world), keys);
    assert_eq!(world.ticket_branches(), branches);
    for (site, key) in &keys {
        assert_eq!(
            world.journal()["steps"][format!("{site}:jira")]["outcome"]["key"],
            key.as_str()
        );
    }
    assert_no_secret(&world, &[&first, &second, &third]);
}

/// The `POST issue` requests, in order of arrival.
fn creates(world: &ApplyWorld) -> Vec<support::http_fake::Request> {
    world
        .jira
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == CREATE)
        .collect()
}

/// The text of an Atlassian Document Format document, a line per paragraph.
fn adf_text(doc: &serde_json::Value) -> String {
    let paragraphs = doc["content"].as_array().unwrap();
    let lines: Vec<String> = paragraphs
        .iter()
        .map(|p| {
            p["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n["text"].as_str())
                .collect()
        })
        .collect();
    lines.join("\n")
}

fn created_summary(request: &support::http_fake::Request) -> String {
    request.json()["fields"]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn jira_answering_500_then_ok_is_retried() {
    let world = ApplyWorld::new();
    // The observation's first search and the first create fail once.
    world.jira.fail_next("GET", SEARCH, 1, Fault::ServerError);
    world.jira.fail_next("POST", CREATE, 1, Fault::ServerError);
    let out = world.run(&PREPARE_ALL);
    assert_code(&out, 0);
    assert_converged(&world);
    // The failed create wrote nothing; its retry looked first, then filed.
    assert_eq!(creates(&world).len(), 5);
}

#[test]
fn a_push_answered_500_or_429_once_is_retried_within_the_run() {
    for status in [500, 429] {
        let world = ApplyWorld::new();
        // The first push of the run fails once; the next ones go through.
        world.git.fail_next_pushes(&[status]);
        let out = world.run(&PREPARE_ALL);
        assert_code(&out, 0);
        assert_converged(&world);
        let packs: Vec<u16> = world
            .git
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack"))
            .map(|r| r.status)
            .collect();
        assert_eq!(
            packs.iter().filter(|s| **s == status).count(),
            1,
            "{packs:?}"
        );
        // The three sites' branches, one of them pushed twice.
        assert_eq!(pushes(&world), 3, "{packs:?}");
        // A rerun pushes nothing.
        world.git.clear();
        let again = world.run(&PREPARE_ALL);
        assert_code(&again, 0);
        assert_eq!(pushes(&world), 0);
    }
}

#[test]
fn jira_answering_429_is_retried_after_retry_after() {
    let world = ApplyWorld::new();
    world.jira.fail_next(
        "POST",
        CREATE,
        1,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    let out = world.run(&PREPARE_ALL);
    assert_code(&out, 0);
    assert_converged(&world);
    let posts = creates(&world);
    assert_eq!(posts.len(), 5);
    let limited = &posts[0];
    let again = posts[1..]
        .iter()
        .find(|r| created_summary(r) == created_summary(limited))
        .expect("the rate-limited create is sent again");
    assert!(
        again.at.duration_since(limited.at) >= Duration::from_secs(1),
        "waited Retry-After: {:?}",
        again.at.duration_since(limited.at)
    );
}

#[test]
fn a_create_answered_by_a_dropped_connection_leaves_one_ticket() {
    let world = ApplyWorld::new();
    // Jira files the issue, and the answer is lost.
    world.jira.fail_next("POST", CREATE, 1, Fault::DropResponse);
    let first = world.run(&PREPARE_ALL);
    let rerun = world.run(&PREPARE_ALL);
    assert_code(&rerun, 0);
    assert_converged(&world);
    // The lost create was looked for before anything was filed again.
    let posts = creates(&world);
    let lost = created_summary(&posts[0]);
    assert_eq!(
        posts.iter().filter(|r| created_summary(r) == lost).count(),
        1,
        "filed once: {lost}; first run:\n{}",
        texts(&first).1
    );
    assert_code(&first, 0);
}

/// Waits (up to a minute) until `ready` holds; panics with `what` otherwise.
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_quiet(world: &ApplyWorld) -> Child {
    world
        .command(&PREPARE_ALL)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start cycle")
}

const CONFIG_STEPS: [&str; 3] = [
    "bts:config:lsst-sqre/phalanx",
    "summit:config:lsst-sqre/phalanx",
    "tts:config:lsst-sqre/phalanx",
];

#[test]
fn sigkill_between_the_ticket_and_the_config_step_then_a_rerun_finishes() {
    let world = ApplyWorld::new();
    // A slow git server keeps the config steps running long enough.
    world.git.set_latency(Duration::from_millis(400));
    let mut child = spawn_quiet(&world);
    wait_for("the config steps to start", || {
        CONFIG_STEPS.iter().all(|s| world.status(s) == "RUNNING")
    });
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    for site in SITES {
        assert_eq!(world.status(&format!("{site}:jira")), "FINISHED");
    }
    assert_eq!(world.jira.issues().len(), 4);

    world.git.set_latency(Duration::ZERO);
    world.jira.clear_requests();
    let rerun = world.run(&PREPARE_ALL);
    assert_code(&rerun, 0);
    assert_converged(&world);
    assert!(creates(&world).is_empty(), "nothing filed twice");
    for step in CONFIG_STEPS {
        assert_eq!(world.status(step), "FINISHED");
    }
}

#[test]
fn ref_locks_left_by_a_killed_run_are_removed_and_the_apply_finishes() {
    let world = ApplyWorld::new();
    let mut dry: Vec<&str> = PREPARE_ALL
        .iter()
        .copied()
        .filter(|a| *a != "--yes")
        .collect();
    dry.push("--dry-run");
    assert_code(&world.run(&dry), 2);
    let clones: Vec<_> = std::fs::read_dir(world.cache().join("repos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "git"))
        .collect();
    let [clone] = clones.as_slice() else {
        panic!("one cached clone: {clones:?}")
    };
    // What git leaves when killed while moving a ref: the tickets' branches
    // (keys OSW-1 to OSW-3 and the calendar's), a remote-tracking ref, the
    // packed refs, FETCH_HEAD (written by older versions).
    let tickets = clone.join("refs/heads/tickets");
    std::fs::create_dir_all(&tickets).unwrap();
    for n in 1..=4 {
        std::fs::write(tickets.join(format!("OSW-{n}.lock")), "").unwrap();
    }
    std::fs::create_dir_all(clone.join("refs/remotes/origin")).unwrap();
    std::fs::write(clone.join("refs/remotes/origin/main.lock"), "").unwrap();
    std::fs::write(clone.join("packed-refs.lock"), "").unwrap();
    std::fs::write(clone.join("FETCH_HEAD.lock"), "").unwrap();

    let out = world.run(&PREPARE_ALL);
    assert_code(&out, 0);
    assert_converged(&world);
    let locks: Vec<_> = support::files_below(&[clone])
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.extension().is_some_and(|e| e == "lock"))
        .collect();
    assert_eq!(locks, Vec::<std::path::PathBuf>::new());
}

#[test]
fn sigint_cancels_running_steps_exits_130_and_a_rerun_finishes() {
    let world = ApplyWorld::new();
    world.jira.set_latency(Duration::from_millis(1500));
    let child = spawn_quiet(&world);
    wait_for("a create to reach Jira", || !creates(&world).is_empty());
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let journal = world.journal();
    let cancelled: Vec<&String> = journal["steps"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, e)| e["status"] == "CANCELLED")
        .map(|(id, _)| id)
        .collect();
    assert!(
        cancelled.iter().any(|id| id.ends_with(":jira")),
        "the running ticket steps are CANCELLED: {journal:#}"
    );
    assert!(
        !journal["steps"]
            .as_object()
            .unwrap()
            .values()
            .any(|e| e["status"] == "RUNNING"),
        "{journal:#}"
    );
    // The creates already sent still land (Jira does not know the client
    // went away); the rerun finds them.
    wait_for("Jira to finish the creates in flight", || {
        world.jira.issues().len() == creates(&world).len()
    });
    world.jira.set_latency(Duration::ZERO);
    let rerun = world.run(&PREPARE_ALL);
    assert_code(&rerun, 0);
    assert_converged(&world);
}

#[test]
fn the_sites_steps_overlap_and_the_repository_is_fetched_once_per_run() {
    let world = ApplyWorld::new();
    let latency = Duration::from_millis(500);
    world.jira.set_latency(latency);
    world.git.set_latency(latency);
    let out = world.run(&PREPARE_ALL);
    assert_code(&out, 0);
    assert_converged(&world);
    // Every create arrived before the first one was answered.
    let posts = creates(&world);
    assert_eq!(posts.len(), 4);
    let first = posts.iter().map(|r| r.at).min().unwrap();
    let last = posts.iter().map(|r| r.at).max().unwrap();
    assert!(
        last.duration_since(first) < latency,
        "the ticket steps overlap: {:?}",
        last.duration_since(first)
    );
    // So did the three sites' pushes.
    let pushed: Vec<Instant> = world
        .git
        .requests()
        .iter()
        .filter(|r| r.is_push())
        .map(|r| r.at)
        .collect();
    assert_eq!(pushed.len(), 3);
    let spread = pushed
        .iter()
        .max()
        .unwrap()
        .duration_since(*pushed.iter().min().unwrap());
    assert!(spread < latency, "the config steps overlap: {spread:?}");
    assert_eq!(fetches(&world), 1, "one fetch for three sites");

    world.git.clear();
    world.jira.set_latency(Duration::ZERO);
    world.git.set_latency(Duration::ZERO);
    assert_code(&world.run(&PREPARE_ALL), 0);
    assert_eq!(fetches(&world), 1, "one fetch in the rerun too");
}

/// The words of the status line of step `local` under heading `group`.
fn status_line(text: &str, group: &str, local: &str) -> Vec<String> {
    let section = text
        .split("\n\n")
        .find(|s| s.lines().next() == Some(group))
        .unwrap_or_else(|| panic!("no group {group}:\n{text}"));
    let line = section
        .lines()
        .find(|l| l.split_whitespace().next() == Some(local))
        .unwrap_or_else(|| panic!("no step {local} in {group}:\n{text}"));
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn status_shows_the_journal_as_text_and_json() {
    let world = ApplyWorld::new();
    let apply = world.run(&PREPARE_ALL);
    assert_code(&apply, 0);
    let keys = assert_converged(&world);
    let key = |site: &str| keys.iter().find(|(s, _)| s == site).unwrap().1.clone();
    let calendar = tickets(&world).1[0].key.clone();
    let mark = world.run(&words("mark --site summit --cycle 44 build-team done"));
    assert_code(&mark, 0);

    let text = world.run(&["status", "--all", "--cycle", "44"]);
    assert_code(&text, 0);
    let (stdout, _) = texts(&text);
    assert!(stdout.starts_with("Cycle 44 (c0044.000)\n"), "{stdout}");
    let browse = |k: &str| format!("{}/browse/{k}", world.jira.url());
    for (group, site) in [
        ("Base Test Stand", "bts"),
        ("Summit", "summit"),
        ("Tucson Test Stand", "tts"),
    ] {
        let k = key(site);
        assert_eq!(
            status_line(&stdout, group, "jira"),
            ["jira", "FINISHED", &k, &browse(&k)]
        );
        let config = status_line(&stdout, group, "config:lsst-sqre/phalanx");
        assert_eq!(
            config[..4],
            [
                "config:lsst-sqre/phalanx",
                "FINISHED",
                &format!("tickets/{k}"),
                "@"
            ]
        );
        let (_, commit) = world
            .ticket_branches()
            .into_iter()
            .find(|(b, _)| *b == format!("tickets/{k}"))
            .unwrap();
        assert_eq!(config[4], commit[..8]);
        // Not selected: never looked at.
        assert_eq!(status_line(&stdout, group, "slack:start")[1], "UNSET");
        assert_eq!(
            status_line(&stdout, group, "pr:lsst-sqre/phalanx")[1],
            "UNSET"
        );
    }
    assert_eq!(
        status_line(&stdout, "Summit", "calendar"),
        ["calendar", "FINISHED", &calendar, &browse(&calendar)]
    );
    assert_eq!(
        status_line(&stdout, "Summit", "build-team")[..2],
        ["build-team", "FINISHED"]
    );
    assert_eq!(
        status_line(&stdout, "Tucson Test Stand", "build-team"),
        [
            "build-team",
            "UNSET",
            "manual:",
            "cycle",
            "mark",
            "--site",
            "tts",
            "--cycle",
            "44",
            "build-team",
            "done"
        ]
    );
    assert_eq!(
        status_line(&stdout, "Cycle 44 (all sites)", "confluence")[..2],
        ["confluence", "UNSET"]
    );

    let json = world.run(&["status", "--all", "--cycle", "44", "--json"]);
    assert_code(&json, 0);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(doc["cycle"], 44);
    assert_eq!(doc["revision"], 0);
    assert_eq!(doc["tag"], "c0044.000");
    let groups = doc["groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["site"].as_str().unwrap()).collect();
    assert_eq!(names, ["bts", "summit", "tts", "cycle"]);
    let step = |site: &str, id: &str| {
        groups
            .iter()
            .find(|g| g["site"] == site)
            .and_then(|g| {
                g["steps"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["id"] == id)
            })
            .unwrap_or_else(|| panic!("no {id}: {doc:#}"))
            .clone()
    };
    let summit = step("summit", "summit:jira");
    assert_eq!(summit["status"], "FINISHED");
    assert_eq!(summit["action"], "created");
    assert_eq!(summit["manual"], false);
    assert_eq!(summit["outcome"]["type"], "ticket");
    assert_eq!(summit["outcome"]["key"], key("summit").as_str());
    assert_eq!(summit["link"], browse(&key("summit")).as_str());
    assert!(summit["started_at"].is_string() && summit["updated_at"].is_string());
    let config = step("tts", "tts:config:lsst-sqre/phalanx");
    assert_eq!(config["status"], "FINISHED");
    assert_eq!(config["outcome"]["type"], "branch");
    assert_eq!(config["outcome"]["repo"], "lsst-sqre/phalanx");
    assert_eq!(
        config["outcome"]["branch"],
        format!("tickets/{}", key("tts")).as_str()
    );
    assert_eq!(config["link"], serde_json::Value::Null);
    let cal = step("summit", "summit:calendar");
    assert_eq!(cal["outcome"]["key"], calendar.as_str());
    let manual = step("summit", "summit:build-team");
    assert_eq!(manual["manual"], true);
    assert_eq!(manual["status"], "FINISHED");
    assert_eq!(step("bts", "bts:slack:start")["status"], "UNSET");
    assert_eq!(step("cycle", "cycle:confluence")["status"], "UNSET");
    assert_no_secret(&world, &[&apply, &mark, &text, &json]);
}

/// `--only jira` reads no repository: the clone cache's prefetch follows
/// the selection (a dry run and an apply alike).
#[test]
fn tickets_alone_fetch_no_repository() {
    let world = ApplyWorld::new();
    for last in ["--dry-run", "--yes"] {
        world.git.clear();
        let out = world.run(&["prepare", "--all", "--cycle", "44", "--only", "jira", last]);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{}",
            texts(&out).1
        );
        assert_eq!(fetches(&world), 0, "{last}: {:?}", world.git.requests());
    }
    assert_eq!(world.jira.issues().len(), 3);
}
