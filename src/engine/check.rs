//! The engine's side of `cycle check`: observe what the checks need
//! (ts_cycle_build's `cycle.env` through the clone cache, every package's
//! tags through the GitHub adapter, the conda channel, the XML release's
//! Jira tickets and ts_xml's history through the clone cache), concurrently,
//! and hand it to the pure [`crate::plan::check`] functions. Read-only.
//!
//! Offline, only the check that needs no network runs (`cycle.env` from
//! the cached clone against the manifest); every other check is one
//! [`Status::Skipped`] finding saying so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::config::GitRun;
use crate::model::release::LoadedRelease;
use crate::plan::check::{
    self, Check, CondaAnswer, Finding, Merge, MergeRange, Rules, Status, Ticket, XmlChange,
};
use crate::services::conda::{CondaApi, CondaClient};
use crate::services::cycle_build::{self, CycleEnv, Source};
use crate::services::git::Credentials;
use crate::services::github::{GithubClient, GithubError, RepoName, TagApi};
use crate::services::jira::{ApiVersion, Issue, JiraApi, JiraClient, JiraConfig};

/// Requests in flight at once per service.
const CONCURRENCY: usize = 8;
/// A repository GitHub does not show (the same text for each, so they group).
const NOT_FOUND: &str =
    "GitHub answers 404 Not Found (no such repository, or GITHUB_TOKEN cannot see it)";
/// Keys per `key in (...)` search.
const KEYS_PER_SEARCH: usize = 50;

/// The adapters of one check run; an `Err` says why a service is not
/// available (offline, not configured), and its checks are skipped.
pub struct Services {
    /// The clone cache (offline: read only).
    pub git: GitRun,
    /// GitHub tags.
    pub github: Result<Arc<dyn TagApi>, String>,
    /// Jira search.
    pub jira: Result<Arc<dyn JiraApi>, String>,
    /// The conda channel API.
    pub conda: Result<Arc<dyn CondaApi>, String>,
    /// The conda channel's name.
    pub channel: String,
    /// `$GITHUB_SERVER_URL`, for the ts_cycle_build and ts_xml clones.
    pub server: String,
}

impl Services {
    /// The adapters of `cycle check`, each from the environment
    /// (`GITHUB_TOKEN`, the `JIRA_*` variables, `GITHUB_SERVER_URL`), Jira at
    /// REST version `jira_api_version` (2 for Data Center, else 3) and the
    /// conda channel API at `conda_api_url`. Offline, none but the clone
    /// cache, read only. A service that is not configured is an `Err` saying
    /// why, and its checks are skipped.
    pub fn from_env(
        cache_dir: &Path,
        jira_api_version: u8,
        conda_api_url: &str,
        channel: &str,
        offline: bool,
    ) -> anyhow::Result<Self> {
        let server = crate::services::http::env_var("GITHUB_SERVER_URL")
            .unwrap_or_else(|| "https://github.com".to_string());
        let creds = if offline {
            Credentials::none()
        } else {
            Credentials::from_env()
        };
        let git = GitRun::new(cache_dir, creds, offline);
        if offline {
            return Ok(Services {
                git,
                github: Err("offline".into()),
                jira: Err("offline".into()),
                conda: Err("offline".into()),
                channel: channel.to_string(),
                server,
            });
        }
        let github: Result<Arc<dyn TagApi>, String> = GithubClient::from_env()
            .map(|c| Arc::new(c) as Arc<dyn TagApi>)
            .map_err(|e| e.to_string());
        let api = if jira_api_version == 2 {
            ApiVersion::V2
        } else {
            ApiVersion::V3
        };
        let jira: Result<Arc<dyn JiraApi>, String> = JiraConfig::from_env(api)
            .and_then(JiraClient::new)
            .map(|c| Arc::new(c) as Arc<dyn JiraApi>)
            .map_err(|e| e.to_string());
        let conda = CondaClient::new(conda_api_url)?;
        Ok(Services {
            git,
            github,
            jira,
            conda: Ok(Arc::new(conda) as Arc<dyn CondaApi>),
            channel: channel.to_string(),
            server,
        })
    }
}

