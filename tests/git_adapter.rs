//! Integration tests of `cycle::services::git` against real repositories in
//! temporary directories (file:// remotes and an authenticating smart-HTTP
//! server backed by `git http-backend`).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cycle::services::git::{CachedRepo, Credentials, GitError, RepoCache, SyncKind};
use git2::{Oid, Signature};
use support::git_http::GitHttpServer;
use support::{commit_to_remote, create_bare_remote, exe, file, file_url, git_dir};

const TOKEN: &str = "ghp_TestToken_0123456789abcdef";
const WRONG: &str = "ghp_WrongToken_fedcba9876543210";

fn sig() -> Signature<'static> {
    Signature::now("Cycle Test", "cycle@example.org").unwrap()
}

fn commit(repo: &CachedRepo, parent: Oid, changes: &[(&str, &str)]) -> Oid {
    let changes: Vec<(String, String)> = changes
        .iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect();
    repo.commit_files(parent, &changes, "test change", &sig(), &sig())
        .unwrap()
}

fn oid(s: &str) -> Oid {
    Oid::from_str(s).unwrap()
}

fn seed_files() -> Vec<support::Seed<'static>> {
    vec![
        file("README.md", "# deploy\n"),
        file("apps/a/values.yaml", "image: a:1\n"),
        file("apps/a/values-base.yaml", "tag: 1\n"),
        file("apps/b/values-base.yaml", "tag: 2\n"),
        file("apps/a/nested/values-x.yaml", "x: 1\n"),
        exe("bin/run.sh", "#!/bin/sh\necho hi\n"),
    ]
}

/// Commits `files` on `parent`, sets `tickets/OSW-1` to the commit and
/// pushes it with `creds`; asserts that the remote `bare` has the branch
/// there, and returns the commit.
fn push_ticket(
    repo: &CachedRepo,
    creds: &Credentials,
    bare: &Path,
    parent: Oid,
    files: &[(&str, &str)],
) -> Oid {
    let new = commit(repo, parent, files);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    repo.push("tickets/OSW-1", creds).unwrap();
    assert_eq!(
        git_dir(bare, &["rev-parse", "refs/heads/tickets/OSW-1"]),
        new.to_string()
    );
    new
}

/// A bare `deploy.git` holding [`seed_files`] in a new temporary directory
/// (kept while the returned guard lives), and an empty clone cache beside it.
fn seeded_remote() -> (tempfile::TempDir, PathBuf, RepoCache) {
    let tmp = tempfile::tempdir().unwrap();
    let bare = create_bare_remote(tmp.path(), "deploy.git", &seed_files());
    let cache = RepoCache::new(tmp.path().join("cache"));
    (tmp, bare, cache)
}

/// `bare` synced into `cache`: the clone and the commit of its `main`.
fn synced(cache: &RepoCache, bare: &Path) -> (CachedRepo, Oid) {
    let (repo, _) = cache.sync(&file_url(bare), &Credentials::none()).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    (repo, main)
}

/// Reads every file of the cache except object/pack data.
fn cache_text(root: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "objects") {
                    stack.push(p);
                }
            } else if let Ok(s) = std::fs::read(&p) {
                out.push_str(&String::from_utf8_lossy(&s));
            }
        }
    }
    out
}

#[test]
fn clone_then_fetch_sees_new_commits_and_prunes() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = create_bare_remote(tmp.path(), "deploy.git", &seed_files());
    commit_to_remote(&bare, "gone", &[file("x", "1")], "to be deleted");
    let cache = RepoCache::new(tmp.path().join("cache"));
    let url = file_url(&bare);

    assert!(cache.open_cached(&url).unwrap().is_none());
    let (repo, kind) = cache.sync(&url, &Credentials::none()).unwrap();
    assert_eq!(kind, SyncKind::Cloned);
    assert!(repo.repository().is_bare());
    assert_eq!(repo.path(), cache.path_for(&url).as_path());
    let main = repo.remote_branch("main").unwrap().unwrap();
    assert_eq!(
        main,
        oid(&git_dir(&bare, &["rev-parse", "refs/heads/main"]))
    );
    assert!(repo.remote_branch("gone").unwrap().is_some());
    assert!(repo.remote_branch("nope").unwrap().is_none());
    assert!(repo.local_branch("main").unwrap().is_none());
    drop(repo);

    let new = commit_to_remote(
        &bare,
        "main",
        &[file("apps/a/values.yaml", "image: a:2\n")],
        "bump",
    );
    git_dir(&bare, &["branch", "-D", "gone"]);
    let (repo, kind) = cache.sync(&url, &Credentials::none()).unwrap();
    assert_eq!(kind, SyncKind::Fetched);
    let main2 = repo.remote_branch("main").unwrap().unwrap();
    assert_eq!(main2, oid(&new));
    assert!(repo.is_ancestor(main, main2).unwrap());
    assert!(!repo.is_ancestor(main2, main).unwrap());
    assert!(repo.remote_branch("gone").unwrap().is_none(), "not pruned");
    assert_eq!(
        repo.read_file(main2, "apps/a/values.yaml")
            .unwrap()
            .as_deref(),
        Some("image: a:2\n")
    );

    // Offline open sees the same state.
    let offline = cache.open_cached(&url).unwrap().unwrap();
    assert_eq!(offline.remote_branch("main").unwrap(), Some(main2));
}

