//! The values templates see: cycle names, the site, the release manifest and
//! times already converted to the site's zone. Pure: everything here is
//! computed from loaded data.

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone};
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
    resolve(site, local).map(|at| zoned(site, at))
}

/// Places a site-local time in the site's zone, refusing one a clock change
/// skipped or repeated.
fn resolve(site: &LoadedSite, local: NaiveDateTime) -> Result<DateTime<Tz>, String> {
    match site.tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(at) => Ok(at),
        chrono::LocalResult::Ambiguous(..) => Err(format!(
            "{local} is ambiguous in {} (a clock change); pick another time",
            site.site.time_zone
        )),
        chrono::LocalResult::None => Err(format!(
            "{local} does not exist in {} (a clock change); pick another time",
            site.site.time_zone
        )),
    }
}

/// A [`When`] of an instant already placed in the site's zone.
pub fn zoned(site: &LoadedSite, at: DateTime<Tz>) -> When {
    When {
        iso: at.to_rfc3339(),
        unix: at.timestamp(),
        weekday: at.format("%A").to_string(),
        date: at.format("%-d %B %Y").to_string(),
        time: at.format("%H:%M").to_string(),
        zone: site.site.zone_name(&at.format("%Z").to_string()),
    }
}

/// An instant (epoch seconds) as the site reads it, e.g.
/// `2026-02-23 09:00 CLST`: the form dry runs print times in.
pub fn display_time(site: &LoadedSite, unix: i64) -> String {
    match site.tz.timestamp_opt(unix, 0) {
        chrono::LocalResult::Single(at) => format!(
            "{} {}",
            at.format("%Y-%m-%d %H:%M"),
            site.site.zone_name(&at.format("%Z").to_string())
        ),
        _ => format!("{unix} (epoch seconds)"),
    }
}

/// The same clock time one calendar day earlier, placed by
/// [`place_leniently`]. Never an error: the start itself was valid.
fn day_before(tz: Tz, start: DateTime<Tz>) -> DateTime<Tz> {
    place_leniently(tz, start.naive_local() - Duration::days(1))
}

/// A local time placed in `tz` for a message derived from another time
/// (never refused): a clock time a clock change skipped (spring forward)
/// is read with the offset in force before the change, i.e. moved forward
/// by the gap (RFC 5545); one it repeated (fall back) is its first
/// occurrence.
pub fn place_leniently(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(at) => at,
        chrono::LocalResult::Ambiguous(first, _) => first,
        chrono::LocalResult::None => {
            let before = tz
                .offset_from_utc_datetime(&(local - Duration::days(1)))
                .fix();
            tz.from_utc_datetime(&(local - before))
        }
    }
}

