//! The site model: one `sites/<name>.yaml` per deployment site.
//!
//! A site says who to ask (Jira project and fields), what to edit (the
//! deployment configuration repositories and their edits, as data), where to
//! publish (Confluence space, Slack channels) and in which time zone its
//! people read times. Loading is strict: unknown fields are refused and every
//! problem is reported as `file:line:column: field: message`.

use std::collections::BTreeMap;
use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::placeholder;
pub use crate::model::ticket::{CalendarSettings, FieldSpec, JiraSettings, WindowEdge};
use crate::model::yamlfile::{SourceError, YamlSource};

/// Whether a site is the production control system or a test stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    /// The production domain (the summit).
    Production,
    /// A test stand (Tucson, Base): held by integration testing after deployment.
    TestStand,
}

/// One deployment site, as written in its YAML file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Short identifier used on the command line (`summit`); must match the file name.
    pub name: String,
    /// Name used in headings ("Summit", "Tucson Test Stand").
    pub display_name: String,
    /// Prefix of commit messages ("Summit", "TTS", "BTS").
    pub label: String,
    /// Name used inside sentences ("summit", "Tucson test stand"); also in the Jira summary.
    pub text_name: String,
    /// Production or test stand.
    pub kind: SiteKind,
    /// IANA time zone of the site, e.g. `America/Santiago`.
    pub time_zone: String,
    /// Names to print for numeric zone abbreviations, e.g. `"-04": CLT`.
    #[serde(default)]
    pub time_zone_names: BTreeMap<String, String>,
    /// The site's Jira ticket settings.
    pub jira: JiraSettings,
    /// The site's calendar ticket (the summit's `SUMMIT` project), if it has one.
    #[serde(default)]
    pub calendar: Option<CalendarSettings>,
    /// Deployment configuration repositories edited on the ticket branch.
    pub repositories: Vec<Repository>,
    /// Where the cycle's Confluence page lives.
    pub confluence: ConfluenceSettings,
    /// Slack channels.
    pub slack: SlackSettings,
}

/// A deployment configuration repository and the edits a cycle makes to it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    /// GitHub `owner/name`; cloned from `$GITHUB_SERVER_URL/owner/name.git`.
    pub repo: String,
    /// A full clone URL instead of the one derived from `repo`.
    #[serde(default)]
    pub url: Option<String>,
    /// The branch the ticket branch starts from and the PR targets.
    pub base: String,
    /// Pull request settings; absent when no PR is opened for this repository.
    #[serde(default)]
    pub pull_request: Option<PullRequestSettings>,
    /// The edits, applied in order.
    pub edits: Vec<EditSpec>,
}

/// Pull request settings of a repository.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequestSettings {
    /// GitHub logins asked for review.
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// GitHub teams asked for review (`slug` or `org/slug`).
    #[serde(default)]
    pub team_reviewers: Vec<String>,
    /// A fork (`owner/name`) the ticket branch is pushed to instead of the
    /// repository itself; the PR's head is then `owner:tickets/<KEY>`.
    #[serde(default)]
    pub fork: Option<String>,
    /// Labels set on the PR.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Open the PR as a draft.
    #[serde(default)]
    pub draft: bool,
}

/// Which builds an edit runs for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// A cycle bump (revision 0): the default.
    #[default]
    Cycle,
    /// A revision build (revision > 0).
    Revision,
    /// Both.
    Always,
}

