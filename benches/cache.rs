//! Benchmark: the repository cache clones once, then fetches.
//!
//! Measures [`RepoCache::sync`] against a local `file://` bare remote holding
//! the realistic `tests/fixtures/phalanx` config repository plus 200 extra
//! commits, in three situations:
//!
//! * **clone (cold cache)**: a fresh cache directory, so `sync` clones
//!   (asserted to report [`SyncKind::Cloned`]);
//! * **fetch (warm, no change)**: `sync` again on the same cache, nothing new
//!   on the remote (asserted [`SyncKind::Fetched`]);
//! * **fetch (warm, 1 new commit)**: one commit pushed to the remote first,
//!   then `sync` (asserted `Fetched`, and that the new commit arrived).
//!
//! It prints min/median/max for each and the cold/warm ratios. The remote is
//! local, so the figures show the cost of the git work itself (object
//! transfer, indexing, ref updates), not network latency, which only widens
//! the gap on a real remote.
//!
//! Run it with `cargo bench --bench cache` (release profile, 10 iterations;
//! set `CYCLE_BENCH_ITERS` to change). Built as a test (`cargo test
//! --benches`/`--all-targets`), it runs a single iteration as a smoke test.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cycle::services::git::{Credentials, RepoCache, SyncKind};

/// Extra commits on top of the fixture import, to make the history non-trivial.
const EXTRA_COMMITS: usize = 200;
/// The file the extra commits touch (a realistic one from the fixture).
const TOUCHED: &str = "environments/values-summit.yaml";
const DEFAULT_ITERS: usize = 10;

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

    let tmp = tempfile::tempdir().expect("creating temporary directory");
    let setup = Instant::now();
    let remote = Remote::create(tmp.path());
    let url = format!("file://{}", remote.bare.display());
    let creds = Credentials::none();
    println!(
        "remote: {} commits, {} files, {} KiB packed (set up in {:.1} s)",
        remote.git(&["rev-list", "--count", "HEAD"]),
        remote.git(&["ls-files"]).lines().count(),
        remote.packed_kib(),
        setup.elapsed().as_secs_f64(),
    );

    // Untimed warm-up: page cache, libgit2 initialisation.
    if bench_mode {
        let cache = RepoCache::new(tmp.path().join("cache-warmup"));
        cache.sync(&url, &creds).expect("warm-up sync");
    }

    let mut cold = Vec::with_capacity(iters);
    let mut warm = Vec::with_capacity(iters);
    let mut warm_new = Vec::with_capacity(iters);
    for i in 0..iters {
        let cache = RepoCache::new(tmp.path().join(format!("cache-{i}")));

        let start = Instant::now();
        let (_, kind) = cache.sync(&url, &creds).expect("cold sync");
        cold.push(start.elapsed());
        assert_eq!(kind, SyncKind::Cloned, "first sync must clone");

        let start = Instant::now();
        let (_, kind) = cache.sync(&url, &creds).expect("warm sync");
        warm.push(start.elapsed());
        assert_eq!(kind, SyncKind::Fetched, "second sync must fetch");

        let head = remote.commit_and_push(i);
        let start = Instant::now();
        let (repo, kind) = cache.sync(&url, &creds).expect("warm sync after push");
        warm_new.push(start.elapsed());
        assert_eq!(kind, SyncKind::Fetched, "third sync must fetch");
        let fetched = repo
            .remote_branch("main")
            .expect("reading origin/main")
            .expect("origin/main exists");
        assert_eq!(fetched.to_string(), head, "the new commit was fetched");

        // Keep the disk usage flat across iterations.
        drop(repo);
        let _ = fs::remove_dir_all(cache.root());
    }

    let cold = Stats::of(&mut cold);
    let warm = Stats::of(&mut warm);
    let warm_new = Stats::of(&mut warm_new);
    println!(
        "\n{iters} iteration(s){}\n",
        if bench_mode { "" } else { " (test mode)" }
    );
    println!("{:<28} {:>9} {:>9} {:>9}", "", "min", "median", "max");
    for (label, s) in [
        ("clone (cold cache)", &cold),
        ("fetch (warm, no change)", &warm),
        ("fetch (warm, 1 new commit)", &warm_new),
    ] {
        println!(
            "{label:<28} {:>9} {:>9} {:>9}",
            ms(s.min),
            ms(s.median),
            ms(s.max)
        );
    }
    println!(
        "\ncold/warm median ratio: {:.1}x (no change), {:.1}x (1 new commit)",
        ratio(cold.median, warm.median),
        ratio(cold.median, warm_new.median),
    );
}

