//! `cycle config` end to end: the shipped summit site against bare remotes
//! seeded with realistic phalanx and docker-compose-ops files, then against
//! an authenticating smart-HTTP remote on 127.0.0.1.

mod support;

use std::path::{Path, PathBuf};

use support::git_http::GitHttpServer;
use support::run::{DirArg, TestDirs, cycle_command};
use support::words;
use support::{
    Seed, commit_to_remote, create_bare_remote, file, fixture_files, git_dir, read_repo_file,
};

const TOKEN: &str = "ghp_ConfigBranchTestToken_42";

fn seeds(files: &[(String, String)]) -> Vec<Seed<'_>> {
    files.iter().map(|(p, c)| file(p, c)).collect()
}

/// Remotes laid out as `$GITHUB_SERVER_URL/owner/name.git`.
struct World {
    dirs: TestDirs,
}

impl World {
    /// Remotes seeded with the April 2026 phalanx files (`tests/fixtures/phalanx`).
    fn new() -> Self {
        Self::with_phalanx("phalanx")
    }

    /// Remotes whose phalanx `main` holds the files of fixture directory `dir`.
    fn with_phalanx(dir: &str) -> Self {
        let world = Self {
            dirs: TestDirs::new(),
        };
        let remotes = world.dirs.remotes();
        std::fs::create_dir_all(remotes.join("lsst-sqre")).unwrap();
        std::fs::create_dir_all(remotes.join("lsst-ts")).unwrap();
        let phalanx = fixture_files(dir);
        create_bare_remote(&remotes, "lsst-sqre/phalanx.git", &seeds(&phalanx));
        let ops = fixture_files("docker-compose-ops");
        let bare = create_bare_remote(&remotes, "lsst-ts/docker-compose-ops.git", &seeds(&ops));
        // docker-compose-ops has one long-lived branch, `main`.
        assert_eq!(git_dir(&bare, &["branch", "--show-current"]), "main");
        // The shipped summit with its documented optional docker-compose-ops
        // repository enabled (uncommented), so both kinds of edits are covered.
        let shipped = read_repo_file("sites/summit.yaml");
        let mut enabled = String::new();
        let mut in_block = false;
        for line in shipped.lines() {
            if line.starts_with("  # - repo: lsst-ts/docker-compose-ops") {
                in_block = true;
            }
            if in_block && !line.starts_with("  #") {
                in_block = false;
            }
            let line = if in_block {
                line.replacen("  # ", "  ", 1)
            } else {
                line.to_string()
            };
            enabled.push_str(&line);
            enabled.push('\n');
        }
        assert!(enabled.contains("\n  - repo: lsst-ts/docker-compose-ops\n    base: main\n"));
        world.dirs.copy_shipped_sites(&["bts.yaml", "tts.yaml"]);
        std::fs::write(world.dirs.sites().join("summit.yaml"), enabled).unwrap();
        world
    }

    fn phalanx(&self) -> PathBuf {
        self.dirs.remotes().join("lsst-sqre/phalanx.git")
    }

    fn ops(&self) -> PathBuf {
        self.dirs.remotes().join("lsst-ts/docker-compose-ops.git")
    }

    fn cycle(&self, server: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cycle_with_token(server, TOKEN, args)
    }

    fn cycle_with_token(
        &self,
        server: &str,
        token: &str,
        args: &[&str],
    ) -> assert_cmd::assert::Assert {
        cycle_command(&self.dirs, &[DirArg::Cache, DirArg::Sites])
            .env("GITHUB_SERVER_URL", server)
            .env("GITHUB_TOKEN", token)
            .env("GIT_AUTHOR_NAME", "Release Manager")
            .env("GIT_AUTHOR_EMAIL", "rm@example.org")
            .args(args)
            .assert()
    }

    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        self.cycle(&self.dirs.remotes_url(), args)
    }
}

const SUMMIT: [&str; 9] = [
    "config", "--site", "summit", "--cycle", "44", "--ticket", "OSW-2010", "--yes", "-q",
];

