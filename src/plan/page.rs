//! Planning the cycle's Confluence page and its announcement (pure).
//!
//! - [`page_step`]: the cycle-level step `cycle:confluence`, one page for
//!   every site, after every chosen site's ticket. Its body is rendered
//!   with the versions of the release manifest completed from
//!   ts_cycle_build's `cycle/cycle.env` ([`CycleBuild`], read by the
//!   engine), the sites' tickets as `$JIRA_URL/browse/KEY` links and their
//!   pull requests once they exist (both from [`Observed::seen`]). A
//!   disagreement between `cycle.env` and the manifest is a pre-flight
//!   finding: shown in the plan, and blocking the step unless accepted.
//! - [`page_ready_step`]: per site, `SITE:slack:page_ready`, the link of
//!   the page posted once in the site channel when all base artifacts are
//!   built (checklist 4.1): after the page step and after
//!   `cycle mark --site SITE build-team done`.

use std::collections::BTreeMap;

use super::{
    Change, MessageKind, MessageRequest, Observed, PageRequest, PlanError, Step, StepId, StepSpec,
    pending_step, template_context,
};
use crate::model::context::{Link, SiteRow};
use crate::model::release::LoadedRelease;
use crate::model::site::LoadedSite;
use crate::plan::ManualStep;
use crate::render::{Templates, names};

/// What ts_cycle_build's `cycle/cycle.env` said, reconciled with the
/// release manifest by the cycle build service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleBuild {
    /// Versions the manifest leaves out, filled from `cycle.env` (package
    /// field name, e.g. `ts_idl`, → version).
    pub filled: BTreeMap<String, String>,
    /// Pre-flight findings: where `cycle.env` and the manifest disagree, or
    /// why `cycle.env` could not be read.
    pub findings: Vec<String>,
    /// How the versions were obtained, for the reader.
    pub notes: Vec<String>,
    /// Whether the findings were accepted (`--accept-version-mismatch`).
    pub accepted: bool,
}

/// The release with the versions it leaves out filled from `cycle.env`.
pub fn filled_release(release: &LoadedRelease, build: &CycleBuild) -> LoadedRelease {
    let mut filled = release.clone();
    for (package, version) in &build.filled {
        if let Some(slot) = filled.release.versions.package_mut(package)
            && slot.is_none()
        {
            *slot = Some(version.clone());
        }
    }
    filled
}

/// Adds what was observed to the page's site rows: each ticket's link (from
/// its step's [`super::Seen`]) and each pull request that exists.
pub fn link_rows(rows: &mut [SiteRow], observed: &Observed) {
    for row in rows {
        row.ticket_url = observed
            .seen
            .get(&StepId::Ticket {
                site: row.site.clone(),
            })
            .and_then(|seen| seen.link.clone())
            .filter(|url| {
                row.ticket
                    .as_deref()
                    .is_some_and(|key| url.ends_with(&format!("/{key}")))
            });
        row.pull_requests = observed
            .seen
            .iter()
            .filter_map(|(id, seen)| match id {
                StepId::PullRequest { site, repo } if site == &row.site => {
                    let url = seen.link.clone()?;
                    Some(Link {
                        text: pull_text(repo, &url),
                        url,
                    })
                }
                _ => None,
            })
            .collect();
    }
}

/// `lsst-sqre/phalanx#123` for a PR URL ending in its number, else the repository.
fn pull_text(repo: &str, url: &str) -> String {
    match url.trim_end_matches('/').rsplit('/').next() {
        Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
            format!("{repo}#{n}")
        }
        _ => repo.to_string(),
    }
}

/// The cycle's page step.
pub fn page_step(
    release: &LoadedRelease,
    first: &LoadedSite,
    sites: &[&LoadedSite],
    rows: &[SiteRow],
    templates: &Templates,
    observed: &Observed,
) -> Result<Step, PlanError> {
    let ticket = observed.tickets.get(&first.site.name).cloned();
    let (ctx, title) = template_context(templates, release, first, ticket, rows)?;
    let ctx = minijinja::context! {
        xml_changes => observed.xml_changes.clone().unwrap_or_default(),
        ..ctx
    };
    let confluence = &first.site.confluence;
    let build = observed.cycle_build.as_ref();
    let blocked_by = match build {
        Some(b) if !b.accepted => b.findings.clone(),
        _ => vec![],
    };
    let request = PageRequest {
        space: confluence.space.clone(),
        parent_id: confluence.parent_id.clone(),
        title: title.clone(),
        body: templates.render(names::CONFLUENCE_PAGE, &ctx)?,
        blocked_by,
    };
    let mut step = pending_step(
        StepId::Page,
        4,
        format!("Confluence page \"{title}\""),
        sites
            .iter()
            .map(|s| StepId::Ticket {
                site: s.site.name.clone(),
            })
            .collect(),
        vec![format!(
            "page titled \"{title}\" in space {}",
            confluence.space
        )],
        vec![Change::PublishPage(request.clone())],
        StepSpec::Page(request),
        observed,
    );
    if let Some(build) = build {
        step.notes.extend(build.notes.iter().cloned());
        step.notes.extend(
            build
                .findings
                .iter()
                .map(|f| format!("pre-flight finding: {f}")),
        );
        if !build.accepted {
            super::gate(&mut step, &build.findings);
        }
        if !build.findings.is_empty() {
            step.notes.push(if build.accepted {
                "the findings are accepted (--accept-version-mismatch): the manifest's versions are published".to_string()
            } else {
                "blocked: the page is not published while ts_cycle_build and the release manifest disagree; fix the manifest or the ts_cycle_build ref, or pass --accept-version-mismatch".to_string()
            });
        }
    }
    Ok(step)
}

