//! Slack adapter: the deployment announcements of a site, scheduled (or
//! posted) once, found again on every rerun, moved when the manifest's dates
//! move, and cancelled by `cycle cancel`.
//!
//! # Layers
//!
//! * [`SlackApi`]: the few Web API calls the steps need, behind an object-safe
//!   trait (the engine holds an `Arc<dyn SlackApi>`). [`SlackClient`] is the
//!   real implementation; it resolves channel names once per run
//!   (`conversations.list`, paged) and does every retry.
//! * Pure step logic: [`decide`] (post now, schedule, too early, too late),
//!   [`plan`] (what to do given what Slack holds) and [`describe`] (the dry
//!   run's sentence), unit-tested without a network.
//! * [`find`] (read only, for dry runs), [`ensure`] and [`cancel`]: generic
//!   over the trait; they observe first and change only what differs.
//!
//! # Finding a message again without a journal
//!
//! `chat.scheduledMessages.list` returns only `id`, `channel_id`, `post_at`,
//! `date_created` and `text`; metadata is not returned. Worse, Slack's
//! reference for `chat.scheduleMessage` carries a bug alert: *messages
//! scheduled with the `metadata` parameter are never posted*. So scheduled
//! messages are sent **without** metadata and carry their identity in their
//! text, as a last line (the *marker*, [`MessageSpec::marker`]):
//!
//! ```text
//! _cycle · summit · c0044.000 · day before_
//! ```
//!
//! Why this form: the text is the only field Slack keeps and returns for a
//! scheduled message (and, once posted, in `conversations.history`), so the
//! marker has to be text. It is plain ASCII words and `·` separators with no
//! `&`, `<` or `>`, so nothing in Slack's storage or mrkdwn parsing rewrites
//! it, and it is matched exactly, line for line. It names everything that
//! tells two announcements apart (site, cycle and revision as the image tag,
//! kind) and nothing that changes when the manifest is edited (not the time,
//! not the wording), so a message whose date or text moved is still found.
//! Readers see a short italic signature saying which tool sent it for which
//! site, tag and moment; invisible carriers were rejected: zero-width
//! characters are dropped by editors and read aloud by screen readers, and an
//! empty-label link renders as an odd blank link.
//!
//! Messages posted with `chat.postMessage` carry the marker too, and also
//! Slack message metadata: `event_type` [`EVENT_TYPE`] with `event_payload`
//! `{site, cycle, revision, kind}`; `conversations.history` is read with
//! `include_all_metadata=true` and a message is ours when its metadata or its
//! marker says so. A scheduled message that Slack has posted is looked for in
//! the history from a minute before its time to an hour after.
//!
//! A journal hint ([`MessageRef`]) is tried first: its scheduled id is
//! recognised even if someone edited the text, and its `ts` is fetched alone.
//!
//! # Retries
//!
//! Every call goes through [`http::client`](crate::services::http::client)
//! (timeouts) and [`with_retry`]: reads are retried on transport errors, 5xx,
//! HTTP 429 (after its `Retry-After`) and Slack's own `ratelimited`,
//! `internal_error`, `fatal_error`, `service_unavailable` and
//! `request_timeout`. A create (`chat.scheduleMessage`, `chat.postMessage`)
//! is retried only after looking again for the message it was creating, so a
//! lost response never schedules or posts twice. Deleting a scheduled
//! message again after a lost response is not an error.
//!
//! # Environment
//!
//! `SLACK_BOT_TOKEN` (required; sent only as `Authorization: Bearer`) and
//! `SLACK_API_URL` (default `https://slack.com/api`). The token never appears
//! in a URL, an error or `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::render::escape_mrkdwn;
use crate::services::http::{
    self, Attempt, RetryError, RetryPolicy, Secret, display_url, env_secret, env_var, with_retry,
};

/// Environment variable holding the bot token (`xoxb-…`).
pub const TOKEN_ENV: &str = "SLACK_BOT_TOKEN";
/// Environment variable overriding the Web API base URL.
pub const URL_ENV: &str = "SLACK_API_URL";
/// The Web API base URL when [`URL_ENV`] is not set.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// `metadata.event_type` of the messages `cycle` posts.
pub const EVENT_TYPE: &str = "cycle_announcement";
/// How far ahead Slack schedules a message (120 days, in seconds).
pub const SCHEDULE_HORIZON: i64 = 120 * 86_400;

/// Page size asked of list methods (Slack recommends at most 200).
const PAGE_LIMIT: u32 = 200;
/// Most pages of a list method read (a guard against a cursor that loops).
const MAX_LIST_PAGES: usize = 500;
/// Most pages of history searched for a message posted "now" (no time to aim at).
const MAX_HISTORY_PAGES: usize = 10;
/// A scheduled message is looked for in the history from this long before its time…
const DELIVERY_EARLY: i64 = 60;
/// … to this long after it.
const DELIVERY_LATE: i64 = 3_600;

// ---------------------------------------------------------------------------
// What the engine hands in and gets back

/// Which announcement of a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The calendar day before the start.
    DayBefore,
    /// One hour before the start.
    HourBefore,
    /// As the deployment starts.
    Start,
    /// A pull request is ready for review (posted at once).
    PrReady,
    /// The cycle's Confluence page is ready, once all base artifacts are
    /// built (posted at once).
    PageReady,
}