fn rev(bare: &Path, refname: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "--git-dir",
            bare.to_str().unwrap(),
            "rev-parse",
            "--verify",
            "-q",
            refname,
        ])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// `(file, removed lines, added lines)` of `git diff -U0 a..b`.
/// Lines of a diff as `(file, line)`.
type Lines = Vec<(String, String)>;

/// The removed and added lines of a unified diff, as `(file, line)`.
fn changed_lines(diff: &str) -> (Lines, Lines) {
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let mut current = String::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ b/") {
            current = path.to_string();
        } else if line.starts_with("+++") || line.starts_with("---") {
        } else if let Some(l) = line.strip_prefix('-') {
            removed.push((current.clone(), l.to_string()));
        } else if let Some(l) = line.strip_prefix('+') {
            added.push((current.clone(), l.to_string()));
        }
    }
    (removed, added)
}

fn diff_lines(bare: &Path, a: &str, b: &str) -> (Lines, Lines) {
    let diff = git_dir(bare, &["diff", "-U0", &format!("{a}..{b}")]);
    changed_lines(&diff)
}

/// What a careful person changes for the summit's Cycle 44 bump, found by
/// reading the fixture lines (not by the code under test): the tag, the two
/// nublado keys and every non-zero, non-alias `revision:`.
fn expected_summit_changes() -> (Lines, Lines) {
    let mut removed = vec![
        (
            "environments/values-summit.yaml".to_string(),
            "  imageTag: \"c0042\"".to_string(),
        ),
        (
            "applications/nublado/values-summit.yaml".to_string(),
            "      cycle: 42".to_string(),
        ),
        (
            "applications/nublado/values-summit.yaml".to_string(),
            "      recommendedTag: \"recommended_c0042\"".to_string(),
        ),
    ];
    let mut added = vec![
        (
            "environments/values-summit.yaml".to_string(),
            "  imageTag: \"c0044\"".to_string(),
        ),
        (
            "applications/nublado/values-summit.yaml".to_string(),
            "      cycle: 44".to_string(),
        ),
        (
            "applications/nublado/values-summit.yaml".to_string(),
            "      recommendedTag: \"recommended_c0044\"".to_string(),
        ),
    ];
    for (path, content) in fixture_files("phalanx") {
        if !(path.starts_with("applications/") && path.ends_with("/values-summit.yaml")) {
            continue;
        }
        for line in content.lines() {
            let Some((indent, value)) = line.split_once("revision: ") else {
                continue;
            };
            if !indent.trim().is_empty() {
                continue;
            }
            let mut v = value.trim_start();
            let mut prefix = String::new();
            if v.starts_with('&') {
                let (anchor, rest) = v.split_once(' ').unwrap();
                prefix = format!("{anchor} ");
                v = rest;
            }
            let quote = v.chars().next().filter(|c| *c == '"' || *c == '\'');
            let digits: String = v
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.is_empty() || digits.chars().all(|c| c == '0') {
                continue;
            }
            let tail = &v[quote.map_or(0, |_| 1) + digits.len()..];
            let new = match quote {
                Some(q) => format!("{indent}revision: {prefix}{q}0{tail}"),
                None => format!("{indent}revision: {prefix}0{tail}"),
            };
            removed.push((path.clone(), line.to_string()));
            added.push((path.clone(), new));
        }
    }
    removed.sort();
    added.sort();
    (removed, added)
}

