//! Confluence adapter: finds, creates and updates the cycle page.
//!
//! Two layers:
//!
//! - [`ConfluenceApi`], a small object-safe trait over the REST calls the
//!   step needs (find a page by space and title, create, update with the
//!   next version, set the full-width appearance), with one real
//!   implementation, [`ConfluenceClient`], for Confluence Cloud's REST API v2
//!   ([`Api::CloudV2`], the default) and Data Center's REST API v1
//!   ([`Api::DataCenterV1`]). Which API is used comes from configuration,
//!   never from the host name.
//! - The step logic above it, generic over the trait: [`find`] (read only,
//!   for dry runs: absent, identical, or differs with a diff of the owned
//!   sections) and [`ensure`] (observe, then create or update only what
//!   differs). The page body is spliced with [`crate::edit::storage`]: the
//!   tool replaces its own sections and keeps everything people wrote
//!   around them.
//!
//! # Requests
//!
//! Cloud v2: `GET /wiki/api/v2/spaces?keys=KEY` (the space id, cached),
//! `GET /wiki/api/v2/pages?space-id=&title=&status=current&body-format=storage`,
//! `POST /wiki/api/v2/pages`, `PUT /wiki/api/v2/pages/{id}` (version
//! `current + 1`), and on a new page the content properties
//! `content-appearance-draft` and `content-appearance-published` set to
//! `full-width` (`GET`/`POST`/`PUT /wiki/api/v2/pages/{id}/properties`).
//! Data Center v1: `GET /rest/api/content?type=page&spaceKey=&title=&expand=body.storage,version`,
//! `POST /rest/api/content`, `PUT /rest/api/content/{id}`; the appearance is
//! left to Confluence there. Page links are `_links.base` + `_links.webui`.
//!
//! # Retries
//!
//! Every call goes through [`http::client`] (timeouts) and
//! [`http::with_retry`]: 5xx, 429 (after its `Retry-After`) and transport
//! errors are retried with backoff. A create is retried only after looking
//! again for the page (or property) it creates, and an update only after
//! re-reading the page, so a lost response never creates twice. A 409 on
//! update (someone saved the page meanwhile) makes [`ensure`] re-read,
//! re-merge and retry once before reporting it.
//!
//! # Environment
//!
//! `CONFLUENCE_URL` (the site, e.g. `https://rubinobs.atlassian.net`), and
//! `CONFLUENCE_USER` with `CONFLUENCE_API_TOKEN` (Cloud: account e-mail and
//! API token, HTTP Basic) or `CONFLUENCE_PAT` (Data Center personal access
//! token, Bearer). Tokens never appear in URLs, errors or `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use crate::edit::storage::{Change, Desired, SectionChange, SpliceError};
use crate::services::http::{self, Attempt, RetryError, RetryPolicy, Secret};

/// The site URL.
pub const URL_ENV: &str = "CONFLUENCE_URL";
/// Cloud: the account (e-mail) the API token belongs to.
pub const USER_ENV: &str = "CONFLUENCE_USER";
/// Cloud: the API token (HTTP Basic with [`USER_ENV`]).
pub const API_TOKEN_ENV: &str = "CONFLUENCE_API_TOKEN";
/// Data Center: a personal access token (HTTP Bearer).
pub const PAT_ENV: &str = "CONFLUENCE_PAT";

