//! Binary-level tests of the `cycle` command line: every test runs the built
//! binary against the shipped sites, manifests and templates (or copies of
//! them with fixture files from `tests/fixtures/cli/` laid over), offline,
//! with a throwaway cache directory and a scrubbed environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use tempfile::TempDir;

mod support;
use support::words;

/// Exit codes documented by `cycle --help`.
const EXIT_ERROR: i32 = 1;
const EXIT_PENDING: i32 = 2;
const EXIT_USAGE: i32 = 64;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures/cli").join(rel)
}

/// Variables that could make a run depend on the machine it runs on.
const SCRUBBED: &[&str] = &[
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITHUB_SERVER_URL",
    "CYCLE_CONFIG",
    "CYCLE_SITES_DIR",
    "CYCLE_TEMPLATES_DIR",
    "CYCLE_RELEASES_DIR",
    "CYCLE_CACHE_DIR",
    "CYCLE_STATE_DIR",
    "CYCLE_OFFLINE",
    "CLICOLOR_FORCE",
];

/// A private home for one test: a cache directory that must not be created
/// by read-only commands, and XDG directories so no user config leaks in.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// `cycle` in `cwd`, with `--cache-dir` in this home and a clean environment.
    fn cycle(&self, cwd: &Path) -> Command {
        let mut cmd = Command::cargo_bin("cycle").expect("the cycle binary");
        cmd.current_dir(cwd);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CYCLE_") {
                cmd.env_remove(key);
            }
        }
        for key in SCRUBBED {
            cmd.env_remove(key);
        }
        cmd.env("CYCLE_NO_CHECK", "true");
        cmd.env("NO_COLOR", "1")
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_CACHE_HOME", self.dir.path().join("xdg-cache"))
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .arg("--cache-dir")
            .arg(self.cache());
        cmd
    }

    /// `cycle` at the repository root (shipped files).
    fn shipped(&self) -> Command {
        self.cycle(&repo_root())
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A temp dir holding copies of the shipped `sites`, `releases` and `templates`.
fn workspace() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["sites", "releases", "templates"] {
        copy_dir(&repo_root().join(sub), &dir.path().join(sub));
    }
    dir
}

/// Every file under `dir` with its bytes, to prove a run wrote nothing.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), Vec::new());
                walk(root, &path, out);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 stderr")
}

/// Runs `cmd` in `ws`, expecting a clean failure: exit 1, no panic, exactly
/// one `error:` line, nothing written to the workspace, no cache created.
/// Returns the `error:` line.
fn expect_clean_error(home: &Home, ws: &Path, args: &[&str]) -> String {
    let before = snapshot(ws);
    let output = home.cycle(ws).args(args).output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(EXIT_ERROR),
        "args {args:?}\nstdout:\n{}\nstderr:\n{stderr}",
        stdout_of(&output)
    );
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    assert_eq!(snapshot(ws), before, "the run changed files in {ws:?}");
    assert!(
        !home.cache().exists(),
        "the run created the cache directory {:?}",
        home.cache()
    );
    errors[0].to_string()
}

const PREPARE_SUMMIT_44: &[&str] = &[
    "prepare",
    "--site",
    "summit",
    "--cycle",
    "44",
    "--dry-run",
    "--offline",
];

fn plan_json(home: &Home, args: &[&str]) -> Value {
    let output = home.shipped().args(args).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(EXIT_PENDING),
        "stderr: {}",
        stderr_of(&output)
    );
    serde_json::from_slice(&output.stdout).expect("prepare --json prints valid JSON")
}

fn site_plan<'a>(plan: &'a Value, site: &str) -> &'a Value {
    plan["sites"]
        .as_array()
        .expect("sites array")
        .iter()
        .find(|s| s["site"] == site)
        .unwrap_or_else(|| panic!("no site {site} in plan"))
}

fn step<'a>(site: &'a Value, id: &str) -> &'a Value {
    site["steps"]
        .as_array()
        .expect("steps array")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {}", site["site"]))
}

// ---------------------------------------------------------------------------
// 1. The text plan of one site.

