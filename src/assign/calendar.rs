//! The working calendar: working periods of a day, weekly rest days,
//! holidays and make-up workdays (调休), in one UTC offset; deadlines and
//! escalation counted in working time.

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike,
    Weekday,
};
use serde::Serialize;

use super::taxonomy::TimeLimit;

/// The share of a time limit after which a case is flagged yellow
/// ([`Escalation::Warning`], 黄灯), as in most 数字城管 systems.
pub const WARNING_SHARE: f64 = 0.8;

/// Seconds in a day.
const DAY_S: u32 = 86_400;

/// How far a case has run into its time limit (超时督办).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// Level 0, green: less than [`WARNING_SHARE`] of the limit's working time used.
    OnTime,
    /// Level 1, yellow (黄灯): the deadline is near.
    Warning,
    /// Level 2, red (红灯): past the deadline.
    Overdue,
    /// Level 3: overdue by the whole limit again; goes to the command centre (督办).
    Escalated,
}

impl Escalation {
    /// The level's number, 0 (on time) to 3 (escalated).
    #[must_use]
    pub const fn number(self) -> u8 {
        self as u8
    }
}

/// Why a calendar file was rejected; every variant names its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalendarError {
    /// A line could not be read; `reason` says what is expected.
    #[error("line {line}: {reason}")]
    Invalid {
        /// The line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A required key (`zone`, `covers`, `hours`) is missing.
    #[error("the calendar has no {0} line")]
    Missing(&'static str),
}

/// A time the calendar cannot count from or to: it lies outside the years
/// the calendar covers (holidays are only known for those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no working calendar for {date}: the calendar covers {first} to {last}")]
pub struct OutsideCalendar {
    /// The local date asked about (or reached while counting).
    pub date: NaiveDate,
    /// The first covered date.
    pub first: NaiveDate,
    /// The last covered date.
    pub last: NaiveDate,
}

/// A working calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    zone: FixedOffset,
    first: NaiveDate,
    last: NaiveDate,
    /// Working periods of a day, seconds since midnight, sorted, disjoint.
    periods: Vec<(u32, u32)>,
    rest: Vec<Weekday>,
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Parses a calendar file (format in `docs/assign.md`): one key per
    /// line, `#` starts a comment:
    /// ```text
    /// zone +08:00
    /// covers 2026-01-01 2026-12-31
    /// hours 08:30-12:00 13:30-17:30
    /// rest sat sun
    /// holiday 2026-10-01 2026-10-07
    /// workday 2026-10-10
    /// ```
    ///
    /// # Errors
    /// [`CalendarError`] naming the line of a bad value, or the missing key.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut zone = None;
        let mut covers = None;
        let mut periods: Option<Vec<(u32, u32)>> = None;
        let mut rest = Vec::new();
        let mut holidays = BTreeSet::new();
        let mut workdays = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let invalid = |reason: String| CalendarError::Invalid { line, reason };
            let mut words = l.split_whitespace();
            let key = words.next().unwrap_or("");
            let args: Vec<&str> = words.collect();
            match key {
                "zone" => {
                    let [z] = args[..] else {
                        return Err(invalid("zone takes one UTC offset, e.g. +08:00".into()));
                    };
                    zone = Some(parse_offset(z).ok_or_else(|| {
                        invalid(format!("zone {z:?}: expected a UTC offset such as +08:00"))
                    })?);
                }
                "covers" => {
                    let (a, b) = date_range(&args).map_err(invalid)?;
                    covers = Some((a, b));
                }
                "hours" => {
                    let mut ps = Vec::new();
                    for p in &args {
                        ps.push(parse_period(p).ok_or_else(|| {
                            invalid(format!("working period {p:?}: expected HH:MM-HH:MM"))
                        })?);
                    }
                    ps.sort_unstable();
                    if ps.is_empty() || ps.windows(2).any(|w| w[0].1 > w[1].0) {
                        return Err(invalid(
                            "hours needs one or more working periods that do not overlap".into(),
                        ));
                    }
                    periods = Some(ps);
                }
                "rest" => {
                    for d in &args {
                        rest.push(d.parse::<Weekday>().map_err(|_| {
                            invalid(format!("rest day {d:?}: expected mon, tue, … sun"))
                        })?);
                    }
                }
                "holiday" | "workday" => {
                    let (a, b) = date_range(&args).map_err(invalid)?;
                    let set = if key == "holiday" {
                        &mut holidays
                    } else {
                        &mut workdays
                    };
                    set.extend(a.iter_days().take_while(|d| *d <= b));
                }
                other => {
                    return Err(invalid(format!(
                    "unknown key {other:?}: expected zone, covers, hours, rest, holiday or workday"
                )))
                }
            }
        }
        let (first, last) = covers.ok_or(CalendarError::Missing("covers"))?;
        Ok(Self {
            zone: zone.ok_or(CalendarError::Missing("zone"))?,
            first,
            last,
            periods: periods.ok_or(CalendarError::Missing("hours"))?,
            rest,
            holidays,
            workdays,
        })
    }

    /// The calendar's UTC offset.
    #[must_use]
    pub const fn zone(&self) -> FixedOffset {
        self.zone
    }

    /// The first and last dates the calendar covers.
    #[must_use]
    pub const fn covers(&self) -> (NaiveDate, NaiveDate) {
        (self.first, self.last)
    }

    /// Whether `date` is a working day: a make-up workday, or neither a
    /// holiday nor a weekly rest day.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.workdays.contains(&date)
            || (!self.holidays.contains(&date) && !self.rest.contains(&date.weekday()))
    }

    fn check(&self, date: NaiveDate) -> Result<(), OutsideCalendar> {
        if date < self.first || date > self.last {
            return Err(OutsideCalendar {
                date,
                first: self.first,
                last: self.last,
            });
        }
        Ok(())
    }

    fn local(&self, t: DateTime<FixedOffset>) -> NaiveDateTime {
        t.with_timezone(&self.zone).naive_local()
    }

    fn at(&self, date: NaiveDate, second: u32) -> DateTime<FixedOffset> {
        let local = date.and_time(NaiveTime::MIN) + Duration::seconds(i64::from(second));
        local
            .and_local_timezone(self.zone)
            .single()
            .unwrap_or_else(|| unreachable!("a fixed offset maps every local time once"))
    }

    /// The deadline of a case reported at `start` with time limit `limit`.
    /// Minutes and hours count working time from `start` (a report outside
    /// working hours starts counting at the next working period); days end
    /// when the last working period of the N-th working day after the day of
    /// the report closes. The answer is in the calendar's offset.
    ///
    /// # Errors
    /// [`OutsideCalendar`] when `start` or the deadline falls outside the
    /// covered dates.
    pub fn deadline(
        &self,
        start: DateTime<FixedOffset>,
        limit: TimeLimit,
    ) -> Result<DateTime<FixedOffset>, OutsideCalendar> {
        let local = self.local(start);
        let mut date = local.date();
        self.check(date)?;
        match limit {
            TimeLimit::Days(n) => {
                let mut left = n;
                loop {
                    date = date.succ_opt().unwrap_or(NaiveDate::MAX);
                    self.check(date)?;
                    if self.is_working_day(date) {
                        left = left.saturating_sub(1);
                        if left == 0 {
                            let close = self.periods.last().map_or(DAY_S, |p| p.1);
                            return Ok(self.at(date, close));
                        }
                    }
                }
            }
            TimeLimit::Minutes(_) | TimeLimit::Hours(_) => {
                let mut left = seconds_of(limit);
                let mut from = local.time().num_seconds_from_midnight();
                loop {
                    if self.is_working_day(date) {
                        for &(a, b) in &self.periods {
                            let s = a.max(from);
                            if s < b {
                                if left <= b - s {
                                    return Ok(self.at(date, s + left));
                                }
                                left -= b - s;
                            }
                        }
                    }
                    date = date.succ_opt().unwrap_or(NaiveDate::MAX);
                    self.check(date)?;
                    from = 0;
                }
            }
        }
    }

    /// Working seconds between `from` and `to` (0 when `to` is not after
    /// `from`); days outside the covered dates count as not working.
    #[must_use]
    pub fn working_seconds(&self, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> u64 {
        if to <= from {
            return 0;
        }
        let (a, b) = (self.local(from), self.local(to));
        let mut total = 0u64;
        let mut date = a.date().max(self.first);
        let end = b.date().min(self.last);
        while date <= end {
            if self.is_working_day(date) {
                let lo = if date == a.date() {
                    a.time().num_seconds_from_midnight()
                } else {
                    0
                };
                let hi = if date == b.date() {
                    b.time().num_seconds_from_midnight()
                } else {
                    DAY_S
                };
                for &(p, q) in &self.periods {
                    let (s, e) = (p.max(lo), q.min(hi));
                    if s < e {
                        total += u64::from(e - s);
                    }
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        total
    }

    /// How far a case reported at `start` with deadline `deadline` has run
    /// at `now`: past the deadline it is [`Escalation::Overdue`], and
    /// [`Escalation::Escalated`] once the working time past the deadline
    /// reaches the limit's whole working time; before it,
    /// [`Escalation::Warning`] from [`WARNING_SHARE`] of the working time on.
    #[must_use]
    pub fn escalation(
        &self,
        start: DateTime<FixedOffset>,
        deadline: DateTime<FixedOffset>,
        now: DateTime<FixedOffset>,
    ) -> Escalation {
        let total = self.working_seconds(start, deadline);
        if now > deadline {
            if total > 0 && self.working_seconds(deadline, now) >= total {
                Escalation::Escalated
            } else {
                Escalation::Overdue
            }
        } else if total > 0
            && self.working_seconds(start, now) as f64 >= WARNING_SHARE * total as f64
        {
            Escalation::Warning
        } else {
            Escalation::OnTime
        }
    }
}

/// Seconds of a minutes or hours limit.
const fn seconds_of(limit: TimeLimit) -> u32 {
    match limit {
        TimeLimit::Minutes(m) => m * 60,
        TimeLimit::Hours(h) => h * 3600,
        TimeLimit::Days(d) => d * DAY_S,
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
    FixedOffset::east_opt(sign * secs)
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some((h * 60 + m) * 60)
}

fn parse_period(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (parse_hhmm(a)?, parse_hhmm(b)?);
    (a < b).then_some((a, b))
}

/// One date or a first and last date (inclusive).
fn date_range(args: &[&str]) -> Result<(NaiveDate, NaiveDate), String> {
    let date = |s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("date {s:?}: expected YYYY-MM-DD"))
    };
    match args {
        [a] => Ok((date(a)?, date(a)?)),
        [a, b] => {
            let (a, b) = (date(a)?, date(b)?);
            if a > b {
                return Err(format!("dates {a} {b}: the first is after the last"));
            }
            Ok((a, b))
        }
        _ => Err("expected a date or a first and last date".into()),
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
