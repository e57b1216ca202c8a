//! Every service the selected steps need, checked at once before any
//! request: a run that would stop at the first unconfigured service would
//! take one round trip per missing setting (`gh auth status` lists them all).

use crate::services::{confluence, github, jira, slack};

/// The services a run's selected steps need, by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// A selected step creates or updates tickets.
    pub jira: bool,
    /// The page step is applied.
    pub confluence: bool,
    /// A selected step sends a Slack message.
    pub slack: bool,
    /// A selected pull-request step runs.
    pub github: bool,
}

/// Refuses, in one error listing each of them, the services of `needs`
/// whose environment is missing or unusable; `jira_api_version` is the
/// configured Jira REST version (2: Data Center). Nothing is sent.
pub fn require(needs: Needs, jira_api_version: u8) -> anyhow::Result<()> {
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
    if needs.github
        && let Err(e) = github::Config::from_env()
    {
        problems.push(e.to_string());
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
