//! One module per subcommand; each returns what `main` turns into an exit code.

pub mod config;
pub mod prepare;
pub mod render;
pub mod sites;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::cli::{GlobalArgs, ReleaseArgs};
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
}

/// What every command gets: resolved settings and output preferences.
pub struct Ctx {
    /// Resolved settings.
    pub settings: Settings,
    /// Colours.
    pub style: Style,
    /// `-v`.
    pub verbose: bool,
    /// `-q`.
    pub quiet: bool,
}

impl Ctx {
    /// Resolves settings from flags, environment, config file and defaults.
    pub fn new(global: &GlobalArgs) -> anyhow::Result<Self> {
        let (_, file) = settings::read_config_file(global.config.as_deref())?;
        let overrides = settings::Overrides {
            config: global.config.clone(),
            sites_dir: global.sites_dir.clone(),
            templates_dir: global.templates_dir.clone(),
            releases_dir: global.releases_dir.clone(),
            cache_dir: global.cache_dir.clone(),
            state_dir: global.state_dir.clone(),
        };
        Ok(Self {
            settings: settings::resolve(&overrides, &file),
            style: Style::new(global.color),
            verbose: global.verbose,
            quiet: global.quiet,
        })
    }

    /// Writes the command's output to standard output.
    pub fn print(&self, text: &str) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// A progress or status note on standard error (silenced by `-q`).
    pub fn note(&self, text: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "{text}");
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
    if let Some(cycle) = args.cycle
        && cycle != loaded.id.cycle
    {
        anyhow::bail!(
            "--cycle {cycle} disagrees with {} (cycle {})",
            path.display(),
            loaded.id.cycle
        );
    }
    if let Some(revision) = args.revision
        && revision != loaded.id.revision
    {
        anyhow::bail!(
            "--revision {revision} disagrees with {} (revision {})",
            path.display(),
            loaded.id.revision
        );
    }
    Ok(loaded)
}
