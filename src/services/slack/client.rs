//! [`SlackApi`], the Web API calls the announcement steps need, and
//! [`SlackClient`], its implementation over Slack's Web API.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use crate::services::http::{
    self, Attempt, RetryPolicy, Secret, display_url, env_secret, env_var, with_retry,
};

use super::*;

/// Environment variable holding the bot token (`xoxb-…`).
pub const TOKEN_ENV: &str = "SLACK_BOT_TOKEN";
/// Environment variable overriding the Web API base URL.
pub const URL_ENV: &str = "SLACK_API_URL";
/// The Web API base URL when [`URL_ENV`] is not set.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// Page size asked of list methods (Slack recommends at most 200).
pub(crate) const PAGE_LIMIT: u32 = 200;
/// Most pages of a list method read (a guard against a cursor that loops).
const MAX_LIST_PAGES: usize = 500;

// ---------------------------------------------------------------------------
// The trait and its errors

/// The Slack Web API calls the steps need. Methods that create are called at
/// most once per step and never create twice (the implementation looks again
/// before retrying).
#[async_trait::async_trait]
pub trait SlackApi: Send + Sync {
    /// The id of `#name` (or of an id given as is); cached for the run.
    async fn channel_id(&self, channel: &str) -> Result<String, SlackError>;
    /// The pending scheduled messages of a channel.
    async fn scheduled_messages(
        &self,
        channel_id: &str,
    ) -> Result<Vec<ScheduledMessage>, SlackError>;
    /// Schedules `text` (no metadata: Slack never posts a scheduled message
    /// that has some).
    async fn schedule_message(
        &self,
        channel_id: &str,
        text: &str,
        post_at: i64,
    ) -> Result<ScheduledMessage, SlackError>;
    /// Deletes a pending scheduled message.
    async fn delete_scheduled_message(
        &self,
        channel_id: &str,
        scheduled_id: &str,
    ) -> Result<(), SlackError>;
    /// Messages of a channel's history, newest first, with their metadata.
    async fn history(
        &self,
        channel_id: &str,
        range: &HistoryRange,
    ) -> Result<Vec<PostedMessage>, SlackError>;
    /// Posts `text` with `metadata` now.
    async fn post_message(
        &self,
        channel_id: &str,
        text: &str,
        metadata: &Metadata,
    ) -> Result<PostedMessage, SlackError>;
    /// Replaces a posted message's text (and metadata).
    async fn update_message(
        &self,
        channel_id: &str,
        ts: &str,
        text: &str,
        metadata: &Metadata,
    ) -> Result<(), SlackError>;
    /// Deletes a message the bot posted (`chat.delete`).
    async fn delete_message(&self, channel_id: &str, ts: &str) -> Result<(), SlackError>;
    /// A link to a posted message.
    async fn permalink(&self, channel_id: &str, ts: &str) -> Result<String, SlackError>;
    /// Who the token is (`auth.test`); read only.
    async fn auth_test(&self) -> Result<AuthInfo, SlackError>;
    /// A channel and whether the bot is in it (`conversations.info`); read only.
    async fn channel_info(&self, channel_id: &str) -> Result<ChannelInfo, SlackError>;
}

// ---------------------------------------------------------------------------
// Configuration

/// Where the Web API is and the token to use.
#[derive(Debug, Clone)]
pub struct Config {
    api_url: Url,
    token: Secret,
    retry: RetryPolicy,
}

