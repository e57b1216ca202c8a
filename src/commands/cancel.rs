//! `cycle cancel`: the deployment is called off. Deletes every pending
//! scheduled Slack announcement of the chosen sites and marks their steps
//! CANCELLED in the journal; posts nothing. Confirmed as `prepare` is: on a
//! terminal, or with `--yes`.

use std::fmt::Write as _;

use super::{Ctx, Outcome, check_can_confirm, chosen_sites, confirm, load_release, runtime};
use crate::cli::CancelArgs;
use crate::engine::messages::Messages;
use crate::engine::{Engine, EngineSettings, RunEnd, Selection, Services};
use crate::output::shown::Shown;
use crate::plan::{Observed, Plan, Selector, StepId, StepSpec};
use crate::render::Templates;

/// Cancels the announcements after confirmation.
pub fn run(ctx: &Ctx, args: &CancelArgs) -> anyhow::Result<Outcome> {
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    check_can_confirm(args.yes)?;
    let plan = crate::engine::steps::registry::build(
        &release,
        &chosen,
        &all,
        &templates,
        &Observed::default(),
    )?;
    let services = Services {
        messages: Messages::from_env(true, &chosen)?,
        ..Services::none("not needed to cancel announcements")
    };
    let engine = Engine::new(
        EngineSettings {
            selection: Selection {
                only: vec![Selector::Slack],
                skip: vec![],
            },
            ..ctx.engine_settings(release.id)
        },
        services,
    )?;
    ctx.print(&cancel_text(&plan))?;
    if !args.yes
        && !confirm(&format!(
            "Delete the pending announcements of {}?",
            plan.label
        ))?
    {
        anyhow::bail!("cancelled; nothing was changed");
    }
    let rt = runtime()?;
    let report = rt.block_on(engine.cancel_messages(&plan))?;
    ctx.print(&crate::output::text::apply(
        &report,
        ctx.style,
        &Shown::new(&ctx.settings),
    ))?;
    Ok(match report.end {
        RunEnd::Complete => Outcome::Clean,
        RunEnd::Incomplete => Outcome::Unfinished,
        RunEnd::Interrupted => Outcome::Interrupted,
    })
}

/// What `cycle cancel` will do, one line per announcement.
pub fn cancel_text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Cancel the Slack announcements of {} ({}): pending scheduled messages are deleted, \
         nothing is posted.",
        plan.label, plan.tag
    );
    for step in plan.steps() {
        if let (StepId::Message { .. }, StepSpec::Message(request)) = (&step.id, &step.spec) {
            let at = request
                .at
                .as_ref()
                .map(|w| format!(" at {} {} {}", w.date, w.time, w.zone))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<28} {}{at}", step.id.to_string(), request.channel);
        }
    }
    out
}
