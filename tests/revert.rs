//! Reverting BTS from Cycle 45 to Cycle 44 on phalanx's tree of 2026-08-04
//! gives the cycle-owned lines of the real revert, `e1c756fd0` ("Revert BTS
//! to cycle 44.", OSW-2768): the Cycle 44 commit is found in a real
//! repository's history (`services::git::history`), the revert computed
//! purely (`edit::revert`), and the result compared with the real commit.
//! And a revert after a bump gives the summit's revisions back byte for byte.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use cycle::edit::repo::{FileChange, FileTree};
use cycle::edit::revert::{cycle_marker, revert_changes};
use cycle::services::git::history::{Found, find_value};
use git2::{Oid, Repository};
use support::{
    commit_to_remote, create_bare_remote, file, fixture_files, git, git_dir, root, words,
};

type Lines = Vec<(String, String)>;

/// The files of one commit of a repository.
struct CommitTree<'r> {
    repo: &'r Repository,
    commit: Oid,
}

impl CommitTree<'_> {
    fn tree(&self) -> git2::Tree<'_> {
        self.repo.find_commit(self.commit).unwrap().tree().unwrap()
    }
}

impl FileTree for CommitTree<'_> {
    fn list(&self, glob: &str) -> Result<Vec<String>, String> {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| e.to_string())?
            .compile_matcher();
        let mut paths = Vec::new();
        self.tree()
            .walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let path = format!("{dir}{}", entry.name().unwrap_or_default());
                if entry.kind() == Some(git2::ObjectType::Blob) && matcher.is_match(&path) {
                    paths.push(path);
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(|e| e.to_string())?;
        paths.sort();
        Ok(paths)
    }

    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match self.tree().get_path(Path::new(path)) {
            Ok(entry) => {
                let blob = self.repo.find_blob(entry.id()).map_err(|e| e.to_string())?;
                Ok(Some(String::from_utf8(blob.content().to_vec()).unwrap()))
            }
            Err(_) => Ok(None),
        }
    }
}

/// Removed and added lines of a unified diff, as `(file, line)`, sorted.
fn diff_lines(diff: &str) -> (Lines, Lines) {
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
    removed.sort();
    added.sort();
    (removed, added)
}

fn patch(commit: &str) -> String {
    std::fs::read_to_string(
        root()
            .join("tests/fixtures/phalanx-commits")
            .join(format!("{commit}.patch")),
    )
    .unwrap()
}

/// Applies a real commit's patch on `branch` of `bare` and pushes it.
fn apply_patch(bare: &Path, branch: &str, commit: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("w");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "-b",
            branch,
            &bare.display().to_string(),
            "w",
        ],
    );
    let file = tmp.path().join("p.patch");
    std::fs::write(&file, patch(commit)).unwrap();
    git(&work, &["apply", "--index", &file.display().to_string()]);
    git(&work, &["commit", "-q", "-m", commit]);
    git(
        &work,
        &["push", "-q", "origin", &format!("HEAD:refs/heads/{branch}")],
    );
    git(&work, &["rev-parse", "HEAD"])
}

/// A line `key: value` of one of the keys BTS's site file declares.
fn is_cycle_owned_line(line: &str) -> bool {
    let key = line.trim_start().split(':').next().unwrap_or_default();
    ["imageTag", "cycle", "recommendedTag", "revision"].contains(&key)
}

/// The cycle-owned lines of `lines`.
fn owned(lines: &Lines) -> Lines {
    lines
        .iter()
        .filter(|(_, l)| is_cycle_owned_line(l))
        .cloned()
        .collect()
}

