//! The reminders of the XML work-closure deadline ("at least one day prior
//! AND on the day of the deadline"): two scheduled Slack messages of each
//! site whose file asks for them (`slack.closure_reminders`), the day
//! before and the day of the manifest's `schedule.xml_work_closes`, at the
//! site's clock time. Sent like every announcement: found again first, a
//! moved closure reschedules them, a passed time is never sent late.

use minijinja::context;

use super::kind::Phase;
use super::message::{message_kind, message_step};
use crate::model::reminder::{ReminderKind, closure_reminders};
use crate::plan::{
    MessageKind, MessageRequest, PlanError, Planner, Selector, SiteInput, Step, StepId, StepKind,
};

/// The template of both reminders (`reminder` says which).
pub const TEMPLATE: &str = "closure_reminder.mrkdwn";

/// The work-closure reminder kind.
pub struct Reminder;

impl Planner for Reminder {
    fn plan_site(&self, input: &SiteInput<'_>) -> Result<Vec<Step>, PlanError> {
        let site = &input.site.site;
        let (Some(settings), Some(at)) = (
            &site.slack.closure_reminders,
            site.slack.closure_reminders.as_ref().and_then(|r| r.time()),
        ) else {
            return Ok(vec![]);
        };
        let closure = input.release.release.schedule.xml_work_closes;
        let reminders = closure_reminders(input.site, closure, at)
            .map_err(|e| input.release.source.error_at("schedule.xml_work_closes", e))?;
        let mut steps = Vec::new();
        for reminder in reminders.reminders {
            let kind = match reminder.kind {
                ReminderKind::DayBefore => MessageKind::ClosureDayBefore,
                ReminderKind::DayOf => MessageKind::ClosureDayOf,
            };
            let ctx = context! {
                ..input.ctx.clone(),
                ..context! {
                    reminder => kind.as_str(),
                    closure => closure.format("%A %-d %B %Y").to_string(),
                }
            };
            let request = MessageRequest {
                site: site.name.clone(),
                channel: settings.channel.clone(),
                message: kind.as_str().to_string(),
                subject: None,
                at: Some(reminder.at),
                text: input
                    .templates
                    .render(TEMPLATE, &ctx)?
                    .trim_end()
                    .to_string(),
            };
            let id = StepId::Message {
                site: site.name.clone(),
                kind,
            };
            steps.push(message_step(id, 1, "reminder", request, input));
        }
        Ok(steps)
    }
}

message_kind!(
    Reminder,
    StepKind::Reminder,
    "closure reminder",
    Selector::Slack,
    Phase::Results
);
