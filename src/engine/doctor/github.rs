//! GitHub's checks for the pull request steps: the token (`GET /user`),
//! each repository (it exists, it is not archived, the token's user may
//! push the branch there: `permissions.push` of the repository, or of the
//! fork the site names), and that every reviewer is a collaborator (GitHub
//! refuses to request a review from anyone else), every team and every
//! label exists.

use std::collections::{BTreeMap, BTreeSet};

use super::{Credentials, Finding, PullNeed, Service, Status};
use crate::engine::pulls::Pulls;
use crate::services::github::{self, GithubError, Identity, PullRequestApi, RepoInfo, RepoName};

/// What to set when GitHub is not configured or refuses the token.
const CREDENTIALS_FIX: &str = "set GITHUB_TOKEN to a valid token allowed to push and open pull requests \
     (GITHUB_API_URL for GitHub Enterprise, e.g. https://HOST/api/v3)";
/// The credentials the checks need first.
const CREDENTIALS: Credentials = Credentials {
    service: Service::Github,
    fix: CREDENTIALS_FIX,
};

/// One lookup: what is asked of GitHub.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lookup {
    /// `GET /repos/{owner}/{repo}`.
    Repo(String),
    /// A collaborator of a repository: (repository, login).
    Collaborator(String, String),
    /// A team: (organisation, slug).
    Team(String, String),
    /// A label of a repository: (repository, name).
    Label(String, String),
}

/// What one lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The repository, or `None`: not found.
    Repo(Option<RepoInfo>),
    /// Whether it exists (collaborator, team, label).
    Exists(bool),
    /// GitHub refused to tell (403): the token may not read it.
    Forbidden(String),
    /// Another error, as text.
    Error(String),
}

/// What GitHub answered, for [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `GET /user`: the login, or an installation token.
    pub user: Result<Identity, String>,
    /// Every lookup's answer.
    pub answers: BTreeMap<Lookup, Answer>,
}

/// The lookups `need` asks for.
fn lookups(need: &PullNeed) -> Vec<Lookup> {
    let repo = &need.request.repo;
    let owner = repo.split_once('/').map_or(repo.as_str(), |(o, _)| o);
    let mut out = vec![Lookup::Repo(repo.clone())];
    if let Some(fork) = &need.fork {
        out.push(Lookup::Repo(fork.clone()));
    }
    for login in &need.request.reviewers {
        out.push(Lookup::Collaborator(repo.clone(), login.trim().to_string()));
    }
    for team in &need.request.team_reviewers {
        let (org, slug) = github::team_ref(team, owner);
        out.push(Lookup::Team(org.to_string(), slug.to_string()));
    }
    for label in &need.request.labels {
        out.push(Lookup::Label(repo.clone(), label.trim().to_string()));
    }
    out
}

/// Checks the token and every pull request step of `needs`.
pub async fn check(pulls: &Pulls, needs: &[PullNeed], missing: Status) -> Vec<Finding> {
    let api = match CREDENTIALS.client(!needs.is_empty(), || pulls.api(), missing) {
        Ok(client) => client,
        Err(findings) => return findings,
    };
    evaluate(&gather(api, needs).await, needs)
}

/// Reads `GET /user`, then every distinct lookup once, concurrently.
pub async fn gather(api: &dyn PullRequestApi, needs: &[PullNeed]) -> Facts {
    let user = api.authenticated_user().await.map_err(|e| e.to_string());
    let mut facts = Facts {
        user,
        answers: BTreeMap::new(),
    };
    if facts.user.is_err() {
        return facts;
    }
    let all: BTreeSet<Lookup> = needs.iter().flat_map(lookups).collect();
    let answers = futures::future::join_all(all.into_iter().map(|lookup| async move {
        let answer = ask(api, &lookup).await;
        (lookup, answer)
    }))
    .await;
    facts.answers = answers.into_iter().collect();
    facts
}

async fn ask(api: &dyn PullRequestApi, lookup: &Lookup) -> Answer {
    let repo_name = |full: &str| {
        RepoName::parse(full)
            .ok_or_else(|| format!("`{full}` is not a repository name like owner/name"))
    };
    let answer = match lookup {
        Lookup::Repo(full) => match repo_name(full) {
            Ok(repo) => api.repository(&repo).await.map(Answer::Repo),
            Err(e) => return Answer::Error(e),
        },
        Lookup::Collaborator(full, login) => match repo_name(full) {
            Ok(repo) => api.is_collaborator(&repo, login).await.map(Answer::Exists),
            Err(e) => return Answer::Error(e),
        },
        Lookup::Team(org, slug) => api.team_exists(org, slug).await.map(Answer::Exists),
        Lookup::Label(full, name) => match repo_name(full) {
            Ok(repo) => api.label_exists(&repo, name).await.map(Answer::Exists),
            Err(e) => return Answer::Error(e),
        },
    };
    match answer {
        Ok(answer) => answer,
        Err(e @ GithubError::Credentials { .. }) => Answer::Forbidden(e.to_string()),
        Err(e) => Answer::Error(e.to_string()),
    }
}

