//! Benchmark: `cycle prepare --all --only jira,calendar,config --yes`
//! against fakes that add 50 ms to every request.
//!
//! Each iteration builds a fresh world (the Jira Cloud fake and the
//! authenticating smart-HTTP git server over a bare phalanx holding the real
//! April 2026 files, see `tests/support/apply_world.rs`), both answering
//! every request [`LATENCY`] late, and runs the release binary twice:
//!
//! * **apply**: three configuration tickets and the summit's calendar
//!   ticket created, phalanx cloned into an empty cache, three branches
//!   committed and pushed;
//! * **rerun**: everything already done, so it only reads (asserted: no
//!   Jira write, no push).
//!
//! Next to the apply's wall time it prints the **critical path**: the
//! requests on the longest dependency chain, counted from what the fakes
//! recorded, times [`LATENCY`]. The chain is the engine's: observe (a
//! ticket's lookup and the repository's fetch are independent, so the
//! longer of the two), then the ticket step (its search and create), then
//! the site's config step (its push). Targets: apply ≤ 1.3 × critical
//! path; rerun < 0.5 s.
//!
//! It also runs the same apply with no added latency: that wall time is the
//! local work (process start, cloning, the YAML edits of three sites,
//! commits, the git server's own `git http-backend` processes), which no
//! concurrency can hide, so "apply − local work" is the part spent waiting
//! on the network, to compare with the critical path.
//! `CYCLE_BENCH_TRACE=1` prints every request's arrival time.
//!
//! Run it with `cargo bench --bench apply` (release profile, 5 iterations;
//! set `CYCLE_BENCH_ITERS` to change). Built as a test (`cargo test
//! --benches`/`--all-targets`), it runs a single iteration as a smoke test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::apply_world::{ApplyWorld, PREPARE_ALL, texts};
use support::git_http::RecordedRequest;
use support::http_fake::Request;

/// Added by both fakes to every request.
const LATENCY: Duration = Duration::from_millis(50);
const DEFAULT_ITERS: usize = 5;

/// One iteration's figures.
struct Figures {
    apply: Duration,
    critical: Chain,
    /// The apply after a dry run, as a release manager runs it: the
    /// repository is already in the cache, so its fetch is incremental.
    warm: Duration,
    /// The warm apply's critical path.
    warm_critical: Chain,
    rerun: Duration,
    /// The same apply with no added latency.
    local: Duration,
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
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
    println!(
        "prepare --all --only jira,calendar,config: 3 sites in lsst-sqre/phalanx, {} ms per request",
        LATENCY.as_millis()
    );
    let runs: Vec<Figures> = (0..iters).map(|_| iteration()).collect();
    for (i, f) in runs.iter().enumerate() {
        println!(
            "  run {}: apply {:>4} ms; critical path {} requests = {:>4} ms ({:.2}×), as answered {:>4} ms ({:.2}×); \
             after a dry run {:>4} ms / {} requests, as answered {:>4} ms ({:.2}×); rerun {:>4} ms; local work {:>4} ms",
            i + 1,
            f.apply.as_millis(),
            f.critical.requests,
            requests_time(f.critical).as_millis(),
            ratio(f.apply, requests_time(f.critical)),
            f.critical.answered.as_millis(),
            ratio(f.apply, f.critical.answered),
            f.warm.as_millis(),
            f.warm_critical.requests,
            f.warm_critical.answered.as_millis(),
            ratio(f.warm, f.warm_critical.answered),
            f.rerun.as_millis(),
            f.local.as_millis()
        );
    }
    let apply = median(runs.iter().map(|f| f.apply).collect());
    let rerun = median(runs.iter().map(|f| f.rerun).collect());
    let local = median(runs.iter().map(|f| f.local).collect());
    let critical = runs
        .iter()
        .map(|f| f.critical)
        .max_by_key(|c| c.requests)
        .unwrap_or_default();
    let answered = median(runs.iter().map(|f| f.critical.answered).collect());
    println!(
        "median apply {} ms vs critical path {} ms ({} requests × {} ms): {:.2}× (target ≤ 1.3×)",
        apply.as_millis(),
        requests_time(critical).as_millis(),
        critical.requests,
        LATENCY.as_millis(),
        ratio(apply, requests_time(critical))
    );
    println!(
        "median apply {} ms vs critical path as the fakes answered it {} ms ({} ms each plus the git server's own work): {:.2}×",
        apply.as_millis(),
        answered.as_millis(),
        LATENCY.as_millis(),
        ratio(apply, answered)
    );
    let warm = median(runs.iter().map(|f| f.warm).collect());
    let warm_answered = median(runs.iter().map(|f| f.warm_critical.answered).collect());
    println!(
        "median apply after a dry run (warm cache) {} ms vs critical path as answered {} ms: {:.2}×",
        warm.as_millis(),
        warm_answered.as_millis(),
        ratio(warm, warm_answered)
    );
    println!(
        "median rerun (reads only) {} ms (target < 500 ms)",
        rerun.as_millis()
    );
    println!(
        "median local work (no latency) {} ms; apply − local work = {} ms: {:.2}× the critical path's {} ms",
        local.as_millis(),
        apply.saturating_sub(local).as_millis(),
        ratio(apply.saturating_sub(local), requests_time(critical)),
        requests_time(critical).as_millis()
    );
}

