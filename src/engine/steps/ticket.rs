//! The site's configuration ticket (Jira, checklist 1): found by its exact
//! summary, created once; its key names the branch, the commit, the PR and
//! the page's table row.

use async_trait::async_trait;

use super::kind::{Cx, Done, Kind, Phase, linked};
use crate::engine::doctor::needs::{Needs, TicketNeed};
use crate::engine::journal::{Outcome, Status};
use crate::engine::report::SummaryRow;
use crate::engine::tickets::{Found, Tickets};
use crate::plan::{
    Observed, Plan, PlanError, Planner, Selector, SiteInput, Step, StepId, StepKind, StepSpec,
    TicketRequest,
};

/// The configuration ticket kind.
pub struct Ticket;

/// Looks up every ticket step of `kind` in `plan` that `wanted` keeps
/// (read only, concurrently), noting what the lookups say and recording
/// each found ticket's key and status in `learnt.statuses` (what a saved
/// plan is compared on); returns each step's id with what was found.
pub async fn lookup(
    cx: &Cx<'_>,
    plan: &Plan,
    kind: StepKind,
    wanted: impl Fn(&Step) -> bool,
    learnt: &mut Observed,
) -> Vec<(StepId, Found)> {
    if cx.offline {
        return vec![];
    }
    let lookups = Cx::steps_of(plan, kind)
        .filter(|s| wanted(s))
        .filter_map(|step| match &step.spec {
            StepSpec::Ticket(req) => Some((step.id.clone(), req.clone())),
            _ => None,
        });
    let tickets: &Tickets = &cx.services.tickets;
    let found = futures::future::join_all(
        lookups.map(|(id, req)| async move { (id, tickets.find(&req).await) }),
    )
    .await;
    let mut out = Vec::new();
    for (id, result) in found {
        for note in result.iter().flatten().flat_map(Found::notes) {
            cx.progress.note(&format!("{id}: {note}"));
        }
        match result {
            Ok(Some(found)) => {
                learnt
                    .statuses
                    .insert(id.clone(), format!("{} {}", found.key, found.status));
                out.push((id, found));
            }
            Ok(None) => {}
            Err(e) => cx.progress.note(&format!("{id}: not looked up: {e}")),
        }
    }
    out
}

/// What the needs of a ticket step are: its project, type and fields.
pub fn ticket_needs(step: &Step, needs: &mut Needs) {
    if let StepSpec::Ticket(request) = &step.spec {
        needs.tickets.push(TicketNeed {
            site: step.id.site().unwrap_or_default().to_string(),
            step: step.id.clone(),
            request: request.clone(),
        });
    }
}

/// Executes a ticket-like step (a `StepSpec::Ticket`): finds or creates
/// its Jira issue (see [`ensure`]).
pub async fn execute_ticket(cx: &Cx<'_>, step: &Step) -> anyhow::Result<Done> {
    let StepSpec::Ticket(request) = &step.spec else {
        anyhow::bail!("{}: not a ticket step", step.id);
    };
    ensure(cx, step, request).await
}

/// Finds or creates the Jira issue of `request`, noting duplicates retired.
pub async fn ensure(cx: &Cx<'_>, step: &Step, request: &TicketRequest) -> anyhow::Result<Done> {
    let tickets = &cx.services.tickets;
    let ensured = tickets.ensure(request).await?;
    for note in ensured.notes() {
        cx.progress.note(&format!("{}: {note}", step.id));
    }
    Ok(Done {
        outcome: Outcome::Ticket {
            url: tickets.browse_url(&ensured.key),
            key: ensured.key,
        },
        action: ensured.action,
    })
}

impl Planner for Ticket {
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        Ok(vec![crate::plan::jira_step(
            input.release,
            input.site,
            input.templates,
            input.ctx,
            input.ticket,
        )?])
    }
}

#[async_trait(?Send)]
impl Kind for Ticket {
    fn kind(&self) -> StepKind {
        StepKind::Ticket
    }