impl Config {
    /// Reads [`TOKEN_ENV`] and [`URL_ENV`]; one error lists everything to set.
    pub fn from_env() -> Result<Self, SlackError> {
        let url = env_var(URL_ENV);
        let token = env_secret(TOKEN_ENV);
        let mut problems = Vec::new();
        if token.is_none() {
            problems.push(format!(
                "set {TOKEN_ENV} to the bot user OAuth token (xoxb-…) of the Slack app"
            ));
        }
        let api_url = match parse_api_url(url.as_deref().unwrap_or(DEFAULT_API_URL)) {
            Ok(u) => Some(u),
            Err(why) => {
                problems.push(format!(
                    "{URL_ENV} {why}; set it to the Web API base, e.g. {DEFAULT_API_URL}"
                ));
                None
            }
        };
        match (api_url, token) {
            (Some(api_url), Some(token)) => Ok(Self {
                api_url,
                token,
                retry: RetryPolicy::default(),
            }),
            _ => Err(SlackError::Config { problems }),
        }
    }

    /// A configuration for `api_url` (e.g. a test fake) and `token`.
    pub fn new(api_url: &str, token: Secret) -> Result<Self, SlackError> {
        let api_url = parse_api_url(api_url).map_err(|why| SlackError::Config {
            problems: vec![format!("the Slack API URL {why}")],
        })?;
        Ok(Self {
            api_url,
            token,
            retry: RetryPolicy::default(),
        })
    }

    /// Uses `retry` instead of the default policy (tests use short delays).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The Web API base URL (always ending in `/`).
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }
}

