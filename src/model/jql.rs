//! Jira's query language for what `cycle` looks up: the JQL that finds a
//! ticket by its exact summary, shown by the plan and sent by the Jira
//! adapter. Pure.

/// The JQL that finds a ticket by its exact summary (the summary form of the
/// old scripts, so their tickets are found too). `~` is a stemmed
/// "contains": the adapter keeps exact matches only.
pub fn ticket_jql(project: &str, summary: &str) -> String {
    format!(
        "project = {} AND summary ~ {} ORDER BY created ASC",
        jql_string(project),
        jql_string(&format!("\"{}\"", phrase_escape(summary)))
    )
}

/// Escapes a phrase for Jira's text search (inside the phrase's quotes).
fn phrase_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn jql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