impl MessageKind {
    /// The name used in metadata and plans: `day_before`, `hour_before`,
    /// `start`, `pr_ready`, `page_ready`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::DayBefore => "day_before",
            MessageKind::HourBefore => "hour_before",
            MessageKind::Start => "start",
            MessageKind::PrReady => "pr_ready",
            MessageKind::PageReady => "page_ready",
        }
    }

    /// The kind named `name` (the plan's message names, see [`Self::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            MessageKind::DayBefore,
            MessageKind::HourBefore,
            MessageKind::Start,
            MessageKind::PrReady,
            MessageKind::PageReady,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }

    /// The words used in the marker line: `day before`, `hour before`,
    /// `start`, `PR ready`, `page ready`.
    fn marker_words(self) -> &'static str {
        match self {
            MessageKind::DayBefore => "day before",
            MessageKind::HourBefore => "hour before",
            MessageKind::Start => "start",
            MessageKind::PrReady => "PR ready",
            MessageKind::PageReady => "page ready",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One announcement to have in Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSpec {
    /// Site name (`summit`).
    pub site: String,
    /// Cycle number.
    pub cycle: u32,
    /// Revision number (0 for the full cycle).
    pub revision: u32,
    /// Which announcement.
    pub kind: MessageKind,
    /// What it is about when a site has several of the kind, e.g. the
    /// repository of a review notice (`lsst-sqre/phalanx`).
    pub subject: Option<String>,
    /// Channel, `#summit-announce` (or a channel id).
    pub channel: String,
    /// Text, mrkdwn already escaped by the renderer (without the marker).
    pub text: String,
    /// When to post, epoch seconds; `None` posts when the step runs.
    pub post_at: Option<i64>,
}

impl MessageSpec {
    /// The marker line identifying this announcement (see the module doc):
    /// `_cycle · summit · c0044.000 · day before_`.
    pub fn marker(&self) -> String {
        let subject = self
            .subject
            .as_deref()
            .map(|s| format!(" · {}", escape_mrkdwn(s)))
            .unwrap_or_default();
        format!(
            "_cycle · {} · c{:04}.{:03} · {}{subject}_",
            escape_mrkdwn(&self.site),
            self.cycle,
            self.revision,
            self.kind.marker_words()
        )
    }

    /// The text sent to Slack: the rendered text, then the marker line.
    pub fn full_text(&self) -> String {
        format!("{}\n{}", self.text.trim_end(), self.marker())
    }

    /// The message metadata sent with `chat.postMessage` and `chat.update`.
    pub fn metadata(&self) -> Metadata {
        let mut payload = json!({
            "site": self.site,
            "cycle": self.cycle,
            "revision": self.revision,
            "kind": self.kind.as_str(),
        });
        if let Some(subject) = &self.subject {
            payload["subject"] = json!(subject);
        }
        Metadata {
            event_type: EVENT_TYPE.to_string(),
            event_payload: payload,
        }
    }

    /// Whether a scheduled or posted text is this announcement's (its last
    /// non-empty line is the marker).
    pub fn has_marker(&self, text: &str) -> bool {
        text.lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .is_some_and(|last| last == self.marker())
    }

    /// Whether a posted message is this announcement's: by metadata, or by
    /// marker (a scheduled message posted by Slack has no metadata).
    pub fn is_posted_as(&self, message: &PostedMessage) -> bool {
        message
            .metadata
            .as_ref()
            .is_some_and(|m| m.event_type == EVENT_TYPE && self.payload_matches(&m.event_payload))
            || self.has_marker(&message.text)
    }

    fn payload_matches(&self, payload: &Value) -> bool {
        let ours = self.metadata().event_payload;
        ["site", "cycle", "revision", "kind", "subject"]
            .iter()
            .all(|k| payload.get(k) == ours.get(k))
    }
}

/// Where the journal last saw a message (a hint; Slack is the truth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRef {
    /// Channel id.
    pub channel_id: String,
    /// Id of the pending scheduled message, if it was scheduled.
    pub scheduled_id: Option<String>,
    /// `ts` of the posted message, if it was posted.
    pub ts: Option<String>,
    /// When it was (to be) posted, epoch seconds.
    pub post_at: Option<i64>,
}

/// Slack message metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Event type, [`EVENT_TYPE`] for ours.
    pub event_type: String,
    /// Payload, `{site, cycle, revision, kind}` for ours.
    pub event_payload: Value,
}

/// A pending message as `chat.scheduledMessages.list` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledMessage {
    /// Scheduled message id (`Q…`).
    pub id: String,
    /// Channel id.
    pub channel_id: String,
    /// When Slack will post it, epoch seconds.
    pub post_at: i64,
    /// Its text.
    pub text: String,
}

/// A message of the channel history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedMessage {
    /// Its `ts` (Slack's message id).
    pub ts: String,
    /// Its text.
    pub text: String,
    /// Its metadata, when it has some.
    pub metadata: Option<Metadata>,
}

/// Which part of a channel's history to read, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRange {
    /// Only messages at or after this `ts` (epoch seconds are a valid `ts`).
    pub oldest: Option<String>,
    /// Only messages at or before this `ts`.
    pub latest: Option<String>,
    /// Messages asked per page.
    pub limit: u32,
    /// Pages read at most.
    pub max_pages: usize,
}

impl HistoryRange {
    /// The one message with this `ts`.
    pub fn exactly(ts: &str) -> Self {
        Self {
            oldest: Some(ts.to_string()),
            latest: Some(ts.to_string()),
            limit: 1,
            max_pages: 1,
        }
    }

    /// The newest messages, one page.
    pub fn newest(limit: u32) -> Self {
        Self {
            oldest: None,
            latest: None,
            limit,
            max_pages: 1,
        }
    }
}

// ---------------------------------------------------------------------------
// Pure decisions

/// What the clock allows for a message, before looking at Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No time given: post when the step runs.
    PostNow,
    /// In the future and within 120 days: schedule it.
    Schedule {
        /// When.
        post_at: i64,
    },
    /// More than 120 days ahead: Slack refuses it; the step stays pending.
    Later {
        /// When it is to be posted.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
    },
    /// Its time has passed (the deployment has started, or the reminder's
    /// moment is gone): never posted late.
    Missed {
        /// When it was to be posted.
        post_at: i64,
    },
}

/// What the clock allows for `spec` at `now` (epoch seconds).
pub fn decide(now: i64, spec: &MessageSpec) -> Decision {
    match spec.post_at {
        None => Decision::PostNow,
        Some(post_at) if post_at <= now => Decision::Missed { post_at },
        Some(post_at) if post_at - now > SCHEDULE_HORIZON => Decision::Later {
            post_at,
            schedulable_from: post_at - SCHEDULE_HORIZON,
        },
        Some(post_at) => Decision::Schedule { post_at },
    }
}

/// What Slack holds of one announcement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Its pending scheduled messages (normally none or one).
    pub scheduled: Vec<ScheduledMessage>,
    /// Its posted message, when one was looked for and found.
    pub posted: Option<PostedMessage>,
}

/// An announcement already in Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Pending.
    Scheduled {
        /// Scheduled message id.
        scheduled_id: String,
        /// When Slack posts it.
        post_at: i64,
    },
    /// Posted.
    Posted {
        /// Its `ts`.
        ts: String,
    },
}

/// How a scheduled announcement differs from what the manifest now says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The time it was scheduled for.
    pub old_post_at: i64,
    /// The time it is now due.
    pub new_post_at: i64,
    /// Whether the text changed.
    pub text_changed: bool,
}

