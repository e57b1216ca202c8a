//! The GitHub pull-request adapter (`cycle::services::github`) against the
//! stateful fake in `support/github_fake.rs`: what it sends, what it leaves
//! behind, and how it fails.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cycle::services::github::{
    self, Config, GithubClient, GithubError, PrAction, PrFinding, PrState, PullRequestApi,
    PullRequestRequest,
};
use cycle::services::http::{RetryPolicy, Secret};
use support::github_fake::{BOT, FakePull, Fault, GithubFake, PullState, TOKEN};
use support::http_fake::Request;

const REPO: &str = "lsst-sqre/phalanx";
const BODY: &str = "Configuration for Cycle 44 at the summit, ticket [OSW-2010](https://rubinobs.atlassian.net/browse/OSW-2010).\n\n- New tag: `c0044`\n- 88 revisions reset to 0\n";

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_wait: Duration::from_secs(3),
    }
}

fn client_at(url: &str, token: &str) -> GithubClient {
    let config = Config::new(url, Secret::new(token))
        .unwrap()
        .with_retry_policy(policy());
    GithubClient::new(config).unwrap()
}

fn client(fake: &GithubFake) -> GithubClient {
    client_at(&fake.url(), TOKEN)
}

fn spec() -> PullRequestRequest {
    PullRequestRequest {
        repo: REPO.into(),
        head_owner: "lsst-sqre".into(),
        head: "tickets/OSW-2010".into(),
        base: "main".into(),
        title: "Cycle 44 Summit configuration".into(),
        body: BODY.into(),
        draft: true,
        labels: vec!["cycle-upgrade".into(), "summit".into()],
        reviewers: vec!["alice".into(), "bob".into()],
        team_reviewers: vec!["lsst-ts/build-team".into()],
    }
}

/// A pull request made by hand that matches `spec()` entirely.
fn matching_pull() -> FakePull {
    let mut p = FakePull::open(
        REPO,
        "lsst-sqre:tickets/OSW-2010",
        "main",
        "Cycle 44 Summit configuration",
        &BODY.replace('\n', "\r\n"),
    );
    p.labels = vec!["summit".into(), "Cycle-Upgrade".into()];
    p.requested_reviewers = vec!["alice".into(), "bob".into()];
    p.requested_teams = vec!["build-team".into()];
    p
}

fn summary(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn assert_secret_free(err: &GithubError, token: &str) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(token), "token leaked: {shown}");
}

#[tokio::test]
async fn opens_a_pull_request_when_none_exists() {
    let fake = GithubFake::start();
    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Opened);
    assert_eq!(
        out.url,
        format!("https://github.com/{REPO}/pull/{}", out.number)
    );

    let requests = fake.requests();
    assert_eq!(
        summary(&requests),
        [
            "GET /repos/lsst-sqre/phalanx/pulls",
            "POST /repos/lsst-sqre/phalanx/pulls",
            &format!(
                "POST /repos/lsst-sqre/phalanx/pulls/{}/requested_reviewers",
                out.number
            ),
            &format!("POST /repos/lsst-sqre/phalanx/issues/{}/labels", out.number),
        ]
    );
    let list = &requests[0];
    assert_eq!(
        list.param("head").as_deref(),
        Some("lsst-sqre:tickets/OSW-2010")
    );
    assert_eq!(list.param("base").as_deref(), Some("main"));
    assert_eq!(list.param("state").as_deref(), Some("all"));
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert!(!r.path.contains(TOKEN) && !r.query.contains(TOKEN));
    }
    let create = requests[1].json();
    assert_eq!(create["head"], "tickets/OSW-2010");
    assert_eq!(create["base"], "main");
    assert_eq!(create["title"], "Cycle 44 Summit configuration");
    assert_eq!(create["draft"], true);
    assert!(create["body"].as_str().unwrap().contains("OSW-2010"));
    assert_eq!(requests[1].header("content-type"), Some("application/json"));
    let reviewers = requests[2].json();
    assert_eq!(reviewers["reviewers"], serde_json::json!(["alice", "bob"]));
    assert_eq!(
        reviewers["team_reviewers"],
        serde_json::json!(["build-team"])
    );
    assert_eq!(
        requests[3].json()["labels"],
        serde_json::json!(["cycle-upgrade", "summit"])
    );

    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    let p = &pulls[0];
    assert_eq!(
        (p.number, p.state, p.draft),
        (out.number, PullState::Open, true)
    );
    assert_eq!(
        (p.head_owner.as_str(), p.head_ref.as_str()),
        ("lsst-sqre", "tickets/OSW-2010")
    );
    assert_eq!(p.author, BOT);
    assert_eq!(p.requested_reviewers, ["alice", "bob"]);
    assert_eq!(p.requested_teams, ["build-team"]);
    assert_eq!(p.labels, ["cycle-upgrade", "summit"]);
}

