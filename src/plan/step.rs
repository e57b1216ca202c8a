//! Typed step identities: what kind of side effect a step has, and which
//! site, repository or message it belongs to.
//!
//! A [`StepId`] is the key of a step everywhere: in dependencies, the
//! journal, `cycle status`, `cycle mark` and the JSON plan. Its text form is
//! `SITE:KIND[:DETAIL]` (`summit:jira`, `summit:config:lsst-sqre/phalanx`,
//! `summit:slack:day_before`, `summit:slack:page_ready`) or `cycle:confluence` for what all sites of a
//! cycle share; [`StepId::from_str`] parses it back.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a step does: one kind of side effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The site's configuration ticket (Jira).
    Ticket,
    /// The summit calendar ticket (Jira).
    Calendar,
    /// A configuration branch in one repository (git).
    Config,
    /// A human step, tracked only.
    Manual,
    /// The cycle's Confluence page (one per cycle).
    Page,
    /// One Slack announcement.
    Message,
    /// A pull request of one configuration branch (GitHub).
    PullRequest,
    /// The "PR ready for review" notice of one pull request (Slack).
    ReviewNotice,
    /// The announcement of the cycle's page once the build is done (Slack).
    PageNotice,
    /// A reminder of the XML work-closure deadline (Slack).
    Reminder,
    /// An announcement the release manifest puts on the schedule (Slack).
    Scheduled,
    /// The XML release's Jira version in CAP.
    CapVersion,
    /// The XML release's catch-all story in CAP.
    CapStory,
    /// The current release's bucket links moved to the new story.
    CapLinks,
    /// A revert: the reverted cycle's pending announcements of a site
    /// deleted (Slack).
    Unschedule,
    /// A revert: the notice that a site went back to an earlier cycle
    /// (Slack).
    RevertNotice,
    /// A revert: its line on the reverted cycle's Confluence page.
    PageLine,
}

/// The groups `--only` and `--skip` select by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Selector {
    /// Configuration tickets.
    Jira,
    /// The summit calendar ticket.
    Calendar,
    /// Configuration branches.
    Config,
    /// The Confluence page.
    Confluence,
    /// Slack announcements.
    Slack,
    /// Pull requests and their review notices.
    Pr,
}

impl Selector {
    /// The `--only`/`--skip` spelling of the group.
    pub fn name(self) -> &'static str {
        match self {
            Selector::Jira => "jira",
            Selector::Calendar => "calendar",
            Selector::Config => "config",
            Selector::Confluence => "confluence",
            Selector::Slack => "slack",
            Selector::Pr => "pr",
        }
    }
}

impl StepKind {
    /// Whether steps of the kind are done by people, tracked only and
    /// recorded with `cycle mark` (never applied).
    pub fn is_human(self) -> bool {
        self == StepKind::Manual
    }

    /// The `--only`/`--skip` group of the kind; `None` for manual steps,
    /// which are never applied.
    pub fn selector(self) -> Option<Selector> {
        match self {
            StepKind::Ticket => Some(Selector::Jira),
            StepKind::Calendar => Some(Selector::Calendar),
            StepKind::Config => Some(Selector::Config),
            StepKind::Manual => None,
            StepKind::Page => Some(Selector::Confluence),
            StepKind::Message => Some(Selector::Slack),
            StepKind::PullRequest | StepKind::ReviewNotice => Some(Selector::Pr),
            StepKind::PageNotice => Some(Selector::Confluence),
            StepKind::Reminder | StepKind::Scheduled => Some(Selector::Slack),
            StepKind::CapVersion | StepKind::CapStory | StepKind::CapLinks => Some(Selector::Jira),
            StepKind::Unschedule | StepKind::RevertNotice => Some(Selector::Slack),
            StepKind::PageLine => Some(Selector::Confluence),
        }
    }
}

/// Which Slack announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The calendar day before, at the start time.
    DayBefore,
    /// One hour before the start.
    HourBefore,
    /// As the deployment starts.
    Start,
    /// The cycle's Confluence page is ready: posted once all base artifacts
    /// are built (checklist 4.1, after `cycle mark … build-team done`).
    PageReady,
    /// The calendar day before the XML work closure.
    ClosureDayBefore,
    /// The day of the XML work closure.
    ClosureDayOf,
    /// A site went back to an earlier cycle (`cycle revert`), posted when
    /// the step runs.
    RevertNotice,
}

impl MessageKind {
    /// Every kind, in posting order.
    pub const ALL: [MessageKind; 7] = [
        MessageKind::ClosureDayBefore,
        MessageKind::ClosureDayOf,
        MessageKind::PageReady,
        MessageKind::DayBefore,
        MessageKind::HourBefore,
        MessageKind::Start,
        MessageKind::RevertNotice,
    ];

    /// The name in ids and templates (`day_before`).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::DayBefore => "day_before",
            MessageKind::HourBefore => "hour_before",
            MessageKind::Start => "start",
            MessageKind::PageReady => "page_ready",
            MessageKind::ClosureDayBefore => "closure_day_before",
            MessageKind::ClosureDayOf => "closure_day_of",
            MessageKind::RevertNotice => "revert_notice",
        }
    }
}