#[test]
fn prepare_dry_run_summit_lists_every_checklist_step() {
    let home = Home::new();
    let output = home.shipped().args(PREPARE_SUMMIT_44).output().unwrap();
    let out = stdout_of(&output);
    assert_eq!(
        output.status.code(),
        Some(EXIT_PENDING),
        "{}",
        stderr_of(&output)
    );
    for want in [
        "Plan for Cycle 44 (c0044.000)",
        "Summit (summit, ticket not yet known, branch tickets/<new OSW ticket>)",
        // 1. Jira tickets: configuration and calendar
        "[create] Jira ticket \"Ready summit deployment configuration for Cycle 44\" (checklist 1, summit:jira)",
        "+ create Story in OSW: \"Ready summit deployment configuration for Cycle 44\"",
        "[create] Calendar ticket \"Control System Cycle 44 Upgrade\" (checklist 1, summit:calendar)",
        "+ create Task in SUMMIT: \"Control System Cycle 44 Upgrade\"",
        // 2. configuration branch: phalanx alone since 2025
        "Configuration branch tickets/<new OSW ticket> in lsst-sqre/phalanx (checklist 2, summit:config:lsst-sqre/phalanx)",
        "after: summit:jira",
        "~ environments/values-summit.yaml: controlSystem.imageTag → \"c0044\" (set)",
        "+ commit on tickets/<new OSW ticket>: \"Summit: Update to Cycle 44.\"",
        "+ push tickets/<new OSW ticket> (no force)",
        // 3. build team
        "[manual] Work with the build team during the build (checklist 3, summit:build-team)",
        // 4. Confluence, once for the cycle
        "Cycle 44 (all sites)",
        "[create] Confluence page \"Cycle 44 Upgrade\" (checklist 4, cycle:confluence)",
        "+ publish \"Cycle 44 Upgrade\" in LSSTCOM under page 53752125",
        "offline and ts_cycle_build has never been cloned into the cache",
        // 4.1 the page announced once the base artifacts are built
        "Announce the Confluence page in #summit-announce (checklist 4, summit:slack:page_ready)",
        "after: cycle:confluence, summit:build-team",
        // 5. Slack, one step per message
        "Slack day_before in #summit-announce (checklist 5, summit:slack:day_before)",
        // The shipped dates have passed: by the clock alone, offline, the
        // announcements are missed and never posted late.
        "day_before in #summit-announce was due at 2026-02-23 09:00 CLST: missed, not posted late (by the clock; Slack not looked at)",
        "hour_before in #summit-announce was due at 2026-02-24 08:00 CLST: missed, not posted late",
        "start in #summit-announce was due at 2026-02-24 09:00 CLST: missed, not posted late",
        // 6. pull request, then its review notice
        "Pull request tickets/<new OSW ticket> → main in lsst-sqre/phalanx (checklist 6, summit:pr:lsst-sqre/phalanx)",
        "+ open pull request \"Cycle 44 Summit configuration\"",
        "(checklist 6, summit:review-notice:lsst-sqre/phalanx)",
        "+ post pr_ready to #ts-build when ready",
        // offline: contents unknown, said so
        "current content unknown (offline; no cached clone of https://github.com/lsst-sqre/phalanx.git)",
        "6 steps to apply, 0 up to date, 1 waiting, 3 missed, 2 manual, across 1 site.",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    assert!(
        !home.cache().exists(),
        "an offline dry run must not create the cache"
    );
}

// ---------------------------------------------------------------------------
// 2. The JSON plan of every site.

#[test]
fn prepare_all_json_plan_has_every_site_and_step() {
    let home = Home::new();
    let plan = plan_json(
        &home,
        &[
            "prepare",
            "--all",
            "--cycle",
            "39",
            "--dry-run",
            "--json",
            "--offline",
            // Cycle 39's dates have passed: selected announcements would be
            // planned as missed (no change). Unselected, they keep their
            // planned times, whose zones this test checks.
            "--skip",
            "slack",
        ],
    );
    assert_eq!(plan["schema_version"], 4);
    assert_eq!(plan["cycle"], 39);
    assert_eq!(plan["revision"], 0);
    assert_eq!(plan["tag"], "c0039.000");
    assert_eq!(plan["label"], "Cycle 39");
    let names: Vec<&str> = plan["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, ["bts", "summit", "tts"], "one entry per site");

    for name in ["bts", "summit", "tts"] {
        let site = site_plan(&plan, name);
        let steps = site["steps"].as_array().unwrap();
        let items: std::collections::BTreeSet<u64> = steps
            .iter()
            .map(|s| s["checklist_item"].as_u64().unwrap())
            .collect();
        assert_eq!(
            items,
            [1, 2, 3, 4, 5, 6].into_iter().collect(),
            "{name}: the site's checklist items (4, the page, is the cycle's; 4.1, its announcement, the site's)"
        );
        let ids: Vec<&str> = steps.iter().map(|s| s["id"].as_str().unwrap()).collect();
        for id in words(
            "jira build-team slack:page_ready slack:day_before slack:hour_before slack:start config:lsst-sqre/phalanx pr:lsst-sqre/phalanx review-notice:lsst-sqre/phalanx",
        ) {
            let id = format!("{name}:{id}");
            assert!(
                ids.contains(&id.as_str()),
                "{name}: no step {id} in {ids:?}"
            );
        }
        assert!(site["ticket"].is_null(), "{name}: no ticket given");
        assert_eq!(step(site, &format!("{name}:jira"))["action"], "create");
        assert_eq!(
            step(site, &format!("{name}:build-team"))["action"],
            "manual"
        );
    }
    // The page is planned once for the cycle, after every site's ticket.
    let cycle_steps = plan["cycle_steps"].as_array().unwrap();
    assert_eq!(cycle_steps.len(), 1);
    assert_eq!(cycle_steps[0]["id"], "cycle:confluence");
    assert_eq!(cycle_steps[0]["checklist_item"], 4);
    assert_eq!(cycle_steps[0]["depends_on"].as_array().unwrap().len(), 3);

    // Deployment times are in the site's zone, with the site's names for zones.
    let zone_of = |site: &str, message: &str| -> (String, String) {
        let slack = step(site_plan(&plan, site), &format!("{site}:slack:{message}"));
        let change = &slack["changes"][0];
        assert_eq!(change["kind"], "post_message");
        (
            change["at"]["zone"].as_str().unwrap().to_string(),
            change["at"]["iso"].as_str().unwrap().to_string(),
        )
    };
    // Summit, 2024-10-01 09:00 America/Santiago: summer time, tzdb "-03" → CLST.
    assert_eq!(
        zone_of("summit", "start"),
        ("CLST".into(), "2024-10-01T09:00:00-03:00".into())
    );
    assert_eq!(
        zone_of("summit", "day_before"),
        ("CLST".into(), "2024-09-30T09:00:00-03:00".into())
    );
    assert_eq!(
        zone_of("summit", "hour_before"),
        ("CLST".into(), "2024-10-01T08:00:00-03:00".into())
    );
    // TTS, America/Phoenix: MST all year.
    assert_eq!(
        zone_of("tts", "start"),
        ("MST".into(), "2024-09-24T09:00:00-07:00".into())
    );
    assert_eq!(zone_of("bts", "start").0, "CLST");
}

// ---------------------------------------------------------------------------
// 3. Known tickets.

#[test]
fn known_ticket_names_the_branch_and_skips_the_jira_step() {
    let home = Home::new();
    let mut args = PREPARE_SUMMIT_44.to_vec();
    args.extend(["--ticket", "summit=OSW-2010"]);
    let output = home.shipped().args(&args).output().unwrap();
    let out = stdout_of(&output);
    assert_eq!(output.status.code(), Some(EXIT_PENDING));
    assert!(
        out.contains("Summit (summit, OSW-2010, branch tickets/OSW-2010)"),
        "{out}"
    );
    assert!(
        out.contains(
            "[no change] Jira ticket \"Ready summit deployment configuration for Cycle 44\""
        ),
        "{out}"
    );
    assert!(out.contains("+ push tickets/OSW-2010 (no force)"), "{out}");
    assert!(!out.contains("<new OSW ticket>"), "{out}");

    args.push("--json");
    let plan = plan_json(&home, &args);
    let site = site_plan(&plan, "summit");
    assert_eq!(site["ticket"], "OSW-2010");
    assert_eq!(site["branch"], "tickets/OSW-2010");
    let jira = step(site, "summit:jira");
    assert_eq!(jira["action"], "none");
    assert_eq!(jira["changes"].as_array().unwrap().len(), 0);
    let pr = step(site, "summit:pr:lsst-sqre/phalanx");
    assert_eq!(pr["changes"][0]["head"], "tickets/OSW-2010");
}

#[test]
fn bare_ticket_key_with_all_sites_is_an_error() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &words("prepare --all --cycle 44 --dry-run --offline --ticket OSW-2010"),
    );
    assert!(line.contains("--ticket OSW-2010"), "{line}");
    assert!(line.contains("SITE=KEY"), "{line}");
}

