//! Every service the selected steps need, checked at once before any
//! request: a run that would stop at the first unconfigured service would
//! take one round trip per missing setting (`gh auth status` lists them all).

use crate::engine::config::{clone_url, fork_remote};
use crate::model::site::LoadedSite;
use crate::services::{confluence, github, jira, slack};

/// The services a run's selected steps need, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// A selected step creates or updates tickets.
    pub jira: bool,
    /// The page step is applied.
    pub confluence: bool,
    /// A selected step sends a Slack message.
    pub slack: bool,
    /// A selected pull-request step runs.
    pub github: bool,
    /// Where selected configuration steps push (clone or fork URLs): an
    /// http(s) one needs `GITHUB_TOKEN`.
    pub pushes: Vec<String>,
}

/// Refuses, in one error listing each of them, the services of `needs`
/// whose environment is missing or unusable; `jira_api_version` is the
/// configured Jira REST version (2: Data Center). Nothing is sent.
pub fn require(needs: &Needs, jira_api_version: u8) -> anyhow::Result<()> {
    let api = if jira_api_version == 2 {
        jira::ApiVersion::V2
    } else {
        jira::ApiVersion::V3
    };
    let mut problems: Vec<String> = Vec::new();
    if needs.confluence
        && let Err(e) = confluence::Config::from_env()
    {
        problems.push(e.to_string());
    }
    let github_missing = needs.github && github::Config::from_env().is_err();
    if needs.github
        && let Err(e) = github::Config::from_env()
    {
        problems.push(e.to_string());
    }
    let token = crate::services::http::env_var(crate::services::git::TOKEN_ENV);
    let mut over_http: Vec<String> = needs
        .pushes
        .iter()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(|u| crate::services::http::host_of(u))
        .collect();
    over_http.sort();
    over_http.dedup();
    if token.is_none() && !over_http.is_empty() && !github_missing {
        problems.push(format!(
            "git is not configured: set {} (a token allowed to push the ticket branches to {}), \
             or give the repositories ssh:// URLs in the site files",
            crate::services::git::TOKEN_ENV,
            over_http.join(", ")
        ));
    }
    if needs.jira
        && let Err(e) = jira::JiraConfig::from_env(api)
    {
        problems.push(e.to_string());
    }
    if needs.slack
        && let Err(e) = slack::Config::from_env()
    {
        problems.push(e.to_string());
    }
    match problems.len() {
        0 => Ok(()),
        1 => anyhow::bail!("{} (nothing was sent)", problems[0]),
        n => anyhow::bail!(
            "{n} services the selected steps need are not configured (nothing was sent):\n{}",
            problems
                .iter()
                .map(|p| format!("  - {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// Where the configuration steps of `sites` push: each repository's fork
/// when the site names one, else its clone URL.
pub fn push_urls(sites: &[&LoadedSite]) -> Vec<String> {
    sites
        .iter()
        .flat_map(|s| s.site.repositories.iter())
        .map(|repo| match fork_remote(repo) {
            Some((_, url)) => url,
            None => clone_url(repo),
        })
        .collect()
}