#[test]
fn list_files_and_read_file() {
    let (_tmp, bare, cache) = seeded_remote();
    let (repo, main) = synced(&cache, &bare);

    assert_eq!(
        repo.list_files(main, "apps/*/values-*.yaml").unwrap(),
        ["apps/a/values-base.yaml", "apps/b/values-base.yaml"]
    );
    assert_eq!(
        repo.list_files(main, "apps/**/*.yaml").unwrap(),
        [
            "apps/a/nested/values-x.yaml",
            "apps/a/values-base.yaml",
            "apps/a/values.yaml",
            "apps/b/values-base.yaml"
        ]
    );
    assert!(repo.list_files(main, "nothing/*").unwrap().is_empty());
    assert!(matches!(
        repo.list_files(main, "apps/[").unwrap_err(),
        GitError::InvalidGlob { .. }
    ));

    assert_eq!(
        repo.read_file(main, "apps/b/values-base.yaml")
            .unwrap()
            .as_deref(),
        Some("tag: 2\n")
    );
    assert_eq!(repo.read_file(main, "apps/zzz.yaml").unwrap(), None);
    let err = repo.read_file(main, "apps/a").unwrap_err();
    assert!(matches!(err, GitError::NotAFile { .. }), "{err}");
    assert!(matches!(
        repo.read_file(main, "../etc/passwd").unwrap_err(),
        GitError::InvalidPath { .. }
    ));
}

#[test]
fn commit_files_touches_exactly_the_changed_paths_and_keeps_modes() {
    let (_tmp, bare, cache) = seeded_remote();
    let (repo, parent) = synced(&cache, &bare);

    let new = commit(
        &repo,
        parent,
        &[
            ("bin/run.sh", "#!/bin/sh\necho bye\n"),
            ("apps/a/values.yaml", "image: a:3\n"),
            ("apps/c/values.yaml", "image: c:1\n"),
        ],
    );
    assert_ne!(new, parent);
    assert_eq!(
        repo.changed_paths(parent, new).unwrap(),
        ["apps/a/values.yaml", "apps/c/values.yaml", "bin/run.sh"]
    );
    // Written as one pack: no loose object, and git itself finds every
    // object of the new commit.
    let counts = git_dir(repo.path(), &["count-objects", "-v"]);
    assert!(counts.lines().any(|l| l == "count: 0"), "{counts}");
    git_dir(repo.path(), &["fsck", "--strict", "--no-dangling"]);
    assert_eq!(
        git_dir(
            repo.path(),
            &["rev-list", "--objects", &format!("{parent}..{new}")]
        )
        .lines()
        .count(),
        // The commit, three blobs, and the trees /, apps, apps/a, apps/c, bin.
        9
    );
    let c = repo.repository().find_commit(new).unwrap();
    assert_eq!(c.parent_ids().collect::<Vec<_>>(), [parent]);
    assert_eq!(c.message().unwrap(), "test change");
    assert_eq!(c.author().name(), Ok("Cycle Test"));

    // Untouched files keep their content.
    for f in seed_files() {
        if f.path != "bin/run.sh" && f.path != "apps/a/values.yaml" {
            assert_eq!(
                repo.read_file(new, f.path).unwrap().as_deref(),
                Some(f.content)
            );
        }
    }
    assert_eq!(
        repo.read_file(new, "apps/c/values.yaml")
            .unwrap()
            .as_deref(),
        Some("image: c:1\n")
    );
    // Modes: the script stays executable, the new file is a regular file.
    let tree = c.tree().unwrap();
    let mode = |p: &str| tree.get_path(Path::new(p)).unwrap().filemode();
    assert_eq!(mode("bin/run.sh"), 0o100755);
    assert_eq!(mode("apps/c/values.yaml"), 0o100644);
    assert_eq!(mode("apps/a/values.yaml"), 0o100644);

    // No ref moved; a no-op change creates no commit.
    assert!(repo.local_branch("tickets/OSW-1").unwrap().is_none());
    assert_eq!(
        commit(&repo, new, &[("apps/c/values.yaml", "image: c:1\n")]),
        new
    );
    // Writing over a directory is refused.
    let err = repo
        .commit_files(parent, &[("apps".into(), "x".into())], "m", &sig(), &sig())
        .unwrap_err();
    assert!(matches!(err, GitError::NotAFile { .. }), "{err}");
}

