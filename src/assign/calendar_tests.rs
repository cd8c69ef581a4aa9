use chrono::{DateTime, FixedOffset, NaiveDate};

use super::*;

/// The shipped 2026 calendar: 08:30–12:00 and 13:30–17:30, Saturdays and
/// Sundays off, the State Council's 2026 holidays and make-up workdays.
fn cal() -> Calendar {
    Calendar::parse(include_str!("../../data/taxonomy/calendar-2026.txt")).unwrap()
}

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

/// Deadlines worked out by hand on a paper calendar of September and
/// October 2026 (9-25 to 9-27 中秋, 10-1 to 10-7 国庆, 9-20 and 10-10 make-up days).
#[test]
fn deadlines_against_hand_worked_cases() {
    let c = cal();
    let cases = [
        // Wed: 10:00–12:00 is 2 h, 13:30 + 2 h.
        (
            "2026-09-23T10:00:00+08:00",
            TimeLimit::Hours(4),
            "2026-09-23T15:30:00+08:00",
        ),
        // The same instant given in UTC.
        (
            "2026-09-23T02:00:00Z",
            TimeLimit::Hours(4),
            "2026-09-23T15:30:00+08:00",
        ),
        // Ending exactly at noon stays at noon.
        (
            "2026-09-23T10:30:00+08:00",
            TimeLimit::Minutes(90),
            "2026-09-23T12:00:00+08:00",
        ),
        // Before work starts: counting starts at 08:30.
        (
            "2026-09-23T07:00:00+08:00",
            TimeLimit::Minutes(30),
            "2026-09-23T09:00:00+08:00",
        ),
        // Reported at lunch: counting starts at 13:30.
        (
            "2026-09-23T12:40:00+08:00",
            TimeLimit::Minutes(30),
            "2026-09-23T14:00:00+08:00",
        ),
        // Fri 16:30: 1 h on Friday, Saturday off, Sunday 9-20 is a make-up workday.
        (
            "2026-09-18T16:30:00+08:00",
            TimeLimit::Hours(2),
            "2026-09-20T09:30:00+08:00",
        ),
        // Thu 16:30: 1 h, then Fri 9-25 to Sun 9-27 off (中秋), Monday 09:30.
        (
            "2026-09-24T16:30:00+08:00",
            TimeLimit::Hours(2),
            "2026-09-28T09:30:00+08:00",
        ),
        // Wed 9-30 16:00: 1.5 h, then 10-1 to 10-7 off, Thu 10-8 10:00.
        (
            "2026-09-30T16:00:00+08:00",
            TimeLimit::Hours(3),
            "2026-10-08T10:00:00+08:00",
        ),
        // 3 working days after 9-30: 10-8, 10-9 and Saturday 10-10 (make-up).
        (
            "2026-09-30T09:00:00+08:00",
            TimeLimit::Days(3),
            "2026-10-10T17:30:00+08:00",
        ),
        // Reported on a Saturday: 1 working day is Monday.
        (
            "2026-09-12T11:00:00+08:00",
            TimeLimit::Days(1),
            "2026-09-14T17:30:00+08:00",
        ),
        // 7.5 working hours = one whole day, from Friday evening to Monday evening.
        (
            "2026-09-11T18:00:00+08:00",
            TimeLimit::Minutes(450),
            "2026-09-14T17:30:00+08:00",
        ),
    ];
    for (start, limit, want) in cases {
        let got = c.deadline(t(start), limit).unwrap();
        assert_eq!(got, t(want), "{start} + {limit}");
        assert_eq!(
            got.offset(),
            &c.zone(),
            "{start} + {limit}: answered in the calendar's zone"
        );
    }
}

