//! Pre-flight findings: what `cycle doctor` (and an online `cycle prepare
//! --dry-run`) found of each service before anything is written, each with
//! the fix for what failed. Pure data: the checks themselves are in
//! [`crate::engine::doctor`], the text, JSON and Markdown in [`crate::output`].

use serde::Serialize;

/// The service a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// Jira: configuration and calendar tickets.
    Jira,
    /// Confluence: the cycle's page.
    Confluence,
    /// Slack: announcements and notices.
    Slack,
    /// GitHub: pull requests.
    Github,
    /// git: the configuration repositories.
    Git,
}

impl Service {
    /// Every service, in the order findings are shown.
    pub const ALL: [Service; 5] = [
        Service::Jira,
        Service::Confluence,
        Service::Slack,
        Service::Github,
        Service::Git,
    ];

    /// The name shown in text output.
    pub fn label(self) -> &'static str {
        match self {
            Service::Jira => "Jira",
            Service::Confluence => "Confluence",
            Service::Slack => "Slack",
            Service::Github => "GitHub",
            Service::Git => "git",
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ready.
    Ok,
    /// Not ready: applying would fail here. Has a fix.
    Fail,
    /// Worth knowing; does not fail the check run.
    Warn,
    /// Not checked (the service is not configured for a dry run, or an
    /// earlier check of the service failed).
    Skipped,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The service checked.
    pub service: Service,
    /// The site it concerns; `None` for what every site shares
    /// (credentials, the cycle's page).
    pub site: Option<String>,
    /// What was checked, e.g. `credentials`, `project OSW`,
    /// `SUMMIT/Task field customfield_10059 (Start date)`.
    pub check: String,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub found: String,
    /// What to do about a failure or a warning.
    pub fix: Option<String>,
}

impl Finding {
    /// A passed check.
    pub fn ok(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Ok, found, None)
    }

    /// A failed check and its fix.
    pub fn fail(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Fail, found, Some(fix.into()))
    }

    /// A check that was not made, and why.
    pub fn skipped(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Skipped, why, None)
    }

    /// Any finding.
    pub fn new(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        status: Status,
        found: impl Into<String>,
        fix: Option<String>,
    ) -> Self {
        Self {
            service,
            site: site.map(str::to_string),
            check: check.into(),
            status,
            found: found.into(),
            fix,
        }
    }
}

/// How many findings of each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub ok: usize,
    /// Failed.
    pub fail: usize,
    /// Warnings.
    pub warn: usize,
    /// Not checked.
    pub skipped: usize,
}

impl Counts {
    /// Counts `findings`.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut counts = Self::default();
        for f in findings {
            match f.status {
                Status::Ok => counts.ok += 1,
                Status::Fail => counts.fail += 1,
                Status::Warn => counts.warn += 1,
                Status::Skipped => counts.skipped += 1,
            }
        }
        counts
    }
}

/// The pre-flight checks of a plan (`cycle prepare --dry-run`), in the
/// plan's JSON as `preflight`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preflight {
    /// Whether the checks ran.
    pub checked: bool,
    /// Why they did not run (offline), when they did not.
    pub skipped: Option<String>,
    /// What they found.
    pub findings: Vec<Finding>,
}

impl Preflight {
    /// The checks ran and found `findings`.
    pub fn checked(findings: Vec<Finding>) -> Self {
        Self {
            checked: true,
            skipped: None,
            findings,
        }
    }

    /// The checks did not run, for `reason`.
    pub fn skipped(reason: &str) -> Self {
        Self {
            checked: false,
            skipped: Some(reason.to_string()),
            findings: vec![],
        }
    }

    /// Whether a check failed.
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.status == Status::Fail)
    }
}
