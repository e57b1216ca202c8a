//! `cycle status`: the checklist of a cycle per site, from the journal
//! (no network): each step's status, its links and the manual steps.

use super::{Ctx, Outcome, chosen_sites, load_release};
use crate::cli::StatusArgs;

use crate::engine::{self};
use crate::output::json::{self, Kind};
use crate::output::shown::Shown;
use crate::output::{Format, StatusDoc, StatusGroup, StatusRow, markdown, text};
use crate::plan::{self, Observed, Step};
use crate::render::Templates;

/// Prints the status.
pub fn run(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<Outcome> {
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let journal = engine::journal_for(&ctx.settings.state_dir, release.id)?;
    let mut observed = Observed::default();
    for s in &chosen {
        if let Some(key) = journal.ticket(&s.site.name) {
            observed.tickets.insert(s.site.name.clone(), key);
        }
    }
    let plan =
        crate::engine::steps::registry::build(&release, &chosen, &all, &templates, &observed)?;
    let row = |step: &Step| status_row(&journal, step);
    let mut groups: Vec<StatusGroup> = plan
        .sites
        .iter()
        .map(|s| StatusGroup {
            site: s.site.clone(),
            display_name: s.display_name.clone(),
            steps: s.steps.iter().map(row).collect(),
        })
        .collect();
    if !plan.cycle_steps.is_empty() {
        groups.push(StatusGroup {
            site: plan::step::CYCLE_SCOPE.to_string(),
            display_name: format!("{} (all sites)", plan.label),
            steps: plan.cycle_steps.iter().map(row).collect(),
        });
    }
    // Each revert of the cycle (`cycle revert`), for the sites it touched.
    for (to, path) in engine::journal::revert_journals(&ctx.settings.state_dir, release.id) {
        let journal = engine::journal::Journal::load(&path, release.id)?;
        let mut observed = Observed::default();
        for s in &chosen {
            if let Some(key) = journal.ticket(&s.site.name) {
                observed.tickets.insert(s.site.name.clone(), key);
            }
        }
        let plan = crate::engine::steps::registry::build_revert(
            to, &release, &chosen, &all, &templates, &observed,
        )?;
        for site in &plan.sites {
            let started = site
                .steps
                .iter()
                .any(|s| journal.entry(&s.id).status != engine::journal::Status::Unset);
            if !started {
                continue;
            }
            groups.push(StatusGroup {
                site: site.site.clone(),
                display_name: format!("{}: revert to Cycle {to}", site.display_name),
                steps: site
                    .steps
                    .iter()
                    .map(|step| status_row(&journal, step))
                    .collect(),
            });
        }
    }
    let doc = StatusDoc {
        cycle: plan.cycle,
        revision: plan.revision,
        tag: plan.tag.clone(),
        label: plan.label.clone(),
        groups,
    };
    let shown = Shown::new(&ctx.settings);
    ctx.print(&match args.format.pick() {
        Format::Json => json::document(Kind::Status, &doc),
        Format::Markdown => markdown::status(&doc, &shown),
        Format::Text => text::status(&doc, ctx.style, &shown),
    })?;
    Ok(Outcome::Clean)
}

/// A step's row: what `journal` recorded of it, with its link.
fn status_row(journal: &engine::journal::Journal, step: &Step) -> StatusRow {
    let entry = journal.entry(&step.id);
    StatusRow {
        id: step.id.to_string(),
        title: step.title.clone(),
        manual: step.kind.is_human(),
        link: entry
            .outcome
            .as_ref()
            .and_then(|o| o.link().map(str::to_string)),
        entry,
    }
}
