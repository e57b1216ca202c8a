//! Any announcement on the schedule: the release manifest's
//! `announcements` put a template of `templates/` in a site's channel at a
//! local time (vanward's broker rollout is one, shipped as
//! `broker_rollout.mrkdwn`). Sent like the deployment's announcements:
//! found again first, a moved time reschedules it, a passed one is never
//! sent late, one more than 120 days ahead waits.

use minijinja::context;

use super::kind::Phase;
use super::message::{message_kind, message_step};
use crate::model::context::zoned;
use crate::plan::{
    MessageRequest, PlanError, Planner, Selector, SiteInput, Step, StepId, StepKind,
};

/// The scheduled-announcement kind.
pub struct Scheduled;

impl Planner for Scheduled {
    /// The manifest's announcements of the site, in its order.
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let site = &input.site.site;
        let mut steps = Vec::new();
        for a in input
            .release
            .release
            .announcements
            .iter()
            .filter(|a| a.site == site.name)
        {
            let ctx = context! {
                ..input.ctx.clone(),
                ..context! { values => a.values.clone(), announcement => a.name.clone() }
            };
            let channel = a
                .channel
                .clone()
                .unwrap_or_else(|| site.slack.channel.clone());
            let at = zoned(
                input.site,
                crate::model::context::place_leniently(input.site.tz, a.at),
            );
            let request = MessageRequest {
                site: site.name.clone(),
                channel: channel.clone(),
                message: a.name.clone(),
                subject: None,
                at: Some(at),
                text: input
                    .templates
                    .render(&a.template, &ctx)?
                    .trim_end()
                    .to_string(),
            };
            let id = StepId::Scheduled {
                site: site.name.clone(),
                name: a.name.clone(),
            };
            steps.push(message_step(id, 5, "announcement", request, input));
        }
        Ok(steps)
    }
}

message_kind!(
    Scheduled,
    StepKind::Scheduled,
    "scheduled announcement",
    Selector::Slack,
    Phase::Results
);