#[test]
fn push_to_file_remote_creates_the_ticket_branch() {
    let (_tmp, bare, cache) = seeded_remote();
    let (repo, main) = synced(&cache, &bare);
    let new = commit(&repo, main, &[("apps/a/values.yaml", "image: a:9\n")]);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    assert_eq!(repo.local_branch("tickets/OSW-1").unwrap(), Some(new));

    repo.push("tickets/OSW-1", &Credentials::none()).unwrap();
    assert_eq!(
        git_dir(&bare, &["rev-parse", "refs/heads/tickets/OSW-1"]),
        new.to_string()
    );
    assert_eq!(repo.remote_branch("tickets/OSW-1").unwrap(), Some(new));

    // A fast-forward on top is accepted.
    let newer = push_ticket(
        &repo,
        &Credentials::none(),
        &bare,
        new,
        &[("README.md", "# deploy v2\n")],
    );

    // Bad branch names are refused before touching git.
    assert!(matches!(
        repo.set_local_branch("bad..name", newer).unwrap_err(),
        GitError::InvalidBranch { .. }
    ));
    assert!(matches!(
        repo.push("tickets/none", &Credentials::none()).unwrap_err(),
        GitError::PushRejected { .. }
    ));
}

#[test]
fn non_fast_forward_push_is_rejected_not_forced() {
    let (_tmp, bare, cache) = seeded_remote();
    let url = file_url(&bare);
    let (repo, _) = cache.sync(&url, &Credentials::none()).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let ours = commit(&repo, main, &[("apps/a/values.yaml", "image: ours\n")]);
    repo.set_local_branch("tickets/OSW-1", ours).unwrap();
    repo.push("tickets/OSW-1", &Credentials::none()).unwrap();

    // Someone else rewrites the branch on the remote ...
    git_dir(&bare, &["branch", "-f", "tickets/OSW-1", "main"]);
    let theirs = commit_to_remote(&bare, "tickets/OSW-1", &[file("theirs", "1")], "theirs");
    // ... and we try to push a divergent commit, with and without fetching first.
    let ours2 = commit(&repo, ours, &[("apps/a/values.yaml", "image: ours2\n")]);
    repo.set_local_branch("tickets/OSW-1", ours2).unwrap();
    let err = repo
        .push("tickets/OSW-1", &Credentials::none())
        .unwrap_err();
    assert!(matches!(err, GitError::PushRejected { .. }), "{err}");
    let (repo, _) = cache.sync(&url, &Credentials::none()).unwrap();
    let err = repo
        .push("tickets/OSW-1", &Credentials::none())
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GitError::PushRejected { .. }), "{msg}");
    assert!(
        msg.contains("tickets/OSW-1") && msg.contains("deploy.git"),
        "{msg}"
    );
    assert!(msg.contains("fast-forward"), "{msg}");
    assert_eq!(
        git_dir(&bare, &["rev-parse", "refs/heads/tickets/OSW-1"]),
        theirs,
        "remote branch was overwritten"
    );
}

#[test]
fn concurrent_syncs_of_the_same_url_are_safe() {
    let (_tmp, bare, cache) = seeded_remote();
    let url = file_url(&bare);
    let kinds: Vec<SyncKind> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let (repo, kind) = cache.sync(&url, &Credentials::none()).unwrap();
                    assert!(repo.remote_branch("main").unwrap().is_some());
                    kind
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(kinds.iter().filter(|k| **k == SyncKind::Cloned).count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == SyncKind::Fetched).count(), 3);
}

/// `deploy.git` holding [`seed_files`] in `<tmp>/served`, served over smart
/// HTTP accepting only [`TOKEN`]; returns the bare remote and the server.
fn served_deploy(tmp: &Path) -> (std::path::PathBuf, GitHttpServer) {
    let served = tmp.join("served");
    std::fs::create_dir(&served).unwrap();
    let bare = create_bare_remote(&served, "deploy.git", &seed_files());
    let server = GitHttpServer::start(&served, "x-access-token", TOKEN);
    (bare, server)
}