/// One edit of a configuration file, as data. Values are minijinja templates
/// of the cycle (`{{ tag }}` → `c0044`, `{{ cycle }}`, `{{ revision | pad3 }}`).
///
/// Every kind but `restart` runs for a cycle bump unless its `when` says
/// `revision` or `always`; `restart` runs for revision builds only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EditSpec {
    /// Set the scalar at a dotted YAML path, in one file or each file of a glob.
    Set {
        /// File path or glob, relative to the repository root.
        file: String,
        /// Dotted path, e.g. `controlSystem.imageTag`.
        path: String,
        /// Value template.
        value: String,
        /// Which builds it runs for (default `cycle`).
        #[serde(default)]
        when: When,
    },
    /// Set every key with this name, at any depth, in each file of a glob.
    Reset {
        /// File path or glob.
        file: String,
        /// Key name, e.g. `revision`.
        key: String,
        /// Value template, e.g. `"0"`.
        value: String,
        /// Which builds it runs for (default `cycle`).
        #[serde(default)]
        when: When,
    },
    /// Set a shell-style `KEY=value` / `export KEY=value` line.
    Env {
        /// File path.
        file: String,
        /// Variable name, e.g. `CYCLE`.
        key: String,
        /// Value template.
        value: String,
        /// Which builds it runs for (default `cycle`).
        #[serde(default)]
        when: When,
    },
    /// Add an entry (e.g. a new CSC) to the mapping at a path.
    Add {
        /// File path.
        file: String,
        /// Dotted path of the mapping; empty for the document root.
        #[serde(default)]
        path: String,
        /// The new key.
        key: String,
        /// The new value as a YAML fragment template (scalar or block mapping).
        value: String,
        /// Which builds it runs for (default `cycle`).
        #[serde(default)]
        when: When,
    },
    /// Replace a CSC's launch arguments (`<csc>.env.RUN_ARG`).
    RunArg {
        /// File path.
        file: String,
        /// The CSC's key in the file, e.g. `mtptg`.
        csc: String,
        /// The new command-line arguments, e.g. `--state enabled`.
        value: String,
        /// Which builds it runs for (default `cycle`).
        #[serde(default)]
        when: When,
    },
    /// Revision builds only: set every `key` under each component the
    /// release restarts (its `restarted_components`, matched against the
    /// top-level keys of each file of the glob), at any depth.
    Restart {
        /// File path or glob, e.g. `applications/*/values-summit.yaml`.
        file: String,
        /// Key name, e.g. `revision`.
        key: String,
        /// Value template, e.g. `"{{ revision }}"`.
        value: String,
        /// The release's `restarted_components` as written; filled in when
        /// the edits are resolved for a build, never read from a site file.
        #[serde(skip)]
        components: Vec<String>,
    },
}

impl EditSpec {
    /// The file or glob this edit applies to.
    pub fn file(&self) -> &str {
        match self {
            EditSpec::Set { file, .. }
            | EditSpec::Reset { file, .. }
            | EditSpec::Env { file, .. }
            | EditSpec::Add { file, .. }
            | EditSpec::RunArg { file, .. }
            | EditSpec::Restart { file, .. } => file,
        }
    }

    /// The value template.
    pub fn value(&self) -> &str {
        match self {
            EditSpec::Set { value, .. }
            | EditSpec::Reset { value, .. }
            | EditSpec::Env { value, .. }
            | EditSpec::Add { value, .. }
            | EditSpec::RunArg { value, .. }
            | EditSpec::Restart { value, .. } => value,
        }
    }

    /// Which builds the edit runs for (`restart`: revisions only).
    pub fn when(&self) -> When {
        match self {
            EditSpec::Set { when, .. }
            | EditSpec::Reset { when, .. }
            | EditSpec::Env { when, .. }
            | EditSpec::Add { when, .. }
            | EditSpec::RunArg { when, .. } => *when,
            EditSpec::Restart { .. } => When::Revision,
        }
    }

    /// Whether the edit runs for a revision build (`true`) or a cycle bump.
    pub fn runs_for(&self, revision: bool) -> bool {
        match self.when() {
            When::Cycle => !revision,
            When::Revision => revision,
            When::Always => true,
        }
    }

    /// The edit kind as written in site files (`set`, `reset`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            EditSpec::Set { .. } => "set",
            EditSpec::Reset { .. } => "reset",
            EditSpec::Env { .. } => "env",
            EditSpec::Add { .. } => "add",
            EditSpec::RunArg { .. } => "run_arg",
            EditSpec::Restart { .. } => "restart",
        }
    }

    /// A short description of the edit's target, e.g. `controlSystem.imageTag`.
    pub fn target(&self) -> String {
        match self {
            EditSpec::Set { path, .. } => path.clone(),
            EditSpec::Reset { key, .. } => format!("every `{key}`"),
            EditSpec::Env { key, .. } => key.clone(),
            EditSpec::Add { path, key, .. } if path.is_empty() => key.clone(),
            EditSpec::Add { path, key, .. } => format!("{path}.{key}"),
            EditSpec::RunArg { csc, .. } => format!("{csc}.env.RUN_ARG"),
            EditSpec::Restart {
                key, components, ..
            } if components.is_empty() => format!("`{key}` of each restarted component"),
            EditSpec::Restart {
                key, components, ..
            } => format!("`{key}` of {}", components.join(", ")),
        }
    }
}

