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
