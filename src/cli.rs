//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

use crate::style::ColorChoice;

/// Prepare an observatory cycle-build deployment, site by site.
///
/// Exit codes: 0 success (for --dry-run: no selected step would change
/// anything; for an apply: every selected step finished or is waiting, for
/// `cycle mark` or Slack's 120-day window), 1 error or unfinished steps, 2
/// changes pending (--dry-run), 64 usage error, 130 interrupted (Ctrl-C).
#[derive(Debug, Parser)]
#[command(
    name = "cycle",
    version,
    propagate_version = true,
    disable_help_subcommand = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Examples shown by `cycle --help`.
const EXAMPLES: &str = "Examples:
  # What would change for the summit's Cycle 44 deployment, without asking any service
  cycle prepare --site summit --cycle 44 --dry-run --offline

  # Prove every service is ready, then apply every site's checklist
  cycle doctor --all --cycle 44
  cycle prepare --all --cycle 44 --yes

  # Is the cycle build ready (released tags, conda packages, XML tickets)?
  cycle check --cycle 44

  # Where each site stands, from the journal
  cycle status --all --cycle 44";

/// Examples shown by `cycle prepare --help`.
const PREPARE_EXAMPLES: &str = "Examples:
  # The plan of one site, offline
  cycle prepare --site summit --cycle 44 --dry-run --offline

  # Only the Jira tickets and configuration branches of every site
  cycle prepare --all --cycle 44 --only jira,config --yes

  # A revision, with the site's ticket known
  cycle prepare --site summit --cycle 44 --revision 3 --ticket OSW-2010 --yes

  # Save the reviewed plan, then apply exactly it
  cycle prepare --all --cycle 44 --dry-run --out plan.json
  cycle apply plan.json";

/// Options every command shares.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file [default: ./cycle.toml, then $XDG_CONFIG_HOME/cycle/config.toml]
    #[arg(long, global = true, env = "CYCLE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The settings: one flag and environment variable each (`crate::settings`)
    #[command(flatten)]
    pub settings: crate::settings::Layer,
    /// More detail (whole message and page bodies, progress notes)
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Only errors and the requested output
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output (NO_COLOR is honoured by `auto`)
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub color: ColorChoice,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List, show or validate site files
    #[command(subcommand)]
    Sites(SitesCommand),
    /// Plan every checklist step for one or more sites and apply it (or --dry-run)
    Prepare(PrepareArgs),
    /// Check that every service is ready for the sites' steps (reads only; exit 1 when not)
    Doctor(DoctorArgs),
    /// Apply a saved plan exactly as reviewed; refuses when anything it was made from changed
    Apply(ApplyArgs),
    /// Make the configuration edits of one site on its ticket branch, commit and push
    Config(ConfigArgs),
    /// Show the checklist of a cycle per site, from the journal (no network)
    Status(StatusArgs),
    /// Record a human step (or any step) as done or cancelled
    Mark(MarkArgs),
    /// Delete the pending scheduled Slack announcements of a deployment (posts nothing)
    Cancel(CancelArgs),
    /// Print the Slack announcements of a deployment for copy and paste (offline, no token)
    Announce(AnnounceArgs),
    /// Check that a cycle build is ready: versions released, conda packages, XML tickets (read-only)
    Check(CheckArgs),
    /// Open a cycle: write its release manifest from the schedule rule and ts_cycle_build
    New(NewArgs),
    /// Put a site back on an earlier cycle: ticket, branch and PR from history, announcements
    /// cancelled, a notice and a line on the page (or --dry-run)
    #[command(after_help = REVERT_EXAMPLES)]
    Revert(RevertArgs),
    /// Render one template for a site, to preview it
    Render(RenderArgs),
    /// Print shell completions
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): cycle(1), or with a command the page
    /// the SUBCOMMANDS section names (`cycle man prepare` is cycle-prepare(1))
    Man {
        /// The command (and subcommand) whose page to print, e.g. `prepare` or `sites list`
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
}

/// `cycle sites ...`
#[derive(Debug, Subcommand)]
pub enum SitesCommand {
    /// List the sites of the sites directory
    List,
    /// Show one site as loaded
    Show {
        /// Site name, e.g. summit
        site: String,
    },
    /// Validate every site file; report every invalid one
    Validate,
}

/// Which cycle, and where its manifest is.
#[derive(Debug, Args, Clone)]
pub struct ReleaseArgs {
    /// Cycle number (taken from --release when omitted)
    #[arg(long, value_name = "N")]
    pub cycle: Option<u32>,
    /// Revision within the cycle [default: the manifest's, else 0]
    #[arg(long, value_name = "R")]
    pub revision: Option<u32>,
    /// Release manifest [default: <releases-dir>/c<NNNN>.<RRR>.yaml]
    #[arg(long, value_name = "FILE")]
    pub release: Option<PathBuf>,
}