/// The chain's requests × [`LATENCY`].
fn requests_time(chain: Chain) -> Duration {
    LATENCY * chain.requests as u32
}

fn ratio(wall: Duration, path: Duration) -> f64 {
    wall.as_secs_f64() / path.as_secs_f64()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn iteration() -> Figures {
    let local = {
        let world = ApplyWorld::new();
        let start = Instant::now();
        let out = world.run(&PREPARE_ALL);
        let local = start.elapsed();
        check(&out);
        local
    };
    let world = ApplyWorld::new();
    world.jira.set_latency(LATENCY);
    world.git.set_latency(LATENCY);

    let start = Instant::now();
    let out = world.run(&PREPARE_ALL);
    let apply = start.elapsed();
    check(&out);
    assert_eq!(
        world.jira.issues().len(),
        4,
        "3 tickets and the calendar one"
    );
    assert_eq!(world.ticket_branches().len(), 3);
    let critical = critical_path(&world.jira.requests(), &world.git.requests());
    if std::env::var_os("CYCLE_BENCH_TRACE").is_some() {
        let mut lines: Vec<(Duration, String)> = world
            .jira
            .requests()
            .iter()
            .map(|r| {
                (
                    r.at - start,
                    format!("jira {} {} {}", r.method, r.path, ticket_of(r)),
                )
            })
            .chain(world.git.requests().iter().map(|r| {
                (
                    r.at - start,
                    format!(
                        "git  {} {}?{} {}, answered after {} ms",
                        r.method,
                        r.path,
                        r.query,
                        r.status,
                        (r.answered - r.at).as_millis()
                    ),
                )
            }))
            .collect();
        lines.sort();
        for (at, line) in lines {
            println!("    {:>5} ms {line}", at.as_millis());
        }
    }

    world.jira.clear_requests();
    world.git.clear();
    let start = Instant::now();
    let out = world.run(&PREPARE_ALL);
    let rerun = start.elapsed();
    check(&out);
    assert!(world.jira.writes().is_empty(), "the rerun only reads");
    assert!(!world.git.requests().iter().any(RecordedRequest::is_push));
    let (warm, warm_critical) = after_a_dry_run();
    Figures {
        apply,
        critical,
        warm,
        warm_critical,
        rerun,
        local,
    }
}

/// The apply timed after a dry run of the same command filled the cache;
/// returns its wall time and critical path.
fn after_a_dry_run() -> (Duration, Chain) {
    let world = ApplyWorld::new();
    world.jira.set_latency(LATENCY);
    world.git.set_latency(LATENCY);
    let mut dry: Vec<&str> = PREPARE_ALL.to_vec();
    dry.retain(|a| *a != "--yes");
    dry.push("--dry-run");
    let out = world.run(&dry);
    assert_eq!(out.status.code(), Some(2), "the dry run shows changes");
    world.jira.clear_requests();
    world.git.clear();
    let start = Instant::now();
    let out = world.run(&PREPARE_ALL);
    let warm = start.elapsed();
    check(&out);
    assert_eq!(world.ticket_branches().len(), 3);
    let critical = critical_path(&world.jira.requests(), &world.git.requests());
    (warm, critical)
}

fn check(out: &std::process::Output) {
    let (stdout, stderr) = texts(out);
    assert!(out.status.success(), "cycle failed:\n{stdout}\n{stderr}");
}

/// The Jira requests of one ticket (its search's JQL or create's summary).
fn ticket_of(request: &Request) -> String {
    match request.param("jql") {
        Some(jql) => jql
            .split("summary ~ ")
            .nth(1)
            .unwrap_or_default()
            .split(" ORDER BY")
            .next()
            .unwrap_or_default()
            .trim_matches(|c| c == '"' || c == '\\')
            .to_string(),
        None => request.json()["fields"]["summary"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The longest dependency chain of one apply.
#[derive(Clone, Copy, Default)]
struct Chain {
    /// Requests on it.
    requests: usize,
    /// How long the fakes took to answer them: [`LATENCY`] each, plus the
    /// git server's own work (`git http-backend` packing, indexing and
    /// updating refs), measured from arrival to answer.
    answered: Duration,
}

/// The longest dependency chain: for each ticket, the longer of its lookup
/// (its searches before the repository's fetch started) and the
/// repository's fetch (the upload-pack requests), then its ticket step (its
/// requests after the fetch), then one site's push (the receive-pack
/// requests of one push; pushes run concurrently, so their average).
fn critical_path(jira: &[Request], git: &[RecordedRequest]) -> Chain {
    let service = |r: &&RecordedRequest| r.answered - r.at;
    let fetch: Vec<&RecordedRequest> = git
        .iter()
        .filter(|r| r.path.ends_with("git-upload-pack") || r.query.contains("git-upload-pack"))
        .collect();
    let fetch_start = fetch.iter().map(|r| r.at).min().expect("a fetch");
    let fetch_end = fetch.iter().map(|r| r.at).max().expect("a fetch");
    let fetch_chain = Chain {
        requests: fetch.len(),
        answered: fetch.iter().map(service).sum(),
    };
    let receive: Vec<&RecordedRequest> = git
        .iter()
        .filter(|r| r.path.ends_with("git-receive-pack") || r.query.contains("git-receive-pack"))
        .collect();
    let pushes = git.iter().filter(|r| r.is_push()).count().max(1);
    let push = Chain {
        requests: receive.len().div_ceil(pushes),
        answered: receive.iter().map(service).sum::<Duration>() / pushes as u32,
    };
    let jira_chain = |n: usize| Chain {
        requests: n,
        answered: LATENCY * n as u32,
    };
    let mut tickets: Vec<String> = jira.iter().map(ticket_of).collect();
    tickets.sort();
    tickets.dedup();
    tickets
        .iter()
        .map(|ticket| {
            let mine = jira.iter().filter(|r| ticket_of(r) == *ticket);
            let lookup = jira_chain(mine.clone().filter(|r| r.at < fetch_start).count());
            let step = jira_chain(mine.filter(|r| r.at > fetch_end).count());
            let observe = if lookup.answered > fetch_chain.answered {
                lookup
            } else {
                fetch_chain
            };
            // The calendar ticket has no config step after it.
            let config = if ticket.starts_with("Ready ") {
                push
            } else {
                Chain::default()
            };
            Chain {
                requests: observe.requests + step.requests + config.requests,
                answered: observe.answered + step.answered + config.answered,
            }
        })
        .max_by_key(|c| c.answered)
        .unwrap_or_default()
}
