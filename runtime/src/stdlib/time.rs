//! The `time` module (FORGE.md §10): time objects, parsing, formatting,
//! arithmetic and calendar helpers. `time.sleep` is the concurrency
//! module's `wait`.
//!
//! A time object is an Object with the keys `iso, unix, unix_ms, year,
//! month, day, hour, minute, second, weekday, weekday_short, day_of_year,
//! timezone`. Functions taking a time read back only `unix_ms` (the
//! instant) and `timezone` (UTC when absent), so the other keys are purely
//! informative. A zone is a chrono-tz name (`UTC`, `Europe/Paris`) or, for
//! a parsed RFC 3339 text with a non-zero offset, that fixed offset
//! (`+05:30`).

use std::fmt::Write;
use std::sync::OnceLock;
use std::time::Instant;

use arcstr::ArcStr;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::builtins::args;
use crate::builtins::{Builder, NativeCx};
use crate::error::{Ctrl, EvalResult};
use crate::value::{Map, Value};

pub fn register(b: &mut Builder) {
    // Start the `elapsed()` clock with the process rather than on first use.
    start();
    b.module("time", |m| {
        m.func("now", 0, 1, now);
        m.func("unix", 0, 0, unix);
        m.func("elapsed", 0, 0, elapsed);
        m.func("today", 0, 0, today);
        m.func("parse", 1, 2, parse);
        m.func("from_unix", 1, 1, from_unix);
        m.func("date", 3, 3, date);
        m.func("format", 1, 2, format);
        m.func("diff", 2, 2, diff);
        m.func("add", 2, 2, add);
        m.func("sub", 2, 2, sub);
        m.func("is_before", 2, 2, is_before);
        m.func("is_after", 2, 2, is_after);
        m.func("is_leap_year", 1, 1, is_leap_year);
        m.func("days_in_month", 2, 2, days_in_month);
        m.func("sleep", 1, 1, crate::builtins::concurrency::wait_native);
    });
}

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The zone a time is shown in.
#[derive(Clone, Copy)]
enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    const UTC: Zone = Zone::Named(Tz::UTC);

    fn parse(name: &str, func: &str) -> Result<Zone, Ctrl> {
        let named = name
            .parse::<Tz>()
            .ok()
            .or_else(|| chrono_tz::TZ_VARIANTS.iter().copied().find(|tz| tz.name().eq_ignore_ascii_case(name)));
        if let Some(tz) = named {
            return Ok(Zone::Named(tz));
        }
        if let Ok(off) = name.parse::<FixedOffset>() {
            return Ok(Zone::from_offset(off));
        }
        Err(Ctrl::runtime(format!("{func}() unknown timezone '{name}'")))
    }

    fn from_offset(off: FixedOffset) -> Zone {
        if off.local_minus_utc() == 0 {
            Zone::UTC
        } else {
            Zone::Fixed(off)
        }
    }

    fn name(self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_owned(),
            Zone::Fixed(off) => off.to_string(),
        }
    }

    /// The local wall-clock view of `t` in this zone.
    fn local(self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        match self {
            Zone::Named(tz) => t.with_timezone(&tz).fixed_offset(),
            Zone::Fixed(off) => t.with_timezone(&off),
        }
    }

    /// The instant a wall-clock time in this zone names (the earlier one
    /// when a clock change makes it ambiguous).
    fn resolve(self, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Zone::Named(tz) => tz.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc)),
            Zone::Fixed(off) => off.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc)),
        }
    }
}

/// A point in time together with the zone it is shown in.
#[derive(Clone, Copy)]
struct Time {
    at: DateTime<Utc>,
    zone: Zone,
}

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

