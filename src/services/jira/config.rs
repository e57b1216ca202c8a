//! Where Jira is and how to reach it: the REST version, the credentials and the
//! retry policy, from the environment.

use std::time::Duration;

use reqwest::Url;

use crate::services::http::{self, RetryPolicy, Secret};

use super::*;

/// Which Jira REST API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// `/rest/api/2` (Jira Data Center): `search` with `startAt` paging,
    /// plain-text descriptions, assignees by user name.
    V2,
    /// `/rest/api/3` (Jira Cloud): `search/jql` with `nextPageToken` paging,
    /// Atlassian Document Format descriptions, assignees by account id.
    V3,
}

impl ApiVersion {
    pub(super) fn number(self) -> &'static str {
        match self {
            ApiVersion::V2 => "2",
            ApiVersion::V3 => "3",
        }
    }
}

/// How `cycle` authenticates to Jira.
#[derive(Debug, Clone)]
pub enum JiraAuth {
    /// Jira Cloud: user e-mail and API token, sent as HTTP Basic auth.
    Basic {
        /// The user (`JIRA_USER`).
        user: String,
        /// The API token (`JIRA_API_TOKEN`).
        token: Secret,
    },
    /// Jira Data Center: a personal access token, sent as a Bearer token.
    Bearer {
        /// The token (`JIRA_PAT`).
        token: Secret,
    },
}

impl JiraAuth {
    /// The variables holding these credentials, for error messages.
    pub(super) fn variables(&self) -> &'static str {
        match self {
            JiraAuth::Basic { .. } => "JIRA_USER and JIRA_API_TOKEN",
            JiraAuth::Bearer { .. } => "JIRA_PAT",
        }
    }

    pub(super) fn secret(&self) -> &Secret {
        match self {
            JiraAuth::Basic { token, .. } | JiraAuth::Bearer { token } => token,
        }
    }

    pub(super) fn credentials(&self) -> gouqi::Credentials {
        match self {
            JiraAuth::Basic { user, token } => {
                gouqi::Credentials::Basic(user.clone(), token.expose().to_string())
            }
            JiraAuth::Bearer { token } => gouqi::Credentials::Bearer(token.expose().to_string()),
        }
    }
}

/// Where Jira is, how to authenticate, which REST version to speak and how
/// to retry.
#[derive(Debug, Clone)]
pub struct JiraConfig {
    /// Base URL, ending in `/`, without userinfo, query or fragment.
    pub(super) base: Url,
    pub(super) auth: JiraAuth,
    pub(super) api: ApiVersion,
    pub(super) retry: RetryPolicy,
    pub(super) index_lag: Duration,
}

/// How long Jira Cloud's search index may lag behind a create: Atlassian
/// documents `search/jql` as eventually consistent ("a few seconds to
/// minutes", most changes within seconds).
pub const DEFAULT_INDEX_LAG: Duration = Duration::from_secs(5);

impl JiraConfig {
    /// A configuration for the Jira at `url` (an `http` or `https` URL,
    /// possibly with a path prefix such as `https://host/jira`).
    pub fn new(url: &str, auth: JiraAuth, api: ApiVersion) -> Result<Self, JiraError> {
        Ok(Self {
            base: base_url(url)?,
            auth,
            api,
            retry: RetryPolicy::default(),
            index_lag: DEFAULT_INDEX_LAG,
        })
    }

    /// Reads `JIRA_URL` and the credentials from the environment. With
    /// [`ApiVersion::V3`] (Cloud) `JIRA_USER` + `JIRA_API_TOKEN` are used
    /// when both are set, else `JIRA_PAT`; with [`ApiVersion::V2`] (Data
    /// Center) `JIRA_PAT` comes first. When something is missing, one error
    /// names every variable to set.
    pub fn from_env(api: ApiVersion) -> Result<Self, JiraError> {
        Self::from_lookup(api, http::env_var)
    }

    /// [`JiraConfig::from_env`] with the variables read by `lookup` (a
    /// name → non-empty value function) instead of the process environment.
    pub fn from_lookup(
        api: ApiVersion,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, JiraError> {
        let url = lookup(URL_ENV);
        let user = lookup(USER_ENV);
        let basic = match (user.clone(), lookup(TOKEN_ENV)) {
            (Some(user), Some(token)) => Some(JiraAuth::Basic {
                user,
                token: Secret::new(token),
            }),
            _ => None,
        };
        let bearer = lookup(PAT_ENV).map(|token| JiraAuth::Bearer {
            token: Secret::new(token),
        });
        let auth = match api {
            ApiVersion::V3 => basic.or(bearer),
            ApiVersion::V2 => bearer.or(basic),
        };
        let mut missing = Vec::new();
        if url.is_none() {
            missing.push(format!("{URL_ENV} (the Jira address)"));
        }
        if auth.is_none() {
            missing.push(match (user.is_some(), lookup(TOKEN_ENV).is_some()) {
                (true, false) => format!(
                    "{TOKEN_ENV} (the API token of {USER_ENV}), or {PAT_ENV} (a Data Center personal access token)"
                ),
                (false, true) => format!(
                    "{USER_ENV} (the user of {TOKEN_ENV}), or {PAT_ENV} (a Data Center personal access token)"
                ),
                _ => format!(
                    "{USER_ENV} and {TOKEN_ENV} (Jira Cloud user and API token), or {PAT_ENV} (a Data Center personal access token)"
                ),
            });
        }
        match (url, auth) {
            (Some(url), Some(auth)) => Self::new(&url, auth, api),
            _ => Err(JiraError::NotConfigured {
                missing: missing.join("; and "),
            }),
        }
    }

    /// The same configuration retrying by `policy` (tests use short delays).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The same configuration waiting `lag` (default [`DEFAULT_INDEX_LAG`])
    /// before looking for an issue whose create failed, so that the search
    /// index has caught up with a create whose answer was lost.
    pub fn with_index_lag(mut self, lag: Duration) -> Self {
        self.index_lag = lag;
        self
    }

    /// The REST version spoken.
    pub fn api(&self) -> ApiVersion {
        self.api
    }

    /// The page of issue `key`: `$JIRA_URL/browse/KEY`.
    pub fn browse_url(&self, key: &str) -> String {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("browse").push(key);
        }
        url.to_string()
    }
}

/// Parses and normalises `JIRA_URL` (never echoing it: it could carry a
/// credential).
fn base_url(url: &str) -> Result<Url, JiraError> {
    let invalid = |reason: &str| JiraError::InvalidUrl {
        reason: reason.to_string(),
    };
    let mut base = Url::parse(url.trim()).map_err(|e| invalid(&format!("not a URL ({e})")))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if let Some(reason) = http::refuses_credentials(base.as_str()) {
        return Err(invalid(reason));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid(
            "it must not carry credentials; set JIRA_USER and JIRA_API_TOKEN, or JIRA_PAT",
        ));
    }
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}
