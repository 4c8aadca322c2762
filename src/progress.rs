//! Progress of long checks: a live line on stderr (indicatif) once a check has run for a
//! second, when stderr is a terminal; nothing otherwise. A summary line at the end is
//! printed by the caller either way (unless `--quiet`).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

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
    bar: Option<ProgressBar>,
    started: Instant,
    label: String,
}

impl Progress {
    /// A progress line labelled `label`, drawn only if `enabled` and stderr is a terminal.
    pub fn new(label: &str, enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        });
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
        if bar.is_hidden() {
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
        bar.enable_steady_tick(Duration::from_millis(200));
        bar.set_message(msg);
    }

    /// Removes the line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
