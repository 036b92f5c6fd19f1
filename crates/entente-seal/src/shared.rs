//! Marking definitions written once. Every object of a page, and every envelope of a batch,
//! carries the same few marking definitions; their canonical bytes go into each binding's digest
//! and each plaintext. [`Canonical`] keeps a value with its canonical bytes, so they are written
//! (and, at the receiver, parsed) once per page or share instead of once per object, and
//! [`CanonicalMemo`] finds the one already made.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::canonical::{canonical_value, write_canonical};

/// A JSON value and its canonical bytes ([`canonical_value`]), both shared.
#[derive(Debug, Clone)]
pub struct Canonical {
    value: Arc<Value>,
    bytes: Arc<[u8]>,
}

impl Canonical {
    /// Writes the canonical bytes of `value`.
    pub fn new(value: Arc<Value>) -> Canonical {
        let bytes = canonical_value(&value).into();
        Canonical { value, bytes }
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The value, shared.
    pub fn shared(&self) -> &Arc<Value> {
        &self.value
    }

    /// Its canonical bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its canonical bytes, shared.
    pub fn shared_bytes(&self) -> &Arc<[u8]> {
        &self.bytes
    }
}

impl From<Value> for Canonical {
    fn from(value: Value) -> Canonical {
        Canonical::new(Arc::new(value))
    }
}

/// Equal when the canonical bytes are: the same JSON value.
impl PartialEq for Canonical {
    fn eq(&self, other: &Canonical) -> bool {
        self.bytes == other.bytes
    }
}

impl Serialize for Canonical {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Canonical {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Canonical, D::Error> {
        Value::deserialize(d).map(Canonical::from)
    }
}

/// What a digest or a plaintext is written from: a JSON value whose canonical bytes are appended
/// to the output, written on the spot or copied when already written.
pub trait WriteCanonical {
    fn json(&self) -> &Value;
    fn write_canonical_to(&self, out: &mut Vec<u8>);
}

impl<T: Borrow<Value>> WriteCanonical for T {
    fn json(&self) -> &Value {
        self.borrow()
    }

    fn write_canonical_to(&self, out: &mut Vec<u8>) {
        write_canonical(self.borrow(), out)
    }
}

impl WriteCanonical for Canonical {
    fn json(&self) -> &Value {
        &self.value
    }

    fn write_canonical_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes)
    }
}

/// The [`Canonical`] values made so far for a page or a share: by the shared value they were
/// made from (the sender's marking definitions are shared by the policy's label cache), or by
/// the text they were parsed from (the receiver's come inside each envelope).
#[derive(Debug, Default)]
pub struct CanonicalMemo {
    /// By the address of the shared value: the `Canonical` kept with it keeps the value alive,
    /// so the address is not reused while the memo holds it.
    by_value: HashMap<usize, Canonical>,
    by_text: HashMap<Box<str>, Canonical>,
}

impl CanonicalMemo {
    /// The canonical form of a shared value: written the first time the value is seen.
    pub fn of_shared(&mut self, value: &Arc<Value>) -> Canonical {
        self.by_value
            .entry(Arc::as_ptr(value) as usize)
            .or_insert_with(|| Canonical::new(value.clone()))
            .clone()
    }

    /// The value of a JSON text and its canonical form: parsed the first time the text is seen.
    pub fn of_text(&mut self, text: &RawValue) -> Result<Canonical, serde_json::Error> {
        if let Some(known) = self.by_text.get(text.get()) {
            return Ok(known.clone());
        }
        let made = Canonical::from(serde_json::from_str::<Value>(text.get())?);
        self.by_text.insert(text.get().into(), made.clone());
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_memo_gives_what_each_value_alone_gives() {
        let a = Arc::new(json!({"b": 1, "a": [true, "x\u{1}"]}));
        let b = Arc::new(json!({"a": 2}));
        let mut memo = CanonicalMemo::default();
        for v in [&a, &b, &a, &b] {
            let c = memo.of_shared(v);
            assert_eq!(c.bytes(), canonical_value(v).as_slice());
            assert!(Arc::ptr_eq(c.shared(), v));
        }
        // The same value in another allocation is made again, equal.
        let a2 = Arc::new((*a).clone());
        assert_eq!(memo.of_shared(&a2), memo.of_shared(&a));
        assert!(Arc::ptr_eq(memo.of_shared(&a2).shared(), &a2));
    }

    #[test]
    fn texts_are_parsed_once_and_keep_their_last_member() {
        let mut memo = CanonicalMemo::default();
        let text = RawValue::from_string(r#"{"z": 1, "a": "b", "z": 2}"#.into()).unwrap();
        let first = memo.of_text(&text).unwrap();
        let again = memo.of_text(&text).unwrap();
        assert!(Arc::ptr_eq(first.shared(), again.shared()));
        assert_eq!(first.bytes(), br#"{"a":"b","z":2}"#);
        assert_eq!(first.value(), &json!({"a": "b", "z": 2}));
    }

    #[test]
    fn written_or_copied_the_bytes_are_the_same() {
        let v = json!({"name": "NATO SECRET", "n": 1.5e3, "list": [{"y": null, "x": false}]});
        let (mut direct, mut copied) = (Vec::new(), Vec::new());
        v.write_canonical_to(&mut direct);
        Canonical::from(v.clone()).write_canonical_to(&mut copied);
        assert_eq!(direct, copied);
        let round: Canonical = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&round).unwrap(), v);
    }
}
