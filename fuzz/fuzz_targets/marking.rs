//! Markings: any text either is refused or reads as a label that survives every form.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(label) = entente_labels::parse_marking(entente_fuzz::policies(), text) {
        entente_fuzz::check_round_trips(&label);
    }
});
