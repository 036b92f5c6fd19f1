//! Scenario files: any text either is refused with located diagnostics or yields a scenario that
//! simulates without panicking.
#![no_main]

use std::path::Path;

use entente_exercise::{NoOutputs, Scenario, Simulation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(Path::new("fuzz.toml"), text) {
        Err(e) => {
            let lines = text.lines().count().max(1) + 1;
            assert!(!e.diagnostics().is_empty(), "a refusal says why");
            for d in e.diagnostics() {
                assert!(d.line >= 1 && d.line <= lines, "{d} outside the text");
            }
        }
        Ok(s) => {
            // A bounded number of steps: a valid scenario may last for hours.
            let mut sim = Simulation::new(&s, s.epoch, false);
            for _ in 0..200 {
                if sim.finished() {
                    break;
                }
                sim.step(&mut NoOutputs).expect("a valid scenario simulates");
            }
        }
    }
});