#[test]
fn summit_bump_is_exactly_what_a_careful_person_commits() {
    let world = World::new();
    world.run(&SUMMIT).success();

    let head = rev(&world.phalanx(), "refs/heads/tickets/OSW-2010").expect("branch pushed");
    let (mut removed, mut added) = diff_lines(&world.phalanx(), "main", "tickets/OSW-2010");
    removed.sort();
    added.sort();
    let (want_removed, want_added) = expected_summit_changes();
    assert!(want_removed.len() > 50, "fixtures have many revisions");
    assert_eq!(removed, want_removed);
    assert_eq!(added, want_added);

    // One commit on main, with the conventional message and the author from the environment.
    let log = git_dir(
        &world.phalanx(),
        &["log", "--format=%an <%ae>|%s", "main..tickets/OSW-2010"],
    );
    assert_eq!(
        log.trim(),
        "Release Manager <rm@example.org>|Summit: Update to Cycle 44."
    );
    assert_eq!(
        git_dir(&world.phalanx(), &["rev-parse", "tickets/OSW-2010~1"]),
        git_dir(&world.phalanx(), &["rev-parse", "main"])
    );
    assert!(!head.is_empty());

    // docker-compose-ops: one line, `export` and the comment kept.
    let (removed, added) = diff_lines(&world.ops(), "main", "tickets/OSW-2010");
    assert_eq!(
        removed,
        vec![(
            "summit/setup.env".to_string(),
            "export CYCLE=c0041".to_string()
        )]
    );
    assert_eq!(
        added,
        vec![(
            "summit/setup.env".to_string(),
            "export CYCLE=c0044".to_string()
        )]
    );
}

#[test]
fn author_and_committer_flags_win_over_the_environment() {
    let world = World::new();
    let mut args = SUMMIT.to_vec();
    args.extend([
        "--author",
        "Ann Author <ann@example.org>",
        "--committer",
        "Cy Committer <cy@example.org>",
    ]);
    world.run(&args).success();
    let log = git_dir(
        &world.phalanx(),
        &[
            "log",
            "-1",
            "--format=%an <%ae>|%cn <%ce>",
            "tickets/OSW-2010",
        ],
    );
    assert_eq!(
        log.trim(),
        "Ann Author <ann@example.org>|Cy Committer <cy@example.org>"
    );

    let world = World::new();
    let mut args = SUMMIT.to_vec();
    args.extend(["--author", "no email"]);
    let out = world.run(&args).failure().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("--author \"no email\": write it as \"Name <email>\""),
        "{stderr}"
    );
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);
}

#[test]
fn rerun_makes_no_second_commit() {
    let world = World::new();
    world.run(&SUMMIT).success();
    let first = rev(&world.phalanx(), "refs/heads/tickets/OSW-2010").unwrap();
    let out = world.run(&SUMMIT[..8]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("tickets/OSW-2010 already has every edit"),
        "{stdout}"
    );
    assert_eq!(
        rev(&world.phalanx(), "refs/heads/tickets/OSW-2010").unwrap(),
        first
    );
}

#[test]
fn partial_edits_on_the_branch_commit_only_the_rest() {
    let world = World::new();
    let env_file = fixture_files("phalanx")
        .into_iter()
        .find(|(p, _)| p == "environments/values-summit.yaml")
        .unwrap()
        .1
        .replace("\"c0042\"", "\"c0044\"");
    let human = commit_to_remote(
        &world.phalanx(),
        "tickets/OSW-2010",
        &[file("environments/values-summit.yaml", &env_file)],
        "Summit: bump tag by hand",
    );
    world.run(&SUMMIT).success();
    let parent = git_dir(&world.phalanx(), &["rev-parse", "tickets/OSW-2010~1"]);
    assert_eq!(parent.trim(), human.trim());
    let (removed, _) = diff_lines(&world.phalanx(), "tickets/OSW-2010~1", "tickets/OSW-2010");
    assert!(
        removed
            .iter()
            .all(|(f, _)| f != "environments/values-summit.yaml")
    );
    let (want, _) = expected_summit_changes();
    assert_eq!(removed.len(), want.len() - 1);
}

/// Makes pushes to `bare` fail with a hook (run by `git http-backend`; the
/// local transport runs none), as a crash after the commit would leave things.
fn refuse_pushes(bare: &Path) -> PathBuf {
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'refused for the test' >&2\nexit 1\n",
    )
    .unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    hook
}