impl Change {
    /// Whether the time moved.
    pub fn time_moved(&self) -> bool {
        self.old_post_at != self.new_post_at
    }
}

/// What [`ensure`] will do (and [`find`] reports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Schedule it.
    Schedule {
        /// When.
        post_at: i64,
    },
    /// Post it now.
    Post,
    /// Nothing to change; `remove` lists duplicate pending copies to delete.
    Keep {
        /// The message kept.
        existing: Existing,
        /// Duplicates to delete.
        remove: Vec<ScheduledMessage>,
    },
    /// Delete the pending message(s), then schedule the new one.
    Reschedule {
        /// The pending messages to delete.
        remove: Vec<ScheduledMessage>,
        /// The new time.
        post_at: i64,
        /// What changed.
        change: Change,
    },
    /// Edit the posted message's text (`chat.update`).
    Update {
        /// Its `ts`.
        ts: String,
    },
    /// Its time has passed and it was not posted: nothing is posted late;
    /// pending copies for another time are deleted.
    Missed {
        /// When it was due.
        post_at: i64,
        /// Pending copies to delete.
        remove: Vec<ScheduledMessage>,
    },
    /// Too far ahead to schedule; pending copies for another time are deleted.
    Later {
        /// When it is due.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
        /// Pending copies to delete.
        remove: Vec<ScheduledMessage>,
    },
}

/// Whether two texts are the same message (Slack may drop trailing
/// whitespace).
pub fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> Vec<String> {
        let lines: Vec<String> = s.trim().lines().map(|l| l.trim_end().to_string()).collect();
        lines
    };
    norm(a) == norm(b)
}

/// Decides what to do about `spec` given the clock's `decision` and what
/// Slack holds.
pub fn plan(decision: Decision, spec: &MessageSpec, observed: &Observed) -> Plan {
    let text = spec.full_text();
    let posted = |p: &PostedMessage| {
        if same_text(&p.text, &text) {
            Plan::Keep {
                existing: Existing::Posted { ts: p.ts.clone() },
                remove: observed.scheduled.clone(),
            }
        } else {
            Plan::Update { ts: p.ts.clone() }
        }
    };
    // A pending copy for exactly this time and text is kept; every other
    // pending copy goes.
    let split = |post_at: i64| {
        let keep = observed
            .scheduled
            .iter()
            .find(|m| m.post_at == post_at && same_text(&m.text, &text))
            .cloned();
        let remove: Vec<ScheduledMessage> = observed
            .scheduled
            .iter()
            .filter(|m| keep.as_ref().is_none_or(|k| k.id != m.id))
            .cloned()
            .collect();
        (keep, remove)
    };
    match decision {
        Decision::PostNow => match &observed.posted {
            Some(p) => posted(p),
            None => Plan::Post,
        },
        Decision::Schedule { post_at } => match split(post_at) {
            (Some(keep), remove) => Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: keep.id,
                    post_at,
                },
                remove,
            },
            (None, remove) => match remove.first() {
                Some(old) => Plan::Reschedule {
                    change: Change {
                        old_post_at: old.post_at,
                        new_post_at: post_at,
                        text_changed: !same_text(&old.text, &text),
                    },
                    remove,
                    post_at,
                },
                None => Plan::Schedule { post_at },
            },
        },
        Decision::Missed { post_at } => match (&observed.posted, split(post_at)) {
            (Some(p), _) => posted(p),
            (None, (Some(keep), remove)) => Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: keep.id,
                    post_at,
                },
                remove,
            },
            (None, (None, remove)) => Plan::Missed { post_at, remove },
        },
        Decision::Later {
            post_at,
            schedulable_from,
        } => Plan::Later {
            post_at,
            schedulable_from,
            remove: observed.scheduled.clone(),
        },
    }
}

/// The dry run's sentence for `plan`; `time` shows an epoch time as the
/// site reads it (e.g. [`crate::model::context::display_time`]).
pub fn describe(plan: &Plan, spec: &MessageSpec, time: &dyn Fn(i64) -> String) -> String {
    let kind = spec.kind;
    let channel = &spec.channel;
    let deleting = |remove: &[ScheduledMessage], what: &str| {
        if remove.is_empty() {
            String::new()
        } else {
            let ids: Vec<&str> = remove.iter().map(|m| m.id.as_str()).collect();
            format!("; would delete {what} (id {})", ids.join(", "))
        }
    };
    match plan {
        Plan::Schedule { post_at } => {
            format!("would schedule {kind} in {channel} at {}", time(*post_at))
        }
        Plan::Post => format!("would post {kind} in {channel} now"),
        Plan::Keep {
            existing:
                Existing::Scheduled {
                    scheduled_id,
                    post_at,
                },
            remove,
        } => format!(
            "{kind} scheduled (id {scheduled_id}) in {channel} at {}, unchanged{}",
            time(*post_at),
            deleting(remove, "a duplicate")
        ),
        Plan::Keep {
            existing: Existing::Posted { ts },
            remove,
        } => format!(
            "{kind} posted (ts {ts}) in {channel}, unchanged{}",
            deleting(remove, "a pending copy")
        ),
        Plan::Reschedule { change, .. } => {
            let why = match (change.time_moved(), change.text_changed) {
                (true, true) => format!(
                    "time moved from {} to {}, and text changed",
                    time(change.old_post_at),
                    time(change.new_post_at)
                ),
                (true, false) => format!(
                    "time moved from {} to {}",
                    time(change.old_post_at),
                    time(change.new_post_at)
                ),
                _ => format!("text changed (still at {})", time(change.new_post_at)),
            };
            format!("would reschedule {kind} in {channel}: {why}")
        }
        Plan::Update { ts } => {
            format!("would update {kind} in {channel} (ts {ts}): text changed")
        }
        Plan::Missed { post_at, remove } => format!(
            "{kind} in {channel} was due at {}: missed, not posted late{}",
            time(*post_at),
            deleting(remove, "the pending copy for another time")
        ),
        Plan::Later {
            post_at,
            schedulable_from,
            remove,
        } => format!(
            "would schedule later (within 120 days of the time): {kind} in {channel} at {} \
             is more than 120 days ahead; it can be scheduled from {}{}",
            time(*post_at),
            time(*schedulable_from),
            deleting(remove, "the pending copy for another time")
        ),
    }
}

