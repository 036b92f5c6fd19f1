//! Scenario files: any text either is refused with located diagnostics (its labels checked against
//! the shipped policies and registry) or yields a scenario that simulates without panicking.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use entente_exercise::{NoOutputs, Releases, Scenario, Simulation};
use entente_policy::ReleasePolicy;
use libfuzzer_sys::fuzz_target;

/// The release policy of the shipped registry and policies, loaded once.
fn policy() -> &'static ReleasePolicy {
    static POLICY: OnceLock<ReleasePolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let registry = entente_registry::Registry::load(&data.join("registry"))
            .expect("the shipped registry loads");
        let policies = entente_labels::PolicySet::load(&data.join("policies"))
            .expect("the shipped policies load");
        ReleasePolicy::new(&registry, policies)
    })
}

fn assert_located(e: &entente_exercise::Error, text: &str) {
    let lines = text.lines().count().max(1) + 1;
    assert!(!e.diagnostics().is_empty(), "a refusal says why");
    for d in e.diagnostics() {
        assert!(d.line >= 1 && d.line <= lines, "{d} outside the text");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::parse(Path::new("fuzz.toml"), text) {
        Err(e) => assert_located(&e, text),
        Ok(s) => {
            let releases = match Releases::prepare(policy(), &s, s.epoch) {
                Ok(r) => r,
                Err(e) => return assert_located(&e, text),
            };
            // A bounded number of steps: a valid scenario may last for hours.
            let mut sim = Simulation::new(&s, s.epoch, false, &releases);
            for _ in 0..200 {
                if sim.finished() {
                    break;
                }
                sim.step(&mut NoOutputs)
                    .expect("a valid scenario simulates");
            }
        }
    }
});
