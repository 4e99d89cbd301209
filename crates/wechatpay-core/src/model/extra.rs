//! Fields a response carries that this version does not know, kept byte for byte.
//!
//! Each model struct keeps its unknown fields in an [`Extra`] map of raw JSON texts
//! (`serde_json::value::RawValue`), so serialising the struct gives back exactly what was
//! received: `123456789012345678901234567890` stays those digits (a `serde_json::Value`
//! would make it `1.2345678901234568e29`) and `1e2` stays `1e2` (not `100.0`).
//!
//! Why raw values and not `serde_json`'s `arbitrary_precision` feature: features are unified
//! across a build, so `arbitrary_precision` would change how every `serde_json::Value` in a
//! downstream program holds numbers (and break code matching on them); `raw_value` only adds
//! the `RawValue` type. Why not `#[serde(flatten)]`: serde buffers a flattened struct's
//! input in its own content type, where numbers become `u64`/`i64`/`f64` before `extra` sees
//! them (and where `RawValue` cannot be read at all). Instead each struct's derived
//! deserializer reads through a thin wrapper ([`keep_unknown_fields`]) that passes the keys
//! it names straight through (one streaming pass, as derived code reads) and reads every
//! other key's value as raw JSON into `extra`. Duplicate keys are an error, and so is a
//! value nested deeper than [`MAX_DEPTH`] arrays or objects (serde_json skips raw values
//! without its own depth limit, so a signed answer could otherwise hand 10 000 nested
//! arrays to every program that prints it). Whitespace between tokens is dropped (the text
//! stays on one line; strings and numbers are untouched).
//!
//! Reading a model therefore needs a `serde_json` deserializer (`from_slice`, `from_str`,
//! `from_reader`, `from_value`); other formats cannot produce raw JSON values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The deepest nesting of arrays and objects kept in an unknown field's value (serde_json's
/// own default limit is 128 as well).
pub(crate) const MAX_DEPTH: usize = 128;

/// Unknown fields of a response object: name → the value's JSON text as received.
#[derive(Clone, Default)]
pub struct Extra(BTreeMap<String, Box<RawValue>>);

impl Extra {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The JSON text of field `name`, exactly as received.
    pub fn get(&self, name: &str) -> Option<&RawValue> {
        self.0.get(name).map(|v| &**v)
    }

    /// Field `name` parsed as `T` (e.g. `u128` or `String` for a big number kept whole,
    /// `serde_json::Value` for a look inside, which rounds numbers beyond `f64`).
    pub fn get_as<T: serde::de::DeserializeOwned>(&self, name: &str) -> Option<Result<T, serde_json::Error>> {
        self.0.get(name).map(|v| serde_json::from_str(v.get()))
    }

    /// Field `name` as a `serde_json::Value` (numbers beyond `u64`/`i64` become `f64`).
    pub fn value(&self, name: &str) -> Option<serde_json::Value> {
        self.get_as(name).and_then(Result::ok)
    }

    /// Sets field `name` to a JSON text, returning the old one.
    pub fn insert(&mut self, name: impl Into<String>, value: Box<RawValue>) -> Option<Box<RawValue>> {
        self.0.insert(name.into(), value)
    }

    /// Removes field `name`, returning its JSON text.
    pub fn remove(&mut self, name: &str) -> Option<Box<RawValue>> {
        self.0.remove(name)
    }

    /// Whether field `name` is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The fields in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), &**v))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Equal when the same names hold the same JSON texts.
impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self.iter().zip(other.iter()).all(|((a, x), (b, y))| a == b && x.get() == y.get())
    }
}

impl Eq for Extra {}

impl fmt::Debug for Extra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter().map(|(k, v)| (k, v.get()))).finish()
    }
}

/// A map of the JSON texts (written as they are by `serde_json`).
impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Wraps the deserializer a derived struct deserializer reads from. Every key goes to the
/// derived code as usual; the derived code skips the value of a key it does not name by
/// reading it as `IgnoredAny` (`deserialize_ignored_any`), and that one call is where the
/// value is read as raw JSON into `extra` instead. One pass over the input, no buffering, and
/// no second look-up of each key in the struct's field list.
pub(crate) struct KeepUnknown<'x, D> {
    inner: D,
    extra: &'x mut Extra,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeepUnknown<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.inner.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let wrapped = KeepUnknownVisitor { inner: visitor, extra: self.extra };
        self.inner.deserialize_struct(name, fields, wrapped)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct KeepUnknownVisitor<'x, V> {
    inner: V,
    extra: &'x mut Extra,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeepUnknownVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(KeepUnknownMap { inner: map, key: None, extra: self.extra })
    }
}

struct KeepUnknownMap<'x, 'de, A> {
    inner: A,
    /// The key whose value comes next.
    key: Option<Key<'de>>,
    extra: &'x mut Extra,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for KeepUnknownMap<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.inner.next_key::<Key<'de>>()? else {
            return Ok(None);
        };
        let field = match &key {
            Key::Borrowed(s) => seed.deserialize(de::value::BorrowedStrDeserializer::new(s)),
            Key::Owned(s) => seed.deserialize(de::value::StrDeserializer::new(s)),
        }?;
        self.key = Some(key);
        Ok(Some(field))
    }

    fn next_value_seed<S: de::DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        let key = self.key.take();
        self.inner.next_value_seed(KeepIfIgnored { seed, key, extra: self.extra })
    }
}

