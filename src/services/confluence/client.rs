//! [`ConfluenceApi`], the calls the page step needs, and [`ConfluenceClient`],
//! its implementation over Confluence's REST API.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use crate::services::http::{self, Attempt};

use super::*;

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
