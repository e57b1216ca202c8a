//! Benchmark: the summit's configuration branch in a repository of
//! phalanx's real size, served over authenticating smart HTTP, beside plain
//! git doing the same transfers.
//!
//! The remote is generated with `git fast-import` in phalanx's shape (August
//! 2026: 2,900 files, 18,900 commits on `main`) with the real
//! `tests/fixtures/phalanx` files at the top, and 5,000 `refs/pull/N/head`
//! refs, each a commit of its own off `main`, as GitHub advertises them. It
//! is served by `tests/support/git_http.rs` (`git http-backend` behind
//! Basic auth on 127.0.0.1), so `cycle` and git both speak smart HTTP.
//!
//! Measured, as medians of the iterations:
//! * **cold**: `cycle prepare --site summit --only config --dry-run` with an
//!   empty cache (its first clone), beside `git clone --bare` and
//!   `git clone --bare --depth 1 --single-branch`;
//! * **warm**: the same dry run again on the cached clone;
//! * **apply**: `--yes` on the warm cache (commit and push of the ticket
//!   branch), beside a plain `git push` of the same commit from the same
//!   clone;
//! * **revert**: `cycle revert --site summit --to 42 --only config
//!   --dry-run` with an empty cache, Cycle 43 having come a twentieth of the
//!   history before `main`'s tip (945 commits): the shallow clone is
//!   deepened (32, 512, 2048, 8192, then all) until the walk finds Cycle
//!   42's commit,
//!   beside `git clone --bare` (the whole history at once); then warm;
//! * the **peak RSS** of each process (`/usr/bin/time -f %M`, when there).
//!
//! Targets (issue 23): apply within 1.5× the plain push, peak RSS under
//! 60 MB. Run it with `cargo bench --bench phalanx` (5 iterations; set
//! `CYCLE_BENCH_ITERS`). Built as a test (`cargo test --benches`), it runs
//! once on a repository a tenth of the size, as a smoke test.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::git_http::GitHttpServer;
use support::run::cycle_std_command;

const TOKEN: &str = "ghp_PhalanxBenchToken_0123456789";
const BRANCH: &str = "tickets/OSW-2010";
const DEFAULT_ITERS: usize = 5;

/// The generated repository's size.
#[derive(Clone, Copy)]
struct Shape {
    files: usize,
    commits: usize,
    pulls: usize,
}

/// phalanx's size (`git ls-files | wc -l`, `git rev-list --count main`) and
/// the order of its advertised pull refs.
const PHALANX: Shape = Shape {
    files: 2_900,
    commits: 18_900,
    pulls: 5_000,
};

