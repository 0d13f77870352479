//! Binary attachments: placeholders out (a serde_json `Formatter` that turns every byte
//! string into `{"_placeholder":true,"num":N}`) and bytes back in (a `Deserializer` over
//! a JSON value that yields attachment `N` wherever that placeholder stands).

use std::io;

use bytes::Bytes;
use serde::de::value::SeqDeserializer;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

use super::ParseError;

/// Writes compact JSON, moving every byte string into `attachments`.
pub(super) struct PlaceholderFormatter<'a> {
    /// Where the bytes go, in placeholder order.
    pub(super) attachments: &'a mut Vec<Bytes>,
}

impl serde_json::ser::Formatter for PlaceholderFormatter<'_> {
    fn write_byte_array<W>(&mut self, writer: &mut W, value: &[u8]) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let num = self.attachments.len();
        self.attachments.push(Bytes::copy_from_slice(value));
        write!(writer, "{{\"_placeholder\":true,\"num\":{num}}}")
    }
}

/// The attachment number of `value` if it is a placeholder object
/// (`_placeholder: true`); `Err` when it claims to be one but its `num` is not an index
/// below `count`.
fn placeholder_num(map: &Map<String, Value>, count: usize) -> Result<Option<usize>, ParseError> {
    if map.get("_placeholder") != Some(&Value::Bool(true)) {
        return Ok(None);
    }
    let num = map.get("num").and_then(Value::as_u64);
    match num.and_then(|num| usize::try_from(num).ok()) {
        Some(num) if num < count => Ok(Some(num)),
        _ => Err(ParseError::BadPlaceholder),
    }
}

/// Checks every placeholder in a binary packet's JSON against its attachment count.
pub(super) fn check_placeholders(json: &[u8], count: usize) -> Result<(), ParseError> {
    let value: Value =
        serde_json::from_slice(json).map_err(|_| ParseError::InvalidPayload("not json"))?;
    check_value(&value, count)
}

fn check_value(value: &Value, count: usize) -> Result<(), ParseError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|item| check_value(item, count)),
        Value::Object(map) => match placeholder_num(map, count)? {
            Some(_) => Ok(()),
            None => map.values().try_for_each(|item| check_value(item, count)),
        },
        _ => Ok(()),
    }
}

/// Deserializes `T` from `value`, placeholders replaced by their attachments.
pub(super) fn from_value<T: DeserializeOwned>(
    value: &Value,
    attachments: &[Bytes],
) -> Result<T, serde_json::Error> {
    T::deserialize(WithAttachments { value, attachments })
}

/// Like [`from_value`], also telling where in `value` deserialization failed.
pub(super) fn from_value_with_path<T: DeserializeOwned>(
    value: &Value,
    attachments: &[Bytes],
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(WithAttachments { value, attachments })
}

/// A deserializer over a borrowed JSON value that knows the packet's attachments.
struct WithAttachments<'a> {
    value: &'a Value,
    attachments: &'a [Bytes],
}

impl<'a> WithAttachments<'a> {
    /// The attachment this value stands for, if it is a valid placeholder.
    fn attachment(&self) -> Option<&'a Bytes> {
        let Value::Object(map) = self.value else {
            return None;
        };
        let num = placeholder_num(map, self.attachments.len()).ok()??;
        self.attachments.get(num)
    }
}

impl<'de> de::Deserializer<'de> for WithAttachments<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let Some(bytes) = self.attachment() {
            return visitor.visit_borrowed_bytes(bytes);
        }
        match self.value {
            Value::Array(items) => {
                let attachments = self.attachments;
                let items = items
                    .iter()
                    .map(move |value| WithAttachments { value, attachments });
                let mut seq = SeqDeserializer::new(items);
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Object(map) => {
                let attachments = self.attachments;
                let entries = map.iter().map(move |(key, value)| {
                    (key.as_str(), WithAttachments { value, attachments })
                });
                let mut access = de::value::MapDeserializer::new(entries);
                let value = visitor.visit_map(&mut access)?;
                access.end()?;
                Ok(value)
            }
            other => de::Deserializer::deserialize_any(other, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        // `Vec<u8>` asks for a sequence: give it the attachment's bytes one by one.
        match self.attachment() {
            Some(bytes) => {
                let mut seq = SeqDeserializer::new(bytes.iter().copied());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        // Enum variants are read by serde_json itself: placeholders inside an externally
        // tagged variant stay objects.
        de::Deserializer::deserialize_enum(self.value, name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct tuple tuple_struct map struct identifier
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for WithAttachments<'de> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct File {
        name: String,
        data: Bytes,
        copy: Vec<u8>,
        maybe: Option<Bytes>,
    }

    #[test]
    fn placeholders_become_bytes_for_bytes_vec_and_option_fields() {
        let value = serde_json::json!({
            "name": "a",
            "data": {"_placeholder": true, "num": 1},
            "copy": {"_placeholder": true, "num": 0},
            "maybe": {"_placeholder": true, "num": 0},
        });
        let attachments = [Bytes::from_static(b"zero"), Bytes::from_static(b"one")];
        let file: File = from_value(&value, &attachments).unwrap();
        assert_eq!(
            file,
            File {
                name: "a".into(),
                data: Bytes::from_static(b"one"),
                copy: b"zero".to_vec(),
                maybe: Some(Bytes::from_static(b"zero")),
            }
        );
    }

    #[test]
    fn placeholder_checks_reject_out_of_range_and_malformed_numbers() {
        assert!(check_placeholders(br#"[{"_placeholder":true,"num":0}]"#, 1).is_ok());
        for json in [
            r#"[{"_placeholder":true,"num":1}]"#,
            r#"[{"_placeholder":true,"num":-1}]"#,
            r#"[{"_placeholder":true,"num":"0"}]"#,
            r#"[{"_placeholder":true}]"#,
            r#"{"a":[{"_placeholder":true,"num":0.5}]}"#,
        ] {
            assert_eq!(
                check_placeholders(json.as_bytes(), 1),
                Err(ParseError::BadPlaceholder),
                "{json}"
            );
        }
        // Not a placeholder: `_placeholder` is not `true`.
        assert!(check_placeholders(br#"[{"_placeholder":1,"num":9}]"#, 1).is_ok());
    }
}
