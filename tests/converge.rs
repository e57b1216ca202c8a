//! One `cycle prepare --all --cycle 44 --yes` run against every service at
//! once (`tests/support/full_world.rs`). The first run must leave
//! everything in its final state (the page lists every site's PR, not "not
//! yet opened"), so a second run sends no write request to any of them.

mod support;

use support::confluence_fake;
use support::full_world::FullWorld;
use support::run::texts;

const PREPARE: [&str; 6] = [
    "prepare",
    "--all",
    "--cycle",
    "44",
    "--cycle-build-ref={{ full_tag }}",
    "--yes",
];

#[test]
fn one_run_converges_and_a_second_run_writes_nothing() {
    let world = FullWorld::new();
    let first = world.run(&PREPARE);
    let (stdout, stderr) = texts(&first);
    assert_eq!(first.status.code(), Some(0), "{stdout}\n{stderr}");

    // Every site's ticket, branch and PR exist.
    let pulls = world.github.pulls();
    assert_eq!(pulls.len(), 3, "{pulls:?}");
    let branches = world.refs("lsst-sqre/phalanx.git");
    for pull in &pulls {
        assert!(
            branches.contains(&format!("refs/heads/{}", pull.head_ref)),
            "{branches}"
        );
    }

    // The page was written once, after the PRs: it links each of them.
    let page = world
        .confluence
        .page_titled("Cycle 44 Upgrade")
        .expect("the cycle page");
    assert_eq!(page.version, 1, "the page was written once");
    assert_eq!(page.parent_id.as_deref(), Some(confluence_fake::PARENT_ID));
    assert!(!page.body.contains("not yet opened"), "{}", page.body);
    for pull in &pulls {
        let link = format!("https://github.com/lsst-sqre/phalanx/pull/{}", pull.number);
        assert!(page.body.contains(&link), "{link} not on the page");
    }

    // The second run observes everything and writes nothing anywhere.
    let before = (
        world.refs("lsst-sqre/phalanx.git"),
        world.refs("lsst-ts/ts_cycle_build.git"),
    );
    world.clear();
    let second = world.run(&PREPARE);
    let (stdout, stderr) = texts(&second);
    assert_eq!(second.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(world.writes(), Vec::<String>::new(), "{stdout}");
    assert_eq!(
        (
            world.refs("lsst-sqre/phalanx.git"),
            world.refs("lsst-ts/ts_cycle_build.git"),
        ),
        before
    );
    assert_eq!(world.github.pulls().len(), 3);
    assert_eq!(
        world
            .confluence
            .page_titled("Cycle 44 Upgrade")
            .unwrap()
            .version,
        1
    );
}

/// After one apply, the page announcements wait for the build team (exit
/// 0, counted as waiting); once it is marked done and one more apply ran,
/// a dry run has nothing to apply, exits 0 and writes nothing.
#[test]
fn a_converged_cycle_reaches_zero_once_the_build_team_is_marked_done() {
    let world = FullWorld::new();
    let first = world.run(&PREPARE);
    let (stdout, stderr) = texts(&first);
    assert_eq!(first.status.code(), Some(0), "{stdout}\n{stderr}");

    let dry: Vec<&str> = PREPARE[..5].iter().copied().chain(["--dry-run"]).collect();
    world.clear();
    let out = world.run(&dry);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for site in ["bts", "summit", "tts"] {
        let line = stdout
            .lines()
            .skip_while(|l| !l.contains(&format!("{site}:slack:page_ready")))
            .take(2)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            line.contains("[waiting] Announce the Confluence page")
                && line.contains(&format!(
                    "waiting for {site}:build-team (a person's step: once done, run `cycle mark --site {site} --cycle 44 build-team done`)"
                )),
            "{line}"
        );
    }
    assert!(
        stdout.contains("0 steps to apply, 23 up to date, 3 waiting, 6 manual, across 3 sites."),
        "{stdout}"
    );
    assert_eq!(world.writes(), Vec::<String>::new());

    for site in ["bts", "summit", "tts"] {
        let mark = world.run(&[
            "mark",
            "--site",
            site,
            "--cycle",
            "44",
            "build-team",
            "done",
        ]);
        assert_eq!(mark.status.code(), Some(0));
    }
    let dry_json: Vec<&str> = dry.iter().copied().chain(["--json"]).collect();
    let out = world.run(&dry_json);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(2), "the announcements are due now");
    assert_eq!(plan["summary"]["to_apply"], 3, "{:#}", plan["summary"]);

    let second = world.run(&PREPARE);
    let (stdout, stderr) = texts(&second);
    assert_eq!(second.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(
        world.slack.posted().len(),
        3 + 3,
        "three review notices, then three page announcements"
    );

    world.clear();
    let out = world.run(&dry);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 steps to apply, 26 up to date, 6 manual, across 3 sites."),
        "{stdout}"
    );
    assert_eq!(world.writes(), Vec::<String>::new(), "{stdout}");
}
