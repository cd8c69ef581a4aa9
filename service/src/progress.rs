//! Progress of long work: a bar on a terminal, log lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a log line is written when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Progress of one task.
pub struct Progress {
    label: String,
    bar: Option<ProgressBar>,
    done: u64,
    total: Option<u64>,
    started: Instant,
    last_log: Instant,
}

impl Progress {
    /// Starts tracking `label`, with a known `total` when there is one.
    pub fn new(label: &str, total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
            let template = if total.is_some() {
                "{prefix} [{bar:30}] {pos}/{len} ({per_sec}, {eta})"
            } else {
                "{prefix} {spinner} {pos} ({per_sec})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(label.to_owned());
            bar
        });
        let now = Instant::now();
        Self {
            label: label.to_owned(),
            bar,
            done: 0,
            total,
            started: now,
            last_log: now,
        }
    }

    /// Records `n` more units done.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if let Some(bar) = &self.bar {
            bar.inc(n);
        } else if self.last_log.elapsed() >= LOG_EVERY {
            self.last_log = Instant::now();
            if let Some(t) = self.total {
                tracing::info!("{}: {}/{t}", self.label, self.done);
            } else {
                tracing::info!("{}: {}", self.label, self.done);
            }
        }
    }

    /// Ends the task.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        tracing::debug!(
            "{}: {} done in {:.2?}",
            self.label,
            self.done,
            self.started.elapsed()
        );
    }
}
