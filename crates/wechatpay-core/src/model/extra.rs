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
//! them (and where `RawValue` cannot be read at all). Instead each struct reads its body as a
//! map of raw values, hands the fields it knows to its derived deserializer and keeps the
//! rest ([`keep_unknown_fields`]). Duplicate keys are an error. Whitespace between tokens is
//! dropped (the text stays on one line; strings and numbers are untouched).
//!
//! Reading a model therefore needs a `serde_json` deserializer (`from_slice`, `from_str`,
//! `from_reader`, `from_value`); other formats cannot produce raw JSON values.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::MapDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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

/// A JSON object read as raw values; a repeated key is an error.
struct RawObject(BTreeMap<String, Box<RawValue>>);

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawObject, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    if out.contains_key(&k) {
                        return Err(de::Error::custom(format_args!("duplicate field `{k}`")));
                    }
                    out.insert(k, v);
                }
                Ok(RawObject(out))
            }
        }
        deserializer.deserialize_map(V)
    }
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

/// Feeds the fields a derived struct deserializer names to it, and keeps the others.
pub(crate) struct KnownFields<'a> {
    object: &'a RawObject,
    unknown: &'a mut Extra,
}

impl<'a> KnownFields<'a> {
    fn visit<V: Visitor<'a>>(self, known: &[&str], all: bool, visitor: V) -> Result<V::Value, serde_json::Error> {
        let mut entries = Vec::with_capacity(self.object.0.len());
        for (k, v) in &self.object.0 {
            if all || known.contains(&k.as_str()) {
                entries.push((k.as_str(), &**v));
            } else {
                // Only what is kept is compacted: known fields are parsed again anyway.
                self.unknown.insert(k.clone(), compact(v.clone()));
            }
        }
        let mut map = MapDeserializer::new(entries.into_iter());
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }
}

impl<'a> Deserializer<'a> for KnownFields<'a> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.visit(&[], true, visitor)
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.visit(fields, false, visitor)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// Reads a struct whose derived deserializer is `known` (a `#[serde(remote = "Self")]`
/// inherent function) and returns it with the fields it did not name.
pub(crate) fn deserialize_keeping_unknown<'de, D, T>(
    deserializer: D,
    known: impl for<'a> FnOnce(KnownFields<'a>) -> Result<T, serde_json::Error>,
) -> Result<(T, Extra), D::Error>
where
    D: Deserializer<'de>,
{
    let object = RawObject::deserialize(deserializer)?;
    let mut unknown = Extra::new();
    let value = known(KnownFields { object: &object, unknown: &mut unknown }).map_err(de::Error::custom)?;
    Ok((value, unknown))
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
