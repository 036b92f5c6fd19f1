//! The JSON form: any bytes either are refused or read as a label that survives every form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(label) = entente_labels::stix::from_marking_definition(entente_fuzz::policies(), &value) {
        entente_fuzz::check_round_trips(&label);
    }
});