#[test]
fn http_push_with_the_right_token_succeeds_and_token_stays_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server) = served_deploy(tmp.path());
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    // A user name in the URL must not end up in the cache's config either.
    let url = server
        .url("deploy.git")
        .replace("http://", "http://someone:leaked@");

    let (repo, kind) = cache.sync(&url, &creds).unwrap();
    assert_eq!(kind, SyncKind::Cloned);
    let main = repo.remote_branch("main").unwrap().unwrap();
    push_ticket(
        &repo,
        &creds,
        &bare,
        main,
        &[("apps/a/values.yaml", "image: http\n")],
    );
    let (_, kind) = cache.sync(&url, &creds).unwrap();
    assert_eq!(kind, SyncKind::Fetched);

    let reqs = server.requests();
    let expected = format!(
        "Basic {}",
        support::git_http::base64(format!("x-access-token:{TOKEN}").as_bytes())
    );
    assert!(
        reqs.iter()
            .any(|r| r.path.ends_with("git-receive-pack") && r.method == "POST" && r.status == 200),
        "{reqs:#?}"
    );
    assert!(
        reqs.iter()
            .filter(|r| r.status == 200)
            .all(|r| r.authorization.as_deref() == Some(&expected))
    );
    assert!(reqs.iter().any(|r| r.had_auth()));
    // The token goes with the first request: no 401 round trip.
    assert_eq!(server.count_status(401), 0, "{reqs:#?}");

    let config = std::fs::read_to_string(repo.path().join("config")).unwrap();
    assert!(config.contains(&server.url("deploy.git")), "{config}");
    assert!(
        !config.contains(TOKEN) && !config.contains("leaked"),
        "{config}"
    );
    let all = cache_text(cache.root());
    assert!(!all.contains(TOKEN), "token written somewhere in the cache");
    assert!(!format!("{creds:?}").contains(TOKEN));
    assert!(format!("{creds:?}").contains("<redacted>"));
    assert!(!format!("{repo:?}").contains("leaked"));
}

#[test]
fn http_a_moved_repository_is_followed_with_the_token_and_later_requests_go_to_the_new_place() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server) = served_deploy(tmp.path());
    // Renamed, as GitHub answers for a renamed repository.
    server.redirect("old-name.git", &server.url("deploy.git"));
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let url = server.url("old-name.git");

    let (repo, _) = cache.sync(&url, &creds).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    push_ticket(
        &repo,
        &creds,
        &bare,
        main,
        &[("apps/a/values.yaml", "image: moved\n")],
    );

    let reqs = server.requests();
    let line =
        |r: &support::git_http::RecordedRequest| format!("{} {} {}", r.method, r.path, r.status);
    let lines: Vec<String> = reqs.iter().map(line).collect();
    assert_eq!(
        lines,
        [
            "GET /old-name.git/info/refs 301",
            "GET /deploy.git/info/refs 200",
            "POST /deploy.git/git-upload-pack 200",
            "GET /old-name.git/info/refs 301",
            "GET /deploy.git/info/refs 200",
            "POST /deploy.git/git-receive-pack 200",
        ],
        "the pack requests follow the moved advertisement"
    );
    // Same host: the token went with every request.
    assert!(reqs.iter().all(|r| r.had_auth()), "{reqs:#?}");
}

#[test]
fn http_a_redirect_to_another_host_never_gets_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server) = served_deploy(tmp.path());
    let elsewhere = GitHttpServer::start(bare.parent().unwrap(), "x-access-token", TOKEN);
    server.redirect("deploy.git", &elsewhere.url("deploy.git"));
    let cache = RepoCache::new(tmp.path().join("cache"));
    let url = server.url("deploy.git");

    let err = cache
        .sync(&url, &Credentials::with_token(TOKEN, &server.url("")))
        .unwrap_err();
    assert!(matches!(err, GitError::ForeignHost { .. }), "{err}");
    let msg = err.to_string();
    let host = elsewhere.url("").replace("http://", "");
    assert!(
        msg.contains(host.trim_end_matches('/'))
            && msg.contains("only sent to the GitHub server of GITHUB_SERVER_URL")
            && !msg.contains(TOKEN),
        "{msg}"
    );
    // Asked once per attempt, never with the token, and never answered.
    let asked = elsewhere.requests();
    assert!(!asked.is_empty());
    assert!(
        asked.iter().all(|r| !r.had_auth() && r.status == 401),
        "{asked:#?}"
    );
    assert!(
        !cache.path_for(&url).exists(),
        "failed clone left in the cache"
    );
}

/// A repository on another port of this machine than the token's server:
/// cloned without the token; its refusal is one error naming the host.
#[test]
fn http_a_repository_off_the_token_s_server_never_gets_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server) = served_deploy(tmp.path());
    let elsewhere = GitHttpServer::start(bare.parent().unwrap(), "x-access-token", TOKEN);
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let cache = RepoCache::new(tmp.path().join("cache"));
    for url in [
        elsewhere.url("deploy.git"),
        elsewhere
            .url("deploy.git")
            .replace("127.0.0.1", "localhost"),
    ] {
        let err = cache.sync(&url, &creds).unwrap_err();
        assert!(matches!(err, GitError::ForeignHost { .. }), "{err}");
        let msg = err.to_string();
        assert_eq!(msg.lines().count(), 1, "{msg}");
        let port = elsewhere
            .url("")
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        assert!(msg.contains(&format!(":{port} refused access")), "{msg}");
        assert!(!msg.contains(TOKEN), "{msg}");
    }
    let asked = elsewhere.requests();
    assert!(!asked.is_empty());
    assert!(asked.iter().all(|r| !r.had_auth()), "{asked:#?}");
    assert!(server.requests().is_empty());
    // The token's own server still gets it.
    cache.sync(&server.url("deploy.git"), &creds).unwrap();
    assert!(server.requests().iter().all(|r| r.had_auth()));
}