/// A human step of the checklist, recorded with `cycle mark`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManualStep {
    /// Work with the build team during the build (checklist 3).
    BuildTeam,
    /// Sync nublado images on deployment day.
    NubladoSync,
}

impl ManualStep {
    /// Every manual step.
    pub const ALL: [ManualStep; 2] = [ManualStep::BuildTeam, ManualStep::NubladoSync];

    /// The name in ids (`build-team`).
    pub fn as_str(self) -> &'static str {
        match self {
            ManualStep::BuildTeam => "build-team",
            ManualStep::NubladoSync => "nublado-sync",
        }
    }
}

/// The identity of one step.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepId {
    /// A site's configuration ticket.
    Ticket {
        /// Site name.
        site: String,
    },
    /// A site's calendar ticket.
    Calendar {
        /// Site name.
        site: String,
    },
    /// A site's configuration branch in one repository.
    Config {
        /// Site name.
        site: String,
        /// Repository `owner/name`.
        repo: String,
    },
    /// A human step of a site.
    Manual {
        /// Site name.
        site: String,
        /// Which one.
        step: ManualStep,
    },
    /// The cycle's Confluence page.
    Page,
    /// One announcement of a site.
    Message {
        /// Site name.
        site: String,
        /// Which one.
        kind: MessageKind,
    },
    /// A site's pull request in one repository.
    PullRequest {
        /// Site name.
        site: String,
        /// Repository `owner/name`.
        repo: String,
    },
    /// The review notice of a site's pull request.
    ReviewNotice {
        /// Site name.
        site: String,
        /// Repository `owner/name`.
        repo: String,
    },
    /// The XML release's Jira version.
    CapVersion,
    /// The XML release's catch-all story.
    CapStory,
    /// The bucket links moved to the catch-all story.
    CapLinks,
    /// An announcement the release manifest schedules for a site.
    Scheduled {
        /// Site name.
        site: String,
        /// Its name in the manifest (`broker_rollout`).
        name: String,
    },
    /// A revert: the reverted cycle's pending announcements of a site.
    Unschedule {
        /// Site name.
        site: String,
    },
    /// A revert: its line on the reverted cycle's page.
    PageLine {
        /// Site name.
        site: String,
    },
}

impl StepId {
    /// The kind of side effect.
    pub fn kind(&self) -> StepKind {
        match self {
            StepId::Ticket { .. } => StepKind::Ticket,
            StepId::Calendar { .. } => StepKind::Calendar,
            StepId::Config { .. } => StepKind::Config,
            StepId::Manual { .. } => StepKind::Manual,
            StepId::Page => StepKind::Page,
            StepId::Message {
                kind: MessageKind::PageReady,
                ..
            } => StepKind::PageNotice,
            StepId::Message {
                kind: MessageKind::ClosureDayBefore | MessageKind::ClosureDayOf,
                ..
            } => StepKind::Reminder,
            StepId::Message {
                kind: MessageKind::RevertNotice,
                ..
            } => StepKind::RevertNotice,
            StepId::Message { .. } => StepKind::Message,
            StepId::PullRequest { .. } => StepKind::PullRequest,
            StepId::ReviewNotice { .. } => StepKind::ReviewNotice,
            StepId::Scheduled { .. } => StepKind::Scheduled,
            StepId::CapVersion => StepKind::CapVersion,
            StepId::CapStory => StepKind::CapStory,
            StepId::CapLinks => StepKind::CapLinks,
            StepId::Unschedule { .. } => StepKind::Unschedule,
            StepId::PageLine { .. } => StepKind::PageLine,
        }
    }

    /// The site the step belongs to; `None` for cycle-level steps.
    pub fn site(&self) -> Option<&str> {
        match self {
            StepId::Ticket { site }
            | StepId::Calendar { site }
            | StepId::Config { site, .. }
            | StepId::Manual { site, .. }
            | StepId::Message { site, .. }
            | StepId::PullRequest { site, .. }
            | StepId::ReviewNotice { site, .. }
            | StepId::Scheduled { site, .. }
            | StepId::Unschedule { site }
            | StepId::PageLine { site } => Some(site),
            StepId::Page | StepId::CapVersion | StepId::CapStory | StepId::CapLinks => None,
        }
    }

    /// The id without its site (`config:lsst-sqre/phalanx`), for display
    /// under a site heading.
    pub fn local(&self) -> String {
        let text = self.to_string();
        match text.split_once(':') {
            Some((_, rest)) if self.site().is_some() => rest.to_string(),
            _ => text,
        }
    }
}

