//! Where Confluence is and how to reach it: the REST API (v2 or v1), the
//! credentials and the retry policy, from the environment.

use std::fmt;
use std::str::FromStr;

use reqwest::Url;

use crate::services::http::{self, RetryPolicy, Secret};

use super::*;

/// Which REST API the site speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Api {
    /// Confluence Cloud, REST API v2 under `/wiki/api/v2`.
    #[default]
    CloudV2,
    /// Confluence Data Center (or Server), REST API v1 under `/rest/api`.
    DataCenterV1,
}

impl FromStr for Api {
    type Err = String;

    /// `cloud-v2` (or `cloud`), `datacenter-v1` (or `datacenter`, `data-center`, `dc`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cloud-v2" | "cloud" => Ok(Api::CloudV2),
            "datacenter-v1" | "datacenter" | "data-center" | "data-center-v1" | "dc" => {
                Ok(Api::DataCenterV1)
            }
            other => Err(format!(
                "unknown Confluence API `{other}`: use `cloud-v2` or `datacenter-v1`"
            )),
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Api::CloudV2 => "cloud-v2",
            Api::DataCenterV1 => "datacenter-v1",
        })
    }
}

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic: Cloud account e-mail and API token.
    Basic {
        /// Account (e-mail).
        user: String,
        /// API token.
        token: Secret,
    },
    /// HTTP Bearer: a Data Center personal access token.
    Bearer {
        /// The token.
        token: Secret,
    },
}

impl Auth {
    /// The variables that hold this credential, for error messages.
    pub(super) fn variables(&self) -> &'static str {
        match self {
            Auth::Basic { .. } => "CONFLUENCE_USER and CONFLUENCE_API_TOKEN",
            Auth::Bearer { .. } => "CONFLUENCE_PAT",
        }
    }

    fn secret(&self) -> &Secret {
        match self {
            Auth::Basic { token, .. } | Auth::Bearer { token } => token,
        }
    }
}

/// Where Confluence is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Config {
    site: Url,
    pub(super) api: Api,
    /// The credential given first (Basic when both are set).
    primary: Auth,
    /// The other kind, when both are set.
    alternative: Option<Auth>,
    pub(super) retry: RetryPolicy,
}

impl Config {
    /// Reads `CONFLUENCE_URL` and the credentials from the environment; one
    /// error names every variable still to set.
    pub fn from_env() -> Result<Self, ConfluenceError> {
        Self::from_lookup(http::env_var)
    }

    /// As [`Config::from_env`], reading variables through `get` (which
    /// returns `None` for unset or empty ones).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfluenceError> {
        let url = get(URL_ENV);
        let user = get(USER_ENV);
        let token = get(API_TOKEN_ENV).map(Secret::new);
        let basic = user
            .clone()
            .zip(token.clone())
            .map(|(user, token)| Auth::Basic { user, token });
        let bearer = get(PAT_ENV).map(|token| Auth::Bearer {
            token: Secret::new(token),
        });
        let credentials = match (basic, bearer) {
            (Some(basic), bearer) => Some((basic, bearer)),
            (None, Some(bearer)) => Some((bearer, None)),
            (None, None) => None,
        };
        let mut missing = Vec::new();
        if url.is_none() {
            missing.push(URL_ENV.to_string());
        }
        if credentials.is_none() {
            missing.push(match (&user, &token) {
                (Some(_), None) => API_TOKEN_ENV.to_string(),
                (None, Some(_)) => USER_ENV.to_string(),
                _ => format!(
                    "{USER_ENV} and {API_TOKEN_ENV} (Confluence Cloud) or {PAT_ENV} (Data Center)"
                ),
            });
        }
        let (Some(url), Some((primary, alternative))) = (url, credentials) else {
            return Err(ConfluenceError::NotConfigured {
                missing: missing.join(", "),
            });
        };
        let mut config = Self::new(&url, primary)?;
        config.alternative = alternative;
        Ok(config)
    }

    /// A configuration for the site at `url` with one credential.
    pub fn new(url: &str, auth: Auth) -> Result<Self, ConfluenceError> {
        Ok(Self {
            site: parse_site(url)?,
            api: Api::default(),
            primary: auth,
            alternative: None,
            retry: RetryPolicy::default(),
        })
    }

    /// Uses `api` (default [`Api::CloudV2`]).
    pub fn with_api(mut self, api: Api) -> Self {
        self.api = api;
        self
    }

    /// Uses `policy` for retries (tests use short delays).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The REST API in use.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The site URL (never holds credentials).
    pub fn site_url(&self) -> &Url {
        &self.site
    }

    /// The credential sent: Cloud prefers user and API token, Data Center
    /// the personal access token, when both are set.
    pub(super) fn auth(&self) -> &Auth {
        let wants_basic = self.api == Api::CloudV2;
        match &self.alternative {
            Some(alt) if matches!(alt, Auth::Basic { .. }) == wants_basic => alt,
            _ => &self.primary,
        }
    }

    /// `text` with every configured token replaced by `<redacted>`.
    pub(super) fn scrub(&self, text: &str) -> String {
        let once = self.primary.secret().scrub(text);
        match &self.alternative {
            Some(alt) => alt.secret().scrub(&once),
            None => once,
        }
    }

    /// Root of the web UI and of `_links.webui` paths: `<site>/wiki` on
    /// Cloud, the base URL on Data Center.
    pub(super) fn wiki_base(&self) -> String {
        let site = self.site.as_str().trim_end_matches('/');
        match self.api {
            Api::CloudV2 => format!("{site}/wiki"),
            Api::DataCenterV1 => site.to_string(),
        }
    }

    /// The URL of a REST API v1 path: `/wiki/rest/api/…` on Cloud (where v1
    /// still serves what v2 lacks, such as the current user), `/rest/api/…`
    /// on Data Center.
    pub(super) fn v1_endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.site.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            let root: &[&str] = match self.api {
                Api::CloudV2 => &["wiki", "rest", "api"],
                Api::DataCenterV1 => &["rest", "api"],
            };
            path.extend(root).extend(segments);
        }
        url
    }

    /// The URL of a REST path (segments are escaped) with query pairs.
    pub(super) fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.site.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            let root: &[&str] = match self.api {
                Api::CloudV2 => &["wiki", "api", "v2"],
                Api::DataCenterV1 => &["rest", "api"],
            };
            path.extend(root).extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }
}

/// Checks and normalises `CONFLUENCE_URL`: http(s), no credentials, no
/// query; a trailing `/wiki` (Cloud's web UI root) is dropped.
pub(super) fn parse_site(text: &str) -> Result<Url, ConfluenceError> {
    let bad = |reason: &str| ConfluenceError::BadUrl {
        reason: reason.to_string(),
    };
    let mut url = Url::parse(text.trim()).map_err(|e| bad(&format!("{e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(bad("use an http or https URL"));
    }
    if let Some(reason) = http::refuses_credentials(url.as_str()) {
        return Err(bad(reason));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "it contains credentials; put them in CONFLUENCE_USER and CONFLUENCE_API_TOKEN, or CONFLUENCE_PAT",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("remove the query or fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/wiki").unwrap_or(path).to_string();
    url.set_path(if path.is_empty() { "/" } else { &path });
    Ok(url)
}