#[tokio::test]
async fn reuses_an_open_pull_request_and_updates_only_its_body() {
    let fake = GithubFake::start();
    let mut existing = matching_pull();
    existing.body = Some("Old text for OSW-2010".into());
    let number = fake.add_pull(existing);

    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!((out.number, out.action), (number, PrAction::Updated));
    let writes = fake.writes();
    assert_eq!(
        summary(&writes),
        [format!("PATCH /repos/lsst-sqre/phalanx/pulls/{number}")]
    );
    let patch = writes[0].json();
    assert_eq!(patch["body"], BODY);
    assert!(patch.get("title").is_none(), "{patch}");
    assert_eq!(fake.pull(REPO, number).unwrap().body.as_deref(), Some(BODY));
    assert_eq!(fake.pulls().len(), 1);
}

#[tokio::test]
async fn an_identical_pull_request_gets_no_write() {
    let fake = GithubFake::start();
    let number = fake.add_pull(matching_pull());
    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!((out.number, out.action), (number, PrAction::Unchanged));
    assert!(fake.writes().is_empty(), "{:?}", summary(&fake.writes()));
    assert_eq!(
        summary(&fake.requests()),
        ["GET /repos/lsst-sqre/phalanx/pulls"]
    );
}

#[tokio::test]
async fn on_reuse_only_reviewers_neither_requested_nor_reviewed_are_asked() {
    let fake = GithubFake::start();
    let mut existing = matching_pull();
    existing.requested_reviewers = vec![];
    existing.requested_teams = vec!["build-team".into()];
    let number = fake.add_pull(existing);
    fake.add_review(REPO, number, "alice");

    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Updated);
    let requests = fake.requests();
    assert_eq!(
        summary(&requests),
        [
            "GET /repos/lsst-sqre/phalanx/pulls".to_string(),
            format!("GET /repos/lsst-sqre/phalanx/pulls/{number}/reviews"),
            format!("POST /repos/lsst-sqre/phalanx/pulls/{number}/requested_reviewers"),
        ]
    );
    assert_eq!(requests[2].json()["reviewers"], serde_json::json!(["bob"]));
    assert_eq!(requests[2].json()["team_reviewers"], serde_json::json!([]));

    // Once bob has reviewed too, a run writes nothing.
    fake.add_review(REPO, number, "bob");
    fake.clear();
    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Unchanged);
    assert!(fake.writes().is_empty(), "{:?}", summary(&fake.writes()));
}

#[tokio::test]
async fn a_rerun_sends_no_write_request() {
    let fake = GithubFake::start();
    // The engine holds the adapter as a trait object.
    let client: Arc<dyn PullRequestApi> = Arc::new(client(&fake));
    let client = client.as_ref();
    let first = github::ensure(client, &spec()).await.unwrap();
    assert_eq!(first.action, PrAction::Opened);
    let writes = fake.writes().len();
    let second = github::ensure(client, &spec()).await.unwrap();
    assert_eq!(
        (second.number, second.action),
        (first.number, PrAction::Unchanged)
    );
    assert_eq!(fake.writes().len(), writes);
    assert_eq!(fake.pulls().len(), 1);
}

