//! `cycle new`: opens a cycle (or a revision) by writing its release
//! manifest: the dates from the schedule rule, worked back from the summit's
//! date (or forward from the close of release work), the versions from
//! ts_cycle_build's `cycle/cycle.env` at the configured ref and, for what
//! that file does not have, the newest earlier manifest. Refuses to
//! overwrite; prints what it derived and every warning.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context as _;

use super::{Ctx, Outcome};
use crate::cli::NewArgs;
use crate::engine::config::GitRun;
use crate::model::cycle_id::CycleId;
use crate::model::schedule::{self, Anchor, NewVersions, ScheduleRule};
use crate::services::cycle_build::{self, PACKAGES};
use crate::services::git::Credentials;

/// Writes the new release manifest and prints what was derived.
pub fn run(ctx: &Ctx, args: &NewArgs) -> anyhow::Result<Outcome> {
    let id = CycleId::new(args.cycle, args.revision.unwrap_or(0))
        .map_err(|e| super::UsageError(format!("--cycle/--revision: {e}")))?;
    let path = ctx.settings.releases_dir.join(id.manifest_file_name());
    if path.exists() {
        anyhow::bail!(
            "{} exists: `cycle new` never overwrites a manifest (edit it, or remove it first)",
            path.display()
        );
    }
    if id.revision > 0 && args.restart.is_empty() {
        return Err(super::UsageError(format!(
            "{} restarts components: name each with --restart COMPONENT (e.g. --restart MTScheduler)",
            id.label()
        ))
        .into());
    }
    let rule = match &args.schedule {
        Some(file) => ScheduleRule::load(file)?,
        None => ScheduleRule::shipped(),
    };
    let anchor = match (args.summit, args.closure) {
        (Some(date), None) => Anchor::Summit(date),
        (None, Some(date)) => Anchor::Closure(date),
        _ => {
            return Err(super::UsageError(
                "give the summit's date (--summit YYYY-MM-DD) or the close of release work (--closure YYYY-MM-DD)".into(),
            )
            .into());
        }
    };
    let sites = crate::render::load_sites(&ctx.settings.sites_dir)?;
    let zones: BTreeMap<String, chrono_tz::Tz> =
        sites.iter().map(|s| (s.site.name.clone(), s.tz)).collect();
    let today = chrono::Utc::now().date_naive();
    let derived = schedule::derive(rule.kind(id.revision), anchor, &zones, today)
        .map_err(|e| anyhow::anyhow!("the schedule rule: {e}"))?;

    let mut warnings = derived.warnings.clone();
    let versions = versions(ctx, args, id, &mut warnings)?;
    let text = schedule::manifest_text(id, &derived, &versions, &args.restart, today);
    // What is written must load like any manifest: written beside it, read
    // back, then linked into place (never over an existing file).
    std::fs::create_dir_all(&ctx.settings.releases_dir)?;
    let draft = path.with_extension("yaml.new");
    std::fs::write(&draft, &text).with_context(|| format!("writing {}", draft.display()))?;
    let loaded = crate::model::release::load(&draft);
    let linked = loaded
        .as_ref()
        .ok()
        .map(|_| std::fs::hard_link(&draft, &path));
    let _ = std::fs::remove_file(&draft);
    loaded.context("the derived manifest does not load")?;
    if let Some(result) = linked {
        result.with_context(|| format!("writing {}", path.display()))?;
    }

    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", ctx.style.bold(&id.label()), path.display());
    let _ = writeln!(
        out,
        "  close of release work  {} ({})",
        derived.closure,
        schedule::weekday_name(chrono::Datelike::weekday(&derived.closure))
    );
    for (key, date) in &derived.milestones {
        let _ = writeln!(out, "  {key:<22} {date}");
    }
    for (site, d) in &derived.deployments {
        let zone = zones.get(site).map(|z| z.name()).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {site:<22} {} ({}, {zone})",
            schedule::manifest_time(&d.start),
            schedule::weekday_name(chrono::Datelike::weekday(&d.start.date()))
        );
        if let Some((ready, until)) = &d.integration_testing {
            let _ = writeln!(
                out,
                "  {:<22} ready by {}, until {}",
                "",
                schedule::manifest_time(ready),
                schedule::manifest_time(until)
            );
        }
    }
    if !versions.cycle_build_at.is_empty() {
        let _ = writeln!(out, "  versions from {}", versions.cycle_build_at);
    }
    ctx.print(&out)?;
    for warning in &warnings {
        eprintln!("{} {warning}", ctx.style.yellow("warning:"));
    }
    Ok(Outcome::Clean)
}

/// The versions: ts_cycle_build's, then the newest earlier manifest's for
/// the rest.
fn versions(
    ctx: &Ctx,
    args: &NewArgs,
    id: CycleId,
    warnings: &mut Vec<String>,
) -> anyhow::Result<NewVersions> {
    let mut out = NewVersions::default();
    let source =
        crate::engine::pages::cycle_build_source(ctx.settings.cycle_build_ref.as_deref(), id)?;
    let creds = if args.offline {
        Credentials::none()
    } else {
        Credentials::from_env()
    };
    let git = GitRun::new(&ctx.settings.cache_dir, creds, args.offline);
    match git.cycle_build(&source)? {
        cycle_build::Observed::Read(snapshot) => {
            for package in PACKAGES {
                if let Some(v) = snapshot.env.get(package) {
                    out.cycle_build.insert(package.to_string(), v.to_string());
                }
            }
            match snapshot.env.cycle_id() {
                Ok(build) if build.cycle != id.cycle => warnings.push(format!(
                    "{} is for {}, not {}: pass --cycle-build-ref with the cycle's branch or tag",
                    snapshot.describe(),
                    build.full_tag(),
                    id.full_tag()
                )),
                Err(reason) => warnings.push(format!("{}: {reason}", snapshot.describe())),
                Ok(_) => {}
            }
            out.cycle_build_at = snapshot.describe();
        }
        cycle_build::Observed::Offline => anyhow::bail!(
            "offline and ts_cycle_build has never been cloned into the cache: run without --offline"
        ),
    }
    let previous = previous_manifest(&ctx.settings.releases_dir, id)?;
    let Some((file, release)) = previous else {
        anyhow::bail!(
            "no earlier manifest in {} to take {} from: write one by hand first",
            ctx.settings.releases_dir.display(),
            schedule::CARRIED.join(", ")
        );
    };
    let v = &release.release.versions;
    for (k, value) in [
        ("strimzi", &v.strimzi),
        ("kafka", &v.kafka),
        ("schema_registry", &v.schema_registry),
        ("ts_sal_utils", &v.ts_sal_utils),
    ] {
        out.previous.insert(k.to_string(), value.clone());
    }
    out.previous_file = file;
    Ok(out)
}

/// The newest manifest of `dir` older than `id`, with its file name.
fn previous_manifest(
    dir: &std::path::Path,
    id: CycleId,
) -> anyhow::Result<Option<(String, crate::model::release::LoadedRelease)>> {
    let newest = super::manifests(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|(key, _)| *key < (id.cycle, id.revision))
        .max_by_key(|(key, _)| *key);
    newest
        .map(|(_, path)| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            Ok((name, crate::model::release::load(&path)?))
        })
        .transpose()
}
