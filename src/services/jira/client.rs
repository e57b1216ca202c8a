//! [`JiraApi`], the calls the ticket steps need, and [`JiraClient`], its
//! implementation over Jira's REST API.

use std::fmt;

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::services::http::{
    self, Attempt, display_url, is_transient, is_transient_error, retry_after, with_retry,
};

use super::*;

/// The Jira calls the ticket steps need.
#[async_trait::async_trait]
pub trait JiraApi: Send + Sync {
    /// Every issue `jql` finds (all pages), with the summary, type,
    /// resolution, status, labels and the `fields` given.
    async fn search(&self, jql: &str, fields: &[String]) -> Result<Vec<Issue>, JiraError>;

    /// Files the ticket and returns its key. Meant for a ticket [`find`]
    /// did not find: before retrying a failed attempt it waits for the
    /// search index to catch up ([`JiraConfig::with_index_lag`]) and looks
    /// for the ticket again, so a lost answer does not file it twice.
    async fn create(&self, spec: &TicketRequest) -> Result<String, JiraError>;

    /// The users Jira's user search finds for `query` (`query=` on v3,
    /// `username=` on v2).
    async fn search_users(&self, query: &str) -> Result<Vec<JiraUser>, JiraError>;

    /// Sets `fields` (field id → value) on issue `key`.
    async fn update_fields(&self, key: &str, fields: &Map<String, Value>) -> Result<(), JiraError>;

    /// The user the credentials belong to (`myself`); read only.
    async fn myself(&self) -> Result<CurrentUser, JiraError>;

    /// The issue types `project` creates issues of (every page of
    /// `createmeta/{project}/issuetypes`); `None` when Jira knows no such
    /// project (or the user may not create issues in it). Read only.
    async fn createmeta_issue_types(
        &self,
        project: &str,
    ) -> Result<Option<Vec<IssueTypeMeta>>, JiraError>;