#[test]
fn malformed_ticket_keys_are_errors() {
    let home = Home::new();
    let ws = workspace();
    let mut args = PREPARE_SUMMIT_44.to_vec();
    args.extend(["--ticket", "bad"]);
    let line = expect_clean_error(&home, ws.path(), &args);
    assert!(
        line.contains("--ticket bad: `bad` is not a Jira key like OSW-2010"),
        "{line}"
    );

    let mut args = PREPARE_SUMMIT_44.to_vec();
    args.extend(["--ticket", "tts=OSW-1"]);
    let line = expect_clean_error(&home, ws.path(), &args);
    assert!(line.contains("site `tts` is not being prepared"), "{line}");
}

// ---------------------------------------------------------------------------
// 4. Broken input: one clean error, located, and nothing written.

/// A workspace whose `sites/summit.yaml` is the fixture of `case`.
fn workspace_with_site(case: &str) -> TempDir {
    let ws = workspace();
    std::fs::copy(
        fixture(&format!("sites-broken/{case}/summit.yaml")),
        ws.path().join("sites/summit.yaml"),
    )
    .unwrap();
    ws
}

/// A workspace whose `releases/c0044.000.yaml` is the fixture of `case`.
fn workspace_with_release(case: &str) -> TempDir {
    let ws = workspace();
    std::fs::copy(
        fixture(&format!("releases-broken/{case}/c0044.000.yaml")),
        ws.path().join("releases/c0044.000.yaml"),
    )
    .unwrap();
    ws
}

