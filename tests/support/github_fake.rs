//! A stateful fake of GitHub's pull-request REST API on [`FakeServer`],
//! answering as the public documentation says (status codes, JSON shapes,
//! error bodies):
//!
//! - `GET /repos/{o}/{r}/pulls` (`state` open/closed/all, `head` `user:ref`
//!   or `user`, `base`, `per_page`, `page`; newest first)
//! - `POST /repos/{o}/{r}/pulls` (201; 422 "A pull request already exists
//!   for owner:branch." while one is open for that head and base; 422
//!   `missing_field` without title, head or base)
//! - `GET` and `PATCH /repos/{o}/{r}/pulls/{n}` (title, body, state)
//! - `POST /repos/{o}/{r}/pulls/{n}/requested_reviewers` (201; 422 for the
//!   author) and `GET .../pulls/{n}/reviews`
//! - `POST /repos/{o}/{r}/issues/{n}/labels` (200, every label of the issue)
//! - `GET /repos/{o}/{r}/tags` (`per_page` at most 100, `page`; a `Link`
//!   header with `rel="next"` while more pages follow; 404 for an unknown
//!   repository)
//!
//! Every request must carry `Authorization: Bearer <token>` (or `token
//! <token>`), else 401 "Bad credentials". Answers carry `x-ratelimit-*`
//! headers. Paths may be prefixed with `/api/v3` (GitHub Enterprise).
//! Faults are scripted per method and path ([`GithubFake::fail_next`]):
//! 5xx, secondary rate limits (403 + `Retry-After`), 429, a primary limit
//! (403, `x-ratelimit-remaining: 0`), and a lost response after the request
//! took effect, or a stale empty list. Pull requests can be made, merged, closed and reviewed "by
//! hand".

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::http_fake::{FakeServer, Reply, Request};

/// The token the fake accepts.
pub const TOKEN: &str = "ghp_FakeT0ken4Tests0123456789abcdefXYZ";
/// An installation token, as GitHub Actions gives a workflow run
/// (`secrets.GITHUB_TOKEN`, `pull-requests: write`): accepted, but `GET
/// /user` answers 403 "Resource not accessible by integration", `GET
/// /repos/{o}/{r}` shows no `permissions`, and what it writes is authored
/// by [`ACTIONS_BOT`].
pub const INSTALLATION_TOKEN: &str = "ghs_FakeInstallati0nT0ken4ActionsRunsXYZ";
/// The installation token of a pull request from a fork: read only (every
/// write answers 403 "Resource not accessible by integration").
pub const READ_ONLY_TOKEN: &str = "ghs_FakeRead0nlyForkT0ken4ActionsRunsXYZ";
/// The bot account an installation token's comments are authored by.
pub const ACTIONS_BOT: &str = "github-actions[bot]";
/// GitHub's message for what an installation token may not do.
pub const INTEGRATION_REFUSAL: &str = "Resource not accessible by integration";
/// The login pull requests opened through the API are authored by.
pub const BOT: &str = "cycle-bot";
/// GitHub's message for a secondary rate limit.
pub const SECONDARY_LIMIT_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 8844:3EDF1D:1F13C4:2BB820:652AAB04.";
const RATE_LIMIT: u64 = 5000;

/// State of a fake pull request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullState {
    /// Open.
    Open,
    /// Closed without merging.
    Closed,
    /// Merged (closed, `merged_at` set).
    Merged,
}