#[tokio::test]
async fn already_exists_422_is_read_as_found() {
    let fake = GithubFake::start();
    let number = fake.add_pull(matching_pull());
    // The first list lags behind (GitHub's lists are eventually consistent).
    fake.fail_next("GET", "/pulls", Fault::StaleEmptyList);

    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!((out.number, out.action), (number, PrAction::Unchanged));
    assert_eq!(
        summary(&fake.requests()),
        [
            "GET /repos/lsst-sqre/phalanx/pulls",
            "POST /repos/lsst-sqre/phalanx/pulls",
            "GET /repos/lsst-sqre/phalanx/pulls",
        ]
    );
    assert_eq!(fake.pulls().len(), 1);
}

#[tokio::test]
async fn a_merged_pull_request_finishes_as_merged() {
    let fake = GithubFake::start();
    let mut old = matching_pull();
    old.body = Some("something else".into());
    let number = fake.add_pull(old);
    fake.merge(REPO, number);

    let client = client(&fake);
    let out = github::ensure(&client, &spec()).await.unwrap();
    assert_eq!((out.number, out.action), (number, PrAction::Merged));
    assert!(fake.writes().is_empty());
    match github::find(&client, &spec()).await.unwrap() {
        PrFinding::Merged(pr) => assert_eq!((pr.number, pr.state), (number, PrState::Merged)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_pull_request_closed_without_merging_is_an_error_naming_it() {
    let fake = GithubFake::start();
    let number = fake.add_pull(matching_pull());
    fake.close(REPO, number);

    let err = github::ensure(&client(&fake), &spec()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GithubError::ClosedUnmerged { .. }), "{err:?}");
    assert!(text.contains(&format!("#{number}")), "{text}");
    assert!(
        text.contains(&format!("https://github.com/{REPO}/pull/{number}")),
        "{text}"
    );
    assert!(text.contains("closed without merging"), "{text}");
    assert!(fake.writes().is_empty(), "never reopened nor duplicated");
    assert_eq!(fake.pulls().len(), 1);
    assert_eq!(fake.pulls()[0].state, PullState::Closed);
    assert_secret_free(&err, TOKEN);
}

#[tokio::test]
async fn a_fork_head_is_owner_prefixed() {
    let fake = GithubFake::start();
    let mut s = spec();
    s.head_owner = "fork".into();
    s.head = "tickets/OSW-2735".into();
    let out = github::ensure(&client(&fake), &s).await.unwrap();
    assert_eq!(out.action, PrAction::Opened);
    let requests = fake.requests();
    assert_eq!(
        requests[0].param("head").as_deref(),
        Some("fork:tickets/OSW-2735")
    );
    assert_eq!(requests[1].json()["head"], "fork:tickets/OSW-2735");
    let p = &fake.pulls()[0];
    assert_eq!(
        (p.head_owner.as_str(), p.head_ref.as_str()),
        ("fork", "tickets/OSW-2735")
    );

    // A pull request from the repository's own branch of the same name is another one.
    fake.add_pull(FakePull::open(
        REPO,
        "tickets/OSW-2735",
        "main",
        "other",
        "",
    ));
    fake.clear();
    let again = github::ensure(&client(&fake), &s).await.unwrap();
    assert_eq!(
        (again.number, again.action),
        (out.number, PrAction::Unchanged)
    );
}

#[tokio::test]
async fn secondary_rate_limit_and_429_are_waited_out() {
    let fake = GithubFake::start();
    fake.fail_next(
        "GET",
        "/pulls",
        Fault::SecondaryRateLimit { retry_after: 1 },
    );
    fake.fail_next("POST", "/pulls", Fault::TooManyRequests { retry_after: 1 });

    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Opened);
    let requests = fake.requests();
    assert_eq!(
        summary(&requests[..5]),
        [
            "GET /repos/lsst-sqre/phalanx/pulls", // 403 secondary limit, Retry-After: 1
            "GET /repos/lsst-sqre/phalanx/pulls",
            "POST /repos/lsst-sqre/phalanx/pulls", // 429, Retry-After: 1
            "GET /repos/lsst-sqre/phalanx/pulls",  // look again before creating again
            "POST /repos/lsst-sqre/phalanx/pulls",
        ]
    );
    assert_eq!(requests[3].param("state").as_deref(), Some("open"));
    let gap = |a: &Request, b: &Request| b.at.duration_since(a.at);
    assert!(gap(&requests[0], &requests[1]) >= Duration::from_millis(950));
    assert!(gap(&requests[2], &requests[3]) >= Duration::from_millis(950));
    assert_eq!(fake.pulls().len(), 1);
}

#[tokio::test]
async fn a_long_rate_limit_is_reported_not_waited() {
    let fake = GithubFake::start();
    fake.fail_next("GET", "/pulls", Fault::PrimaryRateLimit { reset_in: 3600 });
    let started = Instant::now();
    let err = github::ensure(&client(&fake), &spec()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    let text = err.to_string();
    let GithubError::RateLimited {
        status, retry_at, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*status, 403);
    let wait = (retry_at.unwrap() - chrono::Utc::now()).num_seconds();
    assert!((3590..=3600).contains(&wait), "{wait}");
    assert!(text.contains("API rate limit exceeded"), "{text}");
    assert!(text.contains("allows the next request at"), "{text}");
    assert_eq!(fake.requests().len(), 1);

    fake.fail_next(
        "GET",
        "/pulls",
        Fault::SecondaryRateLimit { retry_after: 600 },
    );
    let err = github::ensure(&client(&fake), &spec()).await.unwrap_err();
    assert!(err.to_string().contains("secondary rate limit"), "{err}");
    assert!(matches!(
        err,
        GithubError::RateLimited {
            retry_at: Some(_),
            ..
        }
    ));
    assert!(fake.writes().is_empty());
    assert_secret_free(&err, TOKEN);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let fake = GithubFake::start();
    let mut existing = matching_pull();
    existing.title = "Cycle 44 summit config".into();
    let number = fake.add_pull(existing);
    fake.fail_next("GET", "/pulls", Fault::ServerError);
    fake.fail_next("PATCH", &format!("/pulls/{number}"), Fault::BadGateway);

    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Updated);
    assert_eq!(
        summary(&fake.requests()),
        [
            "GET /repos/lsst-sqre/phalanx/pulls".to_string(),
            "GET /repos/lsst-sqre/phalanx/pulls".to_string(),
            format!("PATCH /repos/lsst-sqre/phalanx/pulls/{number}"),
            format!("PATCH /repos/lsst-sqre/phalanx/pulls/{number}"),
        ]
    );
    assert_eq!(
        fake.pull(REPO, number).unwrap().title,
        "Cycle 44 Summit configuration"
    );
}

#[tokio::test]
async fn persistent_server_errors_end_in_one_error_quoting_github() {
    let fake = GithubFake::start();
    for _ in 0..policy().attempts {
        fake.fail_next("GET", "/pulls", Fault::ServerError);
    }
    let err = github::ensure(&client(&fake), &spec()).await.unwrap_err();
    assert_eq!(fake.requests().len(), policy().attempts as usize);
    let text = err.to_string();
    assert!(
        matches!(err, GithubError::Api { status: 500, .. }),
        "{err:?}"
    );
    assert!(
        text.contains("GET http://127.0.0.1:")
            && text.contains("/repos/lsst-sqre/phalanx/pulls failed with 500: Server Error"),
        "{text}"
    );
    assert!(!text.contains("head="), "no query in messages: {text}");
}

#[tokio::test]
async fn a_lost_create_response_does_not_open_twice() {
    let fake = GithubFake::start();
    fake.fail_next("POST", "/pulls", Fault::LoseResponse);
    let out = github::ensure(&client(&fake), &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Opened);
    assert_eq!(fake.pulls().len(), 1);
    assert_eq!(out.number, fake.pulls()[0].number);
    let creates = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/pulls"))
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test]
async fn find_reads_only_and_shows_the_body_diff() {
    let fake = GithubFake::start();
    let client = client(&fake);
    assert_eq!(
        github::find(&client, &spec()).await.unwrap(),
        PrFinding::None
    );

    let number = fake.add_pull(matching_pull());
    assert!(matches!(
        github::find(&client, &spec()).await.unwrap(),
        PrFinding::Identical(pr) if pr.number == number
    ));

    let mut s = spec();
    s.body.push_str("- 2 files changed\n");
    match github::find(&client, &s).await.unwrap() {
        PrFinding::Differs {
            pr,
            title,
            body_diff,
        } => {
            assert_eq!(pr.number, number);
            assert_eq!(title, None);
            let diff = body_diff.unwrap();
            assert!(diff.contains("+- 2 files changed"), "{diff}");
        }
        other => panic!("{other:?}"),
    }
    fake.close(REPO, number);
    assert!(matches!(
        github::find(&client, &spec()).await.unwrap(),
        PrFinding::Closed(_)
    ));
    assert!(fake.writes().is_empty());
}

#[tokio::test]
async fn github_enterprise_api_path_is_kept() {
    let fake = GithubFake::start();
    let client = client_at(&format!("{}/api/v3", fake.url()), TOKEN);
    let out = github::ensure(&client, &spec()).await.unwrap();
    assert_eq!(out.action, PrAction::Opened);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.path.starts_with("/api/v3/repos/lsst-sqre/phalanx/")),
        "{:?}",
        summary(&fake.requests())
    );
}

