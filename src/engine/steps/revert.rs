//! `cycle revert --site SITE --to N`: the plan that puts a site back on an
//! earlier cycle. It is planned against the reverted cycle's release
//! manifest (its page, its announcements) and made of steps of the
//! registered kinds, so it is observed, shown, saved and applied like
//! `prepare`'s plan:
//!
//! 1. a ticket "Revert SITE to Cycle N" ([`super::ticket`]), found by its
//!    exact summary or created;
//! 2. per repository whose edits name the cycle (a `set` of a YAML key,
//!    phalanx's `controlSystem.imageTag`), a configuration branch
//!    ([`super::config`]) whose edits come from history: the newest commit
//!    of the base on Cycle N, its cycle-owned values put back on today's
//!    base ([`crate::edit::revert`]);
//! 3. its pull request ([`super::pull_request`]), no review notice;
//! 4. a line on the reverted cycle's page, its own owned section
//!    ([`super::page_line`]);
//! 5. the reverted cycle's pending announcements of the site deleted
//!    ([`super::unschedule`]), then a revert notice in the site's channel
//!    ([`super::revert_notice`]).
//!
//! Planning is pure, as every kind's: what history gave arrives in
//! [`Observed::reverts`].

use minijinja::{Value, context};

use super::message::{Announcement, message_step};
use crate::edit::revert::cycle_marker;
use crate::model::site::LoadedSite;
use crate::plan::{
    Action, Change, MessageKind, MessageRequest, PageRequest, PlanError, Planner, RepoState,
    SiteInput, Step, StepId, StepSpec, pending_step,
};
use crate::render::names;

/// The revert planner: the sites go back to Cycle `to`.
pub struct Revert {
    /// The cycle returned to.
    pub to: u32,
}

/// The tag of a cycle, `c0044`.
pub fn cycle_tag(cycle: u32) -> String {
    format!("c{cycle:04}")
}

impl Revert {
    /// The owned section of the page that holds the site's revert line.
    fn section(&self, site: &str) -> String {
        format!("revert-{site}-to-{}", self.to)
    }

    /// `ctx` with `revert`: `to` (44), `to_label` ("Cycle 44"), `to_tag`
    /// (`c0044`), `section`, `commit` (where Cycle N was found, once
    /// known), `pull_requests` (the site's revert PRs, `{text, url}`) and
    /// `pr_links` (the same as mrkdwn links).
    fn context(&self, input: &SiteInput<'_>, commit: Option<&str>) -> Value {
        let site = &input.site.site.name;
        let pulls = input
            .rows
            .iter()
            .find(|r| &r.site == site)
            .map(|r| r.pull_requests.clone())
            .unwrap_or_default();
        let links: Vec<Value> = pulls
            .iter()
            .map(|p| Value::from_safe_string(crate::render::mrkdwn_link(&p.url, &p.text)))
            .collect();
        context! {
            revert => context! {
                to => self.to,
                to_label => format!("Cycle {}", self.to),
                to_tag => cycle_tag(self.to),
                section => self.section(site),
                commit => commit.map_or_else(|| format!("the last commit of Cycle {}", self.to), |c| format!("commit {c}")),
                pull_requests => pulls,
                pr_links => links,
            },
            ..input.ctx.clone()
        }
    }

    /// The configuration step and pull request of each repository whose
    /// edits name the cycle.
    fn branches(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let loaded = input.site;
        let site = &loaded.site;
        let label = format!("Cycle {}", self.to);
        let mut steps = Vec::new();
        for repo in &site.repositories {
            let Some(marker) = cycle_marker(repo, self.to, site)? else {
                continue;
            };
            let key = (site.name.clone(), repo.repo.clone());
            let known = |reason: String| {
                input
                    .observed
                    .repos
                    .get(&key)
                    .cloned()
                    .unwrap_or(RepoState::Unknown { reason })
            };
            let mut notes = Vec::new();
            let (edits, state, commit) = match input.observed.reverts.get(&key) {
                Some(Ok(source)) => {
                    notes.push(format!(
                        "{label} is commit {} of {}",
                        source.commit, repo.base
                    ));
                    // The remote says which cycle the site is on: a revert
                    // of another cycle than the manifest's is named.
                    let from = cycle_marker(repo, input.release.id.cycle, site)?
                        .map_or_else(|| cycle_tag(input.release.id.cycle), |m| m.value);
                    match source.base_value.as_deref() {
                        Some(now) if now == marker.value => notes.push(format!(
                            "{} is on {label} already (`{}: {now}`)",
                            repo.base, marker.path
                        )),
                        Some(now) if now != from => notes.push(format!(
                            "warning: {} is on `{now}`, not on {} (`{from}`): is --from right?",
                            repo.base,
                            input.release.id.label()
                        )),
                        _ => {}
                    }
                    (
                        source.edits.clone(),
                        known("current content unknown (no cached clone was read)".into()),
                        Some(source.commit.clone()),
                    )
                }
                Some(Err(reason)) => (
                    vec![],
                    RepoState::Unknown {
                        reason: format!("{label} not found in {}: {reason}", repo.repo),
                    },
                    None,
                ),
                None => (
                    vec![],
                    RepoState::Unknown {
                        reason: format!(
                            "the values of {label} are unknown (the history of {} was not read)",
                            repo.repo
                        ),
                    },
                    None,
                ),
            };
            let ctx = self.context(input, commit.as_deref());
            let message = input.templates.render(names::REVERT_COMMIT_MESSAGE, &ctx)?;
            let mut config = crate::plan::config_step(
                &site.name,
                repo,
                &edits,
                message.trim_end(),
                input.ticket.map(|_| input.branch),
                input.branch,
                state,
            );
            if let StepSpec::Config(request) = &mut config.spec {
                request.revert = Some(marker.clone());
            }
            config.observe.push(format!(
                "the newest commit of {} with {} `{}: {}`",
                repo.base, marker.file, marker.path, marker.value
            ));
            config.notes.extend(notes);
            steps.push(config);
            let ctx = crate::plan::pr::pr_context(loaded, repo, &ctx, input.observed);
            steps.extend(crate::plan::pr::pull_request_step(
                loaded,
                repo,
                input.templates.render_line(names::REVERT_PR_TITLE, &ctx)?,
                input.templates.render(names::REVERT_PR_BODY, &ctx)?,
                input.branch,
                input.observed,
            ));
        }
        Ok(steps)
    }

