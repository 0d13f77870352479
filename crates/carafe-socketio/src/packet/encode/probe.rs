//! Which shape a payload serializes as, found by a serializer that stops at the first call:
//! a tuple is spread into several arguments, `()` is none, anything else is one.

use std::fmt;

use serde::ser::{self, Impossible, Serialize, Serializer};

/// The top-level shape of a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `()`: no arguments.
    Unit,
    /// A tuple: one argument per element.
    Tuple,
    /// Anything else: one argument.
    Other,
}

/// The probe's only "error": the shape it found.
#[derive(Debug)]
struct Found(Shape);

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Found(Shape::Other)
    }
}

/// The shape of `value`, without serializing it.
pub(super) fn shape<T: Serialize + ?Sized>(value: &T) -> Shape {
    match value.serialize(Probe) {
        Ok(never) => match never {},
        Err(Found(shape)) => shape,
    }
}

/// Answers every call with the shape it stands for.
struct Probe;

/// An uninhabited output: the probe never succeeds.
enum Never {}

type Compound = Impossible<Never, Found>;

fn other<T>() -> Result<T, Found> {
    Err(Found(Shape::Other))
}

impl Serializer for Probe {
    type Ok = Never;
    type Error = Found;
    type SerializeSeq = Compound;
    type SerializeTuple = Compound;
    type SerializeTupleStruct = Compound;
    type SerializeTupleVariant = Compound;
    type SerializeMap = Compound;
    type SerializeStruct = Compound;
    type SerializeStructVariant = Compound;

    fn serialize_unit(self) -> Result<Never, Found> {
        Err(Found(Shape::Unit))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound, Found> {
        Err(Found(Shape::Tuple))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Never, Found> {
        // A newtype serializes as what it wraps (serde_json writes no wrapper).
        value.serialize(Probe)
    }

    fn serialize_bool(self, _v: bool) -> Result<Never, Found> {
        other()
    }
    fn serialize_i8(self, _v: i8) -> Result<Never, Found> {
        other()
    }
    fn serialize_i16(self, _v: i16) -> Result<Never, Found> {
        other()
    }
    fn serialize_i32(self, _v: i32) -> Result<Never, Found> {
        other()
    }
    fn serialize_i64(self, _v: i64) -> Result<Never, Found> {
        other()
    }
    fn serialize_u8(self, _v: u8) -> Result<Never, Found> {
        other()
    }
    fn serialize_u16(self, _v: u16) -> Result<Never, Found> {
        other()
    }
    fn serialize_u32(self, _v: u32) -> Result<Never, Found> {
        other()
    }
    fn serialize_u64(self, _v: u64) -> Result<Never, Found> {
        other()
    }
    fn serialize_f32(self, _v: f32) -> Result<Never, Found> {
        other()
    }
    fn serialize_f64(self, _v: f64) -> Result<Never, Found> {
        other()
    }
    fn serialize_char(self, _v: char) -> Result<Never, Found> {
        other()
    }
    fn serialize_str(self, _v: &str) -> Result<Never, Found> {
        other()
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<Never, Found> {
        other()
    }
    fn serialize_none(self) -> Result<Never, Found> {
        other()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<Never, Found> {
        other()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Never, Found> {
        other()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
    ) -> Result<Never, Found> {
        other()
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Never, Found> {
        other()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound, Found> {
        other()
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Compound, Found> {
        other()
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound, Found> {
        other()
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound, Found> {
        other()
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound, Found> {
        other()
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Compound, Found> {
        other()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn tuples_spread_unit_is_empty_everything_else_is_one_argument() {
        assert_eq!(shape(&()), Shape::Unit);
        assert_eq!(shape(&(1, "a")), Shape::Tuple);
        assert_eq!(shape(&(1,)), Shape::Tuple);
        assert_eq!(shape(&[1, 2]), Shape::Tuple); // arrays of fixed size are serde tuples
        assert_eq!(shape(&vec![1, 2]), Shape::Other);
        assert_eq!(shape("a"), Shape::Other);
        assert_eq!(shape(&serde_json::json!([1, 2])), Shape::Other);
    }
}
