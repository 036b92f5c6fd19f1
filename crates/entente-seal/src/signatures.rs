//! The origins' Ed25519 signatures of bindings, verified one at a time or many at once.
//!
//! Alone, a signature is verified with `verify_strict`: the signature's `R` and the key must not
//! be of small order, `s` must be reduced, and `R` must be exactly `[s]B - [k]A` as encoded.
//!
//! Many at once, [`verify_signatures`] uses ed25519-dalek's batch equation (one multiscalar
//! multiplication for the lot, with random 128-bit weights derived from everything verified),
//! which costs a fraction of verifying each alone. A signature enters the batch only when what
//! `verify_strict` refuses that the batch equation would not see can be ruled out cheaply:
//! - its key is not of small order and has no torsion component (decided once per key, when
//!   [`crate::Signers`] takes it);
//! - its `R` is encoded canonically and is not one of the points of small order (compared as
//!   bytes, without decompressing).
//!
//! When the batch equation fails, each signature of the batch is verified alone, so a bad
//! signature fails alone and with its own error, and the good ones pass. What remains that
//! `verify_strict` refuses and a batch may accept is an `R` with a torsion component other than
//! a pure small-order point. Such a signature still satisfies `R - T = [s]B - [k]A` with `k`
//! hashed over the `R` it carries, so only the holder of the origin's signing key can make one:
//! nothing is accepted that the origin did not sign.

use std::collections::HashMap;
use std::sync::OnceLock;

use curve25519_dalek::constants::EIGHT_TORSION;
use ed25519_dalek::{Signature, VerifyingKey};
use entente_types::NationCode;

use crate::binding::SignerKey;
use crate::SealError;

/// One origin's signature over one binding's message, ready to verify.
#[derive(Debug, Clone)]
pub struct SignatureCheck {
    pub(crate) key: SignerKey,
    pub(crate) message: Vec<u8>,
    pub(crate) signature: Signature,
    pub(crate) origin: NationCode,
    pub(crate) object_id: String,
}

impl SignatureCheck {
    /// Verifies this signature alone (`verify_strict`).
    pub fn verify(&self) -> Result<(), SealError> {
        self.key
            .key
            .verify_strict(&self.message, &self.signature)
            .map_err(|_| self.bad())
    }

    fn bad(&self) -> SealError {
        SealError::BadSignature {
            origin: self.origin.to_string(),
            object_id: self.object_id.clone(),
        }
    }

    /// Whether this signature may be verified in a batch (see the module's documentation).
    fn batchable(&self) -> bool {
        self.key.batchable && r_is_batchable(self.signature.r_bytes())
    }
}

/// Below this many, signatures are verified one at a time: a batch saves nothing.
const SMALLEST_BATCH: usize = 4;

/// Verifies every signature, in a batch where the module's conditions allow, and gives one
/// result per signature, in order: `Ok` for a good signature, the signature's own error for a
/// bad one. The same signature of the same message under the same key (bindings signed together
/// under one root) is verified once.
pub fn verify_signatures(checks: &[&SignatureCheck]) -> Vec<Result<(), SealError>> {
    let mut first_of: HashMap<SignedBy<'_>, usize> = HashMap::new();
    let mut distinct: Vec<&SignatureCheck> = Vec::new();
    let which: Vec<usize> = checks
        .iter()
        .map(|c| {
            let key = (c.key.key.as_bytes(), c.signature.to_bytes(), &c.message[..]);
            *first_of.entry(key).or_insert_with(|| {
                distinct.push(c);
                distinct.len() - 1
            })
        })
        .collect();
    let verdicts = verify_distinct(&distinct);
    checks
        .iter()
        .zip(which)
        .map(|(c, d)| match &verdicts[d] {
            Ok(()) => Ok(()),
            Err(_) => Err(c.bad()),
        })
        .collect()
}

/// A key, a signature and the message it signs.
type SignedBy<'a> = (&'a [u8; 32], [u8; 64], &'a [u8]);