/// The seed of one value: passes the derived code's own seed a deserializer that keeps the
/// value if the derived code ignores it.
struct KeepIfIgnored<'x, 'de, S> {
    seed: S,
    key: Option<Key<'de>>,
    extra: &'x mut Extra,
}

impl<'de, S: de::DeserializeSeed<'de>> de::DeserializeSeed<'de> for KeepIfIgnored<'_, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(KeepIgnored { inner: deserializer, key: self.key, extra: self.extra })
    }
}

/// A value's deserializer: every request goes to `inner`, except `deserialize_ignored_any`
/// (the derived code skipping a key it does not name), which reads the value as raw JSON
/// into `extra`.
struct KeepIgnored<'x, 'de, D> {
    inner: D,
    key: Option<Key<'de>>,
    extra: &'x mut Extra,
}

/// Forwards `deserialize_*` methods to `self.inner`.
macro_rules! forward_to_inner {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method(visitor)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeepIgnored<'_, 'de, D> {
    type Error = D::Error;

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let value = Box::<RawValue>::deserialize(self.inner)?;
        let key = self.key.map(Key::into_string).unwrap_or_default();
        if nesting_exceeds(value.get(), MAX_DEPTH) {
            return Err(de::Error::custom(format_args!(
                "field `{key}` is nested deeper than {MAX_DEPTH} levels of arrays and objects"
            )));
        }
        if self.extra.contains_key(&key) {
            return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
        }
        self.extra.insert(key, compact(value));
        visitor.visit_unit()
    }

    forward_to_inner! {
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32,
        deserialize_i64, deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32,
        deserialize_u64, deserialize_u128, deserialize_f32, deserialize_f64, deserialize_char,
        deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf,
        deserialize_option, deserialize_unit, deserialize_seq, deserialize_map,
        deserialize_identifier,
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Whether valid JSON `text` nests arrays and objects more than `limit` deep (brackets inside
/// strings do not count). One pass over the bytes, no recursion.
fn nesting_exceeds(text: &str, limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for b in text.bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// The JSON text without whitespace between tokens (strings and numbers untouched), so a
/// kept value serialises on one line, as a `serde_json::Value` would.
fn compact(raw: Box<RawValue>) -> Box<RawValue> {
    let text = raw.get();
    if !text.bytes().any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t')) {
        return raw;
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            in_string = c == '"';
            out.push(c);
        }
    }
    RawValue::from_string(out).unwrap_or(raw)
}

/// An object key, borrowed from the input when it can be.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// Reads a struct whose derived deserializer is `known` (a `#[serde(remote = "Self")]`
/// inherent function) and returns it with the fields it did not name.
pub(crate) fn deserialize_keeping_unknown<'de, D, T>(
    deserializer: D,
    known: impl for<'x> FnOnce(KeepUnknown<'x, D>) -> Result<T, D::Error>,
) -> Result<(T, Extra), D::Error>
where
    D: Deserializer<'de>,
{
    let mut extra = Extra::new();
    let value = known(KeepUnknown { inner: deserializer, extra: &mut extra })?;
    Ok((value, extra))
}

/// Implements `Serialize` and `Deserialize` for model structs declared with
/// `#[derive(Serialize, Deserialize)] #[serde(remote = "Self")]` and an
/// `#[serde(flatten, skip_deserializing)] extra: Extra` field: the derived code does the
/// known fields, [`deserialize_keeping_unknown`] fills `extra`.
macro_rules! keep_unknown_fields {
    ($($ty:ident),* $(,)?) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                // The inherent function derived with `remote = "Self"`.
                $ty::serialize(self, serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let (mut value, extra) =
                    $crate::model::extra::deserialize_keeping_unknown(deserializer, |known| $ty::deserialize(known))?;
                value.extra = extra;
                Ok(value)
            }
        }
    )*};
}
pub(crate) use keep_unknown_fields;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Transaction;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    fn with_unknown(value: &str) -> String {
        format!(r#"{{"mchid":"1","out_trade_no":"o","trade_state":"SUCCESS","trade_state_desc":"d","deep":{value}}}"#)
    }

    #[test]
    fn unknown_values_nest_at_most_128_levels() {
        let ok: Transaction = serde_json::from_str(&with_unknown(&nested(128))).unwrap();
        assert_eq!(ok.extra.get("deep").map(RawValue::get), Some(nested(128).as_str()), "kept byte for byte");
        let objects = format!("{}1{}", r#"{"a":"#.repeat(128), "}".repeat(128));
        assert!(serde_json::from_str::<Transaction>(&with_unknown(&objects)).is_ok());

        for levels in [129, 130, 10_000, 100_000] {
            let err = serde_json::from_str::<Transaction>(&with_unknown(&nested(levels))).unwrap_err();
            assert!(err.to_string().contains("nested deeper than 128 levels"), "{levels}: {err}");
        }
        let objects = format!("{}1{}", r#"{"a":"#.repeat(129), "}".repeat(129));
        assert!(serde_json::from_str::<Transaction>(&with_unknown(&objects)).is_err());
        // Brackets inside strings are text, not nesting.
        let text = format!(r#""{}\"{}""#, "[".repeat(500), "{".repeat(500));
        let t: Transaction = serde_json::from_str(&with_unknown(&text)).unwrap();
        assert_eq!(t.extra.get("deep").map(RawValue::get), Some(text.as_str()));
    }
}
