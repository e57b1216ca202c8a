//! `cycle doctor` end to end against every service's fake
//! (`tests/support/full_world.rs`): set up right, every check passes and
//! nothing is written; each misconfiguration is its own failure with its
//! fix, found by reading only. The fakes refuse what the real services
//! refuse (an unknown field, a wrong type, a bad option, a bot not in the
//! channel), so an apply would fail where the doctor says it would.

mod support;

use serde_json::Value;
use support::full_world::FullWorld;
use support::jira_fake;
use support::run::texts;
use support::words;

const DOCTOR: [&str; 5] = ["doctor", "--all", "--cycle", "44", "--json"];

/// `cycle doctor --all --json`: exit code and the report; asserts nothing
/// was written anywhere.
fn doctor(world: &FullWorld) -> (i32, Value) {
    world.clear();
    let out = world.run(&DOCTOR);
    let (stdout, stderr) = texts(&out);
    assert_eq!(world.writes(), Vec::<String>::new(), "doctor wrote");
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), report)
}

/// The failed findings as (site, check, found, fix).
fn failures(report: &Value) -> Vec<(String, String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (text("site"), text("check"), text("found"), text("fix"))
        })
        .collect()
}

/// The one failure whose check contains `check`; panics listing all of
/// them otherwise.
fn the_failure(report: &Value, check: &str) -> (String, String, String, String) {
    let all = failures(report);
    let matching: Vec<_> = all.iter().filter(|f| f.1.contains(check)).collect();
    assert_eq!(matching.len(), 1, "one failure of {check} in {all:#?}");
    matching[0].clone()
}

#[test]
fn a_world_set_up_right_passes_every_check_and_nothing_is_written() {
    let world = FullWorld::new();
    let (code, report) = doctor(&world);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["tag"], "c0044.000");
    assert_eq!(failures(&report), vec![]);
    let checks: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    for expected in [
        "credentials",
        "calendar: SUMMIT/Task field customfield_10059 (Start date)",
        "calendar: SUMMIT/Task field customfield_10151 (Participants)",
        "calendar: SUMMIT/Task field priority",
        "jira: OSW/Story field customfield_10056 (RubinTeam)",
        "calendar: user rbovill",
        "parent page 53752125",
        "permission to add pages under 53752125",
        "channel #summit-announce",
        "repository lsst-sqre/phalanx",
        "lsst-sqre/phalanx: base branch main",
        "lsst-sqre/phalanx: environments/values-summit.yaml on main",
    ] {
        assert!(
            checks.contains(&expected),
            "no check {expected}: {checks:#?}"
        );
    }
    // Every request was a read.
    let methods: Vec<String> = world
        .jira
        .requests()
        .iter()
        .chain(world.github.requests().iter())
        .chain(world.confluence.requests().iter())
        .map(|r| r.method.clone())
        .collect();
    assert!(methods.iter().all(|m| m == "GET"), "{methods:?}");

    // The text form says the same, grouped by site and service.
    let out = world.run(&["doctor", "--site", "summit", "--cycle", "44"]);
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("✓ calendar: user aibsen: resolves to"),
        "{stdout}"
    );
    assert!(
        stdout.contains("checks:") && stdout.contains("0 failed"),
        "{stdout}"
    );
}

