//! The cycle's Confluence page (checklist 4): found by space and title,
//! created once under the parent, its owned sections updated with the next
//! version when they differ.
//!
//! - In the inputs phase (online and offline) ts_cycle_build's
//!   `cycle/cycle.env` is read through the run's clone cache when the page
//!   step is selected and reconciled with the release manifest into
//!   [`Observed::cycle_build`] (and, for a revision, its XML changes).
//! - In the results phase (online) the page is found and the plan says what
//!   applying would do: create it, update the owned sections that differ
//!   (with their diff), or nothing.
//! - Executing refuses while a pre-flight finding blocks the step, then
//!   [`confluence::ensure`]s the page: created under the parent, updated
//!   with the next version, not written when unchanged, a 409 re-read,
//!   re-merged and retried once.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase};
use crate::engine::doctor::needs::Needs;
use crate::engine::journal::{Journal, Outcome};
use crate::engine::pages::{cycle_build_of, seen_of, unreadable};
use crate::plan::{
    Action, CycleInput, MessageKind, Observed, PageRequest, Plan, PlanError, Planner, Seen,
    Selector, Step, StepId, StepKind, StepSpec,
};
use crate::services::confluence::{self, PageAction};
use crate::services::cycle_build;

/// The page kind.
pub struct Page;

impl Planner for Page {
    fn plan_cycle(&self, input: &CycleInput<'_>) -> Result<Vec<Step>, PlanError> {
        let Some(first) = input.sites.first() else {
            return Ok(vec![]);
        };
        let mut page = crate::plan::page::page_step(
            input.release,
            first,
            input.sites,
            input.rows,
            input.templates,
            input.observed,
        )?;
        // The page's table links every site's PRs: one run writes it once
        // they are known.
        page.shows = input
            .site_plans
            .iter()
            .flat_map(|p| &p.steps)
            .filter(|s| s.kind == StepKind::PullRequest)
            .map(|s| s.id.clone())
            .collect();
        Ok(vec![page])
    }
}

#[async_trait(?Send)]
impl Kind for Page {
    fn kind(&self) -> StepKind {
        StepKind::Page
    }

    fn name(&self) -> &'static str {
        "Confluence page"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Confluence)
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Inputs, Phase::Results]
    }

    async fn observe(
        &self,
        phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        observed: &Observed,
    ) -> Observed {
        match phase {
            Phase::Inputs => observe_page_inputs(cx, plan, observed).await,
            Phase::Results if !cx.offline => {
                let mut learnt = Observed::default();
                learnt
                    .seen
                    .extend(observe_page(cx, plan, &cx.journal()).await);
                learnt
            }
            _ => Observed::default(),
        }
    }

    async fn execute(&self, cx: &Cx<'_>, step: &Step, observed: &Observed) -> anyhow::Result<Done> {
        let StepSpec::Page(request) = &step.spec else {
            anyhow::bail!("{}: not a page step", step.id);
        };
        execute_page(cx, step, request, observed).await
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        if let StepSpec::Page(request) = &step.spec {
            needs.page = Some(request.clone());
        }
    }
}

