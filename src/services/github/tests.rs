#[test]
fn the_sticky_comment_s_author_is_the_token_s_identity() {
    let author = |login: &str, kind: &str| CommentAuthor {
        login: login.into(),
        kind: kind.into(),
    };
    let user = Identity::User("cycle-bot".into());
    assert!(user.wrote(&author("cycle-bot", "User")));
    assert!(user.wrote(&author("Cycle-Bot", "User")));
    assert!(!user.wrote(&author("rbovill", "User")));
    assert!(!user.wrote(&author("github-actions[bot]", "Bot")));
    let app = Identity::Installation;
    assert!(app.wrote(&author("github-actions[bot]", "Bot")));
    assert!(!app.wrote(&author("rbovill", "User")));
    // A person cannot be a bot by name alone.
    assert!(!app.wrote(&author("mallory[bot]", "User")));
    assert!(!app.wrote(&author("cycle-bot", "Bot")));
}
use super::*;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::json;

use crate::services::http::{RetryError, Secret};
use reqwest::header::HeaderValue;

fn spec() -> PullRequestRequest {
    PullRequestRequest {
        repo: "lsst-sqre/phalanx".into(),
        head_owner: "lsst-sqre".into(),
        head: "tickets/OSW-2010".into(),
        base: "main".into(),
        title: "Cycle 44 Summit configuration".into(),
        body: "OSW-2010\n\n- New tag: `c0044`\n".into(),
        draft: false,
        labels: vec!["cycle".into()],
        reviewers: vec!["alice".into(), "bob".into()],
        team_reviewers: vec!["lsst-ts/build-team".into()],
    }
}

fn pr(number: u64, state: PrState) -> PullRequest {
    PullRequest {
        number,
        url: format!("https://github.com/lsst-sqre/phalanx/pull/{number}"),
        state,
        title: "Cycle 44 Summit configuration".into(),
        body: "OSW-2010\r\n\r\n- New tag: `c0044`".into(),
        draft: false,
        author: Some("cycle-bot".into()),
        head: "lsst-sqre:tickets/OSW-2010".into(),
        base: "main".into(),
        labels: vec!["Cycle".into()],
        requested_reviewers: vec!["Alice".into()],
        requested_teams: vec![],
    }
}

#[test]
fn config_needs_a_token_and_an_http_url() {
    let err = Config::from_vars(|_| None).unwrap_err();
    assert!(matches!(&err, GithubError::NotConfigured { vars } if vars == &["GITHUB_TOKEN"]));
    assert!(err.to_string().contains("set GITHUB_TOKEN"), "{err}");
    let c = Config::from_vars(|n| (n == TOKEN_ENV).then(|| "  tok-1 \n".into())).unwrap();
    assert_eq!(c.api_url(), "https://api.github.com/");
    assert!(!format!("{c:?}").contains("tok-1"));
    let ghe = |url: &str| {
        Config::from_vars(|n| match n {
            TOKEN_ENV => Some("tok-1".into()),
            _ => Some(url.into()),
        })
    };
    assert_eq!(
        ghe("https://ghe.example.org/api/v3").unwrap().api_url(),
        "https://ghe.example.org/api/v3"
    );
    let err = ghe("https://user:tok-1@ghe.example.org/api/v3").unwrap_err();
    assert!(!err.to_string().contains("tok-1"), "{err}");
    assert!(matches!(
        ghe("ftp://x/").unwrap_err(),
        GithubError::InvalidApiUrl { .. }
    ));
    assert!(matches!(
        Config::new(DEFAULT_API_URL, Secret::new("a b")),
        Err(GithubError::InvalidToken)
    ));
}

