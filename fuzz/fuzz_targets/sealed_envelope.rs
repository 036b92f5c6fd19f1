//! The sealed-envelope parser and opener on arbitrary bytes: never a panic, and whatever opens
//! carries a binding that verified under the configured key.
#![no_main]

use entente_seal::{open, NodeIdentity, Sealed, Signers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (Ok(usa), Ok(fra)) = ("USA".parse(), "FRA".parse()) else {
        return;
    };
    let Ok(me) = NodeIdentity::from_secrets(usa, &[7; 32], &[9; 32]) else {
        return;
    };
    let Ok(origin) = NodeIdentity::from_secrets(fra, &[1; 32], &[2; 32]) else {
        return;
    };
    let mut signers = Signers::new();
    signers.insert(fra, origin.public().signing);
    if let Ok(sealed) = Sealed::from_json(data) {
        if let Ok(payload) = open(&me, &signers, &sealed) {
            assert_eq!(payload.binding().object_id, sealed.object_id);
            assert!(payload.verify(&signers).is_ok());
        }
    }
});