/// What to check.
pub struct Request<'a> {
    /// The cycle.
    pub release: &'a LoadedRelease,
    /// ts_cycle_build's ref (rendered).
    pub cycle_build_ref: Option<String>,
    /// The rules.
    pub rules: &'a Rules,
    /// `--previous-xml`.
    pub previous_xml: Option<String>,
}

/// Runs every check and returns the findings, check by check.
pub async fn run(services: &Services, req: &Request<'_>) -> Vec<Finding> {
    let source = Source {
        url: format!(
            "{}/lsst-ts/ts_cycle_build.git",
            services.server.trim_end_matches('/')
        ),
        reference: req.cycle_build_ref.clone(),
    };
    let git = services.git.clone();
    let observed = tokio::task::spawn_blocking(move || git.cycle_build(&source))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .and_then(|r| r);
    let mut findings = Vec::new();
    let env = match observed {
        Ok(cycle_build::Observed::Read(snapshot)) => {
            findings.extend(cycle_build_findings(
                req,
                &cycle_build::Observed::Read(snapshot.clone()),
            ));
            Some(snapshot.env)
        }
        Ok(cycle_build::Observed::Offline) => {
            findings.push(Finding::check_skipped(
                Check::CycleBuild,
                "skipped (offline): ts_cycle_build has never been cloned into the cache",
                "run once online",
            ));
            None
        }
        Err(e) => {
            let error = format!("{e:#}");
            // A fix that would help: the network when the host cannot be
            // reached, else the server, the token or the ref.
            let fix = if crate::services::http::unreachable_cause(&error).is_some() {
                "check the network connection and GITHUB_SERVER_URL, or run offline (--offline)"
            } else {
                "check GITHUB_SERVER_URL and GITHUB_TOKEN; when the ref is wrong, set \
                 --cycle-build-ref to the cycle's branch or tag"
            };
            findings.push(Finding::check(
                Status::Fail,
                Check::CycleBuild,
                cycle_build::ENV_FILE,
                format!(
                    "cannot read ts_cycle_build's {}: {error}",
                    cycle_build::ENV_FILE
                ),
                fix,
            ));
            None
        }
    };
    let Some(env) = env else {
        for c in [
            Check::Releases,
            Check::Conda,
            Check::XmlTickets,
            Check::Merges,
        ] {
            findings.push(Finding::check_skipped(
                c,
                "skipped: cycle/cycle.env could not be read",
                "",
            ));
        }
        return findings;
    };
    let xml_version = env.get("ts_xml").map(str::to_string).or_else(|| {
        req.release
            .release
            .versions
            .packages()
            .get("ts_xml")
            .cloned()
    });
    let (tags, conda, xml) = tokio::join!(
        releases(services, &env, req.rules),
        conda(services, &env, req.rules),
        xml(services, req, xml_version.as_deref()),
    );
    findings.extend(tags);
    findings.extend(conda);
    findings.extend(xml);
    findings
}

/// `cycle.env` against the cycle and the manifest.
fn cycle_build_findings(req: &Request<'_>, observed: &cycle_build::Observed) -> Vec<Finding> {
    let reconciled = cycle_build::reconcile(
        observed,
        req.release.id,
        &req.release.release.versions.packages(),
    );
    let mut out: Vec<Finding> = reconciled
        .findings
        .iter()
        .map(|f| {
            let (subject, fix) = match f {
                cycle_build::Finding::Version { package, .. } => (
                    package.clone(),
                    "correct the release manifest or cycle/cycle.env",
                ),
                _ => (
                    cycle_build::ENV_FILE.to_string(),
                    "set --cycle-build-ref to the cycle's branch or tag (e.g. {{ full_tag }})",
                ),
            };
            Finding::check(Status::Fail, Check::CycleBuild, subject, f.to_string(), fix)
        })
        .collect();
    if out.is_empty() {
        let at = match observed {
            cycle_build::Observed::Read(s) => s.describe(),
            cycle_build::Observed::Offline => cycle_build::ENV_FILE.to_string(),
        };
        out.push(Finding::check(
            Status::Ok,
            Check::CycleBuild,
            cycle_build::ENV_FILE,
            format!(
                "{at} is for {} and agrees with the release manifest",
                req.release.id.full_tag()
            ),
            "",
        ));
    }
    out
}

