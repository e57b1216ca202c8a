//! Slack's answers and parameters: message metadata, scheduled and posted
//! messages, history ranges, `auth.test`, channel info and channel references.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Slack message metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Event type, [`EVENT_TYPE`](super::EVENT_TYPE) for ours.
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