// ---------------------------------------------------------------------------
// The steps

/// What [`ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Newly scheduled.
    Scheduled {
        /// Channel id.
        channel_id: String,
        /// Scheduled message id.
        scheduled_id: String,
        /// When Slack posts it.
        post_at: i64,
    },
    /// Posted now.
    Posted {
        /// Channel id.
        channel_id: String,
        /// Its `ts`.
        ts: String,
        /// Its link, when Slack gave one.
        permalink: Option<String>,
    },
    /// Already as wanted (duplicate pending copies, if any, were deleted).
    Unchanged {
        /// Channel id.
        channel_id: String,
        /// The message found.
        existing: Existing,
        /// Ids of deleted duplicates.
        removed: Vec<String>,
    },
    /// The old pending message(s) deleted, the new one scheduled.
    Rescheduled {
        /// Channel id.
        channel_id: String,
        /// Ids of the deleted messages.
        removed: Vec<String>,
        /// The new scheduled message id.
        scheduled_id: String,
        /// What changed (old and new time).
        change: Change,
    },
    /// The posted message's text edited.
    Updated {
        /// Channel id.
        channel_id: String,
        /// Its `ts`.
        ts: String,
        /// Its link, when Slack gave one.
        permalink: Option<String>,
    },
    /// Its time passed before it was posted: not posted late.
    Missed {
        /// Channel id.
        channel_id: String,
        /// When it was due.
        post_at: i64,
        /// Ids of deleted pending copies for another time.
        removed: Vec<String>,
    },
    /// More than 120 days ahead: the step stays pending.
    Later {
        /// Channel id.
        channel_id: String,
        /// When it is due.
        post_at: i64,
        /// The first moment it can be scheduled.
        schedulable_from: i64,
        /// Ids of deleted pending copies for another time.
        removed: Vec<String>,
    },
}

impl MessageOutcome {
    /// Where the message now is, for the journal (`None` when nothing is
    /// in Slack: missed or not yet schedulable).
    pub fn message_ref(&self) -> Option<MessageRef> {
        let scheduled = |channel_id: &str, id: &str, post_at: i64| MessageRef {
            channel_id: channel_id.to_string(),
            scheduled_id: Some(id.to_string()),
            ts: None,
            post_at: Some(post_at),
        };
        let posted = |channel_id: &str, ts: &str| MessageRef {
            channel_id: channel_id.to_string(),
            scheduled_id: None,
            ts: Some(ts.to_string()),
            post_at: None,
        };
        match self {
            MessageOutcome::Scheduled {
                channel_id,
                scheduled_id,
                post_at,
            } => Some(scheduled(channel_id, scheduled_id, *post_at)),
            MessageOutcome::Rescheduled {
                channel_id,
                scheduled_id,
                change,
                ..
            } => Some(scheduled(channel_id, scheduled_id, change.new_post_at)),
            MessageOutcome::Unchanged {
                channel_id,
                existing:
                    Existing::Scheduled {
                        scheduled_id,
                        post_at,
                    },
                ..
            } => Some(scheduled(channel_id, scheduled_id, *post_at)),
            MessageOutcome::Unchanged {
                channel_id,
                existing: Existing::Posted { ts },
                ..
            }
            | MessageOutcome::Posted { channel_id, ts, .. }
            | MessageOutcome::Updated { channel_id, ts, .. } => Some(posted(channel_id, ts)),
            MessageOutcome::Missed { .. } | MessageOutcome::Later { .. } => None,
        }
    }

    /// Whether the step must run again later (too far ahead to schedule).
    pub fn is_pending(&self) -> bool {
        matches!(self, MessageOutcome::Later { .. })
    }
}

/// What [`find`] saw and what [`ensure`] would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Channel id.
    pub channel_id: String,
    /// What Slack holds of the message.
    pub observed: Observed,
    /// What [`ensure`] would do.
    pub plan: Plan,
    /// The dry run's sentence, e.g. "would schedule day_before in
    /// #summit-announce at 2026-02-23 09:00 CLST".
    pub description: String,
}

/// What [`cancel`] deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancelled {
    /// Channel id.
    pub channel_id: String,
    /// Ids of the deleted scheduled messages (empty: nothing was pending).
    pub removed: Vec<String>,
}

/// Looks at Slack for `spec` (read only): the dry run of [`ensure`].
pub async fn find<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    now: i64,
    hint: Option<&MessageRef>,
    time: &dyn Fn(i64) -> String,
) -> Result<Finding, SlackError> {
    let decision = decide(now, spec);
    let (channel_id, observed) = observe(api, spec, decision, hint).await?;
    let plan = plan(decision, spec, &observed);
    let description = describe(&plan, spec, time);
    Ok(Finding {
        channel_id,
        observed,
        plan,
        description,
    })
}

/// Makes Slack hold `spec` as the clock allows at `now`: schedules, posts,
/// reschedules (delete, then schedule: exactly one stays) or edits what
/// differs, and does nothing when all is as wanted.
pub async fn ensure<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    now: i64,
    hint: Option<&MessageRef>,
) -> Result<MessageOutcome, SlackError> {
    let decision = decide(now, spec);
    let (channel_id, observed) = observe(api, spec, decision, hint).await?;
    let text = spec.full_text();
    Ok(match plan(decision, spec, &observed) {
        Plan::Schedule { post_at } => {
            let m = api.schedule_message(&channel_id, &text, post_at).await?;
            let m = settle_scheduled(api, &channel_id, spec, m).await?;
            MessageOutcome::Scheduled {
                channel_id,
                scheduled_id: m.id,
                post_at: m.post_at,
            }
        }
        Plan::Post => {
            let m = api
                .post_message(&channel_id, &text, &spec.metadata())
                .await?;
            let m = settle_posted(api, &channel_id, spec, m).await?;
            let permalink = api.permalink(&channel_id, &m.ts).await.ok();
            MessageOutcome::Posted {
                channel_id,
                ts: m.ts,
                permalink,
            }
        }
        Plan::Keep { existing, remove } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Unchanged {
                channel_id,
                existing,
                removed,
            }
        }
        Plan::Reschedule {
            remove,
            post_at,
            change,
        } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            let m = api.schedule_message(&channel_id, &text, post_at).await?;
            let m = settle_scheduled(api, &channel_id, spec, m).await?;
            MessageOutcome::Rescheduled {
                channel_id,
                removed,
                scheduled_id: m.id,
                change,
            }
        }
        Plan::Update { ts } => {
            api.update_message(&channel_id, &ts, &text, &spec.metadata())
                .await?;
            let permalink = api.permalink(&channel_id, &ts).await.ok();
            MessageOutcome::Updated {
                channel_id,
                ts,
                permalink,
            }
        }
        Plan::Missed { post_at, remove } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Missed {
                channel_id,
                post_at,
                removed,
            }
        }
        Plan::Later {
            post_at,
            schedulable_from,
            remove,
        } => {
            let removed = delete_all(api, &channel_id, remove).await?;
            MessageOutcome::Later {
                channel_id,
                post_at,
                schedulable_from,
                removed,
            }
        }
    })
}

