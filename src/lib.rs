//! `cycle`: prepare an observatory cycle-build deployment, site by site.
//!
//! The crate is split into a pure core (site model, release manifest,
//! planning, rendering, format-preserving edits) and an imperative shell
//! (commands and service adapters). `main.rs` only parses the command line
//! and maps errors to exit codes.

pub mod cli;
pub mod commands;
pub mod edit;
pub mod engine;
pub mod model;
pub mod output;
pub mod plan;
pub mod redact;
pub mod render;
pub mod services;
pub mod settings;
pub mod style;
