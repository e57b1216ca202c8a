//! One module per kind of step, each implementing [`kind::Kind`] (how it
//! observes, executes, learns, is shown and what the doctor must prove for
//! it), all listed once in [`registry::KINDS`].
//!
//! Adding a kind: its planning in `plan/`, a module here implementing
//! [`kind::Kind`], one line in the registry, its templates and its fake.

pub mod calendar;
pub mod cap_links;
pub mod cap_story;
pub mod cap_version;
pub mod config;
pub mod kind;
pub mod manual;
pub mod message;
pub mod page;
pub mod page_line;
pub mod pull_request;
pub mod registry;
pub mod reminder;
pub mod repair;
pub mod revert;
pub mod revert_notice;
pub mod scheduled;
pub mod ticket;
pub mod unschedule;

#[cfg(test)]
mod tests;