impl Time {
    fn to_value(self) -> Value {
        let local = self.zone.local(self.at);
        let weekday = local.weekday();
        let mut m = Map::default();
        let mut put = |k: &str, v: Value| {
            m.insert(ArcStr::from(k), v);
        };
        put("iso", local.to_rfc3339_opts(SecondsFormat::Secs, false).into());
        put("unix", Value::Int(self.at.timestamp()));
        put("unix_ms", Value::Int(self.at.timestamp_millis()));
        put("year", Value::Int(i64::from(local.year())));
        put("month", Value::Int(i64::from(local.month())));
        put("day", Value::Int(i64::from(local.day())));
        put("hour", Value::Int(i64::from(local.hour())));
        put("minute", Value::Int(i64::from(local.minute())));
        put("second", Value::Int(i64::from(local.second())));
        put("weekday", WEEKDAYS[weekday.num_days_from_monday() as usize].into());
        put("weekday_short", weekday.to_string().into());
        put("day_of_year", Value::Int(i64::from(local.ordinal())));
        put("timezone", self.zone.name().into());
        Value::object(m)
    }

    /// A time argument of `func`: a time object (its `unix_ms` and
    /// `timezone`), a String `time.parse` accepts, or Int Unix seconds.
    fn from_value(v: &Value, func: &str) -> Result<Time, Ctrl> {
        match v {
            Value::Object(o) => {
                let Some(Value::Int(ms)) = o.fields.get("unix_ms") else {
                    return Err(args::requires(func, "a time object"));
                };
                let zone = match o.fields.get("timezone") {
                    Some(Value::Str(name)) => Zone::parse(name, func)?,
                    _ => Zone::UTC,
                };
                let at = DateTime::from_timestamp_millis(*ms).ok_or_else(|| out_of_range(func))?;
                Ok(Time { at, zone })
            }
            Value::Str(s) => parse_time(s, None, func),
            Value::Int(secs) => from_unix_secs(*secs, func),
            _ => Err(args::requires(func, "a time object")),
        }
    }
}

fn out_of_range(func: &str) -> Ctrl {
    Ctrl::runtime(format!("{func}() time out of range"))
}

fn from_unix_secs(secs: i64, func: &str) -> Result<Time, Ctrl> {
    let at = DateTime::from_timestamp(secs, 0).ok_or_else(|| out_of_range(func))?;
    Ok(Time { at, zone: Zone::UTC })
}

fn zone_arg(args: &[Value], i: usize, func: &str) -> Result<Option<Zone>, Ctrl> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(name)) => Zone::parse(name, func).map(Some),
        Some(_) => Err(args::requires(func, "a timezone name")),
    }
}

/// Parses RFC 3339 (`2024-03-15T10:30:00Z`, offsets kept), or a wall-clock
/// `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.f]]` or `YYYY-MM-DDTHH:MM[:SS[.f]]`
/// read in `zone` (UTC by default). With a zone, an RFC 3339 instant is
/// shown in that zone.
fn parse_time(text: &str, zone: Option<Zone>, func: &str) -> Result<Time, Ctrl> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let zone = zone.unwrap_or_else(|| Zone::from_offset(*t.offset()));
        return Ok(Time { at: t.with_timezone(&Utc), zone });
    }
    const FORMATS: [&str; 4] = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"];
    let naive = FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)));
    let Some(naive) = naive else {
        return Err(Ctrl::runtime(format!("{func}() could not parse '{text}'")));
    };
    let zone = zone.unwrap_or(Zone::UTC);
    let at = zone
        .resolve(naive)
        .ok_or_else(|| Ctrl::runtime(format!("{func}() '{text}' does not exist in timezone {}", zone.name())))?;
    Ok(Time { at, zone })
}

fn now(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let zone = zone_arg(args, 0, "time.now")?.unwrap_or(Zone::UTC);
    Ok(Time { at: Utc::now(), zone }.to_value())
}

fn unix(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::Int(Utc::now().timestamp()))
}

/// Milliseconds since the process started (monotonic).
fn elapsed(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::Int(i64::try_from(start().elapsed().as_millis()).unwrap_or(i64::MAX)))
}

