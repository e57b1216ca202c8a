//! Where `cycle` finds its inputs and keeps its state.
//!
//! Every setting is defined once, in the `settings!` table at the end of
//! this file: its flag and environment variable (the clap arguments of
//! [`Layer`]), its config-file key (the same [`Layer`], read by serde), its
//! default and its resolved type (in [`Settings`]), and its row of the
//! README's settings table ([`markdown_table`]).
//!
//! Every setting is resolved in the same order: command-line flag, then
//! environment variable (both handled by clap), then the config file
//! (`--config`/`CYCLE_CONFIG`, else `./cycle.toml`, else
//! `$XDG_CONFIG_HOME/cycle/config.toml`), then the built-in default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::services::conda;
use crate::services::confluence::Api;

/// A value that may be read from the config file: paths there are
/// relative to the file's directory, other values are taken as they are.
pub trait FileValue {
    /// The value as read from a config file in `base`.
    fn relative_to(self, base: &Path) -> Self;
}

impl FileValue for PathBuf {
    fn relative_to(self, base: &Path) -> Self {
        base.join(self)
    }
}

impl FileValue for String {
    fn relative_to(self, _base: &Path) -> Self {
        self
    }
}

impl FileValue for u8 {
    fn relative_to(self, _base: &Path) -> Self {
        self
    }
}

/// One row of the settings table, as the README shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDoc {
    /// The config-file key (the field name; the flag is its kebab-case).
    pub key: &'static str,
    /// The environment variable, when the setting has a flag.
    pub env: Option<&'static str>,
    /// What the setting is for.
    pub help: &'static str,
    /// The default, as shown.
    pub default: &'static str,
}

impl SettingDoc {
    /// The command-line flag (`--sites-dir`), when the setting has one.
    pub fn flag(&self) -> Option<String> {
        self.env
            .map(|_| format!("--{}", self.key.replace('_', "-")))
    }
}

/// Defines every setting once. Each entry names its raw type (what a flag,
/// the environment or the config file holds) and its resolved type, the
/// environment variable, the placeholder and clap value parser of its flag,
/// its help and shown default, how the resolved value is made from the
/// first raw value found, and optionally a check of the config file's
/// value (the flag's is checked by its value parser). Entries under
/// `file_only` have a config-file key and no flag.
macro_rules! settings {
    (
        with_flag {$(
            $name:ident: $raw:ty => $resolved:ty {
                env: $env:literal,
                value_name: $value_name:literal,
                parser: $parser:expr,
                help: $help:literal,
                default: $default:literal,
                resolve: $resolve:expr,
                $(check: $check:expr,)?
            }
        )*}
        file_only {$(
            $fname:ident: $fraw:ty => $fresolved:ty {
                help: $fhelp:literal,
                default: $fdefault:literal,
                resolve: $fresolve:expr,
            }
        )*}
    ) => {
        /// The settings one source gives: flags and environment (clap),
        /// or the config file (serde); `None` where it gives none.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, clap::Args)]
        #[serde(deny_unknown_fields)]
        #[command(next_help_heading = "Global options")]
        pub struct Layer {
            $(
                #[doc = $help]
                #[arg(long, global = true, env = $env, value_name = $value_name,
                      value_parser = $parser,
                      help = concat!($help, " [default: ", $default, "]"))]
                pub $name: Option<$raw>,
            )*
            $(
                #[doc = $fhelp]
                #[arg(skip)]
                pub $fname: Option<$fraw>,
            )*
        }

        /// Resolved settings.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Settings {
            $(
                #[doc = $help]
                pub $name: $resolved,
            )*
            $(
                #[doc = $fhelp]
                pub $fname: $fresolved,
            )*
        }

        impl Layer {
            /// Makes the paths of a config file in `base` relative to it
            /// and checks its values, naming the file and the key.
            fn checked_in(self, path: &Path, base: &Path) -> anyhow::Result<Self> {
                $($(
                    if let Some(value) = &self.$name {
                        let check: fn(&$raw) -> Result<(), String> = $check;
                        check(value).map_err(|e| {
                            anyhow::anyhow!("{}: {}: {e}", path.display(), stringify!($name))
                        })?;
                    }
                )?)*
                Ok(Self {
                    $($name: self.$name.map(|v| v.relative_to(base)),)*
                    $($fname: self.$fname.map(|v| v.relative_to(base)),)*
                })
            }
        }

        /// Resolves each setting: flag or environment → config file → default.
        pub fn resolve(flags: &Layer, file: &Layer) -> Settings {
            Settings {
                $($name: {
                    let resolve: fn(Option<$raw>) -> $resolved = $resolve;
                    resolve(flags.$name.clone().or_else(|| file.$name.clone()))
                },)*
                $($fname: {
                    let resolve: fn(Option<$fraw>) -> $fresolved = $fresolve;
                    resolve(flags.$fname.clone().or_else(|| file.$fname.clone()))
                },)*
            }
        }

        /// Every setting, in the order of the table.
        pub const SETTINGS: &[SettingDoc] = &[
            $(SettingDoc {
                key: stringify!($name),
                env: Some($env),
                help: $help,
                default: $default,
            },)*
            $(SettingDoc {
                key: stringify!($fname),
                env: None,
                help: $fhelp,
                default: $fdefault,
            },)*
        ];
    };
}