#[test]
fn crash_between_commit_and_push_is_finished_by_the_rerun() {
    let (world, server) = http_world();
    let url = server.url("");
    let url = url.trim_end_matches('/');
    let hook = refuse_pushes(&world.phalanx());
    world.cycle(url, &SUMMIT).failure().code(1);
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);

    std::fs::remove_file(hook).unwrap();
    let out = world.cycle(url, &SUMMIT[..8]).success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    // phalanx: only the push of the commit left behind; docker-compose-ops,
    // an independent step, was finished by the first run.
    let (phalanx, ops) = stdout.split_once("   2. ").unwrap();
    assert!(phalanx.contains("+ push tickets/OSW-2010"), "{stdout}");
    assert!(!phalanx.contains("+ commit"), "no new commit: {stdout}");
    assert!(ops.contains("already has every edit"), "{stdout}");
    let count = git_dir(
        &world.phalanx(),
        &["rev-list", "--count", "main..tickets/OSW-2010"],
    );
    assert_eq!(count.trim(), "1");
}

#[test]
fn diverged_remote_branch_stops_without_pushing() {
    let (world, server) = http_world();
    let url = server.url("");
    let url = url.trim_end_matches('/');
    let hook = refuse_pushes(&world.phalanx());
    world.cycle(url, &SUMMIT).failure();
    std::fs::remove_file(hook).unwrap();
    let theirs = commit_to_remote(
        &world.phalanx(),
        "tickets/OSW-2010",
        &[file("README.md", "someone else's work\n")],
        "Someone else",
    );
    let out = world.cycle(url, &SUMMIT).failure().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("diverged"), "{stderr}");
    assert!(stderr.contains("never force-pushes"), "{stderr}");
    assert_eq!(
        rev(&world.phalanx(), "refs/heads/tickets/OSW-2010").unwrap(),
        theirs.trim()
    );
}

#[test]
fn nothing_to_change_makes_no_branch() {
    let world = World::new();
    world.run(&SUMMIT).success();
    // Merge the branches, as the PR would.
    for (bare, base) in [(world.phalanx(), "main"), (world.ops(), "main")] {
        git_dir(
            &bare,
            &[
                "update-ref",
                &format!("refs/heads/{base}"),
                "refs/heads/tickets/OSW-2010",
            ],
        );
    }
    let out = world
        .run(&[
            "config", "--site", "summit", "--cycle", "44", "--ticket", "OSW-2011", "--yes",
        ])
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("main already has every edit; no branch needed"),
        "{stdout}"
    );
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2011"), None);
    assert_eq!(rev(&world.ops(), "refs/heads/tickets/OSW-2011"), None);
}

#[test]
fn dry_run_prints_the_real_diff_and_pushes_nothing() {
    let world = World::new();
    let out = world
        .run(&words(
            "config --site summit --cycle 44 --ticket OSW-2010 --dry-run",
        ))
        .code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("--- a/environments/values-summit.yaml"),
        "{stdout}"
    );
    assert!(stdout.contains("-  imageTag: \"c0042\""), "{stdout}");
    assert!(stdout.contains("+  imageTag: \"c0044\""), "{stdout}");
    assert!(stdout.contains("+export CYCLE=c0044"), "{stdout}");
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);

    // prepare --dry-run shows the same diff from the cache, offline.
    let out = world
        .run(&words(
            "prepare --site summit --cycle 44 --ticket OSW-2010 --dry-run --offline",
        ))
        .code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(stdout.contains("+      cycle: 44"), "{stdout}");
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);
}

#[test]
fn offline_without_a_cache_says_so() {
    let world = World::new();
    let out = world
        .run(&words(
            "config --site summit --cycle 44 --ticket OSW-2010 --offline",
        ))
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("offline; no cached clone"), "{stderr}");
    assert!(
        !world.dirs.cache().join("repos").exists()
            || std::fs::read_dir(world.dirs.cache().join("repos"))
                .unwrap()
                .next()
                .is_none()
    );
}