/// One measured process: wall time and peak RSS in KiB (0 when unknown).
#[derive(Clone, Copy, Default)]
struct Run {
    wall: Duration,
    rss_kib: u64,
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let (iters, shape) = if bench_mode {
        let iters = std::env::var("CYCLE_BENCH_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(DEFAULT_ITERS);
        (iters, PHALANX)
    } else {
        (
            1,
            Shape {
                files: 290,
                commits: 1_890,
                pulls: 500,
            },
        )
    };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let setup = Instant::now();
    let remotes = tmp.path().join("remotes");
    let bare = generate(&remotes, shape);
    let server = GitHttpServer::start(&remotes, "x-access-token", TOKEN);
    let url = server.url("lsst-sqre/phalanx.git");
    let authed = url.replacen("http://", &format!("http://x-access-token:{TOKEN}@"), 1);
    println!(
        "remote: {} commits on main, {} files, {} refs, {} MiB packed (set up in {:.1} s)",
        git(&bare, &["rev-list", "--count", "main"]),
        git(&bare, &["ls-tree", "-r", "--name-only", "main"])
            .lines()
            .count(),
        git(&bare, &["for-each-ref", "--format=x"]).lines().count(),
        pack_mib(&bare),
        setup.elapsed().as_secs_f64()
    );
    println!("load before: {}", load());

    let mut rows: Vec<(&str, Vec<Run>)> = [
        "git clone --bare",
        "git clone --bare --depth 1",
        "cycle dry run, cold",
        "cycle dry run, warm",
        "git push (same commit)",
        "cycle apply (warm)",
        "cycle revert dry run, cold",
        "cycle revert dry run, warm",
    ]
    .into_iter()
    .map(|l| (l, Vec::new()))
    .collect();
    for i in 0..iters {
        let dir = tmp.path().join(format!("run-{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let full = dir.join("full.git");
        rows[0].1.push(expect(
            timed(Command::new("git").args(["clone", "-q", "--bare", &authed, path(&full)])),
            0,
        ));
        rows[1].1.push(expect(
            timed(Command::new("git").args([
                "clone",
                "-q",
                "--bare",
                "--depth",
                "1",
                "--single-branch",
                &authed,
                path(&dir.join("shallow.git")),
            ])),
            0,
        ));

        let home = dir.join("home");
        let cycle = |args: &[&str]| {
            let mut cmd = cycle_std_command(&home);
            cmd.env("GITHUB_SERVER_URL", server.url("").trim_end_matches('/'))
                .env("GITHUB_TOKEN", TOKEN)
                .env("CYCLE_CACHE_DIR", dir.join("cache"))
                .env("CYCLE_STATE_DIR", dir.join("state"))
                .env("GIT_AUTHOR_NAME", "Release Manager")
                .env("GIT_AUTHOR_EMAIL", "rm@example.org")
                .args([
                    "prepare",
                    "--site",
                    "summit",
                    "--cycle",
                    "44",
                    "--ticket",
                    "summit=OSW-2010",
                    "--only",
                    "config",
                ])
                .args(args);
            cmd
        };
        rows[2].1.push(expect(timed(&mut cycle(&["--dry-run"])), 2));
        rows[3].1.push(expect(timed(&mut cycle(&["--dry-run"])), 2));

        rows[5].1.push(expect(timed(&mut cycle(&["--yes"])), 0));
        let pushed = git(&bare, &["rev-parse", "--verify", "-q", BRANCH]);
        assert!(!pushed.is_empty(), "cycle pushed the branch");
        // The same commit pushed by plain git, from the same cached clone.
        git(
            &bare,
            &["update-ref", "-d", &format!("refs/heads/{BRANCH}")],
        );
        let cached = cached_clone(&dir.join("cache/repos"));
        rows[4].1.push(expect(
            timed(Command::new("git").args([
                "--git-dir",
                path(&cached),
                "push",
                "-q",
                &authed,
                &format!("{pushed}:refs/heads/{BRANCH}"),
            ])),
            0,
        ));
        git(
            &bare,
            &["update-ref", "-d", &format!("refs/heads/{BRANCH}")],
        );
        // The revert walks the history back to Cycle 42, from a cache of
        // its own.
        let revert = || {
            let mut cmd = cycle_std_command(&home);
            cmd.env("GITHUB_SERVER_URL", server.url("").trim_end_matches('/'))
                .env("GITHUB_TOKEN", TOKEN)
                .env("CYCLE_CACHE_DIR", dir.join("cache-revert"))
                .env("CYCLE_STATE_DIR", dir.join("state"))
                .args([
                    "revert",
                    "--site",
                    "summit",
                    "--to",
                    "42",
                    "--from",
                    "44",
                    "--ticket",
                    "summit=OSW-2011",
                    "--only",
                    "config",
                    "--dry-run",
                ]);
            cmd
        };
        rows[6].1.push(expect(timed(&mut revert()), 2));
        rows[7].1.push(expect(timed(&mut revert()), 2));
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("load after: {}", load());

    let mut table = format!(
        "\n{iters} iteration(s){}\n{:<30} {:>10} {:>12}\n",
        if bench_mode {
            ""
        } else {
            " (test mode, a tenth of the size)"
        },
        "",
        "median",
        "peak RSS"
    );
    let medians: Vec<Run> = rows.iter().map(|(_, runs)| median(runs)).collect();
    for ((label, _), m) in rows.iter().zip(&medians) {
        let _ = writeln!(
            table,
            "{label:<30} {:>7} ms {:>9} MB",
            m.wall.as_millis(),
            if m.rss_kib == 0 {
                "?".to_string()
            } else {
                format!("{:.0}", m.rss_kib as f64 / 1024.0)
            }
        );
    }
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    let _ = writeln!(
        table,
        "\napply / git push: {:.2}× (target ≤ 1.5×); cold / git clone --bare --depth 1: {:.2}×; revert cold / git clone --bare: {:.2}×; peak RSS of cycle: {:.0} MB (target < 60 MB)",
        ratio(medians[5].wall, medians[4].wall),
        ratio(medians[2].wall, medians[1].wall),
        ratio(medians[6].wall, medians[0].wall),
        medians[2..]
            .iter()
            .zip(&rows[2..])
            .filter(|(_, (label, _))| label.starts_with("cycle"))
            .map(|(m, _)| m.rss_kib)
            .max()
            .unwrap_or(0) as f64
            / 1024.0
    );
    print!("{table}");
}

/// A bare `lsst-sqre/phalanx.git` under `remotes` of `shape`: the fixture's
/// files plus generated chart files on the first commit, then one-file
/// commits to `shape.commits`, and `shape.pulls` pull refs each on a commit
/// of its own.
fn generate(remotes: &Path, shape: Shape) -> PathBuf {
    let bare = remotes.join("lsst-sqre/phalanx.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let fixture = support::fixture_files("phalanx");
    let filler = shape.files.saturating_sub(fixture.len()).max(1);
    let chart = |n: usize| format!("charts/chart{:03}/templates/file{n:04}.yaml", n % 97);
    let content = |n: usize, version: usize| {
        let mut text = format!("# generated chart file {n}, version {version}\n");
        for line in 0..40 {
            let _ = writeln!(text, "key{line}: value-{n}-{line}-{}", version % 7);
        }
        text
    };
    let mut stream = Vec::new();
    let blob = |stream: &mut Vec<u8>, path: &str, data: &str| {
        let _ = write!(stream, "M 100644 inline {path}\ndata {}\n", data.len());
        stream.extend_from_slice(data.as_bytes());
        stream.push(b'\n');
    };
    let header = |stream: &mut Vec<u8>, branch: &str, mark: usize, message: &str| {
        let _ = write!(
            stream,
            "commit {branch}\nmark :{mark}\ncommitter Bench <b@x> {} +0000\ndata {}\n{message}\n",
            1_600_000_000 + mark,
            message.len()
        );
    };
    header(&mut stream, "refs/heads/main", 1, "Import");
    for (p, c) in &fixture {
        blob(&mut stream, p, c);
    }
    for n in 0..filler {
        blob(&mut stream, &chart(n), &content(n, 0));
    }
    // The summit goes to Cycle 43 a twentieth of the history before the tip.
    let bump = shape.commits - shape.commits / 20;
    for mark in 2..=shape.commits {
        header(
            &mut stream,
            "refs/heads/main",
            mark,
            &format!("Change {mark}"),
        );
        if mark == bump {
            for (p, c) in fixture
                .iter()
                .filter(|(p, _)| p.ends_with("values-summit.yaml"))
            {
                let next = c
                    .replace("c0042", "c0043")
                    .replace("cycle: 42", "cycle: 43");
                if next != *c {
                    blob(&mut stream, p, &next);
                }
            }
        }
        let n = (mark * 7919) % filler;
        blob(&mut stream, &chart(n), &content(n, mark));
    }
    for pull in 1..=shape.pulls {
        let mark = shape.commits + pull;
        header(
            &mut stream,
            &format!("refs/pull/{pull}/head"),
            mark,
            &format!("PR {pull}"),
        );
        let _ = writeln!(stream, "from :{}", 1 + (pull * 13) % shape.commits);
        let n = (pull * 104_729) % filler;
        blob(&mut stream, &chart(n), &content(n, mark));
    }
    let mut child = Command::new("git")
        .args(["--git-dir", path(&bare), "fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&stream)
        .expect("the fast-import stream");
    assert!(child.wait().unwrap().success(), "git fast-import failed");
    git(&bare, &["repack", "-a", "-d", "-q"]);
    git(&bare, &["pack-refs", "--all"]);
    bare
}

/// The one cached clone in `cache`.
fn cached_clone(cache: &Path) -> PathBuf {
    std::fs::read_dir(cache)
        .expect("the cache")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "git"))
        .expect("a cached clone")
}

/// Runs `cmd` under `/usr/bin/time -f %M` when that exists (peak RSS in
/// KiB on stderr's last line), timing it.
fn timed(cmd: &mut Command) -> (Run, Output) {
    let time = Path::new("/usr/bin/time");
    let mut wrapped;
    let cmd = if time.exists() {
        wrapped = Command::new(time);
        wrapped
            .args(["-f", "%M"])
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => wrapped.env(k, v),
                None => wrapped.env_remove(k),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        &mut wrapped
    } else {
        cmd
    };
    let start = Instant::now();
    let out = cmd.output().expect("running a measured command");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss_kib = if time.exists() {
        stderr
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0)
    } else {
        0
    };
    (Run { wall, rss_kib }, out)
}

/// The run, once its exit code is `code`.
fn expect((run, out): (Run, Output), code: i32) -> Run {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    run
}

fn median(runs: &[Run]) -> Run {
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    let mut rss: Vec<u64> = runs.iter().map(|r| r.rss_kib).collect();
    walls.sort();
    rss.sort();
    Run {
        wall: walls.get(walls.len() / 2).copied().unwrap_or_default(),
        rss_kib: rss.get(rss.len() / 2).copied().unwrap_or_default(),
    }
}

fn git(git_dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["--git-dir", path(git_dir)])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success() || args.contains(&"--verify"),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn pack_mib(bare: &Path) -> String {
    let bytes: u64 = std::fs::read_dir(bare.join("objects/pack"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}