settings! {
    with_flag {
        sites_dir: PathBuf => PathBuf {
            env: "CYCLE_SITES_DIR",
            value_name: "DIR",
            parser: clap::value_parser!(PathBuf),
            help: "Directory of site files",
            default: "sites",
            resolve: |v| v.unwrap_or_else(|| "sites".into()),
        }
        templates_dir: PathBuf => PathBuf {
            env: "CYCLE_TEMPLATES_DIR",
            value_name: "DIR",
            parser: clap::value_parser!(PathBuf),
            help: "Directory of templates",
            default: "templates",
            resolve: |v| v.unwrap_or_else(|| "templates".into()),
        }
        releases_dir: PathBuf => PathBuf {
            env: "CYCLE_RELEASES_DIR",
            value_name: "DIR",
            parser: clap::value_parser!(PathBuf),
            help: "Directory of release manifests",
            default: "releases",
            resolve: |v| v.unwrap_or_else(|| "releases".into()),
        }
        cache_dir: PathBuf => PathBuf {
            env: "CYCLE_CACHE_DIR",
            value_name: "DIR",
            parser: clap::value_parser!(PathBuf),
            help: "Cache of repository clones",
            default: "$XDG_CACHE_HOME/cycle",
            resolve: |v| {
                v.unwrap_or_else(|| {
                    dirs::cache_dir()
                        .unwrap_or_else(std::env::temp_dir)
                        .join("cycle")
                })
            },
        }
        state_dir: PathBuf => PathBuf {
            env: "CYCLE_STATE_DIR",
            value_name: "DIR",
            parser: clap::value_parser!(PathBuf),
            help: "Journal and state",
            default: "$XDG_STATE_HOME/cycle",
            resolve: |v| {
                v.unwrap_or_else(|| {
                    dirs::state_dir()
                        .or_else(dirs::data_local_dir)
                        .unwrap_or_else(std::env::temp_dir)
                        .join("cycle")
                })
            },
        }
        jira_api_version: u8 => u8 {
            env: "CYCLE_JIRA_API_VERSION",
            value_name: "N",
            parser: clap::value_parser!(u8).range(2..=3),
            help: "Jira REST API version: 3 (Cloud) or 2 (Data Center)",
            default: "3",
            resolve: |v| v.unwrap_or(3),
            check: |v| match v {
                2 | 3 => Ok(()),
                _ => Err(format!("must be 3 (Jira Cloud) or 2 (Data Center), got {v}")),
            },
        }
        confluence_api: String => Api {
            env: "CYCLE_CONFLUENCE_API",
            value_name: "API",
            parser: ["cloud-v2", "datacenter-v1"],
            help: "Confluence REST API: cloud-v2 (Cloud) or datacenter-v1 (Data Center)",
            default: "cloud-v2",
            // Both sources are checked (clap's value parser, the file's check).
            resolve: |v| v.and_then(|a| a.parse().ok()).unwrap_or_default(),
            check: |v| v.parse::<Api>().map(drop),
        }
        cycle_build_ref: String => Option<String> {
            env: "CYCLE_BUILD_REF",
            value_name: "REF",
            parser: clap::value_parser!(String),
            help: "Ref of lsst-ts/ts_cycle_build whose cycle/cycle.env holds the versions, a template such as `{{ full_tag }}`",
            default: "main",
            resolve: |v| v,
        }
        conda_api_url: String => String {
            env: "CYCLE_CONDA_API_URL",
            value_name: "URL",
            parser: clap::value_parser!(String),
            help: "Root of the conda channel's HTTP API",
            default: "https://api.anaconda.org",
            resolve: |v| v.unwrap_or_else(|| conda::DEFAULT_API_URL.to_string()),
        }
        checks_file: PathBuf => Option<PathBuf> {
            env: "CYCLE_CHECKS_FILE",
            value_name: "FILE",
            parser: clap::value_parser!(PathBuf),
            help: "Rules of `cycle check` (YAML, as the shipped checks.yaml)",
            default: "built in",
            resolve: |v| v,
        }
    }
    file_only {
        conda_channel: String => String {
            help: "The observatory's conda channel (`cycle check`)",
            default: "lsstts",
            resolve: |v| v.unwrap_or_else(|| conda::DEFAULT_CHANNEL.to_string()),
        }
    }
}