#[test]
fn http_wrong_token_fails_once_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, server) = served_deploy(tmp.path());
    let cache = RepoCache::new(tmp.path().join("cache"));
    let url = server.url("deploy.git");

    let start = Instant::now();
    let err = cache
        .sync(&url, &Credentials::with_token(WRONG, &server.url("")))
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(20));
    let msg = err.to_string();
    assert!(matches!(err, GitError::AuthRejected { .. }), "{msg}");
    assert_eq!(
        msg.lines().next().unwrap(),
        msg,
        "single-line message expected: {msg}"
    );
    assert!(msg.contains(&url) && msg.contains("GITHUB_TOKEN"), "{msg}");
    assert!(!msg.contains(WRONG) && !format!("{err:?}").contains(WRONG));
    let unauthorized = server.count_status(401);
    assert!((1..=3).contains(&unauthorized), "{:#?}", server.requests());
    assert_eq!(server.count_status(200), 0);
    assert!(
        !cache.path_for(&url).exists(),
        "failed clone left in the cache"
    );
    assert!(cache.open_cached(&url).unwrap().is_none());

    // Push with a wrong token, after a good sync, fails the same way.
    let (repo, _) = cache
        .sync(&url, &Credentials::with_token(TOKEN, &server.url("")))
        .unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let new = commit(&repo, main, &[("README.md", "x\n")]);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    let before = server.count_status(401);
    let err = repo
        .push(
            "tickets/OSW-1",
            &Credentials::with_token(WRONG, &server.url("")),
        )
        .unwrap_err();
    assert!(matches!(err, GitError::AuthRejected { .. }), "{err}");
    assert!(!err.to_string().contains(WRONG));
    assert!(server.count_status(401) - before <= 3);
}

#[test]
fn http_without_token_says_github_token_is_not_set() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, server) = served_deploy(tmp.path());
    let cache = RepoCache::new(tmp.path().join("cache"));
    let url = server.url("deploy.git");
    let err = cache.sync(&url, &Credentials::none()).unwrap_err();
    assert!(matches!(err, GitError::TokenMissing { .. }), "{err}");
    assert!(err.to_string().contains("GITHUB_TOKEN is not set"), "{err}");
    assert!(server.count_status(401) <= 2);
}

#[test]
fn http_push_refused_by_the_server_reports_the_ref() {
    let tmp = tempfile::tempdir().unwrap();
    let served = tmp.path().join("served");
    std::fs::create_dir(&served).unwrap();
    let bare = create_bare_remote(&served, "deploy.git", &seed_files());
    let hook = bare.join("hooks").join("update");
    std::fs::write(&hook, "#!/bin/sh\necho 'branch protected' >&2\nexit 1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let server = GitHttpServer::start(&served, "x-access-token", TOKEN);
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let (repo, _) = cache.sync(&server.url("deploy.git"), &creds).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let new = commit(&repo, main, &[("README.md", "x\n")]);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    let err = repo.push("tickets/OSW-1", &creds).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GitError::PushRejected { .. }), "{msg}");
    assert!(msg.contains("refs/heads/tickets/OSW-1"), "{msg}");
    assert!(
        git_dir(&bare, &["for-each-ref", "refs/heads/tickets"]).is_empty(),
        "ref created despite the hook"
    );
}

/// A served `deploy.git` synced into a new cache, with the local branch
/// `tickets/OSW-1` one commit (`README.md` set to `readme`) ahead of `main`.
struct TicketToPush {
    _tmp: tempfile::TempDir,
    bare: PathBuf,
    server: GitHttpServer,
    creds: Credentials,
    repo: CachedRepo,
    new: Oid,
}

fn ticket_to_push(readme: &str) -> TicketToPush {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server) = served_deploy(tmp.path());
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let (repo, _) = cache.sync(&server.url("deploy.git"), &creds).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let new = commit(&repo, main, &[("README.md", readme)]);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    TicketToPush {
        _tmp: tmp,
        bare,
        server,
        creds,
        repo,
        new,
    }
}

/// A push whose `git-receive-pack` answers `status` once: retried within
/// the call, the branch lands, and the failed request came first.
fn push_retried_after(status: u16) {
    let TicketToPush {
        _tmp,
        bare,
        server,
        creds,
        repo,
        new,
    } = ticket_to_push("retried\n");
    server.clear();
    server.fail_next_pushes(&[status]);
    repo.push("tickets/OSW-1", &creds).unwrap();
    assert_eq!(
        git_dir(&bare, &["rev-parse", "refs/heads/tickets/OSW-1"]),
        new.to_string()
    );
    let packs: Vec<u16> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/git-receive-pack"))
        .map(|r| r.status)
        .collect();
    assert_eq!(packs, [status, 200]);
}

#[test]
fn http_a_push_answered_500_once_is_retried() {
    push_retried_after(500);
}