#[test]
fn working_days_follow_the_notice() {
    let c = cal();
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    assert!(c.is_working_day(d("2026-01-04")), "Sunday make-up day");
    assert!(!c.is_working_day(d("2026-01-02")), "Friday holiday");
    assert!(!c.is_working_day(d("2026-02-21")), "Saturday in 春节");
    assert!(c.is_working_day(d("2026-02-24")));
    // 2026 has 261 weekdays. The notice takes 19 of them off (元旦 1-1, 1-2;
    // 春节 2-16…2-20, 2-23; 清明 4-6; 劳动节 5-1, 5-4, 5-5; 端午 6-19; 中秋
    // 9-25; 国庆 10-1, 10-2, 10-5…10-7) and makes 6 weekend days workdays
    // (1-4, 2-14, 2-28, 5-9, 9-20, 10-10): 261 - 19 + 6 = 248.
    let working = d("2026-01-01")
        .iter_days()
        .take(365)
        .filter(|&x| c.is_working_day(x))
        .count();
    let weekdays = d("2026-01-01")
        .iter_days()
        .take(365)
        .filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    let holidays_on_weekdays = c
        .holidays
        .iter()
        .filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun))
        .count();
    assert_eq!(weekdays, 261);
    assert_eq!(c.workdays.len(), 6);
    assert_eq!(holidays_on_weekdays, 19);
    assert_eq!(working, 248);
}

#[test]
fn times_outside_the_calendar_are_refused() {
    let c = cal();
    let e = c
        .deadline(t("2027-01-05T10:00:00+08:00"), TimeLimit::Hours(1))
        .unwrap_err();
    assert_eq!(e.date, NaiveDate::from_ymd_opt(2027, 1, 5).unwrap());
    assert!(e.to_string().contains("no working calendar for 2027-01-05"));
    // Starts inside, runs out of the covered year.
    assert!(c
        .deadline(t("2026-12-30T10:00:00+08:00"), TimeLimit::Days(5))
        .is_err());
    assert!(c
        .deadline(t("2026-12-31T17:00:00+08:00"), TimeLimit::Hours(1))
        .is_err());
    // 2026-01-01 00:30 +08:00 is still 2025 in UTC: the calendar's zone decides.
    assert!(c
        .deadline(t("2025-12-31T16:30:00Z"), TimeLimit::Hours(1))
        .is_ok());
}

#[test]
fn escalation_levels() {
    let c = cal();
    let start = t("2026-09-23T10:00:00+08:00");
    let deadline = c.deadline(start, TimeLimit::Hours(4)).unwrap();
    let at = |s| c.escalation(start, deadline, t(s));
    // 3 h of 4 used: 75 %.
    assert_eq!(at("2026-09-23T14:30:00+08:00"), Escalation::OnTime);
    // 3.5 h of 4: 87.5 %.
    assert_eq!(at("2026-09-23T15:00:00+08:00"), Escalation::Warning);
    assert_eq!(at("2026-09-23T15:30:00+08:00"), Escalation::Warning);
    assert_eq!(at("2026-09-23T16:00:00+08:00"), Escalation::Overdue);
    // Past the deadline 2 h (15:30–17:30) + 1.5 h (08:30–10:00) < 4 h.
    assert_eq!(at("2026-09-24T10:00:00+08:00"), Escalation::Overdue);
    // 2 h + 2.5 h ≥ 4 h.
    assert_eq!(at("2026-09-24T11:00:00+08:00"), Escalation::Escalated);
    assert_eq!(Escalation::Escalated.number(), 3);
    assert_eq!(
        c.working_seconds(
            t("2026-09-18T16:30:00+08:00"),
            t("2026-09-20T09:30:00+08:00")
        ),
        2 * 3600
    );
    assert_eq!(c.working_seconds(deadline, start), 0);
}

#[test]
fn bad_calendar_lines_are_named() {
    let good = "zone +08:00\ncovers 2026-01-01 2026-12-31\nhours 08:30-12:00\n";
    assert!(Calendar::parse(good).is_ok());
    let cases = [
        ("zone 8\n", 1),
        ("hours 12:00-08:30\n", 4),
        ("hours 08:00-12:00 11:00-13:00\n", 4),
        ("rest someday\n", 4),
        ("holiday 2026-13-01\n", 4),
        ("workday 2026-02-02 2026-02-01\n", 4),
        ("lunch 12:00\n", 4),
    ];
    for (extra, line) in cases {
        let text = if line == 1 {
            format!("{extra}{good}")
        } else {
            format!("{good}{extra}")
        };
        match Calendar::parse(&text) {
            Err(CalendarError::Invalid { line: l, .. }) if l == line => {}
            other => panic!("{extra:?}: expected an error on line {line}, got {other:?}"),
        }
    }
    assert_eq!(
        Calendar::parse("zone +08:00\nhours 08:30-12:00\n"),
        Err(CalendarError::Missing("covers"))
    );
    assert!(!CalendarError::Missing("zone").to_string().is_empty());
}