/// The README's settings table: one row per setting, from [`SETTINGS`].
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| flag | environment variable | config-file key | default | meaning |\n|---|---|---|---|---|\n",
    );
    let code = |s: Option<String>| s.map_or_else(|| "—".to_string(), |s| format!("`{s}`"));
    for setting in SETTINGS {
        // A default in words ("built in") is prose, not a value.
        let default = if setting.default.contains(' ') {
            setting.default.to_string()
        } else {
            format!("`{}`", setting.default)
        };
        table.push_str(&format!(
            "| {} | {} | `{}` | {default} | {} |\n",
            code(setting.flag()),
            code(setting.env.map(str::to_string)),
            setting.key,
            setting.help.replace('|', "\\|"),
        ));
    }
    table
}

/// Finds and reads the config file; an explicit one must exist.
pub fn read_config_file(explicit: Option<&Path>) -> anyhow::Result<(Option<PathBuf>, Layer)> {
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
        let file: Layer = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            anyhow::anyhow!("{}:{line}:{col}: {}", path.display(), e.message())
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let file = file.checked_in(&path, &base)?;
        return Ok((Some(path), file));
    }
    Ok((None, Layer::default()))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_or_env_beats_file_beats_default() {
        let file = Layer {
            sites_dir: Some("/file/sites".into()),
            templates_dir: Some("/file/templates".into()),
            ..Default::default()
        };
        let flags = Layer {
            sites_dir: Some("/flag/sites".into()),
            ..Default::default()
        };
        let s = resolve(&flags, &file);
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

    #[test]
    fn config_file_values_are_checked_naming_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cycle.toml");
        std::fs::write(&path, "jira_api_version = 4\n").unwrap();
        let err = read_config_file(Some(&path)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: jira_api_version: must be 3 (Jira Cloud) or 2 (Data Center), got 4",
                path.display()
            )
        );
        std::fs::write(&path, "confluence_api = \"cloud-v9\"\n").unwrap();
        let err = read_config_file(Some(&path)).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: confluence_api: ", path.display())),
            "{err}"
        );
        std::fs::write(
            &path,
            "conda_channel = \"mine\"\nconfluence_api = \"datacenter-v1\"\n",
        )
        .unwrap();
        let (_, file) = read_config_file(Some(&path)).unwrap();
        let s = resolve(&Layer::default(), &file);
        assert_eq!(s.conda_channel, "mine");
        assert_eq!(s.confluence_api, "datacenter-v1".parse::<Api>().unwrap());
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = resolve(&Layer::default(), &Layer::default());
        assert_eq!(s.jira_api_version, 3);
        assert_eq!(s.confluence_api, Api::default());
        assert_eq!(s.cycle_build_ref, None);
        assert_eq!(s.checks_file, None);
        let shown = |key: &str| SETTINGS.iter().find(|d| d.key == key).unwrap().default;
        assert_eq!(shown("conda_api_url"), s.conda_api_url);
        assert_eq!(shown("conda_channel"), s.conda_channel);
        assert_eq!(shown("sites_dir"), s.sites_dir.display().to_string());
        assert_eq!(shown("jira_api_version"), s.jira_api_version.to_string());
    }

    #[test]
    fn the_readme_shows_the_settings_table() {
        let readme = include_str!("../README.md");
        let table = markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's settings table is not the generated one; replace it with:\n{table}"
        );
    }
}