/// Which sites a command is about: `--site SITE…` or `--all`, one of the
/// two (`cycle check` makes them optional).
#[derive(Debug, Args, Clone, Default)]
#[group(id = "which_sites", required = true, multiple = false)]
pub struct SiteArgs {
    /// Site, e.g. summit (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
}

/// How a command prints what it found: `--format`, or `--json` for short.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct FormatArgs {
    /// JSON on stdout (short for --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::output::Format,
}

impl FormatArgs {
    /// The format asked for: `--json` is short for `--format json`.
    pub fn pick(self) -> crate::output::Format {
        crate::output::Format::pick(self.json, self.format)
    }
}

/// `cycle prepare`
#[derive(Debug, Args)]
#[command(after_help = PREPARE_EXAMPLES)]
pub struct PrepareArgs {
    /// The sites
    #[command(flatten)]
    pub sites: SiteArgs,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// How the plan is made, shown and applied
    #[command(flatten)]
    pub run: RunArgs,
    /// With --dry-run: post the Markdown plan as one comment on pull request N of
    /// --comment-repo, updated in place on later runs (found by a marker)
    #[arg(long, value_name = "N", requires = "dry_run")]
    pub comment_on_pr: Option<u64>,
    /// The repository of --comment-on-pr, OWNER/NAME
    #[arg(long, value_name = "OWNER/NAME", env = "GITHUB_REPOSITORY")]
    pub comment_repo: Option<String>,
    /// Do not run `cycle check`'s checks before planning (they are pre-flight findings of the
    /// plan and block the page's ready announcement while a version is not released)
    #[arg(long, env = "CYCLE_NO_CHECK", value_parser = BoolishValueParser::new())]
    pub no_check: bool,
    /// Publish the Confluence page even though ts_cycle_build's cycle.env disagrees with the
    /// release manifest (the findings stay in the plan)
    #[arg(long)]
    pub accept_version_mismatch: bool,
    /// `cycle revert --to N`: the plan is the revert's (not a flag of `prepare`)
    #[arg(skip)]
    pub revert_to: Option<u32>,
}

const REVERT_EXAMPLES: &str = "Examples:
  cycle revert --site bts --to 44 --dry-run
  cycle revert --site bts --to 44 --from 45 --dry-run --out revert.json
  cycle apply revert.json";

/// `cycle revert`
#[derive(Debug, Args)]
pub struct RevertArgs {
    /// The sites
    #[command(flatten)]
    pub sites: SiteArgs,
    /// The cycle the sites go back to
    #[arg(long, value_name = "N")]
    pub to: u32,
    /// The cycle reverted [default: the newest release manifest's cycle after --to]
    #[arg(long, value_name = "N")]
    pub from: Option<u32>,
    /// How the plan is made, shown and applied
    #[command(flatten)]
    pub run: RunArgs,
}

/// What `prepare` and `revert` share: the tickets given, the dry run and
/// its output, the selection, the confirmation and the commit identity.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Known ticket: KEY for a single site, or SITE=KEY (repeatable)
    #[arg(long = "ticket", value_name = "[SITE=]KEY")]
    pub tickets: Vec<String>,
    /// Print the plan; change nothing anywhere
    #[arg(long)]
    pub dry_run: bool,
    /// The output format
    #[command(flatten)]
    pub format: FormatArgs,
    /// With --dry-run: also write the plan, with what it was made from and observed, to
    /// FILE, for `cycle apply FILE` (docs/plan-json.md)
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub out: Option<PathBuf>,
    /// Do not fetch or call any service; read cached clones only (implies --dry-run)
    #[arg(long, env = "CYCLE_OFFLINE", value_parser = BoolishValueParser::new())]
    pub offline: bool,
    /// Only these kinds of steps
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND,...")]
    pub only: Vec<crate::plan::Selector>,
    /// Never these kinds of steps
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KIND,...")]
    pub skip: Vec<crate::plan::Selector>,
    /// Apply without asking (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Commit author, "Name <email>" [default: GIT_AUTHOR_NAME/EMAIL, then git config]
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,
    /// Committer, "Name <email>" [default: GIT_COMMITTER_NAME/EMAIL, then the author]
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub committer: Option<String>,
}

/// `cycle apply`
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan written by `cycle prepare … --dry-run --out FILE`
    pub plan: PathBuf,
    /// Apply without asking (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// JSON on stdout: the run's summary
    #[arg(long)]
    pub json: bool,
}