/// The site part of cycle-level step ids.
pub const CYCLE_SCOPE: &str = "cycle";

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepId::Ticket { site } => write!(f, "{site}:jira"),
            StepId::Calendar { site } => write!(f, "{site}:calendar"),
            StepId::Config { site, repo } => write!(f, "{site}:config:{repo}"),
            StepId::Manual { site, step } => write!(f, "{site}:{}", step.as_str()),
            StepId::Page => write!(f, "{CYCLE_SCOPE}:confluence"),
            StepId::Message { site, kind } => write!(f, "{site}:slack:{}", kind.as_str()),
            StepId::PullRequest { site, repo } => write!(f, "{site}:pr:{repo}"),
            StepId::ReviewNotice { site, repo } => write!(f, "{site}:review-notice:{repo}"),
            StepId::Scheduled { site, name } => write!(f, "{site}:announce:{name}"),
            StepId::CapVersion => write!(f, "{CYCLE_SCOPE}:cap-version"),
            StepId::CapStory => write!(f, "{CYCLE_SCOPE}:cap-story"),
            StepId::CapLinks => write!(f, "{CYCLE_SCOPE}:cap-links"),
            StepId::Unschedule { site } => write!(f, "{site}:unschedule"),
            StepId::PageLine { site } => write!(f, "{site}:confluence-line"),
        }
    }
}

/// Why a step id did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a step id (e.g. summit:jira, summit:config:lsst-sqre/phalanx, summit:build-team, cycle:confluence)"
)]
pub struct StepIdError(pub String);

impl FromStr for StepId {
    type Err = StepIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = || StepIdError(text.to_string());
        let (site, rest) = text.split_once(':').ok_or_else(err)?;
        if site.is_empty() {
            return Err(err());
        }
        let site = site.to_string();
        let (kind, detail) = match rest.split_once(':') {
            Some((k, d)) if !d.is_empty() => (k, Some(d.to_string())),
            Some(_) => return Err(err()),
            None => (rest, None),
        };
        let manual = ManualStep::ALL.iter().find(|m| m.as_str() == kind);
        let message = |d: &str| MessageKind::ALL.into_iter().find(|m| m.as_str() == d);
        Ok(match (kind, detail) {
            ("confluence", None) if site == CYCLE_SCOPE => StepId::Page,
            ("cap-version", None) if site == CYCLE_SCOPE => StepId::CapVersion,
            ("cap-story", None) if site == CYCLE_SCOPE => StepId::CapStory,
            ("cap-links", None) if site == CYCLE_SCOPE => StepId::CapLinks,
            (_, _) if site == CYCLE_SCOPE => return Err(err()),
            ("jira", None) => StepId::Ticket { site },
            ("calendar", None) => StepId::Calendar { site },
            ("unschedule", None) => StepId::Unschedule { site },
            ("confluence-line", None) => StepId::PageLine { site },
            ("config", Some(repo)) => StepId::Config { site, repo },
            ("slack", Some(d)) => StepId::Message {
                site,
                kind: message(&d).ok_or_else(err)?,
            },
            ("pr", Some(repo)) => StepId::PullRequest { site, repo },
            ("review-notice", Some(repo)) => StepId::ReviewNotice { site, repo },
            ("announce", Some(name)) => StepId::Scheduled { site, name },
            (_, None) if manual.is_some() => StepId::Manual {
                site,
                step: *manual.ok_or_else(err)?,
            },
            _ => return Err(err()),
        })
    }
}

impl Serialize for StepId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let ids = [
            StepId::Ticket {
                site: "summit".into(),
            },
            StepId::Calendar {
                site: "summit".into(),
            },
            StepId::Config {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into(),
            },
            StepId::Manual {
                site: "tts".into(),
                step: ManualStep::BuildTeam,
            },
            StepId::Page,
            StepId::Message {
                site: "bts".into(),
                kind: MessageKind::HourBefore,
            },
            StepId::Message {
                site: "summit".into(),
                kind: MessageKind::PageReady,
            },
            StepId::PullRequest {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into(),
            },
            StepId::ReviewNotice {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into(),
            },
            StepId::Scheduled {
                site: "bts".into(),
                name: "broker_rollout".into(),
            },
            StepId::CapVersion,
            StepId::CapStory,
            StepId::CapLinks,
            StepId::Unschedule { site: "bts".into() },
            StepId::PageLine { site: "bts".into() },
            StepId::Message {
                site: "bts".into(),
                kind: MessageKind::RevertNotice,
            },
        ];
        for id in ids {
            let text = id.to_string();
            assert_eq!(text.parse::<StepId>(), Ok(id.clone()), "{text}");
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(serde_json::from_str::<StepId>(&json).unwrap(), id);
        }
        assert_eq!(
            StepId::Config {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into()
            }
            .local(),
            "config:lsst-sqre/phalanx"
        );
    }

    #[test]
    fn repositories_with_a_common_suffix_are_different_ids() {
        let a: StepId = "summit:config:a/phalanx".parse().unwrap();
        let b: StepId = "summit:config:ba/phalanx".parse().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn malformed_ids_are_refused() {
        for text in [
            "",
            "summit",
            ":jira",
            "summit:",
            "summit:config",
            "summit:config:",
            "summit:slack:tomorrow",
            "summit:deploy",
            "cycle:jira",
            "summit:confluence",
        ] {
            assert!(text.parse::<StepId>().is_err(), "{text}");
        }
    }
}
