//! What each scenario found, and the table the suite prints.

use std::fmt;

/// How a scenario ended.
#[derive(Debug)]
pub enum Outcome {
    /// Everything the module checks held.
    Passed,
    /// Passed, with something the plan only warns about.
    Warning(String),
    /// The module does not apply to this server, and why.
    NotApplicable(&'static str),
    /// A check failed.
    Failed(String),
}

/// One line of the report.
#[derive(Debug)]
pub struct Entry {
    /// The plan it belongs to (`rfc9700` or `jwa` for the checks).
    pub plan: &'static str,
    /// The module or check name.
    pub name: &'static str,
    /// Its outcome.
    pub outcome: Outcome,
}

/// The outcomes of a run, in order.
#[derive(Debug, Default)]
pub struct Report {
    /// One entry per module and check.
    pub entries: Vec<Entry>,
}

impl Report {
    /// The entries that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|entry| matches!(entry.outcome, Outcome::Failed(_)))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut counts = [0; 4];
        for entry in &self.entries {
            let (index, label, detail) = match &entry.outcome {
                Outcome::Passed => (0, "PASSED", ""),
                Outcome::Warning(why) => (1, "WARNING", why.as_str()),
                Outcome::NotApplicable(why) => (2, "N/A", *why),
                Outcome::Failed(why) => (3, "FAILED", why.as_str()),
            };
            counts[index] += 1;
            writeln!(f, "{label:<8} {} / {}", entry.plan, entry.name)?;
            if !detail.is_empty() {
                writeln!(f, "         {detail}")?;
            }
        }
        let [passed, warnings, not_applicable, failed] = counts;
        write!(f, "{passed} passed, {warnings} passed with a warning, {not_applicable} not applicable, {failed} failed")
    }
}