/// A pull request held by the fake.
#[derive(Clone, Debug)]
pub struct FakePull {
    /// `owner/name` of the base repository.
    pub repo: String,
    /// Number (assigned by [`GithubFake::add_pull`] and on creation).
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body (`None`: GitHub's `null`).
    pub body: Option<String>,
    /// Owner of the head repository.
    pub head_owner: String,
    /// Head branch.
    pub head_ref: String,
    /// Base branch.
    pub base: String,
    /// State.
    pub state: PullState,
    /// Draft.
    pub draft: bool,
    /// Author's login.
    pub author: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Logins whose review is requested.
    pub requested_reviewers: Vec<String>,
    /// Team slugs whose review is requested.
    pub requested_teams: Vec<String>,
    /// Logins that reviewed.
    pub reviews: Vec<String>,
}

impl FakePull {
    /// An open pull request made by hand (author `someone`).
    pub fn open(repo: &str, head: &str, base: &str, title: &str, body: &str) -> Self {
        let (owner, branch) = head
            .split_once(':')
            .unwrap_or((repo.split('/').next().unwrap_or(repo), head));
        Self {
            repo: repo.into(),
            number: 0,
            title: title.into(),
            body: Some(body.into()),
            head_owner: owner.into(),
            head_ref: branch.into(),
            base: base.into(),
            state: PullState::Open,
            draft: false,
            author: "someone".into(),
            labels: vec![],
            requested_reviewers: vec![],
            requested_teams: vec![],
            reviews: vec![],
        }
    }
}

/// An issue (pull request) comment held by the fake.
#[derive(Clone, Debug)]
pub struct FakeComment {
    /// Comment id.
    pub id: u64,
    /// `owner/name`.
    pub repo: String,
    /// The pull request's number.
    pub number: u64,
    /// Markdown body.
    pub body: String,
    /// Author's login.
    pub author: String,
}

/// A scripted failure.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// 500 with GitHub's error body.
    ServerError,
    /// 502 with an HTML body, as a proxy answers.
    BadGateway,
    /// 403, `Retry-After: seconds`, the secondary-limit message.
    SecondaryRateLimit {
        /// Retry-After in seconds.
        retry_after: u64,
    },
    /// 429 with `Retry-After: seconds`.
    TooManyRequests {
        /// Retry-After in seconds.
        retry_after: u64,
    },
    /// 403 "API rate limit exceeded", `x-ratelimit-remaining: 0` and a reset
    /// `reset_in` seconds from now.
    PrimaryRateLimit {
        /// Seconds until the reset.
        reset_in: u64,
    },
    /// The request takes effect, then the connection closes unanswered.
    LoseResponse,
    /// A list answers `[]`, as a replica lagging behind a pull request
    /// opened a moment ago.
    StaleEmptyList,
}

struct ScriptedFault {
    method: String,
    path_suffix: String,
    fault: Fault,
}

struct State {
    token: String,
    pulls: Vec<FakePull>,
    /// Repositories the token sees: `owner/name` → `permissions.push`.
    repos: Vec<(String, bool)>,
    /// Logins that are collaborators of every repository.
    collaborators: Vec<String>,
    /// Teams, `org/slug`.
    teams: Vec<String>,
    /// Labels of every repository.
    labels: Vec<String>,
    /// Comments of pull requests, in creation order.
    comments: Vec<FakeComment>,
    /// `owner/name` → tag names, newest first.
    tags: std::collections::BTreeMap<String, Vec<String>>,
    faults: VecDeque<ScriptedFault>,
    used: u64,
}

/// A running fake; stops when dropped.
pub struct GithubFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

super::http_fake::serves_as_fake!(GithubFake);

impl GithubFake {
    /// Sets what the token may do in `repo` (`None`: it sees no such
    /// repository, GitHub's 404).
    pub fn set_push(&self, repo: &str, push: Option<bool>) {
        let mut st = self.state.lock().unwrap();
        st.repos.retain(|(r, _)| r != repo);
        if let Some(push) = push {
            st.repos.push((repo.to_string(), push));
        }
    }

    /// Every pull-request comment, oldest first.
    pub fn comments(&self) -> Vec<FakeComment> {
        self.state.lock().unwrap().comments.clone()
    }

    /// Adds a comment by `author` to pull request `number` of `repo`.
    pub fn add_comment(&self, repo: &str, number: u64, author: &str, body: &str) -> u64 {
        let mut st = self.state.lock().unwrap();
        let id = 900_000 + st.comments.len() as u64 + 1;
        st.comments.push(FakeComment {
            id,
            repo: repo.into(),
            number,
            body: body.into(),
            author: author.into(),
        });
        id
    }

