//! `cycle check`: is the cycle build ready? Read-only. Exit 0 when no
//! finding is an error, 1 otherwise; every finding says what to do.

use super::{Ctx, Outcome, chosen_sites, load_release};
use crate::cli::CheckArgs;
use crate::engine::check::{self, Request, Services};
use crate::engine::pages::render_reference;
use crate::model::release::LoadedRelease;
use crate::output::{Format, json, markdown, text};
use crate::plan::check::{Finding, Rules, ready};

/// The rules: `--checks-file` (or its setting), else the shipped ones.
pub fn load_rules(ctx: &Ctx) -> anyhow::Result<Rules> {
    match &ctx.settings.checks_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Rules::parse(&text, &path.display().to_string())
        }
        None => Ok(Rules::shipped()),
    }
}

/// Runs the checks and prints the findings.
pub fn run(ctx: &Ctx, args: &CheckArgs) -> anyhow::Result<Outcome> {
    if !args.report.sites.sites.is_empty() || args.report.sites.all {
        let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
        chosen_sites(&ctx.settings, &all, &args.report.sites)?;
    }
    let release = load_release(&ctx.settings, &args.report.release)?;
    let rules = load_rules(ctx)?;
    let cycle_build_ref = cycle_build_ref(ctx, &release)?;
    let format = args.report.format.pick();
    let runtime = super::runtime()?;
    let findings = runtime.block_on(findings(
        ctx,
        &release,
        &rules,
        cycle_build_ref,
        args.offline,
        args.previous_xml.clone(),
    ))?;
    let label = release.id.label();
    ctx.print(&match format {
        Format::Json => json::check(release.id, &findings),
        Format::Markdown => markdown::check(&label, &findings),
        Format::Text => text::check(&label, &findings),
    })?;
    Ok(if ready(&findings) {
        Outcome::Clean
    } else {
        Outcome::Unfinished
    })
}

/// Every check's findings for `release` (`cycle check`, and `cycle
/// prepare`'s pre-flight findings).
pub async fn findings(
    ctx: &Ctx,
    release: &LoadedRelease,
    rules: &Rules,
    cycle_build_ref: Option<String>,
    offline: bool,
    previous_xml: Option<String>,
) -> anyhow::Result<Vec<Finding>> {
    let services = Services::from_env(
        &ctx.settings.cache_dir,
        ctx.settings.jira_api_version,
        &ctx.settings.conda_api_url,
        &ctx.settings.conda_channel,
        offline,
    )?;
    let request = Request {
        release,
        cycle_build_ref,
        rules,
        previous_xml,
    };
    Ok(check::run(&services, &request).await)
}

/// The ts_cycle_build ref of `release` from its setting (a template).
pub fn cycle_build_ref(ctx: &Ctx, release: &LoadedRelease) -> anyhow::Result<Option<String>> {
    ctx.settings
        .cycle_build_ref
        .as_deref()
        .map(|t| {
            render_reference(t, release.id)
                .map_err(|e| anyhow::anyhow!("--cycle-build-ref {t:?}: {e}"))
        })
        .transpose()
}