#[test]
fn http_a_push_answered_429_once_is_retried_after_the_wait_asked() {
    let started = std::time::Instant::now();
    push_retried_after(429);
    // The fake asks for `Retry-After: 1`.
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
}

#[test]
fn http_a_push_failing_every_time_gives_up_with_the_status() {
    let TicketToPush {
        _tmp,
        bare,
        server,
        creds,
        repo,
        ..
    } = ticket_to_push("never\n");
    server.fail_next_pushes(&[500, 500, 500]);
    let msg = repo.push("tickets/OSW-1", &creds).unwrap_err().to_string();
    assert!(msg.contains("status code: 500"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
    assert!(git_dir(&bare, &["for-each-ref", "refs/heads/tickets"]).is_empty());
}

#[test]
fn unreachable_remote_names_the_url_without_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = RepoCache::new(tmp.path().join("cache"));
    let missing = tmp.path().join("missing.git");
    let err = cache
        .sync(
            &file_url(&missing),
            &Credentials::with_token(TOKEN, "https://github.com"),
        )
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("missing.git"), "{msg}");
    assert!(!msg.contains(TOKEN));
    assert!(!cache.path_for(&file_url(&missing)).exists());
}

/// A server that accepts connections and never answers: the fetch fails
/// after the idle timeout (and its retries), naming the URL, instead of
/// hanging the run.
#[test]
fn a_server_that_stops_answering_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in listener.incoming().take(3) {
            // Keep the connection open, read nothing, answer nothing.
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(10));
    });
    let cache = RepoCache::new(tmp.path().join("cache")).with_timeout(Duration::from_millis(300));
    let url = format!("http://127.0.0.1:{port}/lsst-sqre/phalanx.git");
    let start = Instant::now();
    let err = cache
        .sync(&url, &Credentials::with_token(TOKEN, &url))
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        start.elapsed() < Duration::from_secs(8),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, GitError::Remote { .. }), "{msg}");
    assert!(msg.contains(&url) && msg.contains("timed out"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
    assert!(!cache.path_for(&url).exists());
    drop(held);
}

/// Nothing listening: a connection error naming the URL, never the token.
#[test]
fn a_refused_connection_names_the_url() {
    let tmp = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let cache = RepoCache::new(tmp.path().join("cache"));
    let url = format!("http://127.0.0.1:{port}/lsst-sqre/phalanx.git");
    let err = cache
        .sync(&url, &Credentials::with_token(TOKEN, &url))
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, GitError::Remote { .. }), "{msg}");
    assert!(msg.contains(&url), "{msg}");
    assert!(msg.to_lowercase().contains("connect"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
}

/// `deploy.git` with a history of `commits` commits on `main` (every
/// fourth one merging a side branch, as pull requests land) and a
/// `refs/pull/<n>/head` ref on each side branch's tip, served over smart
/// HTTP accepting only [`TOKEN`]. Returns the bare remote, the server
/// and the pull refs' count.
fn served_history(tmp: &Path, commits: usize) -> (std::path::PathBuf, GitHttpServer, usize) {
    let (bare, server) = served_deploy(tmp);
    let work = tmp.join("history-work");
    support::git(
        tmp,
        &["clone", "-q", &bare.display().to_string(), "history-work"],
    );
    let mut pulls = Vec::new();
    for n in 1..=commits {
        if n % 4 == 0 {
            support::git(
                &work,
                &["checkout", "-q", "-b", &format!("side-{n}"), "HEAD~1"],
            );
            std::fs::write(
                work.join(format!("apps/side-{n}.yaml")),
                format!("n: {n}\n"),
            )
            .unwrap();
            support::git(&work, &["add", "-A"]);
            support::git(&work, &["commit", "-q", "-m", &format!("side {n}")]);
            pulls.push(support::git(&work, &["rev-parse", "HEAD"]));
            support::git(&work, &["checkout", "-q", "main"]);
            support::git(
                &work,
                &[
                    "merge",
                    "-q",
                    "--no-ff",
                    "-m",
                    &format!("Merge {n}"),
                    &format!("side-{n}"),
                ],
            );
        } else {
            std::fs::write(work.join("apps/a/values.yaml"), format!("image: a:{n}-h\n")).unwrap();
            support::git(&work, &["commit", "-q", "-am", &format!("bump {n}")]);
        }
    }
    support::git(&work, &["push", "-q", "origin", "main"]);
    for (n, tip) in pulls.iter().enumerate() {
        git_dir(
            &bare,
            &["update-ref", &format!("refs/pull/{}/head", n + 1), tip],
        );
    }
    git_dir(&bare, &["repack", "-adq"]);
    (bare, server, pulls.len())
}

fn branches(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn http_a_shallow_clone_of_one_branch_pushes_a_pack_the_server_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server, _) = served_history(tmp.path(), 40);
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let url = server.url("deploy.git");

    let (repo, synced) = cache
        .sync_branches(&url, &branches(&["main"]), &creds)
        .unwrap();
    assert_eq!(synced.kind, SyncKind::Cloned);
    assert!(repo.is_shallow());
    let main = repo.remote_branch("main").unwrap().unwrap();
    assert_eq!(main, oid(&git_dir(&bare, &["rev-parse", "main"])));
    // Only the tip: one commit in the cache.
    assert_eq!(git_dir(repo.path(), &["rev-list", "--count", "--all"]), "1");

    // The shallow boundary holds: the tip's parents are not asked for.
    assert_eq!(
        repo.repository().find_commit(main).unwrap().parent_count(),
        0
    );
    let new = push_ticket(
        &repo,
        &creds,
        &bare,
        main,
        &[("apps/a/values.yaml", "image: shallow\n")],
    );
    git_dir(&bare, &["fsck", "--strict", "--no-dangling"]);
    assert_eq!(repo.remote_branch("tickets/OSW-1").unwrap(), Some(new));
}

