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

use support::apply_world::{ApplyWorld, CALENDAR_FIELDS, GITHUB_TOKEN, PREPARE_ALL, SITES, texts};
use support::jira_fake::{self, FakeIssue, Fault};

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
    assert_eq!(cal.priority.as_deref(), Some("Highest"));
    assert_eq!(cal.labels, ["SoftwareRelease"]);
    for field in CALENDAR_FIELDS {
        assert!(
            cal.fields[field].as_str().is_some_and(|v| v.ends_with("+0000")),
            "{field} stored as a date-time: {:?}",
            cal.fields
        );
    }
    let keys: Vec<(String, String)> = by_site
        .iter()
        .map(|(site, issue)| {
            assert_eq!(issue.project, "OSW");
            assert_eq!(issue.issue_type, "Story");
            assert_eq!(issue.fields["customfield_10056"]["value"], "Deployment");
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
    let secrets = [GITHUB_TOKEN, jira_fake::TOKEN];
    for out in outputs {
        let (stdout, stderr) = texts(out);
        for secret in secrets {
            assert!(!stdout.contains(secret), "token in stdout: {stdout}");
            assert!(!stderr.contains(secret), "token in stderr: {stderr}");
        }
    }
    fn walk(dir: &std::path::Path, secrets: &[&str], seen: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, secrets, seen);
            } else if let Ok(bytes) = std::fs::read(&path) {
                *seen += 1;
                let text = String::from_utf8_lossy(&bytes);
                for secret in secrets {
                    assert!(!text.contains(secret), "token in {}", path.display());
                }
            }
        }
    }
    let mut seen = 0;
    walk(&world.state(), &secrets, &mut seen);
    walk(&world.cache(), &secrets, &mut seen);
    assert!(seen > 10, "the journal and the cache were read ({seen} files)");
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
    assert_eq!(creates, 4, "three configuration tickets and the calendar one");
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