    /// Starts the fake, accepting [`TOKEN`].
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            token: TOKEN.into(),
            pulls: Vec::new(),
            repos: vec![
                ("lsst-sqre/phalanx".into(), true),
                ("rm-bot/phalanx".into(), true),
            ],
            collaborators: ["athornton", "rra", BOT].map(String::from).to_vec(),
            teams: vec!["lsst-sqre/square".into()],
            labels: vec!["cycle-build".into()],
            comments: Vec::new(),
            tags: Default::default(),
            faults: VecDeque::new(),
            used: 0,
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        Self { server, state }
    }

    /// Creates repository `repo` (`owner/name`) with `tags`, newest first.
    pub fn add_tags(&self, repo: &str, tags: &[&str]) {
        let mut st = self.state.lock().unwrap();
        st.tags
            .entry(repo.to_string())
            .or_default()
            .extend(tags.iter().map(|t| t.to_string()));
    }

    /// Every pull request, in order of number per repository.
    pub fn pulls(&self) -> Vec<FakePull> {
        self.state.lock().unwrap().pulls.clone()
    }

    /// One pull request.
    pub fn pull(&self, repo: &str, number: u64) -> Option<FakePull> {
        self.pulls()
            .into_iter()
            .find(|p| p.repo == repo && p.number == number)
    }

    /// Adds a pull request made by hand; returns its number.
    pub fn add_pull(&self, mut pull: FakePull) -> u64 {
        let mut st = self.state.lock().unwrap();
        pull.number = next_number(&st.pulls, &pull.repo);
        let number = pull.number;
        st.pulls.push(pull);
        number
    }

    /// Merges a pull request.
    pub fn merge(&self, repo: &str, number: u64) {
        self.edit(repo, number, |p| p.state = PullState::Merged);
    }

    /// Closes a pull request without merging.
    pub fn close(&self, repo: &str, number: u64) {
        self.edit(repo, number, |p| p.state = PullState::Closed);
    }

    /// `login` submits a review (its request, if any, is dropped, as on GitHub).
    pub fn add_review(&self, repo: &str, number: u64, login: &str) {
        self.edit(repo, number, |p| {
            p.requested_reviewers
                .retain(|r| !r.eq_ignore_ascii_case(login));
            p.reviews.push(login.into());
        });
    }

    /// The next request with `method` whose path (without query) ends with
    /// `path_suffix` fails with `fault` (faults queue up in order).
    pub fn fail_next(&self, method: &str, path_suffix: &str, fault: Fault) {
        self.state.lock().unwrap().faults.push_back(ScriptedFault {
            method: method.into(),
            path_suffix: path_suffix.into(),
            fault,
        });
    }

    fn edit(&self, repo: &str, number: u64, f: impl FnOnce(&mut FakePull)) {
        let mut st = self.state.lock().unwrap();
        let pull = st
            .pulls
            .iter_mut()
            .find(|p| p.repo == repo && p.number == number)
            .expect("no such fake pull request");
        f(pull);
    }
}

fn next_number(pulls: &[FakePull], repo: &str) -> u64 {
    pulls
        .iter()
        .filter(|p| p.repo == repo)
        .map(|p| p.number)
        .max()
        .unwrap_or(6380)
        + 1
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn error(status: u16, message: &str, doc: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "message": message,
            "documentation_url": format!("https://docs.github.com/rest{doc}"),
            "status": status.to_string(),
        }),
    )
}

fn validation(errors: Value, doc: &str) -> Reply {
    Reply::json(
        422,
        json!({
            "message": "Validation Failed",
            "errors": errors,
            "documentation_url": format!("https://docs.github.com/rest{doc}"),
            "status": "422",
        }),
    )
}

/// Whose token a request carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// [`TOKEN`]: a user's.
    User,
    /// [`INSTALLATION_TOKEN`].
    Installation,
    /// [`READ_ONLY_TOKEN`].
    ReadOnly,
}