/// After scheduling `ours`: another run may have scheduled the same
/// announcement (same marker, text and time) at the same moment, and
/// `chat.scheduledMessages.list` carries no metadata to tell copies apart.
/// So the list is read again and the copy with the lowest id stays: when
/// it is another run's, `ours` is deleted. Returns the copy kept. The later
/// of two runs always sees the earlier one's copy, so exactly one stays
/// when ids grow with time (see `docs/concurrency.md`).
async fn settle_scheduled<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    ours: ScheduledMessage,
) -> Result<ScheduledMessage, SlackError> {
    let first = api
        .scheduled_messages(channel_id)
        .await?
        .into_iter()
        .filter(|m| {
            m.id != ours.id
                && m.post_at == ours.post_at
                && spec.has_marker(&m.text)
                && same_text(&m.text, &ours.text)
        })
        .min_by(|a, b| a.id.cmp(&b.id));
    match first {
        Some(theirs) if theirs.id < ours.id => {
            api.delete_scheduled_message(channel_id, &ours.id).await?;
            Ok(theirs)
        }
        _ => Ok(ours),
    }
}

/// After posting `ours`: another run may have posted the same announcement
/// at the same moment. The history is read again and the earliest post of
/// it stays (`ts` orders a channel's messages): when it is another run's,
/// `ours` is deleted. Returns the message kept.
async fn settle_posted<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    ours: PostedMessage,
) -> Result<PostedMessage, SlackError> {
    let key = |ts: &str| {
        let (s, f) = ts.split_once('.').unwrap_or((ts, "0"));
        (
            s.parse::<i64>().unwrap_or(i64::MAX),
            f.parse::<i64>().unwrap_or(0),
        )
    };
    let first = api
        .history(channel_id, &HistoryRange::newest(PAGE_LIMIT))
        .await?
        .into_iter()
        .filter(|m| m.ts != ours.ts && spec.is_posted_as(m))
        .min_by_key(|m| key(&m.ts));
    match first {
        Some(theirs) if key(&theirs.ts) < key(&ours.ts) => {
            api.delete_message(channel_id, &ours.ts).await?;
            Ok(theirs)
        }
        _ => Ok(ours),
    }
}

/// Deletes the pending scheduled message(s) of `spec` (`cycle cancel`);
/// posts nothing and leaves posted messages alone.
pub async fn cancel<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
) -> Result<Cancelled, SlackError> {
    let channel_id = api.channel_id(&spec.channel).await?;
    let scheduled = pending_of(api, &channel_id, spec, hint).await?;
    let removed = delete_all(api, &channel_id, scheduled).await?;
    Ok(Cancelled {
        channel_id,
        removed,
    })
}

/// Deletes pending messages one by one; returns their ids.
async fn delete_all<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    messages: Vec<ScheduledMessage>,
) -> Result<Vec<String>, SlackError> {
    let mut removed = Vec::with_capacity(messages.len());
    for m in messages {
        api.delete_scheduled_message(channel_id, &m.id).await?;
        removed.push(m.id);
    }
    Ok(removed)
}

/// Resolves the channel and reads what the decision needs: pending messages
/// unless posting now, the posted message when posting now or when its time
/// has passed.
async fn observe<A: SlackApi + ?Sized>(
    api: &A,
    spec: &MessageSpec,
    decision: Decision,
    hint: Option<&MessageRef>,
) -> Result<(String, Observed), SlackError> {
    let channel_id = api.channel_id(&spec.channel).await?;
    let hint = hint.filter(|h| h.channel_id == channel_id);
    let scheduled = match decision {
        Decision::PostNow => Vec::new(),
        _ => pending_of(api, &channel_id, spec, hint).await?,
    };
    let posted = match decision {
        Decision::PostNow => posted_of(api, &channel_id, spec, hint, None).await?,
        Decision::Missed { post_at } => {
            posted_of(api, &channel_id, spec, hint, Some(post_at)).await?
        }
        Decision::Schedule { .. } | Decision::Later { .. } => None,
    };
    Ok((channel_id, Observed { scheduled, posted }))
}

/// The pending messages of `spec` in the channel: by marker, or by the
/// journal's id.
async fn pending_of<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
) -> Result<Vec<ScheduledMessage>, SlackError> {
    let hinted = hint
        .filter(|h| h.channel_id == channel_id)
        .and_then(|h| h.scheduled_id.as_deref());
    Ok(api
        .scheduled_messages(channel_id)
        .await?
        .into_iter()
        .filter(|m| Some(m.id.as_str()) == hinted || spec.has_marker(&m.text))
        .collect())
}

/// The posted message of `spec`: the journal's `ts` first, then the history
/// (around `due` when the message had a time, else the newest pages).
async fn posted_of<A: SlackApi + ?Sized>(
    api: &A,
    channel_id: &str,
    spec: &MessageSpec,
    hint: Option<&MessageRef>,
    due: Option<i64>,
) -> Result<Option<PostedMessage>, SlackError> {
    let ours = |m: &PostedMessage| {
        spec.is_posted_as(m)
            && due.is_none_or(|t| {
                ts_seconds(&m.ts)
                    .is_some_and(|s| (t - DELIVERY_EARLY..=t + DELIVERY_LATE).contains(&s))
            })
    };
    if let Some(ts) = hint.and_then(|h| h.ts.as_deref()) {
        let found = api.history(channel_id, &HistoryRange::exactly(ts)).await?;
        if let Some(m) = found.into_iter().find(|m| m.ts == ts && ours(m)) {
            return Ok(Some(m));
        }
    }
    let range = match due {
        Some(t) => HistoryRange {
            oldest: Some((t - DELIVERY_EARLY).to_string()),
            latest: Some((t + DELIVERY_LATE).to_string()),
            limit: PAGE_LIMIT,
            max_pages: MAX_HISTORY_PAGES,
        },
        None => HistoryRange {
            oldest: None,
            latest: None,
            limit: PAGE_LIMIT,
            max_pages: MAX_HISTORY_PAGES,
        },
    };
    Ok(api
        .history(channel_id, &range)
        .await?
        .into_iter()
        .find(|m| ours(m)))
}