#[test]
fn reverting_bts_to_cycle_44_gives_the_cycle_owned_lines_of_the_real_revert() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = |dir: &str| fixture_files(dir);
    let cycle44 = seed("phalanx-2026-07-27-base");
    let seeds: Vec<_> = cycle44.iter().map(|(p, t)| file(p, t)).collect();
    // 1. The tree Cycle 45 started from (d94b983e), 2. the real bump
    // 00e175859, 3. the tree the real revert started from (4f749458).
    let bare = create_bare_remote(tmp.path(), "phalanx", &seeds);
    let c44 = git_dir(&bare, &["rev-parse", "main"]);
    let c45 = apply_patch(&bare, "main", "00e175859");
    let today = seed("phalanx-2026-08-04-base");
    let seeds: Vec<_> = today.iter().map(|(p, t)| file(p, t)).collect();
    let base = commit_to_remote(&bare, "main", &seeds, "a week of Cycle 45 on BTS");
    // The same files as the real tree: nothing was added or removed.
    assert_eq!(
        git_dir(&bare, &["ls-tree", "-r", "--name-only", &c44]),
        git_dir(&bare, &["ls-tree", "-r", "--name-only", &base])
    );

    let site = cycle::model::site::load(&root().join("sites/bts.yaml")).unwrap();
    let phalanx = &site.site.repositories[0];
    let marker = cycle_marker(phalanx, 44, &site.site).unwrap().unwrap();
    let repo = Repository::open_bare(&bare).unwrap();
    let base = Oid::from_str(&base).unwrap();
    let find = |value: &str| find_value(&repo, base, &marker.file, &marker.path, value).unwrap();
    let c44 = Oid::from_str(&c44).unwrap();
    assert_eq!(find(&marker.value), Found::At(c44));
    assert_eq!(find("c0045"), Found::At(base));
    assert_eq!(find("c0043"), Found::Nowhere { walked: 3 });
    assert_eq!(
        git_dir(&bare, &["rev-parse", &format!("{base}^")]),
        c45,
        "the bump is the commit between"
    );

    let old = CommitTree {
        repo: &repo,
        commit: c44,
    };
    let now = CommitTree {
        repo: &repo,
        commit: base,
    };
    let changes = revert_changes(&phalanx.repo, &phalanx.edits, &old, &now).unwrap();
    let paths: Vec<&str> = changes.iter().map(FileChange::path).collect();
    assert_eq!(
        paths,
        [
            "applications/nublado/values-base.yaml",
            "environments/values-base.yaml"
        ]
    );
    let diff: String = changes.iter().map(FileChange::unified_diff).collect();
    let (removed, added) = diff_lines(&diff);

    // The real revert's cycle-owned lines are exactly ours.
    let (real_removed, real_added) = diff_lines(&patch("e1c756fd0"));
    assert_eq!(removed, owned(&real_removed));
    assert_eq!(added, owned(&real_added));
    assert_eq!(added.len(), 3, "{added:?}");
    // Its other lines took back work done on BTS during the cycle, which no
    // site file declares (tests/fixtures/README.md).
    let others: std::collections::BTreeSet<&str> = real_removed
        .iter()
        .chain(&real_added)
        .filter(|(_, l)| !is_cycle_owned_line(l))
        .map(|(f, _)| f.as_str())
        .collect();
    assert_eq!(
        others.into_iter().collect::<Vec<_>>(),
        [
            "applications/envsys/values-base.yaml",
            "applications/love/values-base.yaml",
            "applications/sasquatch/values-base.yaml"
        ]
    );

    // On the reverted tree, a rerun changes nothing.
    let seeds: Vec<_> = changes.iter().map(|c| file(c.path(), c.after())).collect();
    let ours = commit_to_remote(&bare, "tickets/OSW-2768", &seeds, "Revert BTS to Cycle 44.");
    let ours = CommitTree {
        repo: &repo,
        commit: Oid::from_str(&ours).unwrap(),
    };
    assert!(
        revert_changes(&phalanx.repo, &phalanx.edits, &old, &ours)
            .unwrap()
            .is_empty()
    );

    // The files changed are byte for byte those of the real revert.
    apply_patch(&bare, "main", "e1c756fd0");
    let real = Oid::from_str(&git_dir(&bare, &["rev-parse", "main"])).unwrap();
    let real = CommitTree {
        repo: &repo,
        commit: real,
    };
    for change in &changes {
        assert_eq!(
            Some(change.after().to_string()),
            real.read(change.path()).unwrap(),
            "{}",
            change.path()
        );
    }
}

/// Files in memory.
struct Files(BTreeMap<String, String>);

impl FileTree for Files {
    fn list(&self, glob: &str) -> Result<Vec<String>, String> {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| e.to_string())?
            .compile_matcher();
        Ok(self
            .0
            .keys()
            .filter(|p| matcher.is_match(p.as_str()))
            .cloned()
            .collect())
    }

    fn read(&self, path: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(path).cloned())
    }
}