    fn name(&self) -> &'static str {
        "Jira ticket"
    }

    fn selector(&self) -> Option<Selector> {
        Some(Selector::Jira)
    }

    fn phases(&self) -> &'static [Phase] {
        &[Phase::Journal, Phase::Lookup]
    }

    async fn observe(
        &self,
        phase: Phase,
        cx: &Cx<'_>,
        plan: &Plan,
        observed: &Observed,
    ) -> Observed {
        let mut learnt = Observed::default();
        match phase {
            // The journal's keys are a hint: with them the plan names the
            // ticket branches, which the repositories' fetch then brings.
            Phase::Journal => {
                let journal = cx.journal();
                for step in Cx::steps_of(plan, StepKind::Ticket) {
                    if let StepId::Ticket { site } = &step.id
                        && !observed.tickets.contains_key(site)
                        && let Some(key) = journal.ticket(site)
                    {
                        learnt.tickets.insert(site.clone(), key);
                    }
                }
            }
            Phase::Lookup => {
                // A ticket known from the journal is looked up too (Jira
                // may hold duplicates to retire, and its status is part of
                // what a saved plan is made against); one given with
                // `--ticket` is taken as is.
                let configured = cx.services.tickets.configured().is_ok();
                let found = lookup(
                    cx,
                    plan,
                    StepKind::Ticket,
                    |step| {
                        step.id.site().is_some_and(|site| {
                            !observed.given.contains(site)
                                && (!observed.tickets.contains_key(site) || configured)
                        })
                    },
                    &mut learnt,
                )
                .await;
                for (id, found) in found {
                    // Jira is the source of truth: its key wins over the
                    // journal's (which may name a retired duplicate).
                    if let Some(site) = id.site() {
                        learnt.tickets.insert(site.to_string(), found.key);
                    }
                }
                // Every known ticket's link, as the page's table shows it:
                // the dry run plans the page the apply writes.
                let mut known = observed.tickets.clone();
                known.extend(learnt.tickets.clone());
                for (site, key) in known {
                    let url = cx.services.tickets.browse_url(&key);
                    if let Some(url) = url {
                        learnt.seen.insert(
                            StepId::Ticket { site },
                            linked(format!("ticket {key}"), &url),
                        );
                    }
                }
            }
            _ => {}
        }
        learnt
    }

    async fn execute(&self, cx: &Cx<'_>, step: &Step, observed: &Observed) -> anyhow::Result<Done> {
        if let Some(key) = step.id.site().and_then(|site| observed.tickets.get(site)) {
            return Ok(Done {
                outcome: Outcome::Ticket {
                    key: key.clone(),
                    url: cx.services.tickets.browse_url(key),
                },
                action: "found".into(),
            });
        }
        execute_ticket(cx, step).await
    }

    fn learn(&self, observed: &mut Observed, id: &StepId, outcome: &Outcome) {
        if let (Some(site), Outcome::Ticket { key, url }) = (id.site(), outcome) {
            observed.tickets.insert(site.to_string(), key.clone());
            if let Some(url) = url {
                observed
                    .seen
                    .insert(id.clone(), linked(format!("ticket {key}"), url));
            }
        }
    }

    fn needs(&self, step: &Step, needs: &mut Needs) {
        ticket_needs(step, needs);
    }

    async fn warm(&self, cx: &Cx<'_>, plan: &Plan) {
        resolve_people(cx, plan, StepKind::Ticket).await;
    }

    /// Retires the duplicates of the configuration tickets that two runs
    /// at once filed (see [`super::repair`]).
    async fn repair(&self, cx: &Cx<'_>, plan: &Plan) -> Vec<SummaryRow> {
        super::repair::retire_duplicates(cx, plan).await
    }
}

/// Looks up (once per run, cached by [`Tickets::user`]) every person the
/// selected ticket steps of `kind` that would be created name, so the
/// creates do not wait for it.
pub async fn resolve_people(cx: &Cx<'_>, plan: &Plan, kind: StepKind) {
    if cx.services.tickets.configured().is_err() {
        return;
    }
    let people: std::collections::BTreeSet<String> = Cx::steps_of(plan, kind)
        .filter(|s| s.is_pending())
        .filter_map(|s| match &s.spec {
            StepSpec::Ticket(req) => Some(req),
            _ => None,
        })
        .flat_map(|req| {
            req.assignee
                .iter()
                .chain(req.users.values().flatten())
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    futures::future::join_all(people.iter().map(|p| cx.services.tickets.user(p))).await;
}

/// Whether the journal records `id` finished (a human step marked done).
pub fn finished(cx: &Cx<'_>, id: &StepId) -> bool {
    cx.journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(id)
        .status
        == Status::Finished
}