fn today(_cx: &mut dyn NativeCx, _args: &mut [Value]) -> EvalResult {
    Ok(Value::from(Utc::now().format("%Y-%m-%d").to_string()))
}

fn parse(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let text = args::string(&args[0], "time.parse")?;
    let zone = zone_arg(args, 1, "time.parse")?;
    parse_time(text, zone, "time.parse").map(Time::to_value)
}

/// Unix seconds (an Int, or a Float with a fractional part kept to the
/// millisecond) to a UTC time.
fn from_unix(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let func = "time.from_unix";
    let time = match args[0] {
        Value::Int(secs) => from_unix_secs(secs, func)?,
        Value::Float(secs) => {
            let ms = (secs * 1000.0).round();
            if !(ms.is_finite() && ms.abs() < 9.0e18) {
                return Err(out_of_range(func));
            }
            let at = DateTime::from_timestamp_millis(ms as i64).ok_or_else(|| out_of_range(func))?;
            Time { at, zone: Zone::UTC }
        }
        _ => return Err(args::requires(func, "a number")),
    };
    Ok(time.to_value())
}

fn date(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let func = "time.date";
    let y = args::int(&args[0], func, "integer arguments")?;
    let m = args::int(&args[1], func, "integer arguments")?;
    let d = args::int(&args[2], func, "integer arguments")?;
    let naive = i32::try_from(y)
        .ok()
        .zip(u32::try_from(m).ok())
        .zip(u32::try_from(d).ok())
        .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d))
        .and_then(|date| date.and_hms_opt(0, 0, 0));
    let Some(naive) = naive else {
        return Err(Ctrl::runtime(format!("{func}() invalid date {y}-{m:02}-{d:02}")));
    };
    Ok(Time { at: naive.and_utc(), zone: Zone::UTC }.to_value())
}

/// strftime formatting; an invalid format string is an error, not a panic.
fn format(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let func = "time.format";
    let t = Time::from_value(&args[0], func)?;
    let fmt = match args.get(1) {
        None => "%Y-%m-%d %H:%M:%S",
        Some(v) => args::string(v, func)?.as_str(),
    };
    let mut out = String::new();
    let written = match t.zone {
        Zone::Named(tz) => write!(out, "{}", t.at.with_timezone(&tz).format(fmt)),
        Zone::Fixed(off) => write!(out, "{}", t.at.with_timezone(&off).format(fmt)),
    };
    match written {
        Ok(()) => Ok(Value::from(out)),
        Err(_) => Err(Ctrl::runtime(format!("{func}() invalid format string '{fmt}'"))),
    }
}

/// `Nd Nh Nm Ns` for a signed number of seconds.
fn human(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "" };
    let s = secs.unsigned_abs();
    format!("{sign}{}d {}h {}m {}s", s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60)
}

/// `a − b`: `seconds` is a whole Int (truncated), the larger units Floats.
fn diff(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = Time::from_value(&args[0], "time.diff")?;
    let b = Time::from_value(&args[1], "time.diff")?;
    let ms = a.at.timestamp_millis() - b.at.timestamp_millis();
    let secs = ms / 1000;
    let exact = ms as f64 / 1000.0;
    let mut m = Map::default();
    m.insert("seconds".into(), Value::Int(secs));
    m.insert("minutes".into(), Value::Float(exact / 60.0));
    m.insert("hours".into(), Value::Float(exact / 3_600.0));
    m.insert("days".into(), Value::Float(exact / 86_400.0));
    m.insert("weeks".into(), Value::Float(exact / 604_800.0));
    m.insert("human".into(), human(secs).into());
    Ok(Value::object(m))
}

