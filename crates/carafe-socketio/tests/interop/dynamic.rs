//! `Dyn`: any Socket.IO argument, binary included, kept as received so the contract's
//! `echo` can send it back unchanged (object keys in their order); `Spread`: several
//! arguments sent as several.

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};

/// One argument: JSON, with byte strings where the packet had attachments.
#[derive(Debug, Clone, PartialEq)]
pub enum Dyn {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Bytes(Bytes),
    Array(Vec<Dyn>),
    Object(Vec<(String, Dyn)>),
}

impl Serialize for Dyn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Dyn::Null => serializer.serialize_unit(),
            Dyn::Bool(value) => serializer.serialize_bool(*value),
            Dyn::Number(value) => value.serialize(serializer),
            Dyn::String(value) => serializer.serialize_str(value),
            Dyn::Bytes(value) => serializer.serialize_bytes(value),
            Dyn::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Dyn::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

struct DynVisitor;

impl<'de> Visitor<'de> for DynVisitor {
    type Value = Dyn;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any Socket.IO argument")
    }
    fn visit_unit<E>(self) -> Result<Dyn, E> {
        Ok(Dyn::Null)
    }
    fn visit_none<E>(self) -> Result<Dyn, E> {
        Ok(Dyn::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Dyn, D::Error> {
        Dyn::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Dyn, E> {
        Ok(Dyn::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Dyn, E> {
        Ok(Dyn::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Dyn, E> {
        Ok(Dyn::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dyn, E> {
        serde_json::Number::from_f64(v)
            .map(Dyn::Number)
            .ok_or_else(|| E::custom("a number JSON cannot hold"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Dyn, E> {
        Ok(Dyn::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Dyn, E> {
        Ok(Dyn::String(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Dyn, E> {
        Ok(Dyn::Bytes(Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Dyn, E> {
        Ok(Dyn::Bytes(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dyn, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Dyn::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dyn, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Dyn>()? {
            entries.push((key, value));
        }
        Ok(Dyn::Object(entries))
    }
}

impl<'de> Deserialize<'de> for Dyn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dyn, D::Error> {
        deserializer.deserialize_any(DynVisitor)
    }
}

/// Several arguments, sent as several (a tuple to the encoder); none sends none.
#[derive(Debug, Clone)]
pub struct Spread(pub Vec<Dyn>);

impl Serialize for Spread {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return serializer.serialize_unit();
        }
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for item in &self.0 {
            tuple.serialize_element(item)?;
        }
        tuple.end()
    }
}
