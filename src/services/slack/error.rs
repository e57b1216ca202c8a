//! The Slack adapter's errors, the advice for each Slack error code, and which
//! are worth retrying.

use std::time::Duration;

use serde_json::Value;

use crate::services::http::RetryError;

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
pub(super) fn is_transient_code(code: &str) -> bool {
    matches!(
        code,
        "ratelimited"
            | "internal_error"
            | "fatal_error"
            | "service_unavailable"
            | "request_timeout"
    )
}
