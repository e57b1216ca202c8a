//! `cycle check`: the release manager's readiness checks of a cycle build,
//! as pure functions from what the engine observed to [`Finding`]s.
//!
//! The rules (which `cycle.env` variables are packages, where their
//! repositories are, the conda skip list, the XML release's Jira project and
//! "done" statuses) are data: [`Rules`], shipped as `checks.yaml` and
//! embedded in the binary. Every finding is the one [`Finding`] type of
//! `cycle doctor` too (source, status, check, subject, found, fix);
//! [`crate::output`] turns them into text, JSON or Markdown.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::cycle_env::CycleEnv;
use crate::model::version::same as same_version;

/// The shipped rules (`checks.yaml` at the repository root).
pub const SHIPPED_RULES: &str = include_str!("../../checks.yaml");

/// What the checks check, as data.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// The released-tags check.
    pub releases: ReleaseRules,
    /// The conda package check.
    pub conda: CondaRules,
    /// The XML release's checks.
    pub xml: XmlRules,
}

/// Rules of the released-tags check.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRules {
    /// Owner of a package's repository unless [`Self::repositories`] names one.
    pub default_owner: String,
    /// `cycle.env` variables that are not released packages.
    pub ignore: Vec<String>,
    /// Packages whose version is a conda recipe's, not a tag.
    pub recipes: Vec<String>,
    /// Package → `owner/name`.
    pub repositories: BTreeMap<String, String>,
}

/// Rules of the conda package check.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CondaRules {
    /// Platform subdirectories a package file may be in.
    pub platforms: Vec<String>,
    /// Variables with this prefix are conda packages.
    pub prefix: String,
    /// Conda names not looked up.
    pub skip: Vec<String>,
    /// Conda names that differ from the variable's (`_` → `-`).
    pub names: BTreeMap<String, String>,
}

/// Rules of the XML release's checks.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct XmlRules {
    /// `owner/name` of the XML repository.
    pub repository: String,
    /// The branch XML work is merged into.
    pub branch: String,
    /// Jira project of the release's tickets.
    pub project: String,
    /// The release's fixVersion, `{version}` replaced by the XML version.
    pub fix_version: String,
    /// Statuses of a done ticket.
    pub done_statuses: Vec<String>,
    /// The label that marks a ticket done for the release.
    pub done_label: String,
    /// Outward link type whose linked tickets are not the release's.
    pub ignored_link: String,
    /// Projects whose keys a merged branch may name.
    pub ticket_projects: Vec<String>,
}

impl Rules {
    /// Parses rules from YAML; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Self> {
        yaml_serde::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
    }

    /// The shipped rules.
    pub fn shipped() -> Self {
        Self::parse(SHIPPED_RULES, "checks.yaml").expect("the shipped checks.yaml is valid")
    }

    /// The JQL of the XML release's tickets.
    pub fn release_jql(&self, xml_version: &str) -> String {
        format!(
            "project = {} AND fixVersion = \"{}\"",
            self.xml.project,
            self.fix_version(xml_version)
        )
    }

    /// The release's fixVersion name, e.g. `ts_xml 24.1.0`.
    pub fn fix_version(&self, xml_version: &str) -> String {
        self.xml.fix_version.replace("{version}", xml_version)
    }
}

pub use super::finding::{Check, Finding, Status};

/// Sentences of [`blocks_page_ready`] shown; the others are counted.
const BLOCKING_SHOWN: usize = 3;
/// The longest sentence of [`blocks_page_ready`]: with the others and the
/// step's own words, the note stays under 1,000 characters.
const BLOCKING_CHARS: usize = 220;

/// `text` cut at `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}…")
}

/// Why the page's "ready" announcement must wait, when it must: a version
/// of the cycle is not released, or its tags could not be listed (one
/// sentence per finding, the first few, then how many more).
pub fn blocks_page_ready(findings: &[Finding]) -> Vec<String> {
    let all: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.status == Status::Fail && f.is(Check::Releases))
        .collect();
    let mut out: Vec<String> = all
        .iter()
        .take(BLOCKING_SHOWN)
        .map(|f| cut(&f.found, BLOCKING_CHARS))
        .collect();
    if all.len() > BLOCKING_SHOWN {
        out.push(format!(
            "and {} more (see the pre-flight findings)",
            all.len() - BLOCKING_SHOWN
        ));
    }
    out
}