#[test]
fn malformed_site_yaml_is_located() {
    let home = Home::new();
    let ws = workspace_with_site("malformed");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert!(
        line.starts_with("error: sites/summit.yaml:15:"),
        "names file and line: {line}"
    );
    assert!(line.contains("mapping values are not allowed"), "{line}");
}

#[test]
fn unknown_site_field_is_located_and_named() {
    let home = Home::new();
    let ws = workspace_with_site("unknown-field");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert!(
        line.starts_with("error: sites/summit.yaml:14:3: jira.projet: unknown field"),
        "{line}"
    );
    assert!(
        line.contains("`project`"),
        "suggests the known fields: {line}"
    );
}

#[test]
fn missing_site_field_is_named() {
    let home = Home::new();
    let ws = workspace_with_site("missing-field");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert!(
        line.starts_with("error: sites/summit.yaml:"),
        "names the file: {line}"
    );
    assert!(line.contains(": jira.project: missing field"), "{line}");
}

#[test]
fn unknown_site_lists_the_known_ones() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &words("prepare --site nowhere --cycle 44 --dry-run --offline"),
    );
    assert!(line.contains("unknown site `nowhere`"), "{line}");
    assert!(line.contains("known sites: bts, summit, tts"), "{line}");
}

#[test]
fn bad_time_zone_is_located() {
    let home = Home::new();
    let ws = workspace_with_site("bad-time-zone");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert_eq!(
        line,
        "error: sites/summit.yaml:7:1: time_zone: unknown IANA time zone `America/Atlantis` (e.g. America/Santiago)"
    );
}