/// Content-property keys of the page appearance (Cloud).
const APPEARANCE_KEYS: [&str; 2] = ["content-appearance-draft", "content-appearance-published"];
/// The appearance set on new pages.
const FULL_WIDTH: &str = "full-width";
/// Longest service message quoted in an error.
const MAX_MESSAGE: usize = 300;

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
    fn variables(&self) -> &'static str {
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
    api: Api,
    /// The credential given first (Basic when both are set).
    primary: Auth,
    /// The other kind, when both are set.
    alternative: Option<Auth>,
    retry: RetryPolicy,
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
    fn auth(&self) -> &Auth {
        let wants_basic = self.api == Api::CloudV2;
        match &self.alternative {
            Some(alt) if matches!(alt, Auth::Basic { .. }) == wants_basic => alt,
            _ => &self.primary,
        }
    }

    /// `text` with every configured token replaced by `<redacted>`.
    fn scrub(&self, text: &str) -> String {
        let once = self.primary.secret().scrub(text);
        match &self.alternative {
            Some(alt) => alt.secret().scrub(&once),
            None => once,
        }
    }

    /// Root of the web UI and of `_links.webui` paths: `<site>/wiki` on
    /// Cloud, the base URL on Data Center.
    fn wiki_base(&self) -> String {
        let site = self.site.as_str().trim_end_matches('/');
        match self.api {
            Api::CloudV2 => format!("{site}/wiki"),
            Api::DataCenterV1 => site.to_string(),
        }
    }

    /// The URL of a REST API v1 path: `/wiki/rest/api/…` on Cloud (where v1
    /// still serves what v2 lacks, such as the current user), `/rest/api/…`
    /// on Data Center.
    fn v1_endpoint(&self, segments: &[&str]) -> Url {
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
    fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
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
fn parse_site(text: &str) -> Result<Url, ConfluenceError> {
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

/// Errors of the Confluence adapter. Messages show URLs without query or
/// credentials and never contain a token.
#[derive(Debug, thiserror::Error)]
pub enum ConfluenceError {
    /// Environment variables are missing.
    #[error(
        "Confluence is not configured: set {missing} (CONFLUENCE_URL is the site, e.g. \
         https://rubinobs.atlassian.net; Cloud uses CONFLUENCE_USER, the account e-mail, with \
         CONFLUENCE_API_TOKEN; Data Center uses CONFLUENCE_PAT, a personal access token)"
    )]
    NotConfigured {
        /// The variables to set.
        missing: String,
    },
    /// `CONFLUENCE_URL` is not usable.
    #[error("CONFLUENCE_URL is not a usable site URL: {reason}")]
    BadUrl {
        /// Why.
        reason: String,
    },
    /// 401 or 403: the credentials were refused.
    #[error(
        "Confluence at {url} refused the credentials (HTTP {status}: {message}); check that \
         {variables} are valid, not expired, and allowed to view and edit the space"
    )]
    Auth {
        /// The request URL (display form).
        url: String,
        /// 401 or 403.
        status: u16,
        /// The service's own text.
        message: String,
        /// The variables holding the credential used.
        variables: &'static str,
    },
    /// The space key is unknown (or invisible to the account).
    #[error("Confluence space {space} does not exist at {url}, or the account cannot see it")]
    SpaceNotFound {
        /// Space key.
        space: String,
        /// The site.
        url: String,
    },
    /// A 4xx answer other than 401, 403 and 409.
    #[error("Confluence refused {method} {url} (HTTP {status}): {message}")]
    Rejected {
        /// HTTP method.
        method: String,
        /// The request URL (display form).
        url: String,
        /// Status code.
        status: u16,
        /// The service's own text.
        message: String,
    },
    /// 409 on update: someone saved the page meanwhile.
    #[error(
        "page {id} changed while cycle was updating it (HTTP 409: {message}); rerun to merge \
         with the new version"
    )]
    Conflict {
        /// Page id.
        id: String,
        /// The service's own text.
        message: String,
    },
    /// 5xx, 429 or a transport error, after the retries.
    #[error("Confluence at {url} is unavailable: {message}")]
    Unavailable {
        /// The request URL (display form).
        url: String,
        /// What went wrong last.
        message: String,
    },
    /// The server asked for a longer wait than cycle allows.
    #[error("Confluence at {url} asks to wait {seconds} s before retrying; try again later")]
    RateLimited {
        /// The request URL (display form).
        url: String,
        /// The wait asked for.
        seconds: u64,
    },
    /// A success answer cycle cannot read.
    #[error("unexpected answer from {url}: {message}")]
    BadResponse {
        /// The request URL (display form).
        url: String,
        /// What is wrong with it.
        message: String,
    },
    /// The live page's owned sections are broken (a marker was deleted or copied).
    #[error(
        "cannot update page \"{title}\": {source}; fix the anchors on the page (Edit, then the \
         anchor macros) and rerun"
    )]
    Page {
        /// Page title.
        title: String,
        /// What is wrong.
        source: SpliceError,
    },
    /// The rendered body is not made of owned sections (a template bug).
    #[error("the rendered body of page \"{title}\" is not usable: {source}")]
    Template {
        /// Page title.
        title: String,
        /// What is wrong.
        source: SpliceError,
    },
}

impl RetryError for ConfluenceError {
    fn wait_too_long(self, wait: Duration) -> Self {
        match self {
            ConfluenceError::Unavailable { url, .. } => ConfluenceError::RateLimited {
                url,
                seconds: wait.as_secs(),
            },
            other => other,
        }
    }
}

/// A page as read from Confluence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Current version number.
    pub version: u64,
    /// Body in storage format.
    pub body: String,
    /// Link to the page in the web UI.
    pub url: String,
}

/// The REST calls the page step needs. Object-safe: the engine can hold an
/// `Arc<dyn ConfluenceApi>`.
#[async_trait::async_trait]
pub trait ConfluenceApi: Send + Sync {
    /// The current page titled `title` in `space`, with its body.
    async fn find_page(&self, space: &str, title: &str) -> Result<Option<Page>, ConfluenceError>;

    /// Creates a page under `parent_id`. Retried only after looking again
    /// for the page, so a lost response does not create it twice.
    async fn create_page(
        &self,
        space: &str,
        parent_id: &str,
        title: &str,
        body: &str,
    ) -> Result<Page, ConfluenceError>;

    /// Replaces the body of `page` with `body` as version `page.version + 1`.
    /// [`ConfluenceError::Conflict`] when the page has moved on.
    async fn update_page(
        &self,
        page: &Page,
        body: &str,
        message: &str,
    ) -> Result<Page, ConfluenceError>;

    /// Makes the page full-width; `false` when the API has no such setting.
    async fn set_full_width(&self, page: &Page) -> Result<bool, ConfluenceError>;

    /// Who the credentials are (`GET …/rest/api/user/current`, on Cloud
    /// under `/wiki`); read only.
    async fn current_user(&self) -> Result<ConfluenceUser, ConfluenceError>;

    /// The id of space `key`; `None` when it does not exist or the account
    /// cannot see it. Read only.
    async fn find_space(&self, key: &str) -> Result<Option<String>, ConfluenceError>;

    /// The page with `id` (without its body); `None` when it does not exist
    /// or the account cannot see it. Read only.
    async fn page_summary(&self, id: &str) -> Result<Option<PageSummary>, ConfluenceError>;

