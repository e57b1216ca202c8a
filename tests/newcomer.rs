//! What a new user meets (issue 33), at binary level: a site is a name,
//! every missing setting in one error, boolean environment variables,
//! placeholders, `--site` or `--all`, grouped findings, honest summaries.
//! Each test runs the built binary and asserts the exact output.

mod support;

use support::full_world::FullWorld;
use support::run::{DirArg, TestDirs, code, cycle_command, stderr, stdout, texts};
use support::words;
use support::{confluence_fake, github_fake};

/// Exit code of a usage error.
const EXIT_USAGE: i32 = 64;

/// A throwaway home and the shipped sites, templates and manifests.
fn shipped(dirs: &TestDirs) -> assert_cmd::Command {
    cycle_command(dirs, &[DirArg::Cache, DirArg::State])
}

/// The known sites' refusal of `given` in the shipped sites directory.
fn not_a_site(given: &str) -> String {
    format!(
        "error: `{given}` is not a site name: give a site by its name, the file name in sites \
         without `.yaml` (known sites: bts, summit, tts)\n"
    )
}

// ---------------------------------------------------------------------------
// 1. A site is a name.

#[test]
fn a_site_written_as_a_path_is_refused_by_every_command() {
    let dirs = TestDirs::new();
    let commands: Vec<Vec<&str>> = vec![
        words("prepare --cycle 44 --dry-run --offline --site"),
        vec!["doctor", "--cycle", "44", "--site"],
        vec!["status", "--cycle", "44", "--site"],
        vec!["cancel", "--cycle", "44", "--yes", "--site"],
        vec!["announce", "--cycle", "44", "--print", "--site"],
        vec!["check", "--cycle", "44", "--offline", "--site"],
        vec!["render", "slack_start", "--cycle", "44", "--site"],
        vec!["mark", "build-team", "done", "--cycle", "44", "--site"],
        words("config --cycle 44 --ticket OSW-1 --offline --site"),
        vec!["sites", "show"],
    ];
    for given in ["./summit", "sites/summit.yaml", "summit.yaml", "Summit", ""] {
        for args in &commands {
            let out = shipped(&dirs).args(args).arg(given).output().unwrap();
            let (out_text, err_text) = texts(&out);
            assert_eq!(code(&out), 1, "{args:?} {given}: {err_text}");
            assert_eq!(out_text, "", "{args:?} {given}");
            assert_eq!(err_text, not_a_site(given), "{args:?} {given}");
        }
    }
    assert!(
        !dirs.cache().exists() && !dirs.state().exists(),
        "a refusal wrote state"
    );
}

// ---------------------------------------------------------------------------
// 5. Without --site, the error says --all too.

