//! `cycle new`: the release manifest of a new cycle or revision from the
//! schedule rule and ts_cycle_build's `cycle/cycle.env` (a local remote
//! under `$GITHUB_SERVER_URL`), written once, loading and planning like any.

mod support;

use support::run::{DirArg, TestDirs, code, cycle_command, stderr, stdout};
use support::words;

fn world() -> TestDirs {
    let dirs = TestDirs::new();
    let owner = dirs.remotes().join("lsst-ts");
    std::fs::create_dir_all(&owner).unwrap();
    support::create_cycle_build_remote(&owner);
    std::fs::create_dir_all(dirs.releases()).unwrap();
    // The newest earlier manifest gives what cycle.env does not have.
    std::fs::write(
        dirs.releases().join("c0039.000.yaml"),
        support::read_repo_file("releases/c0039.000.yaml"),
    )
    .unwrap();
    dirs.copy_shipped_sites(&["bts.yaml", "summit.yaml", "tts.yaml"]);
    dirs
}

fn cycle(dirs: &TestDirs, args: &[&str]) -> std::process::Output {
    cycle_command(
        dirs,
        &[
            DirArg::Cache,
            DirArg::State,
            DirArg::Releases,
            DirArg::Sites,
        ],
    )
    .env("GITHUB_SERVER_URL", dirs.remotes_url())
    .args(args)
    .output()
    .unwrap()
}

#[test]
fn a_full_cycle_is_worked_back_from_the_summit_and_plans() {
    let dirs = world();
    let out = cycle(
        &dirs,
        &words("new --cycle 44 --summit 2027-02-23 --cycle-build-ref c0044.000"),
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let text = std::fs::read_to_string(dirs.releases().join("c0044.000.yaml")).unwrap();
    for line in [
        "cycle: 44\n",
        "revision: 0\n",
        "  # From ts_cycle_build cycle/cycle.env at c0044.000 (",
        "  ts_xml: 27.0.0\n",
        "  ts_sal: 10.1.1\n",
        "  csc_rpms: 27.0.0-10.1.1\n",
        "  csc_jars: 27.0.0_10.1.1\n",
        "  # As in c0039.000.yaml: check them.\n",
        // Day 20 Tuesday 23 February 2027 → day 1 Thursday 4 February.
        "  xml_work_closes: 2027-02-04\n",
        "  artifact_build: 2027-02-05\n",
        "  container_build_week: 2027-02-07\n",
        "  bts_deploy_week: 2027-02-16\n",
        "  bts:\n    start: 2027-02-16 09:00\n    integration_testing:\n      ready_by: 2027-02-18 14:00\n      until: 2027-02-20 17:00\n",
        "  summit:\n    start: 2027-02-23 09:00\n",
        "  tts:\n    start: 2027-02-17 09:00\n    integration_testing:\n      ready_by: 2027-02-18 10:00\n",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    assert!(
        stdout(&out)
            .contains("summit                 2027-02-23 09:00 (Tuesday, America/Santiago)"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    // It loads and plans.
    let plan = cycle(
        &dirs,
        &words("prepare --site summit --cycle 44 --dry-run --offline"),
    );
    assert_eq!(code(&plan), 2, "{}{}", stdout(&plan), stderr(&plan));
    assert!(
        stdout(&plan).contains("Tuesday 23 February 2027"),
        "{}",
        stdout(&plan)
    );

    // Never overwritten.
    let again = cycle(&dirs, &["new", "--cycle", "44", "--summit", "2027-03-02"]);
    assert_eq!(code(&again), 1);
    assert!(
        stderr(&again).contains("c0044.000.yaml exists: `cycle new` never overwrites a manifest"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dirs.releases().join("c0044.000.yaml")).unwrap(),
        text
    );
}

#[test]
fn an_incremental_upgrade_goes_forward_from_the_closure_with_warnings() {
    let dirs = world();
    // Closure on Monday 8 March 2027: BTS Friday 12th, summit Sunday 14th.
    let out = cycle(
        &dirs,
        &words(
            "new --cycle 44 --revision 7 --closure 2027-03-08 --restart MTScheduler --restart ATScheduler",
        ),
    );
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    for warning in [
        "warning: bts: the deployment on 2027-03-12 falls on a Friday; deployments never happen on a Friday",
        "warning: summit: the deployment on 2027-03-14 falls on a Sunday",
    ] {
        assert!(err.contains(warning), "{warning} in {err}");
    }
    let text = std::fs::read_to_string(dirs.releases().join("c0044.007.yaml")).unwrap();
    assert!(text.contains("revision: 7\n"), "{text}");
    assert!(
        text.contains("  ts_xml: 27.1.1\n"),
        "the default ref's: {text}"
    );
    assert!(
        text.contains("restarted_components:\n  - MTScheduler\n  - ATScheduler\n"),
        "{text}"
    );
    assert!(
        text.contains("  summit:\n    start: 2027-03-14 09:00\n"),
        "{text}"
    );

    // A date in the past and a full cycle's summit that is not a Tuesday.
    let out = cycle(&dirs, &["new", "--cycle", "45", "--summit", "2026-01-07"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: the summit's deployment on 2026-01-07 is a Wednesday, not a Tuesday as the schedule rule has it"),
        "{err}"
    );
    assert!(err.contains("is in the past"), "{err}");
    assert!(
        err.contains("is for c0044.007, not c0045.000: pass --cycle-build-ref"),
        "{err}"
    );
}

#[test]
fn neither_date_is_a_usage_error() {
    let dirs = world();
    let out = cycle(&dirs, &["new", "--cycle", "46"]);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--summit YYYY-MM-DD"),
        "{}",
        stderr(&out)
    );
    assert!(std::fs::read_dir(dirs.releases()).unwrap().count() == 1);
}
