//! One Markdown section per benchmark: a table of figures, each with its target, the
//! value measured, the reference measured in the same run, and a verdict. Figures are
//! only ever judged against the same run's reference (or a fixed target), because the
//! machine is shared and absolute numbers move from run to run.

use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// Within the reference's resolution: met against its lower bound, not missed
    /// against its upper bound (Java's tools print whole milliseconds rounded down).
    Unresolved,
    /// No target: context for the other rows.
    Info,
}

impl Verdict {
    pub fn check(ok: bool) -> Self {
        if ok {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }

    /// For a target computed from a reference printed in whole ms rounded down: `low`
    /// is the target from the printed value, `high` from the printed value + 1 ms.
    pub fn bounded(measured: f64, low: f64, high: f64) -> Self {
        if measured <= low {
            Verdict::Met
        } else if measured > high {
            Verdict::Missed
        } else {
            Verdict::Unresolved
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::Unresolved => "within the reference's 1 ms resolution",
            Verdict::Info => "",
        }
    }
}

pub struct Row {
    pub figure: String,
    pub target: String,
    pub measured: String,
    pub reference: String,
    pub ratio: String,
    pub verdict: Verdict,
}

impl Row {
    pub fn new(figure: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            figure: figure.into(),
            target: target.into(),
            measured: String::new(),
            reference: String::new(),
            ratio: String::new(),
            verdict: Verdict::Info,
        }
    }
    pub fn measured(mut self, v: impl Into<String>) -> Self {
        self.measured = v.into();
        self
    }
    pub fn reference(mut self, v: impl Into<String>) -> Self {
        self.reference = v.into();
        self
    }
    pub fn ratio(mut self, v: impl Into<String>) -> Self {
        self.ratio = v.into();
        self
    }
    pub fn verdict(mut self, v: Verdict) -> Self {
        self.verdict = v;
        self
    }
}

/// A benchmark's section of BENCHMARKS.md.
pub struct Section {
    pub title: String,
    /// What is measured and how, in a sentence or two.
    pub method: String,
    pub reference: String,
    pub command: String,
    pub rows: Vec<Row>,
    /// Why a target was missed and what would close it; problems met on the way.
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(title: &str, method: &str, reference: &str, command: &str) -> Self {
        Self {
            title: title.to_string(),
            method: method.to_string(),
            reference: reference.to_string(),
            command: command.to_string(),
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn missed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Missed)
    }

    pub fn unresolved(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Unresolved)
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "## {}\n", self.title);
        let _ = writeln!(s, "{}\n", self.method);
        let _ = writeln!(s, "Reference (same run): {}\n", self.reference);
        let _ = writeln!(s, "Regenerate: `{}`\n", self.command);
        s.push_str("| figure | target | measured | reference | ratio | verdict |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                r.figure,
                r.target,
                r.measured,
                r.reference,
                r.ratio,
                r.verdict.label()
            );
        }
        if !self.notes.is_empty() {
            s.push('\n');
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s.push('\n');
        s
    }
}
