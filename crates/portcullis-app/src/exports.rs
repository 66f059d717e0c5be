//! What admins download, written the same way for every adapter: the audit
//! log as JSON lines or CSV, and compliance reports as CSV. CSV cells a
//! spreadsheet would run as formulas are neutralised.

use crate::audit::EntryView;
use crate::compliance::Report;

/// How audit entries are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    /// `{"entries": [...], "next_cursor": ...}`.
    Json,
    /// One JSON object a line.
    JsonLines,
    /// RFC 4180 CSV with a header row, formula cells neutralised.
    Csv,
}

/// The outcomes entries are filtered by.
pub const OUTCOMES: [&str; 3] = ["success", "refused", "failure"];

/// The outcome filter `raw` names, when valid.
pub fn outcome(raw: Option<&str>) -> Result<Option<String>, String> {
    match raw {
        None => Ok(None),
        Some(outcome) if OUTCOMES.contains(&outcome) => Ok(Some(outcome.to_owned())),
        Some(other) => Err(format!("outcome must be success, refused or failure, not `{other}`")),
    }
}

/// `entries` as JSON lines or CSV (`Json` is written as JSON lines: a
/// page's envelope is the caller's): the content type and the body.
pub fn audit_entries(entries: &[EntryView], format: AuditFormat) -> (&'static str, String) {
    match format {
        AuditFormat::Csv => {
            let mut csv =
                String::from("seq,at,actor,action,target,source,outcome,details,prev_hash,hash\r\n");
            for v in entries {
                let fields = [
                    v.seq.to_string(),
                    v.at.clone(),
                    v.actor.clone(),
                    v.action.clone(),
                    v.target.clone(),
                    v.source.clone(),
                    v.outcome.clone(),
                    v.details.to_string(),
                    v.prev_hash.clone(),
                    v.hash.clone(),
                ];
                csv += &csv_row(&fields);
            }
            ("text/csv; charset=utf-8", csv)
        }
        AuditFormat::Json | AuditFormat::JsonLines => (
            "application/x-ndjson",
            entries.iter().map(|v| serde_json::to_string(v).unwrap_or_default() + "\n").collect(),
        ),
    }
}

/// A compliance report as CSV, one row per check: template, control, its
/// status, the check's.
pub fn compliance_csv(report: &Report) -> String {
    let mut text = csv_row(
        &[
            "template",
            "control",
            "control_title",
            "control_status",
            "check",
            "status",
            "evidence",
            "verified_at",
        ]
        .map(str::to_owned),
    );
    for control in &report.controls {
        for check in &control.checks {
            let status = |s| {
                serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            };
            text += &csv_row(&[
                report.template.to_owned(),
                control.control.to_owned(),
                control.title.to_owned(),
                status(control.status),
                check.check.to_owned(),
                status(check.status),
                check.evidence.clone(),
                check.verified_at.clone(),
            ]);
        }
    }
    text
}

/// A CSV record (RFC 4180) ending in CRLF: a field is quoted when it holds
/// a comma, a quote or a line break, and one a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or CR) is prefixed with `'`.
fn csv_row(fields: &[String]) -> String {
    let quoted = |value: &String| {
        let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{value}")
        } else {
            value.clone()
        };
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value
        }
    };
    fields.iter().map(quoted).collect::<Vec<_>>().join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        let row = |fields: &[&str]| csv_row(&fields.iter().map(|f| (*f).to_owned()).collect::<Vec<_>>());
        assert_eq!(row(&["plain", "a,b"]), "plain,\"a,b\"\r\n");
        assert_eq!(row(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(row(&["two\nlines"]), "\"two\nlines\"\r\n");
        assert_eq!(row(&["=HYPERLINK(1)", "-1", "@a"]), "'=HYPERLINK(1),'-1,'@a\r\n", "never a formula");
    }
}
