//! The release manifest: what a cycle (or one of its revisions) ships and when.
//!
//! One YAML file per cycle revision (`releases/c0044.000.yaml`): core package
//! versions for the Confluence page, the build and deployment schedule, each
//! site's deployment window in the site's local time, operational changes,
//! new CSCs, and for revisions the components restarted.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::cycle_id::CycleId;
use crate::model::yamlfile::{SourceError, YamlSource};

/// A release manifest as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// The cycle number (positive).
    pub cycle: u32,
    /// The revision, 0 for a full cycle.
    #[serde(default)]
    pub revision: u32,
    /// Date the version list is valid as of.
    pub valid_as_of: NaiveDate,
    /// Core package versions.
    pub versions: Versions,
    /// Build schedule.
    pub schedule: Schedule,
    /// Deployment window per site name.
    pub deployments: BTreeMap<String, Deployment>,
    /// Operational changes people must know about.
    #[serde(default)]
    pub operational_changes: Vec<String>,
    /// CSCs or applications new in this cycle.
    #[serde(default)]
    pub new_cscs: Vec<NewCsc>,
    /// For revisions: the components restarted.
    #[serde(default)]
    pub restarted_components: Vec<String>,
    /// Announcements of a template put on the schedule for a site at a
    /// time (e.g. a Kafka broker rollout).
    #[serde(default)]
    pub announcements: Vec<ScheduledAnnouncement>,
    /// The XML release's Jira version and its catch-all story (none when
    /// absent).
    #[serde(default)]
    pub cap_release: Option<CapRelease>,
}

/// The CAP release of the cycle's XML (vanward's `create_cap_release`): a
/// Jira version `ts_xml X.Y.Z` ("for Cycle N", " revision R") and a story
/// "Catch all ticket for OSW work for XML X.Y.Z" with that fix version.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CapRelease {
    /// Project key [default: `CAP`].
    #[serde(default = "CapRelease::default_project")]
    pub project: String,
    /// Issue type of the story [default: `Story`].
    #[serde(default = "CapRelease::default_issue_type")]
    pub issue_type: String,
    /// Component of the story [default: `None`, a component of that name].
    #[serde(default = "CapRelease::default_component")]
    pub component: String,
    /// The release manager the story is assigned to (as a site file names
    /// a person).
    #[serde(default)]
    pub assignee: Option<String>,
    /// For a revision: the current release's catch-all ticket, whose links
    /// move to the new story (vanward's `move_bucket_ticket_links`).
    #[serde(default)]
    pub move_links_from: Option<String>,
    /// The tickets whose links stay on that ticket (kept in the revision).
    #[serde(default)]
    pub keep: Vec<String>,
}

impl CapRelease {
    fn default_project() -> String {
        "CAP".into()
    }

    fn default_issue_type() -> String {
        "Story".into()
    }

    fn default_component() -> String {
        "None".into()
    }
}

/// One announcement on the schedule: a template of `templates/`, posted in
/// a site's channel at a local time, found again and rescheduled like the
/// deployment's.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledAnnouncement {
    /// Its name, lower-case words joined by `_` (`broker_rollout`): its
    /// step is `SITE:announce:NAME`.
    pub name: String,
    /// The site whose channel it goes to.
    pub site: String,
    /// The template, a file of the templates directory
    /// (`broker_rollout.mrkdwn`).
    pub template: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    #[serde(deserialize_with = "local_datetime")]
    pub at: NaiveDateTime,
    /// The channel [default: the site's `slack.channel`].
    #[serde(default)]
    pub channel: Option<String>,
    /// Values the template reads as `values.KEY`.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

impl ScheduledAnnouncement {
    /// Whether `name` is lower-case ASCII words joined by `_`.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name
                .split('_')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
    }
}

/// Versions of the core packages, as listed on the Confluence page. The
/// packages ts_cycle_build's `cycle/cycle.env` records
/// ([`crate::model::cycle_env::PACKAGES`]) may be left out: they are
/// filled from that file, and checked against it when given.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Versions {
    /// librdkafka (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub librdkafka: Option<String>,
    /// python-confluent-kafka (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_confluent_kafka: Option<String>,
    /// Strimzi operator.
    pub strimzi: String,
    /// Kafka.
    pub kafka: String,
    /// Confluent schema registry.
    pub schema_registry: String,
    /// ts_sal_utils RPM.
    pub ts_sal_utils: String,
    /// ts_xml (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts_xml: Option<String>,
    /// ts_sal (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts_sal: Option<String>,
    /// ts_idl (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts_idl: Option<String>,
    /// ts_salobj (optional: filled from ts_cycle_build's `cycle/cycle.env`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ts_salobj: Option<String>,
    /// Version string of the CSC RPMs.
    pub csc_rpms: String,
    /// Version string of the CSC JARs.
    pub csc_jars: String,
    /// Further packages, listed after the core ones.
    #[serde(default)]
    pub other: Vec<NamedVersion>,
}

/// A package name and version.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NamedVersion {
    /// Package name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The cycle's build schedule (dates).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Close of SAL and XML work.
    pub xml_work_closes: NaiveDate,
    /// Artifact build.
    pub artifact_build: NaiveDate,
    /// First day of the container build week.
    pub container_build_week: NaiveDate,
    /// First day of the deploy-and-test week at BTS.
    pub bts_deploy_week: NaiveDate,
}

