//! The one finding type: what a check found, from `cycle doctor` (is each
//! service ready for what the plan sends?) or `cycle check` (is the cycle
//! build ready?), with what to do about it. Pure data; the text, JSON and
//! Markdown forms are in [`crate::output`], the checks in
//! [`crate::engine::doctor`] and [`crate::engine::check`].

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
    /// Not checked (offline, the service is not configured, or an earlier
    /// check of the service failed); `cycle check` is then not ready.
    Skipped,
}

impl Status {
    /// `ok`, `fail`, `warn`, `skipped`: as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skipped => "skipped",
        }
    }
}

/// Which command's checks a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `cycle doctor` (and the plan's pre-flight): a service's readiness.
    Doctor,
    /// `cycle check`: the cycle build's readiness.
    Check,
}

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// ts_cycle_build's `cycle.env` is for this cycle and agrees with the manifest.
    CycleBuild,
    /// Every version of `cycle.env` has a release tag.
    Releases,
    /// Every conda package exists at its version.
    Conda,
    /// The XML release's tickets are done.
    XmlTickets,
    /// No merge into ts_xml without a ticket of the release.
    Merges,
    /// The Confluence page's revision section.
    RevisionSection,
}

impl Check {
    /// The check's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::CycleBuild => "cycle-build",
            Check::Releases => "releases",
            Check::Conda => "conda",
            Check::XmlTickets => "xml-tickets",
            Check::Merges => "merges",
            Check::RevisionSection => "revision-section",
        }
    }
}

/// One check's result: what is (not) ready, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which checks it comes from.
    pub source: Source,
    /// How it came out.
    pub status: Status,
    /// The site it concerns; `None` for what every site shares
    /// (credentials, the cycle's page, every `cycle check` finding).
    pub site: Option<String>,
    /// The service checked (`cycle doctor`); `None` for `cycle check`.
    pub service: Option<Service>,
    /// What was checked: for `cycle doctor` e.g. `credentials`,
    /// `channel #summit-announce`; for `cycle check` its check
    /// (`releases`, `conda`, …, see [`Check`]).
    pub check: String,
    /// What it is about (a package, a ticket, a file), when the check does
    /// not name it itself.
    pub subject: Option<String>,
    /// What was found.
    pub found: String,
    /// What to do about a failure or a warning; `None` when nothing is to
    /// be done.
    pub fix: Option<String>,
}

impl Finding {
    /// A passed `cycle doctor` check.
    pub fn ok(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Ok, found, None)
    }

    /// A failed `cycle doctor` check and its fix.
    pub fn fail(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Fail, found, Some(fix.into()))
    }

    /// A `cycle doctor` check that was not made, and why.
    pub fn skipped(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        Self::new(service, site, check, Status::Skipped, why, None)
    }

    /// Any `cycle doctor` finding.
    pub fn new(
        service: Service,
        site: Option<&str>,
        check: impl Into<String>,
        status: Status,
        found: impl Into<String>,
        fix: Option<String>,
    ) -> Self {
        Self {
            source: Source::Doctor,
            status,
            site: site.map(str::to_string),
            service: Some(service),
            check: check.into(),
            subject: None,
            found: found.into(),
            fix,
        }
    }

    /// A `cycle check` finding of `check` about `subject`; `fix` empty when
    /// nothing is to be done. The message is kept to one readable line.
    pub fn check(
        status: Status,
        check: Check,
        subject: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let fix = fix.into();
        Self {
            source: Source::Check,
            status,
            site: None,
            service: None,
            check: check.as_str().to_string(),
            subject: Some(subject.into()),
            found: readable(message.into()),
            fix: (!fix.is_empty()).then_some(fix),
        }
    }

    /// A `cycle check` check that could not run, and why.
    pub fn check_skipped(check: Check, why: impl Into<String>, fix: impl Into<String>) -> Self {
        Self::check(Status::Skipped, check, check.as_str(), why, fix)
    }

    /// Whether this is a finding of `cycle check`'s `check`.
    pub fn is(&self, check: Check) -> bool {
        self.source == Source::Check && self.check == check.as_str()
    }

    /// What it is about: the subject, or else the check.
    pub fn subject(&self) -> &str {
        self.subject.as_deref().unwrap_or(&self.check)
    }
}

/// The longest message a `cycle check` finding keeps (a server's whole
/// answer quoted in an error would make one line of thousands of
/// characters).
const MESSAGE_MAX: usize = 480;

/// `message` on one line, cut at [`MESSAGE_MAX`] characters.
fn readable(message: String) -> String {
    let message = if message.contains('\n') {
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        message
    };
    let count = message.chars().count();
    if count <= MESSAGE_MAX {
        return message;
    }
    let kept: String = message.chars().take(MESSAGE_MAX).collect();
    format!("{kept}… ({} characters more)", count - MESSAGE_MAX)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctor_and_check_findings_are_one_shape() {
        let doctor = Finding::fail(
            Service::Slack,
            Some("summit"),
            "channel #b",
            "the bot is not a member",
            "invite @bot to #b",
        );
        let check = Finding::check(Status::Fail, Check::Conda, "ts-x", "ts-x 1 is missing", "");
        let keys = |f: &Finding| -> Vec<String> {
            let value = serde_json::to_value(f).unwrap();
            value.as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(keys(&doctor), keys(&check));
        assert_eq!(doctor.source, Source::Doctor);
        assert_eq!(doctor.subject(), "channel #b");
        assert_eq!(check.source, Source::Check);
        assert_eq!(check.check, "conda");
        assert_eq!(check.subject(), "ts-x");
        assert_eq!(check.fix, None, "an empty fix is none");
        assert!(check.is(Check::Conda) && !check.is(Check::Releases));
        assert!(!Finding::ok(Service::Git, None, "conda", "ok").is(Check::Conda));
    }

    #[test]
    fn a_check_message_stays_one_readable_line() {
        let long = format!("first\nsecond {}", "x".repeat(600));
        let f = Finding::check_skipped(Check::Releases, long, "wait");
        assert!(f.found.starts_with("first second "), "{}", f.found);
        assert!(f.found.ends_with("characters more)"), "{}", f.found);
        assert_eq!(f.status, Status::Skipped);
        assert_eq!(f.subject(), "releases");
    }
}