#[test]
fn a_command_without_a_site_names_site_and_all() {
    let dirs = TestDirs::new();
    for command in ["prepare", "doctor", "status", "cancel", "announce"] {
        let out = shipped(&dirs)
            .env_remove("CYCLE_NO_CHECK")
            .args([command, "--cycle", "44"])
            .output()
            .unwrap();
        assert_eq!(code(&out), EXIT_USAGE, "{command}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: the following required arguments were not provided:\n  \
                 <--site <SITE>|--all>\n\nUsage: cycle {command} --cycle <N> <--site <SITE>|--all>\n\n\
                 For more information, try '--help'.\n"
            ),
            "{command}"
        );
    }
    let out = shipped(&dirs)
        .args(["prepare", "--cycle", "44", "--site", "summit", "--all"])
        .output()
        .unwrap();
    assert_eq!(code(&out), EXIT_USAGE);
    assert!(
        stderr(&out)
            .starts_with("error: the argument '--site <SITE>' cannot be used with '--all'\n"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------
// 3. Boolean environment variables take 1/0, true/false, yes/no.

/// The last line of an offline-or-not dry run of the summit with `env` set.
fn summit_dry_run(dirs: &TestDirs, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = shipped(dirs);
    cmd.env_remove("CYCLE_NO_CHECK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["prepare", "--site", "summit", "--cycle", "44", "--dry-run"])
        .output()
        .unwrap();
    (code(&out), stdout(&out), stderr(&out))
}

#[test]
fn boolean_environment_variables_take_1_0_true_false_yes_no() {
    let dirs = TestDirs::new();
    for yes in ["1", "true", "yes", "TRUE", "Yes"] {
        let (code, out, err) =
            summit_dry_run(&dirs, &[("CYCLE_OFFLINE", yes), ("CYCLE_NO_CHECK", yes)]);
        assert_eq!(code, 2, "{yes}: {err}");
        assert!(
            out.contains("\nPre-flight checks skipped: offline (the services are not asked)\n"),
            "CYCLE_OFFLINE={yes}: {out}{err}"
        );
        assert!(
            out.ends_with(
                "6 steps to apply, 0 up to date, 1 waiting, 3 missed, 2 manual, across 1 site.\n"
            ),
            "{out}"
        );
        let (code, _, err) =
            summit_dry_run(&dirs, &[("CYCLE_NO_CHECK", yes), ("CYCLE_OFFLINE", "1")]);
        assert_eq!(code, 2, "{err}");
    }
    // `0`, `false` and `no` are false: not offline, so the dry run fetches
    // (from a server that does not exist here: no network in tests).
    let nowhere = format!("file://{}", dirs.path().join("no-remotes").display());
    for no in ["0", "false", "no"] {
        let (_, out, _) = summit_dry_run(
            &dirs,
            &[
                ("CYCLE_OFFLINE", no),
                ("CYCLE_NO_CHECK", "1"),
                ("GITHUB_SERVER_URL", &nowhere),
            ],
        );
        assert!(
            !out.contains("Pre-flight checks skipped: offline"),
            "CYCLE_OFFLINE={no} is not offline: {out}"
        );
    }
    let (code, out, err) = summit_dry_run(&dirs, &[("CYCLE_OFFLINE", "maybe")]);
    assert_eq!(code, EXIT_USAGE);
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: invalid value 'maybe' for '--offline': value was not a boolean\n"),
        "{err}"
    );
    // `cycle check` and `cycle config` read CYCLE_OFFLINE the same way.
    let out = shipped(&dirs)
        .env("CYCLE_OFFLINE", "1")
        .args(["check", "--cycle", "44", "--json"])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("invalid value"), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        report["findings"][0]["found"],
        "skipped (offline): ts_cycle_build has never been cloned into the cache"
    );
    let out = shipped(&dirs)
        .env("CYCLE_OFFLINE", "yes")
        .args([
            "config", "--site", "summit", "--cycle", "44", "--ticket", "OSW-1",
        ])
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("invalid value"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------
// 2. Every missing credential in one error, before any request.

#[test]
fn every_missing_service_is_named_in_one_error_before_any_request() {
    let world = FullWorld::new();
    let refs = world.refs("lsst-sqre/phalanx.git");
    // GitHub and Confluence are set up; Jira and Slack are not.
    let out = world
        .bare_command()
        .env("GITHUB_TOKEN", github_fake::TOKEN)
        .env("GITHUB_API_URL", world.github.url())
        .env("CONFLUENCE_URL", world.confluence.url())
        .env("CONFLUENCE_USER", confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", confluence_fake::API_TOKEN)
        .args(["prepare", "--all", "--cycle", "44", "--yes"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: 2 services the selected steps need are not configured (nothing was sent):\n  \
         - Jira is not configured: set JIRA_URL (the Jira address); and JIRA_USER and \
         JIRA_API_TOKEN (Jira Cloud user and API token), or JIRA_PAT (a Data Center personal \
         access token)\n  \
         - Slack is not configured: set SLACK_BOT_TOKEN to the bot user OAuth token (xoxb-…) of \
         the Slack app\n"
    );
    assert!(world.github.requests().is_empty(), "GitHub was asked");
    assert!(
        world.confluence.requests().is_empty(),
        "Confluence was asked"
    );
    assert_eq!(world.refs("lsst-sqre/phalanx.git"), refs);
    assert!(!world.dirs.cache().exists(), "the run fetched");

    // With nothing set, all four at once; one service alone keeps its message.
    let none = |args: &[&str]| {
        let out = cycle_command(
            &world.dirs,
            &[DirArg::Cache, DirArg::State, DirArg::Releases],
        )
        .args(args)
        .output()
        .unwrap();
        (code(&out), stderr(&out))
    };
    let (c, err) = none(&["prepare", "--site", "summit", "--cycle", "44", "--yes"]);
    assert_eq!(c, 1);
    let listed: Vec<&str> = err.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(
        err.lines().next().unwrap(),
        "error: 4 services the selected steps need are not configured (nothing was sent):"
    );
    assert_eq!(listed.len(), 4, "{err}");
    for (line, service) in listed.iter().zip(["Confluence", "GitHub", "Jira", "Slack"]) {
        assert!(
            line.starts_with(&format!("  - {service} is not configured: set ")),
            "{line}"
        );
    }
    // Pushing over https needs the token too (ssh or file remotes do not).
    let out = cycle_command(
        &world.dirs,
        &[DirArg::Cache, DirArg::State, DirArg::Releases],
    )
    .env("GITHUB_SERVER_URL", "https://git.example.org")
    .args([
        "prepare",
        "--all",
        "--cycle",
        "44",
        "--yes",
        "--only",
        "jira,config",
    ])
    .output()
    .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "error: 2 services the selected steps need are not configured (nothing was sent):\n  \
         - git is not configured: set GITHUB_TOKEN (a token allowed to push the ticket branches \
         to git.example.org), or give the repositories ssh:// URLs in the site files\n  \
         - Jira is not configured: set JIRA_URL (the Jira address); and JIRA_USER and \
         JIRA_API_TOKEN (Jira Cloud user and API token), or JIRA_PAT (a Data Center personal \
         access token)\n"
    );
    assert!(!world.dirs.cache().exists(), "the run fetched");
    let (c, err) = none(&[
        "prepare", "--site", "summit", "--cycle", "44", "--yes", "--only", "slack",
    ]);
    assert_eq!(c, 1);
    assert_eq!(
        err,
        "error: Slack is not configured: set SLACK_BOT_TOKEN to the bot user OAuth token \
         (xoxb-…) of the Slack app (nothing was sent)\n"
    );
}

// ---------------------------------------------------------------------------
// 4. Placeholders as whole words or whole values, wherever they are written.

/// The placeholder refusal of `field` at `line:column` of `file`.
fn placeholder_error(file: &std::path::Path, at: &str, field: &str, marker: &str) -> String {
    format!(
        "{}:{at}: {field}: `{marker}` is a placeholder: confirm the real value (`cycle doctor` \
         checks it against the service) and write it here",
        file.display()
    )
}

#[test]
fn placeholders_in_a_site_are_refused_where_they_are_written_and_a_real_name_is_not() {
    let dirs = TestDirs::new();
    dirs.copy_shipped_sites(&["bts.yaml", "summit.yaml", "tts.yaml"]);
    let summit = dirs.sites().join("summit.yaml");
    let shipped = std::fs::read_to_string(&summit).unwrap();
    let validate = || {
        let out = cycle_command(&dirs, &[DirArg::Cache, DirArg::State, DirArg::Sites])
            .args(["sites", "validate"])
            .output()
            .unwrap();
        (code(&out), stdout(&out), stderr(&out))
    };
    for (from, to, at, field, marker) in [
        (
            "priority: SUMMIT-1",
            "priority: TODO",
            "31:3",
            "calendar.priority",
            "TODO",
        ),
        (
            "labels: [SoftwareRelease]",
            "labels: [CONFIRM]",
            "33:12",
            "calendar.labels.0",
            "CONFIRM",
        ),
        (
            "channel: \"#summit-announce\"",
            "channel: \"TODO\"",
            "105:3",
            "slack.channel",
            "TODO",
        ),
        (
            "repo: lsst-sqre/phalanx",
            "repo: TODO/phalanx",
            "54:5",
            "repositories.0.repo",
            "TODO",
        ),
        (
            "base: main\n    # The PR",
            "base: <branch>\n    # The PR",
            "55:5",
            "repositories.0.base",
            "<branch>",
        ),
        (
            "assignee: mreuter\n  labels: []",
            "assignee: FIXME\n  labels: []",
            "18:3",
            "jira.assignee",
            "FIXME",
        ),
    ] {
        assert!(shipped.contains(from), "{from}");
        std::fs::write(&summit, shipped.replacen(from, to, 1)).unwrap();
        let (c, out, err) = validate();
        assert_eq!(c, 1, "{to}: {err}");
        assert_eq!(
            out,
            format!(
                "ok      {}\nok      {}\n",
                dirs.sites().join("bts.yaml").display(),
                dirs.sites().join("tts.yaml").display()
            )
        );
        assert_eq!(
            err,
            format!(
                "error: 1 of 3 site files are invalid:\n{}\n",
                placeholder_error(&summit, at, field, marker)
            ),
            "{to}"
        );
    }
    // A person named Todorović is a person, not a placeholder.
    std::fs::write(
        &summit,
        shipped.replacen(
            "assignee: mreuter\n  labels: []",
            "assignee: Ana Todorović\n  labels: []",
            1,
        ),
    )
    .unwrap();
    let (c, out, err) = validate();
    assert_eq!(c, 0, "{err}");
    assert!(
        out.contains(&format!("ok      {}\n", summit.display())),
        "{out}"
    );
}

#[test]
fn a_placeholder_version_in_the_manifest_is_refused_before_anything_is_planned() {
    let dirs = TestDirs::new();
    std::fs::create_dir_all(dirs.releases()).unwrap();
    let manifest = dirs.releases().join("c0044.000.yaml");
    let shipped = support::read_repo_file("releases/c0044.000.yaml");
    std::fs::write(
        &manifest,
        shipped.replacen("strimzi: 0.47.0", "strimzi: TODO", 1),
    )
    .unwrap();
    let out = cycle_command(&dirs, &[DirArg::Cache, DirArg::State, DirArg::Releases])
        .args(words("prepare --all --cycle 44 --dry-run --offline"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!(
            "error: invalid release manifest: {}\n",
            placeholder_error(&manifest, "14:3", "versions.strimzi", "TODO")
        )
    );
    assert!(!dirs.cache().exists());
}

// ---------------------------------------------------------------------------
// 10. The page's schedule lists the deployments by date.

#[test]
fn the_page_schedule_lists_the_deployments_by_date() {
    let dirs = TestDirs::new();
    let out = shipped(&dirs)
        .args(words("render confluence_page --site summit --cycle 44"))
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let page = stdout(&out);
    let rows: Vec<&str> = page
        .lines()
        .filter(|l| l.contains("deployment</th>"))
        .map(str::trim)
        .collect();
    assert_eq!(
        rows,
        [
            "<tr><th>Base Test Stand deployment</th><td>Tuesday 10 February 2026, 09:00 CLST</td></tr>",
            "<tr><th>Tucson Test Stand deployment</th><td>Tuesday 17 February 2026, 09:00 MST</td></tr>",
            "<tr><th>Summit deployment</th><td>Tuesday 24 February 2026, 09:00 CLST</td></tr>",
        ]
    );
}

// ---------------------------------------------------------------------------
// 12. Man pages that exist, examples, -q, an error said once.

#[test]
fn every_man_page_the_main_page_names_can_be_printed() {
    let dirs = TestDirs::new();
    let main = shipped(&dirs).arg("man").output().unwrap();
    assert_eq!(code(&main), 0);
    let page = stdout(&main);
    let named: Vec<String> = page
        .lines()
        .filter_map(|l| {
            l.strip_prefix("cycle\\-")?
                .strip_suffix("(1)")
                .map(str::to_string)
        })
        .collect();
    assert_eq!(
        named,
        [
            "sites",
            "prepare",
            "doctor",
            "apply",
            "config",
            "status",
            "mark",
            "cancel",
            "announce",
            "check",
            "new",
            "revert",
            "render",
            "completions",
            "man"
        ],
        "no cycle-help(1): there is no help command"
    );
    for name in &named {
        let out = shipped(&dirs).args(["man", name]).output().unwrap();
        assert_eq!(code(&out), 0, "{name}");
        assert!(
            stdout(&out).contains(&format!(".TH cycle-{name} 1 ")),
            "{name}: {}",
            stdout(&out)
        );
    }
    let out = shipped(&dirs)
        .args(["man", "sites", "list"])
        .output()
        .unwrap();
    assert!(stdout(&out).contains(".TH cycle-sites-list 1 "));
    let out = shipped(&dirs).args(["man", "deploy"]).output().unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        "error: no man page cycle-deploy: the commands of cycle are sites, prepare, doctor, \
         apply, config, status, mark, cancel, announce, check, new, revert, render, completions, man\n"
    );
}

#[test]
fn help_shows_examples() {
    let dirs = TestDirs::new();
    for args in [&["--help"][..], &["prepare", "--help"]] {
        let out = shipped(&dirs).args(args).output().unwrap();
        assert_eq!(code(&out), 0);
        let text = stdout(&out);
        assert!(
            text.contains("\nExamples:\n  # ")
                && text
                    .contains("\n  cycle prepare --site summit --cycle 44 --dry-run --offline\n"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn quiet_prints_only_the_plan_count_and_an_os_error_is_said_once() {
    let dirs = TestDirs::new();
    let out = shipped(&dirs)
        .args(words(
            "-q prepare --site summit --cycle 44 --dry-run --offline",
        ))
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    assert_eq!(
        stdout(&out),
        "6 steps to apply, 0 up to date, 1 waiting, 3 missed, 2 manual, across 1 site.\n"
    );
    assert_eq!(stderr(&out), "");

    let file = dirs.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let state = file.join("state");
    let out = cycle_command(&dirs, &[DirArg::Cache])
        .arg("--state-dir")
        .arg(&state)
        .args(words(
            "prepare --site summit --cycle 44 --dry-run --offline",
        ))
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    assert_eq!(
        stderr(&out),
        format!(
            "error: cannot read journal {}/journal/c0044.000.json: Not a directory (os error 20) \
             (set --state-dir or CYCLE_STATE_DIR)\n",
            state.display()
        )
    );
}