#[test]
fn reverting_the_summit_after_a_bump_gives_back_its_revisions_byte_for_byte() {
    // The April 2026 summit tree is on Cycle 42 with 88 non-zero revisions,
    // anchored, aliased, quoted and commented (tests/fixtures/README.md).
    let site = cycle::model::site::load(&root().join("sites/summit.yaml")).unwrap();
    let phalanx = &site.site.repositories[0];
    let old = Files(fixture_files("phalanx").into_iter().collect());
    let id = cycle::model::cycle_id::CycleId::new(43, 0).unwrap();
    let bump = cycle::edit::repo::resolve_edits(phalanx, id, &site.site).unwrap();
    let bumped = cycle::edit::repo::compute_changes(&phalanx.repo, &old, &bump).unwrap();
    let mut today = old.0.clone();
    for change in &bumped {
        today.insert(change.path().to_string(), change.after().to_string());
    }
    let today = Files(today);
    let changes = revert_changes(&phalanx.repo, &phalanx.edits, &old, &today).unwrap();
    let paths = |changes: &[FileChange]| -> Vec<String> {
        changes.iter().map(|c| c.path().to_string()).collect()
    };
    assert_eq!(paths(&changes), paths(&bumped));
    let diff: String = changes.iter().map(FileChange::unified_diff).collect();
    let (_, added) = diff_lines(&diff);
    let revisions = added
        .iter()
        .filter(|(_, l)| l.trim_start().starts_with("revision:"))
        .count();
    // Every non-zero revision that is not an alias, the tag and nublado's two keys.
    assert_eq!(revisions, 88, "{added:#?}");
    assert_eq!(added.len(), 88 + 3, "{added:#?}");
    for change in &changes {
        assert_eq!(change.after(), old.0[change.path()], "{}", change.path());
    }
}

/// `cycle revert --site bts --to 44` end to end, against every fake and a
/// phalanx remote whose `main` has the real history of the time: the tree
/// Cycle 45 started from, the real bump, and the tree the real revert
/// started from. The Cycle 45 page exists and its BTS announcements are
/// scheduled (by `cycle prepare`).
/// Every fake, and a phalanx remote whose `main` has the real history of
/// the time: the tree Cycle 45 started from, the real bump, and the tree
/// the real revert started from. The Cycle 45 page exists and its BTS
/// announcements are scheduled (by `cycle prepare`).
struct Cycle45 {
    world: support::full_world::FullWorld,
    /// The phalanx remote.
    bare: std::path::PathBuf,
    /// `main` before the revert.
    base: String,
    /// The Cycle 45 page's id.
    page: String,
}

fn cycle_45_on_bts() -> Cycle45 {
    use support::confluence_fake::{PARENT_ID, SPACE};
    use support::full_world::{FullWorld, manifest};

    let world = FullWorld::new();
    let remotes = world.dirs.remotes();
    let bare = remotes.join("lsst-sqre/phalanx.git");
    std::fs::remove_dir_all(&bare).unwrap();
    let seeds = fixture_files("phalanx-2026-07-27-base");
    let seeds: Vec<_> = seeds.iter().map(|(p, t)| file(p, t)).collect();
    let created = create_bare_remote(&remotes, "lsst-sqre/phalanx.git", &seeds);
    assert_eq!(created, bare);
    apply_patch(&bare, "main", "00e175859");
    let today = fixture_files("phalanx-2026-08-04-base");
    let seeds: Vec<_> = today.iter().map(|(p, t)| file(p, t)).collect();
    let base = commit_to_remote(&bare, "main", &seeds, "a week of Cycle 45 on BTS");
    // Cycle 45's manifest, deploying BTS in ten days; its page exists.
    let c45 = manifest().replacen("cycle: 44\n", "cycle: 45\n", 1);
    assert!(c45.contains("cycle: 45\n"));
    std::fs::write(world.dirs.releases().join("c0045.000.yaml"), c45).unwrap();
    let page = world.confluence.add_page(
        SPACE,
        PARENT_ID,
        "Cycle 45 Upgrade",
        "<h2>Cycle 45</h2><p>Written by people.</p>",
    );
    ok(
        &world.run(&words(
            "prepare --site bts --cycle 45 --only slack --ticket bts=OSW-2735 --yes",
        )),
        0,
    );
    assert_eq!(
        bts_channel(&world.slack),
        3,
        "{:?}",
        world.slack.scheduled()
    );
    Cycle45 {
        world,
        bare,
        base,
        page,
    }
}

/// Its stdout, once the run exited with `code`.
fn ok(out: &std::process::Output, code: i32) -> String {
    let (stdout, stderr) = support::run::texts(out);
    assert_eq!(out.status.code(), Some(code), "{stdout}\n{stderr}");
    stdout
}

/// Cycle 45's scheduled announcements.
fn bts_channel(slack: &support::slack_fake::SlackFake) -> usize {
    slack
        .scheduled()
        .into_iter()
        .filter(|m| m.text.contains("Cycle 45"))
        .count()
}