    /// Whether the account may add pages under page `id`: the page's
    /// permitted operations include `create` of a `page` (Cloud
    /// `GET /wiki/api/v2/pages/{id}/operations`, Data Center
    /// `GET /rest/api/content/{id}?expand=operations`). Read only.
    async fn may_add_pages_under(&self, id: &str) -> Result<bool, ConfluenceError>;
}

/// The account Confluence's credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfluenceUser {
    /// Display name (or user name).
    pub name: String,
    /// Confluence answered as the anonymous user: the credentials were not
    /// taken (Cloud answers so rather than 401 for some refusals).
    pub anonymous: bool,
}

/// A page without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    /// Page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Its space's id (Cloud v2 answers with it).
    pub space_id: Option<String>,
    /// Its space's key (Data Center v1 answers with it).
    pub space_key: Option<String>,
}

/// The page to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSpec {
    /// Space key, e.g. `LSSTCOM`.
    pub space: String,
    /// Id of the parent page (used when creating).
    pub parent_id: String,
    /// Title, unique within the space.
    pub title: String,
    /// The rendered storage-format body: the tool's own sections.
    pub body: String,
}

/// A page as reported back: id, version and link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    /// Page id.
    pub id: String,
    /// Version number.
    pub version: u64,
    /// Link to the page.
    pub url: String,
}

impl From<&Page> for PageRef {
    fn from(p: &Page) -> Self {
        Self {
            id: p.id.clone(),
            version: p.version,
            url: p.url.clone(),
        }
    }
}

/// What [`find`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageState {
    /// No page with that title in the space.
    Absent,
    /// The page holds the desired sections.
    Identical(PageRef),
    /// The page exists and some owned sections differ or are missing.
    Differs {
        /// The page.
        page: PageRef,
        /// Ids of the sections that would be replaced or added.
        sections: Vec<String>,
        /// Unified diff of those sections, live against desired.
        diff: String,
    },
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    /// The page was created.
    Created,
    /// Owned sections were replaced or added.
    Updated,
    /// Nothing to write.
    Unchanged,
}

/// The result of [`ensure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageOutcome {
    /// Page id.
    pub id: String,
    /// Version after the step.
    pub version: u64,
    /// Link to the page.
    pub url: String,
    /// What was done.
    pub action: PageAction,
    /// What happened to each owned section (empty when created).
    pub sections: Vec<SectionChange>,
    /// Things worth telling the user (e.g. the appearance could not be set).
    pub notes: Vec<String>,
}

/// What to do with an existing page, decided from what was observed (pure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Update the page to this body.
    Update {
        /// The merged body.
        body: String,
        /// Per-section changes.
        sections: Vec<SectionChange>,
        /// Diff of the changed sections.
        diff: String,
    },
    /// Write nothing.
    Unchanged {
        /// Per-section changes (all unchanged).
        sections: Vec<SectionChange>,
    },
}

/// Decides what to write to the live `page` for `desired` (pure). A page
/// that does not exist yet is created with [`Desired::to_body`].
pub fn decide(page: &Page, desired: &Desired) -> Result<Decision, SpliceError> {
    let merged = crate::edit::storage::merge(&page.body, desired)?;
    if merged.is_unchanged() {
        return Ok(Decision::Unchanged {
            sections: merged.sections,
        });
    }
    let diff = merged.diff(desired);
    Ok(Decision::Update {
        body: merged.body,
        sections: merged.sections,
        diff,
    })
}

/// The version message of an update: which sections changed.
pub fn update_message(sections: &[SectionChange]) -> String {
    let ids: Vec<&str> = sections
        .iter()
        .filter(|s| s.change != Change::Unchanged)
        .map(|s| s.id.as_str())
        .collect();
    format!("cycle: updated sections {}", ids.join(", "))
}

/// Reads the page without writing anything (dry run).
pub async fn find<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageSpec,
) -> Result<PageState, ConfluenceError> {
    let desired = desired(spec)?;
    let Some(page) = api.find_page(&spec.space, &spec.title).await? else {
        return Ok(PageState::Absent);
    };
    match decide(&page, &desired).map_err(|source| page_error(spec, source))? {
        Decision::Unchanged { .. } => Ok(PageState::Identical(PageRef::from(&page))),
        Decision::Update { sections, diff, .. } => Ok(PageState::Differs {
            page: PageRef::from(&page),
            sections: sections
                .iter()
                .filter(|s| s.change != Change::Unchanged)
                .map(|s| s.id.clone())
                .collect(),
            diff,
        }),
    }
}