fn caller(req: &Request, token: &str) -> Option<Caller> {
    let given = req.header("authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("token "))
    })?;
    if given == token {
        Some(Caller::User)
    } else if given == INSTALLATION_TOKEN {
        Some(Caller::Installation)
    } else if given == READ_ONLY_TOKEN {
        Some(Caller::ReadOnly)
    } else {
        None
    }
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut st = state.lock().unwrap();
    let path = req
        .path
        .strip_prefix("/api/v3")
        .unwrap_or(&req.path)
        .to_string();
    let Some(who) = caller(req, &st.token) else {
        return error(401, "Bad credentials", "");
    };
    // https://docs.github.com/rest/users/users#get-the-authenticated-user:
    // not for an installation token.
    if who != Caller::User && req.method == "GET" && path == "/user" {
        return error(
            403,
            INTEGRATION_REFUSAL,
            "/rest/users/users#get-the-authenticated-user",
        );
    }
    if who == Caller::ReadOnly && req.is_write() {
        return error(
            403,
            INTEGRATION_REFUSAL,
            "/rest/issues/comments#create-an-issue-comment",
        );
    }
    st.used += 1;
    let fault = st
        .faults
        .iter()
        .position(|f| f.method == req.method && path.ends_with(&f.path_suffix))
        .and_then(|i| st.faults.remove(i))
        .map(|f| f.fault);
    let reset = (now() + 3600).to_string();
    let reply = match fault {
        Some(Fault::LoseResponse) => {
            let _ = route(&mut st, req, &path, who);
            return Reply::Drop;
        }
        Some(Fault::StaleEmptyList) => Reply::json(200, json!([])),
        Some(Fault::ServerError) => error(500, "Server Error", ""),
        Some(Fault::BadGateway) => Reply::Respond {
            status: 502,
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
        },
        Some(Fault::SecondaryRateLimit { retry_after }) => error(
            403,
            SECONDARY_LIMIT_MESSAGE,
            "/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        )
        .header("retry-after", &retry_after.to_string()),
        Some(Fault::TooManyRequests { retry_after }) => error(
            429,
            SECONDARY_LIMIT_MESSAGE,
            "/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        )
        .header("retry-after", &retry_after.to_string()),
        Some(Fault::PrimaryRateLimit { reset_in }) => {
            return error(
                403,
                "API rate limit exceeded for user ID 4242.",
                "/overview/rate-limits-for-the-rest-api",
            )
            .header("x-ratelimit-limit", &RATE_LIMIT.to_string())
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &(now() + reset_in).to_string())
            .header("x-ratelimit-used", &RATE_LIMIT.to_string())
            .header("x-ratelimit-resource", "core");
        }
        None => route(&mut st, req, &path, who),
    };
    reply
        .header("x-ratelimit-limit", &RATE_LIMIT.to_string())
        .header(
            "x-ratelimit-remaining",
            &RATE_LIMIT.saturating_sub(st.used).to_string(),
        )
        .header("x-ratelimit-reset", &reset)
        .header("x-ratelimit-used", &st.used.to_string())
        .header("x-ratelimit-resource", "core")
}