/// A bare remote and a work clone that pushes to it, driven by the `git` CLI.
struct Remote {
    bare: PathBuf,
    work: PathBuf,
}

impl Remote {
    /// Bare remote with the phalanx fixture as the first commit, then
    /// [`EXTRA_COMMITS`] commits each rewriting [`TOUCHED`], all pushed.
    fn create(dir: &Path) -> Self {
        let remote = Remote {
            bare: dir.join("phalanx.git"),
            work: dir.join("work"),
        };
        run_git(dir, &["init", "-q", "--bare", "-b", "main", "phalanx.git"]);
        run_git(dir, &["init", "-q", "-b", "main", "work"]);
        let bare = remote.bare.to_str().expect("UTF-8 temporary path");
        remote.git(&["remote", "add", "origin", bare]);

        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/phalanx");
        copy_dir(&fixture, &remote.work);
        remote.git(&["add", "-A"]);
        remote.git(&["commit", "-q", "-m", "Import phalanx fixture"]);

        // The extra commits go through fast-import: a loop of `git commit`
        // would dominate the setup time.
        let base = fs::read_to_string(remote.work.join(TOUCHED)).expect("reading fixture file");
        let mut stream = String::new();
        for n in 1..=EXTRA_COMMITS {
            let message = format!("Bump summit revision to {n}\n");
            let content = format!("{base}# revision {n}\n");
            stream.push_str("commit refs/heads/main\n");
            stream.push_str(&format!("committer b <b@x> {} +0000\n", 1_700_000_000 + n));
            stream.push_str(&format!("data {}\n{message}", message.len()));
            if n == 1 {
                stream.push_str("from refs/heads/main^0\n");
            }
            stream.push_str(&format!(
                "M 100644 inline {TOUCHED}\ndata {}\n{content}\n",
                content.len()
            ));
        }
        let mut child = git_command(&remote.work)
            .args(["fast-import", "--quiet"])
            .stdin(Stdio::piped())
            .spawn()
            .expect("running git fast-import");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("fast-import stdin");
            stdin
                .write_all(stream.as_bytes())
                .expect("writing fast-import stream");
        }
        assert!(
            child.wait().expect("waiting for fast-import").success(),
            "git fast-import failed"
        );
        remote.git(&["reset", "-q", "--hard", "main"]);
        remote.git(&["push", "-q", "origin", "main"]);
        remote
    }

    /// Pushes one new commit touching [`TOUCHED`]; returns its id.
    fn commit_and_push(&self, i: usize) -> String {
        let path = self.work.join(TOUCHED);
        let mut content = fs::read_to_string(&path).expect("reading touched file");
        content.push_str(&format!("# bench iteration {i}\n"));
        fs::write(&path, content).expect("writing touched file");
        self.git(&["commit", "-q", "-am", &format!("Bench iteration {i}")]);
        self.git(&["push", "-q", "origin", "main"]);
        self.git(&["rev-parse", "HEAD"])
    }

    /// Size of the remote's objects (packed and loose), as `git count-objects` reports.
    fn packed_kib(&self) -> u64 {
        run_git(&self.bare, &["count-objects", "-v"])
            .lines()
            .filter_map(|l| l.strip_prefix("size: ").or(l.strip_prefix("size-pack: ")))
            .filter_map(|v| v.parse::<u64>().ok())
            .sum()
    }

    fn git(&self, args: &[&str]) -> String {
        run_git(&self.work, args)
    }
}

/// `git` isolated from the user's and system configuration.
fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=b", "-c", "user.email=b@x"]);
    cmd
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("running git");
    assert!(
        out.status.success(),
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 git output")
        .trim()
        .to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("creating directory");
    for entry in fs::read_dir(from).expect("reading fixture directory") {
        let entry = entry.expect("reading fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("fixture file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copying fixture file");
        }
    }
}

struct Stats {
    min: Duration,
    median: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Self {
        samples.sort();
        let n = samples.len();
        let median = if n % 2 == 1 {
            samples[n / 2]
        } else {
            (samples[n / 2 - 1] + samples[n / 2]) / 2
        };
        Stats {
            min: samples[0],
            median,
            max: samples[n - 1],
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
