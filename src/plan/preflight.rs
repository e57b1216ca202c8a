//! Pre-flight findings: what `cycle doctor` (and an online `cycle prepare
//! --dry-run`) found of each service before anything is written, each with
//! the fix for what failed. Pure data and its text form; the checks
//! themselves are in [`crate::engine::doctor`].

use std::fmt::Write;

use serde::Serialize;

use crate::style::Style;

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

fn mark(status: Status, style: Style) -> String {
    match status {
        Status::Ok => style.green("✓"),
        Status::Fail => style.red("✗"),
        Status::Warn => style.yellow("!"),
        Status::Skipped => style.dim("-"),
    }
}

/// The findings as text, grouped by site (what all sites share first) and
/// service, one line per check and the fix under each failure or warning.
/// `verbose` shows passed checks too; otherwise a service whose checks all
/// passed is one line.
pub fn text(findings: &[Finding], style: Style, verbose: bool) -> String {
    let mut out = String::new();
    let mut sites: Vec<Option<&str>> = Vec::new();
    for f in findings {
        if !sites.contains(&f.site.as_deref()) {
            sites.push(f.site.as_deref());
        }
    }
    sites.sort_by_key(|s| s.is_some());
    for site in sites {
        let heading = site.unwrap_or("all sites");
        let _ = writeln!(out, "{}", style.bold(heading));
        for service in Service::ALL {
            let group: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.site.as_deref() == site && f.service == service)
                .collect();
            if group.is_empty() {
                continue;
            }
            let counts = Counts::of(group.iter().copied());
            if !verbose && counts.ok == group.len() {
                let _ = writeln!(
                    out,
                    "  {} {}: {} check{} passed",
                    mark(Status::Ok, style),
                    service.label(),
                    counts.ok,
                    if counts.ok == 1 { "" } else { "s" }
                );
                continue;
            }
            let _ = writeln!(out, "  {}", service.label());
            for f in group {
                if f.status == Status::Ok && !verbose {
                    continue;
                }
                let _ = writeln!(
                    out,
                    "    {} {}: {}",
                    mark(f.status, style),
                    f.check,
                    f.found
                );
                if let Some(fix) = &f.fix {
                    let _ = writeln!(out, "      {} {fix}", style.dim("fix:"));
                }
            }
            if !verbose && counts.ok > 0 {
                let _ = writeln!(
                    out,
                    "    {} {} other check{} passed",
                    mark(Status::Ok, style),
                    counts.ok,
                    if counts.ok == 1 { "" } else { "s" }
                );
            }
        }
    }
    let counts = Counts::of(findings);
    let _ = writeln!(
        out,
        "{} check{}: {} ok, {} failed, {} warning{}, {} skipped.",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        counts.ok,
        counts.fail,
        counts.warn,
        if counts.warn == 1 { "" } else { "s" },
        counts.skipped
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_groups_by_site_and_service_and_names_the_fix() {
        let findings = vec![
            Finding::ok(Service::Jira, None, "credentials", "logged in as Bot"),
            Finding::ok(Service::Slack, Some("summit"), "channel #a", "member"),
            Finding::fail(
                Service::Slack,
                Some("summit"),
                "channel #b",
                "the bot is not a member",
                "invite @bot to #b",
            ),
            Finding::skipped(Service::Git, Some("tts"), "base branch", "offline"),
        ];
        let shown = text(&findings, Style::plain(), false);
        assert_eq!(
            shown,
            "all sites\n  ✓ Jira: 1 check passed\nsummit\n  Slack\n    ✗ channel #b: the bot is \
             not a member\n      fix: invite @bot to #b\n    ✓ 1 other check passed\ntts\n  git\n    \
             - base branch: offline\n4 checks: 2 ok, 1 failed, 0 warnings, 1 skipped.\n"
        );
        let verbose = text(&findings, Style::plain(), true);
        assert!(verbose.contains("    ✓ channel #a: member\n"), "{verbose}");
        assert!(
            verbose.contains("    ✓ credentials: logged in as Bot\n"),
            "{verbose}"
        );
        let preflight = Preflight::checked(findings);
        assert!(preflight.failed());
        assert_eq!(
            Counts::of(&preflight.findings),
            Counts {
                ok: 2,
                fail: 1,
                warn: 0,
                skipped: 1
            }
        );
    }
}