#[test]
fn cycle_revert_opens_a_ticket_and_pr_with_the_real_reverts_lines_and_a_rerun_writes_nothing() {
    let Cycle45 {
        world,
        bare,
        base,
        page,
    } = cycle_45_on_bts();
    world.clear();

    // The dry run shows the real revert's lines and writes nothing; the
    // plan it saves is what is applied.
    let saved = world.dirs.path().join("revert.json");
    let saved = saved.to_str().unwrap();
    let dry = ok(
        &world.run(&[
            "revert",
            "--site",
            "bts",
            "--to",
            "44",
            "--dry-run",
            "--out",
            saved,
        ]),
        2,
    );
    assert!(
        dry.contains("Plan for the revert to Cycle 44 from Cycle 45"),
        "{dry}"
    );
    for line in [
        "-  imageTag: \"c0045\"",
        "+  imageTag: \"c0044\"",
        "Jira ticket \"Revert BTS to Cycle 44\"",
        "would delete 3 pending message(s)",
    ] {
        assert!(dry.contains(line), "{line} not in {dry}");
    }
    assert!(world.writes().is_empty(), "{:?}", world.writes());

    let applied = ok(&world.run(&["apply", saved, "--yes"]), 0);
    // One ticket, its summary exact.
    let tickets: Vec<_> = world
        .jira
        .issues()
        .into_iter()
        .filter(|i| i.summary == "Revert BTS to Cycle 44")
        .collect();
    assert_eq!(tickets.len(), 1, "{applied}");
    let key = tickets[0].key.clone();
    let branch = format!("tickets/{key}");
    // The branch changes exactly the real revert's cycle-owned lines.
    let diff = git_dir(&bare, &["diff", &base, &branch]);
    let (removed, added) = diff_lines(&diff);
    let (real_removed, real_added) = diff_lines(&patch("e1c756fd0"));
    assert_eq!(removed, owned(&real_removed), "{diff}");
    assert_eq!(added, owned(&real_added), "{diff}");
    assert_eq!(
        git_dir(&bare, &["log", "-1", "--format=%s", &branch]),
        "Revert BTS to cycle 44."
    );
    // One pull request from it.
    let pulls = world.github.pulls();
    assert_eq!(pulls.len(), 1, "{pulls:?}");
    assert_eq!(pulls[0].head_ref, branch);
    assert_eq!(pulls[0].title, format!("{key}: Revert BTS to Cycle 44"));
    // Cycle 45's BTS announcements are gone; the notice is posted once.
    assert_eq!(
        bts_channel(&world.slack),
        0,
        "{:?}",
        world.slack.scheduled()
    );
    let notices: Vec<_> = world
        .slack
        .posted()
        .into_iter()
        .filter(|m| m.text.contains("goes back to Cycle 44"))
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(notices[0].text.contains(&key), "{}", notices[0].text);
    // The page keeps what people wrote and gains the line.
    let live = world.confluence.page_titled("Cycle 45 Upgrade").unwrap();
    assert_eq!(live.id, page);
    assert!(
        live.body.contains("<p>Written by people.</p>"),
        "{}",
        live.body
    );
    assert!(
        live.body.contains("Base Test Stand reverted to Cycle 44"),
        "{}",
        live.body
    );
    let pr_url = format!(
        "https://github.com/lsst-sqre/phalanx/pull/{}",
        pulls[0].number
    );
    assert!(live.body.contains(&pr_url), "{}", live.body);

    // A rerun finds everything and writes nothing.
    world.clear();
    ok(&world.run(&words("revert --site bts --to 44 --yes")), 0);
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    let again = ok(&world.run(&words("revert --site bts --to 44 --dry-run")), 0);
    assert!(again.contains("0 steps to apply, 6 up to date"), "{again}");
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    // The revert keeps its own journal, and `cycle status` shows it.
    let journal = world.dirs.state().join("journal");
    assert!(journal.join("c0045.000.revert-to-44.json").is_file());
    let status = ok(&world.run(&words("status --site bts --cycle 45")), 0);
    assert!(
        status.contains("Base Test Stand: revert to Cycle 44"),
        "{status}"
    );
    assert!(status.contains(&key), "{status}");
    // Cycle 45's own journal records its deleted announcements.
    for message in ["day_before", "hour_before", "start"] {
        let line = status
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("slack:{message} ")))
            .unwrap_or_default();
        assert!(line.contains("CANCELLED"), "{status}");
    }
    // So the cycle's usual run does not announce them again.
    world.clear();
    ok(
        &world.run(&words(
            "prepare --site bts --cycle 45 --only slack --ticket bts=OSW-2735 --yes",
        )),
        0,
    );
    assert!(world.writes().is_empty(), "{:?}", world.writes());
    assert_eq!(bts_channel(&world.slack), 0);

    // Once the PR is merged, main is on Cycle 44 and nothing is left to do.
    git_dir(&bare, &["update-ref", "refs/heads/main", &branch]);
    world.github.merge("lsst-sqre/phalanx", pulls[0].number);
    world.clear();
    let merged = ok(&world.run(&words("revert --site bts --to 44 --dry-run")), 0);
    assert!(merged.contains("0 steps to apply"), "{merged}");
    assert!(merged.contains("main is on Cycle 44 already"), "{merged}");
    assert!(world.writes().is_empty(), "{:?}", world.writes());
}

