//! The JSON form: any bytes either are refused or read as a label that survives every form.
//!
//! A marking definition's id is derived from its label, so a mutated input almost never keeps a
//! matching id and would stop at the id check. When the id is the only thing wrong, the target
//! also reads the input again with the expected id, so the round-trip checks are reached.
#![no_main]

use entente_labels::stix;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(mut value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let policies = entente_fuzz::policies();
    match stix::from_marking_definition(policies, &value) {
        Ok(label) => entente_fuzz::check_round_trips(&label),
        Err(e) if e.context() == "$.id" => {
            let message = e.to_string();
            let Some(expected) = message
                .rsplit_once("(expected ")
                .and_then(|(_, rest)| rest.strip_suffix(')'))
            else {
                return;
            };
            value["id"] = Value::String(expected.to_owned());
            let label = stix::from_marking_definition(policies, &value)
                .unwrap_or_else(|e| panic!("refused with the expected id: {e}"));
            entente_fuzz::check_round_trips(&label);
        }
        Err(_) => {}
    }
});