/// Makes the page hold the desired sections: creates it under the parent
/// when absent, updates only the owned sections when they differ, writes
/// nothing when they match. A 409 is re-read, re-merged and retried once.
/// A create refused because a page of that title appeared meanwhile (a
/// title is unique in a space: another run created it first) reads that
/// page and updates it instead.
pub async fn ensure<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageSpec,
) -> Result<PageOutcome, ConfluenceError> {
    let desired = desired(spec)?;
    let mut live = api.find_page(&spec.space, &spec.title).await?;
    let mut conflicts = 0;
    let mut taken = false;
    loop {
        let Some(page) = live else {
            match create(api, spec, &desired).await {
                Err(e) if !taken && title_taken(&e) => {
                    taken = true;
                    live = api.find_page(&spec.space, &spec.title).await?;
                    if live.is_none() {
                        return Err(e);
                    }
                    continue;
                }
                created => return created,
            }
        };
        let (body, sections) =
            match decide(&page, &desired).map_err(|source| page_error(spec, source))? {
                Decision::Unchanged { sections } => {
                    return Ok(outcome(&page, PageAction::Unchanged, sections, vec![]));
                }
                Decision::Update { body, sections, .. } => (body, sections),
            };
        match api
            .update_page(&page, &body, &update_message(&sections))
            .await
        {
            Ok(updated) => return Ok(outcome(&updated, PageAction::Updated, sections, vec![])),
            Err(ConfluenceError::Conflict { .. }) if conflicts == 0 => {
                conflicts += 1;
                live = api.find_page(&spec.space, &spec.title).await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether Confluence refused a create because the space already holds a
/// page of that title (v2: 400 "A page with this title already exists";
/// v1 the same text, or a 409 on some versions).
pub fn title_taken(e: &ConfluenceError) -> bool {
    matches!(
        e,
        ConfluenceError::Rejected { status: 400 | 409, message, .. }
            if message.to_ascii_lowercase().contains("title already exists")
                || message.to_ascii_lowercase().contains("same title")
    )
}

async fn create<A: ConfluenceApi + ?Sized>(
    api: &A,
    spec: &PageSpec,
    desired: &Desired,
) -> Result<PageOutcome, ConfluenceError> {
    let page = api
        .create_page(
            &spec.space,
            &spec.parent_id,
            &spec.title,
            &desired.to_body(),
        )
        .await?;
    let notes = match api.set_full_width(&page).await {
        Ok(true) => vec![],
        Ok(false) => vec![
            "full-width appearance is only set through Confluence Cloud's API; set it by hand \
             if wanted"
                .to_string(),
        ],
        Err(e) => vec![format!(
            "the page was created but its full-width appearance was not set: {e}"
        )],
    };
    Ok(outcome(&page, PageAction::Created, vec![], notes))
}

fn desired(spec: &PageSpec) -> Result<Desired, ConfluenceError> {
    Desired::parse(&spec.body).map_err(|source| ConfluenceError::Template {
        title: spec.title.clone(),
        source,
    })
}

fn page_error(spec: &PageSpec, source: SpliceError) -> ConfluenceError {
    ConfluenceError::Page {
        title: spec.title.clone(),
        source,
    }
}

fn outcome(
    page: &Page,
    action: PageAction,
    sections: Vec<SectionChange>,
    notes: Vec<String>,
) -> PageOutcome {
    PageOutcome {
        id: page.id.clone(),
        version: page.version,
        url: page.url.clone(),
        action,
        sections,
        notes,
    }
}

/// The real implementation over HTTP.
#[derive(Debug)]
pub struct ConfluenceClient {
    config: Config,
    http: reqwest::Client,
    space_ids: Mutex<HashMap<String, String>>,
}

impl ConfluenceClient {
    /// A client for `config`, on the shared [`http::client`].
    pub fn new(config: Config) -> Self {
        Self {
            config,
            http: http::client(),
            space_ids: Mutex::new(HashMap::new()),
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// One request, classified for [`http::with_retry`].
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Attempt<Value, ConfluenceError> {
        let shown = http::display_url(url);
        let auth = self.config.auth();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        request = match auth {
            Auth::Basic { user, token } => request.basic_auth(user, Some(token.expose())),
            Auth::Bearer { token } => request.bearer_auth(token.expose()),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let unavailable = |message: String| ConfluenceError::Unavailable {
            url: shown.clone(),
            message: self.config.scrub(&message),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let error = unavailable(transport_message(&e));
                return if http::is_transient_error(&e) {
                    Attempt::Retry { error, after: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let status = response.status();
        let after = http::retry_after(response.headers());
        let text = match response.text().await {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Retry {
                    error: unavailable(transport_message(&e)),
                    after: None,
                };
            }
        };
        let message = self.config.scrub(&service_message(&text));
        if status.is_success() {
            if text.trim().is_empty() {
                return Attempt::Done(Ok(Value::Null));
            }
            return Attempt::Done(serde_json::from_str(&text).map_err(|e| {
                ConfluenceError::BadResponse {
                    url: shown.clone(),
                    message: format!("invalid JSON ({e})"),
                }
            }));
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Attempt::Done(Err(ConfluenceError::Auth {
                url: shown,
                status: status.as_u16(),
                message,
                variables: auth.variables(),
            }));
        }
        if http::is_transient(status) {
            return Attempt::Retry {
                error: unavailable(format!("HTTP {}: {message}", status.as_u16())),
                after,
            };
        }
        Attempt::Done(Err(ConfluenceError::Rejected {
            method: method.to_string(),
            url: shown,
            status: status.as_u16(),
            message,
        }))
    }

    /// A request retried on transient failures (reads and version-guarded writes).
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Value, ConfluenceError> {
        http::with_retry(&self.config.retry, |_| self.attempt(&method, &url, body)).await
    }

    /// A create retried only after `look` finds nothing: `look` runs before
    /// every attempt but the first.
    async fn create<T, L, LF, P>(
        &self,
        url: Url,
        body: &Value,
        look: L,
        parse: P,
    ) -> Result<T, ConfluenceError>
    where
        L: Fn() -> LF,
        LF: Future<Output = Result<Option<T>, ConfluenceError>>,
        P: Fn(&Value) -> Result<T, ConfluenceError>,
    {
        http::with_retry(&self.config.retry, |n| {
            let look = &look;
            let parse = &parse;
            let url = &url;
            async move {
                if n > 1 {
                    match look().await {
                        Ok(Some(found)) => return Attempt::Done(Ok(found)),
                        Ok(None) => {}
                        Err(e) => return Attempt::Done(Err(e)),
                    }
                }
                match self.attempt(&Method::POST, url, Some(body)).await {
                    Attempt::Done(Ok(v)) => Attempt::Done(parse(&v)),
                    Attempt::Done(Err(e)) => Attempt::Done(Err(e)),
                    Attempt::Retry { error, after } => Attempt::Retry { error, after },
                }
            }
        })
        .await
    }

    /// A read that may find nothing: the answer, or `None` on a 404.
    async fn probe(&self, url: Url) -> Result<Option<Value>, ConfluenceError> {
        match self.call(Method::GET, url, None).await {
            Ok(v) => Ok(Some(v)),
            Err(ConfluenceError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The id of space `key` (Cloud), cached.
    async fn space_id(&self, key: &str) -> Result<String, ConfluenceError> {
        if let Some(id) = self.cached_space(key) {
            return Ok(id);
        }
        let url = self.config.endpoint(&["spaces"], &[("keys", key)]);
        let shown = http::display_url(&url);
        let v = self.call(Method::GET, url, None).await?;
        let results = results(&v, &shown)?;
        let id = results
            .iter()
            .find(|s| s["key"].as_str() == Some(key))
            .and_then(|s| id_of(&s["id"]))
            .ok_or_else(|| ConfluenceError::SpaceNotFound {
                space: key.to_string(),
                url: http::display_url(self.config.site_url()),
            })?;
        if let Ok(mut cache) = self.space_ids.lock() {
            cache.insert(key.to_string(), id.clone());
        }
        Ok(id)
    }

    fn cached_space(&self, key: &str) -> Option<String> {
        self.space_ids.lock().ok()?.get(key).cloned()
    }

    /// The page with `id`, with its body.
    async fn get_page(&self, id: &str) -> Result<Page, ConfluenceError> {
        let url = match self.config.api {
            Api::CloudV2 => self
                .config
                .endpoint(&["pages", id], &[("body-format", "storage")]),
            Api::DataCenterV1 => self
                .config
                .endpoint(&["content", id], &[("expand", "body.storage,version")]),
        };
        let shown = http::display_url(&url);
        let v = self.call(Method::GET, url, None).await?;
        parse_page(&v, None, &self.config.wiki_base(), &shown)
    }

    /// The content property `key` of a page (Cloud): its id, value and version.
    async fn property(
        &self,
        page_id: &str,
        key: &str,
    ) -> Result<Option<(String, Value, u64)>, ConfluenceError> {
        let url = self
            .config
            .endpoint(&["pages", page_id, "properties"], &[("key", key)]);
        let shown = http::display_url(&url);
        let v = self.call(Method::GET, url, None).await?;
        Ok(results(&v, &shown)?
            .iter()
            .find(|p| p["key"].as_str() == Some(key))
            .and_then(|p| {
                Some((
                    id_of(&p["id"])?,
                    p["value"].clone(),
                    p["version"]["number"].as_u64().unwrap_or(1),
                ))
            }))
    }
}

#[async_trait::async_trait]
impl ConfluenceApi for ConfluenceClient {
    async fn find_page(&self, space: &str, title: &str) -> Result<Option<Page>, ConfluenceError> {
        let url = match self.config.api {
            Api::CloudV2 => {
                let space_id = self.space_id(space).await?;
                self.config.endpoint(
                    &["pages"],
                    &[
                        ("space-id", space_id.as_str()),
                        ("title", title),
                        ("status", "current"),
                        ("body-format", "storage"),
                    ],
                )
            }
            Api::DataCenterV1 => self.config.endpoint(
                &["content"],
                &[
                    ("type", "page"),
                    ("spaceKey", space),
                    ("title", title),
                    ("status", "current"),
                    ("expand", "body.storage,version"),
                ],
            ),
        };
        let shown = http::display_url(&url);
        let v = self.call(Method::GET, url, None).await?;
        let base = v["_links"]["base"].as_str();
        results(&v, &shown)?
            .iter()
            .find(|p| p["title"].as_str() == Some(title))
            .map(|p| parse_page(p, base, &self.config.wiki_base(), &shown))
            .transpose()
    }

    async fn create_page(
        &self,
        space: &str,
        parent_id: &str,
        title: &str,
        body: &str,
    ) -> Result<Page, ConfluenceError> {
        let (url, request) = match self.config.api {
            Api::CloudV2 => {
                let space_id = self.space_id(space).await?;
                (
                    self.config.endpoint(&["pages"], &[]),
                    create_request_v2(&space_id, parent_id, title, body),
                )
            }
            Api::DataCenterV1 => (
                self.config.endpoint(&["content"], &[]),
                create_request_v1(space, parent_id, title, body),
            ),
        };
        let shown = http::display_url(&url);
        let wiki = self.config.wiki_base();
        self.create(
            url,
            &request,
            || self.find_page(space, title),
            |v| parse_page(v, None, &wiki, &shown),
        )
        .await
    }

    async fn update_page(
        &self,
        page: &Page,
        body: &str,
        message: &str,
    ) -> Result<Page, ConfluenceError> {
        let next = page.version + 1;
        let (url, request) = match self.config.api {
            Api::CloudV2 => (
                self.config.endpoint(&["pages", &page.id], &[]),
                update_request_v2(page, body, message),
            ),
            Api::DataCenterV1 => (
                self.config.endpoint(&["content", &page.id], &[]),
                update_request_v1(page, body, message),
            ),
        };
        let shown = http::display_url(&url);
        let conflict = |message: String| ConfluenceError::Conflict {
            id: page.id.clone(),
            message,
        };
        let result = http::with_retry(&self.config.retry, |n| {
            let url = &url;
            let request = &request;
            let conflict = &conflict;
            async move {
                if n > 1 {
                    // The last response may have been lost after the update was made.
                    match self.get_page(&page.id).await {
                        Ok(live) if live.version == next && live.body == body => {
                            return Attempt::Done(Ok(Value::Null));
                        }
                        Ok(live) if live.version >= next => {
                            return Attempt::Done(Err(conflict(format!(
                                "the page is now at version {}",
                                live.version
                            ))));
                        }
                        Ok(_) => {}
                        Err(e) => return Attempt::Done(Err(e)),
                    }
                }
                match self.attempt(&Method::PUT, url, Some(request)).await {
                    Attempt::Done(Err(ConfluenceError::Rejected {
                        status: 409,
                        message,
                        ..
                    })) => Attempt::Done(Err(conflict(message))),
                    other => other,
                }
            }
        })
        .await?;
        if result.is_null() {
            return self.get_page(&page.id).await;
        }
        parse_page(&result, None, &self.config.wiki_base(), &shown)
    }

    async fn set_full_width(&self, page: &Page) -> Result<bool, ConfluenceError> {
        if self.config.api != Api::CloudV2 {
            return Ok(false);
        }
        for key in APPEARANCE_KEYS {
            match self.property(&page.id, key).await? {
                Some((_, value, _)) if value.as_str() == Some(FULL_WIDTH) => {}
                Some((property_id, _, version)) => {
                    let url = self
                        .config
                        .endpoint(&["pages", &page.id, "properties", &property_id], &[]);
                    let body = json!({
                        "key": key,
                        "value": FULL_WIDTH,
                        "version": {"number": version + 1, "message": "cycle: full width"},
                    });
                    self.call(Method::PUT, url, Some(&body)).await?;
                }
                None => {
                    let url = self
                        .config
                        .endpoint(&["pages", &page.id, "properties"], &[]);
                    let body = json!({"key": key, "value": FULL_WIDTH});
                    self.create(
                        url,
                        &body,
                        || async {
                            Ok::<_, ConfluenceError>(
                                self.property(&page.id, key).await?.map(|_| ()),
                            )
                        },
                        |_| Ok(()),
                    )
                    .await?;
                }
            }
        }
        Ok(true)
    }

    async fn current_user(&self) -> Result<ConfluenceUser, ConfluenceError> {
        let v = self
            .call(
                Method::GET,
                self.config.v1_endpoint(&["user", "current"]),
                None,
            )
            .await?;
        let text = |name: &str| v[name].as_str().filter(|t| !t.is_empty());
        Ok(ConfluenceUser {
            name: text("displayName")
                .or(text("publicName"))
                .or(text("username"))
                .or(text("email"))
                .unwrap_or_default()
                .to_string(),
            anonymous: v["type"].as_str() == Some("anonymous"),
        })
    }

    async fn find_space(&self, key: &str) -> Result<Option<String>, ConfluenceError> {
        match self.config.api {
            Api::CloudV2 => match self.space_id(key).await {
                Ok(id) => Ok(Some(id)),
                Err(ConfluenceError::SpaceNotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            },
            Api::DataCenterV1 => Ok(self
                .probe(self.config.endpoint(&["space", key], &[]))
                .await?
                .map(|v| id_of(&v["id"]).unwrap_or_else(|| key.to_string()))),
        }
    }

    async fn page_summary(&self, id: &str) -> Result<Option<PageSummary>, ConfluenceError> {
        let url = match self.config.api {
            Api::CloudV2 => self.config.endpoint(&["pages", id], &[]),
            Api::DataCenterV1 => self
                .config
                .endpoint(&["content", id], &[("expand", "space")]),
        };
        Ok(self.probe(url).await?.map(|v| PageSummary {
            id: id_of(&v["id"]).unwrap_or_else(|| id.to_string()),
            title: v["title"].as_str().unwrap_or_default().to_string(),
            space_id: id_of(&v["spaceId"]),
            space_key: v["space"]["key"].as_str().map(str::to_string),
        }))
    }

    async fn may_add_pages_under(&self, id: &str) -> Result<bool, ConfluenceError> {
        let url = match self.config.api {
            Api::CloudV2 => self.config.endpoint(&["pages", id, "operations"], &[]),
            Api::DataCenterV1 => self
                .config
                .endpoint(&["content", id], &[("expand", "operations")]),
        };
        let v = self.call(Method::GET, url, None).await?;
        Ok(v["operations"].as_array().into_iter().flatten().any(|o| {
            o["operation"].as_str() == Some("create") && o["targetType"].as_str() == Some("page")
        }))
    }
}

/// Cloud v2 body of `POST /wiki/api/v2/pages`.
pub fn create_request_v2(space_id: &str, parent_id: &str, title: &str, body: &str) -> Value {
    json!({
        "spaceId": space_id,
        "status": "current",
        "title": title,
        "parentId": parent_id,
        "body": {"representation": "storage", "value": body},
    })
}

/// Data Center v1 body of `POST /rest/api/content`.
pub fn create_request_v1(space: &str, parent_id: &str, title: &str, body: &str) -> Value {
    json!({
        "type": "page",
        "title": title,
        "space": {"key": space},
        "ancestors": [{"id": parent_id}],
        "body": {"storage": {"value": body, "representation": "storage"}},
    })
}

/// Cloud v2 body of `PUT /wiki/api/v2/pages/{id}`: the next version.
pub fn update_request_v2(page: &Page, body: &str, message: &str) -> Value {
    json!({
        "id": page.id,
        "status": "current",
        "title": page.title,
        "body": {"representation": "storage", "value": body},
        "version": {"number": page.version + 1, "message": message},
    })
}

/// Data Center v1 body of `PUT /rest/api/content/{id}`: the next version.
pub fn update_request_v1(page: &Page, body: &str, message: &str) -> Value {
    json!({
        "id": page.id,
        "type": "page",
        "title": page.title,
        "body": {"storage": {"value": body, "representation": "storage"}},
        "version": {"number": page.version + 1, "message": message},
    })
}

/// A page from a v2 page object or a v1 content object. `collection_base`
/// is the list's `_links.base`; `wiki_base` the fallback root of links.
fn parse_page(
    v: &Value,
    collection_base: Option<&str>,
    wiki_base: &str,
    shown: &str,
) -> Result<Page, ConfluenceError> {
    let bad = |what: &str| ConfluenceError::BadResponse {
        url: shown.to_string(),
        message: format!("the page has no {what}"),
    };
    let id = id_of(&v["id"]).ok_or_else(|| bad("id"))?;
    let version = v["version"]["number"]
        .as_u64()
        .ok_or_else(|| bad("version.number"))?;
    // v2 `body.storage.value`; v1 has the same path.
    let body = v["body"]["storage"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let base = v["_links"]["base"]
        .as_str()
        .or(collection_base)
        .unwrap_or(wiki_base)
        .trim_end_matches('/');
    let url = match v["_links"]["webui"].as_str() {
        Some(webui) => format!("{base}{webui}"),
        None => format!("{wiki_base}/pages/viewpage.action?pageId={id}"),
    };
    Ok(Page {
        title: v["title"].as_str().unwrap_or_default().to_string(),
        id,
        version,
        body,
        url,
    })
}

/// The `results` array of a list answer.
fn results<'a>(v: &'a Value, shown: &str) -> Result<&'a Vec<Value>, ConfluenceError> {
    v["results"]
        .as_array()
        .ok_or_else(|| ConfluenceError::BadResponse {
            url: shown.to_string(),
            message: "no `results` list".into(),
        })
}

/// An id given as a string (v2, v1) or a number.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The service's own error text: v2 `errors[].title`/`detail`, v1
/// `message`, else the start of the body.
pub fn service_message(body: &str) -> String {
    let text = match serde_json::from_str::<Value>(body) {
        Ok(v) => {
            let v2: Vec<String> = v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let title = e["title"].as_str().or(e["message"].as_str())?;
                    Some(match e["detail"].as_str().filter(|d| !d.is_empty()) {
                        Some(detail) => format!("{title} ({detail})"),
                        None => title.to_string(),
                    })
                })
                .collect();
            if !v2.is_empty() {
                v2.join("; ")
            } else if let Some(m) = v["message"].as_str() {
                m.to_string()
            } else {
                body.trim().to_string()
            }
        }
        Err(_) => body.trim().to_string(),
    };
    if text.is_empty() {
        return "no error text".into();
    }
    let mut short: String = text.chars().take(MAX_MESSAGE).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// A transport error with its causes, without the URL.
fn transport_message(e: &reqwest::Error) -> String {
    let mut message = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    if let Some(source) = std::error::Error::source(e) {
        message.push_str(": ");
        message.push_str(&crate::services::http::error_chain(source));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::storage::{begin_marker, end_marker};

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn missing_configuration_names_every_variable() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err().to_string();
        for var in [URL_ENV, USER_ENV, API_TOKEN_ENV, PAT_ENV] {
            assert!(err.contains(var), "{var} not named: {err}");
        }
        let err = Config::from_lookup(lookup(&[(URL_ENV, "https://x"), (USER_ENV, "me")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("set CONFLUENCE_API_TOKEN ("), "{err}");
        let err = Config::from_lookup(lookup(&[(API_TOKEN_ENV, "t")]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("set CONFLUENCE_URL, CONFLUENCE_USER ("),
            "{err}"
        );
    }

    #[test]
    fn credentials_follow_the_api() {
        let both = Config::from_lookup(lookup(&[
            (URL_ENV, "https://x.example/wiki/"),
            (USER_ENV, "me@example.org"),
            (API_TOKEN_ENV, "tok"),
            (PAT_ENV, "pat"),
        ]))
        .unwrap();
        assert!(matches!(both.auth(), Auth::Basic { .. }));
        let dc = both.clone().with_api(Api::DataCenterV1);
        assert!(matches!(dc.auth(), Auth::Bearer { .. }));
        assert_eq!(both.site_url().as_str(), "https://x.example/");
        assert_eq!(both.wiki_base(), "https://x.example/wiki");
        let shown = format!("{both:?}");
        assert!(
            !shown.contains("tok\"") && !shown.contains("pat\""),
            "{shown}"
        );
    }

    #[test]
    fn site_urls_are_checked_and_endpoints_escaped() {
        assert!(parse_site("https://u:p@x.example").is_err());
        assert!(parse_site("ftp://x.example").is_err());
        assert!(parse_site("https://x.example/?a=b").is_err());
        let c = Config::new(
            "https://dc.example/confluence/",
            Auth::Bearer {
                token: Secret::new("p"),
            },
        )
        .unwrap()
        .with_api(Api::DataCenterV1);
        let url = c.endpoint(&["content", "1/2"], &[("title", "Cycle 44 & co")]);
        assert_eq!(
            url.as_str(),
            "https://dc.example/confluence/rest/api/content/1%2F2?title=Cycle+44+%26+co"
        );
        let cloud = Config::new(
            "https://x.atlassian.net",
            Auth::Bearer {
                token: Secret::new("p"),
            },
        )
        .unwrap();
        assert_eq!(
            cloud.endpoint(&["pages"], &[]).as_str(),
            "https://x.atlassian.net/wiki/api/v2/pages"
        );
        assert_eq!("dc".parse::<Api>(), Ok(Api::DataCenterV1));
        assert!("v3".parse::<Api>().is_err());
    }

    #[test]
    fn request_bodies_follow_the_docs() {
        let page = Page {
            id: "7".into(),
            title: "T".into(),
            version: 4,
            body: String::new(),
            url: String::new(),
        };
        let v2 = update_request_v2(&page, "<p/>", "m");
        assert_eq!(v2["version"]["number"], 5);
        assert_eq!(v2["body"]["representation"], "storage");
        assert_eq!(v2["status"], "current");
        let v1 = update_request_v1(&page, "<p/>", "m");
        assert_eq!(v1["version"]["number"], 5);
        assert_eq!(v1["body"]["storage"]["value"], "<p/>");
        let c2 = create_request_v2("98", "5", "T", "<p/>");
        assert_eq!(c2["spaceId"], "98");
        assert_eq!(c2["parentId"], "5");
        let c1 = create_request_v1("K", "5", "T", "<p/>");
        assert_eq!(c1["ancestors"][0]["id"], "5");
        assert_eq!(c1["space"]["key"], "K");
        assert_eq!(c1["type"], "page");
    }

    #[test]
    fn pages_are_read_with_their_links() {
        let v = json!({"id": "42", "title": "T", "version": {"number": 3},
            "body": {"storage": {"value": "<p>x</p>", "representation": "storage"}},
            "_links": {"webui": "/spaces/K/pages/42/T"}});
        let p = parse_page(&v, Some("https://s/wiki"), "https://f/wiki", "u").unwrap();
        assert_eq!(
            (p.id.as_str(), p.version, p.url.as_str()),
            ("42", 3, "https://s/wiki/spaces/K/pages/42/T")
        );
        let v = json!({"id": 42, "version": {"number": 1}});
        let p = parse_page(&v, None, "https://dc", "u").unwrap();
        assert_eq!(p.url, "https://dc/pages/viewpage.action?pageId=42");
        assert!(parse_page(&json!({"id": "1"}), None, "b", "u").is_err());
    }

    #[test]
    fn a_taken_title_is_told_from_other_refusals() {
        let refused = |status: u16, message: &str| ConfluenceError::Rejected {
            method: "POST".into(),
            url: "u".into(),
            status,
            message: message.into(),
        };
        assert!(title_taken(&refused(
            400,
            "A page with this title already exists: A page already exists with the same TITLE in this space"
        )));
        assert!(title_taken(&refused(
            400,
            "A page with this title already exists"
        )));
        assert!(!title_taken(&refused(
            400,
            "The parent page could not be found"
        )));
        assert!(!title_taken(&refused(
            403,
            "A page with this title already exists"
        )));
    }

    #[test]
    fn service_messages_are_quoted() {
        let v2 = r#"{"errors":[{"status":409,"code":"CONFLICT","title":"Version must be incremented on update. Current version is: 3","detail":null}]}"#;
        assert_eq!(
            service_message(v2),
            "Version must be incremented on update. Current version is: 3"
        );
        let v1 =
            r#"{"statusCode":400,"data":{},"message":"A page with this title already exists"}"#;
        assert_eq!(service_message(v1), "A page with this title already exists");
        assert_eq!(service_message(""), "no error text");
        assert!(service_message(&"x".repeat(1000)).ends_with('…'));
    }

    #[test]
    fn decisions() {
        let section = |c: &str| format!("{}{c}{}", begin_marker("a", None), end_marker("a"));
        let desired = Desired::parse(&section("<p>new</p>")).unwrap();
        let mut page = Page {
            id: "1".into(),
            title: "T".into(),
            version: 2,
            body: format!("<p>mine</p>{}", section("<p>old</p>")),
            url: String::new(),
        };
        let Ok(Decision::Update { body, sections, .. }) = decide(&page, &desired) else {
            panic!("expected an update");
        };
        assert!(body.starts_with("<p>mine</p>"));
        assert_eq!(update_message(&sections), "cycle: updated sections a");
        page.body = body;
        assert!(matches!(
            decide(&page, &desired),
            Ok(Decision::Unchanged { sections }) if sections[0].change == Change::Unchanged
        ));
    }
}