#[tokio::test]
async fn a_rejected_token_is_one_clear_error_without_the_token() {
    let fake = GithubFake::start();
    let wrong = "ghp_WrongTokenShouldNeverBeShown42";
    let err = github::ensure(&client_at(&fake.url(), wrong), &spec())
        .await
        .unwrap_err();
    assert!(
        matches!(err, GithubError::Credentials { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("GITHUB_TOKEN") && text.contains("Bad credentials"),
        "{text}"
    );
    assert_eq!(fake.requests().len(), 1, "a 401 is not retried");
    assert_secret_free(&err, wrong);
    let config = Config::new(&fake.url(), Secret::new(wrong)).unwrap();
    assert!(!format!("{config:?}").contains(wrong));
    assert!(!format!("{:?}", GithubClient::new(config).unwrap()).contains(wrong));
}

#[tokio::test]
async fn an_unreachable_server_is_one_error_naming_the_host_and_not_retried() {
    let url = {
        let fake = GithubFake::start();
        fake.url()
    };
    let client = client_at(&url, TOKEN);
    let err = github::ensure(&client, &spec()).await.unwrap_err();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(
        matches!(&err, GithubError::Unreachable { host: h, cause: "the connection was refused" } if h == host),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("cannot reach {host}: the connection was refused")
    );
    // The host is remembered: the next request is not even sent.
    let again = github::ensure(&client, &spec()).await.unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    assert_secret_free(&err, TOKEN);
}

#[test]
fn a_missing_token_is_one_error_naming_the_variable() {
    let err = Config::from_vars(|name| {
        (name == github::API_URL_ENV).then(|| "https://ghe.example.org/api/v3".to_string())
    })
    .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, GithubError::NotConfigured { .. }), "{err:?}");
    assert!(text.contains("set GITHUB_TOKEN"), "{text}");
    let empty = Config::from_vars(|name| (name == github::TOKEN_ENV).then(|| "   ".to_string()));
    assert!(matches!(empty, Err(GithubError::NotConfigured { .. })));
}

#[test]
fn an_invalid_spec_is_refused_before_any_request() {
    let mut s = spec();
    s.repo = "phalanx".into();
    let err = s.validate().unwrap_err();
    assert!(err.to_string().contains("owner/name"), "{err}");
}