/// `names` for a sentence: the first five, then how many more.
fn some_of(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    match names.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

/// Whether an error says the host could not be reached at all (DNS, a
/// refused connection): the whole run's requests to it failed alike.
fn unreachable(error: &str) -> bool {
    error.starts_with("cannot reach ")
}

/// Whether the findings show the cycle ready: no error, and every check
/// ran (a skipped check verified nothing, so nothing skipped is ready).
pub fn ready(findings: &[Finding]) -> bool {
    findings
        .iter()
        .all(|f| !matches!(f.status, Status::Fail | Status::Skipped))
}

/// The verdict of `findings` in words: `ready`, `not ready (2 to fix)`,
/// or, with no error but checks skipped, `not verified (3 checks skipped)`.
pub fn verdict(findings: &[Finding]) -> String {
    let count = |severity| findings.iter().filter(|f| f.status == severity).count();
    let (errors, skipped) = (count(Status::Fail), count(Status::Skipped));
    let checks = |n: usize| if n == 1 { "check" } else { "checks" };
    match (errors, skipped) {
        (0, 0) => "ready".to_string(),
        (0, n) => format!("not verified ({n} {} skipped)", checks(n)),
        (n, 0) => format!("not ready ({n} to fix)"),
        (n, m) => format!("not ready ({n} to fix, {m} {} skipped)", checks(m)),
    }
}

/// A package of `cycle.env` whose version must have a release tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagTarget {
    /// The variable, e.g. `ts_atdome`.
    pub package: String,
    /// Its version, e.g. `1.11.6`.
    pub version: String,
    /// Its repository, `owner/name`.
    pub repo: String,
}

/// The packages of `env` to find tags for (every variable but the ignored
/// ones and the recipes), in file order.
pub fn tag_targets(env: &CycleEnv, rules: &Rules) -> Vec<TagTarget> {
    let r = &rules.releases;
    env.vars()
        .iter()
        .filter(|(name, _)| !r.ignore.contains(name) && !r.recipes.contains(name))
        .map(|(name, version)| TagTarget {
            package: name.clone(),
            version: version.clone(),
            repo: r
                .repositories
                .get(name)
                .cloned()
                .unwrap_or_else(|| format!("{}/{name}", r.default_owner)),
        })
        .collect()
}

/// The findings of the released-tags check: `tags` maps each target's
/// repository to its tag names (or why they could not be listed).
pub fn tag_findings(
    targets: &[TagTarget],
    tags: &BTreeMap<String, Result<Vec<String>, String>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut released = 0;
    // Repositories whose tags could not be listed, by error: one cause, one finding.
    let mut failed: BTreeMap<&str, Vec<&TagTarget>> = BTreeMap::new();
    for t in targets {
        match tags.get(&t.repo) {
            None => {}
            Some(Err(e)) => failed.entry(e.as_str()).or_default().push(t),
            Some(Ok(names)) if names.iter().any(|n| same_version(n, &t.version)) => {
                released += 1;
            }
            Some(Ok(names)) => {
                let latest = names
                    .first()
                    .map(|n| format!(" (newest tag: {n})"))
                    .unwrap_or_else(|| " (it has no tag)".into());
                out.push(Finding::check(
                    Status::Fail,
                    Check::Releases,
                    &t.package,
                    format!(
                        "{} {} is not released: no tag of {} matches{latest}",
                        t.package, t.version, t.repo
                    ),
                    format!(
                        "tag v{} in {} (release it), or correct {} in cycle/cycle.env",
                        t.version, t.repo, t.package
                    ),
                ));
            }
        }
    }
    for (e, targets) in failed {
        let fix = if unreachable(e) {
            "check the network connection and GITHUB_API_URL (nothing more was asked of that host \
             in this run), or run offline (--offline) or without the checks (--no-check)"
                .to_string()
        } else if let [t] = targets.as_slice() {
            format!(
                "check that {} exists (or map {} to its repository in checks.yaml)",
                t.repo, t.package
            )
        } else if e.contains("404") {
            "check the repositories' names (map a package to its repository under \
             releases.repositories in checks.yaml) and that GITHUB_TOKEN can see them"
                .to_string()
        } else {
            "check GITHUB_TOKEN and GITHUB_API_URL (every repository failed alike)".to_string()
        };
        match targets.as_slice() {
            [t] => out.push(Finding::check(
                Status::Fail,
                Check::Releases,
                &t.package,
                format!("cannot list the tags of {}: {e}", t.repo),
                fix,
            )),
            many => {
                let repos: BTreeSet<String> = many.iter().map(|t| t.repo.clone()).collect();
                let repos: Vec<String> = repos.into_iter().collect();
                out.push(Finding::check(
                    Status::Fail,
                    Check::Releases,
                    format!("{} repositories", repos.len()),
                    format!(
                        "{} repositories: cannot list tags: {e} ({})",
                        repos.len(),
                        some_of(&repos)
                    ),
                    fix,
                ));
            }
        }
    }
    if out.is_empty() {
        out.push(Finding::check(
            Status::Ok,
            Check::Releases,
            "cycle.env",
            format!("all {released} packages have a release tag"),
            "",
        ));
    }
    out
}

