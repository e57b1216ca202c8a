//! Slack's checks: the token (`auth.test`), then every channel the
//! message steps post to: it resolves, it is not archived, and the bot is a
//! member (`conversations.info`'s `is_member`), else the fix is to invite
//! the bot.

use std::collections::{BTreeMap, BTreeSet};

use super::{Credentials, Finding, Service, Status};
use crate::engine::messages::Messages;
use crate::services::slack::{AuthInfo, ChannelInfo, SlackApi, SlackError};

/// What to set when Slack is not configured or refuses the token.
const CREDENTIALS_FIX: &str = "set SLACK_BOT_TOKEN to the bot user OAuth token (xoxb-…) of the Slack app installed in the workspace";
/// The credentials the checks need first.
const CREDENTIALS: Credentials = Credentials {
    service: Service::Slack,
    fix: CREDENTIALS_FIX,
};

/// What became of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// Resolved and described.
    Info(ChannelInfo),
    /// No such channel visible to the bot.
    NotFound,
    /// Another error, as text.
    Error(String),
}

/// What Slack answered, for [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `auth.test`.
    pub auth: Result<AuthInfo, String>,
    /// Channel as configured → what became of it.
    pub channels: BTreeMap<String, Channel>,
}

/// Checks the token and the channels of `needs` ((site, channel) pairs).
pub async fn check(
    messages: &Messages,
    needs: &[(String, String)],
    missing: Status,
) -> Vec<Finding> {
    let api = match CREDENTIALS.client(!needs.is_empty(), || messages.api(), missing) {
        Ok(client) => client,
        Err(findings) => return findings,
    };
    evaluate(&gather(api.as_ref(), needs).await, needs)
}

/// Reads `auth.test`, then each channel once, concurrently.
pub async fn gather(api: &dyn SlackApi, needs: &[(String, String)]) -> Facts {
    let auth = api.auth_test().await.map_err(|e| e.to_string());
    let mut facts = Facts {
        auth,
        channels: BTreeMap::new(),
    };
    if facts.auth.is_err() {
        return facts;
    }
    let channels: BTreeSet<&str> = needs.iter().map(|(_, c)| c.as_str()).collect();
    let found = futures::future::join_all(channels.into_iter().map(|channel| async move {
        let state = match api.channel_id(channel).await {
            Ok(id) => match api.channel_info(&id).await {
                Ok(info) => Channel::Info(info),
                Err(SlackError::ChannelNotFound { .. }) => Channel::NotFound,
                Err(e) => Channel::Error(e.to_string()),
            },
            Err(SlackError::ChannelNotFound { .. }) => Channel::NotFound,
            Err(e) => Channel::Error(e.to_string()),
        };
        (channel.to_string(), state)
    }))
    .await;
    facts.channels = found.into_iter().collect();
    facts
}

/// `#name` for a channel written `#name`, `name` or as an id.
fn shown(channel: &str) -> String {
    let c = channel.trim();
    if c.starts_with('#')
        || c.chars()
            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
    {
        c.to_string()
    } else {
        format!("#{c}")
    }
}

/// Judges the facts (pure).
pub fn evaluate(facts: &Facts, needs: &[(String, String)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let bot = match &facts.auth {
        Ok(auth) => {
            findings.push(Finding::ok(
                Service::Slack,
                None,
                "credentials",
                format!(
                    "bot @{} ({}) in workspace {}",
                    auth.user, auth.user_id, auth.team
                ),
            ));
            if auth.bot_id.is_none() {
                findings.push(Finding::new(
                    Service::Slack,
                    None,
                    "bot token",
                    Status::Warn,
                    format!("@{} is not a bot: the token is a user token", auth.user),
                    Some(CREDENTIALS_FIX.to_string()),
                ));
            }
            format!("@{}", auth.user)
        }
        Err(e) => {
            findings.push(Finding::fail(
                Service::Slack,
                None,
                "credentials",
                e.clone(),
                CREDENTIALS_FIX,
            ));
            return findings;
        }
    };
    for (site, channel) in needs {
        let name = shown(channel);
        let check = format!("channel {name}");
        let site = Some(site.as_str());
        findings.push(match facts.channels.get(channel) {
            Some(Channel::Info(info)) if info.is_archived => Finding::fail(
                Service::Slack,
                site,
                check,
                format!("{name} ({}) is archived", info.id),
                format!("unarchive {name}, or name another channel in the site file (slack:)"),
            ),
            Some(Channel::Info(info)) if !info.is_member => Finding::fail(
                Service::Slack,
                site,
                check,
                format!("the bot {bot} is not a member of {name} ({}): Slack refuses its messages (not_in_channel)", info.id),
                format!("invite {bot} to {name} (type /invite {bot} in the channel)"),
            ),
            Some(Channel::Info(info)) => Finding::ok(
                Service::Slack,
                site,
                check,
                format!("{}; the bot is a member", info.id),
            ),
            Some(Channel::NotFound) => Finding::fail(
                Service::Slack,
                site,
                check,
                format!("no channel {name} is visible to the bot (channel_not_found)"),
                format!(
                    "fix the channel in the site file (slack:), or create {name}; a private channel is visible \
                     only to its members: invite {bot} to it"
                ),
            ),
            Some(Channel::Error(e)) => Finding::fail(
                Service::Slack,
                site,
                check,
                e.clone(),
                "check SLACK_API_URL and the app's scopes, then run again",
            ),
            None => Finding::skipped(Service::Slack, site, check, "not looked up"),
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(is_member: bool) -> Channel {
        Channel::Info(ChannelInfo {
            id: "C0SUMMIT01".into(),
            name: "summit-announce".into(),
            is_member,
            is_archived: false,
        })
    }

    #[test]
    fn a_channel_without_the_bot_names_the_invitation() {
        let needs = [
            ("summit".to_string(), "#summit-announce".to_string()),
            ("summit".to_string(), "#ts-build".to_string()),
        ];
        let facts = Facts {
            auth: Ok(AuthInfo {
                user: "cycle-bot".into(),
                user_id: "U0FAKEBOT1".into(),
                team: "Rubin".into(),
                bot_id: Some("B0FAKEBOT1".into()),
            }),
            channels: [
                ("#summit-announce".to_string(), info(false)),
                ("#ts-build".to_string(), Channel::NotFound),
            ]
            .into(),
        };
        let findings = evaluate(&facts, &needs);
        assert_eq!(findings[0].status, Status::Ok);
        assert_eq!(
            findings[1].fix.as_deref(),
            Some("invite @cycle-bot to #summit-announce (type /invite @cycle-bot in the channel)")
        );
        assert_eq!(findings[2].status, Status::Fail);
        assert!(findings[2].found.contains("channel_not_found"));
        let fine = Facts {
            channels: [("#summit-announce".to_string(), info(true))].into(),
            ..facts
        };
        let findings = evaluate(&fine, &needs[..1]);
        assert!(findings.iter().all(|f| f.status == Status::Ok));
    }
}
