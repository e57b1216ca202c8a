//! `cycle prepare`: plan every checklist step of the chosen sites, show the
//! plan, and (unless `--dry-run`) apply it on the engine after confirmation.
//! An online dry run also runs the pre-flight checks of `cycle doctor` for
//! the selected steps it would apply; a failed check makes it exit 1.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;

use super::credentials::Needs;
use super::{Ctx, Outcome, check_can_confirm, chosen_sites, confirm, load_release, runtime};
use crate::cli::{ApplyArgs, FormatArgs, PrepareArgs, ReleaseArgs, RunArgs, SiteArgs};
use crate::engine::config::Identity;
use crate::engine::messages::Messages;
use crate::engine::pages::Pages;
use crate::engine::pulls::CommentAction;
use crate::engine::pulls::Pulls;
use crate::engine::tickets::Tickets;
use crate::engine::{Engine, EngineSettings, RunEnd, Selection, Services};
use crate::model::site::LoadedSite;
use crate::output::shown::Shown;
use crate::output::{self, Detail, Format, json, markdown};
use crate::plan::saved::{SavedCommand, SavedPlan};
use crate::plan::{self, Observed, Plan, Selector, StepKind};
use crate::render::Templates;

/// Builds the plan, prints it, and applies it unless `--dry-run`.
pub fn run(ctx: &Ctx, args: &PrepareArgs) -> anyhow::Result<Outcome> {
    run_with(ctx, args, None)
}

/// `cycle apply PLAN`: the saved plan's command applied, refused with every
/// drift named (exit 1, nothing written) when what it was made from changed.
pub fn apply_saved(ctx: &Ctx, args: &ApplyArgs) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("reading the saved plan {}", args.plan.display()))?;
    let saved =
        SavedPlan::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", args.plan.display()))?;
    let command = &saved.command;
    let selectors = |names: &[String]| -> anyhow::Result<Vec<Selector>> {
        names
            .iter()
            .map(|n| {
                <Selector as clap::ValueEnum>::from_str(n, false).map_err(|_| {
                    anyhow::anyhow!("{}: unknown step kind `{n}`", args.plan.display())
                })
            })
            .collect()
    };
    let prepare = PrepareArgs {
        sites: SiteArgs {
            sites: command.sites.clone(),
            all: false,
        },
        release: ReleaseArgs {
            cycle: Some(command.cycle),
            revision: Some(command.revision),
            release: command.release.as_ref().map(PathBuf::from),
        },
        run: RunArgs {
            tickets: command
                .tickets
                .iter()
                .map(|(site, key)| format!("{site}={key}"))
                .collect(),
            dry_run: false,
            format: FormatArgs {
                json: args.json,
                format: Format::Text,
            },
            out: None,
            offline: false,
            only: selectors(&command.only)?,
            skip: selectors(&command.skip)?,
            yes: args.yes,
            author: command.author.clone(),
            committer: command.committer.clone(),
        },
        comment_on_pr: None,
        comment_repo: None,
        // The findings that gate a step are evaluated again, as the plan
        // was made.
        no_check: command.no_check,
        accept_version_mismatch: command.accept_version_mismatch,
        revert_to: command.revert_to,
    };
    // The plan's own settings: the ts_cycle_build ref it was made with.
    let mut ctx = ctx.clone();
    if command.cycle_build_ref.is_some() {
        ctx.settings.cycle_build_ref = command.cycle_build_ref.clone();
    }
    run_with(&ctx, &prepare, Some(&saved))
}

/// The input files a plan is made from, path → SHA-256: the sites, the
/// templates and the release manifest.
fn input_digests(
    ctx: &Ctx,
    args: &PrepareArgs,
    plan: &Plan,
) -> anyhow::Result<BTreeMap<String, String>> {
    use sha2::Digest as _;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for (label, dir) in [
        ("sites", &ctx.settings.sites_dir),
        ("templates", &ctx.settings.templates_dir),
    ] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        names.sort();
        for path in names {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            files.push((format!("{label}/{name}"), path));
        }
    }
    let release = match &args.release.release {
        Some(path) => path.clone(),
        None => ctx.settings.releases_dir.join(
            crate::model::cycle_id::CycleId::new(plan.cycle, plan.revision)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .manifest_file_name(),
        ),
    };
    let name = release
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .to_string();
    files.push((format!("releases/{name}"), release));
    if let Some(config) = &ctx.config_file {
        files.push(("cycle.toml".to_string(), config.clone()));
    }
    if let Some(checks) = &ctx.settings.checks_file {
        files.push(("checks file".to_string(), checks.clone()));
    }
    let mut digests = BTreeMap::new();
    for (key, path) in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let digest = sha2::Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        digests.insert(key, hex);
    }
    Ok(digests)
}

