//! `cycle revert --site SITE --to N`: the site goes back to Cycle N. The
//! plan is made against the reverted cycle's release manifest (`--from`,
//! by default the newest after N) by [`crate::engine::steps::revert`], and
//! shown, saved (`--dry-run --out`) and applied exactly as `prepare`'s is.

use super::{Ctx, Outcome, UsageError, manifests};
use crate::cli::{PrepareArgs, ReleaseArgs, RevertArgs, SiteArgs};

/// Plans the revert, prints it, and applies it unless `--dry-run`.
pub fn run(ctx: &Ctx, args: &RevertArgs) -> anyhow::Result<Outcome> {
    let release = reverted_release(ctx, args.to, args.from)?;
    let prepare = PrepareArgs {
        sites: SiteArgs {
            sites: args.sites.sites.clone(),
            all: args.sites.all,
        },
        release,
        run: args.run.clone(),
        comment_on_pr: None,
        comment_repo: None,
        no_check: true,
        accept_version_mismatch: false,
        revert_to: Some(args.to),
    };
    super::prepare::run(ctx, &prepare)
}

/// The manifest of the cycle reverted: its newest revision of `from`, or
/// without it the newest manifest of a cycle after `to`.
fn reverted_release(ctx: &Ctx, to: u32, from: Option<u32>) -> anyhow::Result<ReleaseArgs> {
    if to == 0 {
        return Err(UsageError("--to: cycles are numbered from 1".into()).into());
    }
    if let Some(from) = from
        && from <= to
    {
        return Err(UsageError(format!(
            "--from {from} --to {to}: a revert goes back to an earlier cycle"
        ))
        .into());
    }
    let dir = &ctx.settings.releases_dir;
    let found = manifests(dir)
        .map_err(|e| anyhow::anyhow!("cannot read the releases directory {}: {e}", dir.display()))?
        .into_iter()
        .filter(|((cycle, _), _)| from.map_or(*cycle > to, |f| *cycle == f))
        .max_by_key(|(id, _)| *id);
    let Some(((cycle, revision), _)) = found else {
        anyhow::bail!(
            "no release manifest of {} in {}: the revert is planned against the reverted cycle's manifest (its page and announcements){}",
            from.map_or_else(|| format!("a cycle after {to}"), |f| format!("Cycle {f}")),
            dir.display(),
            if from.is_none() {
                "; give it with --from N"
            } else {
                ""
            }
        );
    };
    ctx.note(&format!(
        "reverting Cycle {cycle} (its manifest c{cycle:04}.{revision:03}.yaml) to Cycle {to}"
    ));
    Ok(ReleaseArgs {
        cycle: Some(cycle),
        revision: Some(revision),
        release: None,
    })
}