#[test]
fn a_field_not_on_the_screen_fails_and_the_apply_would_be_refused_too() {
    let world = FullWorld::new();
    world.edit_site(
        "summit",
        "    customfield_10141: {type: options, values: [Software]}\n",
        "    customfield_10141: {type: options, values: [Software]}\n    customfield_99999: {type: plain, value: 3}\n",
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (site, _, found, fix) = the_failure(&report, "customfield_99999");
    assert_eq!(site, "summit");
    assert!(
        found.contains("not on the create screen of SUMMIT/Task"),
        "{found}"
    );
    assert!(
        fix.contains("customfield_10059"),
        "the fix lists the screen: {fix}"
    );
    assert_eq!(failures(&report).len(), 1, "{:#?}", failures(&report));

    // The apply meets the same refusal from the fake.
    let out = world.run(&[
        "prepare", "--site", "summit", "--cycle", "44", "--only", "calendar", "--yes",
    ]);
    let (stdout, stderr) = texts(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        format!("{stdout}{stderr}").contains("customfield_99999"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn a_field_of_another_type_fails_with_the_type_jira_expects() {
    let world = FullWorld::new();
    world
        .jira
        .remove_screen_field("SUMMIT", "Task", "customfield_10059");
    world.jira.add_screen_field(
        "SUMMIT",
        "Task",
        jira_fake::number_field("customfield_10059", "Start date"),
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (_, check, found, fix) = the_failure(&report, "customfield_10059");
    assert!(check.contains("Start date"), "{check}");
    assert!(found.contains("number"), "{found}");
    assert!(!fix.is_empty());
}

#[test]
fn an_option_jira_does_not_allow_fails_listing_the_allowed_ones() {
    let world = FullWorld::new();
    world.edit_site(
        "tts",
        "{type: option, value: Deployment}",
        "{type: option, value: Deploy}",
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (site, _, found, fix) = the_failure(&report, "customfield_10056");
    assert_eq!(site, "tts");
    assert!(found.contains("Deploy"), "{found}");
    assert!(fix.contains("Deployment"), "{fix}");
}

#[test]
fn an_unknown_priority_component_and_user_each_fail_on_their_own() {
    let world = FullWorld::new();
    world.edit_site("summit", "priority: SUMMIT-1", "priority: Highest");
    world.edit_site(
        "summit",
        "SIT-COM, Software Updates]",
        "SIT-COM, Software Update]",
    );
    world.edit_site(
        "summit",
        "users: [mreuter, rbovill, aibsen]",
        "users: [mreuter, rbovill, nobody-here]",
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (_, _, found, fix) = the_failure(&report, "SUMMIT/Task field priority");
    assert!(found.contains("Highest"), "{found}");
    assert!(fix.contains("SUMMIT-1"), "{fix}");
    let (_, _, found, _) = the_failure(&report, "SUMMIT/Task field components");
    assert!(found.contains("Software Update"), "{found}");
    let (_, _, _, fix) = the_failure(&report, "calendar: user nobody-here");
    assert!(fix.contains("sites/summit.yaml"), "{fix}");
}

#[test]
fn an_unknown_project_and_issue_type_fail_before_their_fields() {
    let world = FullWorld::new();
    world.edit_site("bts", "project: OSW", "project: OWS");
    world.jira.remove_issue_type("SUMMIT", "Task");
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (site, _, found, _) = the_failure(&report, "jira: project OWS");
    assert_eq!(site, "bts");
    assert!(found.contains("OWS"), "{found}");
    let (_, _, found, fix) = the_failure(&report, "calendar: issue type SUMMIT/Task");
    assert!(found.contains("no issue type"), "{found}");
    assert!(fix.contains("Story") || fix.contains("Bug"), "{fix}");
}

#[test]
fn the_confluence_parent_and_permission_fail_with_their_fixes() {
    let world = FullWorld::new();
    world
        .confluence
        .deny_adding_under(support::confluence_fake::PARENT_ID);
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (_, _, _, fix) = the_failure(&report, "permission to add pages under 53752125");
    assert!(!fix.is_empty());

    let world = FullWorld::new();
    for site in ["bts", "summit", "tts"] {
        world.edit_site(site, "parent_id: \"53752125\"", "parent_id: \"4242\"");
    }
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (_, check, _, fix) = the_failure(&report, "parent page 4242");
    assert!(check.contains("4242"));
    assert!(!fix.is_empty());
}

#[test]
fn a_bot_not_in_the_channel_fails_with_the_invitation_to_send() {
    let world = FullWorld::new();
    world.slack.set_member("summit-announce", false);
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (site, _, _, fix) = the_failure(&report, "channel #summit-announce");
    assert_eq!(site, "summit");
    assert!(
        fix.contains("invite @cycle-bot to #summit-announce"),
        "{fix}"
    );

    // Slack itself refuses to schedule there.
    let out = world.run(&[
        "prepare", "--site", "summit", "--cycle", "44", "--only", "slack", "--yes",
    ]);
    let (stdout, stderr) = texts(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        format!("{stdout}{stderr}").contains("not_in_channel"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn github_permissions_reviewers_teams_and_labels_are_checked() {
    let world = FullWorld::new();
    world.github.set_push("lsst-sqre/phalanx", Some(false));
    world.edit_site(
        "summit",
        "    pull_request:\n      reviewers: []\n      labels: []\n",
        "    pull_request:\n      reviewers: [athornton, ghost-reviewer]\n      team_reviewers: [lsst-sqre/no-such-team]\n      labels: [no-such-label]\n",
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let all = failures(&report);
    let repo: Vec<_> = all
        .iter()
        .filter(|f| f.1 == "repository lsst-sqre/phalanx")
        .collect();
    assert_eq!(repo.len(), 3, "one per site: {all:#?}");
    assert!(repo[0].2.contains("push"), "{:?}", repo[0]);
    the_failure(&report, "ghost-reviewer");
    the_failure(&report, "no-such-team");
    the_failure(&report, "no-such-label");
    assert!(!all.iter().any(|f| f.1.contains("athornton")), "{all:#?}");
}

#[test]
fn a_missing_base_branch_or_edit_file_fails_naming_the_repository() {
    let world = FullWorld::new();
    world.edit_site("tts", "    base: main\n", "    base: develop\n");
    world.edit_site(
        "bts",
        "file: environments/values-base.yaml",
        "file: environments/values-base-old.yaml",
    );
    let (code, report) = doctor(&world);
    assert_eq!(code, 1);
    let (site, _, _, fix) = the_failure(&report, "base branch develop");
    assert_eq!(site, "tts");
    assert!(fix.contains("develop") || fix.contains("base"), "{fix}");
    let (site, _, _, _) = the_failure(&report, "environments/values-base-old.yaml");
    assert_eq!(site, "bts");
}

#[test]
fn bad_credentials_fail_once_per_service_and_name_the_variables() {
    let world = FullWorld::new();
    let out = world.run(&["doctor", "--all", "--cycle", "44", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    // Each service with a token it refuses.
    let mut cmd = support::run::cycle_command(
        &world.dirs,
        &[
            support::run::DirArg::Cache,
            support::run::DirArg::State,
            support::run::DirArg::Releases,
            support::run::DirArg::Sites,
        ],
    );
    let out = cmd
        .env("GITHUB_SERVER_URL", world.dirs.remotes_url())
        .env("GITHUB_TOKEN", "ghp_wrong")
        .env("GITHUB_API_URL", world.github.url())
        .env("JIRA_URL", world.jira.url())
        .env("JIRA_USER", jira_fake::USER)
        .env("JIRA_API_TOKEN", "wrong")
        .env("CONFLUENCE_URL", world.confluence.url())
        .env("CONFLUENCE_USER", support::confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", "wrong")
        .env("SLACK_BOT_TOKEN", "xoxb-wrong")
        .env("SLACK_API_URL", world.slack.url())
        .env("CYCLE_RETRY_BASE_MS", "5")
        .args(DOCTOR)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let credentials: Vec<String> = failures(&report)
        .into_iter()
        .filter(|f| f.1 == "credentials")
        .map(|f| f.3)
        .collect();
    assert_eq!(credentials.len(), 4, "{:#?}", failures(&report));
    for variable in words("JIRA_API_TOKEN CONFLUENCE_API_TOKEN SLACK_BOT_TOKEN GITHUB_TOKEN") {
        assert!(
            credentials.iter().any(|fix| fix.contains(variable)),
            "{variable} in {credentials:#?}"
        );
    }
    for secret in ["ghp_wrong", "xoxb-wrong"] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
}

#[test]
fn an_online_dry_run_fails_on_the_same_finding_and_writes_nothing() {
    let world = FullWorld::new();
    world.slack.set_member("summit-announce", false);
    world.clear();
    let out = world.run(&["prepare", "--site", "summit", "--cycle", "44", "--dry-run"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("Pre-flight checks"), "{stdout}");
    assert!(
        stdout.contains("invite @cycle-bot to #summit-announce"),
        "{stdout}"
    );
    assert_eq!(world.writes(), Vec::<String>::new());

    // Offline, the services are not asked.
    let out = world.run(&words(
        "prepare --site summit --cycle 44 --dry-run --offline",
    ));
    let (stdout, _) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(!stdout.contains("invite @cycle-bot"), "{stdout}");
}