/// The whole seconds of a message `ts` (`1503435956.000247` → 1503435956).
pub fn ts_seconds(ts: &str) -> Option<i64> {
    ts.split('.').next()?.parse().ok()
}

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

/// Who a token is, as `auth.test` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    /// The bot user's name, e.g. `cycle-bot`.
    pub user: String,
    /// The bot user's id, e.g. `U0FAKEBOT1`.
    pub user_id: String,
    /// The workspace's name.
    pub team: String,
    /// The bot's id, when the token is a bot token.
    pub bot_id: Option<String>,
}

/// A channel as `conversations.info` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    /// Id, e.g. `C0SUMMIT01`.
    pub id: String,
    /// Name without `#`.
    pub name: String,
    /// Whether the bot is a member (needed to post and schedule).
    pub is_member: bool,
    /// Whether the channel is archived (nothing can be posted).
    pub is_archived: bool,
}

/// Errors of the Slack adapter; none contains the token.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Configuration missing or invalid.
    #[error("Slack is not configured: {}", .problems.join("; "))]
    Config {
        /// What to set, one entry per variable.
        problems: Vec<String>,
    },
    /// The token was refused.
    #[error(
        "Slack refused the token in SLACK_BOT_TOKEN ({code}, on {method}): set SLACK_BOT_TOKEN to \
         the bot user OAuth token (xoxb-…) of the app installed in the workspace; a revoked or \
         expired token must be replaced"
    )]
    Auth {
        /// Slack's error code, or the HTTP status.
        code: String,
        /// The method called.
        method: &'static str,
    },
    /// The token lacks a scope.
    #[error(
        "the Slack app lacks a scope {method} needs ({needed}): add it under OAuth & \
         Permissions and reinstall the app"
    )]
    MissingScope {
        /// The method called.
        method: &'static str,
        /// The scope Slack asked for.
        needed: String,
    },
    /// No such channel (or a private one the bot is not in).
    #[error(
        "Slack channel {channel} not found (channel_not_found): check the site's slack.channel; \
         a private channel is visible only to members: /invite @bot in it"
    )]
    ChannelNotFound {
        /// The channel as configured, or its id.
        channel: String,
    },
    /// The bot is not a member of the channel.
    #[error(
        "the bot is not in {channel} (not_in_channel): invite the bot: /invite @bot in {channel}"
    )]
    NotInChannel {
        /// The channel.
        channel: String,
    },
    /// Slack refused a time already past.
    #[error(
        "Slack refused to schedule a message in {channel} for {at} (time_in_past): the time has \
         passed or this machine's clock is wrong; run again to skip it"
    )]
    TimeInPast {
        /// The channel.
        channel: String,
        /// The time, UTC.
        at: String,
    },
    /// Slack refused a time more than 120 days ahead.
    #[error(
        "Slack refused to schedule a message in {channel} for {at} (time_too_far): Slack \
         schedules at most 120 days ahead; run again within 120 days of the time"
    )]
    TimeTooFar {
        /// The channel.
        channel: String,
        /// The time, UTC.
        at: String,
    },
    /// Rate-limited until the retries ran out.
    #[error("Slack kept rate-limiting {method} (ratelimited): wait a minute and run again")]
    RateLimited {
        /// The method called.
        method: &'static str,
    },
    /// Slack asked for a longer wait than the retry policy allows.
    #[error("Slack asked to wait {}s before retrying ({cause}); run again later", .wait.as_secs())]
    WaitTooLong {
        /// The wait asked for.
        wait: Duration,
        /// The error that asked for it.
        cause: Box<SlackError>,
    },
    /// Any other `ok: false` answer.
    #[error("Slack {method} failed: {code}{detail}")]
    Api {
        /// The method called.
        method: &'static str,
        /// Slack's error code.
        code: String,
        /// What it means and what to do, when known (with a leading separator).
        detail: String,
    },
    /// An HTTP status Slack's API does not use for answers.
    #[error("Slack {method} at {url} answered HTTP {status}: {message}")]
    Http {
        /// The method called.
        method: &'static str,
        /// The URL, without query.
        url: String,
        /// The status.
        status: u16,
        /// Slack's error text or the start of the body.
        message: String,
    },
    /// The request did not get an answer.
    #[error("cannot reach Slack at {url} ({method}): {message}")]
    Transport {
        /// The method called.
        method: &'static str,
        /// The URL, without query.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// An answer that is not what Slack documents.
    #[error("Slack {method} answered something cycle cannot read: {detail}")]
    Malformed {
        /// The method called.
        method: &'static str,
        /// What was wrong.
        detail: String,
    },
}

impl RetryError for SlackError {
    fn wait_too_long(self, wait: Duration) -> Self {
        SlackError::WaitTooLong {
            wait,
            cause: Box::new(self),
        }
    }
}

/// The error for an `ok: false` answer with `code` (the whole answer in
/// `body`); `channel` names the channel for messages, `post_at` the time a
/// schedule asked for.
pub fn api_error(
    method: &'static str,
    code: &str,
    body: &Value,
    channel: Option<String>,
    post_at: Option<i64>,
) -> SlackError {
    let channel = channel.unwrap_or_else(|| "the channel".to_string());
    let at = || {
        post_at
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "the requested time".to_string())
    };
    match code {
        "channel_not_found" => SlackError::ChannelNotFound { channel },
        "not_in_channel" => SlackError::NotInChannel { channel },
        "invalid_auth" | "not_authed" | "token_revoked" | "token_expired" | "account_inactive" => {
            SlackError::Auth {
                code: code.to_string(),
                method,
            }
        }
        "missing_scope" => SlackError::MissingScope {
            method,
            needed: body
                .get("needed")
                .and_then(Value::as_str)
                .unwrap_or("Slack did not say which")
                .to_string(),
        },
        "time_in_past" => SlackError::TimeInPast { channel, at: at() },
        "time_too_far" => SlackError::TimeTooFar { channel, at: at() },
        "ratelimited" => SlackError::RateLimited { method },
        _ => SlackError::Api {
            method,
            code: code.to_string(),
            detail: advice(code, &channel, body),
        },
    }
}

