//! The engine's side of Slack, shared by the message kinds
//! ([`super::steps::message`]) and `cycle cancel` (`engine::cancel`): the
//! adapter when configured, the plan's [`MessageRequest`] turned into the
//! adapter's [`MessageSpec`], the journal's [`MessageRef`] of a step, and
//! what a lookup found of a message.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::journal::{Journal, Outcome};
use crate::model::cycle_id::CycleId;
use crate::model::site::LoadedSite;
use crate::plan::{Action, MessageRequest, Seen, StepId};
use crate::services::slack::{self, MessageKind, MessageRef, MessageSpec, SlackApi, SlackClient};

/// Slack for one run, or why it is not available, and the sites whose
/// zones show the messages' times.
pub struct Messages {
    api: Result<Arc<dyn SlackApi>, String>,
    sites: BTreeMap<String, LoadedSite>,
}

impl Messages {
    /// Slack from the environment (`SLACK_BOT_TOKEN`, `SLACK_API_URL`). When
    /// `required` (a selected step sends a message) a missing token is an
    /// error before any step runs; otherwise lookups are skipped. `sites`
    /// give the zones times are shown in.
    pub fn from_env(required: bool, sites: &[&LoadedSite]) -> anyhow::Result<Self> {
        match SlackClient::from_env() {
            Ok(client) => Ok(Self {
                api: Ok(Arc::new(client)),
                ..Self::without_slack("", sites)
            }),
            Err(e) if required => Err(e.into()),
            Err(e) => Ok(Self::without_slack(&e.to_string(), sites)),
        }
    }

    /// No Slack (offline), with the sites whose zones show the times the
    /// plan still reads from the clock.
    pub fn without_slack(reason: &str, sites: &[&LoadedSite]) -> Self {
        Self {
            sites: sites
                .iter()
                .map(|s| (s.site.name.clone(), (*s).clone()))
                .collect(),
            ..Self::none(reason)
        }
    }

    /// Not configured (offline, or no selected step needs it).
    pub fn none(reason: &str) -> Self {
        Self {
            api: Err(reason.to_string()),
            sites: BTreeMap::new(),
        }
    }

    /// The adapter, or why Slack is not available.
    pub(crate) fn api(&self) -> anyhow::Result<&Arc<dyn SlackApi>> {
        self.api.as_ref().map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// An instant as the site reads it (`2026-02-23 09:00 CLST`).
    pub(crate) fn time(&self, site: &str, unix: i64) -> String {
        match self.sites.get(site) {
            Some(loaded) => crate::model::context::display_time(loaded, unix),
            None => chrono::DateTime::from_timestamp(unix, 0)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| unix.to_string()),
        }
    }
}

/// The adapter's spec of a planned message of cycle revision `id`.
pub fn message_spec(id: CycleId, request: &MessageRequest) -> anyhow::Result<MessageSpec> {
    let kind = MessageKind::named(&request.message)
        .ok_or_else(|| anyhow::anyhow!("unknown Slack message `{}`", request.message))?;
    Ok(MessageSpec {
        site: request.site.clone(),
        cycle: id.cycle,
        revision: id.revision,
        kind,
        subject: request.subject.clone(),
        channel: request.channel.clone(),
        text: request.text.clone(),
        post_at: request.at.as_ref().map(|w| w.unix),
    })
}

/// Where the journal last saw the message of step `id`.
pub(crate) fn hint(journal: &Journal, id: &StepId) -> Option<MessageRef> {
    match journal.entry(id).outcome {
        Some(Outcome::Message {
            channel,
            ts,
            scheduled_id,
            post_at,
            ..
        }) => Some(MessageRef {
            channel_id: channel,
            scheduled_id,
            ts,
            post_at,
        }),
        _ => None,
    }
}

/// What the plan shows for what [`slack::find`] saw.
pub(crate) fn seen(finding: &slack::Finding, time: &dyn Fn(i64) -> String) -> Seen {
    let mut waiting_on = None;
    let action = match &finding.plan {
        slack::Plan::Schedule { .. } | slack::Plan::Post => Action::Create,
        slack::Plan::Reschedule { .. } | slack::Plan::Update { .. } => Action::Update,
        slack::Plan::Keep { remove, .. } if remove.is_empty() => Action::None,
        slack::Plan::Missed { remove, .. } if remove.is_empty() => Action::Missed,
        slack::Plan::Keep { .. } | slack::Plan::Missed { .. } => Action::Update,
        slack::Plan::Later {
            remove,
            schedulable_from,
            ..
        } => {
            if remove.is_empty() {
                waiting_on = Some(crate::plan::Wait::Time {
                    from: time(*schedulable_from),
                });
                Action::Waiting
            } else {
                Action::Update
            }
        }
    };
    Seen {
        action,
        note: finding.description.clone(),
        detail: vec![],
        link: None,
        waiting_on,
        basis: Some(message_basis(&finding.observed)),
    }
}

/// What Slack holds of a message, in the saved plan's stable form.
fn message_basis(observed: &slack::Observed) -> String {
    let mut parts: Vec<String> = observed
        .scheduled
        .iter()
        .map(|m| format!("scheduled {} at {}", m.id, m.post_at))
        .collect();
    if let Some(posted) = &observed.posted {
        parts.push(format!("posted {}", posted.ts));
    }
    if parts.is_empty() {
        "nothing in Slack".to_string()
    } else {
        parts.join(", ")
    }
}
