//! The ticket steps' side of the engine: the Jira adapter when configured,
//! the plan's [`TicketRequest`] turned into the adapter's spec, and what a
//! lookup found.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell};

use crate::plan::TicketRequest;
use crate::services::jira::{self, ApiVersion, JiraApi, JiraClient, JiraConfig, TicketAction};

/// A ticket found by its exact summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its key.
    pub key: String,
    /// Whether every kept-in-sync field already has the requested value.
    pub in_sync: bool,
    /// Its status as Jira names it, `(resolved)` added when it is.
    pub status: String,
    /// Unresolved issues `cycle` filed with the same summary: duplicates a
    /// run retires (see [`jira::Lookup`]).
    pub duplicates: Vec<String>,
    /// Issues of the same summary a person filed: reported only.
    pub foreign: Vec<String>,
}

impl Found {
    /// What the reader must know of the ticket's duplicates: those an apply
    /// closes, those left to people.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .duplicates
            .iter()
            .map(|d| {
                format!(
                    "{d} has the same summary as {} and was filed by cycle too (two runs at \
                     once): applying closes it as a duplicate of {}, with its pull requests",
                    self.key, self.key
                )
            })
            .collect();
        if !self.foreign.is_empty() {
            notes.push(foreign_note(&self.key, &self.foreign));
        }
        notes
    }
}

/// What ensuring a ticket did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ensured {
    /// The key.
    pub key: String,
    /// `created`, `found` or `updated`.
    pub action: String,
    /// Duplicates `cycle` filed that this run closed (see
    /// [`jira::TicketOutcome::retired`]).
    pub retired: Vec<String>,
    /// Issues of the same summary a person filed: reported only.
    pub foreign: Vec<String>,
}

impl Ensured {
    /// What the reader must know of duplicates: those closed and those left
    /// to people.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for retired in &self.retired {
            notes.push(format!(
                "{retired} has the same summary and was filed by cycle too (two runs at \
                 once): closed as a duplicate of {}",
                self.key
            ));
        }
        if !self.foreign.is_empty() {
            notes.push(foreign_note(&self.key, &self.foreign));
        }
        notes
    }
}

/// The note for issues of a ticket's summary that a person filed.
pub fn foreign_note(key: &str, foreign: &[String]) -> String {
    format!(
        "{} {} the same summary as {key} but {} not filed by cycle: left as {} (close, \
         retitle or move {} by hand if {} a duplicate)",
        foreign.join(", "),
        if foreign.len() == 1 { "has" } else { "have" },
        if foreign.len() == 1 { "was" } else { "were" },
        if foreign.len() == 1 {
            "it is"
        } else {
            "they are"
        },
        if foreign.len() == 1 { "it" } else { "them" },
        if foreign.len() == 1 {
            "it is"
        } else {
            "they are"
        },
    )
}

/// Jira for one run, or the reason it is not available.
#[derive(Clone)]
pub struct Tickets {
    jira: Result<(Arc<dyn JiraApi>, JiraConfig), String>,
    /// Users resolved this run: as written → account id (v3) or user name
    /// (v2), or why not. Each is looked up once per run.
    users: Arc<Mutex<HashMap<String, UserLookup>>>,
    /// What each lookup of this run found, by summary: the apply retires
    /// the duplicates ([`super::repair`]).
    found: Arc<std::sync::Mutex<HashMap<String, Found>>>,
}

/// One user's lookup, shared by every step that names them: done once, its
/// answer (the reference a ticket sends, or why not) kept for the run.
type UserLookup = Arc<OnceCell<Result<String, String>>>;

impl Tickets {
    /// Jira from the environment (`JIRA_URL`, `JIRA_USER` + `JIRA_API_TOKEN`
    /// or `JIRA_PAT`) with the REST version from configuration (2 for Data
    /// Center, else 3). When
    /// `required` (a selected step creates tickets) missing credentials are
    /// an error before any step runs; otherwise lookups are skipped.
    pub fn from_env(api_version: u8, required: bool) -> anyhow::Result<Self> {
        let api = if api_version == 2 {
            ApiVersion::V2
        } else {
            ApiVersion::V3
        };
        match JiraConfig::from_env(api) {
            Ok(config) => {
                let client = JiraClient::new(config.clone())?;
                Ok(Self::with(Ok((Arc::new(client), config))))
            }
            Err(e) if required => Err(e.into()),
            Err(e) => Ok(Self::with(Err(e.to_string()))),
        }
    }

    /// No Jira (offline, or no ticket step in the plan).
    pub fn none(reason: &str) -> Self {
        Self::with(Err(reason.to_string()))
    }

    fn with(jira: Result<(Arc<dyn JiraApi>, JiraConfig), String>) -> Self {
        Self {
            jira,
            users: Arc::default(),
            found: Arc::default(),
        }
    }

