//! Command-line definitions (clap derive) and nothing else.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand};

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
    /// Directory of site files [default: sites]
    #[arg(long, global = true, env = "CYCLE_SITES_DIR", value_name = "DIR")]
    pub sites_dir: Option<PathBuf>,
    /// Directory of templates [default: templates]
    #[arg(long, global = true, env = "CYCLE_TEMPLATES_DIR", value_name = "DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Directory of release manifests [default: releases]
    #[arg(long, global = true, env = "CYCLE_RELEASES_DIR", value_name = "DIR")]
    pub releases_dir: Option<PathBuf>,
    /// Cache of repository clones [default: $XDG_CACHE_HOME/cycle]
    #[arg(long, global = true, env = "CYCLE_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Journal and state [default: $XDG_STATE_HOME/cycle]
    #[arg(long, global = true, env = "CYCLE_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Jira REST API version: 3 (Cloud) or 2 (Data Center) [default: 3]
    #[arg(long, global = true, env = "CYCLE_JIRA_API_VERSION", value_name = "N",
          value_parser = clap::value_parser!(u8).range(2..=3))]
    pub jira_api_version: Option<u8>,
    /// Confluence REST API: cloud-v2 (Cloud) or datacenter-v1 (Data Center) [default: cloud-v2]
    #[arg(long, global = true, env = "CYCLE_CONFLUENCE_API", value_name = "API",
          value_parser = ["cloud-v2", "datacenter-v1"])]
    pub confluence_api: Option<String>,
    /// Ref of lsst-ts/ts_cycle_build whose cycle/cycle.env holds the versions, a template
    /// such as `{{ full_tag }}` [default: main]
    #[arg(long, global = true, env = "CYCLE_BUILD_REF", value_name = "REF")]
    pub cycle_build_ref: Option<String>,
    /// Root of the conda channel's HTTP API [default: https://api.anaconda.org]
    #[arg(long, global = true, env = "CYCLE_CONDA_API_URL", value_name = "URL")]
    pub conda_api_url: Option<String>,
    /// Rules of `cycle check` (YAML, as the shipped checks.yaml) [default: built in]
    #[arg(long, global = true, env = "CYCLE_CHECKS_FILE", value_name = "FILE")]
    pub checks_file: Option<PathBuf>,
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

/// `cycle prepare`
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("which_sites").required(true).args(["sites", "all"])),
    after_help = PREPARE_EXAMPLES
)]
pub struct PrepareArgs {
    /// Site to prepare (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Prepare every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Known ticket: KEY for a single site, or SITE=KEY (repeatable)
    #[arg(long = "ticket", value_name = "[SITE=]KEY")]
    pub tickets: Vec<String>,
    /// Print the plan; change nothing anywhere
    #[arg(long)]
    pub dry_run: bool,
    /// JSON on stdout: the plan (--dry-run) or the run's summary (short for --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format of the plan (--dry-run) or the run's summary
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::output::Format,
    /// With --dry-run: post the Markdown plan as one comment on pull request N of
    /// --comment-repo, updated in place on later runs (found by a marker)
    #[arg(long, value_name = "N", requires = "dry_run")]
    pub comment_on_pr: Option<u64>,
    /// With --dry-run: also write the plan, with what it was made from and observed, to
    /// FILE, for `cycle apply FILE` (docs/plan-json.md)
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub out: Option<PathBuf>,
    /// The repository of --comment-on-pr, OWNER/NAME
    #[arg(long, value_name = "OWNER/NAME", env = "GITHUB_REPOSITORY")]
    pub comment_repo: Option<String>,
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
    /// Do not run `cycle check`'s checks before planning (they are pre-flight findings of the
    /// plan and block the page's ready announcement while a version is not released)
    #[arg(long, env = "CYCLE_NO_CHECK", value_parser = BoolishValueParser::new())]
    pub no_check: bool,
    /// Publish the Confluence page even though ts_cycle_build's cycle.env disagrees with the
    /// release manifest (the findings stay in the plan)
    #[arg(long)]
    pub accept_version_mismatch: bool,
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

/// `cycle doctor`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which_sites").required(true).args(["sites", "all"])))]
pub struct DoctorArgs {
    /// Site to check (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle whose requests are checked [default: the newest manifest of the releases directory]
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Print the findings as JSON (short for --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format of the findings
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::output::Format,
}

/// `cycle status`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which_sites").required(true).args(["sites", "all"])))]
pub struct StatusArgs {
    /// Site to show (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Print JSON (short for --format json)
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::output::Format,
}

/// What `cycle mark` records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MarkAs {
    /// The step is done.
    Done,
    /// The step will not be done.
    Cancelled,
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
#[command(group(ArgGroup::new("which_sites").required(true).args(["sites", "all"])))]
pub struct CancelArgs {
    /// Site whose announcements to cancel (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Cancel without asking (for scripts)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `cycle announce`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which_sites").required(true).args(["sites", "all"])))]
pub struct AnnounceArgs {
    /// Site whose announcements to print (repeatable)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Print every message to stdout, as a person pastes it into Slack
    #[arg(long)]
    pub print: bool,
}

/// `cycle check`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which_sites").args(["sites", "all"])))]
pub struct CheckArgs {
    /// Site whose deployment is checked (repeatable; the checks are the cycle's)
    #[arg(long = "site", value_name = "SITE")]
    pub sites: Vec<String>,
    /// Every site of the sites directory
    #[arg(long)]
    pub all: bool,
    /// The cycle
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::output::Format,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
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