fn route(st: &mut State, req: &Request, path: &str, who: Caller) -> Reply {
    let base = format!("http://{}", req.header("host").unwrap_or("127.0.0.1"));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let known = |list: &[String], name: &str| list.iter().any(|x| x.eq_ignore_ascii_case(name));
    match (req.method.as_str(), parts.as_slice()) {
        // https://docs.github.com/rest/users/users#get-the-authenticated-user
        ("GET", ["user"]) => Reply::json(200, json!({ "login": BOT, "id": 4242, "type": "User" })),
        // https://docs.github.com/rest/repos/repos#get-a-repository
        ("GET", ["repos", o, r]) => match st
            .repos
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&format!("{o}/{r}")))
        {
            Some((name, push)) => {
                let mut repo = json!({
                    "id": 1000, "name": r, "full_name": name, "owner": { "login": o },
                    "private": false, "archived": false, "default_branch": "main",
                });
                // A user's permissions; an installation token is shown none.
                if who == Caller::User {
                    repo["permissions"] = json!({
                        "admin": false, "maintain": false, "push": push,
                        "triage": true, "pull": true
                    });
                }
                Reply::json(200, repo)
            }
            None => error(404, "Not Found", "/repos/repos#get-a-repository"),
        },
        // https://docs.github.com/rest/collaborators/collaborators#check-if-a-user-is-a-repository-collaborator
        ("GET", ["repos", _, _, "collaborators", login]) if known(&st.collaborators, login) => {
            Reply::empty(204)
        }
        ("GET", ["repos", _, _, "collaborators", _]) => Reply::empty(404),
        // https://docs.github.com/rest/teams/teams#get-a-team-by-name
        ("GET", ["orgs", org, "teams", slug]) if known(&st.teams, &format!("{org}/{slug}")) => {
            Reply::json(200, json!({ "id": 77, "slug": slug, "name": slug }))
        }
        ("GET", ["orgs", _, "teams", _]) => {
            error(404, "Not Found", "/teams/teams#get-a-team-by-name")
        }
        // https://docs.github.com/rest/issues/labels#get-a-label
        ("GET", ["repos", _, _, "labels", name]) if known(&st.labels, name) => Reply::json(
            200,
            json!({ "id": 208045946, "name": name, "color": "f29513" }),
        ),
        ("GET", ["repos", _, _, "labels", _]) => {
            error(404, "Not Found", "/issues/labels#get-a-label")
        }
        // https://docs.github.com/rest/issues/comments
        ("GET", ["repos", o, r, "issues", n, "comments"]) => {
            let repo = format!("{o}/{r}");
            let Some(number) = known_pull(st, &repo, n) else {
                return error(404, "Not Found", "/issues/comments#list-issue-comments");
            };
            let per_page: usize = req
                .param("per_page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(30)
                .min(100);
            let page: usize = req
                .param("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let all: Vec<Value> = st
                .comments
                .iter()
                .filter(|c| c.repo == repo && c.number == number)
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|c| comment_json(c, &base))
                .collect();
            Reply::json(200, Value::Array(all))
        }
        ("POST", ["repos", o, r, "issues", n, "comments"]) => {
            let repo = format!("{o}/{r}");
            let Some(number) = known_pull(st, &repo, n) else {
                return error(404, "Not Found", "/issues/comments#create-an-issue-comment");
            };
            let body = match comment_body(req) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            let id = 900_000 + st.comments.len() as u64 + 1;
            let comment = FakeComment {
                id,
                repo,
                number,
                body,
                author: if who == Caller::User {
                    BOT
                } else {
                    ACTIONS_BOT
                }
                .into(),
            };
            let answer = comment_json(&comment, &base);
            st.comments.push(comment);
            Reply::json(201, answer)
        }
        ("PATCH", ["repos", o, r, "issues", "comments", id]) => {
            let repo = format!("{o}/{r}");
            let body = match comment_body(req) {
                Ok(body) => body,
                Err(reply) => return reply,
            };
            match st
                .comments
                .iter_mut()
                .find(|c| c.repo == repo && id.parse() == Ok(c.id))
            {
                Some(c) => {
                    c.body = body;
                    Reply::json(200, comment_json(c, &base))
                }
                None => error(404, "Not Found", "/issues/comments#update-an-issue-comment"),
            }
        }
        ("GET", ["repos", o, r, "pulls"]) => list(st, req, &base, &format!("{o}/{r}")),
        ("GET", ["repos", o, r, "tags"]) => tags(st, req, &base, &format!("{o}/{r}")),
        ("POST", ["repos", o, r, "pulls"]) => create(st, req, &base, &format!("{o}/{r}")),
        (m, ["repos", o, r, "pulls", n]) if m == "GET" || m == "PATCH" => {
            with_pull(st, o, r, n, "/pulls/pulls#get-a-pull-request", |p| {
                if m == "PATCH" {
                    let body = req.json();
                    if let Some(t) = body["title"].as_str() {
                        p.title = t.into();
                    }
                    if let Some(b) = body.get("body") {
                        p.body = b.as_str().map(str::to_string);
                    }
                    match body["state"].as_str() {
                        Some("closed") if p.state == PullState::Open => p.state = PullState::Closed,
                        Some("open") if p.state == PullState::Closed => p.state = PullState::Open,
                        _ => {}
                    }
                }
                Reply::json(200, pull_json(p, &base))
            })
        }
        ("POST", ["repos", o, r, "pulls", n, "requested_reviewers"]) => with_pull(
            st,
            o,
            r,
            n,
            "/pulls/review-requests#request-reviewers-for-a-pull-request",
            |p| {
                let body = req.json();
                let strings = |v: &Value| -> Vec<String> {
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let users = strings(&body["reviewers"]);
                if users.iter().any(|u| u.eq_ignore_ascii_case(&p.author)) {
                    return error(
                        422,
                        "Review cannot be requested from pull request author.",
                        "/pulls/review-requests#request-reviewers-for-a-pull-request",
                    );
                }
                for u in users {
                    if !p.requested_reviewers.contains(&u) {
                        p.requested_reviewers.push(u);
                    }
                }
                for t in strings(&body["team_reviewers"]) {
                    if !p.requested_teams.contains(&t) {
                        p.requested_teams.push(t);
                    }
                }
                Reply::json(201, pull_json(p, &base))
            },
        ),
        ("GET", ["repos", o, r, "pulls", n, "reviews"]) => with_pull(
            st,
            o,
            r,
            n,
            "/pulls/reviews#list-reviews-for-a-pull-request",
            |p| {
                let reviews: Vec<Value> = p
                    .reviews
                    .iter()
                    .enumerate()
                    .map(|(i, login)| {
                        json!({
                            "id": 80 + i as u64,
                            "node_id": format!("PRR_{i}"),
                            "user": user_json(login, &base),
                            "body": "",
                            "state": "APPROVED",
                            "html_url": format!("https://github.com/{}/pull/{}#pullrequestreview-{}", p.repo, p.number, 80 + i),
                            "pull_request_url": format!("{base}/repos/{}/pulls/{}", p.repo, p.number),
                            "submitted_at": "2026-01-05T10:00:00Z",
                            "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
                            "author_association": "MEMBER",
                        })
                    })
                    .collect();
                Reply::json(200, Value::Array(reviews))
            },
        ),
        ("POST", ["repos", o, r, "issues", n, "labels"]) => {
            with_pull(st, o, r, n, "/issues/labels#add-labels-to-an-issue", |p| {
                let body = req.json();
                let names = body.get("labels").unwrap_or(&body);
                for name in names.as_array().into_iter().flatten() {
                    if let Some(name) = name.as_str()
                        && !p.labels.iter().any(|l| l == name)
                    {
                        p.labels.push(name.into());
                    }
                }
                let labels: Vec<Value> = p
                    .labels
                    .iter()
                    .map(|l| label_json(l, &p.repo, &base))
                    .collect();
                Reply::json(200, Value::Array(labels))
            })
        }
        _ => error(404, "Not Found", ""),
    }
}

