//! A revert's notice in the site's channel (Slack): posted once, when the
//! step runs, after the reverted cycle's announcements are cancelled, and
//! found again by its marker. Planned by [`super::revert`].

use super::kind::Phase;
use super::message::message_kind;
use crate::plan::{Planner, Selector, StepKind};

/// The revert-notice kind.
pub struct RevertNotice;

/// Planned by the revert ([`super::revert::Revert`]).
impl Planner for RevertNotice {}

message_kind!(
    RevertNotice,
    StepKind::RevertNotice,
    "revert notice",
    Selector::Slack,
    Phase::Results
);
