//! Where `cycle` finds its inputs and keeps its state.
//!
//! Every setting is resolved in the same order: command-line flag, then
//! environment variable (both handled by clap), then the config file
//! (`--config`/`CYCLE_CONFIG`, else `./cycle.toml`, else
//! `$XDG_CONFIG_HOME/cycle/config.toml`), then the built-in default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::services::confluence::Api;

/// The optional config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Directory of `*.yaml` site files.
    pub sites_dir: Option<PathBuf>,
    /// Directory of templates.
    pub templates_dir: Option<PathBuf>,
    /// Directory of release manifests.
    pub releases_dir: Option<PathBuf>,
    /// Cache of repository clones.
    pub cache_dir: Option<PathBuf>,
    /// Journal and other state.
    pub state_dir: Option<PathBuf>,
    /// Jira REST API version: 3 (Cloud, the default) or 2 (Data Center).
    pub jira_api_version: Option<u8>,
    /// Confluence REST API: `cloud-v2` (the default) or `datacenter-v1`.
    pub confluence_api: Option<String>,
    /// Ref (template) of ts_cycle_build read for the versions.
    pub cycle_build_ref: Option<String>,
    /// Root of the conda channel API (`cycle check`).
    pub conda_api_url: Option<String>,
    /// The observatory's conda channel (`cycle check`).
    pub conda_channel: Option<String>,
    /// Rules of `cycle check` (default: the shipped `checks.yaml`).
    pub checks_file: Option<PathBuf>,
}

/// Resolved settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Directory of `*.yaml` site files.
    pub sites_dir: PathBuf,
    /// Directory of templates.
    pub templates_dir: PathBuf,
    /// Directory of release manifests.
    pub releases_dir: PathBuf,
    /// Cache of repository clones.
    pub cache_dir: PathBuf,
    /// Journal and other state.
    pub state_dir: PathBuf,
    /// Jira REST API version (3 or 2).
    pub jira_api_version: u8,
    /// Confluence REST API (Cloud v2 or Data Center v1).
    pub confluence_api: Api,
    /// Ref (template) of ts_cycle_build read for the versions; `None`: its default branch.
    pub cycle_build_ref: Option<String>,
    /// Root of the conda channel API.
    pub conda_api_url: String,
    /// The observatory's conda channel.
    pub conda_channel: String,
    /// Rules of `cycle check`; `None`: the shipped ones.
    pub checks_file: Option<PathBuf>,
}

/// Values from flags or environment (clap merges those two).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Explicit config file.
    pub config: Option<PathBuf>,
    /// `--sites-dir` / `CYCLE_SITES_DIR`.
    pub sites_dir: Option<PathBuf>,
    /// `--templates-dir` / `CYCLE_TEMPLATES_DIR`.
    pub templates_dir: Option<PathBuf>,
    /// `--releases-dir` / `CYCLE_RELEASES_DIR`.
    pub releases_dir: Option<PathBuf>,
    /// `--cache-dir` / `CYCLE_CACHE_DIR`.
    pub cache_dir: Option<PathBuf>,
    /// `--state-dir` / `CYCLE_STATE_DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--jira-api-version` / `CYCLE_JIRA_API_VERSION`.
    pub jira_api_version: Option<u8>,
    /// `--confluence-api` / `CYCLE_CONFLUENCE_API` (checked by clap).
    pub confluence_api: Option<Api>,
    /// `--cycle-build-ref` / `CYCLE_BUILD_REF`.
    pub cycle_build_ref: Option<String>,
    /// `CYCLE_CONDA_API_URL`.
    pub conda_api_url: Option<String>,
    /// `--checks-file` / `CYCLE_CHECKS_FILE`.
    pub checks_file: Option<PathBuf>,
}

