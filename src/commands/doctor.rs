//! `cycle doctor`: is every service ready for the chosen sites' steps? The
//! plan of the cycle is built as `prepare` would build it before anything
//! exists, and the engine checks what its steps would send (reads only);
//! the findings are printed grouped by site and service, each failure with
//! its fix. Exit 0 when nothing failed (warnings do not fail), 1 otherwise.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Ctx, Outcome, chosen_sites, load_release_or_newest, runtime};
use crate::cli::{DoctorArgs, OutputFormat};
use crate::engine::doctor::{Counts, Finding, Needs, Status};
use crate::engine::messages::Messages;
use crate::engine::pages::Pages;
use crate::engine::pulls::Pulls;
use crate::engine::tickets::Tickets;
use crate::engine::{Engine, EngineSettings, Services};
use crate::model::site;
use crate::plan::{self, Observed, markdown, preflight};
use crate::render::Templates;

/// Version of the JSON document; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// `cycle doctor --json` (see README).
#[derive(Debug, Serialize)]
struct Report<'a> {
    schema_version: u32,
    cycle: u32,
    revision: u32,
    tag: String,
    sites: Vec<&'a str>,
    ok: bool,
    counts: Counts,
    findings: &'a [Finding],
}

/// Checks every service for the chosen sites and prints the findings.
pub fn run(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let all = site::load_all(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let release = load_release_or_newest(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let plan = plan::build(&release, &chosen, &all, &templates, &Observed::default())?;
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
    if format == OutputFormat::Markdown {
        let mut text = format!(
            "### `cycle doctor`: {} ({}) for {}\n\n",
            markdown::escape(&release.id.label()),
            release.id.full_tag(),
            markdown::escape(&names.join(", "))
        );
        text.push_str(&markdown::findings(&findings));
        ctx.print(&text)?;
    } else if format == OutputFormat::Json {
        let report = Report {
            schema_version: SCHEMA_VERSION,
            cycle: release.id.cycle,
            revision: release.id.revision,
            tag: release.id.full_tag(),
            sites: names,
            ok: !failed,
            counts: Counts::of(&findings),
            findings: &findings,
        };
        let mut text = serde_json::to_string_pretty(&report)?;
        text.push('\n');
        ctx.print(&text)?;
    } else {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "{}",
            ctx.style.bold(&format!(
                "cycle doctor: {} ({}) for {}",
                release.id.label(),
                release.id.full_tag(),
                names.join(", ")
            ))
        );
        let _ = writeln!(text);
        text.push_str(&preflight::text(&findings, ctx.style, !ctx.quiet));
        ctx.print(&text)?;
    }
    Ok(if failed {
        Outcome::Unfinished
    } else {
        Outcome::Clean
    })
}