#[test]
fn spec_validation_names_the_field() {
    assert_eq!(
        spec().validate().unwrap(),
        RepoName {
            owner: "lsst-sqre".into(),
            name: "phalanx".into()
        }
    );
    let bad = |f: fn(&mut PullRequestRequest)| {
        let mut s = spec();
        f(&mut s);
        s.validate().unwrap_err().to_string()
    };
    assert!(bad(|s| s.repo = "phalanx".into()).contains("owner/name"));
    assert!(bad(|s| s.repo = "a/b/c".into()).contains("owner/name"));
    assert!(bad(|s| s.head_owner = "a:b".into()).contains("head owner"));
    assert!(bad(|s| s.head = "".into()).contains("head branch"));
    assert!(bad(|s| s.base = "ma in".into()).contains("base branch"));
    assert!(bad(|s| s.title = " ".into()).contains("title"));
}

#[test]
fn pick_prefers_open_then_merged_then_closed_newest_first() {
    assert_eq!(pick(&[]), None);
    let list = [
        pr(1, PrState::Closed),
        pr(3, PrState::Merged),
        pr(2, PrState::Merged),
    ];
    assert_eq!(pick(&list).map(|p| p.number), Some(3));
    let list = [
        pr(1, PrState::Closed),
        pr(4, PrState::Open),
        pr(3, PrState::Merged),
    ];
    assert_eq!(pick(&list).map(|p| p.number), Some(4));
    assert_eq!(pick(&[pr(1, PrState::Closed)]).map(|p| p.number), Some(1));
}

#[test]
fn update_only_what_differs_ignoring_line_endings() {
    let open = pr(7, PrState::Open);
    assert_eq!(pull_update(&open, &spec()), None);
    let mut s = spec();
    s.body.push_str("- 3 revisions reset to 0\n");
    let update = pull_update(&open, &s).unwrap();
    assert_eq!(update.title, None);
    assert_eq!(update.body.as_deref(), Some(s.body.as_str()));
    let diff = body_diff(&open.body, &s.body);
    assert!(diff.contains("+- 3 revisions reset to 0"), "{diff}");
    assert!(!diff.contains("-OSW-2010"), "{diff}");
    s.title = "Cycle 45 Summit configuration".into();
    let update = pull_update(&open, &s).unwrap();
    assert_eq!(
        update.title.as_deref(),
        Some("Cycle 45 Summit configuration")
    );
    assert_eq!(
        serde_json::to_value(PullUpdate {
            title: None,
            body: Some("b".into()),
            state: None,
        })
        .unwrap(),
        json!({"body": "b"})
    );
}

#[test]
fn reviewers_and_labels_only_the_missing_ones() {
    let mut s = spec();
    s.reviewers.push("cycle-bot".into());
    s.reviewers.push("BOB".into());
    let open = pr(7, PrState::Open);
    let r = missing_reviewers(&s, &open, &[]);
    assert_eq!(r.reviewers, ["bob"]);
    assert_eq!(r.team_reviewers, ["build-team"]);
    let r = missing_reviewers(&s, &open, &["bob".into()]);
    assert!(r.is_empty(), "{r:?}");
    assert_eq!(missing_labels(&s, &open), Vec::<String>::new());
    s.labels = vec!["cycle".into(), "summit".into(), "Summit".into()];
    assert_eq!(missing_labels(&s, &open), ["summit"]);
}

#[test]
fn create_body_uses_owner_prefix_only_from_a_fork() {
    let repo = spec().validate().unwrap();
    let mut new = NewPull::from_spec(&spec());
    let body = create_body(&repo, &new);
    assert_eq!(body["head"], "tickets/OSW-2010");
    assert_eq!(body["base"], "main");
    assert_eq!(body["draft"], false);
    new.head_owner = "fork".into();
    assert_eq!(create_body(&repo, &new)["head"], "fork:tickets/OSW-2010");
}