/// What an other `ok: false` code means, as `: …` (empty when unknown and
/// Slack said nothing more).
fn advice(code: &str, channel: &str, body: &Value) -> String {
    let text = match code {
        "is_archived" => {
            format!("{channel} is archived: unarchive it or change the site's slack.channel")
        }
        "msg_too_long" => "the text is longer than Slack accepts; shorten the template".into(),
        "no_text" => "the message text is empty; check the template".into(),
        "restricted_too_many" => {
            format!("more than 30 messages are scheduled within 5 minutes in {channel}")
        }
        "invalid_scheduled_message_id" => format!(
            "the scheduled message is no longer pending in {channel} \
             (already posted or deleted); run again"
        ),
        "message_not_found" => {
            format!("the posted message is gone from {channel}; run again to post it anew")
        }
        "cant_update_message" => "the bot can edit only its own messages".into(),
        "edit_window_closed" => "the workspace no longer allows editing this message".into(),
        _ => body
            .pointer("/response_metadata/messages")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default(),
    };
    if text.is_empty() {
        text
    } else {
        format!(": {text}")
    }
}

/// `ok: false` codes worth retrying (Slack's own transient failures).
fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ratelimited"
            | "internal_error"
            | "fatal_error"
            | "service_unavailable"
            | "request_timeout"
    )
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
fn parse_api_url(text: &str) -> Result<Url, String> {
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

/// How a configured channel names its channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelRef {
    /// A name, without `#`.
    Name(String),
    /// A channel id (`C…`, `G…`, `D…`).
    Id(String),
}

