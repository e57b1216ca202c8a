//! `cycle mark`: records a human step (build team, nublado sync) or any
//! step of a site as done or cancelled in the cycle's journal.

use super::{Ctx, Outcome, load_release};
use crate::cli::{MarkArgs, MarkAs};
use crate::engine::journal::{self, Journal, JournalLock, Outcome as StepOutcome, Status};
use crate::model::site;
use crate::plan::{Observed, StepId};
use crate::render::Templates;

/// Records the mark.
pub fn run(ctx: &Ctx, args: &MarkArgs) -> anyhow::Result<Outcome> {
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let loaded = site::load_named(&ctx.settings.sites_dir, &args.site)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let id: StepId = format!("{}:{}", args.site, args.step)
        .parse()
        .or_else(|_| args.step.parse())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan = crate::engine::steps::registry::build(
        &release,
        &[&loaded],
        &all,
        &templates,
        &Observed::default(),
    )?;
    if plan.step(&id).is_none() {
        let known: Vec<String> = plan.steps().map(|s| s.id.local()).collect();
        anyhow::bail!(
            "site {} has no step `{}` in {} (its steps: {})",
            args.site,
            args.step,
            release.id.label(),
            known.join(", ")
        );
    }
    let path = journal::journal_path(&ctx.settings.state_dir, release.id);
    let _lock = JournalLock::acquire(&path, release.id)?;
    let mut journal = Journal::load(&path, release.id)?;
    let who = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    match args.mark {
        MarkAs::Done => journal.finish(
            &id,
            StepOutcome::Manual {
                note: format!("marked done by {who}"),
            },
            "marked",
        ),
        MarkAs::Cancelled => {
            journal.set_status(&id, Status::Cancelled, Some(format!("cancelled by {who}")))
        }
        MarkAs::Pending => journal.set_status(&id, Status::Pending, None),
    }
    journal.save(&path)?;
    ctx.note(&format!(
        "{id}: {}",
        match args.mark {
            MarkAs::Done => "FINISHED",
            MarkAs::Cancelled => "CANCELLED",
            MarkAs::Pending => "PENDING (the next run applies it)",
        }
    ));
    Ok(Outcome::Clean)
}