    /// The fields of the create screen of `project` and issue type
    /// `issue_type_id` (every page of `createmeta/{project}/issuetypes/{id}`);
    /// `None` when Jira knows no such pair. Read only.
    async fn createmeta_fields(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Option<Vec<FieldMeta>>, JiraError>;

    /// The workflow transitions issue `key` can take now, with the
    /// resolutions their screens allow (`GET issue/{key}/transitions?
    /// expand=transitions.fields`). Read only.
    async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError>;

    /// Moves issue `key` through transition `id`, setting the resolution
    /// when given and adding `comment` (`POST issue/{key}/transitions`).
    async fn transition(
        &self,
        key: &str,
        id: &str,
        resolution: Option<&str>,
        comment: &str,
    ) -> Result<(), JiraError>;

    /// Links `duplicate` to `original` with the link type
    /// [`DUPLICATE`] ("`duplicate` duplicates `original`"; `POST
    /// issueLink`, which Jira accepts again for an existing link).
    async fn link_duplicate(&self, duplicate: &str, original: &str) -> Result<(), JiraError>;

    /// The numeric id of project `key` (`GET project/{key}`); `None` when
    /// Jira knows no such project (or the user may not see it). Read only.
    async fn project_id(&self, key: &str) -> Result<Option<u64>, JiraError>;

    /// Whether the user holds project permission `permission` (e.g.
    /// `ADMINISTER_PROJECTS`, which creating versions needs) in project
    /// `key` (`GET mypermissions`); `None` when Jira knows no such project.
    /// Read only.
    async fn has_permission(&self, key: &str, permission: &str) -> Result<Option<bool>, JiraError>;

    /// Every version of project `key` (`GET project/{key}/versions`);
    /// `None` when Jira knows no such project. Read only.
    async fn project_versions(&self, key: &str) -> Result<Option<Vec<JiraVersion>>, JiraError>;

    /// Creates the version (`POST version`) and returns it. Before
    /// retrying a failed attempt it lists the project's versions and
    /// returns the one of that name, so a lost answer does not end in
    /// Jira's "already exists".
    async fn create_version(
        &self,
        project: &str,
        version: &NewVersion,
    ) -> Result<JiraVersion, JiraError>;

    /// The links of issue `key` (`GET issue/{key}?fields=issuelinks`).
    /// Read only.
    async fn issue_links(&self, key: &str) -> Result<Vec<IssueLink>, JiraError>;

    /// Links `outward` to `inward` with link type `type_name` ("`outward`
    /// blocks `inward`"; `POST issueLink`, which Jira accepts again for an
    /// existing link).
    async fn create_link(
        &self,
        type_name: &str,
        outward: &str,
        inward: &str,
    ) -> Result<(), JiraError>;

    /// Deletes link `id` (`DELETE issueLink/{id}`); a link already gone
    /// after a lost answer is not an error.
    async fn delete_link(&self, id: &str) -> Result<(), JiraError>;

    /// The page of issue `key`.
    fn browse_url(&self, key: &str) -> String;
}

/// One page of `GET /rest/api/3/search/jql`. `nextPageToken` is absent on
/// the last page and `isLast` is not always sent, so both are optional
/// (gouqi's `V3SearchResults` requires `isLast`).
#[derive(Deserialize)]
struct V3Page {
    #[serde(default)]
    issues: Vec<gouqi::Issue>,
    #[serde(rename = "nextPageToken", default)]
    next_page_token: Option<String>,
    #[serde(rename = "isLast", default)]
    is_last: Option<bool>,
}

/// The real [`JiraApi`]: Jira's REST API over [`http::client`], with the
/// retries of [`with_retry`].
pub struct JiraClient {
    /// gouqi's URL building and credentials.
    core: gouqi::core::ClientCore,
    http: reqwest::Client,
    config: JiraConfig,
}

impl fmt::Debug for JiraClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not derived: gouqi's ClientCore prints the token.
        f.debug_struct("JiraClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl JiraClient {
    /// A client for `config`.
    pub fn new(config: JiraConfig) -> Result<Self, JiraError> {
        let core = gouqi::core::ClientCore::new(config.base.as_str(), config.auth.credentials())
            .map_err(|e| JiraError::InvalidUrl {
                reason: config.auth.secret().scrub(&e.to_string()),
            })?;
        Ok(Self {
            core,
            http: http::client(),
            config,
        })
    }

    /// `{base}rest/api/{version}{endpoint}` with `segments` appended
    /// (percent-encoded) and `query`.
    pub(super) fn url(&self, endpoint: &str, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self
            .core
            .build_versioned_url("api", Some(self.config.api.number()), endpoint)
            // The base is a valid http(s) URL ending in `/` and the
            // endpoints are fixed paths, so joining cannot fail.
            .unwrap_or_else(|_| self.config.base.clone());
        if !segments.is_empty()
            && let Ok(mut path) = url.path_segments_mut()
        {
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// One request: its body on success; otherwise the error, marked for a
    /// retry when transient (transport failures, 429, 5xx).
    async fn send(
        &self,
        op: &str,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Attempt<String, JiraError> {
        let mut request = self
            .http
            .request(method, url.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let request = self.core.apply_credentials_async(request);
        let shown = display_url(url);
        let secret = self.config.auth.secret();
        let transport = |e: &reqwest::Error| JiraError::Transport {
            op: op.to_string(),
            url: shown.clone(),
            message: secret.scrub(&http::error_chain(e)),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) if is_transient_error(&e) => {
                return Attempt::Retry {
                    error: transport(&e),
                    after: None,
                };
            }
            Err(e) => return Attempt::Done(Err(transport(&e))),
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let text = match response.text().await {
            Ok(text) => text,
            // The answer was cut off: a connection problem, worth a retry.
            Err(e) => {
                return Attempt::Retry {
                    error: transport(&e),
                    after: None,
                };
            }
        };
        if status.is_success() {
            return Attempt::Done(Ok(text));
        }
        let message = secret.scrub(&error_text(&text));
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            let detail = if text.trim().is_empty() {
                String::new()
            } else {
                format!(": {message}")
            };
            return Attempt::Done(Err(JiraError::Auth {
                url: shown,
                status: status.as_u16(),
                variables: self.config.auth.variables(),
                detail,
            }));
        }
        if is_transient(status) {
            return Attempt::Retry {
                error: JiraError::Unavailable {
                    op: op.to_string(),
                    url: shown,
                    status: status.as_u16(),
                    message,
                    retry_after: after,
                },
                after,
            };
        }
        Attempt::Done(Err(JiraError::Rejected {
            op: op.to_string(),
            url: shown,
            status: status.as_u16(),
            message,
        }))
    }

    /// A read: `GET url`, retried, parsed as `T`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        url: &Url,
    ) -> Result<T, JiraError> {
        let text = with_retry(&self.config.retry, |_| {
            self.send(op, Method::GET, url, None)
        })
        .await?;
        serde_json::from_str(&text).map_err(|e| self.invalid(op, url, e))
    }

    fn invalid(&self, op: &str, url: &Url, error: impl fmt::Display) -> JiraError {
        JiraError::InvalidResponse {
            op: op.to_string(),
            url: display_url(url),
            message: error.to_string(),
        }
    }

    async fn search_v3(&self, op: &str, jql: &str, fields: &str) -> Result<Vec<Issue>, JiraError> {
        let mut issues = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("jql", jql), ("fields", fields), ("maxResults", PAGE_SIZE)];
            if let Some(token) = &token {
                query.push(("nextPageToken", token));
            }
            let url = self.url("/search/jql", &[], &query);
            let page: V3Page = self.get(op, &url).await?;
            issues.extend(page.issues.into_iter().map(Issue::from_gouqi));
            match page.next_page_token {
                Some(next) if page.is_last != Some(true) => {
                    if token.as_deref() == Some(next.as_str()) {
                        return Err(self.invalid(op, &url, "the same nextPageToken came twice"));
                    }
                    token = Some(next);
                }
                _ => return Ok(issues),
            }
        }
    }

    async fn search_v2(&self, op: &str, jql: &str, fields: &str) -> Result<Vec<Issue>, JiraError> {
        let mut issues = Vec::new();
        loop {
            let start = issues.len().to_string();
            let query = [
                ("jql", jql),
                ("fields", fields),
                ("startAt", start.as_str()),
                ("maxResults", PAGE_SIZE),
            ];
            let url = self.url("/search", &[], &query);
            let page: gouqi::SearchResults = self.get(op, &url).await?;
            let empty = page.issues.is_empty();
            issues.extend(page.issues.into_iter().map(Issue::from_gouqi));
            if empty || issues.len() as u64 >= page.total {
                return Ok(issues);
            }
        }
    }

    /// Every item of a paged `createmeta` answer: Cloud lists them under
    /// `issueTypes` or `fields` with `startAt`/`maxResults`/`total`, Data
    /// Center under `values` with `isLast`. `None` on a 404 (no such
    /// project or issue type).
    async fn createmeta_pages<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        segments: &[&str],
        list: &str,
    ) -> Result<Option<Vec<T>>, JiraError> {
        let mut items: Vec<T> = Vec::new();
        for _ in 0..MAX_CREATEMETA_PAGES {
            let start = items.len().to_string();
            let query = [
                ("startAt", start.as_str()),
                ("maxResults", CREATEMETA_PAGE_SIZE),
            ];
            let url = self.url("/issue/createmeta", segments, &query);
            let page: Value = match self.get(op, &url).await {
                Ok(page) => page,
                Err(JiraError::Rejected { status: 404, .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
            let values = page
                .get(list)
                .or_else(|| page.get("values"))
                .and_then(Value::as_array)
                .ok_or_else(|| self.invalid(op, &url, format!("no `{list}` list")))?;
            let count = values.len();
            for value in values {
                items.push(
                    serde_json::from_value(value.clone()).map_err(|e| self.invalid(op, &url, e))?,
                );
            }
            let total = page.get("total").and_then(Value::as_u64);
            let last = page.get("isLast").and_then(Value::as_bool);
            let done = count == 0
                || last == Some(true)
                || total.is_some_and(|t| items.len() as u64 >= t)
                || (total.is_none() && last.is_none());
            if done {
                return Ok(Some(items));
            }
        }
        Err(JiraError::InvalidResponse {
            op: op.to_string(),
            url: display_url(&self.url("/issue/createmeta", segments, &[])),
            message: format!("more than {MAX_CREATEMETA_PAGES} pages"),
        })
    }
}

#[async_trait::async_trait]
impl JiraApi for JiraClient {
    async fn search(&self, jql: &str, fields: &[String]) -> Result<Vec<Issue>, JiraError> {
        let mut wanted: Vec<&str> = BASE_FIELDS.to_vec();
        for field in fields {
            if !wanted.contains(&field.as_str()) {
                wanted.push(field);
            }
        }
        let fields = wanted.join(",");
        let op = "searching Jira issues";
        match self.config.api {
            ApiVersion::V3 => self.search_v3(op, jql, &fields).await,
            ApiVersion::V2 => self.search_v2(op, jql, &fields).await,
        }
    }

    async fn create(&self, spec: &TicketRequest) -> Result<String, JiraError> {
        spec.validate()?;
        let body = create_body(spec, self.config.api);
        let url = self.url("/issue", &[], &[]);
        let op = format!("creating Jira issue \"{}\"", spec.summary);
        let (body, url, op) = (&body, &url, op.as_str());
        with_retry(&self.config.retry, move |attempt| async move {
            if attempt > 1 {
                // The failed attempt may have filed the issue all the same
                // (a lost answer, a 5xx after the write): look before
                // filing again, once the search index has caught up.
                tokio::time::sleep(self.config.index_lag).await;
                match find(self, spec).await {
                    Ok(Some(issue)) => return Attempt::Done(Ok(issue.key)),
                    Ok(None) => {}
                    Err(e) => return Attempt::Done(Err(e)),
                }
            }
            match self.send(op, Method::POST, url, Some(body)).await {
                Attempt::Done(Ok(text)) => Attempt::Done(
                    serde_json::from_str::<gouqi::CreateResponse>(&text)
                        .map(|created| created.key)
                        .map_err(|e| self.invalid(op, url, e)),
                ),
                Attempt::Done(Err(e)) => Attempt::Done(Err(e)),
                Attempt::Retry { error, after } => Attempt::Retry { error, after },
            }
        })
        .await
    }

    async fn update_fields(&self, key: &str, fields: &Map<String, Value>) -> Result<(), JiraError> {
        let url = self.url("/issue", &[key], &[]);
        let op = format!("updating Jira issue {key}");
        let body = json!({ "fields": fields });
        with_retry(&self.config.retry, |_| {
            self.send(&op, Method::PUT, &url, Some(&body))
        })
        .await
        .map(drop)
    }

    async fn search_users(&self, query: &str) -> Result<Vec<JiraUser>, JiraError> {
        let parameter = match self.config.api {
            ApiVersion::V3 => "query",
            ApiVersion::V2 => "username",
        };
        let url = self.url(
            "/user/search",
            &[],
            &[(parameter, query), ("maxResults", "50")],
        );
        self.get(&format!("looking up Jira user \"{query}\""), &url)
            .await
    }

    async fn transitions(&self, key: &str) -> Result<Vec<Transition>, JiraError> {
        let url = self.url(
            "/issue",
            &[key, "transitions"],
            &[("expand", "transitions.fields")],
        );
        let op = format!("reading the transitions of Jira issue {key}");
        let answer: Value = self.get(&op, &url).await?;
        let list = answer
            .get("transitions")
            .and_then(Value::as_array)
            .ok_or_else(|| self.invalid(&op, &url, "no `transitions` list"))?;
        Ok(list
            .iter()
            .map(|t| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
                Transition {
                    id: match t.get("id") {
                        Some(Value::Number(n)) => n.to_string(),
                        id => text(id),
                    },
                    name: text(t.get("name")),
                    to: text(t.pointer("/to/name")),
                    to_done: t.pointer("/to/statusCategory/key").and_then(Value::as_str)
                        == Some("done"),
                    resolutions: t.pointer("/fields/resolution").map(|r| {
                        r.get("allowedValues")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|v| v.get("name").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    }),
                }
            })
            .collect())
    }

    async fn transition(
        &self,
        key: &str,
        id: &str,
        resolution: Option<&str>,
        comment: &str,
    ) -> Result<(), JiraError> {
        let url = self.url("/issue", &[key, "transitions"], &[]);
        let op = format!("closing Jira issue {key}");
        let comment = match self.config.api {
            ApiVersion::V3 => adf_document(comment),
            ApiVersion::V2 => json!(comment),
        };
        let mut body = json!({
            "transition": { "id": id },
            "update": { "comment": [{ "add": { "body": comment } }] },
        });
        if let Some(resolution) = resolution {
            body["fields"] = json!({ "resolution": { "name": resolution } });
        }
        // Not retried: a lost answer may have moved the issue already, and
        // the same transition from the new status would be refused.
        match self.send(&op, Method::POST, &url, Some(&body)).await {
            Attempt::Done(result) => result.map(drop),
            Attempt::Retry { error, .. } => Err(error),
        }
    }

    async fn link_duplicate(&self, duplicate: &str, original: &str) -> Result<(), JiraError> {
        let url = self.url("/issueLink", &[], &[]);
        let op = format!("linking Jira issue {duplicate} to {original}");
        // The outward issue is the link's "from" side: it "duplicates" the
        // inward one.
        let body = json!({
            "type": { "name": DUPLICATE },
            "outwardIssue": { "key": duplicate },
            "inwardIssue": { "key": original },
        });
        with_retry(&self.config.retry, |_| {
            self.send(&op, Method::POST, &url, Some(&body))
        })
        .await
        .map(drop)
    }

    async fn project_id(&self, key: &str) -> Result<Option<u64>, JiraError> {
        let url = self.url("/project", &[key], &[]);
        let op = format!("reading Jira project {key}");
        let project: Value = match self.get(&op, &url).await {
            Ok(project) => project,
            Err(JiraError::Rejected { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let id = match project.get("id") {
            Some(Value::String(id)) => id.parse().ok(),
            Some(Value::Number(id)) => id.as_u64(),
            _ => None,
        };
        id.map(Some)
            .ok_or_else(|| self.invalid(&op, &url, "no numeric project `id`"))
    }

    async fn has_permission(&self, key: &str, permission: &str) -> Result<Option<bool>, JiraError> {
        let url = self.url(
            "/mypermissions",
            &[],
            &[("projectKey", key), ("permissions", permission)],
        );
        let op = format!("reading the permission {permission} in Jira project {key}");
        let answer: Value = match self.get(&op, &url).await {
            Ok(answer) => answer,
            Err(JiraError::Rejected { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        answer
            .pointer(&format!("/permissions/{permission}/havePermission"))
            .and_then(Value::as_bool)
            .map(Some)
            .ok_or_else(|| self.invalid(&op, &url, "no `havePermission` for the permission"))
    }

    async fn project_versions(&self, key: &str) -> Result<Option<Vec<JiraVersion>>, JiraError> {
        let url = self.url("/project", &[key, "versions"], &[]);
        let op = format!("listing the versions of Jira project {key}");
        match self.get(&op, &url).await {
            Ok(versions) => Ok(Some(versions)),
            Err(JiraError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_version(
        &self,
        project: &str,
        version: &NewVersion,
    ) -> Result<JiraVersion, JiraError> {
        let url = self.url("/version", &[], &[]);
        let op = format!(
            "creating version \"{}\" in Jira project {project}",
            version.name
        );
        let body = json!({
            "name": version.name,
            "description": version.description,
            "projectId": version.project_id,
            "released": false,
        });
        let (body, url, op) = (&body, &url, op.as_str());
        with_retry(&self.config.retry, move |attempt| async move {
            if attempt > 1 {
                // The failed attempt may have created the version: look
                // before creating it again (versions are not indexed, so
                // the list is current).
                match self.project_versions(project).await {
                    Ok(Some(versions)) => {
                        if let Some(found) = find_version(&versions, &version.name) {
                            return Attempt::Done(Ok(found.clone()));
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return Attempt::Done(Err(e)),
                }
            }
            match self.send(op, Method::POST, url, Some(body)).await {
                Attempt::Done(Ok(text)) => Attempt::Done(
                    serde_json::from_str::<JiraVersion>(&text)
                        .map_err(|e| self.invalid(op, url, e)),
                ),
                Attempt::Done(Err(e)) => Attempt::Done(Err(e)),
                Attempt::Retry { error, after } => Attempt::Retry { error, after },
            }
        })
        .await
    }

    async fn issue_links(&self, key: &str) -> Result<Vec<IssueLink>, JiraError> {
        let url = self.url("/issue", &[key], &[("fields", "issuelinks")]);
        let op = format!("reading the links of Jira issue {key}");
        let issue: Value = self.get(&op, &url).await?;
        let links = match issue.pointer("/fields/issuelinks") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(links)) => links,
            Some(_) => return Err(self.invalid(&op, &url, "`fields.issuelinks` is not a list")),
        };
        links
            .iter()
            .map(|link| {
                IssueLink::from_json(link)
                    .ok_or_else(|| self.invalid(&op, &url, "a link without an id or an issue"))
            })
            .collect()
    }

    async fn create_link(
        &self,
        type_name: &str,
        outward: &str,
        inward: &str,
    ) -> Result<(), JiraError> {
        let url = self.url("/issueLink", &[], &[]);
        let op = format!("linking Jira issue {outward} to {inward} ({type_name})");
        let body = json!({
            "type": { "name": type_name },
            "outwardIssue": { "key": outward },
            "inwardIssue": { "key": inward },
        });
        with_retry(&self.config.retry, |_| {
            self.send(&op, Method::POST, &url, Some(&body))
        })
        .await
        .map(drop)
    }

    async fn delete_link(&self, id: &str) -> Result<(), JiraError> {
        let url = self.url("/issueLink", &[id], &[]);
        let op = format!("deleting Jira issue link {id}");
        let result = with_retry(&self.config.retry, |attempt| {
            let url = &url;
            let op = &op;
            async move {
                match self.send(op, Method::DELETE, url, None).await {
                    // A retry that finds the link gone: the lost attempt
                    // deleted it.
                    Attempt::Done(Err(JiraError::Rejected { status: 404, .. })) if attempt > 1 => {
                        Attempt::Done(Ok(String::new()))
                    }
                    other => other,
                }
            }
        })
        .await;
        result.map(drop)
    }

    fn browse_url(&self, key: &str) -> String {
        self.config.browse_url(key)
    }

    async fn myself(&self) -> Result<CurrentUser, JiraError> {
        let url = self.url("/myself", &[], &[]);
        let me: Value = self.get("reading the Jira user (myself)", &url).await?;
        let text = |name: &str| me.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(CurrentUser {
            display_name: text("displayName").unwrap_or_default(),
            account: text("accountId")
                .or_else(|| text("name"))
                .unwrap_or_default(),
            email: text("emailAddress").filter(|e| !e.is_empty()),
            active: me.get("active").and_then(Value::as_bool).unwrap_or(true),
        })
    }

    async fn createmeta_issue_types(
        &self,
        project: &str,
    ) -> Result<Option<Vec<IssueTypeMeta>>, JiraError> {
        let op = format!("reading the issue types of Jira project {project}");
        self.createmeta_pages(&op, &[project, "issuetypes"], "issueTypes")
            .await
    }

    async fn createmeta_fields(
        &self,
        project: &str,
        issue_type_id: &str,
    ) -> Result<Option<Vec<FieldMeta>>, JiraError> {
        let op = format!(
            "reading the create screen of Jira project {project}, issue type {issue_type_id}"
        );
        self.createmeta_pages(&op, &[project, "issuetypes", issue_type_id], "fields")
            .await
    }
}