/// One site's deployment window, in the site's local time.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Local start, `YYYY-MM-DD HH:MM`.
    #[serde(deserialize_with = "local_datetime")]
    pub start: NaiveDateTime,
    /// Local end, for the calendar ticket [default: start plus the site's
    /// calendar hours].
    #[serde(default, deserialize_with = "optional_local_datetime")]
    pub end: Option<NaiveDateTime>,
    /// Test stands: integration testing window.
    #[serde(default)]
    pub integration_testing: Option<IntegrationTesting>,
    /// Test stands, revisions: the ScriptQueue used for testing.
    #[serde(default)]
    pub testing_queue: Option<String>,
}

/// When a test stand must be ready and how long testing holds it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationTesting {
    /// All systems ready for integration testing by (local time).
    #[serde(deserialize_with = "local_datetime")]
    pub ready_by: NaiveDateTime,
    /// The integration-testing team holds the stand until (local time).
    #[serde(deserialize_with = "local_datetime")]
    pub until: NaiveDateTime,
}

/// A CSC or application new in the cycle.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewCsc {
    /// Its name.
    pub name: String,
    /// What it is, for the page.
    #[serde(default)]
    pub description: String,
}

fn local_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse_local_datetime(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "`{text}` is not a local date and time; write YYYY-MM-DD HH:MM"
        ))
    })
}

fn optional_local_datetime<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<NaiveDateTime>, D::Error> {
    local_datetime(d).map(Some)
}

/// Parses `YYYY-MM-DD HH:MM` (or with `T`, with or without seconds).
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(text.trim(), f).ok())
}

/// A validated manifest with its source.
#[derive(Debug, Clone)]
pub struct LoadedRelease {
    /// The manifest.
    pub release: Release,
    /// Cycle and revision.
    pub id: CycleId,
    /// Its source, to locate later errors.
    pub source: YamlSource,
}

impl Versions {
    /// The optional version of a [`crate::model::cycle_env::PACKAGES`]
    /// entry (`ts_xml`, …), by its field name.
    pub fn package_mut(&mut self, package: &str) -> Option<&mut Option<String>> {
        Some(match package {
            "librdkafka" => &mut self.librdkafka,
            "python_confluent_kafka" => &mut self.python_confluent_kafka,
            "ts_xml" => &mut self.ts_xml,
            "ts_sal" => &mut self.ts_sal,
            "ts_idl" => &mut self.ts_idl,
            "ts_salobj" => &mut self.ts_salobj,
            _ => return None,
        })
    }

    /// The versions of the [`crate::model::cycle_env::PACKAGES`] the
    /// manifest gives, by field name.
    pub fn packages(&self) -> BTreeMap<String, String> {
        let mut copy = self.clone();
        crate::model::cycle_env::PACKAGES
            .iter()
            .filter_map(|p| {
                let v = copy.package_mut(p)?.clone()?;
                Some((p.to_string(), v))
            })
            .collect()
    }
}

impl LoadedRelease {
    /// The deployment window of a site, or an error naming the manifest.
    pub fn deployment(&self, site: &str) -> Result<&Deployment, SourceError> {
        self.release.deployments.get(site).ok_or_else(|| {
            self.source.error_at(
                "deployments",
                format!("no entry for site `{site}` (add `deployments.{site}.start`)"),
            )
        })
    }
}

/// Loads and validates a release manifest.
pub fn load(path: &Path) -> Result<LoadedRelease, SourceError> {
    let source = YamlSource::read(path)?;
    let release: Release = source.parse()?;
    crate::model::placeholder::check(&source)?;
    let id = CycleId::new(release.cycle, release.revision).map_err(|e| {
        let field = if release.cycle == 0 || release.cycle > 9999 {
            "cycle"
        } else {
            "revision"
        };
        source.error_at(field, e.to_string())
    })?;
    if id.is_revision() && release.restarted_components.is_empty() {
        return Err(source.error_at(
            "restarted_components",
            "a revision must list the components it restarts",
        ));
    }
    for (site, deployment) in &release.deployments {
        if deployment.end.is_some_and(|end| end <= deployment.start) {
            return Err(source.error_at(&format!("deployments.{site}.end"), "must be after start"));
        }
        if let Some(it) = &deployment.integration_testing
            && it.until <= it.ready_by
        {
            return Err(source.error_at(
                &format!("deployments.{site}.integration_testing.until"),
                "must be after ready_by",
            ));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, a) in release.announcements.iter().enumerate() {
        if !ScheduledAnnouncement::valid_name(&a.name) {
            return Err(source.error_at(
                &format!("announcements.{i}.name"),
                format!(
                    "`{}` is not lower-case words joined by _ (e.g. broker_rollout)",
                    a.name
                ),
            ));
        }
        if !names.insert((a.site.clone(), a.name.clone())) {
            return Err(source.error_at(
                &format!("announcements.{i}.name"),
                format!("site `{}` already has an announcement `{}`", a.site, a.name),
            ));
        }
        if a.template.contains(['/', '\\']) || a.template.starts_with('.') {
            return Err(source.error_at(
                &format!("announcements.{i}.template"),
                format!(
                    "`{}` must name a file of the templates directory",
                    a.template
                ),
            ));
        }
    }
    Ok(LoadedRelease {
        release,
        id,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_datetimes_accept_common_spellings() {
        let want = NaiveDate::from_ymd_opt(2025, 6, 10)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        for text in [
            "2025-06-10 09:00",
            "2025-06-10T09:00",
            "2025-06-10 09:00:00",
        ] {
            assert_eq!(parse_local_datetime(text), Some(want), "{text}");
        }
        assert_eq!(parse_local_datetime("10/06/2025 9am"), None);
    }
}
