//! Whole numbers as JSON Schema's `integer` has them: `7` and `7.0` alike (serde's integer
//! types take only the first, so a schema-valid `7.0` would be refused).

use serde::{Deserialize, Deserializer};

/// An optional whole number in `T`'s range; a fraction or a value out of range is an error.
pub fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    let Some(n) = Option::<f64>::deserialize(d)? else { return Ok(None) };
    // 2^63 is exactly representable; anything at or past it is out of every range here.
    if n.fract() != 0.0 || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&n) {
        return Err(serde::de::Error::custom("expected a whole number"));
    }
    T::try_from(n as i64).map(Some).map_err(|_| serde::de::Error::custom("the number is out of range"))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Days {
        #[serde(default, deserialize_with = "super::optional")]
        days: Option<u32>,
    }

    fn days(json: &str) -> Option<Option<u32>> {
        serde_json::from_str::<Days>(json).ok().map(|d| d.days)
    }

    #[test]
    fn integers_written_either_way_are_taken_and_fractions_are_not() {
        assert_eq!(days(r#"{"days": 30}"#), Some(Some(30)));
        assert_eq!(days(r#"{"days": 30.0}"#), Some(Some(30)));
        assert_eq!(days(r#"{"days": null}"#), Some(None));
        assert_eq!(days(r#"{}"#), Some(None));
        assert_eq!(days(r#"{"days": 30.5}"#), None);
        assert_eq!(days(r#"{"days": -1}"#), None);
        assert_eq!(days(r#"{"days": 4294967296}"#), None);
        assert_eq!(days(r#"{"days": 1e300}"#), None);
    }
}