/// A conda package of `cycle.env` to look up in the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaTarget {
    /// The variable, e.g. `ts_atdome`.
    pub variable: String,
    /// The conda name, e.g. `ts-atdome`.
    pub name: String,
    /// The version.
    pub version: String,
    /// The build string's required start (`ts-idl`: `<ts_xml>_<ts_sal>`).
    pub build: Option<String>,
}

pub use crate::model::conda::{CondaAnswer, CondaFile};

/// The conda packages of `env`: variables with the prefix, `_` → `-`,
/// renamed per the rules, minus the skip list; `ts-idl`'s build must start
/// with the XML and SAL versions (vanward's `ts-idl==V=XML_SAL`).
pub fn conda_targets(env: &CycleEnv, rules: &Rules) -> Vec<CondaTarget> {
    let c = &rules.conda;
    let xml = env.get("ts_xml").unwrap_or("0.0");
    let sal = env.get("ts_sal").unwrap_or("0.0");
    env.vars()
        .iter()
        .filter(|(name, _)| name.starts_with(&c.prefix))
        .filter_map(|(name, version)| {
            let dashed = name.replace('_', "-");
            let dashed = c
                .names
                .iter()
                .find(|(from, _)| from.eq_ignore_ascii_case(&dashed))
                .map_or(dashed, |(_, to)| to.clone());
            if c.skip.contains(&dashed) {
                return None;
            }
            Some(CondaTarget {
                variable: name.clone(),
                build: (dashed == "ts-idl").then(|| format!("{xml}_{sal}")),
                name: dashed.to_lowercase(),
                version: version.clone(),
            })
        })
        .collect()
}