    /// The adapter and its configuration, or why Jira is not available.
    pub(super) fn configured(&self) -> Result<(&Arc<dyn JiraApi>, &JiraConfig), &str> {
        self.jira
            .as_ref()
            .map(|(api, config)| (api, config))
            .map_err(String::as_str)
    }

    pub(crate) fn api(&self) -> anyhow::Result<&Arc<dyn JiraApi>> {
        self.jira
            .as_ref()
            .map(|(api, _)| api)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// `$JIRA_URL/browse/KEY`, when Jira is configured.
    pub fn browse_url(&self, key: &str) -> Option<String> {
        self.jira
            .as_ref()
            .ok()
            .map(|(_, config)| config.browse_url(key))
    }

    /// The account id (v3) or user name (v2) of the user written `query`,
    /// looked up once per run (read only).
    pub async fn user(&self, query: &str) -> anyhow::Result<String> {
        let (api, config) = self.jira.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        // One cell per user: concurrent steps naming the same user wait for
        // the first lookup instead of repeating it; different users are
        // looked up at the same time.
        let cell = self
            .users
            .lock()
            .await
            .entry(query.to_string())
            .or_default()
            .clone();
        let found = cell
            .get_or_try_init(|| async {
                // A failed lookup (transport, 5xx) leaves the cell empty, so
                // a later step tries again; an answer is kept, found or not.
                let users = api.search_users(query).await?;
                anyhow::Ok(jira::pick_user(query, &users, config.api()).map_err(|e| e.to_string()))
            })
            .await?;
        found.clone().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The adapter's spec of `request` with its users resolved.
    async fn resolved_spec(&self, request: &TicketRequest) -> anyhow::Result<TicketRequest> {
        let api = self
            .jira
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .1
            .api();
        let mut spec = request.clone();
        spec.users.clear();
        let assignee = async {
            match &request.assignee {
                Some(assignee) => self.user(assignee).await.map(Some),
                None => Ok(None),
            }
        };
        let fields = futures::future::try_join_all(request.users.iter().map(|(id, users)| async {
            let ids = futures::future::try_join_all(users.iter().map(|u| self.user(u))).await?;
            let ids: Vec<Value> = ids
                .into_iter()
                .map(|id| match api {
                    ApiVersion::V3 => json!({ "accountId": id }),
                    ApiVersion::V2 => json!({ "name": id }),
                })
                .collect();
            anyhow::Ok((id.clone(), Value::Array(ids)))
        }));
        let (assignee, fields) = futures::future::try_join(assignee, fields).await?;
        spec.assignee = assignee;
        spec.fields.extend(fields);
        Ok(spec)
    }

    /// Looks a ticket up by its exact summary (read only), with the
    /// duplicates of it that `cycle` or a person filed.
    pub async fn find(&self, request: &TicketRequest) -> anyhow::Result<Option<Found>> {
        let api = self.api()?;
        let spec = request;
        let found = jira::lookup(api.as_ref(), spec).await?.map(|found| {
            let name = found
                .ticket
                .fields
                .get("status")
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("no status");
            Found {
                in_sync: jira::field_changes(spec, &found.ticket).is_empty(),
                status: if found.ticket.resolved {
                    format!("{name} (resolved)")
                } else {
                    name.to_string()
                },
                key: found.ticket.key,
                duplicates: found.duplicates,
                foreign: found.foreign,
            }
        });
        if let Some(found) = &found {
            self.found
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(request.summary.clone(), found.clone());
        }
        Ok(found)
    }

    /// What this run's lookup found of the ticket titled `summary`.
    pub fn found(&self, summary: &str) -> Option<Found> {
        self.found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(summary)
            .cloned()
    }

    /// Closes `duplicate`, a ticket `cycle` filed twice, as a duplicate of
    /// `winner` ([`jira::retire`]).
    pub async fn retire(&self, duplicate: &str, winner: &str) -> anyhow::Result<()> {
        Ok(jira::retire(self.api()?.as_ref(), duplicate, winner).await?)
    }

    /// Finds the ticket or creates it; keeps its synced fields current.
    pub async fn ensure(&self, request: &TicketRequest) -> anyhow::Result<Ensured> {
        let api = self.api()?;
        let spec = self.resolved_spec(request).await?;
        let outcome = jira::ensure(api.as_ref(), &spec).await?;
        Ok(Ensured {
            key: outcome.key,
            action: match outcome.action {
                TicketAction::Created => "created",
                TicketAction::Found => "found",
                TicketAction::Updated { .. } => "updated",
            }
            .to_string(),
            retired: outcome.retired,
            foreign: outcome.foreign,
        })
    }
}
