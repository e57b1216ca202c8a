//! Benchmark: what the pre-flight checks of an online dry run cost when the
//! conda channel's host cannot be resolved (issue 33, items 6 and 13).
//!
//! One world of every fake (`tests/support/full_world.rs`: Jira, GitHub,
//! Confluence, Slack, and bare remotes of phalanx and ts_cycle_build, whose
//! real Cycle 44 `cycle.env` names about 80 conda packages and 100
//! repositories), then `cycle prepare --all --cycle 44 --dry-run` twice per
//! iteration, both on a warm cache:
//!
//! * **no check**: `--no-check`, the pre-flight checks not run;
//! * **conda unresolvable**: the checks run, with the conda API at
//!   `https://conda.invalid` (the `.invalid` top-level domain never
//!   resolves), and the default retry policy (no `CYCLE_RETRY_BASE_MS`).
//!
//! It prints each wall time, the difference (target: at most 3 s), and the
//! longest line the checked run printed (target: at most 1,000
//! characters; asserted, as is the one grouped conda finding). Before the
//! host was remembered as unreachable, each package was retried four
//! times, eight at a time: 35–52 s.
//!
//! Run it with `cargo bench --bench newcomer` (release profile, 5
//! iterations; `CYCLE_BENCH_ITERS` changes that). Built as a test (`cargo
//! test --benches`), it runs one iteration as a smoke test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use support::full_world::FullWorld;
use support::run::{DirArg, cycle_command, texts};
use support::{confluence_fake, github_fake, jira_fake};

const DEFAULT_ITERS: usize = 5;
/// A host name that never resolves (RFC 2606).
const UNRESOLVABLE: &str = "https://conda.invalid";

/// `cycle prepare --all --cycle 44 --dry-run ARGS` in `world`, every
/// service configured, the default retry policy.
fn dry_run(world: &FullWorld, args: &[&str], env: &[(&str, &str)]) -> (Duration, Output) {
    let mut cmd = cycle_command(
        &world.dirs,
        &[
            DirArg::Cache,
            DirArg::State,
            DirArg::Releases,
            DirArg::Sites,
        ],
    );
    cmd.env("XDG_CONFIG_HOME", world.dirs.path().join("xdg"))
        .env("GITHUB_SERVER_URL", world.dirs.remotes_url())
        .env("GITHUB_TOKEN", github_fake::TOKEN)
        .env("GITHUB_API_URL", world.github.url())
        .env("JIRA_URL", world.jira.url())
        .env("JIRA_USER", jira_fake::USER)
        .env("JIRA_API_TOKEN", jira_fake::TOKEN)
        .env("CONFLUENCE_URL", world.confluence.url())
        .env("CONFLUENCE_USER", confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", confluence_fake::API_TOKEN)
        .env("SLACK_BOT_TOKEN", world.slack.token())
        .env("SLACK_API_URL", world.slack.url());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(["prepare", "--all", "--cycle", "44", "--dry-run"])
        .args(args);
    let start = Instant::now();
    let out = cmd.output().expect("cycle runs");
    (start.elapsed(), out)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let iters = if bench_mode {
        std::env::var("CYCLE_BENCH_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_ITERS)
    } else {
        1
    };
    let world = FullWorld::new();
    let checked_env = [
        ("CYCLE_NO_CHECK", "false"),
        ("CYCLE_CONDA_API_URL", UNRESOLVABLE),
    ];
    // Warm the clone cache (phalanx, ts_cycle_build) once.
    dry_run(&world, &["--no-check"], &[]);
    println!(
        "prepare --all --cycle 44 --dry-run, warm cache; conda API at {UNRESOLVABLE} (does not resolve)"
    );
    let mut without = Vec::new();
    let mut with = Vec::new();
    let mut longest = 0;
    for i in 0..iters {
        let (plain, out) = dry_run(&world, &["--no-check"], &[]);
        assert!(
            matches!(out.status.code(), Some(0 | 2)),
            "{:?}",
            texts(&out)
        );
        let (checked, out) = dry_run(&world, &[], &checked_env);
        let (stdout, stderr) = texts(&out);
        let lines = stdout.lines().chain(stderr.lines());
        let widest = lines.map(|l| l.chars().count()).max().unwrap_or(0);
        longest = longest.max(widest);
        let conda_lines = stdout
            .lines()
            .filter(|l| l.contains("cannot reach conda.invalid"))
            .count();
        assert_eq!(
            conda_lines, 1,
            "one grouped conda finding:\n{stdout}\n{stderr}"
        );
        println!(
            "  run {}: --no-check {:>5} ms; checks, conda unresolvable {:>5} ms (+{} ms); longest line {widest} characters, {} lines",
            i + 1,
            plain.as_millis(),
            checked.as_millis(),
            checked.saturating_sub(plain).as_millis(),
            stdout.lines().count() + stderr.lines().count()
        );
        without.push(plain);
        with.push(checked);
    }
    assert!(longest <= 1000, "a line of {longest} characters");
    let (plain, checked) = (median(without), median(with));
    println!(
        "median --no-check {} ms; with the checks and the conda host unresolvable {} ms: +{} ms (target ≤ 3000 ms); longest line {longest} characters (target ≤ 1000)",
        plain.as_millis(),
        checked.as_millis(),
        checked.saturating_sub(plain).as_millis()
    );
}