fn verify_distinct(checks: &[&SignatureCheck]) -> Vec<Result<(), SealError>> {
    let (batched, alone): (Vec<usize>, Vec<usize>) =
        (0..checks.len()).partition(|&i| checks[i].batchable());
    let mut results: Vec<Result<(), SealError>> = vec![Ok(()); checks.len()];
    for i in alone {
        results[i] = checks[i].verify();
    }
    if batched.len() < SMALLEST_BATCH || !batch_holds(checks, &batched) {
        // At least one is bad (or the batch is too small to gain): each on its own.
        for i in batched {
            results[i] = checks[i].verify();
        }
    }
    results
}

fn batch_holds(checks: &[&SignatureCheck], which: &[usize]) -> bool {
    let messages: Vec<&[u8]> = which.iter().map(|&i| &checks[i].message[..]).collect();
    let signatures: Vec<Signature> = which.iter().map(|&i| checks[i].signature).collect();
    let keys: Vec<VerifyingKey> = which.iter().map(|&i| checks[i].key.key).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

/// Whether a key's signatures may be batched: not of small order (which `verify_strict` refuses)
/// and without a torsion component (so that the batch equation, which is not multiplied by the
/// cofactor, decides as the single one does).
pub(crate) fn batchable_key(key: &VerifyingKey) -> bool {
    !key.is_weak() && key.to_edwards().is_torsion_free()
}

/// Whether an encoded `R` is canonical (`y < p`) and not a point of small order, which
/// `verify_strict` refuses and the batch equation would not see.
fn r_is_batchable(r: &[u8; 32]) -> bool {
    is_canonical_y(r) && !small_order_encodings().contains(r)
}

/// `y < 2^255 - 19`, reading the low 255 bits little-endian (the top bit is the sign of `x`).
fn is_canonical_y(r: &[u8; 32]) -> bool {
    let top = r[31] & 0x7f;
    // Every y >= p has the top 250 bits set and its lowest byte >= 0xed.
    !(top == 0x7f && r[1..31].iter().all(|&b| b == 0xff) && r[0] >= 0xed)
}

/// The canonical encodings of the eight points of small order, each also with the sign bit
/// flipped (which for the two points with `x = 0` is another encoding of the same point).
fn small_order_encodings() -> &'static [[u8; 32]; 16] {
    static ENCODINGS: OnceLock<[[u8; 32]; 16]> = OnceLock::new();
    ENCODINGS.get_or_init(|| {
        let mut out = [[0u8; 32]; 16];
        for (i, point) in EIGHT_TORSION.iter().enumerate() {
            let bytes = point.compress().to_bytes();
            out[2 * i] = bytes;
            let mut flipped = bytes;
            flipped[31] ^= 0x80;
            out[2 * i + 1] = flipped;
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use ed25519_dalek::{Signer, SigningKey};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn check(signer: &SigningKey, message: &[u8], signature: Signature) -> SignatureCheck {
        let verifying = signer.verifying_key();
        SignatureCheck {
            key: SignerKey {
                key: verifying,
                batchable: batchable_key(&verifying),
            },
            message: message.to_vec(),
            signature,
            origin: "FRA".parse().unwrap(),
            object_id: format!("indicator--{}", message.len()),
        }
    }

    fn checks(n: usize) -> Vec<SignatureCheck> {
        let (a, b) = (key(1), key(2));
        (0..n)
            .map(|i| {
                let signer = if i % 3 == 0 { &b } else { &a };
                let message = vec![i as u8; 40 + i % 7];
                check(signer, &message, signer.sign(&message))
            })
            .collect()
    }

    #[test]
    fn the_small_order_encodings_are_the_ones_decompression_calls_small() {
        for bytes in small_order_encodings() {
            let point = CompressedEdwardsY(*bytes).decompress().unwrap();
            assert!(point.is_small_order(), "{bytes:?}");
        }
        let good = key(7).sign(b"m");
        assert!(r_is_batchable(good.r_bytes()));
    }

    #[test]
    fn canonical_y_is_below_the_prime() {
        let mut p = [0xffu8; 32];
        p[31] = 0x7f;
        p[0] = 0xed; // 2^255 - 19
        assert!(!is_canonical_y(&p));
        let mut below = p;
        below[0] = 0xec;
        assert!(is_canonical_y(&below));
        let mut above = p;
        above[0] = 0xee;
        assert!(!is_canonical_y(&above));
        // The sign bit does not count.
        let mut signed = below;
        signed[31] |= 0x80;
        assert!(is_canonical_y(&signed));
    }

    #[test]
    fn a_good_batch_passes_as_verifying_each_alone_does() {
        let all = checks(100);
        let refs: Vec<&SignatureCheck> = all.iter().collect();
        assert!(refs.iter().all(|c| c.batchable()));
        assert!(verify_signatures(&refs).iter().all(Result::is_ok));
    }

    #[test]
    fn a_bad_signature_fails_alone_and_names_its_object() {
        for bad_at in [0, 37, 99] {
            let mut all = checks(100);
            // Another message's signature: well-formed, batchable, wrong.
            all[bad_at].signature = all[(bad_at + 1) % 100].signature;
            let refs: Vec<&SignatureCheck> = all.iter().collect();
            let results = verify_signatures(&refs);
            for (i, r) in results.iter().enumerate() {
                if i == bad_at {
                    let e = r.as_ref().unwrap_err().to_string();
                    assert!(e.contains(&all[i].object_id), "{e}");
                } else {
                    assert!(r.is_ok(), "{i}: {r:?}");
                }
            }
        }
    }

    #[test]
    fn one_signature_shared_by_many_checks_decides_for_each_and_names_each_object() {
        let signer = key(4);
        let root = b"a tree's root".to_vec();
        let good = signer.sign(&root);
        let mut bad_bytes = good.to_bytes();
        bad_bytes[10] ^= 1;
        let mut all = checks(10);
        for i in 0..6 {
            let signature = if i % 2 == 0 {
                good
            } else {
                Signature::from_bytes(&bad_bytes)
            };
            let mut c = check(&signer, &root, signature);
            c.object_id = format!("indicator--shared-{i}");
            all.push(c);
        }
        let refs: Vec<&SignatureCheck> = all.iter().collect();
        let results = verify_signatures(&refs);
        assert!(results[..10].iter().all(Result::is_ok));
        for (i, r) in results[10..].iter().enumerate() {
            if i % 2 == 0 {
                assert!(r.is_ok(), "{i}");
            } else {
                let e = r.as_ref().unwrap_err().to_string();
                assert!(e.contains(&format!("indicator--shared-{i}")), "{e}");
            }
        }
    }

    #[test]
    fn what_verify_strict_refuses_for_small_order_or_unreduced_parts_is_refused() {
        let signer = key(3);
        let message = b"bound content".to_vec();
        let good = signer.sign(&message).to_bytes();
        // R replaced by the identity (a point of small order), s unchanged.
        let mut small_r = good;
        small_r[..32].copy_from_slice(&EIGHT_TORSION[0].compress().to_bytes());
        // s pushed above the group order.
        let mut big_s = good;
        big_s[63] |= 0xf0;
        for bytes in [small_r, big_s] {
            let mut all = checks(20);
            all.push(check(&signer, &message, Signature::from_bytes(&bytes)));
            let refs: Vec<&SignatureCheck> = all.iter().collect();
            let results = verify_signatures(&refs);
            assert!(results[20].is_err());
            assert!(results[..20].iter().all(Result::is_ok));
            assert_eq!(results[20].is_ok(), all[20].verify().is_ok());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Differential: batches of good and damaged signatures give, for each, what verifying
        /// it alone with `verify_strict` gives.
        #[test]
        fn a_batch_decides_each_signature_as_verify_strict_does(
            n in 0usize..40,
            damage in proptest::collection::vec((0usize..40, 0usize..64, 1u8..=255), 0..4),
        ) {
            let mut all = checks(n);
            for (at, byte, xor) in damage {
                if at < n {
                    let mut bytes = all[at].signature.to_bytes();
                    bytes[byte] ^= xor;
                    all[at].signature = Signature::from_bytes(&bytes);
                }
            }
            let refs: Vec<&SignatureCheck> = all.iter().collect();
            let batch = verify_signatures(&refs);
            for (c, r) in all.iter().zip(batch) {
                proptest::prop_assert_eq!(r.is_ok(), c.verify().is_ok());
            }
        }
    }
}
