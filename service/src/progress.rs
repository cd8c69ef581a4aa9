//! Progress of long work: a bar on a terminal, log lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

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

/// The parts of a long start-up, timed: a spinner naming each part under
/// way on a terminal (a line each, as parts may run at once), and a log
/// line as each ends with its time and the resident memory after it
/// (where the memory goes, part by part).
pub struct Stages {
    started: Instant,
    done: Mutex<Vec<(String, Duration)>>,
    spinners: Option<MultiProgress>,
}

impl Stages {
    /// Starts timing.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            done: Mutex::new(Vec::new()),
            spinners: std::io::stderr().is_terminal().then(MultiProgress::new),
        }
    }

    /// Runs `part`, named `what`, and records how long it took.
    pub fn run<T>(&self, what: &str, part: impl FnOnce() -> T) -> T {
        let spinner = self.spinner(what);
        let started = Instant::now();
        let out = part();
        self.record(what, started.elapsed(), spinner);
        out
    }

    /// Runs the future `part`, named `what`, and records how long it took.
    pub async fn run_async<T>(&self, what: &str, part: impl std::future::Future<Output = T>) -> T {
        let spinner = self.spinner(what);
        let started = Instant::now();
        let out = part.await;
        self.record(what, started.elapsed(), spinner);
        out
    }

    fn record(&self, what: &str, took: Duration, spinner: Option<ProgressBar>) {
        if let Some(bar) = spinner {
            bar.finish_and_clear();
        }
        let resident =
            resident_mib().map_or_else(String::new, |mib| format!(" (resident {mib} MiB)"));
        tracing::info!("{what}: {took:.2?}{resident}");
        self.lock().push((what.to_owned(), took));
    }

    /// One line: the whole time and each part's, slowest first.
    pub fn summary(&self) -> String {
        let mut parts = self.lock().clone();
        parts.sort_by_key(|p| std::cmp::Reverse(p.1));
        let parts: Vec<String> = parts
            .iter()
            .map(|(what, took)| format!("{what} {:.1} s", took.as_secs_f64()))
            .collect();
        let resident =
            resident_mib().map_or_else(String::new, |mib| format!("; resident {mib} MiB"));
        format!(
            "{:.1} s: {}{resident}",
            self.started.elapsed().as_secs_f64(),
            parts.join(", ")
        )
    }

    /// A spinner naming `what` on a terminal.
    fn spinner(&self, what: &str) -> Option<ProgressBar> {
        self.spinners.as_ref().map(|all| {
            let bar = all.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} loading {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, Duration)>> {
        self.done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for Stages {
    fn default() -> Self {
        Self::new()
    }
}

/// This process's resident memory, MiB (Linux; `None` elsewhere).
pub fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}
