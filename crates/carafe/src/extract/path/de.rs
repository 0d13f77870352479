//! A serde `Deserializer` over a request's path parameters.
//!
//! [`ParamsDeserializer`] presents all the parameters: as a map or struct by name, as a
//! sequence or tuple in rule order, or, when there is exactly one, as that value.
//! [`ValueDeserializer`] presents one parameter: typed by its converter when the target
//! accepts anything, parsed from its text when the target asks for a type.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use http::StatusCode;
use percent_encoding::percent_decode_str;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::error::HttpError;
use crate::routing::{Converter, Params};

/// Deserializes `T` from `params`.
pub(super) fn from_params<T: de::DeserializeOwned>(params: Params<'_>) -> Result<T, PathError> {
    T::deserialize(ParamsDeserializer { params })
}

/// Why path parameters did not deserialize.
#[derive(Debug)]
pub(super) struct PathError {
    /// Whose fault it is.
    kind: Fault,
    /// What went wrong.
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// A value does not parse: the client's (`400`).
    Client,
    /// The handler's type does not fit the rule: the program's (`500`).
    Program,
}

impl PathError {
    fn program(message: String) -> Self {
        PathError {
            kind: Fault::Program,
            message,
        }
    }

    fn client(message: String) -> Self {
        PathError {
            kind: Fault::Client,
            message,
        }
    }

    /// The answer to the request.
    pub(super) fn into_http_error(self) -> HttpError {
        match self.kind {
            Fault::Client => HttpError::new(StatusCode::BAD_REQUEST, self.message),
            Fault::Program => HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "the Path extractor's type does not fit the rule: {}",
                    self.message
                ),
            ),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PathError {}

impl de::Error for PathError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        PathError::client(format!("invalid path parameters: {msg}"))
    }

    fn missing_field(field: &'static str) -> Self {
        PathError::program(format!("the rule has no placeholder `{field}`"))
    }
}

/// All the parameters.
struct ParamsDeserializer<'de> {
    params: Params<'de>,
}

impl<'de> ParamsDeserializer<'de> {
    /// The only parameter, for a target that is a single value.
    fn single(&self) -> Result<ValueDeserializer<'de>, PathError> {
        let mut entries = self.params.raw_entries();
        match (entries.next(), entries.next()) {
            (Some(entry), None) => Ok(ValueDeserializer::new(entry)),
            _ => Err(PathError::program(format!(
                "a single value needs a rule with 1 placeholder, and this one has {}; \
                 use a tuple or a struct",
                self.params.len()
            ))),
        }
    }
}

impl<'de> de::Deserializer<'de> for ParamsDeserializer<'de> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        if self.params.len() == 1 {
            return self.single()?.deserialize_any(visitor);
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_map(ParamMap {
            entries: self.params.raw_entries(),
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_seq(ParamSeq {
            entries: self.params.raw_entries(),
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        if len != self.params.len() {
            return Err(PathError::program(format!(
                "a tuple of {len} needs a rule with {len} placeholders, and this one has {}",
                self.params.len()
            )));
        }
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_option(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_bool(visitor)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_i8(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_i16(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_i32(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_i64(visitor)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_i128(visitor)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_u8(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_u16(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_u32(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_u64(visitor)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_u128(visitor)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_f32(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_f64(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_char(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_str(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_byte_buf(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.single()?.deserialize_identifier(visitor)
    }
}

/// One parameter, as `(name, converter, raw text)` from [`Params::raw_entries`].
type Entry<'de> = (&'static str, Converter, &'de str);

/// The parameters by name.
struct ParamMap<'de, I> {
    entries: I,
    /// The value of the key handed out last.
    value: Option<ValueDeserializer<'de>>,
}

impl<'de, I: Iterator<Item = Entry<'de>>> de::MapAccess<'de> for ParamMap<'de, I> {
    type Error = PathError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, PathError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(ValueDeserializer::new(entry));
        seed.deserialize(entry.0.into_deserializer()).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, PathError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            // serde asks for a value only after a key; a visitor that does not is broken.
            None => Err(PathError::program(
                "a value was asked for before its name".to_owned(),
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.size_hint().1
    }
}

/// The parameters in rule order.
struct ParamSeq<I> {
    entries: I,
}

impl<'de, I: Iterator<Item = Entry<'de>>> de::SeqAccess<'de> for ParamSeq<I> {
    type Error = PathError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, PathError> {
        self.entries
            .next()
            .map(|entry| seed.deserialize(ValueDeserializer::new(entry)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        self.entries.size_hint().1
    }
}

/// One parameter.
#[derive(Clone, Copy)]
struct ValueDeserializer<'de> {
    name: &'static str,
    converter: Converter,
    raw: &'de str,
}

impl<'de> ValueDeserializer<'de> {
    fn new((name, converter, raw): Entry<'de>) -> Self {
        ValueDeserializer {
            name,
            converter,
            raw,
        }
    }

    /// The percent-decoded text.
    fn text(&self) -> Result<Cow<'de, str>, PathError> {
        percent_decode_str(self.raw).decode_utf8().map_err(|_| {
            PathError::client(format!(
                "path parameter `{}` is not valid UTF-8 once percent-decoded",
                self.name
            ))
        })
    }

    /// The text parsed as a `T`, named `what` in the error.
    fn parse<T: FromStr>(&self, what: &str) -> Result<T, PathError> {
        let text = self.text()?;
        text.parse().map_err(|_| {
            PathError::client(format!(
                "path parameter `{}`: cannot parse `{text}` as {what}",
                self.name
            ))
        })
    }

    fn visit_text<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.text()? {
            Cow::Borrowed(text) => visitor.visit_borrowed_str(text),
            Cow::Owned(text) => visitor.visit_string(text),
        }
    }

    fn not_a_value(&self, what: &str) -> PathError {
        PathError::program(format!(
            "path parameter `{}` is one value and cannot be deserialized into {what}",
            self.name
        ))
    }
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'de> {
    type Error = PathError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.converter {
            Converter::Int(args) if args.signed => visitor.visit_i64(self.parse("an integer")?),
            Converter::Int(_) => visitor.visit_u64(self.parse("an unsigned integer")?),
            Converter::Float(_) => visitor.visit_f64(self.parse("a number")?),
            Converter::String(_) | Converter::Path | Converter::Uuid | Converter::Any(_) => {
                self.visit_text(visitor)
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_bool(self.parse("a boolean (`true` or `false`)")?)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_i8(self.parse("i8")?)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_i16(self.parse("i16")?)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_i32(self.parse("i32")?)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_i64(self.parse("i64")?)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_i128(self.parse("i128")?)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_u8(self.parse("u8")?)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_u16(self.parse("u16")?)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_u32(self.parse("u32")?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_u64(self.parse("u64")?)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_u128(self.parse("u128")?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_f32(self.parse("f32")?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_f64(self.parse("f64")?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_char(self.parse("a single character")?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.visit_text(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.visit_text(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.visit_text(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        match self.text()? {
            Cow::Borrowed(text) => visitor.visit_borrowed_bytes(text.as_bytes()),
            Cow::Owned(text) => visitor.visit_byte_buf(text.into_bytes()),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, PathError> {
        visitor.visit_enum(self.text()?.into_deserializer())
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PathError> {
        visitor.visit_unit()
    }

    fn deserialize_seq<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, PathError> {
        Err(self.not_a_value("a sequence"))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.not_a_value("a tuple"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.not_a_value("a tuple struct"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, PathError> {
        Err(self.not_a_value("a map"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, PathError> {
        Err(self.not_a_value("a struct"))
    }
}