#[test]
fn github_error_bodies_are_quoted() {
    let exists = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for lsst-sqre:tickets/OSW-2010."}],"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}"#;
    assert!(already_exists(StatusCode::UNPROCESSABLE_ENTITY, exists));
    assert!(!already_exists(StatusCode::BAD_REQUEST, exists));
    assert_eq!(
        error_text(StatusCode::UNPROCESSABLE_ENTITY, exists),
        "Validation Failed: A pull request already exists for lsst-sqre:tickets/OSW-2010."
    );
    let invalid = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","field":"head","code":"invalid"}]}"#;
    assert!(!already_exists(StatusCode::UNPROCESSABLE_ENTITY, invalid));
    assert_eq!(
        error_text(StatusCode::UNPROCESSABLE_ENTITY, invalid),
        "Validation Failed: PullRequest.head: invalid"
    );
    assert_eq!(error_text(StatusCode::BAD_GATEWAY, ""), "Bad Gateway");
    assert_eq!(
        error_text(StatusCode::BAD_GATEWAY, "<html>oops"),
        "Bad Gateway"
    );
    assert_eq!(
        error_text(StatusCode::BAD_GATEWAY, "upstream timed out"),
        "upstream timed out"
    );
}

#[test]
fn rate_limits_are_told_from_other_refusals() {
    let none = HeaderMap::new();
    assert_eq!(
        rate_limit_wait(StatusCode::FORBIDDEN, &none, "Resource not accessible"),
        None
    );
    assert_eq!(
        rate_limit_wait(
            StatusCode::FORBIDDEN,
            &none,
            "You have exceeded a secondary rate limit."
        ),
        Some(SECONDARY_LIMIT_WAIT)
    );
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("2"));
    assert_eq!(
        rate_limit_wait(StatusCode::FORBIDDEN, &h, "x"),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h, "x"),
        Some(Duration::from_secs(2))
    );
    assert_eq!(
        rate_limit_wait(StatusCode::UNAUTHORIZED, &h, "Bad credentials"),
        None
    );
}

#[test]
fn a_long_wait_names_the_reset_time() {
    let err = GithubError::RateLimited {
        method: "GET",
        url: "https://api.github.com/repos/o/r/pulls".into(),
        status: 403,
        message: "You have exceeded a secondary rate limit.".into(),
        retry_at: None,
    }
    .wait_too_long(Duration::from_secs(3600));
    let text = err.to_string();
    assert!(text.contains("allows the next request at"), "{text}");
    assert!(
        text.contains("UTC (in 3599 s)") || text.contains("UTC (in 3600 s)"),
        "{text}"
    );
}

#[test]
fn wire_pulls_read_state_from_merged_at() {
    let w: WirePull = serde_json::from_value(json!({
        "number": 5, "html_url": "https://github.com/o/r/pull/5", "state": "closed",
        "title": "t", "body": null, "merged_at": "2026-01-02T03:04:05Z",
        "user": {"login": "u"}, "head": {"ref": "b", "label": "fork:b"},
        "base": {"ref": "main", "label": "o:main"}, "labels": null,
        "requested_reviewers": [{"login": "r"}], "requested_teams": [{"slug": "t"}]
    }))
    .unwrap();
    let p = PullRequest::from(w);
    assert_eq!(
        (p.state, p.body.as_str(), p.head.as_str()),
        (PrState::Merged, "", "fork:b")
    );
    assert_eq!(
        (p.requested_reviewers, p.requested_teams),
        (vec!["r".to_string()], vec!["t".to_string()])
    );
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(
        query(&[("head", "o:tickets/OSW-1"), ("state", "all")]),
        "head=o%3Atickets%2FOSW-1&state=all"
    );
}

#[test]
fn link_headers_say_whether_another_page_follows() {
    let mut headers = HeaderMap::new();
    assert!(!has_next_page(&headers));
    headers.insert(
        reqwest::header::LINK,
        HeaderValue::from_static(
            "<https://api.github.com/repositories/1/tags?page=1>; rel=\"prev\", \
                 <https://api.github.com/repositories/1/tags?page=3>; rel=\"next\"",
        ),
    );
    assert!(has_next_page(&headers));
    headers.insert(
        reqwest::header::LINK,
        HeaderValue::from_static("<https://api.github.com/x?page=1>; rel=\"first\""),
    );
    assert!(!has_next_page(&headers));
}