/// Adds `count` more `refs/pull/<n>/head` refs (numbered after `from`) to
/// `bare`, each on one of its existing pull refs' commits, packed as a
/// hosting service keeps them.
fn add_pull_refs(bare: &Path, from: usize, count: usize) {
    let tips: Vec<String> = git_dir(
        bare,
        &["for-each-ref", "--format=%(objectname)", "refs/pull"],
    )
    .lines()
    .map(str::to_string)
    .collect();
    let mut stdin = String::new();
    for n in 0..count {
        let tip = &tips[n % tips.len()];
        stdin.push_str(&format!("create refs/pull/{}/head {tip}\n", from + n + 1));
    }
    let mut child = std::process::Command::new("git")
        .args([
            "--git-dir",
            &bare.display().to_string(),
            "update-ref",
            "--stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    git_dir(bare, &["pack-refs", "--all"]);
}

fn upload_packs(server: &GitHttpServer) -> Vec<support::git_http::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/git-upload-pack"))
        .collect()
}

#[test]
fn http_a_branch_fetch_neither_asks_for_nor_stores_the_pull_refs() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server, pulls) = served_history(tmp.path(), 40);
    add_pull_refs(&bare, pulls, 3000);
    commit_to_remote(
        &bare,
        "tickets/OSW-9",
        &[file("x", "1")],
        "someone's ticket",
    );
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let url = server.url("deploy.git");
    let main = git_dir(&bare, &["rev-parse", "main"]);

    let (repo, synced) = cache
        .sync_branches(&url, &branches(&["main"]), &creds)
        .unwrap();
    assert_eq!(synced.kind, SyncKind::Cloned);
    // What the remote has, named, without fetching it.
    assert_eq!(
        synced.remote_branches.iter().collect::<Vec<_>>(),
        ["main", "tickets/OSW-9"]
    );
    // One want (main), at depth 1; nothing of the 3,010 pull refs. A
    // shallow fetch over stateless HTTP is two rounds: the shallow
    // boundary, then the pack.
    let asked = upload_packs(&server);
    assert!((1..=2).contains(&asked.len()), "{}", asked.len());
    for request in &asked {
        assert_eq!(request.wants(), std::slice::from_ref(&main));
    }
    assert!(asked[0].pkt_lines().contains(&"deepen 1".to_string()));
    assert_eq!(
        git_dir(repo.path(), &["for-each-ref", "--format=%(refname)"]),
        "refs/remotes/origin/main"
    );
    assert_eq!(git_dir(repo.path(), &["rev-list", "--count", "--all"]), "1");
    git_dir(repo.path(), &["fsck", "--no-dangling"]);
    drop(repo);

    // Nothing new: the advertisement only, no pack request.
    server.clear();
    let (_, synced) = cache
        .sync_branches(&url, &branches(&["main"]), &creds)
        .unwrap();
    assert_eq!(synced.kind, SyncKind::Fetched);
    let lines: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(lines, ["GET /deploy.git/info/refs"]);

    // A new commit on main: it alone, at depth 1; a branch asked for that
    // the remote lacks has no remote-tracking ref.
    let new = commit_to_remote(
        &bare,
        "main",
        &[file("apps/a/values.yaml", "image: new\n")],
        "new",
    );
    server.clear();
    let (repo, _) = cache
        .sync_branches(&url, &branches(&["main", "tickets/OSW-404"]), &creds)
        .unwrap();
    let asked = upload_packs(&server);
    assert!((1..=2).contains(&asked.len()), "{}", asked.len());
    for request in &asked {
        assert_eq!(request.wants(), std::slice::from_ref(&new));
    }
    assert_eq!(repo.remote_branch("main").unwrap(), Some(oid(&new)));
    assert_eq!(repo.remote_branch("tickets/OSW-404").unwrap(), None);
    assert_eq!(
        repo.read_file(oid(&new), "apps/a/values.yaml")
            .unwrap()
            .as_deref(),
        Some("image: new\n")
    );
    git_dir(repo.path(), &["fsck", "--no-dangling"]);

    // A branch fetched later comes alone; one the remote deleted since is
    // pruned at the next fetch.
    server.clear();
    repo.fetch_branches("origin", &branches(&["tickets/OSW-9"]), &creds)
        .unwrap();
    assert_eq!(
        upload_packs(&server)[0].wants(),
        [git_dir(&bare, &["rev-parse", "tickets/OSW-9"])]
    );
    git_dir(&bare, &["branch", "-D", "tickets/OSW-9"]);
    let (repo, synced) = cache
        .sync_branches(&url, &branches(&["main"]), &creds)
        .unwrap();
    assert!(!synced.remote_branches.contains("tickets/OSW-9"));
    assert_eq!(repo.remote_branch("tickets/OSW-9").unwrap(), None);
}