/// Reads `#name`, `name` or a channel id.
pub fn channel_ref(channel: &str) -> ChannelRef {
    let c = channel.trim();
    if let Some(name) = c.strip_prefix('#') {
        return ChannelRef::Name(name.to_string());
    }
    let is_id = c.len() >= 9
        && c.starts_with(['C', 'G', 'D'])
        && c.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit());
    if is_id {
        ChannelRef::Id(c.to_string())
    } else {
        ChannelRef::Name(c.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const START: i64 = 1_771_848_000; // 2026-02-23 12:00 UTC

    fn spec(kind: MessageKind, post_at: Option<i64>) -> MessageSpec {
        MessageSpec {
            site: "summit".into(),
            cycle: 44,
            revision: 0,
            kind,
            subject: None,
            channel: "#summit-announce".into(),
            text: "Hello &lt;all&gt; *bold*".into(),
            post_at,
        }
    }

    fn pending(id: &str, s: &MessageSpec, post_at: i64) -> ScheduledMessage {
        ScheduledMessage {
            id: id.into(),
            channel_id: "C1".into(),
            post_at,
            text: s.full_text(),
        }
    }

    fn utc(t: i64) -> String {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    }

    #[test]
    fn decide_follows_the_clock() {
        let s = spec(MessageKind::DayBefore, Some(START));
        assert_eq!(
            decide(START - DAY, &s),
            Decision::Schedule { post_at: START }
        );
        assert_eq!(decide(START, &s), Decision::Missed { post_at: START });
        assert_eq!(decide(START + 1, &s), Decision::Missed { post_at: START });
        assert_eq!(
            decide(START - 120 * DAY, &s),
            Decision::Schedule { post_at: START }
        );
        assert_eq!(
            decide(START - 120 * DAY - 1, &s),
            Decision::Later {
                post_at: START,
                schedulable_from: START - 120 * DAY
            }
        );
        assert_eq!(
            decide(START, &spec(MessageKind::PrReady, None)),
            Decision::PostNow
        );
    }

    #[test]
    fn kinds_are_named_as_in_the_plan() {
        for name in ["day_before", "hour_before", "start", "pr_ready"] {
            assert_eq!(
                MessageKind::from_name(name).map(MessageKind::as_str),
                Some(name)
            );
        }
        assert_eq!(MessageKind::from_name("later"), None);
    }

    #[test]
    fn the_marker_names_site_tag_and_kind_and_ends_the_text() {
        let mut s = spec(MessageKind::HourBefore, Some(START));
        s.revision = 3;
        assert_eq!(s.marker(), "_cycle · summit · c0044.003 · hour before_");
        assert_eq!(
            s.full_text(),
            "Hello &lt;all&gt; *bold*\n_cycle · summit · c0044.003 · hour before_"
        );
        assert!(s.has_marker(&s.full_text()));
        assert!(s.has_marker(&format!("{}\n\n", s.full_text())));
        let mut other = s.clone();
        other.kind = MessageKind::Start;
        assert!(!other.has_marker(&s.full_text()));
        other = s.clone();
        other.revision = 0;
        assert!(!other.has_marker(&s.full_text()));
        other = s.clone();
        other.site = "bts".into();
        assert!(!other.has_marker(&s.full_text()));
        // The marker in the middle of a text is not a marker.
        assert!(!s.has_marker(&format!("{}\nmore", s.marker())));
    }

    #[test]
    fn posted_messages_are_ours_by_metadata_or_marker() {
        let s = spec(MessageKind::PrReady, None);
        let by_metadata = PostedMessage {
            ts: "1.0".into(),
            text: "edited by hand".into(),
            metadata: Some(s.metadata()),
        };
        assert!(s.is_posted_as(&by_metadata));
        let by_marker = PostedMessage {
            ts: "1.0".into(),
            text: s.full_text(),
            metadata: None,
        };
        assert!(s.is_posted_as(&by_marker));
        let mut other = s.clone();
        other.cycle = 45;
        assert!(!other.is_posted_as(&by_metadata));
        assert!(!other.is_posted_as(&by_marker));
    }

    #[test]
    fn plan_schedules_keeps_or_reschedules() {
        let s = spec(MessageKind::DayBefore, Some(START));
        let d = Decision::Schedule { post_at: START };
        assert_eq!(
            plan(d, &s, &Observed::default()),
            Plan::Schedule { post_at: START }
        );
        let same = Observed {
            scheduled: vec![pending("Q1", &s, START)],
            posted: None,
        };
        assert_eq!(
            plan(d, &s, &same),
            Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: "Q1".into(),
                    post_at: START
                },
                remove: vec![]
            }
        );
        let moved = Observed {
            scheduled: vec![pending("Q1", &s, START - DAY)],
            posted: None,
        };
        let Plan::Reschedule { remove, change, .. } = plan(d, &s, &moved) else {
            panic!("not rescheduled")
        };
        assert_eq!(remove.len(), 1);
        assert!(change.time_moved() && !change.text_changed);
        let mut reworded = pending("Q1", &s, START);
        reworded.text = format!("Old words\n{}", s.marker());
        let dup = Observed {
            scheduled: vec![reworded.clone(), pending("Q2", &s, START)],
            posted: None,
        };
        assert_eq!(
            plan(d, &s, &dup),
            Plan::Keep {
                existing: Existing::Scheduled {
                    scheduled_id: "Q2".into(),
                    post_at: START
                },
                remove: vec![reworded]
            }
        );
    }

    #[test]
    fn plan_never_posts_late_and_keeps_what_was_delivered() {
        let s = spec(MessageKind::HourBefore, Some(START));
        let d = Decision::Missed { post_at: START };
        let stale = pending("Q9", &s, START + DAY);
        assert_eq!(
            plan(
                d,
                &s,
                &Observed {
                    scheduled: vec![stale.clone()],
                    posted: None
                }
            ),
            Plan::Missed {
                post_at: START,
                remove: vec![stale]
            }
        );
        let delivered = PostedMessage {
            ts: format!("{START}.000100"),
            text: s.full_text(),
            metadata: None,
        };
        assert_eq!(
            plan(
                d,
                &s,
                &Observed {
                    scheduled: vec![],
                    posted: Some(delivered.clone())
                }
            ),
            Plan::Keep {
                existing: Existing::Posted {
                    ts: delivered.ts.clone()
                },
                remove: vec![]
            }
        );
        let mut reworded = s.clone();
        reworded.text = "New words".into();
        assert_eq!(
            plan(
                d,
                &reworded,
                &Observed {
                    scheduled: vec![],
                    posted: Some(delivered.clone())
                }
            ),
            Plan::Update { ts: delivered.ts }
        );
    }

    #[test]
    fn describe_says_what_a_dry_run_would_do() {
        let s = spec(MessageKind::DayBefore, Some(START));
        let fmt = |t: i64| utc(t);
        assert_eq!(
            describe(&Plan::Schedule { post_at: START }, &s, &fmt),
            "would schedule day_before in #summit-announce at 2026-02-23 12:00"
        );
        let change = Change {
            old_post_at: START - DAY,
            new_post_at: START,
            text_changed: false,
        };
        assert_eq!(
            describe(
                &Plan::Reschedule {
                    remove: vec![],
                    post_at: START,
                    change
                },
                &s,
                &fmt
            ),
            "would reschedule day_before in #summit-announce: time moved from 2026-02-22 12:00 to 2026-02-23 12:00"
        );
        assert_eq!(
            describe(
                &Plan::Keep {
                    existing: Existing::Scheduled {
                        scheduled_id: "Q1".into(),
                        post_at: START
                    },
                    remove: vec![]
                },
                &s,
                &fmt
            ),
            "day_before scheduled (id Q1) in #summit-announce at 2026-02-23 12:00, unchanged"
        );
        let later = describe(
            &Plan::Later {
                post_at: START,
                schedulable_from: START - 120 * DAY,
                remove: vec![],
            },
            &s,
            &fmt,
        );
        assert!(
            later.starts_with("would schedule later (within 120 days of the time):"),
            "{later}"
        );
    }

    #[test]
    fn error_codes_say_what_to_do() {
        let ch = || Some("#summit-announce".to_string());
        let msg = |code: &str, body: Value| {
            api_error("chat.scheduleMessage", code, &body, ch(), Some(START)).to_string()
        };
        assert!(msg("not_in_channel", json!({})).contains("/invite @bot in #summit-announce"));
        assert!(msg("channel_not_found", json!({})).contains("slack.channel"));
        for code in ["invalid_auth", "not_authed", "token_revoked"] {
            let m = msg(code, json!({}));
            assert!(m.contains("SLACK_BOT_TOKEN") && m.contains(code), "{m}");
        }
        assert!(msg("time_in_past", json!({})).contains("2026-02-23 12:00 UTC"));
        assert!(msg("time_too_far", json!({})).contains("120 days"));
        assert!(msg("ratelimited", json!({})).contains("wait a minute"));
        assert!(
            msg("missing_scope", json!({"needed": "chat:write"}))
                .contains("lacks a scope chat.scheduleMessage needs (chat:write)")
        );
        assert_eq!(
            msg(
                "invalid_arguments",
                json!({"response_metadata": {"messages": ["[ERROR] missing required field: channel"]}})
            ),
            "Slack chat.scheduleMessage failed: invalid_arguments: [ERROR] missing required field: channel"
        );
    }

    #[test]
    fn channel_references_and_api_urls() {
        assert_eq!(
            channel_ref("#summit-announce"),
            ChannelRef::Name("summit-announce".into())
        );
        assert_eq!(channel_ref("ts-build"), ChannelRef::Name("ts-build".into()));
        assert_eq!(channel_ref("C0123ABCD"), ChannelRef::Id("C0123ABCD".into()));
        assert_eq!(
            parse_api_url("https://slack.com/api").unwrap().as_str(),
            "https://slack.com/api/"
        );
        assert!(parse_api_url("https://u:p@slack.com/api").is_err());
        assert!(parse_api_url("ftp://slack.com/api").is_err());
        assert!(same_text("a  \nb\n", "a\nb"));
        assert!(!same_text("a\nb", "a\nc"));
        assert_eq!(ts_seconds("1503435956.000247"), Some(1_503_435_956));
    }

    #[test]
    fn outcomes_give_the_journal_a_reference() {
        let o = MessageOutcome::Rescheduled {
            channel_id: "C1".into(),
            removed: vec!["Q1".into()],
            scheduled_id: "Q2".into(),
            change: Change {
                old_post_at: 1,
                new_post_at: 2,
                text_changed: false,
            },
        };
        assert_eq!(
            o.message_ref(),
            Some(MessageRef {
                channel_id: "C1".into(),
                scheduled_id: Some("Q2".into()),
                ts: None,
                post_at: Some(2)
            })
        );
        let later = MessageOutcome::Later {
            channel_id: "C1".into(),
            post_at: 2,
            schedulable_from: 1,
            removed: vec![],
        };
        assert!(later.is_pending() && later.message_ref().is_none());
    }
}
