//! `cycle doctor`: is every service ready for the chosen sites' steps? The
//! plan of the cycle is built as `prepare` would build it before anything
//! exists, and the engine checks what its steps would send (reads only);
//! the findings are printed grouped by site and service, each failure with
//! its fix. Exit 0 when nothing failed (warnings do not fail), 1 otherwise.

use super::{Ctx, Outcome, chosen_sites, load_release_or_newest, runtime};
use crate::cli::DoctorArgs;
use crate::engine::doctor::{Needs, Status};
use crate::engine::messages::Messages;
use crate::engine::pages::Pages;
use crate::engine::pulls::Pulls;
use crate::engine::tickets::Tickets;
use crate::engine::{Engine, EngineSettings, Services};
use crate::output::{Format, json, markdown, text};
use crate::plan::Observed;
use crate::render::Templates;

/// Checks every service for the chosen sites and prints the findings.
pub fn run(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let release = load_release_or_newest(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let plan = crate::engine::steps::registry::build(
        &release,
        &chosen,
        &all,
        &templates,
        &Observed::default(),
    )?;
    let services = Services {
        tickets: Tickets::from_env(ctx.settings.jira_api_version, false)?,
        pages: Pages::from_env(ctx.settings.confluence_api, false)?,
        messages: Messages::from_env(false, &chosen)?,
        pulls: Pulls::from_env(false)?,
    };
    let engine = Engine::new(
        EngineSettings {
            quiet: true,
            ..ctx.engine_settings(release.id)
        },
        services,
    )?;
    let rt = runtime()?;
    let findings = rt.block_on(engine.doctor(&Needs::of(plan.steps()), Status::Fail));
    rt.shutdown_background();
    let failed = findings.iter().any(|f| f.status == Status::Fail);
    let names: Vec<&str> = chosen.iter().map(|s| s.site.name.as_str()).collect();
    let format = args.format.pick();
    ctx.print(&match format {
        Format::Markdown => markdown::doctor(release.id, &names, &findings),
        Format::Json => json::doctor(release.id, &names, &findings),
        Format::Text => text::doctor(release.id, &names, &findings, ctx.style, !ctx.quiet),
    })?;
    Ok(if failed {
        Outcome::Unfinished
    } else {
        Outcome::Clean
    })
}
