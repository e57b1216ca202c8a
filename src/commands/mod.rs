//! One module per subcommand; each returns what `main` turns into an exit code.

pub mod announce;
pub mod cancel;
pub mod check;
pub mod config;
pub mod credentials;
pub mod doctor;
pub mod mark;
pub mod new;
pub mod prepare;
pub mod render;
pub mod revert;
pub mod sites;
pub mod status;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::cli::{GlobalArgs, ReleaseArgs, SiteArgs};
use crate::engine::config::Identity;
use crate::engine::{EngineSettings, Selection};
use crate::model::cycle_id::CycleId;
use crate::model::release::{self, LoadedRelease};
use crate::settings::{self, Settings};
use crate::style::Style;

/// How a successful command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing (more) to change.
    Clean,
    /// A dry run found changes to make.
    Pending,
    /// An apply ended with selected steps failed or blocked (summary printed).
    Unfinished,
    /// Ctrl-C stopped an apply (journal flushed).
    Interrupted,
}

/// What every command gets: resolved settings and output preferences.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Resolved settings.
    pub settings: Settings,
    /// Colours.
    pub style: Style,
    /// `-v`.
    pub verbose: bool,
    /// `-q`.
    pub quiet: bool,
    /// The configuration file read, when one was found.
    pub config_file: Option<std::path::PathBuf>,
}

/// A command line that asks for something impossible (exit 64, like
/// clap's own usage errors), e.g. `--only jira --skip jira`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Ctx {
    /// Resolves settings from flags, environment, config file and defaults.
    pub fn new(global: &GlobalArgs) -> anyhow::Result<Self> {
        let (config_file, file) = settings::read_config_file(global.config.as_deref())?;
        Ok(Self {
            settings: settings::resolve(&global.settings, &file),
            style: Style::new(global.color),
            verbose: global.verbose,
            quiet: global.quiet,
            config_file,
        })
    }

    /// The engine settings of a run of cycle `id` from these settings:
    /// online, every step selected, no commit identity, quiet as `-q`;
    /// a command changes what differs with `..ctx.engine_settings(id)`.
    pub fn engine_settings(&self, id: CycleId) -> EngineSettings {
        EngineSettings {
            id,
            state_dir: self.settings.state_dir.clone(),
            cache_dir: self.settings.cache_dir.clone(),
            offline: false,
            selection: Selection::default(),
            identity: Identity::default(),
            quiet: self.quiet,
            journal: None,
        }
    }

    /// Writes the command's output to standard output.
    pub fn print(&self, text: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(crate::redact::redact(text).as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// A progress or status note on standard error (silenced by `-q`).
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{}", crate::redact::redact(text));
        }
    }
}

/// Finds and loads the release manifest named by `--release`, or by the
/// cycle and revision in the releases directory.
pub fn load_release(settings: &Settings, args: &ReleaseArgs) -> anyhow::Result<LoadedRelease> {
    let path: PathBuf = match &args.release {
        Some(path) => path.clone(),
        None => {
            let Some(cycle) = args.cycle else {
                anyhow::bail!("give the cycle with --cycle N, or a manifest with --release FILE");
            };
            let id = CycleId::new(cycle, args.revision.unwrap_or(0))
                .map_err(|e| anyhow::anyhow!("--cycle/--revision: {e}"))?;
            let path = settings.releases_dir.join(id.manifest_file_name());
            if !path.is_file() {
                anyhow::bail!(
                    "no release manifest for {}: {} does not exist (write one, see README, or pass --release FILE)",
                    id.label(),
                    path.display()
                );
            }
            path
        }
    };
    let loaded = release::load(&path).with_context(|| "invalid release manifest".to_string())?;
    for (what, given, found) in [
        ("cycle", args.cycle, loaded.id.cycle),
        ("revision", args.revision, loaded.id.revision),
    ] {
        if let Some(given) = given
            && given != found
        {
            anyhow::bail!(
                "--{what} {given} disagrees with {} ({what} {found})",
                path.display()
            );
        }
    }
    Ok(loaded)
}

/// The release manifest named by `--release`, `--cycle` and `--revision`,
/// or without either, the newest one of the releases directory (highest
/// cycle, then revision, of the `cNNNN.RRR.yaml` files).
pub fn load_release_or_newest(
    settings: &Settings,
    args: &ReleaseArgs,
) -> anyhow::Result<LoadedRelease> {
    if args.cycle.is_some() || args.release.is_some() {
        return load_release(settings, args);
    }
    let dir = &settings.releases_dir;
    let newest = manifests(dir)
        .with_context(|| format!("cannot read the releases directory {}", dir.display()))?
        .into_iter()
        .max_by_key(|(id, _)| *id);
    let Some((_, path)) = newest else {
        anyhow::bail!(
            "no release manifest (cNNNN.RRR.yaml) in {}: give --cycle N or --release FILE",
            dir.display()
        );
    };
    load_release(
        settings,
        &ReleaseArgs {
            cycle: None,
            revision: None,
            release: Some(path),
        },
    )
}

/// The release manifests of `dir` (`cNNNN.RRR.yaml`), each with its (cycle,
/// revision); other files are ignored.
pub fn manifests(dir: &std::path::Path) -> std::io::Result<Vec<((u32, u32), PathBuf)>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_prefix('c')?.strip_suffix(".yaml")?;
            let (cycle, revision) = stem.split_once('.')?;
            let id = (cycle.parse::<u32>().ok()?, revision.parse::<u32>().ok()?);
            Some((id, e.path()))
        })
        .collect())
}

/// Refuses, before anything is fetched or written, an apply that could not
/// be confirmed: no `--yes` and no terminal to ask on.
pub fn check_can_confirm(yes: bool) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !(yes || std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        anyhow::bail!(
            "refusing to apply without confirmation: not a terminal. Pass --yes to apply, or --dry-run to see the plan"
        );
    }
    Ok(())
}

/// Asks a yes/no question on the terminal; refuses when there is none.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::BufRead;
    check_can_confirm(false)?;
    let mut err = std::io::stderr();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// A tokio runtime for one command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Loads the sites named on the command line (or every site with `all`),
/// in the order given, each once.
pub fn chosen_sites<'a>(
    settings: &Settings,
    all_sites: &'a [crate::model::site::LoadedSite],
    which: &SiteArgs,
) -> anyhow::Result<Vec<&'a crate::model::site::LoadedSite>> {
    if which.all {
        return Ok(all_sites.iter().collect());
    }
    let mut chosen: Vec<&crate::model::site::LoadedSite> = Vec::new();
    for name in &which.sites {
        match all_sites.iter().find(|s| &s.site.name == name) {
            Some(s) if !chosen.iter().any(|c| c.site.name == *name) => chosen.push(s),
            Some(_) => {}
            None => {
                crate::model::site::load_named(&settings.sites_dir, name)?;
                anyhow::bail!("unknown site `{name}`");
            }
        }
    }
    Ok(chosen)
}