/// Parses a Web API base URL: http(s), a host, no credentials; the path
/// gets a trailing `/` so method names join onto it.
pub(super) fn parse_api_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http(s) URL with a host".to_string());
    }
    if let Some(reason) = http::refuses_credentials(url.as_str()) {
        return Err(format!("is refused: {reason}"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials (the token goes in SLACK_BOT_TOKEN)".to_string());
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

// ---------------------------------------------------------------------------
// The real client

/// The Slack Web API over HTTPS. Lives for one run: channel names are
/// resolved once and cached.
#[derive(Debug)]
pub struct SlackClient {
    config: Config,
    http: reqwest::Client,
    /// Channel name (without `#`) → id, loaded on first use.
    channels: tokio::sync::Mutex<Option<Arc<HashMap<String, String>>>>,
    /// Channel id → `#name`, for messages.
    names: Mutex<HashMap<String, String>>,
}

/// One HTTP exchange of a method.
enum Body {
    /// GET with query parameters (reads).
    Query(Vec<(&'static str, String)>),
    /// POST with a JSON body (writes).
    Json(Value),
}

/// One call: the method, its arguments, and what to name in errors.
struct Call {
    method: &'static str,
    body: Body,
    channel_id: Option<String>,
    post_at: Option<i64>,
}

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt (after `after` when Slack said so).
    Transient {
        error: SlackError,
        after: Option<Duration>,
    },
    /// Final.
    Final(SlackError),
}

impl From<Failure> for Attempt<Value, SlackError> {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Transient { error, after } => Attempt::Retry { error, after },
            Failure::Final(e) => Attempt::Done(Err(e)),
        }
    }
}

impl SlackClient {
    /// A client for `config`, on the shared HTTP client (timeouts).
    pub fn new(config: Config) -> Self {
        Self {
            config,
            http: http::client(),
            channels: tokio::sync::Mutex::new(None),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// A client configured from the environment ([`Config::from_env`]).
    pub fn from_env() -> Result<Self, SlackError> {
        Config::from_env().map(Self::new)
    }

    /// `#name` when the id was resolved from a name, else the id.
    fn label(&self, channel_id: &str) -> String {
        self.names
            .lock()
            .ok()
            .and_then(|names| names.get(channel_id).cloned())
            .unwrap_or_else(|| channel_id.to_string())
    }

    /// A transport error, with reqwest's chain of causes, scrubbed.
    fn transport(&self, method: &'static str, url: &str, e: reqwest::Error) -> SlackError {
        let e = e.without_url();
        let message = crate::services::http::error_chain(&e);
        SlackError::Transport {
            method,
            url: url.to_string(),
            message: self.config.token.scrub(&message),
        }
    }

    /// A delete call, retried like every call; `gone` is the error code
    /// Slack answers when the thing is already deleted, which after a lost
    /// answer means the first attempt deleted it.
    async fn delete(&self, call: &Call, gone: &str) -> Result<(), SlackError> {
        with_retry(&self.config.retry, |attempt| async move {
            match self.attempt(call).await {
                Ok(_) => Attempt::Done(Ok(())),
                Err(Failure::Final(SlackError::Api { code, .. }))
                    if attempt > 1 && code == gone =>
                {
                    Attempt::Done(Ok(()))
                }
                Err(Failure::Transient { error, after }) => Attempt::Retry { error, after },
                Err(Failure::Final(e)) => Attempt::Done(Err(e)),
            }
        })
        .await
    }

    /// One attempt of `call`.
    async fn attempt(&self, call: &Call) -> Result<Value, Failure> {
        let url = self
            .config
            .api_url
            .join(call.method)
            .map_err(|e| Failure::Final(self.malformed(call.method, e.to_string())))?;
        let shown = display_url(&url);
        let request = match &call.body {
            Body::Query(params) => self.http.get(url).query(params),
            Body::Json(body) => self
                .http
                .post(url)
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .body(body.to_string()),
        }
        .bearer_auth(self.config.token.expose());
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let transient = http::is_transient_error(&e);
                let error = self.transport(call.method, &shown, e);
                return Err(if transient {
                    Failure::Transient { error, after: None }
                } else {
                    Failure::Final(error)
                });
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| Failure::Transient {
            error: self.transport(call.method, &shown, e),
            after: None,
        })?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if !status.is_success() {
            return Err(self.http_failure(call, &shown, status, &headers, &text, body.as_ref()));
        }
        let body = body.ok_or_else(|| {
            Failure::Final(self.malformed(call.method, "the answer is not JSON".to_string()))
        })?;
        if body.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(body);
        }
        let code = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown_error")
            .to_string();
        let error = api_error(
            call.method,
            &code,
            &body,
            call.channel_id.as_deref().map(|id| self.label(id)),
            call.post_at,
        );
        Err(if is_transient_code(&code) {
            Failure::Transient {
                error,
                after: http::retry_after(&headers),
            }
        } else {
            Failure::Final(error)
        })
    }

    fn http_failure(
        &self,
        call: &Call,
        shown: &str,
        status: StatusCode,
        headers: &HeaderMap,
        text: &str,
        body: Option<&Value>,
    ) -> Failure {
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Failure::Final(SlackError::Auth {
                code: format!("HTTP {}", status.as_u16()),
                method: call.method,
            });
        }
        let error = if status == StatusCode::TOO_MANY_REQUESTS {
            SlackError::RateLimited {
                method: call.method,
            }
        } else {
            let message = body
                .and_then(|b| b.get("error"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| text.trim().chars().take(200).collect());
            SlackError::Http {
                method: call.method,
                url: shown.to_string(),
                status: status.as_u16(),
                message: self.config.token.scrub(&message),
            }
        };
        if http::is_transient(status) {
            Failure::Transient {
                error,
                after: http::retry_after(headers),
            }
        } else {
            Failure::Final(error)
        }
    }

    fn malformed(&self, method: &'static str, detail: String) -> SlackError {
        SlackError::Malformed {
            method,
            detail: self.config.token.scrub(&detail),
        }
    }

    /// A read or an idempotent write: retried on every transient failure.
    async fn call(&self, call: Call) -> Result<Value, SlackError> {
        with_retry(&self.config.retry, |_| async {
            match self.attempt(&call).await {
                Ok(v) => Attempt::Done(Ok(v)),
                Err(f) => f.into(),
            }
        })
        .await
    }

    /// A create: before each retry, `look` for what the lost attempt may
    /// have created, and stop if it is there.
    async fn create<T, L, LF>(
        &self,
        call: Call,
        look: L,
        parse: impl Fn(&Value) -> Result<T, SlackError>,
    ) -> Result<T, SlackError>
    where
        L: Fn() -> LF,
        LF: Future<Output = Result<Option<T>, SlackError>>,
    {
        with_retry(&self.config.retry, |attempt| {
            let (call, look, parse) = (&call, &look, &parse);
            async move {
                if attempt > 1 {
                    match look().await {
                        Ok(Some(found)) => return Attempt::Done(Ok(found)),
                        Ok(None) => {}
                        Err(e) => return Attempt::Done(Err(e)),
                    }
                }
                match self.attempt(call).await {
                    Ok(v) => Attempt::Done(parse(&v)),
                    Err(Failure::Transient { error, after }) => Attempt::Retry { error, after },
                    Err(Failure::Final(e)) => Attempt::Done(Err(e)),
                }
            }
        })
        .await
    }

    /// Every channel the bot can see, name → id (`conversations.list`, paged).
    async fn list_channels(&self) -> Result<HashMap<String, String>, SlackError> {
        let mut channels = HashMap::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut params = vec![
                ("types", "public_channel,private_channel".to_string()),
                ("exclude_archived", "true".to_string()),
                ("limit", PAGE_LIMIT.to_string()),
            ];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let page = self
                .call(Call {
                    method: "conversations.list",
                    body: Body::Query(params),
                    channel_id: None,
                    post_at: None,
                })
                .await?;
            for c in array(&page, "channels", "conversations.list")? {
                if let (Some(id), Some(name)) = (str_field(c, "id"), str_field(c, "name")) {
                    channels.insert(name, id);
                }
            }
            match next_cursor(&page) {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => return Ok(channels),
            }
        }
        Ok(channels)
    }

    /// The channel directory, loaded once.
    async fn directory(&self) -> Result<Arc<HashMap<String, String>>, SlackError> {
        let mut guard = self.channels.lock().await;
        if let Some(d) = guard.as_ref() {
            return Ok(d.clone());
        }
        let d = Arc::new(self.list_channels().await?);
        *guard = Some(d.clone());
        Ok(d)
    }
}

fn str_field(v: &Value, name: &str) -> Option<String> {
    match v.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn int_field(v: &Value, name: &str) -> Option<i64> {
    match v.get(name)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn array<'a>(v: &'a Value, name: &str, method: &'static str) -> Result<&'a Vec<Value>, SlackError> {
    v.get(name)
        .and_then(Value::as_array)
        .ok_or_else(|| SlackError::Malformed {
            method,
            detail: format!("no `{name}` list"),
        })
}

fn next_cursor(page: &Value) -> Option<String> {
    page.pointer("/response_metadata/next_cursor")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

fn posted_message(m: &Value) -> Option<PostedMessage> {
    Some(PostedMessage {
        ts: str_field(m, "ts")?,
        text: str_field(m, "text").unwrap_or_default(),
        metadata: m
            .get("metadata")
            .and_then(|md| serde_json::from_value(md.clone()).ok()),
    })
}

#[async_trait::async_trait]
impl SlackApi for SlackClient {
    async fn channel_id(&self, channel: &str) -> Result<String, SlackError> {
        match channel_ref(channel) {
            ChannelRef::Id(id) => Ok(id),
            ChannelRef::Name(name) => {
                let id = self.directory().await?.get(&name).cloned().ok_or_else(|| {
                    SlackError::ChannelNotFound {
                        channel: format!("#{name}"),
                    }
                })?;
                if let Ok(mut names) = self.names.lock() {
                    names.insert(id.clone(), format!("#{name}"));
                }
                Ok(id)
            }
        }
    }

    async fn scheduled_messages(
        &self,
        channel_id: &str,
    ) -> Result<Vec<ScheduledMessage>, SlackError> {
        const METHOD: &str = "chat.scheduledMessages.list";
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut params = vec![
                ("channel", channel_id.to_string()),
                ("limit", PAGE_LIMIT.to_string()),
            ];
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let page = self
                .call(Call {
                    method: METHOD,
                    body: Body::Query(params),
                    channel_id: Some(channel_id.to_string()),
                    post_at: None,
                })
                .await?;
            for m in array(&page, "scheduled_messages", METHOD)? {
                let (Some(id), Some(post_at)) = (str_field(m, "id"), int_field(m, "post_at"))
                else {
                    continue;
                };
                out.push(ScheduledMessage {
                    id,
                    channel_id: str_field(m, "channel_id")
                        .unwrap_or_else(|| channel_id.to_string()),
                    post_at,
                    text: str_field(m, "text").unwrap_or_default(),
                });
            }
            match next_cursor(&page) {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => break,
            }
        }
        Ok(out
            .into_iter()
            .filter(|m| m.channel_id == channel_id)
            .collect())
    }

    async fn schedule_message(
        &self,
        channel_id: &str,
        text: &str,
        post_at: i64,
    ) -> Result<ScheduledMessage, SlackError> {
        const METHOD: &str = "chat.scheduleMessage";
        let call = Call {
            method: METHOD,
            body: Body::Json(json!({ "channel": channel_id, "post_at": post_at, "text": text })),
            channel_id: Some(channel_id.to_string()),
            post_at: Some(post_at),
        };
        let look = || async move {
            Ok(self
                .scheduled_messages(channel_id)
                .await?
                .into_iter()
                .find(|m| m.post_at == post_at && same_text(&m.text, text)))
        };
        let parse = |v: &Value| {
            Ok(ScheduledMessage {
                id: str_field(v, "scheduled_message_id").ok_or_else(|| SlackError::Malformed {
                    method: METHOD,
                    detail: "no scheduled_message_id".to_string(),
                })?,
                channel_id: str_field(v, "channel").unwrap_or_else(|| channel_id.to_string()),
                post_at: int_field(v, "post_at").unwrap_or(post_at),
                text: text.to_string(),
            })
        };
        self.create(call, look, parse).await
    }

    async fn delete_scheduled_message(
        &self,
        channel_id: &str,
        scheduled_id: &str,
    ) -> Result<(), SlackError> {
        let call = Call {
            method: "chat.deleteScheduledMessage",
            body: Body::Json(
                json!({ "channel": channel_id, "scheduled_message_id": scheduled_id }),
            ),
            channel_id: Some(channel_id.to_string()),
            post_at: None,
        };
        self.delete(&call, "invalid_scheduled_message_id").await
    }

    async fn delete_message(&self, channel_id: &str, ts: &str) -> Result<(), SlackError> {
        let call = Call {
            method: "chat.delete",
            body: Body::Json(json!({ "channel": channel_id, "ts": ts })),
            channel_id: Some(channel_id.to_string()),
            post_at: None,
        };
        self.delete(&call, "message_not_found").await
    }

    async fn history(
        &self,
        channel_id: &str,
        range: &HistoryRange,
    ) -> Result<Vec<PostedMessage>, SlackError> {
        const METHOD: &str = "conversations.history";
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..range.max_pages.max(1) {
            let mut params = vec![
                ("channel", channel_id.to_string()),
                ("include_all_metadata", "true".to_string()),
                ("limit", range.limit.to_string()),
            ];
            if let Some(o) = &range.oldest {
                params.push(("oldest", o.clone()));
            }
            if let Some(l) = &range.latest {
                params.push(("latest", l.clone()));
            }
            if range.oldest.is_some() || range.latest.is_some() {
                params.push(("inclusive", "true".to_string()));
            }
            if let Some(c) = &cursor {
                params.push(("cursor", c.clone()));
            }
            let page = self
                .call(Call {
                    method: METHOD,
                    body: Body::Query(params),
                    channel_id: Some(channel_id.to_string()),
                    post_at: None,
                })
                .await?;
            out.extend(
                array(&page, "messages", METHOD)?
                    .iter()
                    .filter_map(posted_message),
            );
            let more = page.get("has_more").and_then(Value::as_bool) == Some(true);
            match next_cursor(&page) {
                Some(next) if more && cursor.as_deref() != Some(next.as_str()) => {
                    cursor = Some(next)
                }
                _ => break,
            }
        }
        Ok(out)
    }

    async fn post_message(
        &self,
        channel_id: &str,
        text: &str,
        metadata: &Metadata,
    ) -> Result<PostedMessage, SlackError> {
        const METHOD: &str = "chat.postMessage";
        let call = Call {
            method: METHOD,
            body: Body::Json(json!({ "channel": channel_id, "text": text, "metadata": metadata })),
            channel_id: Some(channel_id.to_string()),
            post_at: None,
        };
        // The text ends with the marker: it identifies the message.
        let look = || async move {
            Ok(self
                .history(channel_id, &HistoryRange::newest(100))
                .await?
                .into_iter()
                .find(|m| same_text(&m.text, text)))
        };
        let parse = |v: &Value| {
            Ok(PostedMessage {
                ts: str_field(v, "ts").ok_or_else(|| SlackError::Malformed {
                    method: METHOD,
                    detail: "no ts".to_string(),
                })?,
                text: text.to_string(),
                metadata: Some(metadata.clone()),
            })
        };
        self.create(call, look, parse).await
    }

    async fn update_message(
        &self,
        channel_id: &str,
        ts: &str,
        text: &str,
        metadata: &Metadata,
    ) -> Result<(), SlackError> {
        self.call(Call {
            method: "chat.update",
            body: Body::Json(
                json!({ "channel": channel_id, "ts": ts, "text": text, "metadata": metadata }),
            ),
            channel_id: Some(channel_id.to_string()),
            post_at: None,
        })
        .await
        .map(|_| ())
    }

    async fn permalink(&self, channel_id: &str, ts: &str) -> Result<String, SlackError> {
        const METHOD: &str = "chat.getPermalink";
        let v = self
            .call(Call {
                method: METHOD,
                body: Body::Query(vec![
                    ("channel", channel_id.to_string()),
                    ("message_ts", ts.to_string()),
                ]),
                channel_id: Some(channel_id.to_string()),
                post_at: None,
            })
            .await?;
        str_field(&v, "permalink").ok_or_else(|| SlackError::Malformed {
            method: METHOD,
            detail: "no permalink".to_string(),
        })
    }

    async fn auth_test(&self) -> Result<AuthInfo, SlackError> {
        let v = self
            .call(Call {
                method: "auth.test",
                body: Body::Query(vec![]),
                channel_id: None,
                post_at: None,
            })
            .await?;
        Ok(AuthInfo {
            user: str_field(&v, "user").unwrap_or_default(),
            user_id: str_field(&v, "user_id").unwrap_or_default(),
            team: str_field(&v, "team").unwrap_or_default(),
            bot_id: str_field(&v, "bot_id"),
        })
    }

    async fn channel_info(&self, channel_id: &str) -> Result<ChannelInfo, SlackError> {
        const METHOD: &str = "conversations.info";
        let v = self
            .call(Call {
                method: METHOD,
                body: Body::Query(vec![("channel", channel_id.to_string())]),
                channel_id: Some(channel_id.to_string()),
                post_at: None,
            })
            .await?;
        let channel = v.get("channel").ok_or_else(|| SlackError::Malformed {
            method: METHOD,
            detail: "no `channel`".to_string(),
        })?;
        let flag = |name: &str| channel.get(name).and_then(Value::as_bool) == Some(true);
        Ok(ChannelInfo {
            id: str_field(channel, "id").unwrap_or_else(|| channel_id.to_string()),
            name: str_field(channel, "name").unwrap_or_default(),
            is_member: flag("is_member"),
            is_archived: flag("is_archived"),
        })
    }
}
