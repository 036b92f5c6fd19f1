//! The sealed-batch parser and opener (format 2, what the federation inbox reads) on arbitrary
//! bytes: never a panic, and whatever opens carries a binding that verified under the
//! configured key, for the object and version its clear header names.
#![no_main]

use entente_seal::{BatchOpener, NodeIdentity, Payload, SealedBatch, Signers};
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
    let Ok(batch) = serde_json::from_slice::<SealedBatch>(data) else {
        return;
    };
    let Ok(opener) = BatchOpener::new(&me, &batch) else {
        return;
    };
    for (i, item) in batch.envelopes.iter().enumerate() {
        if let Ok(opened) = opener.open(&signers, i as u64, item) {
            assert_eq!(opened.payload.binding().object_id, item.object_id);
            assert!(opened.payload.verify(&signers).is_ok());
            if let Payload::Object { object, .. } = &opened.payload {
                assert_eq!(
                    opened.canonical_object,
                    Some(entente_seal::canonical_value(object))
                );
            }
        }
    }
});