/// The announcement of the page in a site's channel, once all base
/// artifacts are built.
pub fn page_ready_step(
    release: &LoadedRelease,
    loaded: &LoadedSite,
    templates: &Templates,
    ctx: &minijinja::Value,
    observed: &Observed,
) -> Result<Step, PlanError> {
    let site = &loaded.site;
    let title = ctx
        .get_attr("page_title")
        .ok()
        .and_then(|t| t.as_str().map(str::to_string))
        .unwrap_or_default();
    let page_link = observed
        .seen
        .get(&StepId::Page)
        .and_then(|seen| seen.link.as_deref())
        .map(|url| minijinja::Value::from_safe_string(crate::render::mrkdwn_link(url, &title)));
    let ctx = minijinja::context! { page_link => page_link, ..ctx.clone() };
    let kind = MessageKind::PageReady;
    let request = MessageRequest {
        site: site.name.clone(),
        channel: site.slack.channel.clone(),
        message: kind.as_str().to_string(),
        subject: None,
        at: None,
        text: templates
            .render(names::PAGE_READY, &ctx)?
            .trim_end()
            .to_string(),
    };
    let blocked = crate::plan::check::blocks_page_ready(&observed.checks);
    let mut step = pending_step(
        StepId::Message {
            site: site.name.clone(),
            kind,
        },
        4,
        format!("Announce the Confluence page in {}", site.slack.channel),
        vec![
            StepId::Page,
            StepId::Manual {
                site: site.name.clone(),
                step: ManualStep::BuildTeam,
            },
        ],
        vec![format!(
            "message {} of site {}, {} in {}",
            kind.as_str(),
            site.name,
            release.id.full_tag(),
            site.slack.channel
        )],
        vec![Change::PostMessage(request.clone())],
        StepSpec::Message(request),
        observed,
    );
    // An unreleased version gates the announcement: it waits, and is
    // evaluated again at apply.
    super::gate(&mut step, &blocked);
    Ok(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Seen};

    #[test]
    fn pull_request_links_read_their_number() {
        assert_eq!(
            pull_text(
                "lsst-sqre/phalanx",
                "https://github.com/lsst-sqre/phalanx/pull/5123"
            ),
            "lsst-sqre/phalanx#5123"
        );
        assert_eq!(
            pull_text("lsst-sqre/phalanx", "https://example.org/x"),
            "lsst-sqre/phalanx"
        );
    }

    #[test]
    fn rows_get_ticket_and_pull_request_links() {
        let mut rows = vec![SiteRow {
            site: "summit".into(),
            display_name: "Summit".into(),
            ticket: Some("OSW-7".into()),
            ticket_url: None,
            pull_requests: vec![],
            start: None,
        }];
        let seen = |link: &str| Seen {
            action: Action::None,
            note: String::new(),
            detail: vec![],
            link: Some(link.into()),
            waiting_on: None,
            basis: None,
        };
        let mut observed = Observed::default();
        observed.seen.insert(
            StepId::Ticket {
                site: "summit".into(),
            },
            seen("https://jira.example.org/browse/OSW-7"),
        );
        observed.seen.insert(
            StepId::PullRequest {
                site: "summit".into(),
                repo: "lsst-sqre/phalanx".into(),
            },
            seen("https://github.com/lsst-sqre/phalanx/pull/12"),
        );
        observed.seen.insert(
            StepId::PullRequest {
                site: "tts".into(),
                repo: "lsst-sqre/phalanx".into(),
            },
            seen("https://github.com/lsst-sqre/phalanx/pull/13"),
        );
        link_rows(&mut rows, &observed);
        assert_eq!(
            rows[0].ticket_url.as_deref(),
            Some("https://jira.example.org/browse/OSW-7")
        );
        assert_eq!(
            rows[0].pull_requests,
            [Link {
                text: "lsst-sqre/phalanx#12".into(),
                url: "https://github.com/lsst-sqre/phalanx/pull/12".into()
            }]
        );
    }
}