/// Reads ts_cycle_build's `cycle.env` when a selected page step needs
/// the versions, and records the link of every known ticket for the
/// page's ticket table. Runs offline too (cached clone only).
async fn observe_page_inputs(cx: &Cx<'_>, plan: &Plan, observed: &Observed) -> Observed {
    let mut learnt = Observed::default();
    let Some(versions) = &cx.services.pages.versions else {
        return learnt;
    };
    if observed.cycle_build.is_some()
        || !plan
            .steps()
            .any(|s| s.id == StepId::Page && cx.selection.selects(s))
    {
        return learnt;
    }
    let git = cx.git.clone();
    let source = versions.source.clone();
    let read = tokio::task::spawn_blocking(move || git.cycle_build(&source)).await;
    let (mut build, xml_version) = match read {
        Ok(Ok(found)) => {
            let xml = match &found {
                cycle_build::Observed::Read(s) => s.env.get("ts_xml").map(str::to_string),
                cycle_build::Observed::Offline => None,
            };
            (cycle_build_of(&found, versions), xml)
        }
        Ok(Err(e)) => (unreadable(versions, &format!("{e:#}")), None),
        Err(e) => (unreadable(versions, &e.to_string()), None),
    };
    let xml_version = xml_version.or_else(|| versions.manifest.get("ts_xml").cloned());
    if cx.id.revision > 0
        && !cx.offline
        && let Some(rules) = &cx.services.pages.xml
        && let Some(version) = xml_version
    {
        match cx.services.tickets.api() {
            Err(e) => build
                .notes
                .push(format!("the revision's XML changes are not listed: {e}")),
            Ok(api) => {
                let server = crate::services::http::env_var("GITHUB_SERVER_URL")
                    .unwrap_or_else(|| "https://github.com".to_string());
                let changes = crate::engine::check::revision_changes(
                    cx.git.clone(),
                    api.as_ref(),
                    rules,
                    &server,
                    &version,
                    None,
                    |key| cx.services.tickets.browse_url(key),
                )
                .await;
                match changes {
                    Ok(changes) => learnt.xml_changes = Some(changes),
                    Err(e) => build
                        .notes
                        .push(format!("the revision's XML changes are not listed: {e}")),
                }
            }
        }
    }
    learnt.cycle_build = Some(build);
    learnt
}

/// Looks for the page of `plan` (read only) when the page step or an
/// announcement of it is selected: the journal's page id is a hint, the
/// page is found by space and title.
async fn observe_page(cx: &Cx<'_>, plan: &Plan, journal: &Journal) -> Vec<(StepId, Seen)> {
    let Some(step) = plan.step(&StepId::Page) else {
        return vec![];
    };
    let StepSpec::Page(request) = &step.spec else {
        return vec![];
    };
    let wanted = plan.steps().any(|s| {
        cx.selection.selects(s)
            && matches!(
                &s.id,
                StepId::Page
                    | StepId::Message {
                        kind: MessageKind::PageReady,
                        ..
                    }
            )
    });
    if !wanted {
        return vec![];
    }
    let api = match cx.services.pages.api() {
        Ok(api) => api,
        Err(reason) => {
            return vec![(
                StepId::Page,
                Seen {
                    action: Action::Create,
                    note: format!("the page was not looked up: {reason}"),
                    detail: vec![],
                    link: None,
                    waiting_on: None,
                    basis: None,
                },
            )];
        }
    };
    let journal_id = match journal.entry(&StepId::Page).outcome {
        Some(Outcome::Page { id, .. }) => Some(id),
        _ => None,
    };
    let seen = match confluence::find(api.as_ref(), request).await {
        Ok(state) => seen_of(state, request, journal_id.as_deref()),
        Err(e) => Seen {
            action: Action::Create,
            note: format!("the page could not be looked up ({e}); applying looks again first"),
            detail: vec![],
            link: None,
            waiting_on: None,
            basis: None,
        },
    };
    vec![(StepId::Page, seen)]
}

/// Executes the page step: refuses while a pre-flight finding blocks
/// it, then finds the page and creates or updates only what differs.
async fn execute_page(
    cx: &Cx<'_>,
    step: &Step,
    request: &PageRequest,
    observed: &Observed,
) -> anyhow::Result<Done> {
    let _ = observed;
    if !request.blocked_by.is_empty() {
        anyhow::bail!(
            "{}: blocked by pre-flight findings: {}. Nothing was written; fix the release \
             manifest or the ts_cycle_build ref (--cycle-build-ref), or pass \
             --accept-version-mismatch",
            step.id,
            request.blocked_by.join("; ")
        );
    }
    let api = cx.services.pages.api().map_err(|e| {
        anyhow::anyhow!(
            "{}: the {} step cannot be applied ({e}); use --skip {}",
            step.id,
            Page.name(),
            Selector::Confluence.name()
        )
    })?;
    let out = confluence::ensure(api.as_ref(), request).await?;
    for note in &out.notes {
        cx.progress.note(&format!("{}: {note}", step.id));
    }
    Ok(Done {
        action: match out.action {
            PageAction::Created => "created",
            PageAction::Updated => "updated",
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