/// A sites directory with one site whose phalanx edit is `edit` (YAML).
fn site_with_edit(dir: &Path, edit: &str) -> PathBuf {
    // The world's summit (docker-compose-ops enabled), phalanx edits replaced.
    let summit = std::fs::read_to_string(dir.join("sites/summit.yaml")).unwrap();
    let start = summit.find("    edits:\n").unwrap() + "    edits:\n".len();
    let end = summit.find("  - repo: lsst-ts/docker-compose-ops").unwrap();
    let text = format!("{}{edit}{}", &summit[..start], &summit[end..]);
    let sites = dir.join("sites");
    std::fs::create_dir_all(&sites).unwrap();
    std::fs::write(sites.join("summit.yaml"), text).unwrap();
    sites
}

#[test]
fn bad_edits_name_repository_file_and_path_and_push_nothing() {
    let cases = [
        (
            "      - kind: set\n        file: environments/values-summit.yaml\n        path: controlSystem.nope\n        value: x\n",
            vec![
                "lsst-sqre/phalanx",
                "environments/values-summit.yaml",
                "controlSystem.nope",
            ],
        ),
        (
            "      - kind: reset\n        file: apps/*/values-summit.yaml\n        key: revision\n        value: \"0\"\n",
            vec![
                "lsst-sqre/phalanx",
                "apps/*/values-summit.yaml",
                "matches no file",
            ],
        ),
        (
            "      - kind: set\n        file: environments/missing.yaml\n        path: a.b\n        value: x\n",
            vec![
                "lsst-sqre/phalanx",
                "environments/missing.yaml",
                "no such file",
            ],
        ),
        (
            "      - kind: set\n        file: broken.yaml\n        path: a.b\n        value: x\n",
            vec!["lsst-sqre/phalanx", "broken.yaml", "line"],
        ),
    ];
    for (edit, wants) in cases {
        let world = World::new();
        commit_to_remote(
            &world.phalanx(),
            "main",
            &[file("broken.yaml", "a: [b\nc: d\n")],
            "broken",
        );
        site_with_edit(world.dirs.path(), edit);
        let out = world.run(&SUMMIT).failure().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        for want in wants {
            assert!(stderr.contains(want), "{want:?} missing from {stderr}");
        }
        assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");
        assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);
        assert_eq!(
            rev(&world.ops(), "refs/heads/tickets/OSW-2010"),
            None,
            "nothing pushed anywhere"
        );
    }
}

/// Serves the remotes over smart HTTP with Basic auth.
fn http_world() -> (World, GitHttpServer) {
    let world = World::new();
    let server = GitHttpServer::start(&world.dirs.remotes(), "x-access-token", TOKEN);
    (world, server)
}

fn assert_secret_absent(haystacks: &[&str], cache: &Path) {
    support::assert_no_secret(&[TOKEN], haystacks, &[cache]);
}

#[test]
fn pushes_through_an_authenticating_http_remote_with_the_token() {
    let (world, server) = http_world();
    let url = server.url("");
    let out = world
        .cycle(url.trim_end_matches('/'), &SUMMIT[..8])
        .success();
    assert!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010").is_some());
    assert!(rev(&world.ops(), "refs/heads/tickets/OSW-2010").is_some());
    assert!(server.requests().iter().any(|r| r.had_auth()));
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("summit:config:lsst-sqre/phalanx: ✓ created tickets/OSW-2010 @"),
        "{stderr}"
    );
    assert_secret_absent(&[&stdout, &stderr], &world.dirs.cache());
}

#[test]
fn a_wrong_token_fails_once_with_a_clear_error() {
    let (world, server) = http_world();
    let url = server.url("");
    let out = world
        .cycle_with_token(url.trim_end_matches('/'), "ghp_wrong_token_123", &SUMMIT)
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("the token in GITHUB_TOKEN was rejected"),
        "{stderr}"
    );
    assert!(!stderr.contains("ghp_wrong_token_123"));
    // Both repositories are observed concurrently: at most 3 each.
    assert!(server.count_status(401) <= 6, "no auth loop");
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2010"), None);
}