/// The sites, the cycle and the output format of a command that reports on
/// deployments (`cycle doctor`, `cycle status`, `cycle check`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The sites
    #[command(flatten)]
    pub sites: SiteArgs,
    /// The cycle (`cycle doctor`: by default the newest manifest of the releases directory)
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// The output format
    #[command(flatten)]
    pub format: FormatArgs,
}

/// `cycle doctor`
pub type DoctorArgs = ReportArgs;

/// `cycle status`
pub type StatusArgs = ReportArgs;

/// What `cycle mark` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MarkAs {
    /// The step is done.
    Done,
    /// The step will not be done: later runs plan it as done and never
    /// apply it.
    Cancelled,
    /// Applied again by the next run (undoes `cancelled`, `cycle cancel` and
    /// `cycle revert`'s cancellation).
    Pending,
}

/// `cycle mark`
#[derive(Debug, Args)]
pub struct MarkArgs {
    /// The site
    #[arg(long, value_name = "SITE")]
    pub site: String,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// The step: build-team, nublado-sync, or any step id of the site (e.g. slack:start)
    pub step: String,
    /// What to record
    #[arg(value_enum)]
    pub mark: MarkAs,
}

/// `cycle config`
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The site
    #[arg(long, value_name = "SITE")]
    pub site: String,
    /// The cycle
    #[command(flatten)]
    pub release: ConfigReleaseArgs,
    /// The site's configuration ticket; the branch is tickets/KEY
    #[arg(long, value_name = "KEY")]
    pub ticket: String,
    /// Only this repository (owner/name) of the site
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// Show the diff; commit and push nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Commit and push without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Do not fetch; read cached clones only (implies --dry-run)
    #[arg(long, env = "CYCLE_OFFLINE", value_parser = BoolishValueParser::new())]
    pub offline: bool,
    /// Commit author, "Name <email>" [default: GIT_AUTHOR_NAME/EMAIL, then git config]
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,
    /// Committer, "Name <email>" [default: GIT_COMMITTER_NAME/EMAIL, then the author]
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub committer: Option<String>,
}

/// The cycle for `cycle config` (no manifest needed: edits depend on the numbers only).
#[derive(Debug, Args, Clone)]
pub struct ConfigReleaseArgs {
    /// Cycle number
    #[arg(long, value_name = "N")]
    pub cycle: u32,
    /// Revision within the cycle
    #[arg(long, value_name = "R", default_value_t = 0)]
    pub revision: u32,
}

/// `cycle render`
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Template name, e.g. slack_day_before.mrkdwn (the extension may be left out)
    pub template: String,
    /// The site
    #[arg(long, value_name = "SITE")]
    pub site: String,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// The site's ticket key, if known
    #[arg(long, value_name = "KEY")]
    pub ticket: Option<String>,
}

/// `cycle cancel`
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The sites
    #[command(flatten)]
    pub sites: SiteArgs,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Cancel without asking (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `cycle announce`
#[derive(Debug, Args)]
pub struct AnnounceArgs {
    /// The sites
    #[command(flatten)]
    pub sites: SiteArgs,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Print every message to stdout, as a person pastes it into Slack
    #[arg(long)]
    pub print: bool,
}

/// `cycle check`
#[derive(Debug, Args)]
#[command(mut_group("which_sites", |g| g.required(false)))]
pub struct CheckArgs {
    /// The sites (optional: the checks are the cycle's), the cycle and the output format
    #[command(flatten)]
    pub report: ReportArgs,
    /// No network: only the checks that need none run (the others say skipped)
    #[arg(long, env = "CYCLE_OFFLINE", value_parser = BoolishValueParser::new())]
    pub offline: bool,
    /// The XML version before this cycle's (a ts_xml tag) [default: the greatest tag below it]
    #[arg(long, value_name = "TAG")]
    pub previous_xml: Option<String>,
}

/// `cycle new`
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Cycle number
    #[arg(long, value_name = "N")]
    pub cycle: u32,
    /// Revision (an incremental upgrade) [default: 0, a full cycle]
    #[arg(long, value_name = "R")]
    pub revision: Option<u32>,
    /// The summit's deployment date: the other dates are worked back from it
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "closure")]
    pub summit: Option<chrono::NaiveDate>,
    /// The close of release work (day 1): the other dates are worked forward from it
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub closure: Option<chrono::NaiveDate>,
    /// Schedule rule [default: the shipped schedule.yaml, the documented rule]
    #[arg(long, value_name = "FILE")]
    pub schedule: Option<PathBuf>,
    /// A component the revision restarts (repeatable; a revision needs one)
    #[arg(long = "restart", value_name = "COMPONENT")]
    pub restart: Vec<String>,
    /// Read ts_cycle_build from the cache only
    #[arg(long)]
    pub offline: bool,
}
