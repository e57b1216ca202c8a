//! The values templates see: cycle names, the site, the release manifest and
//! times already converted to the site's zone. Pure: everything here is
//! computed from loaded data.

use chrono::{Duration, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use minijinja::Value;
use serde::Serialize;

use crate::model::cycle_id::CycleId;
use crate::model::release::{Deployment, LoadedRelease};
use crate::model::site::{LoadedSite, Site, SiteKind};
use crate::model::yamlfile::SourceError;

/// A moment as the people of a site read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct When {
    /// RFC 3339 with the site's offset, e.g. `2026-02-24T09:00:00-03:00`.
    pub iso: String,
    /// Seconds since the epoch (for scheduling).
    pub unix: i64,
    /// Weekday, e.g. `Tuesday`.
    pub weekday: String,
    /// Date, e.g. `24 February 2026`.
    pub date: String,
    /// Local clock time, e.g. `09:00`.
    pub time: String,
    /// Zone abbreviation, e.g. `CLST`, `MST`.
    pub zone: String,
}

/// Converts a site-local time to a [`When`]; times that do not exist or are
/// ambiguous in the zone (DST changes) are refused.
pub fn when(site: &LoadedSite, local: NaiveDateTime) -> Result<When, String> {
    let tz: Tz = site.tz;
    let at = match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(at) => at,
        chrono::LocalResult::Ambiguous(..) => {
            return Err(format!(
                "{local} is ambiguous in {} (a clock change); pick another time",
                site.site.time_zone
            ));
        }
        chrono::LocalResult::None => {
            return Err(format!(
                "{local} does not exist in {} (a clock change); pick another time",
                site.site.time_zone
            ));
        }
    };
    Ok(When {
        iso: at.to_rfc3339(),
        unix: at.timestamp(),
        weekday: at.format("%A").to_string(),
        date: at.format("%-d %B %Y").to_string(),
        time: at.format("%H:%M").to_string(),
        zone: site.site.zone_name(&at.format("%Z").to_string()),
    })
}

/// The context of edit values: cycle names and the site.
pub fn value_context(id: CycleId, site: &Site) -> Value {
    build_context(id, &[], site)
}

/// The context of edit values and commit messages for a build: cycle
/// names, the site and, for a revision, `restarted_components` as written
/// in the release manifest.
pub fn build_context(id: CycleId, restarted: &[String], site: &Site) -> Value {
    Value::from_serialize(ValueContext::new(id, restarted, site))
}

/// The site fields templates see: the site as written, plus `production`.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView<'a> {
    #[serde(flatten)]
    site: &'a Site,
    production: bool,
}

#[derive(Debug, Clone, Serialize)]
struct ValueContext<'a> {
    cycle: u32,
    revision: u32,
    tag: String,
    full_tag: String,
    revision_suffix: String,
    label: String,
    is_revision: bool,
    restarted_components: Vec<String>,
    site: SiteView<'a>,
}

impl<'a> ValueContext<'a> {
    fn new(id: CycleId, restarted: &[String], site: &'a Site) -> Self {
        Self {
            cycle: id.cycle,
            revision: id.revision,
            tag: id.tag(),
            full_tag: id.full_tag(),
            revision_suffix: id.revision_suffix(),
            label: id.label(),
            is_revision: id.is_revision(),
            restarted_components: restarted.to_vec(),
            site: SiteView {
                site,
                production: site.kind == SiteKind::Production,
            },
        }
    }
}

/// A site's deployment window in its own zone.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentTimes {
    /// Start of the deployment.
    pub start: When,
    /// Same clock time, the calendar day before (first announcement).
    pub day_before: When,
    /// One hour before the start (reminder).
    pub hour_before: When,
    /// Test stands: when systems must be ready for integration testing.
    pub ready_by: Option<When>,
    /// Test stands: until when integration testing holds the stand.
    pub testing_until: Option<When>,
    /// Test stands: the ScriptQueue used for testing.
    pub testing_queue: Option<String>,
}

/// Computes a site's deployment times from the manifest; errors point at the manifest.
pub fn deployment_times(
    site: &LoadedSite,
    release: &LoadedRelease,
) -> Result<DeploymentTimes, SourceError> {
    let name = &site.site.name;
    let d: &Deployment = release.deployment(name)?;
    let at = |field: &str, local: NaiveDateTime| {
        when(site, local).map_err(|e| {
            release
                .source
                .error_at(&format!("deployments.{name}.{field}"), e)
        })
    };
    let it = d.integration_testing.as_ref();
    if site.site.kind == SiteKind::TestStand && it.is_none() {
        return Err(release.source.error_at(
            &format!("deployments.{name}"),
            "missing field `integration_testing` (test stands announce the testing window)",
        ));
    }
    Ok(DeploymentTimes {
        start: at("start", d.start)?,
        day_before: at("start", d.start - Duration::days(1))?,
        hour_before: at("start", d.start - Duration::hours(1))?,
        ready_by: it
            .map(|i| at("integration_testing.ready_by", i.ready_by))
            .transpose()?,
        testing_until: it
            .map(|i| at("integration_testing.until", i.until))
            .transpose()?,
        testing_queue: d.testing_queue.clone(),
    })
}