#[test]
fn cycle_zero_on_the_command_line_is_an_error() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &words("prepare --site summit --cycle 0 --dry-run --offline"),
    );
    assert!(line.contains("--cycle"), "{line}");
    assert!(line.contains("cycle must be a positive integer"), "{line}");
}

#[test]
fn cycle_zero_in_a_manifest_names_the_manifest_and_field() {
    let home = Home::new();
    let ws = workspace_with_release("cycle-zero");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert!(
        line.contains(
            "releases/c0044.000.yaml:2:1: cycle: cycle must be a positive integer, got 0"
        ),
        "{line}"
    );
    // The same through --release.
    let line = expect_clean_error(
        &home,
        ws.path(),
        &words("prepare --site summit --release releases/c0044.000.yaml --dry-run --offline"),
    );
    assert!(
        line.contains("releases/c0044.000.yaml:2:1: cycle:"),
        "{line}"
    );
}

#[test]
fn missing_manifest_field_is_named() {
    let home = Home::new();
    let ws = workspace_with_release("missing-strimzi");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert!(line.contains("releases/c0044.000.yaml:"), "{line}");
    assert!(line.contains("versions.strimzi: missing field"), "{line}");
}

#[test]
fn a_cycle_or_revision_other_than_the_manifests_names_both() {
    let home = Home::new();
    let ws = workspace();
    for (given, said) in [
        (
            "--cycle 45",
            "error: --cycle 45 disagrees with releases/c0044.000.yaml (cycle 44)",
        ),
        (
            "--revision 2",
            "error: --revision 2 disagrees with releases/c0044.000.yaml (revision 0)",
        ),
    ] {
        let mut args =
            words("prepare --site summit --release releases/c0044.000.yaml --dry-run --offline");
        args.extend(given.split(' '));
        assert_eq!(expect_clean_error(&home, ws.path(), &args), said);
    }
}

#[test]
fn missing_manifest_names_the_expected_file() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &words("prepare --site summit --cycle 45 --dry-run --offline"),
    );
    assert!(line.contains("Cycle 45"), "{line}");
    assert!(line.contains("releases/c0045.000.yaml"), "{line}");
}

#[test]
fn undefined_template_variable_names_file_line_and_expression() {
    let home = Home::new();
    let ws = workspace();
    copy_dir(&ws.path().join("templates"), &ws.path().join("tpl"));
    std::fs::copy(
        fixture("templates-broken/jira_description.txt"),
        ws.path().join("tpl/jira_description.txt"),
    )
    .unwrap();
    let mut args = vec!["--templates-dir", "tpl"];
    args.extend(PREPARE_SUMMIT_44);
    let line = expect_clean_error(&home, ws.path(), &args);
    assert_eq!(
        line,
        "error: tpl/jira_description.txt:3: undefined variable `release.versions.ts_xmll`"
    );
}

#[test]
fn edit_value_typo_names_the_field() {
    let home = Home::new();
    let ws = workspace_with_site("value-typo");
    let line = expect_clean_error(&home, ws.path(), PREPARE_SUMMIT_44);
    assert_eq!(
        line,
        "error: sites/summit.yaml:33:9: repositories.0.edits.0.value: undefined variable `tga`"
    );
}

// ---------------------------------------------------------------------------
// 5, 6. Apply and usage errors.

#[test]
fn prepare_apply_without_a_terminal_or_yes_is_refused() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &[
            "prepare", "--site", "summit", "--cycle", "44", "--only", "config",
        ],
    );
    assert!(
        line.contains("refusing to apply without confirmation"),
        "{line}"
    );
    assert!(line.contains("--yes"), "{line}");
}