/// The number of a pull request of `repo`, when there is one.
fn known_pull(st: &State, repo: &str, number: &str) -> Option<u64> {
    let number: u64 = number.parse().ok()?;
    st.pulls
        .iter()
        .any(|p| p.repo == repo && p.number == number)
        .then_some(number)
}

/// A comment's `body`: GitHub refuses none, an empty one, or one longer
/// than 65,536 characters with a 422.
fn comment_body(req: &Request) -> Result<String, Reply> {
    let doc = "/issues/comments#create-an-issue-comment";
    match req.json()["body"].as_str() {
        None | Some("") => Err(validation(
            json!([{"resource": "IssueComment", "code": "missing_field", "field": "body"}]),
            doc,
        )),
        Some(body) if body.chars().count() > 65_536 => Err(validation(
            json!([{"resource": "IssueComment", "code": "custom", "field": "body",
                    "message": "body is too long (maximum is 65536 characters)"}]),
            doc,
        )),
        Some(body) => Ok(body.to_string()),
    }
}

fn comment_json(c: &FakeComment, base: &str) -> Value {
    json!({
        "id": c.id,
        "node_id": format!("IC_{}", c.id),
        "url": format!("{base}/repos/{}/issues/comments/{}", c.repo, c.id),
        "html_url": format!("https://github.com/{}/pull/{}#issuecomment-{}", c.repo, c.number, c.id),
        "body": c.body,
        "user": {
            "login": c.author,
            "id": 4242,
            "type": if c.author.ends_with("[bot]") { "Bot" } else { "User" },
        },
        "created_at": "2026-12-05T12:00:00Z",
        "updated_at": "2026-12-05T12:00:00Z",
        "author_association": "NONE",
    })
}

fn with_pull(
    st: &mut State,
    owner: &str,
    repo: &str,
    number: &str,
    doc: &str,
    f: impl FnOnce(&mut FakePull) -> Reply,
) -> Reply {
    let repo = format!("{owner}/{repo}");
    let number: Option<u64> = number.parse().ok();
    match st
        .pulls
        .iter_mut()
        .find(|p| p.repo == repo && Some(p.number) == number)
    {
        Some(p) => f(p),
        None => error(404, "Not Found", doc),
    }
}

fn list(st: &State, req: &Request, base: &str, repo: &str) -> Reply {
    let state = req.param("state").unwrap_or_else(|| "open".into());
    if !matches!(state.as_str(), "open" | "closed" | "all") {
        return validation(
            json!([{"resource": "PullRequest", "field": "state", "code": "invalid"}]),
            "/pulls/pulls#list-pull-requests",
        );
    }
    let head = req.param("head");
    let base_ref = req.param("base");
    let per_page: usize = req
        .param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = req
        .param("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let mut found: Vec<&FakePull> = st
        .pulls
        .iter()
        .filter(|p| p.repo == repo)
        .filter(|p| match state.as_str() {
            "open" => p.state == PullState::Open,
            "closed" => p.state != PullState::Open,
            _ => true,
        })
        .filter(|p| match head.as_deref() {
            None => true,
            Some(h) => match h.split_once(':') {
                Some((owner, branch)) => p.head_owner == owner && p.head_ref == branch,
                None => p.head_owner == h,
            },
        })
        .filter(|p| base_ref.as_deref().is_none_or(|b| p.base == b))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.number));
    let items: Vec<Value> = found
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|p| pull_json(p, base))
        .collect();
    Reply::json(200, Value::Array(items))
}