// ---------------------------------------------------------------------------
// Today's phalanx (August 2026): repeated merge keys, every site
// ---------------------------------------------------------------------------

/// The keys a cycle bump may change.
const CYCLE_KEYS: [&str; 4] = ["imageTag", "cycle", "recommendedTag", "revision"];

/// `(key, value)` of a `key: value` line, the value without a trailing comment.
fn key_value(line: &str) -> (&str, &str) {
    let (key, value) = line.trim_start().split_once(':').unwrap();
    let value = value.trim_start();
    let value = value.split(" #").next().unwrap().trim_end();
    (key, value)
}

#[test]
fn cycle_45_bump_on_todays_phalanx_for_every_site() {
    for (site, env) in [
        ("summit", "summit"),
        ("bts", "base"),
        ("tts", "tucson-teststand"),
    ] {
        let world = World::with_phalanx("phalanx-2026-08");
        world
            .run(&[
                "config",
                "--site",
                site,
                "--cycle",
                "45",
                "--ticket",
                "OSW-3000",
                "--repo",
                "lsst-sqre/phalanx",
                "--yes",
                "-q",
            ])
            .success();
        let (removed, added) = diff_lines(&world.phalanx(), "main", "tickets/OSW-3000");
        assert_eq!(
            removed.len(),
            added.len(),
            "{site}: one new line per old line"
        );
        assert!(
            added
                .iter()
                .any(|(f, l)| f == &format!("environments/values-{env}.yaml")
                    && l.contains("imageTag: \"c0045\"")),
            "{site}: tag bumped: {added:?}"
        );
        // Every changed line is a value change of a cycle key, in the file's style.
        for ((file_old, old), (file_new, new)) in removed.iter().zip(&added) {
            assert_eq!(file_old, file_new);
            let indent = |l: &str| l.len() - l.trim_start().len();
            assert_eq!(indent(old), indent(new), "{file_new}: {old} → {new}");
            let ((k_old, v_old), (k_new, v_new)) = (key_value(old), key_value(new));
            assert_eq!(k_old, k_new, "{file_new}: {old} → {new}");
            assert!(CYCLE_KEYS.contains(&k_new), "{file_new}: {new}");
            let quote = |v: &str| v.chars().next().filter(|c| matches!(c, '"' | '\''));
            assert_eq!(quote(v_old), quote(v_new), "{file_new}: {old} → {new}");
            assert_eq!(
                old.split(" #").nth(1),
                new.split(" #").nth(1),
                "comment kept"
            );
            let want = match k_new {
                "imageTag" => "\"c0045\"",
                "cycle" => "45",
                "recommendedTag" => "\"recommended_c0045\"",
                _ => "0",
            };
            assert_eq!(v_new.replace('\'', "\""), want.replace('\'', "\""), "{new}");
        }
        // No non-zero revision is left in the site's application files.
        let files = git_dir(
            &world.phalanx(),
            &["ls-tree", "-r", "--name-only", "tickets/OSW-3000"],
        );
        for path in files.lines().filter(|p| {
            p.starts_with("applications/") && p.ends_with(&format!("/values-{env}.yaml"))
        }) {
            let text = git_dir(
                &world.phalanx(),
                &["show", &format!("tickets/OSW-3000:{path}")],
            );
            for line in text
                .lines()
                .filter(|l| l.trim_start().starts_with("revision:"))
            {
                let (_, value) = key_value(line);
                let value = value.trim_start_matches('&').rsplit(' ').next().unwrap();
                assert!(
                    value.starts_with('*') || value.trim_matches(['"', '\'']) == "0",
                    "{site}: {path}: {line}"
                );
            }
        }
        if site == "summit" {
            // The file with two merge keys per component was edited too.
            assert!(
                added
                    .iter()
                    .any(|(f, _)| f == "applications/simonyitel/values-summit.yaml"),
                "{added:?}"
            );
        }
    }
}