/// Where the cycle page is published.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluenceSettings {
    /// Space key, e.g. `LSSTCOM`.
    pub space: String,
    /// Id of the parent page ("Software Upgrades").
    pub parent_id: String,
}

/// Slack channels of a site.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// Channel of the deployment announcements, e.g. `#summit-announce`.
    pub channel: String,
    /// Channel where PR links are posted for review, e.g. `#ts-build`.
    pub review_channel: String,
    /// The reminders of the XML work-closure deadline the site sends (none
    /// when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure_reminders: Option<ClosureReminderSettings>,
}

/// Where and when the work-closure reminders go: the day before and the
/// day of the release manifest's `schedule.xml_work_closes`, at `at` in the
/// site's zone.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureReminderSettings {
    /// Channel, e.g. `#ts-dev`.
    pub channel: String,
    /// Local clock time, `HH:MM` (default `09:00`).
    #[serde(default = "ClosureReminderSettings::default_at")]
    pub at: String,
}

impl ClosureReminderSettings {
    fn default_at() -> String {
        "09:00".to_string()
    }

    /// The clock time of [`Self::at`], once validated.
    pub fn time(&self) -> Option<chrono::NaiveTime> {
        chrono::NaiveTime::parse_from_str(&self.at, "%H:%M").ok()
    }
}

/// A site together with the source it was loaded from.
#[derive(Debug, Clone)]
pub struct LoadedSite {
    /// The validated site.
    pub site: Site,
    /// Its source, to locate later errors.
    pub source: YamlSource,
    /// The parsed time zone.
    pub tz: Tz,
}

impl Site {
    /// The zone abbreviation to print for a tzdb abbreviation (`-04` → `CLT`
    /// when the site names it, otherwise `UTC-04` for numeric ones).
    pub fn zone_name(&self, tzdb_abbreviation: &str) -> String {
        if let Some(name) = self.time_zone_names.get(tzdb_abbreviation) {
            return name.clone();
        }
        if tzdb_abbreviation.starts_with(['+', '-']) {
            format!("UTC{tzdb_abbreviation}")
        } else {
            tzdb_abbreviation.to_string()
        }
    }
}

/// Loads and validates one site file.
pub fn load(path: &Path) -> Result<LoadedSite, SourceError> {
    let source = YamlSource::read(path)?;
    let site: Site = source.parse()?;
    let tz = validate(&site, &source)?;
    Ok(LoadedSite { site, source, tz })
}