/// The findings of the conda check, from the channel's answers by conda name.
pub fn conda_findings(
    targets: &[CondaTarget],
    answers: &BTreeMap<String, CondaAnswer>,
    channel: &str,
    rules: &Rules,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let fix = |t: &CondaTarget| {
        format!(
            "build and upload {}={} to the {channel} channel, or correct {} in cycle/cycle.env",
            t.name, t.version, t.variable
        )
    };
    // Packages whose lookup failed, by error: one cause, one finding.
    let mut failed: BTreeMap<&str, Vec<&CondaTarget>> = BTreeMap::new();
    for t in targets {
        let wanted = match &t.build {
            Some(b) => format!("{} {} (build {b}*)", t.name, t.version),
            None => format!("{} {}", t.name, t.version),
        };
        match answers.get(&t.name) {
            None => {}
            Some(CondaAnswer::Failed(e)) => failed.entry(e.as_str()).or_default().push(t),
            Some(CondaAnswer::Missing) => {
                let repo = rules
                    .releases
                    .repositories
                    .get(&t.variable)
                    .cloned()
                    .unwrap_or_else(|| format!("{}/{}", rules.releases.default_owner, t.variable));
                out.push(Finding::check(
                    Status::Fail,
                    Check::Conda,
                    &t.name,
                    format!(
                        "{wanted} is not in {channel}: the channel has no package {}",
                        t.name
                    ),
                    format!(
                        "look at the recipe of {repo} (conda/meta.yaml, package.name): map {} to \
                         that name under conda.names in checks.yaml, or list it under conda.skip \
                         when {repo} has no conda recipe",
                        t.name
                    ),
                ))
            }
            Some(CondaAnswer::Files(files)) => {
                let found = files.iter().any(|f| {
                    same_version(&f.version, &t.version)
                        && rules.conda.platforms.contains(&f.platform)
                        && t.build.as_ref().is_none_or(|b| f.build.starts_with(b))
                });
                if !found {
                    out.push(Finding::check(
                        Status::Fail,
                        Check::Conda,
                        &t.name,
                        format!(
                            "{wanted} is not in {channel} for {}",
                            rules.conda.platforms.join(" or ")
                        ),
                        fix(t),
                    ));
                }
            }
        }
    }
    for (e, targets) in failed {
        let fix = if unreachable(e) {
            "check the network connection and the conda API URL (CYCLE_CONDA_API_URL, \
             conda_api_url; nothing more was asked of that host in this run), or run offline \
             (--offline) or without the checks (--no-check)"
        } else {
            "run again; check the conda API URL (CYCLE_CONDA_API_URL)"
        };
        let message = match targets.as_slice() {
            [t] => format!("cannot look up {} in {channel}: {e}", t.name),
            many => {
                let names: BTreeSet<String> = many.iter().map(|t| t.name.clone()).collect();
                let names: Vec<String> = names.into_iter().collect();
                format!(
                    "{} packages: cannot look up in {channel}: {e} ({})",
                    names.len(),
                    some_of(&names)
                )
            }
        };
        let subject = match targets.as_slice() {
            [t] => t.name.clone(),
            many => format!("{} packages", many.len()),
        };
        out.push(Finding::check(
            Status::Fail,
            Check::Conda,
            subject,
            message,
            fix,
        ));
    }
    if out.is_empty() {
        out.push(Finding::check(
            Status::Ok,
            Check::Conda,
            channel,
            format!("all {} conda packages are in {channel}", targets.len()),
            "",
        ));
    }
    out
}

/// A Jira ticket as the XML checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Key.
    pub key: String,
    /// Status name.
    pub status: String,
    /// Assignee's display name.
    pub assignee: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Keys of the linked tickets (not through the ignored link type).
    pub links: Vec<String>,
}

impl Ticket {
    /// Done: a done status, or the done label.
    pub fn done(&self, rules: &Rules) -> bool {
        rules.xml.done_statuses.contains(&self.status)
            || self.labels.contains(&rules.xml.done_label)
    }
}

/// The release's tickets and those they link to, each once, release first.
pub fn release_keys(release: &[Ticket]) -> BTreeSet<String> {
    release
        .iter()
        .flat_map(|t| std::iter::once(t.key.clone()).chain(t.links.iter().cloned()))
        .collect()
}

/// The findings of the XML tickets check: every ticket of the release (fix
/// version) and every ticket they link to must be done.
pub fn ticket_findings(
    release: &[Ticket],
    linked: &[Ticket],
    xml_version: &str,
    rules: &Rules,
) -> Vec<Finding> {
    let fix_version = rules.fix_version(xml_version);
    if release.is_empty() {
        return vec![Finding::check(
            Status::Fail,
            Check::XmlTickets,
            &fix_version,
            format!(
                "no {} issue has fixVersion \"{fix_version}\"",
                rules.xml.project
            ),
            format!(
                "create the release \"{fix_version}\" in {} and its catch-all ticket, or correct ts_xml in cycle/cycle.env",
                rules.xml.project
            ),
        )];
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for t in release.iter().chain(linked) {
        if !seen.insert(t.key.clone()) || t.done(rules) {
            continue;
        }
        let assignee = t.assignee.as_deref().unwrap_or("unassigned");
        out.push(Finding::check(
            Status::Fail,
            Check::XmlTickets,
            &t.key,
            format!("{} ({assignee}): {} — not done", t.key, t.status),
            format!(
                "finish it, label it {} when its XML work is in, or move it out of {fix_version}",
                rules.xml.done_label
            ),
        ));
    }
    let missing: Vec<&String> = release
        .iter()
        .flat_map(|t| &t.links)
        .filter(|k| !seen.contains(*k))
        .collect();
    for key in missing {
        out.push(Finding::check(
            Status::Warn,
            Check::XmlTickets,
            key,
            format!("{key} is linked from the release but could not be read"),
            "check that the Jira user may see it",
        ));
    }
    if out.is_empty() {
        out.push(Finding::check(
            Status::Ok,
            Check::XmlTickets,
            &fix_version,
            format!("all {} tickets of {fix_version} are done", seen.len()),
            "",
        ));
    }
    out
}

/// A merge commit of the XML repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    /// Commit id (hex).
    pub sha: String,
    /// First line of its message.
    pub summary: String,
}