/// The length in milliseconds of `{ days, hours, minutes, seconds }`.
fn duration_ms(v: &Value, func: &str) -> Result<i64, Ctrl> {
    let Value::Object(o) = v else {
        return Err(args::requires(func, "a duration object like { days: 1 }"));
    };
    let mut total: i64 = 0;
    for (k, n) in &o.fields {
        let unit_ms: i64 = match k.as_str() {
            "days" => 86_400_000,
            "hours" => 3_600_000,
            "minutes" => 60_000,
            "seconds" => 1_000,
            other => {
                return Err(Ctrl::runtime(format!(
                    "{func}() unknown duration key '{other}' (use days, hours, minutes, seconds)"
                )))
            }
        };
        let part = match n {
            Value::Int(n) => n.checked_mul(unit_ms),
            Value::Float(f) => {
                let ms = (f * unit_ms as f64).round();
                (ms.is_finite() && ms.abs() < 9.0e18).then_some(ms as i64)
            }
            _ => return Err(Ctrl::runtime(format!("{func}() duration '{k}' must be a number"))),
        };
        total = part.and_then(|p| total.checked_add(p)).ok_or_else(|| out_of_range(func))?;
    }
    Ok(total)
}

fn shift(args: &[Value], func: &str, sign: i64) -> EvalResult {
    let t = Time::from_value(&args[0], func)?;
    let ms = duration_ms(&args[1], func)?.checked_mul(sign).ok_or_else(|| out_of_range(func))?;
    let at =
        t.at.timestamp_millis()
            .checked_add(ms)
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| out_of_range(func))?;
    Ok(Time { at, zone: t.zone }.to_value())
}

fn add(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    shift(args, "time.add", 1)
}

fn sub(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    shift(args, "time.sub", -1)
}

fn is_before(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = Time::from_value(&args[0], "time.is_before")?;
    let b = Time::from_value(&args[1], "time.is_before")?;
    Ok(Value::Bool(a.at < b.at))
}

fn is_after(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let a = Time::from_value(&args[0], "time.is_after")?;
    let b = Time::from_value(&args[1], "time.is_after")?;
    Ok(Value::Bool(a.at > b.at))
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn is_leap_year(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    Ok(Value::Bool(leap(args::int(&args[0], "time.is_leap_year", "an integer year")?)))
}

fn days_in_month(_cx: &mut dyn NativeCx, args: &mut [Value]) -> EvalResult {
    let func = "time.days_in_month";
    let y = args::int(&args[0], func, "integer arguments")?;
    let m = args::int(&args[1], func, "integer arguments")?;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return Err(Ctrl::runtime(format!("{func}() month must be between 1 and 12, got {m}"))),
    };
    Ok(Value::Int(days))
}

#[cfg(test)]
mod tests {
    use crate::builtins::testing::{call_module, show};
    use crate::value::Value;

    fn t(name: &str, args: Vec<Value>) -> Value {
        match call_module("time", name, args) {
            Ok(v) => v,
            Err(e) => panic!("time.{name}: {e:?}"),
        }
    }

    fn field(v: &Value, k: &str) -> String {
        let Value::Object(o) = v else { panic!("not an object") };
        crate::value::display::display(&o.fields[k])
    }

    fn parse(s: &str) -> Value {
        t("parse", vec![s.into()])
    }