fn validate(site: &Site, source: &YamlSource) -> Result<Tz, SourceError> {
    let stem = source
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if site.name != stem {
        return Err(source.error_at(
            "name",
            format!("must match the file name `{stem}`, got `{}`", site.name),
        ));
    }
    if !is_site_name(&site.name) {
        return Err(source.error_at("name", "use lowercase letters, digits and `-` only"));
    }
    placeholder::check(source)?;
    let tz: Tz = site.time_zone.parse().map_err(|_| {
        source.error_at(
            "time_zone",
            format!(
                "unknown IANA time zone `{}` (e.g. America/Santiago)",
                site.time_zone
            ),
        )
    })?;
    for (field, value) in [
        ("jira.project", &site.jira.project),
        ("jira.issue_type", &site.jira.issue_type),
        ("confluence.space", &site.confluence.space),
        ("confluence.parent_id", &site.confluence.parent_id),
        ("slack.channel", &site.slack.channel),
        ("slack.review_channel", &site.slack.review_channel),
    ] {
        if value.trim().is_empty() {
            return Err(source.error_at(field, "must not be empty"));
        }
    }
    if let Some(reminders) = &site.slack.closure_reminders {
        if reminders.channel.trim().is_empty() {
            return Err(source.error_at("slack.closure_reminders.channel", "must not be empty"));
        }
        if reminders.time().is_none() {
            return Err(source.error_at(
                "slack.closure_reminders.at",
                format!("`{}` is not a clock time HH:MM (e.g. 09:00)", reminders.at),
            ));
        }
    }
    validate_ticket_fields(
        source,
        "jira",
        site.jira.assignee.as_deref(),
        &site.jira.fields,
    )?;
    if let Some(cal) = &site.calendar {
        for (field, value) in [
            ("calendar.project", &cal.project),
            ("calendar.issue_type", &cal.issue_type),
        ] {
            if value.trim().is_empty() {
                return Err(source.error_at(field, "must not be empty"));
            }
        }
        if cal.hours == 0 {
            return Err(source.error_at("calendar.hours", "must be at least 1"));
        }
        validate_ticket_fields(source, "calendar", cal.assignee.as_deref(), &cal.fields)?;
    }
    if !site
        .confluence
        .parent_id
        .chars()
        .all(|c| c.is_ascii_digit())
    {
        return Err(source.error_at(
            "confluence.parent_id",
            format!(
                "expected a page id (digits), got `{}`",
                site.confluence.parent_id
            ),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, repo) in site.repositories.iter().enumerate() {
        let field = format!("repositories.{i}");
        if repo.url.is_none() && !is_owner_name(&repo.repo) {
            return Err(source.error_at(
                &format!("{field}.repo"),
                format!("expected `owner/name`, got `{}`", repo.repo),
            ));
        }
        if !seen.insert(repo.repo.as_str()) {
            return Err(source.error_at(
                &format!("{field}.repo"),
                format!("`{}` is listed twice", repo.repo),
            ));
        }
        if let Some(fork) = repo.pull_request.as_ref().and_then(|p| p.fork.as_deref())
            && !is_owner_name(fork)
        {
            return Err(source.error_at(
                &format!("{field}.pull_request.fork"),
                format!("expected `owner/name`, got `{fork}`"),
            ));
        }
        if repo.edits.is_empty() {
            return Err(source.error_at(&format!("{field}.edits"), "no edits"));
        }
        for (j, edit) in repo.edits.iter().enumerate() {
            let field = format!("{field}.edits.{j}");
            if edit.file().trim().is_empty() || edit.file().starts_with('/') {
                return Err(source.error_at(
                    &format!("{field}.file"),
                    "give a path relative to the repository root",
                ));
            }
            if let Err(e) = globset::Glob::new(edit.file()) {
                return Err(source.error_at(&format!("{field}.file"), e.to_string()));
            }
            if let EditSpec::Set { path, .. } = edit
                && path.split('.').any(str::is_empty)
            {
                return Err(source.error_at(
                    &format!("{field}.path"),
                    format!("`{path}` has an empty segment"),
                ));
            }
        }
    }
    Ok(tz)
}

/// Fields a ticket sets by name (project, summary, ...), never as further fields.
const NAMED_FIELDS: [&str; 8] = [
    "project",
    "issuetype",
    "summary",
    "description",
    "labels",
    "components",
    "assignee",
    "priority",
];

/// The checks of a ticket's assignee and further fields: ids Jira can
/// name, no field set by name twice, no empty value (placeholders are
/// refused for the whole file by [`placeholder::check`]).
fn validate_ticket_fields(
    source: &YamlSource,
    section: &str,
    assignee: Option<&str>,
    fields: &BTreeMap<String, FieldSpec>,
) -> Result<(), SourceError> {
    if let Some(assignee) = assignee {
        let field = format!("{section}.assignee");
        if assignee.trim().is_empty() {
            return Err(source.error_at(&field, "must not be empty"));
        }
    }
    for (id, spec) in fields {
        let field = format!("{section}.fields.{id}");
        let valid_id = id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_id {
            return Err(source.error_at(
                &field,
                format!("`{id}` is not a Jira field id (e.g. `customfield_10056`, `duedate`)"),
            ));
        }
        if NAMED_FIELDS.contains(&id.as_str()) {
            return Err(source.error_at(
                &field,
                format!("`{id}` is set by its own key in `{section}`, not under `fields`"),
            ));
        }
        let values: &[String] = match spec {
            FieldSpec::Option { value } => std::slice::from_ref(value),
            FieldSpec::Options { values } | FieldSpec::Users { users: values } => {
                if values.is_empty() {
                    return Err(source.error_at(&field, "give at least one value"));
                }
                values
            }
            FieldSpec::Plain { value } => match value {
                serde_json::Value::Null => {
                    return Err(source.error_at(&field, "a value is empty"));
                }
                _ => &[],
            },
            FieldSpec::Date { .. } | FieldSpec::DateTime { .. } => &[],
        };
        let plain_text = match spec {
            FieldSpec::Plain { value } => value.as_str(),
            _ => None,
        };
        for text in values.iter().map(String::as_str).chain(plain_text) {
            if text.trim().is_empty() {
                return Err(source.error_at(&field, "a value is empty"));
            }
        }
    }
    Ok(())
}

fn is_owner_name(repo: &str) -> bool {
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(repo.split_once('/'), Some((o, n)) if valid(o) && valid(n))
}

/// Every `*.yaml` / `*.yml` file of a sites directory, sorted by name.
pub fn site_files(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot read sites directory {}: {e} (set --sites-dir or CYCLE_SITES_DIR)",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `name` can name a site: lowercase letters, digits and `-`, as
/// the site file's name without its extension.
pub fn is_site_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Loads the named site from the sites directory, or says which sites
/// exist. A site is a name (`summit`), never a path or a file name
/// (`./summit`, `summit.yaml`): anything else is refused.
pub fn load_named(dir: &Path, name: &str) -> anyhow::Result<LoadedSite> {
    let known = || -> anyhow::Result<String> {
        let known: Vec<String> = site_files(dir)?
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
            .collect();
        Ok(if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        })
    };
    if !is_site_name(name) {
        anyhow::bail!(
            "`{name}` is not a site name: give a site by its name, the file name in {} without `.yaml` (known sites: {})",
            dir.display(),
            known()?
        );
    }
    for ext in ["yaml", "yml"] {
        let path = dir.join(format!("{name}.{ext}"));
        if path.is_file() {
            return Ok(load(&path)?);
        }
    }
    anyhow::bail!(
        "unknown site `{name}`: no {name}.yaml in {} (known sites: {})",
        dir.display(),
        known()?
    )
}

/// Loads every site of the directory; the first invalid file is the error.
pub fn load_all(dir: &Path) -> anyhow::Result<Vec<LoadedSite>> {
    let files = site_files(dir)?;
    if files.is_empty() {
        anyhow::bail!("no site files (*.yaml) in {}", dir.display());
    }
    files
        .iter()
        .map(|p| load(p).map_err(anyhow::Error::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_site(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn shipped_summit() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("sites/summit.yaml"))
            .unwrap()
    }

    #[test]
    fn shipped_sites_load() {
        let sites = load_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sites")).unwrap();
        let names: Vec<&str> = sites.iter().map(|s| s.site.name.as_str()).collect();
        assert_eq!(names, ["bts", "summit", "tts"]);
        let summit = &sites[1];
        assert_eq!(summit.site.label, "Summit");
        assert_eq!(summit.site.repositories[0].repo, "lsst-sqre/phalanx");
        assert_eq!(summit.site.zone_name("-03"), "CLST");
        assert_eq!(sites[2].site.zone_name("MST"), "MST");
        assert_eq!(sites[2].site.zone_name("+05"), "UTC+05");
    }

    #[test]
    fn semantic_errors_point_at_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "name: summit",
                "name: other",
                "name",
                "must match the file name",
            ),
            (
                "time_zone: America/Santiago",
                "time_zone: America/Santigo",
                "time_zone",
                "unknown IANA time zone",
            ),
            (
                "- repo: lsst-sqre/phalanx",
                "- repo: phalanx",
                "repositories.0.repo",
                "expected `owner/name`",
            ),
            (
                "project: OSW",
                "project: \"\"",
                "jira.project",
                "must not be empty",
            ),
        ];
        for (from, to, field, message) in cases {
            let text = shipped_summit().replacen(from, to, 1);
            let path = write_site(dir.path(), "summit", &text);
            let err = load(&path).unwrap_err();
            assert_eq!(err.field, field, "{err}");
            assert!(err.message.contains(message), "{err}");
            let line = text.lines().position(|l| l.contains(to.trim())).unwrap() + 1;
            assert_eq!(err.line, line, "{err}");
        }
    }

    #[test]
    fn the_shipped_summit_carries_the_real_jira_values() {
        let summit = load_all(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sites"))
            .unwrap()
            .remove(1)
            .site;
        assert_eq!(
            summit.jira.fields["customfield_10056"],
            FieldSpec::Option {
                value: "Deployment".into()
            }
        );
        let cal = summit.calendar.unwrap();
        assert_eq!(cal.priority.as_deref(), Some("SUMMIT-1"));
        assert_eq!(
            cal.fields["customfield_10059"],
            FieldSpec::Date {
                at: WindowEdge::Start
            }
        );
        assert_eq!(
            cal.fields["customfield_10061"],
            FieldSpec::Date {
                at: WindowEdge::End
            }
        );
        assert_eq!(cal.fields["customfield_10151"].kind(), "users");
        assert_eq!(summit.confluence.parent_id, "53752125");
    }

    #[test]
    fn ticket_fields_are_checked_where_they_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "customfield_10059: {type: date, at: start}",
                "customfield_10059: {type: date, at: begin}",
                "unknown variant `begin`",
            ),
            (
                "customfield_10059: {type: date, at: start}",
                "customfield_TODO: {type: date, at: start}",
                "is a placeholder",
            ),
            (
                "customfield_10141: {type: options, values: [Software]}",
                "customfield_10141: {type: options, values: []}",
                "give at least one value",
            ),
            (
                "customfield_10141: {type: options, values: [Software]}",
                "customfield_10141: {type: options, values: [CONFIRM]}",
                "is a placeholder",
            ),
            (
                "customfield_10141: {type: options, values: [Software]}",
                "priority: {type: option, value: SUMMIT-1}",
                "set by its own key",
            ),
            (
                "customfield_10141: {type: options, values: [Software]}",
                "customfield_10141: {type: colour, value: red}",
                "unknown variant `colour`",
            ),
            (
                "customfield_10141: {type: options, values: [Software]}",
                "Custom-Field: {type: option, value: x}",
                "not a Jira field id",
            ),
            (
                "  parent_id: \"53752125\"",
                "  parent_id: \"<parent page id>\"",
                "is a placeholder",
            ),
            (
                "  parent_id: \"53752125\"",
                "  parent_id: \"Software Upgrades\"",
                "expected a page id",
            ),
            (
                "  assignee: mreuter\n  labels: [SoftwareRelease]",
                "  assignee: TODO\n  labels: [SoftwareRelease]",
                "is a placeholder",
            ),
        ];
        for (from, to, message) in cases {
            let text = shipped_summit().replacen(from, to, 1);
            assert_ne!(text, shipped_summit(), "{from}");
            let err = load(&write_site(dir.path(), "summit", &text)).unwrap_err();
            assert!(err.message.contains(message), "{to}: {err}");
            let first = to.lines().next().unwrap().trim();
            let line = text.lines().position(|l| l.contains(first)).unwrap() + 1;
            assert_eq!(err.line, line, "{to}: {err}");
        }
    }

    #[test]
    fn a_fork_is_written_owner_slash_name() {
        let dir = tempfile::tempdir().unwrap();
        let with = |fork: &str| {
            shipped_summit().replacen(
                "      labels: []\n    edits:",
                &format!("      labels: []\n      fork: {fork}\n    edits:"),
                1,
            )
        };
        let err = load(&write_site(dir.path(), "summit", &with("rm-bot"))).unwrap_err();
        assert_eq!(err.field, "repositories.0.pull_request.fork", "{err}");
        assert!(
            err.message.contains("expected `owner/name`, got `rm-bot`"),
            "{err}"
        );
        let text = with("rm-bot/phalanx");
        assert_eq!(
            err.line,
            text.lines()
                .position(|l| l.starts_with("      fork:"))
                .unwrap()
                + 1
        );
        let loaded = load(&write_site(dir.path(), "summit", &text)).unwrap();
        let pr = loaded.site.repositories[0].pull_request.as_ref().unwrap();
        assert_eq!(pr.fork.as_deref(), Some("rm-bot/phalanx"));
    }

    #[test]
    fn unknown_edit_kinds_and_fields_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = shipped_summit().replacen("kind: reset", "kind: rest", 1);
        let err = load(&write_site(dir.path(), "summit", &text)).unwrap_err();
        assert!(err.message.contains("unknown variant `rest`"), "{err}");
        assert!(err.line > 0);
    }

    #[test]
    fn our_own_files_stay_strict_about_repeated_keys() {
        // Other teams' values files may repeat `<<` (see crate::edit::yaml);
        // a site file may repeat no key, and has no merge keys at all.
        let dir = tempfile::tempdir().unwrap();
        let text = shipped_summit().replacen("label: Summit\n", "label: Summit\nlabel: TTS\n", 1);
        let err = load(&write_site(dir.path(), "summit", &text)).unwrap_err();
        assert!(err.to_string().contains("duplicate field `label`"), "{err}");
        let text = shipped_summit().replacen(
            "jira:\n",
            "jira:\n  <<: {labels: []}\n  <<: {components: []}\n",
            1,
        );
        let err = load(&write_site(dir.path(), "summit", &text)).unwrap_err();
        assert!(err.to_string().contains("jira.<<"), "{err}");
    }
}
