use super::*;
use std::time::Duration;

#[test]
fn sanitize_strips_userinfo() {
    assert_eq!(
        sanitize_url("https://user:s3cret@github.com/o/n.git"),
        "https://github.com/o/n.git"
    );
    assert_eq!(
        sanitize_url("https://tok@github.com/o/n"),
        "https://github.com/o/n"
    );
    assert_eq!(
        sanitize_url("git@github.com:o/n.git"),
        "git@github.com:o/n.git"
    );
    assert_eq!(sanitize_url("file:///tmp/x"), "file:///tmp/x");
    assert_eq!(
        url_for_config("ssh://git:pw@github.com/o/n.git"),
        "ssh://git@github.com/o/n.git"
    );
    assert_eq!(
        url_for_config("https://tok@github.com/o/n"),
        "https://github.com/o/n"
    );
}

#[test]
fn network_urls() {
    for url in [
        "https://github.com/o/n.git",
        "http://127.0.0.1:8080/o/n",
        "ssh://git@github.com/o/n",
        "git@github.com:o/n.git",
    ] {
        assert!(is_network_url(url), "{url}");
    }
    for url in ["file:///tmp/x.git", "/tmp/x.git", "relative/x.git"] {
        assert!(!is_network_url(url), "{url}");
    }
}

#[test]
fn path_for_is_stable_and_credential_free() {
    let cache = RepoCache::new("/c");
    let a = cache.path_for("https://github.com/lsst/phalanx.git");
    let b = cache.path_for("https://x:SECRET@github.com/lsst/phalanx/");
    let c = cache.path_for("https://github.com/lsst/other.git");
    assert_eq!(a, b);
    assert_ne!(a, c);
    let name = a.file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("github.com_lsst_phalanx-"), "{name}");
    assert!(!b.to_string_lossy().contains("SECRET"));
}

#[test]
fn debug_of_credentials_is_redacted() {
    let c = Credentials::with_token("ghp_topsecret", DEFAULT_SERVER);
    let d = format!("{c:?}");
    assert!(d.contains("<redacted>"), "{d}");
    assert!(!d.contains("topsecret"));
    assert!(!Credentials::with_token("  ", DEFAULT_SERVER).has_token());
}

#[test]
fn path_validation() {
    assert_eq!(check_path("a/b.yaml").unwrap(), "a/b.yaml");
    for bad in ["", "/abs", "a/../b", "./a", "a/", ".git/config", "a\\b"] {
        assert!(check_path(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn signatures_prefer_env_then_config() {
    let env = |k: &str| match k {
        "GIT_AUTHOR_NAME" => Some("Ann".to_string()),
        "GIT_COMMITTER_EMAIL" => Some("bot@example.org".to_string()),
        _ => None,
    };
    let cfg = |k: &str| match k {
        "user.name" => Some("Cfg".to_string()),
        "user.email" => Some("cfg@example.org".to_string()),
        _ => None,
    };
    let (a, c) = signatures_from(env, cfg).unwrap();
    assert_eq!(a.name().unwrap(), "Ann");
    assert_eq!(a.email().unwrap(), "cfg@example.org");
    assert_eq!(c.name().unwrap(), "Ann");
    assert_eq!(c.email().unwrap(), "bot@example.org");
    let err = signatures_from(|_| None, |_| None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("GIT_AUTHOR_NAME") && err.contains("user.name"),
        "{err}"
    );
}

#[test]
fn transient_classification() {
    let remote = |m: &str| GitError::Remote {
        op: "fetching",
        url: "u".into(),
        message: m.into(),
    };
    assert!(is_transient(&remote(
        "failed to connect to x: Connection refused"
    )));
    assert!(is_transient(&remote("unexpected http status code: 502")));
    assert!(!is_transient(&remote("unexpected http status code: 404")));
    assert!(!is_transient(&remote(
        "failed to resolve path '/x/missing.git': No such file or directory"
    )));
    assert!(is_transient(&remote(
        "failed to resolve address for github.com: Name or service not known"
    )));
    assert!(!is_transient(&GitError::AuthRejected { url: "u".into() }));
    let limited = remote("unexpected http status code: 429 (retry after 3s)");
    assert!(is_transient(&limited));
    assert_eq!(retry_after(&limited), Some(Duration::from_secs(3)));
    assert_eq!(
        retry_after(&remote("unexpected http status code: 500")),
        None
    );
}
