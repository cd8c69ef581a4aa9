//! The values a store can keep, checked once for every writing path (HTTP
//! writes of facilities, hazards and components, `civgrid import`, the HTTP
//! import, `civgrid workers`, `civgrid care`) before any store sees them.
//!
//! The GeoPackage (SQLite) keeps almost anything; PostGIS does not, and a
//! value only PostGIS refuses used to be stored in one store and fail in the
//! other. The rules here are the narrower store's, so both stores take the
//! same values:
//!
//! - whole numbers stored in an `INTEGER` column (building `levels` and
//!   `households`, facility `capacity` and `staff`) are 32-bit in PostGIS:
//!   at most [`MAX_INTEGER`] (2,147,483,647);
//! - text never holds a NUL character (U+0000): PostgreSQL text cannot, and
//!   GDAL cuts a string at it; it is refused, never cut;
//! - points in time lie in the years 1–9999 (GeoPackage's ISO 8601 text;
//!   PostgreSQL's `timestamptz` ends earlier than chrono does);
//! - numbers (coordinates, LEC factors, speeds) are finite: SQLite turns
//!   NaN into NULL (checked where the numbers are read).

use chrono::{DateTime, Datelike};

/// The largest whole number an `INTEGER` column keeps in PostGIS (and so in
/// both stores): `i32::MAX`.
pub const MAX_INTEGER: u32 = i32::MAX.unsigned_abs();

/// The years a stored point in time may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// A value no store may be given, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// A whole number beyond the stored column's range.
    #[error(
        "field {field} = {value}: at most {MAX_INTEGER} (the store keeps it as a 32-bit integer)"
    )]
    TooLarge {
        /// The field.
        field: String,
        /// The value given.
        value: String,
    },
    /// Not a whole number ≥ 0.
    #[error("field {field} = {value}: must be a whole number ≥ 0")]
    NotCount {
        /// The field.
        field: String,
        /// The value given.
        value: String,
    },
    /// Text with a NUL character.
    #[error("field {field} contains a NUL character (\\0) after {before:?}: remove it (no store can keep it)")]
    Nul {
        /// The field.
        field: String,
        /// The text before the NUL, to find it by.
        before: String,
    },
    /// A point in time outside [`YEARS`].
    #[error("field {field} = {value}: the year must be within 1 to 9999")]
    Year {
        /// The field.
        field: String,
        /// The time given (RFC 3339).
        value: String,
    },
}

/// Checks that text `value` of `field` has no NUL character.
///
/// # Errors
/// [`ValueError::Nul`].
pub fn text(field: &str, value: &str) -> Result<(), ValueError> {
    match value.find('\0') {
        None => Ok(()),
        Some(at) => Err(ValueError::Nul {
            field: field.to_owned(),
            before: value[..at].chars().take(40).collect(),
        }),
    }
}

/// A whole number ≥ 0 that an `INTEGER` column keeps, from a number read
/// as `f64` (decimals like `6.0` are whole).
///
/// # Errors
/// [`ValueError::NotCount`] for a fraction, a negative or a non-finite
/// number; [`ValueError::TooLarge`] beyond [`MAX_INTEGER`].
pub fn count(field: &str, n: f64) -> Result<u32, ValueError> {
    if !(n.is_finite() && n >= 0.0 && n.fract() == 0.0) {
        return Err(ValueError::NotCount {
            field: field.to_owned(),
            value: n.to_string(),
        });
    }
    if n > f64::from(MAX_INTEGER) {
        return Err(ValueError::TooLarge {
            field: field.to_owned(),
            value: n.to_string(),
        });
    }
    // Whole, ≥ 0 and ≤ i32::MAX: exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n as u32)
}

/// Checks that a point in time (seconds since the epoch) lies in [`YEARS`].
///
/// # Errors
/// [`ValueError::Year`].
pub fn time(field: &str, unix_s: i64) -> Result<(), ValueError> {
    match DateTime::from_timestamp(unix_s, 0) {
        Some(t) if YEARS.contains(&t.year()) => Ok(()),
        t => Err(ValueError::Year {
            field: field.to_owned(),
            value: t.map_or_else(|| format!("{unix_s} s"), |t| t.to_rfc3339()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_end_at_the_postgis_integer() {
        assert_eq!(count("staff", 2_147_483_647.0), Ok(2_147_483_647));
        let e = count("staff", 2_147_483_648.0).unwrap_err();
        assert!(e.to_string().contains("field staff = 2147483648"), "{e}");
        assert!(count("capacity", 3e9).is_err());
        assert!(count("capacity", -1.0).is_err());
        assert!(count("capacity", 1.5).is_err());
        assert!(count("capacity", f64::NAN).is_err());
    }

    #[test]
    fn nul_is_refused_naming_the_field() {
        assert_eq!(text("name", "消防站"), Ok(()));
        let e = text("name", "ab\0cd").unwrap_err();
        assert!(e.to_string().contains("field name"), "{e}");
        assert!(e.to_string().contains("\"ab\""), "{e}");
    }

    #[test]
    fn times_within_years_1_to_9999() {
        assert_eq!(time("time", 0), Ok(()));
        assert_eq!(time("time", 253_402_300_799), Ok(())); // 9999-12-31T23:59:59Z
        assert!(time("time", 253_402_300_800).is_err());
        assert!(time("time", -62_135_596_801).is_err()); // 0000-12-31
    }
}
