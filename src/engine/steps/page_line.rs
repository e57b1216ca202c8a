//! A revert's line on the reverted cycle's Confluence page: one owned
//! section of its own ([`crate::edit::storage`]), added to the page that
//! exists (never creating one) or brought up to date; a rerun of the
//! cycle's page leaves it alone. Planned by [`super::revert`].

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::Outcome;
use crate::engine::pages::seen_of;
use crate::plan::{
    Action, Observed, PageRequest, Plan, Planner, Seen, Selector, Step, StepKind, StepSpec, Wait,
};
use crate::services::confluence::{self, PageAction, PageState};

/// The page-line kind.
pub struct PageLine;

/// Planned by the revert ([`super::revert::Revert`]).
impl Planner for PageLine {}

/// Why a revert's line has nowhere to go.
fn no_page(request: &PageRequest) -> String {
    format!(
        "there is no page titled \"{}\" in space {} to add the revert to",
        request.title, request.space
    )
}

#[async_trait(?Send)]
impl Kind for PageLine {
    fn kind(&self) -> StepKind {
        StepKind::PageLine
    }

    fn name(&self) -> &'static str {
        "page line"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Confluence)
    }

    /// After the pull requests, whose links it shows.
    fn phases(&self) -> &'static [Phase] {
        &[Phase::Results]
    }

    async fn observe(&self, _phase: Phase, cx: &Cx<'_>, plan: &Plan, _: &Observed) -> Observed {
        let mut learnt = Observed::default();
        let Ok(api) = cx.services.pages.api() else {
            return learnt;
        };
        if cx.offline {
            return learnt;
        }
        for step in Cx::steps_of(plan, StepKind::PageLine).filter(|s| cx.selection.selects(s)) {
            let StepSpec::PageLine(request) = &step.spec else {
                continue;
            };
            let seen = match confluence::find(api.as_ref(), request).await {
                Ok(PageState::Absent) => Seen {
                    action: Action::Waiting,
                    note: no_page(request),
                    detail: vec![],
                    link: None,
                    waiting_on: Some(Wait::Missing {
                        what: no_page(request),
                    }),
                    basis: Some("no page".into()),
                },
                Ok(state) => seen_of(state, request, None),
                Err(e) => {
                    cx.progress
                        .note(&format!("{}: not looked up: {e}", step.id));
                    continue;
                }
            };
            learnt.seen.insert(step.id.clone(), seen);
        }
        learnt
    }

    /// Adds the section to the page, or updates it; refuses when the page
    /// does not exist.
    async fn execute(&self, cx: &Cx<'_>, step: &Step, _: &Observed) -> anyhow::Result<Done> {
        let StepSpec::PageLine(request) = &step.spec else {
            anyhow::bail!("{}: not a page-line step", step.id);
        };
        let api = cx.services.pages.api()?;
        let Some(out) = confluence::amend(api.as_ref(), request).await? else {
            anyhow::bail!("{}: {}; nothing was written", step.id, no_page(request));
        };
        Ok(Done {
            action: match out.action {
                PageAction::Created | PageAction::Updated => "updated",
                PageAction::Unchanged => "unchanged",
            }
            .to_string(),
            outcome: Outcome::Page {
                id: out.id,
                version: out.version,
                url: Some(out.url),
            },
        })
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::PageLine(request) = &step.spec
            && needs.page.is_none()
        {
            needs.page = Some(request.clone());
        }
    }
}