    fn dur(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect())
    }

    #[test]
    fn time_objects() {
        let epoch = t("from_unix", vec![Value::Int(0)]);
        assert_eq!(
            crate::value::display::display(&epoch),
            r#"{ "iso": "1970-01-01T00:00:00+00:00", "unix": 0, "unix_ms": 0, "year": 1970, "month": 1, "day": 1, "hour": 0, "minute": 0, "second": 0, "weekday": "Thursday", "weekday_short": "Thu", "day_of_year": 1, "timezone": "UTC" }"#
        );
        let xmas = t("date", vec![Value::Int(2026), Value::Int(12), Value::Int(25)]);
        assert_eq!(field(&xmas, "weekday"), "Friday");
        assert_eq!(field(&xmas, "weekday_short"), "Fri");
        assert_eq!(field(&xmas, "day_of_year"), "359");
        assert_eq!(show(call_module("time", "format", vec![xmas.clone()])), "2026-12-25 00:00:00");
        assert_eq!(show(call_module("time", "format", vec![xmas.clone(), "%B %d, %Y".into()])), "December 25, 2026");
        assert!(show(call_module("time", "format", vec![xmas.clone(), "%Q".into()]))
            .starts_with("error: time.format() invalid format"));
        assert!(show(call_module("time", "format", vec![Value::Int(1)])).starts_with("1970-01-01 00:00:01"));
        assert_eq!(
            show(call_module("time", "format", vec![Value::Null])),
            "error: time.format() requires a time object"
        );
        assert_eq!(
            show(call_module("time", "date", vec![Value::Int(2025), Value::Int(2), Value::Int(30)])),
            "error: time.date() invalid date 2025-02-30"
        );
        assert_eq!(field(&t("from_unix", vec![Value::Float(1.5)]), "unix_ms"), "1500");
        assert!(show(call_module("time", "from_unix", vec![Value::Int(i64::MAX)]))
            .starts_with("error: time.from_unix() time out of range"));
    }

    #[test]
    fn parsing() {
        let p = parse("2024-02-29T13:45:10Z");
        assert_eq!(field(&p, "hour"), "13");
        assert_eq!(field(&p, "unix"), "1709214310");
        assert_eq!(field(&p, "unix_ms"), "1709214310000");
        assert_eq!(field(&p, "weekday"), "Thursday");
        assert_eq!(field(&parse("2026-03-02"), "weekday"), "Monday");
        assert_eq!(field(&parse("2026-03-02 14:30:00"), "iso"), "2026-03-02T14:30:00+00:00");
        assert_eq!(field(&parse("2026-03-02T14:30"), "iso"), "2026-03-02T14:30:00+00:00");
        assert_eq!(field(&parse(" 2024-03-15T10:30:00.250+00:00 "), "unix_ms"), "1710498600250");
        let off = parse("2024-03-15T10:30:00+05:30");
        assert_eq!(field(&off, "iso"), "2024-03-15T10:30:00+05:30");
        assert_eq!(field(&off, "timezone"), "+05:30");
        assert_eq!(field(&off, "unix"), "1710478800");
        // A fixed offset survives a round trip through a time object.
        assert_eq!(field(&t("add", vec![off, dur(&[("hours", Value::Int(1))])]), "iso"), "2024-03-15T11:30:00+05:30");
        let ny = t("parse", vec!["2024-07-04 12:00:00".into(), "America/New_York".into()]);
        assert_eq!(field(&ny, "iso"), "2024-07-04T12:00:00-04:00");
        assert_eq!(field(&ny, "timezone"), "America/New_York");
        assert_eq!(show(call_module("time", "format", vec![ny, "%H:%M %Z".into()])), "12:00 EDT");
        let tokyo = t("parse", vec!["2024-07-04T00:00:00Z".into(), "Asia/Tokyo".into()]);
        assert_eq!(field(&tokyo, "iso"), "2024-07-04T09:00:00+09:00");
        assert_eq!(show(call_module("time", "parse", vec!["x".into()])), "error: time.parse() could not parse 'x'");
        assert_eq!(
            show(call_module("time", "parse", vec!["2024-02-30".into()])),
            "error: time.parse() could not parse '2024-02-30'"
        );
        assert_eq!(
            show(call_module("time", "parse", vec!["2024-01-01".into(), "Mars/Base".into()])),
            "error: time.parse() unknown timezone 'Mars/Base'"
        );
        assert!(show(call_module("time", "parse", vec!["2024-03-10 02:30:00".into(), "America/New_York".into()]))
            .contains("does not exist"));
        assert_eq!(field(&t("now", vec!["Europe/Paris".into()]), "timezone"), "Europe/Paris");
        assert_eq!(field(&t("now", vec![]), "timezone"), "UTC");
        assert_eq!(field(&t("now", vec!["europe/paris".into()]), "timezone"), "Europe/Paris");
    }

    #[test]
    fn arithmetic() {
        let a = parse("2026-03-01");
        let b = parse("2026-03-15");
        let d = t("diff", vec![b.clone(), a.clone()]);
        assert_eq!(field(&d, "seconds"), "1209600");
        assert_eq!(field(&d, "days"), "14.0");
        assert_eq!(field(&d, "hours"), "336.0");
        assert_eq!(field(&d, "weeks"), "2.0");
        assert_eq!(field(&d, "human"), "14d 0h 0m 0s");
        let back = t("diff", vec![a.clone(), b.clone()]);
        assert_eq!(field(&back, "seconds"), "-1209600");
        assert_eq!(field(&back, "human"), "-14d 0h 0m 0s");
        let d = t("diff", vec![parse("2026-03-02T01:00:05Z"), a.clone()]);
        assert_eq!(field(&d, "human"), "1d 1h 0m 5s");
        let later = t("add", vec![a.clone(), dur(&[("days", Value::Int(7)), ("hours", Value::Int(3))])]);
        assert_eq!(field(&later, "iso"), "2026-03-08T03:00:00+00:00");
        assert_eq!(
            field(&t("add", vec![a.clone(), dur(&[("minutes", Value::Int(90))])]), "iso"),
            "2026-03-01T01:30:00+00:00"
        );
        assert_eq!(
            field(&t("add", vec![a.clone(), dur(&[("hours", Value::Float(0.5))])]), "iso"),
            "2026-03-01T00:30:00+00:00"
        );
        assert_eq!(
            field(&t("sub", vec![a.clone(), dur(&[("days", Value::Int(14))])]), "iso"),
            "2026-02-15T00:00:00+00:00"
        );
        assert_eq!(
            field(&t("add", vec![parse("2025-12-31T23:59:59Z"), dur(&[("seconds", Value::Int(1))])]), "iso"),
            "2026-01-01T00:00:00+00:00"
        );
        assert!(show(call_module("time", "add", vec![a.clone(), dur(&[("months", Value::Int(1))])]))
            .contains("unknown duration key 'months'"));
        assert!(show(call_module("time", "add", vec![a.clone(), dur(&[("days", Value::Int(i64::MAX))])]))
            .contains("out of range"));
        assert!(show(call_module("time", "add", vec![a.clone(), dur(&[("days", "x".into())])]))
            .contains("must be a number"));
        assert_eq!(show(call_module("time", "is_before", vec![a.clone(), b.clone()])), "true");
        assert_eq!(show(call_module("time", "is_after", vec![a.clone(), b.clone()])), "false");
        assert_eq!(show(call_module("time", "is_before", vec![a.clone(), a.clone()])), "false");
    }

    #[test]
    fn calendar_and_clocks() {
        let dim = |y: i64, m: i64| show(call_module("time", "days_in_month", vec![Value::Int(y), Value::Int(m)]));
        assert_eq!(dim(2024, 2), "29");
        assert_eq!(dim(2025, 2), "28");
        assert_eq!(dim(2025, 12), "31");
        assert_eq!(dim(2025, 4), "30");
        assert!(dim(2025, 13).starts_with("error: time.days_in_month() month must be"));
        let leap = |y: i64| show(call_module("time", "is_leap_year", vec![Value::Int(y)]));
        assert_eq!(leap(2024), "true");
        assert_eq!(leap(2000), "true");
        assert_eq!(leap(1900), "false");
        assert_eq!(leap(-4), "true");
        let Value::Int(u) = t("unix", vec![]) else { panic!() };
        assert!(u > 1_700_000_000);
        let Value::Int(e1) = t("elapsed", vec![]) else { panic!() };
        let Value::Int(e2) = t("elapsed", vec![]) else { panic!() };
        assert!(e2 >= e1 && e1 >= 0);
        let Value::Str(day) = t("today", vec![]) else { panic!() };
        assert_eq!(day.len(), 10);
    }
}