impl Merge {
    /// The merged branch: the summary's last word (`Merge pull request #1
    /// from lsst-ts/tickets/DM-1` → `lsst-ts/tickets/DM-1`).
    pub fn branch(&self) -> &str {
        self.summary.split_whitespace().last().unwrap_or_default()
    }

    /// The ticket key the branch names (its last path segment), when it
    /// is `PROJECT-NUMBER` of one of `projects`.
    pub fn ticket(&self, projects: &[String]) -> Option<&str> {
        let last = self.branch().rsplit('/').next()?;
        let (project, number) = last.split_once('-')?;
        (projects.iter().any(|p| p == project)
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit()))
        .then_some(last)
    }
}

/// The numeric version of a tag (`v24.1.0` → `[24, 1, 0]`), when it is one.
fn numeric(tag: &str) -> Option<Vec<u64>> {
    tag.trim_start_matches('v')
        .split('.')
        .map(|p| p.parse().ok())
        .collect()
}

/// The tag of the XML version before `version`: the greatest numeric tag
/// below it.
pub fn previous_version<'a>(tags: &'a [String], version: &str) -> Option<&'a String> {
    let current = numeric(version)?;
    tags.iter()
        .filter_map(|t| numeric(t).map(|n| (n, t)))
        .filter(|(n, _)| *n < current)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t)
}

/// Where the merges check walked ts_xml's history: from the release's tag
/// (or, before it is tagged, the tip of the development branch) back to
/// the previous release's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRange {
    /// The previous release's tag, e.g. `v26.0.0`.
    pub previous: String,
    /// The release's tag (`v27.0.0`), or the branch walked from (`develop`).
    pub from: String,
}

/// The findings of the merges check: each ticket a merge's branch names
/// that is not among the release's tickets, once. `merges` are those
/// between the two ends of `range`.
pub fn merge_findings(
    merges: &[Merge],
    release: &BTreeSet<String>,
    xml_version: &str,
    range: &MergeRange,
    rules: &Rules,
) -> Vec<Finding> {
    let fix_version = rules.fix_version(xml_version);
    let mut out = Vec::new();
    let mut reported = BTreeSet::new();
    for m in merges {
        let Some(key) = m.ticket(&rules.xml.ticket_projects) else {
            continue;
        };
        if release.contains(key) || !reported.insert(key.to_string()) {
            continue;
        }
        out.push(Finding::check(
            Status::Fail,
            Check::Merges,
            key,
            format!(
                "{key} was merged into {} in {} (\"{}\") but is not a ticket of {fix_version}",
                rules.xml.repository,
                &m.sha[..m.sha.len().min(7)],
                m.summary
            ),
            format!(
                "link {key} to a {} ticket of {fix_version}, or give it that fixVersion",
                rules.xml.project
            ),
        ));
    }
    if out.is_empty() {
        out.push(Finding::check(
            Status::Ok,
            Check::Merges,
            &rules.xml.repository,
            format!(
                "every ticket merged between {} and {} ({} merges) is a ticket of {fix_version}",
                range.previous,
                range.from,
                merges.len()
            ),
            "",
        ));
    }
    out
}

/// Each ticket with the commits that merged it (exact key of the merged
/// branch), in `tickets` order; tickets without a merge map to nothing.
pub fn ticket_commits(merges: &[Merge], tickets: &[String]) -> Vec<(String, Vec<String>)> {
    tickets
        .iter()
        .map(|key| {
            let shas = merges
                .iter()
                .filter(|m| m.branch().rsplit('/').next() == Some(key.as_str()))
                .map(|m| m.sha.clone())
                .collect();
            (key.clone(), shas)
        })
        .collect()
}