/// Finds and reads the config file; an explicit one must exist.
pub fn read_config_file(explicit: Option<&Path>) -> anyhow::Result<(Option<PathBuf>, ConfigFile)> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path.to_path_buf()],
        None => {
            let mut c = vec![PathBuf::from("cycle.toml")];
            if let Some(dir) = dirs::config_dir() {
                c.push(dir.join("cycle").join("config.toml"));
            }
            c
        }
    };
    for path in candidates {
        if !path.is_file() {
            if explicit.is_some() {
                anyhow::bail!("config file {} does not exist", path.display());
            }
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let rel = |p: Option<PathBuf>| p.map(|p| base.join(p));
        let file = ConfigFile {
            sites_dir: rel(file.sites_dir),
            templates_dir: rel(file.templates_dir),
            releases_dir: rel(file.releases_dir),
            cache_dir: rel(file.cache_dir),
            state_dir: rel(file.state_dir),
            jira_api_version: file.jira_api_version,
            confluence_api: file.confluence_api,
            cycle_build_ref: file.cycle_build_ref,
            conda_api_url: file.conda_api_url,
            conda_channel: file.conda_channel,
            checks_file: rel(file.checks_file),
        };
        if let Some(v) = file.jira_api_version
            && v != 2
            && v != 3
        {
            anyhow::bail!(
                "{}: jira_api_version: must be 3 (Jira Cloud) or 2 (Data Center), got {v}",
                path.display()
            );
        }
        if let Some(api) = &file.confluence_api
            && let Err(e) = api.parse::<Api>()
        {
            anyhow::bail!("{}: confluence_api: {e}", path.display());
        }
        return Ok((Some(path), file));
    }
    Ok((None, ConfigFile::default()))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// Resolves each setting: override → config file → default.
pub fn resolve(overrides: &Overrides, file: &ConfigFile) -> Settings {
    let pick = |o: &Option<PathBuf>, f: &Option<PathBuf>, default: PathBuf| {
        o.clone().or_else(|| f.clone()).unwrap_or(default)
    };
    let cache_default = dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cycle");
    let state_default = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("cycle");
    Settings {
        sites_dir: pick(&overrides.sites_dir, &file.sites_dir, "sites".into()),
        templates_dir: pick(
            &overrides.templates_dir,
            &file.templates_dir,
            "templates".into(),
        ),
        releases_dir: pick(
            &overrides.releases_dir,
            &file.releases_dir,
            "releases".into(),
        ),
        cache_dir: pick(&overrides.cache_dir, &file.cache_dir, cache_default),
        state_dir: pick(&overrides.state_dir, &file.state_dir, state_default),
        jira_api_version: overrides
            .jira_api_version
            .or(file.jira_api_version)
            .unwrap_or(3),
        confluence_api: overrides
            .confluence_api
            .or_else(|| file.confluence_api.as_deref().and_then(|a| a.parse().ok()))
            .unwrap_or_default(),
        cycle_build_ref: overrides
            .cycle_build_ref
            .clone()
            .or_else(|| file.cycle_build_ref.clone()),
        conda_api_url: overrides
            .conda_api_url
            .clone()
            .or_else(|| file.conda_api_url.clone())
            .unwrap_or_else(|| crate::services::conda::DEFAULT_API_URL.to_string()),
        conda_channel: file
            .conda_channel
            .clone()
            .unwrap_or_else(|| crate::services::conda::DEFAULT_CHANNEL.to_string()),
        checks_file: overrides
            .checks_file
            .clone()
            .or_else(|| file.checks_file.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_or_env_beats_file_beats_default() {
        let file = ConfigFile {
            sites_dir: Some("/file/sites".into()),
            templates_dir: Some("/file/templates".into()),
            ..Default::default()
        };
        let overrides = Overrides {
            sites_dir: Some("/flag/sites".into()),
            ..Default::default()
        };
        let s = resolve(&overrides, &file);
        assert_eq!(s.sites_dir, PathBuf::from("/flag/sites"));
        assert_eq!(s.templates_dir, PathBuf::from("/file/templates"));
        assert_eq!(s.releases_dir, PathBuf::from("releases"));
        assert!(s.cache_dir.ends_with("cycle"));
    }

    #[test]
    fn config_file_paths_are_relative_to_the_file_and_strict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cycle.toml");
        std::fs::write(&path, "sites_dir = \"my-sites\"\n").unwrap();
        let (found, file) = read_config_file(Some(&path)).unwrap();
        assert_eq!(found, Some(path.clone()));
        assert_eq!(file.sites_dir, Some(dir.path().join("my-sites")));

        std::fs::write(&path, "sites_dir = \"a\"\nsite_dir = \"b\"\n").unwrap();
        let err = read_config_file(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("cycle.toml:2:1"), "{err}");
        assert!(err.contains("unknown field"), "{err}");

        let missing = dir.path().join("nope.toml");
        assert!(read_config_file(Some(&missing)).is_err());
    }
}