#[test]
fn http_a_push_from_a_shallow_clone_sends_only_the_new_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server, pulls) = served_history(tmp.path(), 40);
    add_pull_refs(&bare, pulls, 3000);
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let url = server.url("deploy.git");
    let (repo, _) = cache
        .sync_branches(&url, &branches(&["main", "tickets/OSW-1"]), &creds)
        .unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let new = commit(&repo, main, &[("apps/a/values.yaml", "image: pushed\n")]);
    repo.set_local_branch("tickets/OSW-1", new).unwrap();
    server.clear();
    repo.push("tickets/OSW-1", &creds).unwrap();
    let pushed: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_push())
        .collect();
    assert_eq!(pushed.len(), 1);
    let commands = pushed[0].pkt_lines();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(
        commands[0].starts_with(&format!(
            "{} {new} refs/heads/tickets/OSW-1",
            "0".repeat(40)
        )),
        "{commands:?}"
    );
    // The commit, three trees and a blob: no history.
    assert!(
        pushed[0].body.len() < 4096,
        "{} bytes",
        pushed[0].body.len()
    );
    git_dir(&bare, &["fsck", "--strict", "--no-dangling"]);

    // A second commit on top updates the branch (its old tip shown to
    // libgit2 with the tracked base).
    push_ticket(&repo, &creds, &bare, new, &[("README.md", "# again\n")]);
    git_dir(&bare, &["fsck", "--strict", "--no-dangling"]);
}

#[test]
fn http_history_checks_on_a_shallow_clone_know_when_to_deepen() {
    let tmp = tempfile::tempdir().unwrap();
    let (bare, server, _) = served_history(tmp.path(), 40);
    // A ticket branch that left main 12 commits ago, two commits long.
    let fork_point = git_dir(&bare, &["rev-parse", "main~12"]);
    git_dir(&bare, &["branch", "tickets/OSW-7", &fork_point]);
    commit_to_remote(&bare, "tickets/OSW-7", &[file("t1", "1")], "t1");
    let ticket = commit_to_remote(&bare, "tickets/OSW-7", &[file("t2", "2")], "t2");
    let cache = RepoCache::new(tmp.path().join("cache"));
    let creds = Credentials::with_token(TOKEN, &server.url(""));
    let url = server.url("deploy.git");
    let wanted = branches(&["main", "tickets/OSW-7"]);
    let (mut repo, _) = cache.sync_branches(&url, &wanted, &creds).unwrap();
    let main = repo.remote_branch("main").unwrap().unwrap();
    let ticket = oid(&ticket);

    // Depth 1: no common history in sight, and the cache says so.
    assert_eq!(repo.merge_base(main, ticket).unwrap(), None);
    assert!(!repo.is_ancestor(oid(&fork_point), ticket).unwrap());
    assert!(!repo.history_complete(&[main, ticket], None).unwrap());

    server.clear();
    repo.deepen("origin", &wanted, 32, &creds).unwrap();
    let asked = upload_packs(&server);
    assert!(
        asked[0].pkt_lines().contains(&"deepen 32".to_string()),
        "{asked:#?}"
    );
    let base = repo.merge_base(main, ticket).unwrap();
    assert_eq!(base, Some(oid(&fork_point)));
    // Above the merge base nothing is cut: the answer is certain.
    assert!(repo.history_complete(&[main, ticket], base).unwrap());
    assert!(repo.is_ancestor(oid(&fork_point), ticket).unwrap());
    assert!(!repo.is_ancestor(main, ticket).unwrap());

    // All of it: no shallow boundary left.
    repo.deepen("origin", &wanted, i32::MAX, &creds).unwrap();
    assert!(!repo.is_shallow());
    assert!(repo.history_complete(&[main, ticket], None).unwrap());
    assert_eq!(
        git_dir(repo.path(), &["rev-list", "--count", "origin/main"]),
        git_dir(&bare, &["rev-list", "--count", "main"])
    );
    git_dir(repo.path(), &["fsck", "--no-dangling"]);
}
