//! `cycle cancel`: the pending scheduled announcements of a deployment
//! deleted, their steps marked CANCELLED, nothing posted.

use super::journal::{Journal, JournalLock, Status};
use super::messages::{hint, message_spec};
use super::{Engine, Report, RunEnd, SummaryRow};
use crate::plan::{Plan, StepId, StepKind, StepSpec};
use crate::services::slack;

/// What cancelling one announcement did, for the summary and the journal.
fn cancelled_row(
    id: &StepId,
    cancelled: &slack::Cancelled,
    posted: bool,
    time: &dyn Fn(i64) -> String,
    post_at: Option<i64>,
    now: i64,
) -> (SummaryRow, Option<String>) {
    let row = |action: &str, detail: String| SummaryRow {
        id: id.clone(),
        action: action.to_string(),
        detail,
        link: None,
    };
    if !cancelled.removed.is_empty() {
        let detail = format!(
            "deleted scheduled message {} in {}",
            cancelled.removed.join(", "),
            cancelled.channel_id
        );
        return (row("cancelled", detail.clone()), Some(detail));
    }
    match post_at {
        _ if posted => (row("posted", "already posted; left as is".into()), None),
        Some(t) if t <= now => (
            row(
                "unchanged",
                format!("was due at {}; nothing pending to delete", time(t)),
            ),
            None,
        ),
        _ => {
            let detail = "nothing was scheduled; nothing will be posted".to_string();
            (row("cancelled", detail.clone()), Some(detail))
        }
    }
}

impl Engine {
    /// `cycle cancel`: deletes every pending scheduled announcement of the
    /// plan's sites (found by the journal's id, then by marker) and marks
    /// their steps CANCELLED. Posts nothing; a message already posted, or
    /// whose time has passed, keeps its record. Takes the journal's lock.
    pub async fn cancel_messages(&self, plan: &Plan) -> anyhow::Result<Report> {
        let _lock = JournalLock::acquire(&self.journal_path, self.id)?;
        *self.journal() = Journal::load(&self.journal_path, self.id)?;
        let api = self.services.messages.api()?;
        let journal = self.journal().clone();
        let now = chrono::Utc::now().timestamp();
        let steps = plan
            .steps()
            .filter_map(|step| match (&step.id, &step.spec) {
                // The deployment's announcements; the page's announcement
                // belongs to the cycle build, not to the deployment.
                (StepId::Message { .. }, StepSpec::Message(request))
                    if step.kind == StepKind::Message =>
                {
                    Some((step, request))
                }
                _ => None,
            });
        let results = futures::future::join_all(steps.map(|(step, request)| {
            let hint = hint(&journal, &step.id);
            async move {
                let result = async {
                    let spec = message_spec(self.id, request)?;
                    let cancelled = slack::cancel(api.as_ref(), &spec, hint.as_ref()).await?;
                    let posted = hint.as_ref().is_some_and(|h| h.ts.is_some());
                    let time = |unix: i64| self.services.messages.time(&request.site, unix);
                    anyhow::Ok(cancelled_row(
                        &step.id,
                        &cancelled,
                        posted,
                        &time,
                        spec.post_at,
                        now,
                    ))
                }
                .await;
                result.map_err(|e| (step.id.clone(), e))
            }
        }))
        .await;
        let mut rows = Vec::new();
        let mut journal = self.journal();
        for result in results {
            match result {
                Ok((row, Some(note))) => {
                    journal.set_status(&row.id, Status::Cancelled, Some(note));
                    rows.push(row);
                }
                Ok((row, None)) => rows.push(row),
                Err((id, e)) => rows.push(SummaryRow {
                    id,
                    action: "failed".into(),
                    detail: format!("{e:#}"),
                    link: None,
                }),
            }
        }
        journal.save(&self.journal_path)?;
        let end = if rows.iter().any(|r| r.action == "failed") {
            RunEnd::Incomplete
        } else {
            RunEnd::Complete
        };
        Ok(Report { end, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(unix: i64) -> String {
        format!("t{unix}")
    }

    #[test]
    fn cancelling_marks_pending_messages_and_keeps_posted_or_past_ones() {
        let id = StepId::Message {
            site: "summit".into(),
            kind: crate::plan::MessageKind::Start,
        };
        let deleted = slack::Cancelled {
            channel_id: "C1".into(),
            removed: vec!["Q1".into()],
        };
        let nothing = slack::Cancelled {
            channel_id: "C1".into(),
            removed: vec![],
        };
        let (row, note) = cancelled_row(&id, &deleted, false, &utc, Some(900), 100);
        assert_eq!(row.action, "cancelled");
        assert_eq!(note.as_deref(), Some("deleted scheduled message Q1 in C1"));
        let (row, note) = cancelled_row(&id, &nothing, false, &utc, Some(900), 100);
        assert_eq!(row.action, "cancelled");
        assert!(note.is_some());
        let (row, note) = cancelled_row(&id, &nothing, true, &utc, Some(50), 100);
        assert_eq!((row.action.as_str(), note), ("posted", None));
        let (row, note) = cancelled_row(&id, &nothing, false, &utc, Some(50), 100);
        assert_eq!(row.action, "unchanged");
        assert_eq!(row.detail, "was due at t50; nothing pending to delete");
        assert!(note.is_none());
    }
}
