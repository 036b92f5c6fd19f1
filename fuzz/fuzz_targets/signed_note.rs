//! Signed notes and checkpoints: any text is refused or read consistently, never a panic.
#![no_main]

use entente_audit::{checkpoint_body, parse_checkpoint_body, parse_note, parse_vkey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The same text as a note, a checkpoint body and a verifier key.
    if let Ok((body, signatures)) = parse_note(text) {
        assert!(!signatures.is_empty());
        assert!(text.starts_with(body) && body.ends_with('\n'));
        // A note that parses is checked against a fixed key: refused (it is not signed by it) or,
        // if it ever verified, its body must read as the checkpoint it returned.
        if let Ok(cp) = entente_fuzz::verifier().verify(text) {
            assert_eq!(parse_checkpoint_body(body).ok(), Some((cp.origin, cp.size, cp.root)));
        }
    }
    if let Ok((origin, size, root)) = parse_checkpoint_body(text) {
        // Without extension lines, a body reads back to the same text.
        if text.matches('\n').count() == 3 {
            assert_eq!(checkpoint_body(&origin, size, &root), text);
        }
    }
    if let Ok((name, key)) = parse_vkey(text) {
        // The key id may be written in either case; everything else reads back the same.
        let again = entente_audit::vkey(&name, &key);
        let given = text.trim_end_matches(['\n', '\r']);
        let (a, b) = (again.split('+').collect::<Vec<_>>(), given.splitn(3, '+').collect::<Vec<_>>());
        assert_eq!((a[0], a[2]), (b[0], b[2]));
        assert!(a[1].eq_ignore_ascii_case(b[1]));
    }
});
