//! Prometheus metrics at `/metrics`: requests and their latency per route
//! (the route's pattern, so `/tiles/risk/{z}/{x}/{y}` is one series), and
//! what the tile cache did.
//!
//! Written by hand rather than with the `metrics` crates: a handful of
//! atomic counters per route, a fixed set of histogram buckets and the text
//! format are all it needs, and a request costs two map lookups under a
//! shared lock and a few relaxed atomic adds.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use civgrid_tiles::CacheStats;

use crate::state::AppState;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The series of one route and method.
#[derive(Default)]
struct Series {
    /// Answers by status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Requests at or under each bucket's bound (cumulative when printed).
    buckets: [AtomicU64; BUCKETS.len()],
    /// Sum of latencies, microseconds.
    sum_us: AtomicU64,
}

impl Series {
    fn record(&self, status: StatusCode, took: Duration) {
        let class = usize::from(status.as_u16() / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    fn count(&self) -> u64 {
        self.by_class
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// The service's metrics.
pub struct Metrics {
    /// By route pattern, then method: a request's series is found from
    /// borrowed strings, without allocating.
    series: RwLock<HashMap<String, Vec<(String, Arc<Series>)>>>,
    started: Instant,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            series: RwLock::default(),
            started: Instant::now(),
        }
    }
}

impl Metrics {
    /// Counts one answered request of `method` on `route` (a route
    /// pattern, or `unmatched`).
    pub fn record(&self, method: &str, route: &str, status: StatusCode, took: Duration) {
        if let Some(series) = self.find(method, route) {
            series.record(status, took);
            return;
        }
        let mut all = self.series.write().unwrap_or_else(PoisonError::into_inner);
        let methods = all.entry(route.to_owned()).or_default();
        let at = methods
            .iter()
            .position(|(m, _)| m == method)
            .unwrap_or_else(|| {
                methods.push((method.to_owned(), Arc::default()));
                methods.len() - 1
            });
        methods[at].1.record(status, took);
    }

    fn find(&self, method: &str, route: &str) -> Option<Arc<Series>> {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)?
            .iter()
            .find(|(m, _)| m == method)
            .map(|(_, s)| s.clone())
    }

    /// Requests counted for `method` on `route`.
    pub fn requests(&self, method: &str, route: &str) -> u64 {
        self.find(method, route).map_or(0, |s| s.count())
    }

    /// The Prometheus text exposition (format 0.0.4) of every series and
    /// of the tile cache's `cache` figures.
    pub fn render(&self, cache: CacheStats) -> String {
        let mut out = String::new();
        let all = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut series: Vec<(&str, &str, &Series)> = all
            .iter()
            .flat_map(|(route, methods)| {
                methods
                    .iter()
                    .map(move |(m, s)| (m.as_str(), route.as_str(), &**s))
            })
            .collect();
        series.sort_by_key(|&(m, r, _)| (r, m));
        out.push_str("# HELP civgrid_http_requests_total HTTP requests answered, by route and status class.\n# TYPE civgrid_http_requests_total counter\n");
        for &(method, route, s) in &series {
            for (i, c) in s.by_class.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "civgrid_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}xx\"}} {n}",
                        method,
                        escape(route),
                        i + 1
                    );
                }
            }
        }
        out.push_str("# HELP civgrid_http_request_duration_seconds Time to answer an HTTP request, by route.\n# TYPE civgrid_http_request_duration_seconds histogram\n");
        for &(method, route, s) in &series {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(&s.buckets) {
                cumulative += n.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "civgrid_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = s.count();
            let _ = writeln!(
                out,
                "civgrid_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}\n\
                 civgrid_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 civgrid_http_request_duration_seconds_count{{{labels}}} {count}",
                s.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
        }
        let counters = [
            (
                "civgrid_tile_cache_hits_total",
                "Tile lookups answered from the cache.",
                cache.hits,
            ),
            (
                "civgrid_tile_cache_misses_total",
                "Tile lookups that had to render.",
                cache.misses,
            ),
            (
                "civgrid_tile_cache_evictions_total",
                "Tiles dropped to stay within the cache's bound.",
                cache.evicted,
            ),
            (
                "civgrid_tile_cache_invalidations_total",
                "Tiles dropped because a write touched them.",
                cache.invalidated,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        }
        let gauges = [
            (
                "civgrid_tile_cache_entries",
                "Tiles in the cache.",
                cache.entries as f64,
            ),
            (
                "civgrid_tile_cache_bytes",
                "Bytes of tiles in the cache.",
                cache.bytes as f64,
            ),
            (
                "civgrid_uptime_seconds",
                "Seconds since the service started.",
                self.started.elapsed().as_secs_f64(),
            ),
        ];
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The method's label: the standard ones by name, any other `other`, so
/// that clients cannot add series with made-up methods.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware counting every request under its route pattern.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(request.method());
    // A matched path is a shared string: cloning it allocates nothing.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    state.metrics.record(
        method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status(),
        start.elapsed(),
    );
    response
}

/// `GET /metrics`.
pub async fn endpoint(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.tiles.cache.stats()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made-up methods share one label: a client cannot grow the series.
    #[test]
    fn unknown_methods_are_one_label() {
        let made_up = |m: &str| Method::from_bytes(m.as_bytes()).unwrap();
        assert_eq!(method_label(&made_up("FOO123")), "other");
        assert_eq!(method_label(&made_up("BAR")), "other");
        assert_eq!(method_label(&Method::POST), "POST");
        let m = Metrics::default();
        for x in ["FOO1", "FOO2", "FOO3"] {
            m.record(
                method_label(&made_up(x)),
                "/health",
                StatusCode::METHOD_NOT_ALLOWED,
                Duration::from_millis(1),
            );
        }
        let series = m.series.read().unwrap();
        assert_eq!(series["/health"].len(), 1);
        assert_eq!(series["/health"][0].0, "other");
    }

    #[test]
    fn buckets_are_cumulative_and_counts_add_up() {
        let m = Metrics::default();
        let route = "/tiles/{layer}/{z}/{x}/{y}";
        m.record("GET", route, StatusCode::OK, Duration::from_micros(300));
        m.record("GET", route, StatusCode::OK, Duration::from_millis(3));
        m.record("GET", route, StatusCode::NOT_FOUND, Duration::from_secs(9));
        m.record(
            "POST",
            "/api/v1/facilities",
            StatusCode::CREATED,
            Duration::ZERO,
        );
        assert_eq!(m.requests("GET", route), 3);
        let text = m.render(CacheStats {
            hits: 7,
            misses: 2,
            ..CacheStats::default()
        });
        let labels = format!("method=\"GET\",route=\"{route}\"");
        for (line, want) in [
            (
                format!("civgrid_http_requests_total{{{labels},status=\"2xx\"}}"),
                "2",
            ),
            (
                format!("civgrid_http_requests_total{{{labels},status=\"4xx\"}}"),
                "1",
            ),
            (
                format!("civgrid_http_request_duration_seconds_bucket{{{labels},le=\"0.0005\"}}"),
                "1",
            ),
            (
                format!("civgrid_http_request_duration_seconds_bucket{{{labels},le=\"0.005\"}}"),
                "2",
            ),
            (
                format!("civgrid_http_request_duration_seconds_bucket{{{labels},le=\"5\"}}"),
                "2",
            ),
            (
                format!("civgrid_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}"),
                "3",
            ),
            (
                format!("civgrid_http_request_duration_seconds_count{{{labels}}}"),
                "3",
            ),
            (
                format!("civgrid_http_request_duration_seconds_sum{{{labels}}}"),
                "9.0033",
            ),
            ("civgrid_tile_cache_hits_total".to_owned(), "7"),
            ("civgrid_tile_cache_misses_total".to_owned(), "2"),
        ] {
            let found = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{line} ")))
                .unwrap_or_else(|| panic!("no {line} in\n{text}"));
            assert_eq!(found, want, "{line}");
        }
        assert!(!text.contains("status=\"5xx\""));
    }
}