#[test]
fn bts_cycle_45_bump_equals_the_real_commit_on_its_tree() {
    // The tree the real BTS bump (OSW-2735) started from already had two
    // merge keys per component in applications/simonyitel/values-base.yaml.
    let world = World::with_phalanx("phalanx-2026-07-27-base");
    world
        .run(&words(
            "config --site bts --cycle 45 --ticket OSW-2735 --repo lsst-sqre/phalanx --yes -q",
        ))
        .success();
    let (mut removed, mut added) = diff_lines(&world.phalanx(), "main", "tickets/OSW-2735");
    removed.sort();
    added.sort();
    let (want_removed, want_added) = patch_lines("00e175859");
    assert_eq!(removed, want_removed);
    assert_eq!(added, want_added);
    let log = git_dir(
        &world.phalanx(),
        &["log", "--format=%s", "main..tickets/OSW-2735"],
    );
    assert_eq!(log.trim(), "BTS: Update to Cycle 45.");
}

#[test]
fn an_unparsable_file_of_the_site_stops_it_with_one_located_error() {
    let world = World::with_phalanx("phalanx-2026-08");
    let text = fixture_files("phalanx-2026-08")
        .into_iter()
        .find(|(p, _)| p == "applications/simonyitel/values-summit.yaml")
        .unwrap()
        .1;
    // A real duplicate key (not a merge key) is refused, as before.
    let broken = text.replacen(
        "ccoods:\n",
        "ccoods:\n  enabled: true\n  enabled: false\n",
        1,
    );
    assert_ne!(broken, text);
    commit_to_remote(
        &world.phalanx(),
        "main",
        &[file("applications/simonyitel/values-summit.yaml", &broken)],
        "duplicate key",
    );
    let out = world
        .run(&[
            "config", "--site", "summit", "--cycle", "45", "--ticket", "OSW-3000", "--yes", "-q",
        ])
        .failure()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for want in [
        "lsst-sqre/phalanx",
        "applications/simonyitel/values-summit.yaml",
        "line ",
        "duplicate entry with key \"enabled\"",
    ] {
        assert!(stderr.contains(want), "{want:?} missing from {stderr}");
    }
    assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-3000"), None);
    assert_eq!(rev(&world.ops(), "refs/heads/tickets/OSW-3000"), None);
}

// ---------------------------------------------------------------------------
// Revision builds against the real summit revision commits of July 2026
// ---------------------------------------------------------------------------

/// A releases directory with Cycle 44 revision `revision` restarting
/// `components`, from the shipped `releases/c0044.003.yaml`.
fn releases_with(dir: &Path, revision: u32, components: &[&str]) -> PathBuf {
    let text = read_repo_file("releases/c0044.003.yaml");
    let (head, _) = text.split_once("restarted_components:\n").unwrap();
    let list: String = components
        .iter()
        .map(|c| format!("  - \"{c}\"\n"))
        .collect();
    let text = format!("{head}restarted_components:\n{list}\nnew_cscs: []\n")
        .replace("revision: 3\n", &format!("revision: {revision}\n"));
    let releases = dir.join("releases");
    std::fs::create_dir_all(&releases).unwrap();
    std::fs::write(releases.join(format!("c0044.{revision:03}.yaml")), text).unwrap();
    releases
}

/// Removed and added lines of a real commit's patch, as `(file, line)`.
fn patch_lines(commit: &str) -> (Lines, Lines) {
    let (_, patch) = fixture_files("phalanx-commits")
        .into_iter()
        .find(|(p, _)| p == &format!("{commit}.patch"))
        .unwrap();
    let (mut removed, mut added) = changed_lines(&patch);
    removed.sort();
    added.sort();
    (removed, added)
}

fn revision_args<'a>(releases: &'a Path, revision: &'a str) -> Vec<&'a str> {
    vec![
        "--releases-dir",
        releases.to_str().unwrap(),
        "config",
        "--site",
        "summit",
        "--cycle",
        "44",
        "--revision",
        revision,
        "--ticket",
        "OSW-2645",
        "--yes",
        "-q",
    ]
}

