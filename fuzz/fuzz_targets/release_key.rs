//! The scanner that reads a stored object's markings in place (`entente-node`'s read path) held
//! to `serde_json` on arbitrary text: wherever the text is valid JSON, the members it finds and
//! the release key it reads are the parser's (`entente_node::scan::scanner_agrees`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(
            entente_node::scan::scanner_agrees(text),
            "the scanner and the parser disagree on {text:?}"
        );
    }
});