/// Every package's tags, concurrently, then the released-tags findings.
async fn releases(services: &Services, env: &CycleEnv, rules: &Rules) -> Vec<Finding> {
    let github = match &services.github {
        Ok(g) => g.clone(),
        Err(why) => {
            return vec![Finding::check_skipped(
                Check::Releases,
                format!("skipped ({why})"),
                "set GITHUB_TOKEN",
            )];
        }
    };
    let targets = check::tag_targets(env, rules);
    let repos: BTreeSet<String> = targets.iter().map(|t| t.repo.clone()).collect();
    let tags: BTreeMap<String, Result<Vec<String>, String>> = stream::iter(repos)
        .map(|repo| {
            let github = github.clone();
            async move {
                let result = match RepoName::parse(&repo) {
                    // Without the URL, so that one cause is one finding.
                    Some(name) => github.tags(&name).await.map_err(|e| match e {
                        GithubError::NotFound { .. } => NOT_FOUND.to_string(),
                        e => e.to_string(),
                    }),
                    None => Err(format!("{repo:?} is not owner/name")),
                };
                (repo, result)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    check::tag_findings(&targets, &tags)
}

/// Every conda package, concurrently, then the conda findings.
async fn conda(services: &Services, env: &CycleEnv, rules: &Rules) -> Vec<Finding> {
    let api = match &services.conda {
        Ok(a) => a.clone(),
        Err(why) => {
            return vec![Finding::check_skipped(
                Check::Conda,
                format!("skipped ({why})"),
                "",
            )];
        }
    };
    let targets = check::conda_targets(env, rules);
    let names: BTreeSet<String> = targets.iter().map(|t| t.name.clone()).collect();
    let channel = services.channel.as_str();
    let answers: BTreeMap<String, CondaAnswer> = stream::iter(names)
        .map(|name| {
            let api = api.clone();
            async move {
                let answer = api.package(channel, &name).await;
                (name, answer)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    check::conda_findings(&targets, &answers, channel, rules)
}

/// A ticket from a search hit: status name, assignee, labels, links (not
/// through the ignored link type).
fn ticket_of(issue: &Issue, rules: &Rules) -> Ticket {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let links = issue
        .fields
        .get("issuelinks")
        .and_then(Value::as_array)
        .map(|links| {
            links
                .iter()
                .filter(|l| {
                    l.pointer("/type/outward").and_then(Value::as_str)
                        != Some(rules.xml.ignored_link.as_str())
                })
                .filter_map(|l| {
                    text(l.pointer("/inwardIssue/key"))
                        .or_else(|| text(l.pointer("/outwardIssue/key")))
                })
                .collect()
        })
        .unwrap_or_default();
    Ticket {
        key: issue.key.clone(),
        status: text(issue.fields.get("status").and_then(|s| s.get("name"))).unwrap_or_default(),
        assignee: text(
            issue
                .fields
                .get("assignee")
                .and_then(|a| a.get("displayName")),
        ),
        labels: issue.labels.clone(),
        links,
    }
}

/// The release's tickets and the tickets they link to.
async fn tickets(
    jira: &dyn JiraApi,
    rules: &Rules,
    xml_version: &str,
) -> Result<(Vec<Ticket>, Vec<Ticket>), String> {
    let fields = [
        "assignee".to_string(),
        "issuelinks".to_string(),
        "fixVersions".to_string(),
    ];
    let fix_version = rules.fix_version(xml_version);
    let release: Vec<Ticket> = jira
        .search(&rules.release_jql(xml_version), &fields)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        // Compared again exactly: the project's keys with that very fixVersion.
        .filter(|i| i.key.starts_with(&format!("{}-", rules.xml.project)))
        .filter(|i| {
            i.fields
                .get("fixVersions")
                .and_then(Value::as_array)
                .is_some_and(|v| v.iter().any(|f| f["name"].as_str() == Some(&fix_version)))
        })
        .map(|i| ticket_of(i, rules))
        .collect();
    let own: BTreeSet<&str> = release.iter().map(|t| t.key.as_str()).collect();
    let wanted: Vec<String> = check::release_keys(&release)
        .into_iter()
        .filter(|k| !own.contains(k.as_str()))
        .collect();
    let mut linked = Vec::new();
    for chunk in wanted.chunks(KEYS_PER_SEARCH) {
        let jql = format!("key in ({})", chunk.join(", "));
        let hits = jira
            .search(&jql, &fields)
            .await
            .map_err(|e| e.to_string())?;
        linked.extend(
            hits.iter()
                .filter(|i| chunk.contains(&i.key))
                .map(|i| ticket_of(i, rules)),
        );
    }
    Ok((release, linked))
}

/// ts_xml's merges (newest first) from the release's tag back to the
/// previous release's tag, and where the walk went. Before the release is
/// tagged (a tag whose version is `version`, as `packaging` compares
/// them), the walk starts at the tip of `branch`. Blocking.
fn history(
    git: &GitRun,
    url: &str,
    branch: &str,
    version: &str,
    previous: Option<&str>,
) -> anyhow::Result<(Vec<Merge>, MergeRange)> {
    let repo = git.open(url)?;
    let tags = repo.fetch_tags(git.credentials())?;
    let names: Vec<String> = tags.iter().map(|(n, _)| n.clone()).collect();
    let previous = match previous {
        Some(p) => p.to_string(),
        None => check::previous_version(&names, version)
            .cloned()
            .ok_or_else(|| {
                anyhow::anyhow!("ts_xml has no tag below {version}; pass --previous-xml TAG")
            })?,
    };
    let since = tags
        .iter()
        .find(|(n, _)| *n == previous)
        .map(|(_, oid)| *oid)
        .ok_or_else(|| anyhow::anyhow!("ts_xml has no tag {previous}"))?;
    let (tip, from) = match tags
        .iter()
        .find(|(n, _)| crate::model::version::same(n, version))
    {
        Some((name, oid)) => (*oid, name.clone()),
        None => (
            repo.remote_branch(branch)?
                .ok_or_else(|| anyhow::anyhow!("ts_xml has no branch {branch}"))?,
            branch.to_string(),
        ),
    };
    let merges = repo
        .merges(tip, since)?
        .into_iter()
        .map(|(sha, summary)| Merge {
            sha: sha.to_string(),
            summary,
        })
        .collect();
    Ok((merges, MergeRange { previous, from }))
}

/// The XML release's checks: its tickets, the merges without one, and for
/// a revision the tickets with the commits that merged them.
async fn xml(services: &Services, req: &Request<'_>, version: Option<&str>) -> Vec<Finding> {
    let rules = req.rules;
    let Some(version) = version else {
        return [Check::XmlTickets, Check::Merges]
            .map(|c| {
                Finding::check_skipped(
                    c,
                    "skipped: no ts_xml version in cycle.env or the manifest",
                    "set ts_xml",
                )
            })
            .to_vec();
    };
    let jira = match &services.jira {
        Ok(j) => j.clone(),
        Err(why) => {
            return [Check::XmlTickets, Check::Merges]
                .map(|c| {
                    Finding::check_skipped(
                        c,
                        format!("skipped ({why})"),
                        "set JIRA_URL and its credentials",
                    )
                })
                .to_vec();
        }
    };
    let url = format!(
        "{}/{}.git",
        services.server.trim_end_matches('/'),
        rules.xml.repository
    );
    let git = services.git.clone();
    let (branch, v, previous) = (
        rules.xml.branch.clone(),
        version.to_string(),
        req.previous_xml.clone(),
    );
    let history =
        tokio::task::spawn_blocking(move || history(&git, &url, &branch, &v, previous.as_deref()));
    let (tickets, history) = tokio::join!(tickets(jira.as_ref(), rules, version), history);
    let history = history.map_err(|e| anyhow::anyhow!("{e}")).and_then(|r| r);
    let mut out = Vec::new();
    let release = match tickets {
        Ok((release, linked)) => {
            out.extend(check::ticket_findings(&release, &linked, version, rules));
            Some(release)
        }
        Err(e) => {
            // A fix that would help: Jira refuses an unknown fixVersion in
            // JQL; credentials only when they were refused.
            let fix = if e.contains("fixVersion") {
                format!(
                    "create the release \"{}\" in Jira's {} project (with its catch-all \
                     ticket), or correct ts_xml in cycle/cycle.env",
                    rules.fix_version(version),
                    rules.xml.project
                )
            } else if e.contains("401") || e.contains("403") || e.contains("credentials") {
                "check JIRA_URL and its credentials".to_string()
            } else {
                "check JIRA_URL and run again".to_string()
            };
            out.push(Finding::check(
                Status::Fail,
                Check::XmlTickets,
                rules.fix_version(version),
                format!("cannot search Jira for the release's tickets: {e}"),
                fix,
            ));
            None
        }
    };
    match (&release, history) {
        (_, Err(e)) => out.push(Finding::check(
            Status::Fail,
            Check::Merges,
            &rules.xml.repository,
            format!("cannot read the history of {}: {e:#}", rules.xml.repository),
            "check GITHUB_SERVER_URL and GITHUB_TOKEN, or pass --previous-xml TAG",
        )),
        (None, Ok(_)) => out.push(Finding::check_skipped(
            Check::Merges,
            "skipped: the release's tickets are not known",
            "",
        )),
        (Some(release), Ok((merges, range))) => {
            let keys = check::release_keys(release);
            out.extend(check::merge_findings(
                &merges, &keys, version, &range, rules,
            ));
            if req.release.id.revision > 0 {
                let changes = check::xml_changes(
                    &merges,
                    &keys,
                    &services.server,
                    &rules.xml.repository,
                    |_| None,
                );
                out.extend(revision_findings(&changes, rules));
            }
        }
    }
    out
}

/// For a revision: each ticket of the release with the ts_xml commits that
/// merged it, as links (what the page's revision section lists; the page
/// is not read, and each message says so).
fn revision_findings(changes: &[XmlChange], rules: &Rules) -> Vec<Finding> {
    changes
        .iter()
        .map(|c| {
            if c.commits.is_empty() {
                Finding::check(
                    Status::Warn,
                    Check::RevisionSection,
                    &c.ticket,
                    format!(
                        "{}: no merge into {} names it",
                        c.ticket, rules.xml.repository
                    ),
                    "check the ticket's branch name (tickets/KEY)",
                )
            } else {
                // What is verified is the history; the page is not read
                // here, and the message says so.
                let links: Vec<&str> = c.commits.iter().map(|l| l.url.as_str()).collect();
                Finding::check(
                    Status::Ok,
                    Check::RevisionSection,
                    &c.ticket,
                    format!(
                        "{}: {} (the XML Changes row `cycle prepare` writes; the page itself \
                         was not read)",
                        c.ticket,
                        links.join(" ")
                    ),
                    "",
                )
            }
        })
        .collect()
}

/// The revision section's content: the XML release's tickets (and their
/// links) with the ts_xml merges of each, through the clone cache.
pub async fn revision_changes(
    git: GitRun,
    jira: &dyn JiraApi,
    rules: &Rules,
    server: &str,
    version: &str,
    previous: Option<String>,
    browse: impl Fn(&str) -> Option<String>,
) -> Result<Vec<XmlChange>, String> {
    let url = format!(
        "{}/{}.git",
        server.trim_end_matches('/'),
        rules.xml.repository
    );
    let (branch, v) = (rules.xml.branch.clone(), version.to_string());
    let history =
        tokio::task::spawn_blocking(move || history(&git, &url, &branch, &v, previous.as_deref()));
    let (tickets, history) = tokio::join!(tickets(jira, rules, version), history);
    let (release, _) = tickets?;
    let (merges, _) = history
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{e:#}"))?;
    Ok(check::xml_changes(
        &merges,
        &check::release_keys(&release),
        server,
        &rules.xml.repository,
        browse,
    ))
}
