//! Shared by the fuzz targets: the shipped policies, embedded so a target needs no files, and the
//! round-trip checks every parsed label must pass.
//!
//! A label read from any form must be written to every form and read back unchanged: the XML and
//! JSON forms carry the whole label; the marking carries all but the originator and the times.
//! Any difference, error or panic is a crash for libFuzzer.

use std::sync::OnceLock;

use entente_labels::{parse_marking, render_marking, stix, xml, Label, PolicySet};

const POLICIES: [(&str, &str); 6] = [
    ("deu.toml", include_str!("../../data/policies/deu.toml")),
    ("eu.toml", include_str!("../../data/policies/eu.toml")),
    ("fra.toml", include_str!("../../data/policies/fra.toml")),
    ("gbr.toml", include_str!("../../data/policies/gbr.toml")),
    ("nato.toml", include_str!("../../data/policies/nato.toml")),
    ("usa.toml", include_str!("../../data/policies/usa.toml")),
];

/// A fixed audit-log verifier (`entente.audit/FRA`, the key of seed 1) for the signed-note target.
pub fn verifier() -> &'static entente_audit::NoteVerifier {
    static VERIFIER: OnceLock<entente_audit::NoteVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let key = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        entente_audit::NoteVerifier::new("FRA", key.verifying_key())
    })
}

/// The shipped policies.
pub fn policies() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        let files = POLICIES
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        match PolicySet::from_texts(files) {
            Ok(set) => set,
            Err(e) => panic!("the shipped policies do not load: {e}"),
        }
    })
}

/// Checks that `label` survives every form. Panics (a libFuzzer crash) when it does not.
pub fn check_round_trips(label: &Label) {
    let p = policies();

    let marking = render_marking(p, label).unwrap_or_else(|e| panic!("render_marking: {e}"));
    let from_marking =
        parse_marking(p, &marking).unwrap_or_else(|e| panic!("marking {marking:?} does not parse back: {e}"));
    assert!(
        same_categories(&from_marking, label),
        "marking {marking:?} reads back as {from_marking:?}, not {label:?}"
    );
    assert_eq!(render_marking(p, &from_marking).ok().as_deref(), Some(marking.as_str()));

    let md = stix::to_marking_definition(p, label).unwrap_or_else(|e| panic!("to_marking_definition: {e}"));
    let text = md.to_string();
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("written JSON does not parse: {e}"));
    let from_json = stix::from_marking_definition(p, &value)
        .unwrap_or_else(|e| panic!("JSON {text} does not read back: {e}"));
    assert_eq!(&from_json, label, "JSON {text}");

    let document = xml::to_xml(p, label).unwrap_or_else(|e| panic!("to_xml: {e}"));
    let from_xml =
        xml::from_xml(p, &document).unwrap_or_else(|e| panic!("XML does not read back: {e}\n{document}"));
    assert_eq!(&from_xml, label, "XML {document}");
}

/// Equal but for the originator and times, which a marking does not carry.
fn same_categories(a: &Label, b: &Label) -> bool {
    a.policy() == b.policy()
        && a.classification() == b.classification()
        && a.rank() == b.rank()
        && a.releasable_to() == b.releasable_to()
        && a.caveats() == b.caveats()
        && a.contexts() == b.contexts()
}