/// A commit of the XML repository, as the page links it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitLink {
    /// Full id.
    pub sha: String,
    /// First 7 characters.
    pub short: String,
    /// `$GITHUB_SERVER_URL/owner/name/commit/<sha>`.
    pub url: String,
}

/// A ticket of a revision's XML release and the commits that merged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XmlChange {
    /// Ticket key.
    pub ticket: String,
    /// Its Jira page, when Jira is configured.
    pub ticket_url: Option<String>,
    /// The merges of its branch, newest first.
    pub commits: Vec<CommitLink>,
}

/// The revision's changes: each ticket with the merges of its branch, as
/// links to `server`'s `repository` commits.
pub fn xml_changes(
    merges: &[Merge],
    tickets: &BTreeSet<String>,
    server: &str,
    repository: &str,
    browse: impl Fn(&str) -> Option<String>,
) -> Vec<XmlChange> {
    let keys: Vec<String> = tickets.iter().cloned().collect();
    ticket_commits(merges, &keys)
        .into_iter()
        .map(|(ticket, shas)| XmlChange {
            ticket_url: browse(&ticket),
            commits: shas
                .into_iter()
                .map(|sha| CommitLink {
                    short: sha[..sha.len().min(7)].to_string(),
                    url: format!("{}/{repository}/commit/{sha}", server.trim_end_matches('/')),
                    sha,
                })
                .collect(),
            ticket,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> CycleEnv {
        CycleEnv::parse(text).unwrap()
    }

    #[test]
    fn shipped_rules_load() {
        let rules = Rules::shipped();
        assert!(rules.releases.ignore.contains(&"CYCLE".to_string()));
        assert!(rules.conda.skip.contains(&"ts-cRIOcpp".to_string()));
        assert_eq!(
            rules.release_jql("24.1.0"),
            "project = CAP AND fixVersion = \"ts_xml 24.1.0\""
        );
        assert!(Rules::parse("releases: {}\n", "x.yaml").is_err());
    }

    #[test]
    fn the_page_ready_block_stays_readable() {
        let findings: Vec<Finding> = (0..40)
            .map(|n| {
                Finding::check(
                    Status::Fail,
                    Check::Releases,
                    format!("ts_{n}"),
                    format!("ts_{n} 1.0 is not released: {}", "x".repeat(2000)),
                    "",
                )
            })
            .collect();
        let blocked = blocks_page_ready(&findings);
        assert_eq!(blocked.len(), 4);
        assert_eq!(blocked[3], "and 37 more (see the pre-flight findings)");
        assert!(blocked.join("; ").chars().count() < 800);
    }

    #[test]
    fn a_version_in_tag_form_matches_its_tag() {
        let targets = [TagTarget {
            package: "ts_logging_frontend".into(),
            version: "0.17.0-alpha.1".into(),
            repo: "lsst-ts/ts_logging_frontend".into(),
        }];
        let tags = BTreeMap::from([(
            "lsst-ts/ts_logging_frontend".to_string(),
            Ok(vec!["v0.17.0-alpha.1".to_string(), "v0.16.0".to_string()]),
        )]);
        let f = tag_findings(&targets, &tags);
        assert_eq!(f[0].status, Status::Ok, "{f:?}");
    }

    #[test]
    fn tag_targets_skip_ignored_and_recipes_and_map_repositories() {
        let e = env("CYCLE=c0044\nts_develop=0.5\nts_atdome=1.0\nlove_manager=7.0\noods=1.2\n");
        let t = tag_targets(&e, &Rules::shipped());
        let repos: Vec<&str> = t.iter().map(|t| t.repo.as_str()).collect();
        assert_eq!(
            repos,
            [
                "lsst-ts/ts_atdome",
                "lsst-ts/LOVE-manager",
                "lsst-dm/ctrl_oods"
            ]
        );
    }

    #[test]
    fn tag_findings_name_the_unreleased() {
        let e = env("ts_atdome=1.0.0a1\nts_atmcs=2.0.0\n");
        let targets = tag_targets(&e, &Rules::shipped());
        let tags: BTreeMap<_, _> = [
            (
                "lsst-ts/ts_atdome".to_string(),
                Ok(vec!["v1.0.0-alpha.1".to_string()]),
            ),
            (
                "lsst-ts/ts_atmcs".to_string(),
                Ok(vec!["v1.9.0".to_string()]),
            ),
        ]
        .into();
        let f = tag_findings(&targets, &tags);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject(), "ts_atmcs");
        assert!(f[0].found.contains("newest tag: v1.9.0"), "{}", f[0].found);
    }

    #[test]
    fn conda_targets_follow_the_script() {
        let e = env(
            "ts_xml=24.0.0\nts_sal=9.0.0\nts_idl=4.0.0\nts_wep=1\nts_ATMCSSimulator=1.0\nother=1\n",
        );
        let t = conda_targets(&e, &Rules::shipped());
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["ts-idl", "ts-atmcs-simulator"]);
        assert_eq!(t[0].build.as_deref(), Some("24.0.0_9.0.0"));
        let answers: BTreeMap<_, _> = [
            (
                "ts-idl".to_string(),
                CondaAnswer::Files(vec![CondaFile {
                    version: "4.0.0".into(),
                    build: "24.0.0_9.0.0_0".into(),
                    platform: "linux-64".into(),
                }]),
            ),
            ("ts-atmcs-simulator".to_string(), CondaAnswer::Missing),
        ]
        .into();
        let f = conda_findings(&t, &answers, "lsstts", &Rules::shipped());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].subject(), "ts-atmcs-simulator");
    }

    fn ticket(key: &str, status: &str, labels: &[&str], links: &[&str]) -> Ticket {
        Ticket {
            key: key.into(),
            status: status.into(),
            assignee: Some("Ann".into()),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            links: links.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn tickets_are_done_by_status_or_label() {
        let rules = Rules::shipped();
        let release = [ticket("CAP-1", "Done", &[], &["DM-1", "DM-2", "DM-3"])];
        let linked = [
            ticket("DM-1", "In Progress", &["xmldone"], &[]),
            ticket("DM-2", "Won't Fix", &[], &[]),
            ticket("DM-3", "In Review", &[], &[]),
        ];
        let f = ticket_findings(&release, &linked, "24.1.0", &rules);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].found, "DM-3 (Ann): In Review — not done");
        assert!(ticket_findings(&[], &[], "24.1.0", &rules)[0].status == Status::Fail);
    }

    fn merge(sha: &str, summary: &str) -> Merge {
        Merge {
            sha: sha.into(),
            summary: summary.into(),
        }
    }

    #[test]
    fn merges_without_ticket_are_each_reported_once() {
        let rules = Rules::shipped();
        let merges = [
            merge(
                "aaaaaaaa",
                "Merge pull request #9 from lsst-ts/tickets/DM-9",
            ),
            merge(
                "bbbbbbbb",
                "Merge pull request #8 from lsst-ts/tickets/DM-8",
            ),
            merge(
                "cccccccc",
                "Merge pull request #7 from lsst-ts/tickets/DM-7-x",
            ),
            merge(
                "dddddddd",
                "Merge pull request #6 from lsst-ts/release/v27_cycle44",
            ),
            merge(
                "eeeeeeee",
                "Merge pull request #5 from lsst-ts/tickets/DM-9",
            ),
        ];
        let keys: BTreeSet<String> = ["DM-8".to_string()].into();
        let range = MergeRange {
            previous: "v24.0.0".into(),
            from: "v24.1.0".into(),
        };
        let f = merge_findings(&merges, &keys, "24.1.0", &range, &rules);
        assert_eq!(f.len(), 1, "DM-9 merged twice is one finding: {f:?}");
        assert_eq!(f[0].subject(), "DM-9");
        let tags = ["v23.0.0", "v24.0.0", "v24.1.0", "v24.0.1", "v24.0.1.rc.1"].map(String::from);
        assert_eq!(previous_version(&tags, "24.1.0").unwrap(), "v24.0.1");
        let commits = ticket_commits(&merges, &["DM-9".into(), "DM-1".into()]);
        assert_eq!(commits[0].1, ["aaaaaaaa", "eeeeeeee"]);
        assert!(commits[1].1.is_empty());
    }
}