fn create(st: &mut State, req: &Request, base: &str, repo: &str) -> Reply {
    const DOC: &str = "/pulls/pulls#create-a-pull-request";
    let body = req.json();
    let field = |name: &str| body[name].as_str().map(str::to_string);
    for name in ["title", "head", "base"] {
        if field(name).is_none_or(|v| v.is_empty()) {
            return validation(
                json!([{"resource": "PullRequest", "field": name, "code": "missing_field"}]),
                DOC,
            );
        }
    }
    let (title, head, base_ref) = (
        field("title").unwrap_or_default(),
        field("head").unwrap_or_default(),
        field("base").unwrap_or_default(),
    );
    let repo_owner = repo.split('/').next().unwrap_or(repo).to_string();
    let (head_owner, head_ref) = match head.split_once(':') {
        Some((o, b)) => (o.to_string(), b.to_string()),
        None => (repo_owner, head.clone()),
    };
    if head_ref == base_ref && head_owner == repo.split('/').next().unwrap_or(repo) {
        return validation(
            json!([{"resource": "PullRequest", "code": "custom", "message": format!("No commits between {base_ref} and {head_ref}")}]),
            DOC,
        );
    }
    let exists = st.pulls.iter().any(|p| {
        p.repo == repo
            && p.state == PullState::Open
            && p.head_owner == head_owner
            && p.head_ref == head_ref
            && p.base == base_ref
    });
    if exists {
        return validation(
            json!([{"resource": "PullRequest", "code": "custom", "message": format!("A pull request already exists for {head_owner}:{head_ref}.")}]),
            DOC,
        );
    }
    let pull = FakePull {
        repo: repo.into(),
        number: next_number(&st.pulls, repo),
        title,
        body: body["body"].as_str().map(str::to_string),
        head_owner,
        head_ref,
        base: base_ref,
        state: PullState::Open,
        draft: body["draft"].as_bool().unwrap_or(false),
        author: BOT.into(),
        labels: vec![],
        requested_reviewers: vec![],
        requested_teams: vec![],
        reviews: vec![],
    };
    let json = pull_json(&pull, base);
    let location = format!("{base}/repos/{repo}/pulls/{}", pull.number);
    st.pulls.push(pull);
    Reply::json(201, json).header("location", &location)
}

fn user_json(login: &str, base: &str) -> Value {
    let id: u64 = login.bytes().map(u64::from).sum::<u64>() + 1000;
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": format!("{base}/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{base}/users/{login}/followers"),
        "following_url": format!("{base}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{base}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{base}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{base}/users/{login}/subscriptions"),
        "organizations_url": format!("{base}/users/{login}/orgs"),
        "repos_url": format!("{base}/users/{login}/repos"),
        "events_url": format!("{base}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{base}/users/{login}/received_events"),
        "type": "User",
        "site_admin": false,
    })
}

fn label_json(name: &str, repo: &str, base: &str) -> Value {
    let id: u64 = name.bytes().map(u64::from).sum::<u64>() + 208_045_946;
    json!({
        "id": id,
        "node_id": format!("MDU6TGFiZWw{id}"),
        "url": format!("{base}/repos/{repo}/labels/{}", name.replace(' ', "%20")),
        "name": name,
        "description": null,
        "color": "ededed",
        "default": false,
    })
}

fn branch_json(owner: &str, repo_name: &str, branch: &str, base: &str) -> Value {
    json!({
        "label": format!("{owner}:{branch}"),
        "ref": branch,
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        "user": user_json(owner, base),
        "repo": {
            "id": 1296269,
            "name": repo_name,
            "full_name": format!("{owner}/{repo_name}"),
            "owner": user_json(owner, base),
            "private": false,
            "html_url": format!("https://github.com/{owner}/{repo_name}"),
            "url": format!("{base}/repos/{owner}/{repo_name}"),
            "fork": false,
            "default_branch": "main",
        },
    })
}