/// A site's deployment window (start, end) in its zone, for the calendar
/// ticket: the manifest's `end`, else `hours` after the start.
pub fn deployment_window(
    site: &LoadedSite,
    release: &LoadedRelease,
    hours: u32,
) -> Result<(When, When), SourceError> {
    let name = &site.site.name;
    let d: &Deployment = release.deployment(name)?;
    let at = |field: &str, local: NaiveDateTime| {
        when(site, local).map_err(|e| {
            release
                .source
                .error_at(&format!("deployments.{name}.{field}"), e)
        })
    };
    let end = d.end.unwrap_or(d.start + Duration::hours(i64::from(hours)));
    Ok((at("start", d.start)?, at("end", end)?))
}

/// One row of the Confluence page's configuration-ticket table.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    /// Site heading name.
    pub display_name: String,
    /// Ticket key when known.
    pub ticket: Option<String>,
    /// Local start of the deployment, when the manifest has one.
    pub start: Option<When>,
}

/// The page's rows for every site: its ticket when known, its start when the
/// manifest has one.
pub fn site_rows(
    all_sites: &[LoadedSite],
    release: &LoadedRelease,
    tickets: &std::collections::BTreeMap<String, String>,
) -> Vec<SiteRow> {
    all_sites
        .iter()
        .map(|s| SiteRow {
            display_name: s.site.display_name.clone(),
            ticket: tickets.get(&s.site.name).cloned(),
            start: deployment_times(s, release).ok().map(|t| t.start),
        })
        .collect()
}

/// Everything the message and page templates of one site can use.
#[derive(Debug, Clone, Serialize)]
pub struct SiteContext<'a> {
    #[serde(flatten)]
    names: ValueContext<'a>,
    /// The site's configuration ticket key, when known.
    pub ticket: Option<String>,
    /// The manifest.
    pub release: &'a crate::model::release::Release,
    /// Core package versions in page order.
    pub versions: Vec<(String, String)>,
    /// The site's deployment window.
    pub deployment: DeploymentTimes,
    /// All sites, for the page's ticket table.
    pub sites: Vec<SiteRow>,
    /// Title of the cycle's Confluence page.
    pub page_title: Option<String>,
}

impl<'a> SiteContext<'a> {
    /// Builds the context of `site` for `release`.
    pub fn new(
        site: &'a LoadedSite,
        release: &'a LoadedRelease,
        ticket: Option<String>,
        sites: Vec<SiteRow>,
    ) -> Result<Self, SourceError> {
        Ok(Self {
            names: ValueContext::new(
                release.id,
                &release.release.restarted_components,
                &site.site,
            ),
            ticket,
            release: &release.release,
            versions: version_rows(release),
            deployment: deployment_times(site, release)?,
            sites,
            page_title: None,
        })
    }

    /// Adds the page title once it is rendered.
    pub fn with_page_title(mut self, title: String) -> Self {
        self.page_title = Some(title);
        self
    }

    /// The context as a template value.
    pub fn to_value(&self) -> Value {
        Value::from_serialize(self)
    }
}

/// The version table of the Confluence page, in the page's order.
pub fn version_rows(release: &LoadedRelease) -> Vec<(String, String)> {
    let v = &release.release.versions;
    let mut rows: Vec<(String, String)> = [
        ("librdkafka", &v.librdkafka),
        ("python-confluent-kafka", &v.python_confluent_kafka),
        ("strimzi", &v.strimzi),
        ("kafka", &v.kafka),
        ("schema-registry", &v.schema_registry),
        ("ts_sal_utils RPM", &v.ts_sal_utils),
        ("ts_xml", &v.ts_xml),
        ("ts_sal", &v.ts_sal),
        ("CSC RPMs", &v.csc_rpms),
        ("CSC JARs", &v.csc_jars),
        ("ts_salobj", &v.ts_salobj),
        ("ts_idl", &v.ts_idl),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect();
    rows.extend(v.other.iter().map(|o| (o.name.clone(), o.version.clone())));
    rows.push(("Cycle tag".to_string(), release.id.tag()));
    rows
}