/// What `cycle revert` refuses, before anything is asked of a service: a
/// revert forward, no manifest of the reverted cycle, a page that is not
/// there (the line waits, naming it).
#[test]
fn a_revert_refuses_what_cannot_be_a_revert_and_waits_for_a_missing_page() {
    use support::full_world::{FullWorld, manifest};
    use support::run::texts;

    let world = FullWorld::new();
    let run = |line: &'static str| {
        let out = world.run(&words(line));
        let (stdout, stderr) = texts(&out);
        (out.status.code(), stdout, stderr)
    };
    let (code, _, stderr) = run("revert --site bts --to 45 --from 44 --dry-run");
    assert_eq!(code, Some(64), "{stderr}");
    assert!(
        stderr.contains("--from 44 --to 45: a revert goes back to an earlier cycle"),
        "{stderr}"
    );
    let (code, _, stderr) = run("revert --site bts --to 44 --dry-run");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("no release manifest of a cycle after 44"),
        "{stderr}"
    );
    assert!(stderr.contains("--from N"), "{stderr}");
    assert!(world.writes().is_empty(), "{:?}", world.writes());

    // No Cycle 45 page: the line waits and says why; the rest applies.
    let c45 = manifest().replacen("cycle: 44\n", "cycle: 45\n", 1);
    std::fs::write(world.dirs.releases().join("c0045.000.yaml"), c45).unwrap();
    let (code, stdout, stderr) = run("revert --site bts --to 44 --only confluence --dry-run");
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "there is no page titled \"Cycle 45 Upgrade\" in space LSSTCOM to add the revert to"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 waiting"), "{stdout}");
    assert!(world.confluence.page_titled("Cycle 45 Upgrade").is_none());
}

/// A revert to a cycle the base's history never had is shown as unknown
/// edits and refused before anything is written.
#[test]
fn a_revert_to_a_cycle_not_in_history_is_refused_before_any_write() {
    let Cycle45 { world, .. } = cycle_45_on_bts();
    world.clear();
    let dry = ok(&world.run(&words("revert --site bts --to 40 --dry-run")), 2);
    assert!(
        dry.contains(
            "Cycle 40 not found in lsst-sqre/phalanx: no commit of main (3 looked at) has environments/values-base.yaml `controlSystem.imageTag: c0040`"
        ),
        "{dry}"
    );
    let out = world.run(&words("revert --site bts --to 40 --yes"));
    let (stdout, stderr) = support::run::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("bts:config:lsst-sqre/phalanx: cannot compute the edits"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(world.writes().is_empty(), "{:?}", world.writes());
}

/// When the reverted cycle's journal is held by another run, the deletion
/// stands but the step fails (the notice waits), and the next run records
/// the cancellation and finishes.
#[test]
fn a_held_cycle_journal_fails_the_cancellation_and_the_rerun_records_it() {
    let Cycle45 { world, .. } = cycle_45_on_bts();
    let lock_path = world.dirs.state().join("journal/c0045.000.lock");
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();
    let out = world.run(&words("revert --site bts --to 44 --yes"));
    let (stdout, stderr) = support::run::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("the messages are deleted, but"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(bts_channel(&world.slack), 0);
    assert!(
        !world
            .slack
            .posted()
            .iter()
            .any(|m| m.text.contains("goes back to Cycle 44")),
        "the notice went out"
    );
    held.unlock().unwrap();
    drop(held);

    ok(&world.run(&words("revert --site bts --to 44 --yes")), 0);
    let status = ok(&world.run(&words("status --site bts --cycle 45")), 0);
    for message in ["day_before", "hour_before", "start"] {
        let line = status
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("slack:{message} ")))
            .unwrap_or_default();
        assert!(line.contains("CANCELLED"), "{status}");
    }
    let notices = world
        .slack
        .posted()
        .into_iter()
        .filter(|m| m.text.contains("goes back to Cycle 44"))
        .count();
    assert_eq!(notices, 1);
}