#[test]
fn usage_errors_exit_64() {
    let home = Home::new();
    home.shipped()
        .args(["prepare", "--dry-run", "--cycle", "44", "--offline"])
        .assert()
        .code(EXIT_USAGE)
        .stdout("")
        .stderr(predicate::str::contains("--site <SITE>"));
    home.shipped()
        .args(PREPARE_SUMMIT_44)
        .arg("--bogus")
        .assert()
        .code(EXIT_USAGE)
        .stderr(predicate::str::contains("unexpected argument '--bogus'"));
    home.shipped()
        .args(["prepare", "--all", "--site", "summit", "--cycle", "44"])
        .arg("--dry-run")
        .assert()
        .code(EXIT_USAGE);
    // Unknown kinds in --only are usage errors.
    home.shipped()
        .args(["prepare", "--all", "--cycle", "44", "--only", "jira,deploy"])
        .assert()
        .code(EXIT_USAGE)
        .stderr(predicate::str::contains("invalid value 'deploy'"));
    assert!(!home.cache().exists());
}

#[test]
fn help_and_version_exit_0() {
    let home = Home::new();
    home.shipped()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("64 usage error"));
    home.shipped()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("cycle "));
}

// ---------------------------------------------------------------------------
// 7. Sites.

#[test]
fn sites_list_shows_every_site() {
    let home = Home::new();
    let output = home.shipped().args(["sites", "list"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let out = stdout_of(&output);
    let names: Vec<&str> = out
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["bts", "summit", "tts"], "{out}");
    let tts = out.lines().find(|l| l.starts_with("tts")).unwrap();
    assert!(tts.contains("Tucson Test Stand"), "{tts}");
    assert!(tts.contains("America/Phoenix"), "{tts}");
}

#[test]
fn sites_show_prints_the_site_as_yaml() {
    let home = Home::new();
    home.shipped()
        .args(["sites", "show", "summit"])
        .assert()
        .success()
        .stdout(predicate::str::contains("time_zone: America/Santiago"))
        .stdout(predicate::str::contains("name: summit"))
        .stdout(
            predicate::str::contains("channel: '#summit-announce'")
                .or(predicate::str::contains("channel: \"#summit-announce\"")),
        );
    home.shipped()
        .args(["sites", "show", "nowhere"])
        .assert()
        .code(EXIT_ERROR)
        .stderr(predicate::str::contains("known sites: bts, summit, tts"));
}

#[test]
fn sites_validate_accepts_the_shipped_sites() {
    let home = Home::new();
    let output = home.shipped().args(["sites", "validate"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let out = stdout_of(&output);
    for file in ["bts.yaml", "summit.yaml", "tts.yaml"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok") && l.ends_with(file)),
            "{file} not ok in:\n{out}"
        );
    }
}

#[test]
fn sites_validate_names_the_broken_file() {
    let home = Home::new();
    let ws = workspace_with_site("unknown-field");
    let before = snapshot(ws.path());
    let output = home
        .cycle(ws.path())
        .args(["sites", "validate"])
        .output()
        .unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(EXIT_ERROR), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
    assert!(err.contains("1 of 3 site files are invalid"), "{err}");
    assert!(
        err.contains("sites/summit.yaml:14:3: jira.projet: unknown field"),
        "{err}"
    );
    let out = stdout_of(&output);
    assert!(out.contains("ok      sites/bts.yaml"), "{out}");
    assert!(out.contains("ok      sites/tts.yaml"), "{out}");
    assert!(!out.contains("summit"), "{out}");
    assert_eq!(snapshot(ws.path()), before);
}

// ---------------------------------------------------------------------------
// 8. Render.

#[test]
fn render_slack_day_before_for_a_test_stand() {
    let home = Home::new();
    let output = home
        .shipped()
        .args(words("render slack_day_before --site tts --cycle 44"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let out = stdout_of(&output);
    assert!(
        out.starts_with("Hello everyone! Tomorrow, Tuesday 17 February 2026, we will deploy Cycle 44 to the Tucson test stand, starting at 09:00 MST."),
        "{out}"
    );
    assert!(out.contains("integration testing"), "{out}");
    assert!(out.contains("by Tuesday 13:00 MST"), "{out}");
    assert!(
        out.contains("until Thursday 19 February 2026, 17:00 MST"),
        "{out}"
    );
    assert!(!out.contains("production domain"), "{out}");
}

#[test]
fn render_confluence_page_for_the_summit() {
    let home = Home::new();
    let output = home
        .shipped()
        .args(words(
            "render confluence_page.xhtml --site summit --cycle 44",
        ))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let out = stdout_of(&output);
    assert!(out.contains("<h2>Software Versions</h2>"), "{out}");
    assert!(
        out.contains("<tr><th>ts_xml</th><td>27.0.0</td></tr>"),
        "{out}"
    );
    assert!(
        out.contains(
            "<tr><th>Summit deployment</th><td>Tuesday 24 February 2026, 09:00 CLST</td></tr>"
        ),
        "{out}"
    );
    assert!(
        out.contains("<tr><th>Tucson Test Stand deployment</th><td>Tuesday 17 February 2026, 09:00 MST</td></tr>"),
        "{out}"
    );
    assert!(out.contains("<h2>Operational Changes</h2>"), "{out}");
    // The shipped manifest's backticks are not markup; nothing to escape there.
    assert!(out.contains("`logevent_settingVersions`"), "{out}");
}

/// Renders `template` for `site` from the escaping fixture (Cycle 44, Revision 1).
fn render_escape_fixture(home: &Home, template: &str, site: &str) -> String {
    let output = home
        .shipped()
        .args(["--releases-dir"])
        .arg(fixture("releases-escape"))
        .args([
            "render",
            template,
            "--site",
            site,
            "--cycle",
            "44",
            "--revision",
            "1",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    stdout_of(&output)
}

#[test]
fn render_escapes_user_text_for_confluence() {
    let home = Home::new();
    let out = render_escape_fixture(&home, "confluence_page", "summit");
    assert!(out.contains("<li>use &lt;b&gt; &amp; co</li>"), "{out}");
    assert!(out.contains("<li>MTPtg &lt;b&gt; &amp; co</li>"), "{out}");
    assert!(
        out.contains("<strong>Tunable&lt;X&gt;</strong>: laser &amp; &lt;i&gt;"),
        "{out}"
    );
    assert!(!out.contains("<b>"), "raw user markup leaked: {out}");
    assert!(!out.contains("<i>"), "raw user markup leaked: {out}");
    assert!(out.contains("<h2>Cycle 44, Revision 1</h2>"), "{out}");
}

#[test]
fn render_escapes_user_text_for_slack() {
    // The Slack templates do not show operational changes; the day-before
    // message of a revision shows the restarted components and testing queue.
    let home = Home::new();
    let out = render_escape_fixture(&home, "slack_day_before", "tts");
    assert!(
        out.contains("Components restarted: MTPtg &lt;b&gt; &amp; co, and the ScriptQueues."),
        "{out}"
    );
    assert!(
        out.contains("Testing will use the Queue &lt;2&gt; &amp; spare queue."),
        "{out}"
    );
    assert!(!out.contains("<b>"), "raw user text leaked: {out}");
    assert!(!out.contains(" & "), "unescaped & in: {out}");
    assert!(
        out.contains("deploy an incremental upgrade, Cycle 44, Revision 1 (c0044.001)"),
        "{out}"
    );
}

#[test]
fn render_plain_text_templates_do_not_escape() {
    let home = Home::new();
    let out = render_escape_fixture(&home, "jira_description", "summit");
    assert!(
        out.contains("** Tunable<X>: laser & <i>friends</i>"),
        "{out}"
    );
}

#[test]
fn render_unknown_template_lists_the_available_ones() {
    let home = Home::new();
    let ws = workspace();
    let line = expect_clean_error(
        &home,
        ws.path(),
        &["render", "nope", "--site", "tts", "--cycle", "44"],
    );
    assert!(line.contains("unknown template `nope`"), "{line}");
    for name in words("confluence_page.xhtml slack_day_before.mrkdwn jira_summary.txt pr_body.md") {
        assert!(line.contains(name), "{name} not listed: {line}");
    }
}

// ---------------------------------------------------------------------------
// 9. Config precedence.

/// A sites directory holding copies of the named shipped sites.
fn sites_dir(root: &Path, dir: &str, sites: &[&str]) {
    let target = root.join(dir);
    std::fs::create_dir_all(&target).unwrap();
    for site in sites {
        std::fs::copy(
            repo_root().join(format!("sites/{site}.yaml")),
            target.join(format!("{site}.yaml")),
        )
        .unwrap();
    }
}

fn listed_sites(cmd: &mut Command) -> Vec<String> {
    let output = cmd.args(["sites", "list"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    stdout_of(&output)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn settings_precedence_flag_env_config_file_default() {
    let home = Home::new();
    let ws = tempfile::tempdir().unwrap();
    let root = ws.path();
    sites_dir(root, "sites", &["summit"]);
    sites_dir(root, "toml-sites", &["tts"]);
    sites_dir(root, "env-sites", &["bts"]);
    sites_dir(root, "flag-sites", &["bts", "tts"]);

    // Default: ./sites.
    assert_eq!(listed_sites(&mut home.cycle(root)), ["summit"]);

    // The config file in the working directory beats the default.
    std::fs::write(root.join("cycle.toml"), "sites_dir = \"toml-sites\"\n").unwrap();
    assert_eq!(listed_sites(&mut home.cycle(root)), ["tts"]);

    // The environment beats the config file.
    let mut cmd = home.cycle(root);
    cmd.env("CYCLE_SITES_DIR", root.join("env-sites"));
    assert_eq!(listed_sites(&mut cmd), ["bts"]);

    // The flag beats the environment.
    let mut cmd = home.cycle(root);
    cmd.env("CYCLE_SITES_DIR", root.join("env-sites"))
        .arg("--sites-dir")
        .arg("flag-sites");
    assert_eq!(listed_sites(&mut cmd), ["bts", "tts"]);

    // A config file with an unknown key is a located error.
    std::fs::write(root.join("cycle.toml"), "site_dir = \"toml-sites\"\n").unwrap();
    let output = home.cycle(root).args(["sites", "list"]).output().unwrap();
    let err = stderr_of(&output);
    assert_eq!(output.status.code(), Some(EXIT_ERROR), "{err}");
    assert!(err.contains("cycle.toml:1:1"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
}

// ---------------------------------------------------------------------------
// 10. Colour.

#[test]
fn color_always_paints_and_no_color_does_not() {
    let home = Home::new();
    let painted = home
        .shipped()
        .args(["--color", "always"])
        .args(PREPARE_SUMMIT_44)
        .output()
        .unwrap();
    assert_eq!(painted.status.code(), Some(EXIT_PENDING));
    let out = stdout_of(&painted);
    assert!(out.contains("\x1b[32m[create]\x1b[0m"), "{out}");
    assert!(out.contains("\x1b[1m"), "{out}");

    let plain = home.shipped().args(PREPARE_SUMMIT_44).output().unwrap();
    assert_eq!(plain.status.code(), Some(EXIT_PENDING));
    let out = stdout_of(&plain);
    assert!(!out.contains('\x1b'), "NO_COLOR with auto: {out}");
    assert!(out.contains("[create]"), "{out}");

    let never = home
        .shipped()
        .env_remove("NO_COLOR")
        .args(["--color", "never"])
        .args(PREPARE_SUMMIT_44)
        .output()
        .unwrap();
    assert!(!stdout_of(&never).contains('\x1b'));
}

// ---------------------------------------------------------------------------
// 11. A reader that goes away.

#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    let home = Home::new();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cycle"));
    cmd.current_dir(repo_root());
    for key in SCRUBBED {
        cmd.env_remove(key);
    }
    cmd.env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", home.dir.path().join("xdg-config"))
        .arg("--cache-dir")
        .arg(home.cache())
        .args(words("prepare --all --cycle 44 --dry-run --offline -v"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let err = stderr_of(&output);
    assert!(!err.contains("panicked"), "{err}");
    let code = output.status.code();
    assert!(
        matches!(code, Some(0) | Some(2)),
        "exit {code:?}, stderr: {err}"
    );
}

// ---------------------------------------------------------------------------
// 12. Completions and man page.

#[test]
fn completions_and_man_page() {
    let home = Home::new();
    home.shipped()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_cycle()"))
        .stdout(predicate::str::contains("prepare"));
    home.shipped()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH cycle"))
        .stdout(predicate::str::contains("prepare"));
}