    /// The reverted cycle's announcements of the site, deleted while
    /// pending.
    fn unschedule(&self, input: &SiteInput<'_>) -> Result<Step, PlanError> {
        let site = &input.site.site;
        let requests: Vec<MessageRequest> = Announcement
            .plan_site(input)?
            .into_iter()
            .filter_map(|s| match s.spec {
                StepSpec::Message(request) => Some(request),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = requests.iter().map(|r| r.message.as_str()).collect();
        let mut step = pending_step(
            StepId::Unschedule {
                site: site.name.clone(),
            },
            5,
            format!(
                "Cancel the {} announcements of {} in {}",
                input.release.id.label(),
                site.label,
                site.slack.channel
            ),
            vec![],
            vec![format!(
                "pending scheduled messages {} of site {}, {} in {}",
                names.join(", "),
                site.name,
                input.release.id.full_tag(),
                site.slack.channel
            )],
            requests
                .iter()
                .cloned()
                .map(Change::CancelMessage)
                .collect(),
            StepSpec::Unschedule(requests),
            input.observed,
        );
        // Not looked at: it deletes whatever is still pending.
        if step.action == Action::Create {
            step.action = Action::Update;
        }
        Ok(step)
    }

    /// The line on the reverted cycle's page.
    fn page_line(&self, input: &SiteInput<'_>) -> Result<Step, PlanError> {
        let loaded: &LoadedSite = input.site;
        let (_, title) = crate::plan::template_context(
            input.templates,
            input.release,
            loaded,
            input.ticket.map(str::to_string),
            input.rows,
        )?;
        let ctx = self.context(input, None);
        let confluence = &loaded.site.confluence;
        let request = PageRequest {
            space: confluence.space.clone(),
            parent_id: confluence.parent_id.clone(),
            title: title.clone(),
            body: input.templates.render(names::REVERT_PAGE_LINE, &ctx)?,
            blocked_by: vec![],
        };
        let site = &loaded.site.name;
        let mut step = pending_step(
            StepId::PageLine { site: site.clone() },
            4,
            format!("Revert line on \"{title}\""),
            vec![StepId::Ticket { site: site.clone() }],
            vec![format!(
                "section {} of the page titled \"{title}\" in space {}",
                self.section(site),
                confluence.space
            )],
            vec![Change::AddToPage(request.clone())],
            StepSpec::PageLine(request),
            input.observed,
        );
        // Not looked at: it adds to a page, never creates one.
        if step.action == Action::Create {
            step.action = Action::Update;
        }
        step.shows = self.pull_requests(input);
        Ok(step)
    }

    /// The site's revert pull requests, whose links the page line and the
    /// notice show.
    fn pull_requests(&self, input: &SiteInput<'_>) -> Vec<StepId> {
        let site = &input.site.site;
        site.repositories
            .iter()
            .filter(|r| cycle_marker(r, self.to, site).ok().flatten().is_some())
            .map(|r| StepId::PullRequest {
                site: site.name.clone(),
                repo: r.repo.clone(),
            })
            .collect()
    }

    /// The revert notice in the site's channel, once the announcements are
    /// deleted and the pull requests opened (it says the site goes back).
    fn notice(&self, input: &SiteInput<'_>) -> Result<Step, PlanError> {
        let site = &input.site.site;
        let ctx = self.context(input, None);
        let request = MessageRequest {
            site: site.name.clone(),
            channel: site.slack.channel.clone(),
            message: MessageKind::RevertNotice.as_str().to_string(),
            subject: Some(cycle_tag(self.to)),
            at: None,
            text: input
                .templates
                .render(names::REVERT_NOTICE, &ctx)?
                .trim_end()
                .to_string(),
        };
        let id = StepId::Message {
            site: site.name.clone(),
            kind: MessageKind::RevertNotice,
        };
        let mut step = message_step(id, 5, "message", request, input);
        step.depends_on = vec![StepId::Unschedule {
            site: site.name.clone(),
        }];
        step.depends_on.extend(self.pull_requests(input));
        step.shows = self.pull_requests(input);
        Ok(step)
    }
}

impl Planner for Revert {
    /// The revert's steps of one site (see the module documentation).
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let ctx = self.context(input, None);
        let request = crate::plan::plain_ticket_request(
            input.site,
            input.templates.render_line(names::REVERT_SUMMARY, &ctx)?,
            input.templates.render(names::REVERT_DESCRIPTION, &ctx)?,
        );
        let mut steps = vec![crate::plan::site_ticket_step(
            input.site,
            request,
            input.ticket,
        )];
        steps.extend(self.branches(input)?);
        steps.push(self.page_line(input)?);
        steps.push(self.unschedule(input)?);
        steps.push(self.notice(input)?);
        Ok(steps)
    }
}
