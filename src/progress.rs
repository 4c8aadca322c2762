//! Progress of long checks: a live line on stderr (indicatif, with the `cli` feature)
//! once a check has run for a second, when stderr is a terminal; nothing otherwise. A
//! summary line at the end is printed by the caller either way (unless `--quiet`).

use line::Line;
use std::time::Instant;

/// The live line: indicatif's spinner with the `cli` feature.
#[cfg(feature = "cli")]
mod line {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;
    use std::time::Duration;

    pub type Line = ProgressBar;

    /// A spinner on stderr, if stderr is a terminal.
    pub fn open() -> Option<Line> {
        std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        })
    }

    /// Shows `msg` (unless the terminal hides the line).
    pub fn draw(bar: &Line, msg: String) {
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_message(msg);
        }
    }

    /// Removes the line.
    pub fn clear(bar: &Line) {
        bar.finish_and_clear();
    }
}

/// Without the `cli` feature there is no line: none is ever opened.
#[cfg(not(feature = "cli"))]
mod line {
    pub enum Line {}

    pub fn open() -> Option<Line> {
        None
    }

    pub fn draw(bar: &Line, _: String) {
        match *bar {}
    }

    pub fn clear(bar: &Line) {
        match *bar {}
    }
}

/// What the engines report while they run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    /// Transitions taken (states generated, repeats included).
    pub explored: usize,
    /// Unique states.
    pub unique: usize,
    /// Depth reached.
    pub depth: usize,
    /// Random runs drawn (random engine).
    pub cases: u64,
}

/// A progress line for one check.
pub struct Progress {
    bar: Option<Line>,
    started: Instant,
    label: String,
}

impl Progress {
    /// A progress line labelled `label`, drawn only if `enabled` and stderr is a terminal.
    pub fn new(label: &str, enabled: bool) -> Self {
        let bar = if enabled { line::open() } else { None };
        Progress {
            bar,
            started: Instant::now(),
            label: label.to_string(),
        }
    }

    /// A progress line that never draws.
    pub fn hidden() -> Self {
        Progress::new("", false)
    }

    /// Updates the line (shown once the check has run for a second).
    pub fn tick(&self, t: Tick) {
        let Some(bar) = &self.bar else { return };
        let secs = self.started.elapsed().as_secs_f64();
        if secs < 1.0 {
            return;
        }
        let msg = if t.cases > 0 {
            format!("{}: {} random runs, {:.0}s", self.label, t.cases, secs)
        } else {
            format!(
                "{}: {} states explored, {} unique, depth {}, {:.0} states/s, {:.0}s",
                self.label,
                t.explored,
                t.unique,
                t.depth,
                t.unique as f64 / secs,
                secs
            )
        };
        line::draw(bar, msg);
    }

    /// Removes the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            line::clear(bar);
        }
    }
}