/// Judges the facts (pure).
pub fn evaluate(facts: &Facts, needs: &[PullNeed]) -> Vec<Finding> {
    let mut findings = Vec::new();
    match &facts.user {
        Ok(Identity::User(login)) => findings.push(Finding::ok(
            Service::Github,
            None,
            "credentials",
            format!("logged in as {login}"),
        )),
        Ok(Identity::Installation) => findings.push(Finding::ok(
            Service::Github,
            None,
            "credentials",
            "an installation token (GitHub Actions' GITHUB_TOKEN, or a GitHub App's): accepted; GitHub names \
             no user for it (GET /user: 403 Resource not accessible by integration), so what it may do is \
             checked per repository where GitHub shows it",
        )),
        Err(e) => {
            findings.push(Finding::fail(
                Service::Github,
                None,
                "credentials",
                e.clone(),
                CREDENTIALS_FIX,
            ));
            return findings;
        }
    }
    let user = match &facts.user {
        Ok(Identity::User(login)) => login.as_str(),
        _ => "the token",
    };
    for need in needs {
        let site = Some(need.site.as_str());
        let repo = &need.request.repo;
        let answer = |lookup: Lookup| facts.answers.get(&lookup);
        let unknown = |check: String, answer: Option<&Answer>| match answer {
            Some(Answer::Forbidden(e)) => Finding::new(
                Service::Github,
                site,
                check,
                Status::Warn,
                format!("GitHub did not say: {e}"),
                Some(format!(
                    "give {user} push access to {repo} so that this can be checked"
                )),
            ),
            Some(Answer::Error(e)) => Finding::fail(
                Service::Github,
                site,
                check,
                e.clone(),
                "check GITHUB_API_URL and that GitHub answers, then run again",
            ),
            _ => Finding::skipped(Service::Github, site, check, "not looked up"),
        };
        // The repository the PR goes into, and the one the branch is pushed to.
        let pushed = need.fork.as_deref().unwrap_or(repo);
        let mut targets = vec![repo.as_str()];
        if pushed != repo {
            targets.push(pushed);
        }
        let mut repo_ok = true;
        for target in targets {
            let check = format!("repository {target}");
            let is_pushed = target == pushed;
            findings.push(match answer(Lookup::Repo(target.to_string())) {
                Some(Answer::Repo(None)) => {
                    repo_ok &= target != repo;
                    Finding::fail(
                        Service::Github,
                        site,
                        check,
                        format!("{target} does not exist, or the token cannot see it"),
                        format!(
                            "fix the repository (repositories[].repo, or pull_request.fork) in the site file, or \
                             give {user} access to {target}"
                        ),
                    )
                }
                Some(Answer::Repo(Some(info))) if info.archived => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!("{} is archived: it takes no pushes and no pull requests", info.full_name),
                    format!("unarchive {}, or name the repository that replaced it", info.full_name),
                ),
                Some(Answer::Repo(Some(info))) if !info.permissions_shown => Finding::ok(
                    Service::Github,
                    site,
                    check,
                    format!(
                        "exists; GitHub does not show an installation token's permissions on {}: \
                         push access is not checked before the push",
                        info.full_name
                    ),
                ),
                Some(Answer::Repo(Some(info))) if is_pushed && !info.push => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!("{user} may not push to {} (permissions.push is false)", info.full_name),
                    format!(
                        "give {user} write access to {} (a fine-grained token needs Contents and Pull requests: \
                         read and write), or push to a fork (pull_request.fork)",
                        info.full_name
                    ),
                ),
                Some(Answer::Repo(Some(info))) if !info.pull => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!("{user} may not read {}", info.full_name),
                    format!("give {user} read access to {}", info.full_name),
                ),
                Some(Answer::Repo(Some(info))) => Finding::ok(
                    Service::Github,
                    site,
                    check,
                    if is_pushed {
                        format!("exists; {user} may push and open pull requests")
                    } else {
                        format!("exists; {user} may open pull requests into {}", info.full_name)
                    },
                ),
                other => unknown(check, other),
            });
        }
        if !repo_ok {
            continue;
        }
        let owner = repo.split_once('/').map_or(repo.as_str(), |(o, _)| o);
        for login in &need.request.reviewers {
            let login = login.trim();
            let check = format!("reviewer {login}");
            findings.push(match answer(Lookup::Collaborator(repo.clone(), login.to_string())) {
                Some(Answer::Exists(true)) => Finding::ok(
                    Service::Github,
                    site,
                    check,
                    format!("a collaborator of {repo}"),
                ),
                Some(Answer::Exists(false)) => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!(
                        "{login} is not a collaborator of {repo}: GitHub refuses to request their review (422)"
                    ),
                    format!(
                        "fix pull_request.reviewers in the site file (GitHub logins), or give {login} access to {repo}"
                    ),
                ),
                other => unknown(check, other),
            });
        }
        for team in &need.request.team_reviewers {
            let (org, slug) = github::team_ref(team, owner);
            let check = format!("team {org}/{slug}");
            findings.push(match answer(Lookup::Team(org.to_string(), slug.to_string())) {
                Some(Answer::Exists(true)) => Finding::ok(Service::Github, site, check, "exists"),
                Some(Answer::Exists(false)) => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!("organisation {org} has no team {slug}, or the token cannot see it"),
                    "fix pull_request.team_reviewers in the site file (team slugs, org/slug), or give the token \
                     read:org"
                        .to_string(),
                ),
                other => unknown(check, other),
            });
        }
        for label in &need.request.labels {
            let label = label.trim();
            let check = format!("label {label}");
            findings.push(match answer(Lookup::Label(repo.clone(), label.to_string())) {
                Some(Answer::Exists(true)) => {
                    Finding::ok(Service::Github, site, check, format!("exists in {repo}"))
                }
                Some(Answer::Exists(false)) => Finding::fail(
                    Service::Github,
                    site,
                    check,
                    format!("{repo} has no label `{label}`"),
                    format!("create the label `{label}` in {repo}, or fix pull_request.labels in the site file"),
                ),
                other => unknown(check, other),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PullRequestRequest;

    fn need(fork: Option<&str>) -> PullNeed {
        PullNeed {
            site: "summit".into(),
            request: PullRequestRequest {
                repo: "lsst-sqre/phalanx".into(),
                head_owner: fork
                    .map_or("lsst-sqre", |f| f.split('/').next().unwrap())
                    .into(),
                head: "tickets/OSW-1".into(),
                base: "main".into(),
                title: String::new(),
                body: String::new(),
                reviewers: vec!["rra".into()],
                team_reviewers: vec!["square".into()],
                labels: vec!["cycle-build".into()],
                draft: false,
            },
            fork: fork.map(str::to_string),
        }
    }

    fn repo(push: bool) -> Answer {
        Answer::Repo(Some(RepoInfo {
            full_name: "lsst-sqre/phalanx".into(),
            permissions_shown: true,
            push,
            pull: true,
            archived: false,
        }))
    }

    #[test]
    fn lookups_cover_repository_reviewers_teams_and_labels() {
        assert_eq!(
            lookups(&need(None)),
            [
                Lookup::Repo("lsst-sqre/phalanx".into()),
                Lookup::Collaborator("lsst-sqre/phalanx".into(), "rra".into()),
                Lookup::Team("lsst-sqre".into(), "square".into()),
                Lookup::Label("lsst-sqre/phalanx".into(), "cycle-build".into()),
            ]
        );
    }

    #[test]
    fn an_installation_token_is_a_note_and_unshown_permissions_are_not_a_failure() {
        let answers = lookups(&need(None))
            .into_iter()
            .map(|l| {
                let answer = match l {
                    Lookup::Repo(_) => Answer::Repo(Some(RepoInfo {
                        full_name: "lsst-sqre/phalanx".into(),
                        permissions_shown: false,
                        push: false,
                        pull: false,
                        archived: false,
                    })),
                    _ => Answer::Exists(true),
                };
                (l, answer)
            })
            .collect();
        let facts = Facts {
            user: Ok(Identity::Installation),
            answers,
        };
        let findings = evaluate(&facts, &[need(None)]);
        assert!(
            findings.iter().all(|f| f.status == Status::Ok),
            "{findings:#?}"
        );
        assert!(findings[0].found.contains("an installation token"));
        assert!(findings[1].found.contains("push access is not checked"));
    }

    #[test]
    fn each_lookup_fails_on_its_own() {
        let mut facts = Facts {
            user: Ok(Identity::User("cycle-bot".into())),
            answers: lookups(&need(None))
                .into_iter()
                .map(|l| {
                    let answer = match l {
                        Lookup::Repo(_) => repo(true),
                        _ => Answer::Exists(true),
                    };
                    (l, answer)
                })
                .collect(),
        };
        let all_ok = evaluate(&facts, &[need(None)]);
        assert_eq!(all_ok.len(), 5);
        assert!(all_ok.iter().all(|f| f.status == Status::Ok), "{all_ok:#?}");
        facts
            .answers
            .insert(Lookup::Repo("lsst-sqre/phalanx".into()), repo(false));
        facts.answers.insert(
            Lookup::Collaborator("lsst-sqre/phalanx".into(), "rra".into()),
            Answer::Exists(false),
        );
        let failed: Vec<String> = evaluate(&facts, &[need(None)])
            .into_iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| f.check)
            .collect();
        assert_eq!(failed, ["repository lsst-sqre/phalanx", "reviewer rra"]);
        // With a fork, the upstream needs no push permission; the fork does.
        facts.answers.insert(
            Lookup::Repo("rm-bot/phalanx".into()),
            Answer::Repo(Some(RepoInfo {
                full_name: "rm-bot/phalanx".into(),
                permissions_shown: true,
                push: true,
                pull: true,
                archived: false,
            })),
        );
        let with_fork = evaluate(&facts, &[need(Some("rm-bot/phalanx"))]);
        assert_eq!(with_fork[1].status, Status::Ok, "{with_fork:#?}");
        assert_eq!(with_fork[2].check, "repository rm-bot/phalanx");
        assert_eq!(with_fork[2].status, Status::Ok);
    }
}