/// The settings and service endpoints a plan depends on (no secret: URLs
/// and options), name → value.
fn plan_settings(ctx: &Ctx) -> BTreeMap<String, String> {
    let s = &ctx.settings;
    let mut out = BTreeMap::from([
        (
            "jira api version".to_string(),
            s.jira_api_version.to_string(),
        ),
        (
            "confluence api".to_string(),
            format!("{:?}", s.confluence_api),
        ),
        (
            "cycle-build ref".to_string(),
            s.cycle_build_ref
                .clone()
                .unwrap_or_else(|| "default branch".into()),
        ),
        ("conda api url".to_string(), s.conda_api_url.clone()),
        ("conda channel".to_string(), s.conda_channel.clone()),
    ]);
    for var in [
        "JIRA_URL",
        "CONFLUENCE_URL",
        "SLACK_API_URL",
        "GITHUB_API_URL",
        "GITHUB_SERVER_URL",
    ] {
        if let Some(value) = crate::services::http::env_var(var) {
            out.insert(var.to_string(), value);
        }
    }
    out
}

/// `prepare` itself; with `saved`, the saved plan is applied only when
/// nothing it was made from changed.
fn run_with(ctx: &Ctx, args: &PrepareArgs, saved: Option<&SavedPlan>) -> anyhow::Result<Outcome> {
    let all = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let chosen = chosen_sites(&ctx.settings, &all, &args.sites)?;
    let tickets = parse_tickets(&args.run.tickets, &chosen)?;
    let release = load_release(&ctx.settings, &args.release)?;
    let templates = Templates::load(&ctx.settings.templates_dir)?;
    let dry_run = args.run.dry_run || args.run.offline;
    let format = args.run.format.pick();
    let json = format == Format::Json;
    if !dry_run {
        check_can_confirm(args.run.yes)?;
    }
    let selection = Selection {
        only: args.run.only.clone(),
        skip: args.run.skip.clone(),
    };
    selection.check().map_err(super::UsageError)?;
    let identity = Identity::from_flags(args.run.author.as_deref(), args.run.committer.as_deref())?;
    let plan_fn = |observed: &Observed| match args.revert_to {
        Some(to) => crate::engine::steps::registry::build_revert(
            to, &release, &chosen, &all, &templates, observed,
        ),
        None => {
            crate::engine::steps::registry::build(&release, &chosen, &all, &templates, observed)
        }
    };

    // Jira is needed when a selected step creates tickets; a dry run only
    // looks tickets up when Jira is configured.
    let needs_jira = !dry_run
        && ((selection.includes(Selector::Jira)
            && chosen.iter().any(|s| !tickets.contains_key(&s.site.name)))
            || (selection.includes(Selector::Calendar)
                && args.revert_to.is_none()
                && chosen.iter().any(|s| s.site.calendar.is_some())));
    // Confluence likewise: required when the page step is applied.
    let needs_confluence = !dry_run && selection.includes(Selector::Confluence);
    // Slack is needed when a selected step sends a message: announcements
    // (`slack`) or review notices (`pr`). The page's announcement waits for
    // `cycle mark … build-team done`; without Slack it fails then, by name.
    let needs_slack =
        !dry_run && (selection.includes(Selector::Slack) || selection.includes(Selector::Pr));
    // GitHub is needed when a selected PR step runs; a dry run only looks
    // pull requests up when GitHub is configured.
    let needs_github = !dry_run
        && selection.includes(Selector::Pr)
        && chosen
            .iter()
            .any(|s| s.site.repositories.iter().any(|r| r.pull_request.is_some()));
    // Every missing setting in one error, before any request.
    let needs = Needs {
        jira: needs_jira,
        confluence: needs_confluence,
        slack: needs_slack,
        github: needs_github,
        pushes: if dry_run || !selection.includes(Selector::Config) {
            vec![]
        } else {
            super::credentials::push_urls(&chosen)
        },
    };
    super::credentials::require(&needs, ctx.settings.jira_api_version)?;
    let pages = if args.run.offline {
        Pages::none("offline")
    } else {
        Pages::from_env(ctx.settings.confluence_api, needs_confluence)?
    }
    .with_versions(
        &release,
        ctx.settings.cycle_build_ref.as_deref(),
        args.accept_version_mismatch,
    )?
    .with_xml_changes(super::check::load_rules(ctx)?);
    let services = if args.run.offline {
        Services {
            pages,
            messages: Messages::without_slack("offline", &chosen),
            ..Services::none("offline")
        }
    } else {
        Services {
            tickets: Tickets::from_env(ctx.settings.jira_api_version, needs_jira)?,
            pages,
            messages: Messages::from_env(needs_slack, &chosen)?,
            pulls: Pulls::from_env(needs_github)?,
        }
    };
    let engine = Engine::new(
        EngineSettings {
            offline: args.run.offline,
            selection: selection.clone(),
            identity,
            quiet: ctx.quiet || (format != Format::Text && dry_run),
            // A revert keeps its own journal: its steps are not the cycle's.
            journal: args
                .revert_to
                .map(|to| crate::engine::journal::revert_journal_name(release.id, to)),
            ..ctx.engine_settings(release.id)
        },
        services,
    )?;
    let rt = runtime()?;
    let rules = super::check::load_rules(ctx)?;
    let reference = super::check::cycle_build_ref(ctx, &release)?;
    let mut observed = Observed {
        tickets,
        ..Default::default()
    };
    let observed_at_start = observed.clone();
    let result = rt.block_on(async {
        // cycle check's findings concern the page and its announcement:
        // run only when those are selected, beside the observation.
        let checks = async {
            if !args.run.offline
                && !args.no_check
                && args.revert_to.is_none()
                && selection.includes(Selector::Confluence)
            {
                ctx.note("running cycle check's checks (--no-check skips them)");
                super::check::findings(ctx, &release, &rules, reference, false, None)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        };
        // An apply resolves the people its tickets name while it observes:
        // off the critical path (the cache serves the creates).
        let users = async {
            if !dry_run {
                engine.warm(&plan_fn, &observed_at_start).await;
            }
        };
        let (checks, observation, ()) =
            tokio::join!(checks, engine.observe(&plan_fn, &mut observed), users);
        observation?;
        if let Some(checks) = checks? {
            observed.checks = checks;
        }
        if dry_run {
            // Every service ready for what the selected steps would send
            // (skipped offline): a failure fails the dry run.
            let plan = engine.plan(&plan_fn, &observed)?;
            observed.preflight = engine.preflight(&plan).await;
        }
        let plan = engine.plan(&plan_fn, &observed)?;
        let detail = if ctx.verbose {
            Detail::Full
        } else {
            Detail::Summary
        };
        if dry_run {
            let rerun = rerun_command(args, &plan);
            ctx.print(&match format {
                Format::Json => json::plan(&plan),
                Format::Markdown => markdown::plan(&plan, &rerun),
                Format::Text if ctx.quiet => {
                    output::shown::last_line(&output::text::plan(&plan, ctx.style, detail))
                }
                Format::Text => output::text::plan(&plan, ctx.style, detail),
            })?;
            if let Some(out) = &args.run.out {
                let mut basis = engine.basis(&plan, &observed);
                basis.inputs = input_digests(ctx, args, &plan)?;
                basis.settings = plan_settings(ctx);
                let command = SavedCommand {
                    sites: chosen.iter().map(|s| s.site.name.clone()).collect(),
                    cycle: plan.cycle,
                    revision: plan.revision,
                    release: args
                        .release
                        .release
                        .as_ref()
                        .map(|p| p.display().to_string()),
                    tickets: parse_tickets(&args.run.tickets, &chosen)?,
                    only: args.run.only.iter().map(|s| s.name().to_string()).collect(),
                    skip: args.run.skip.iter().map(|s| s.name().to_string()).collect(),
                    accept_version_mismatch: args.accept_version_mismatch,
                    no_check: args.no_check,
                    author: args.run.author.clone(),
                    committer: args.run.committer.clone(),
                    cycle_build_ref: ctx.settings.cycle_build_ref.clone(),
                    revert_to: args.revert_to,
                };
                let saved = SavedPlan::new(command, basis, &plan, chrono::Utc::now().to_rfc3339());
                let mut text = crate::redact::redact(&serde_json::to_string_pretty(&saved)?);
                text.push('\n');
                std::fs::write(out, text)
                    .with_context(|| format!("writing the saved plan {}", out.display()))?;
                eprintln!("plan saved to {}; apply it with: cycle apply {}", out.display(), out.display());
            }
            if let Some(number) = args.comment_on_pr {
                let repo = args.comment_repo.as_deref().ok_or_else(|| {
                    anyhow::anyhow!(
                        "--comment-on-pr needs the repository: --comment-repo OWNER/NAME (or GITHUB_REPOSITORY)"
                    )
                })?;
                let (action, url) = Pulls::from_env(true)?
                    .sticky_comment(repo, number, COMMENT_MARKER, &markdown::plan(&plan, &rerun))
                    .await?;
                let done = match action {
                    CommentAction::Created => "added",
                    CommentAction::Updated => "updated",
                    CommentAction::Unchanged => "unchanged",
                };
                eprintln!("plan comment on {repo}#{number} {done}: {url}");
            }
            if plan.preflight.failed() {
                return Ok(Outcome::Unfinished);
            }
            // Exit 2 means exactly "applying now would write": the plan's
            // selected steps that create or update.
            let pending = plan.has_changes();
            return Ok(if pending {
                Outcome::Pending
            } else {
                Outcome::Clean
            });
        }
        if let Some(saved) = saved {
            let mut now = engine.basis(&plan, &observed);
            now.inputs = input_digests(ctx, args, &plan)?;
            now.settings = plan_settings(ctx);
            let drift = saved.drift(&now, &plan);
            if !drift.is_empty() {
                anyhow::bail!(
                    "the saved plan is stale; nothing was applied. What changed since it was made:\n{}\nMake a new plan with `cycle prepare … --dry-run --out FILE`, review it, and apply that.",
                    drift.iter().map(|d| format!("  - {d}")).collect::<Vec<_>>().join("\n")
                );
            }
        }
        preflight(&plan, &selection)?;
        let shown = output::text::plan(&plan, ctx.style, detail);
        if json {
            eprint!("{}", crate::redact::redact(&shown));
        } else {
            ctx.print(&shown)?;
        }
        if !args.run.yes && !confirm(&format!("Apply the plan for {}?", plan.label))? {
            anyhow::bail!("cancelled; nothing was changed");
        }
        let report = engine.apply(&plan_fn, &mut observed).await?;
        ctx.print(&if json {
            json::apply(&plan, &report)
        } else {
            output::text::apply(&report, ctx.style, &Shown::new(&ctx.settings))
        })?;
        Ok(match report.end {
            RunEnd::Complete => Outcome::Clean,
            RunEnd::Incomplete => Outcome::Unfinished,
            RunEnd::Interrupted => Outcome::Interrupted,
        })
    });
    // Blocking git work cut short by Ctrl-C is not waited for.
    rt.shutdown_background();
    result
}

/// Marks the one pull-request comment `--comment-on-pr` keeps up to date.
pub const COMMENT_MARKER: &str = "<!-- cycle:plan -->";

/// The dry run that shows the whole plan (named where a Markdown plan is
/// cut).
fn rerun_command(args: &PrepareArgs, plan: &Plan) -> String {
    let sites = if args.sites.all {
        "--all".to_string()
    } else {
        args.sites
            .sites
            .iter()
            .map(|s| format!("--site {s}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(to) = args.revert_to {
        return format!(
            "cycle revert {sites} --to {to} --from {} --dry-run",
            plan.cycle
        );
    }
    let revision = if plan.revision > 0 {
        format!(" --revision {}", plan.revision)
    } else {
        String::new()
    };
    format!(
        "cycle prepare {sites} --cycle {}{revision} --dry-run",
        plan.cycle
    )
}

/// Refuses to start when a selected configuration step's edits cannot be
/// computed: nothing is written anywhere unless every repository's edits
/// are known.
pub fn preflight(plan: &Plan, selection: &Selection) -> anyhow::Result<()> {
    for step in plan.steps() {
        if step.kind == StepKind::Config
            && selection.selects(step)
            && let Some(reason) = step.notes.first()
            && step
                .changes
                .iter()
                .all(|c| !matches!(c, plan::Change::FileDiff { .. }))
            && step.action != plan::Action::None
        {
            anyhow::bail!(
                "{}: cannot compute the edits: {reason}; nothing was changed",
                step.id
            );
        }
    }
    Ok(())
}

/// Parses `--ticket KEY` (one site) and `--ticket SITE=KEY`.
fn parse_tickets(
    values: &[String],
    sites: &[&LoadedSite],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut tickets = BTreeMap::new();
    for value in values {
        let (site, key) = match value.split_once('=') {
            Some((site, key)) => (site.to_string(), key.to_string()),
            None if sites.len() == 1 => (sites[0].site.name.clone(), value.clone()),
            None => anyhow::bail!(
                "--ticket {value}: with several sites, write SITE=KEY (e.g. summit=OSW-2010)"
            ),
        };
        if !sites.iter().any(|s| s.site.name == site) {
            anyhow::bail!("--ticket {value}: site `{site}` is not being prepared");
        }
        check_ticket_key(&key).map_err(|e| anyhow::anyhow!("--ticket {value}: {e}"))?;
        if let Some(other) = tickets.insert(site.clone(), key) {
            anyhow::bail!("--ticket {value}: site `{site}` already has ticket {other}");
        }
    }
    Ok(tickets)
}

/// Checks the form of a Jira key, e.g. `OSW-2010`.
pub fn check_ticket_key(key: &str) -> Result<(), String> {
    let valid = key.split_once('-').is_some_and(|(project, number)| {
        project.starts_with(|c: char| c.is_ascii_uppercase())
            && project
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit())
    });
    if valid {
        Ok(())
    } else {
        Err(format!("`{key}` is not a Jira key like OSW-2010"))
    }
}