/// A deployment's start, the calendar day before at the same clock time, and
/// one hour before (an absolute hour, so a start just after a clock change
/// is accepted and its reminder lands at the right instant).
pub fn announcement_times(
    site: &LoadedSite,
    start: NaiveDateTime,
) -> Result<(When, When, When), String> {
    let start_at = resolve(site, start)?;
    Ok((
        zoned(site, start_at),
        zoned(site, day_before(site.tz, start_at)),
        zoned(site, start_at - Duration::hours(1)),
    ))
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

/// A site-local time of the manifest's `deployments.<site>.<field>`, as a
/// [`When`]; an impossible time is an error located at that field.
fn located_when(
    site: &LoadedSite,
    release: &LoadedRelease,
    field: &str,
    local: NaiveDateTime,
) -> Result<When, SourceError> {
    let name = &site.site.name;
    when(site, local).map_err(|e| {
        release
            .source
            .error_at(&format!("deployments.{name}.{field}"), e)
    })
}

/// Computes a site's deployment times from the manifest; errors point at the manifest.
pub fn deployment_times(
    site: &LoadedSite,
    release: &LoadedRelease,
) -> Result<DeploymentTimes, SourceError> {
    let name = &site.site.name;
    let d: &Deployment = release.deployment(name)?;
    let at = |field: &str, local: NaiveDateTime| located_when(site, release, field, local);
    let it = d.integration_testing.as_ref();
    if site.site.kind == SiteKind::TestStand && it.is_none() {
        return Err(release.source.error_at(
            &format!("deployments.{name}"),
            "missing field `integration_testing` (test stands announce the testing window)",
        ));
    }
    let (start, day_before, hour_before) = announcement_times(site, d.start).map_err(|e| {
        release
            .source
            .error_at(&format!("deployments.{name}.start"), e)
    })?;
    Ok(DeploymentTimes {
        start,
        day_before,
        hour_before,
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
    let at = |field: &str, local: NaiveDateTime| located_when(site, release, field, local);
    let end = d.end.unwrap_or(d.start + Duration::hours(i64::from(hours)));
    Ok((at("start", d.start)?, at("end", end)?))
}

/// A link with its text, e.g. `lsst-sqre/phalanx#123`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// What the reader sees.
    pub text: String,
    /// Where it leads.
    pub url: String,
}

/// One row of the Confluence page's configuration-ticket table.
#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    /// Site name (`summit`).
    pub site: String,
    /// Site heading name.
    pub display_name: String,
    /// Ticket key when known.
    pub ticket: Option<String>,
    /// The ticket's page, `$JIRA_URL/browse/KEY`, when Jira is configured.
    pub ticket_url: Option<String>,
    /// The site's pull requests that exist.
    pub pull_requests: Vec<Link>,
    /// Local start of the deployment, when the manifest has one.
    pub start: Option<When>,
}

/// The page's rows for every site: its ticket when known, its start when the
/// manifest has one (links are added by the planner from what it observed).
pub fn site_rows(
    all_sites: &[LoadedSite],
    release: &LoadedRelease,
    tickets: &std::collections::BTreeMap<String, String>,
) -> Vec<SiteRow> {
    all_sites
        .iter()
        .map(|s| SiteRow {
            site: s.site.name.clone(),
            display_name: s.site.display_name.clone(),
            ticket: tickets.get(&s.site.name).cloned(),
            ticket_url: None,
            pull_requests: vec![],
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

/// The version table of the Confluence page, in the page's order. A
/// package the manifest leaves out (and ts_cycle_build did not fill) has no
/// row.
pub fn version_rows(release: &LoadedRelease) -> Vec<(String, String)> {
    let v = &release.release.versions;
    let some = |s: &String| Some(s.clone());
    let mut rows: Vec<(String, String)> = [
        ("librdkafka", v.librdkafka.clone()),
        ("python-confluent-kafka", v.python_confluent_kafka.clone()),
        ("strimzi", some(&v.strimzi)),
        ("kafka", some(&v.kafka)),
        ("schema-registry", some(&v.schema_registry)),
        ("ts_sal_utils RPM", some(&v.ts_sal_utils)),
        ("ts_xml", v.ts_xml.clone()),
        ("ts_sal", v.ts_sal.clone()),
        ("CSC RPMs", some(&v.csc_rpms)),
        ("CSC JARs", some(&v.csc_jars)),
        ("ts_salobj", v.ts_salobj.clone()),
        ("ts_idl", v.ts_idl.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
    .collect();
    rows.extend(v.other.iter().map(|o| (o.name.clone(), o.version.clone())));
    rows.push(("Cycle tag".to_string(), release.id.tag()));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn site(name: &str) -> LoadedSite {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("sites/{name}.yaml"));
        crate::model::site::load(&path).unwrap()
    }

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn shown(w: &When) -> String {
        format!("{} {} {} ({})", w.date, w.time, w.zone, w.unix)
    }

    #[test]
    fn hour_before_a_start_just_after_spring_forward_is_an_absolute_hour() {
        // Chile springs forward at 2026-09-06 00:00 -04 → 01:00 -03.
        let summit = site("summit");
        let (start, day, hour) = announcement_times(&summit, local("2026-09-06 01:30")).unwrap();
        assert_eq!(shown(&start), "6 September 2026 01:30 CLST (1788669000)");
        assert_eq!(start.iso, "2026-09-06T01:30:00-03:00");
        assert_eq!(hour.unix, start.unix - 3600);
        assert_eq!(shown(&hour), "5 September 2026 23:30 CLT (1788665400)");
        assert_eq!(shown(&day), "5 September 2026 01:30 CLT (1788586200)");
        assert_eq!(display_time(&summit, hour.unix), "2026-09-05 23:30 CLT");
    }

    #[test]
    fn hour_before_a_start_just_after_fall_back_is_an_absolute_hour() {
        // Chile falls back at 2026-04-05 00:00 -03 → 2026-04-04 23:00 -04,
        // so 23:30 on the 4th happens twice; the reminder is the second.
        let summit = site("summit");
        let (start, _, hour) = announcement_times(&summit, local("2026-04-05 00:30")).unwrap();
        assert_eq!(start.iso, "2026-04-05T00:30:00-04:00");
        assert_eq!(hour.unix, start.unix - 3600);
        assert_eq!(hour.iso, "2026-04-04T23:30:00-04:00");
        assert_eq!(hour.zone, "CLT");
        // A start inside the repeated hour itself stays refused.
        let err = announcement_times(&summit, local("2026-04-04 23:10")).unwrap_err();
        assert!(err.contains("is ambiguous in America/Santiago"), "{err}");
    }

    #[test]
    fn a_start_a_clock_change_skipped_is_still_refused() {
        let err = announcement_times(&site("summit"), local("2026-09-06 00:30")).unwrap_err();
        assert!(err.contains("does not exist in America/Santiago"), "{err}");
    }

    #[test]
    fn the_day_before_a_clock_change_keeps_the_clock_time_or_moves_past_the_gap() {
        let summit = site("summit");
        // The day before 2026-09-07 00:30 is inside the skipped hour.
        let (_, day, _) = announcement_times(&summit, local("2026-09-07 00:30")).unwrap();
        assert_eq!(day.iso, "2026-09-06T01:30:00-03:00");
        // The day before 2026-04-05 23:30 is the repeated hour: its first time.
        let (_, day, _) = announcement_times(&summit, local("2026-04-05 23:30")).unwrap();
        assert_eq!(day.iso, "2026-04-04T23:30:00-03:00");
        assert_eq!(day.zone, "CLST");
    }

    #[test]
    fn arizona_has_no_clock_change() {
        let tts = site("tts");
        let (start, day, hour) = announcement_times(&tts, local("2026-03-08 09:00")).unwrap();
        assert_eq!(start.zone, "MST");
        assert_eq!(hour.time, "08:00");
        assert_eq!(day.unix, start.unix - 86_400);
    }
}
