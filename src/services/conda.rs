//! Conda channel adapter: the files of a package in a channel, through the
//! channel's public HTTP API (anaconda.org's `GET
//! {api}/package/{channel}/{name}`: JSON with `versions` and `files`, each
//! file with `version`, `basename` and `attrs.subdir`/`attrs.build`; 404 for
//! an unknown package). No `conda` executable is needed.
//!
//! The API root is configurable (`CYCLE_CONDA_API_URL`, `conda_api_url` in
//! the config file, default [`DEFAULT_API_URL`]), as is the channel
//! (`conda_channel`, default [`DEFAULT_CHANNEL`]). Requests use
//! [`http::client`]'s timeouts and are retried with backoff on 5xx, 429 and
//! transport errors; once the host does not resolve or refuses the
//! connection, no further request is made to it in this run, and every
//! lookup answers the same `cannot reach HOST: …` (one grouped finding).

use async_trait::async_trait;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::model::conda::{CondaAnswer, CondaFile};
use crate::services::http::{self, Attempt, RetryError, RetryPolicy};

/// The public API of anaconda.org.
pub const DEFAULT_API_URL: &str = "https://api.anaconda.org";
/// The observatory's channel.
pub const DEFAULT_CHANNEL: &str = "lsstts";
/// Environment variable overriding the API root.
pub const API_URL_ENV: &str = "CYCLE_CONDA_API_URL";

/// Looks packages up in a channel.
#[async_trait]
pub trait CondaApi: Send + Sync {
    /// The files of package `name` in `channel` (or why not).
    async fn package(&self, channel: &str, name: &str) -> CondaAnswer;
}

/// A failed lookup, for the retry loop.
#[derive(Debug)]
struct LookupError(String);

impl RetryError for LookupError {
    fn wait_too_long(self, wait: std::time::Duration) -> Self {
        LookupError(format!("{} (asked to wait {} s)", self.0, wait.as_secs()))
    }
}

/// The real [`CondaApi`] on reqwest.
#[derive(Debug, Clone)]
pub struct CondaClient {
    api_url: String,
    host: String,
    client: reqwest::Client,
    retry: RetryPolicy,
    reach: http::Reachability,
}

#[derive(Deserialize)]
struct WirePackage {
    #[serde(default)]
    files: Vec<WireFile>,
}

#[derive(Deserialize)]
struct WireFile {
    version: String,
    #[serde(default)]
    basename: String,
    #[serde(default)]
    attrs: WireAttrs,
}

#[derive(Deserialize, Default)]
struct WireAttrs {
    #[serde(default)]
    subdir: Option<String>,
    #[serde(default)]
    build: Option<String>,
}

impl CondaClient {
    /// A client for the API root `api_url` (no trailing `/` needed).
    pub fn new(api_url: &str) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(api_url.trim())
            .map_err(|e| anyhow::anyhow!("conda API URL {api_url:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("conda API URL {api_url:?}: the scheme must be https (or http)");
        }
        Ok(Self {
            api_url: api_url.trim().trim_end_matches('/').to_string(),
            host: http::host_of(api_url.trim()),
            client: http::client(),
            retry: RetryPolicy::default(),
            reach: http::Reachability::default(),
        })
    }

    async fn attempt(&self, url: &str) -> Attempt<CondaAnswer, LookupError> {
        if let Some(cause) = self.reach.cause(&self.host) {
            return Attempt::Done(Err(LookupError(http::unreachable_message(
                &self.host, cause,
            ))));
        }
        let response = match self.client.get(url).send().await {
            Ok(r) => r,
            Err(e) => {
                let chain = http::error_chain(&e);
                if let Some(cause) = self.reach.record(&self.host, &chain) {
                    return Attempt::Done(Err(LookupError(http::unreachable_message(
                        &self.host, cause,
                    ))));
                }
                let error = LookupError(chain);
                return if http::is_transient_error(&e) {
                    Attempt::Retry { error, after: None }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Attempt::Done(Ok(CondaAnswer::Missing));
        }
        if !status.is_success() {
            let error = LookupError(format!("GET {url}: {status}"));
            return if http::is_transient(status) {
                Attempt::Retry {
                    after: http::retry_after(response.headers()),
                    error,
                }
            } else {
                Attempt::Done(Err(error))
            };
        }
        match response.json::<WirePackage>().await {
            Ok(p) => Attempt::Done(Ok(CondaAnswer::Files(
                p.files
                    .into_iter()
                    .map(|f| CondaFile {
                        platform: f.attrs.subdir.unwrap_or_else(|| {
                            f.basename
                                .split_once('/')
                                .map_or(String::new(), |(d, _)| d.to_string())
                        }),
                        build: f.attrs.build.unwrap_or_default(),
                        version: f.version,
                    })
                    .collect(),
            ))),
            Err(e) => Attempt::Done(Err(LookupError(format!(
                "GET {url}: unexpected answer: {e}"
            )))),
        }
    }
}

#[async_trait]
impl CondaApi for CondaClient {
    async fn package(&self, channel: &str, name: &str) -> CondaAnswer {
        let url = format!("{}/package/{channel}/{name}", self.api_url);
        let url = &url;
        http::with_retry(&self.retry, |_| async move { self.attempt(url).await })
            .await
            .unwrap_or_else(|e| CondaAnswer::Failed(e.0))
    }
}