fn pull_json(p: &FakePull, base: &str) -> Value {
    let (owner, name) = p.repo.split_once('/').unwrap_or((&p.repo, ""));
    let api = format!("{base}/repos/{}/pulls/{}", p.repo, p.number);
    let html = format!("https://github.com/{}/pull/{}", p.repo, p.number);
    let closed = p.state != PullState::Open;
    let merged = p.state == PullState::Merged;
    let mut pull = json!({
        "url": api,
        "id": 1_000_000 + p.number,
        "node_id": format!("PR_kwDO{}", p.number),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{base}/repos/{}/issues/{}", p.repo, p.number),
        "commits_url": format!("{api}/commits"),
        "review_comments_url": format!("{api}/comments"),
        "review_comment_url": format!("{base}/repos/{}/pulls/comments{{/number}}", p.repo),
        "comments_url": format!("{base}/repos/{}/issues/{}/comments", p.repo, p.number),
        "statuses_url": format!("{base}/repos/{}/statuses/6dcb09b5b57875f334f61aebed695e2e4193db5e", p.repo),
        "number": p.number,
        "state": if closed { "closed" } else { "open" },
        "locked": false,
        "title": p.title,
        "user": user_json(&p.author, base),
        "body": p.body,
        "labels": p.labels.iter().map(|l| label_json(l, &p.repo, base)).collect::<Vec<_>>(),
        "milestone": null,
        "active_lock_reason": null,
        "created_at": "2026-01-05T09:00:00Z",
        "updated_at": "2026-01-05T09:30:00Z",
        "closed_at": if closed { json!("2026-01-06T09:00:00Z") } else { Value::Null },
        "merged_at": if merged { json!("2026-01-06T09:00:00Z") } else { Value::Null },
        "merge_commit_sha": if merged { json!("e5bd3914e2e596debea16f433f57875b5b90bcd6") } else { Value::Null },
    });
    let more = json!({
        "assignee": null,
        "assignees": [],
        "requested_reviewers": p.requested_reviewers.iter().map(|u| user_json(u, base)).collect::<Vec<_>>(),
        "requested_teams": p.requested_teams.iter().enumerate().map(|(i, t)| json!({
            "id": 100 + i as u64,
            "node_id": format!("MDQ6VGVhbT{i}"),
            "url": format!("{base}/teams/{}", 100 + i),
            "html_url": format!("https://github.com/orgs/{owner}/teams/{t}"),
            "name": t,
            "slug": t,
            "description": null,
            "privacy": "closed",
            "permission": "pull",
            "parent": null,
        })).collect::<Vec<_>>(),
        "head": branch_json(&p.head_owner, name, &p.head_ref, base),
        "base": branch_json(owner, name, &p.base, base),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
        },
        "author_association": if p.author == BOT { "CONTRIBUTOR" } else { "MEMBER" },
        "auto_merge": null,
        "draft": p.draft,
        "merged": merged,
        "mergeable": null,
        "mergeable_state": "unknown",
        "merged_by": if merged { user_json("merger", base) } else { Value::Null },
        "comments": 0,
        "review_comments": 0,
        "maintainer_can_modify": false,
        "commits": 1,
        "additions": 3,
        "deletions": 3,
        "changed_files": 2,
    });
    if let (Some(pull), Value::Object(more)) = (pull.as_object_mut(), more) {
        pull.extend(more);
    }
    pull
}

fn tags(st: &State, req: &Request, base: &str, repo: &str) -> Reply {
    let Some(all) = st.tags.get(repo) else {
        return error(404, "Not Found", "/repos/repos#list-repository-tags");
    };
    let per_page: usize = req
        .param("per_page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = req
        .param("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|name| json!({"name": name, "commit": {"sha": "0000000000000000000000000000000000000000", "url": ""}, "zipball_url": "", "tarball_url": "", "node_id": ""}))
        .collect();
    let mut reply = Reply::json(200, Value::Array(items));
    if page * per_page < all.len() {
        reply = reply.header(
            "link",
            &format!(
                "<{base}/repos/{repo}/tags?per_page={per_page}&page={}>; rel=\"next\"",
                page + 1
            ),
        );
    }
    reply
}
