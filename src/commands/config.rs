//! `cycle config`: the site's configuration edits as a commit on
//! `tickets/<KEY>` in each deployment configuration repository, pushed
//! without force. It runs on the apply engine, restricted to the
//! configuration steps, with the ticket supplied by `--ticket` (no Jira).

use super::{Ctx, Outcome, check_can_confirm, confirm, runtime};
use crate::cli::{ConfigArgs, ReleaseArgs};
use crate::edit::repo::Build;
use crate::engine::config::Identity;
use crate::engine::{Engine, EngineSettings, RunEnd, Selection, Services};
use crate::model::cycle_id::CycleId;
use crate::model::site::{self, Repository};
use crate::output::{Detail, text};
use crate::plan::{self, Observed, RepoState, Selector};
use crate::render::Templates;

/// Runs `cycle config`.
pub fn run(ctx: &Ctx, args: &ConfigArgs) -> anyhow::Result<Outcome> {
    let loaded = site::load_named(&ctx.settings.sites_dir, &args.site)?;
    let id = CycleId::new(args.release.cycle, args.release.revision)
        .map_err(|e| anyhow::anyhow!("--cycle/--revision: {e}"))?;
    super::prepare::check_ticket_key(&args.ticket).map_err(|e| anyhow::anyhow!("--ticket: {e}"))?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    // A revision restarts the components its release manifest names.
    let release = if id.is_revision() {
        let release_args = ReleaseArgs {
            cycle: Some(id.cycle),
            revision: Some(id.revision),
            release: None,
        };
        Some(super::load_release(&ctx.settings, &release_args)?)
    } else {
        None
    };
    let build = match &release {
        Some(release) => Build::from(release),
        None => Build::from(id),
    };
    let repos: Vec<&Repository> = match &args.repo {
        Some(name) => {
            let found: Vec<&Repository> = loaded
                .site
                .repositories
                .iter()
                .filter(|r| &r.repo == name)
                .collect();
            if found.is_empty() {
                anyhow::bail!(
                    "--repo {name}: not a repository of site {} ({})",
                    loaded.site.name,
                    loaded
                        .site
                        .repositories
                        .iter()
                        .map(|r| r.repo.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            found
        }
        None => loaded.site.repositories.iter().collect(),
    };
    let dry_run = args.dry_run || args.offline;
    if !dry_run {
        check_can_confirm(args.yes)?;
    }
    let identity = Identity::from_flags(args.author.as_deref(), args.committer.as_deref())?;
    let plan_fn = |observed: &Observed| {
        plan::config_plan(build, &loaded, &repos, &templates, &args.ticket, observed)
    };
    let engine = Engine::new(
        EngineSettings {
            offline: args.offline,
            selection: Selection {
                only: vec![Selector::Config],
                skip: vec![],
            },
            identity,
            ..ctx.engine_settings(id)
        },
        Services::none("cycle config takes the ticket from --ticket"),
    )?;
    let rt = runtime()?;
    let mut observed = Observed::default();
    observed
        .tickets
        .insert(loaded.site.name.clone(), args.ticket.clone());
    let result = rt.block_on(async {
        engine.observe(&plan_fn, &mut observed).await?;
        // Nothing is committed unless every repository's edits are known.
        for ((_, repo), state) in &observed.repos {
            if let RepoState::Unknown { reason } = state {
                if args.offline {
                    anyhow::bail!("{repo}: {reason}");
                }
                anyhow::bail!("{reason}");
            }
        }
        let plan = engine.plan(&plan_fn, &observed)?;
        let detail = if ctx.verbose {
            Detail::Full
        } else {
            Detail::Summary
        };
        let steps: Vec<plan::Step> = plan.steps().cloned().collect();
        ctx.print(&text::steps(&steps, ctx.style, detail))?;
        let pending = plan.has_changes();
        if dry_run || !pending {
            return Ok(if pending {
                Outcome::Pending
            } else {
                Outcome::Clean
            });
        }
        let branch = &plan.sites[0].branch;
        if !args.yes && !confirm(&format!("Commit and push {branch}?"))? {
            anyhow::bail!("cancelled; nothing was committed or pushed");
        }
        let report = engine.apply(&plan_fn, &mut observed).await?;
        let failed: Vec<String> = report
            .rows
            .iter()
            .filter(|r| r.action == "failed" || r.action == "blocked")
            .map(|r| format!("{}: {}", r.id, r.detail))
            .collect();
        match report.end {
            RunEnd::Complete => Ok(Outcome::Clean),
            RunEnd::Interrupted => Ok(Outcome::Interrupted),
            RunEnd::Incomplete => anyhow::bail!("{}", failed.join("\n")),
        }
    });
    rt.shutdown_background();
    result
}