#[test]
fn revision_builds_change_what_the_real_commits_changed() {
    let cases: [(&str, &str, u32, &[&str], &str); 3] = [
        (
            "phalanx-2026-07-01",
            "7fedc121f",
            7,
            &["love-manager"],
            "Summit: Update love-manager to Cycle 44 Revision 7.",
        ),
        (
            "phalanx-2026-07-01",
            "12246c901",
            8,
            &["MTScheduler", "ATScheduler", "OCSScheduler"],
            "Summit: Update MTScheduler, ATScheduler and OCSScheduler to Cycle 44 Revision 8.",
        ),
        (
            "phalanx-2026-07-03",
            "bc1fac57f",
            6,
            &["*-ess*"],
            "Summit: Update *-ess* to Cycle 44 Revision 6.",
        ),
    ];
    for (tree, commit, revision, components, message) in cases {
        let world = World::with_phalanx(tree);
        let releases = releases_with(world.dirs.path(), revision, components);
        let r = revision.to_string();
        let args = revision_args(&releases, &r);
        world.run(&args).success();

        let (mut removed, mut added) = diff_lines(&world.phalanx(), "main", "tickets/OSW-2645");
        removed.sort();
        added.sort();
        let (want_removed, want_added) = patch_lines(commit);
        assert!(!want_removed.is_empty());
        assert_eq!(removed, want_removed, "{commit}");
        assert_eq!(added, want_added, "{commit}");
        let log = git_dir(
            &world.phalanx(),
            &["log", "--format=%s", "main..tickets/OSW-2645"],
        );
        assert_eq!(log.trim(), message);
        // docker-compose-ops has no revision edit: no branch there.
        assert_eq!(rev(&world.ops(), "refs/heads/tickets/OSW-2645"), None);

        // A rerun makes no commit.
        let first = rev(&world.phalanx(), "refs/heads/tickets/OSW-2645").unwrap();
        let out = world.run(&args[..args.len() - 1]).success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(
            stdout.contains("tickets/OSW-2645 already has every edit"),
            "{stdout}"
        );
        assert_eq!(
            rev(&world.phalanx(), "refs/heads/tickets/OSW-2645").unwrap(),
            first
        );
    }
}

#[test]
fn bad_restarted_components_are_errors_and_push_nothing() {
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "phalanx-2026-07-01",
            &["MTScheduler", "MTSchedular"],
            &[
                "`MTSchedular` is not a top-level key",
                "applications/*/values-summit.yaml",
            ],
        ),
        (
            "phalanx-2026-07-01",
            &["image"],
            &["`image` is in several applications", "write a glob"],
        ),
        (
            "phalanx",
            &["atspectrograph"],
            &[
                "applications/auxtel/values-summit.yaml",
                "`&at-rev`, which `atpneumatics` (line 185) also uses",
            ],
        ),
    ];
    for (tree, components, wants) in cases {
        let world = World::with_phalanx(tree);
        let releases = releases_with(world.dirs.path(), 5, components);
        let out = world.run(&revision_args(&releases, "5")).failure().code(1);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("lsst-sqre/phalanx"), "{stderr}");
        for want in wants {
            assert!(stderr.contains(want), "{want:?} missing from {stderr}");
        }
        assert_eq!(rev(&world.phalanx(), "refs/heads/tickets/OSW-2645"), None);
        assert_eq!(rev(&world.ops(), "refs/heads/tickets/OSW-2645"), None);
    }

    // Restarting both users of the anchor sets it once.
    let world = World::new();
    let releases = releases_with(world.dirs.path(), 5, &["atpneumatics", "atspectrograph"]);
    world.run(&revision_args(&releases, "5")).success();
    let (removed, added) = diff_lines(&world.phalanx(), "main", "tickets/OSW-2645");
    assert_eq!(
        (removed.len(), added.len()),
        (1, 1),
        "{removed:?} {added:?}"
    );
    assert!(
        added[0].1.contains("revision: &at-rev 5 # keep"),
        "{added:?}"
    );
}
