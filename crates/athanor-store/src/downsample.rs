//! Telemetry downsampling, the pure part: which bucket a reading falls in, and how the readings
//! of one bucket merge into one (numbers: the mean weighted by how many readings each row
//! already stands for; anything else: the latest value).

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Number, Value};

/// The start of the bucket of width `width` (counted from the Unix epoch) that holds `at`.
pub fn bucket_start(at: DateTime<Utc>, width: TimeDelta) -> DateTime<Utc> {
    let w = width.num_microseconds().unwrap_or(i64::MAX).max(1);
    let t = at.timestamp_micros();
    let start = t.div_euclid(w) * w;
    DateTime::from_timestamp_micros(start).unwrap_or(at)
}

/// One stored row as the merge sees it: its readings and how many readings it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighted<'a> {
    pub values: &'a Value,
    pub samples: u64,
}

/// Merges rows of one bucket, given oldest first, into one set of readings.
///
/// A key that holds a number in every row where it appears becomes the weighted mean of those
/// numbers; any other key keeps its value from the latest row that has it. Rows whose readings
/// are not a JSON object contribute nothing.
pub fn merge(rows: &[Weighted<'_>]) -> Value {
    let mut sums: Map<String, Value> = Map::new();
    let mut numeric: std::collections::BTreeMap<String, (f64, u64)> = Default::default();
    let mut not_numeric: std::collections::BTreeSet<String> = Default::default();
    for row in rows {
        let Some(obj) = row.values.as_object() else {
            continue;
        };
        for (k, v) in obj {
            match v.as_f64() {
                Some(x) if x.is_finite() && !not_numeric.contains(k) => {
                    let e = numeric.entry(k.clone()).or_insert((0.0, 0));
                    e.0 += x * row.samples as f64;
                    e.1 += row.samples;
                }
                _ => {
                    not_numeric.insert(k.clone());
                    numeric.remove(k);
                }
            }
            sums.insert(k.clone(), v.clone());
        }
    }
    for (k, (sum, n)) in numeric {
        if n > 0 {
            if let Some(mean) = Number::from_f64(sum / n as f64) {
                sums.insert(k, Value::Number(mean));
            }
        }
    }
    Value::Object(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn buckets_start_on_multiples_of_their_width() {
        let m = TimeDelta::minutes(1);
        assert_eq!(
            bucket_start(at("2026-11-25T12:03:59.999Z"), m),
            at("2026-11-25T12:03:00Z")
        );
        assert_eq!(
            bucket_start(at("2026-11-25T12:03:00Z"), m),
            at("2026-11-25T12:03:00Z")
        );
        assert_eq!(
            bucket_start(at("1969-12-31T23:59:30Z"), m),
            at("1969-12-31T23:59:00Z"),
            "before the epoch too"
        );
    }

    #[test]
    fn numbers_average_by_weight_and_the_rest_keeps_the_latest() {
        let a = json!({"t": 600.0, "mode": "ramp", "alarm": false, "mixed": 1});
        let b = json!({"t": 700.0, "mode": "dwell", "alarm": true, "mixed": "x"});
        let c = json!({"t": 900.0, "extra": 2});
        let merged = merge(&[
            Weighted {
                values: &a,
                samples: 1,
            },
            Weighted {
                values: &b,
                samples: 1,
            },
            Weighted {
                values: &c,
                samples: 2,
            },
        ]);
        // (600 + 700 + 2 * 900) / 4
        assert_eq!(merged["t"], json!(775.0));
        assert_eq!(merged["mode"], json!("dwell"));
        assert_eq!(merged["alarm"], json!(true));
        assert_eq!(
            merged["mixed"],
            json!("x"),
            "a key that is not always a number is not averaged"
        );
        assert_eq!(merged["extra"], json!(2.0));
    }
}
