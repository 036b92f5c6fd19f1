//! Proof documents: any bytes are refused or read into a document that writes back equal, and
//! verifying it never panics.
#![no_main]

use entente_audit::{ConsistencyProof, InclusionProof};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = InclusionProof::from_json(data) {
        let again = InclusionProof::from_json(proof.to_json().as_bytes());
        assert_eq!(again.ok().as_ref(), Some(&proof));
        let root = proof.root;
        // The document's own root is untrusted input too: verifying against it must not panic.
        let _ = proof.verify(&root);
        let _ = proof.verify(&[0u8; 32]);
    }
    if let Ok(proof) = ConsistencyProof::from_json(data) {
        let again = ConsistencyProof::from_json(proof.to_json().as_bytes());
        assert_eq!(again.ok().as_ref(), Some(&proof));
        let _ = entente_audit::verify_consistency(
            proof.first,
            proof.second,
            &proof.first_root,
            &proof.second_root,
            &proof.hashes,
        );
    }
});
