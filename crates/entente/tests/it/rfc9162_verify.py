#!/usr/bin/env python3
"""An independent verifier of Entente audit logs, written from the specifications alone:

- RFC 9162 §2.1 (Merkle Tree Hash, PATH, PROOF, and the verification algorithms of §2.1.3.2 and
  §2.1.4.2), transcribed step by step;
- C2SP signed-note and tlog-checkpoint (https://c2sp.org/signed-note, .../tlog-checkpoint);
- RFC 8032 §5.1 Ed25519, after the reference code of its §6;
- RFC 8785 for the canonical JSON of the events (all members are strings or null).

Standard library only. Usage:
    rfc9162_verify.py selftest          check this verifier against published vectors
    rfc9162_verify.py check BUNDLE      verify a bundle of checkpoints, entries and proofs, and
                                        check that tampered copies of each are rejected
Prints one JSON summary line; exit status 0 when everything holds, 1 otherwise.
"""

import base64
import hashlib
import json
import sys


class Reject(Exception):
    """A proof, signature or document that does not verify."""


# ---- RFC 9162 §2.1 -----------------------------------------------------------------------------

def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """MTH(D[n]) of §2.1.1 over the list of leaf inputs."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaf_hash(leaves[0])
    k = largest_power_of_two_below(n)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """PATH(m, D[n]) of §2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def proof(m, leaves):
    """PROOF(m, D[n]) of §2.1.4.1."""
    return subproof(m, leaves, True)


def subproof(m, leaves, b):
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def verify_inclusion(hash_, leaf_index, tree_size, inclusion_path, root_hash):
    """§2.1.3.2, step by step."""
    # 1. Compare leaf_index from the inclusion_proof with tree_size; fail if leaf_index >= tree_size.
    if leaf_index >= tree_size:
        raise Reject("leaf_index >= tree_size")
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = hash_
    # 4. For each value p in the inclusion_path array:
    for p in inclusion_path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise Reject("inclusion path too long")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally until either
            #     LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise: i. Set r to HASH(0x01 || r || p).
        else:
            r = node_hash(r, p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash.
    if sn != 0:
        raise Reject("inclusion path too short")
    if r != root_hash:
        raise Reject("inclusion path leads to another root")


def verify_consistency(first, second, first_hash, second_hash, consistency_path):
    """§2.1.4.2, step by step, for 0 < first < second; the trivial cases as §2.1.4 describes."""
    if first > second:
        raise Reject("first > second")
    if first == second:
        if consistency_path or first_hash != second_hash:
            raise Reject("equal sizes need equal roots and an empty proof")
        return
    if first == 0:
        if consistency_path or first_hash != sha256(b""):
            raise Reject("the empty tree needs the empty root and an empty proof")
        return
    path_ = list(consistency_path)
    # 1. If consistency_path is an empty array, stop and fail the proof verification.
    if not path_:
        raise Reject("empty consistency path")
    # 2. If first is an exact power of 2, then prepend first_hash to the consistency_path array.
    if first & (first - 1) == 0:
        path_ = [first_hash] + path_
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value in the consistency_path array.
    fr = sr = path_[0]
    # 6. For each subsequent value c in the consistency_path array:
    for c in path_[1:]:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            raise Reject("consistency path too long")
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)  # i.
            sr = node_hash(c, sr)  # ii.
            # iii. If LSB(fn) is not set, then right-shift both fn and sn equally until either
            #      LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise: i. Set sr to HASH(0x01 || sr || c).
        else:
            sr = node_hash(sr, c)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 7. Verify fr == first_hash, sr == second_hash and sn == 0.
    if sn != 0:
        raise Reject("consistency path too short")
    if fr != first_hash:
        raise Reject("consistency path rebuilds another first root")
    if sr != second_hash:
        raise Reject("consistency path rebuilds another second root")


# ---- RFC 8032 Ed25519 (after the reference code of §6) -----------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _inv(x):
    return pow(x, P - 2, P)


def _add(a, b):
    e1 = (a[1] - a[0]) * (b[1] - b[0]) % P
    e2 = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = e2 - e1, d - c, d + c, e2 + e1
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, point):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, point)
        point = _add(point, point)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _compress(point):
    zinv = _inv(point[2])
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def _expand(secret):
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def ed25519_public(secret):
    return _compress(_mul(_expand(secret)[0], BASE))


def ed25519_sign(secret, msg):
    a, prefix = _expand(secret)
    public = _compress(_mul(a, BASE))
    r = int.from_bytes(hashlib.sha512(prefix + msg).digest(), "little") % L
    big_r = _compress(_mul(r, BASE))
    h = int.from_bytes(hashlib.sha512(big_r + public + msg).digest(), "little") % L
    return big_r + int.to_bytes((r + h * a) % L, 32, "little")


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    a = _decompress(public)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % L
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# ---- C2SP signed notes and checkpoints ---------------------------------------------------------

def key_id(name, public):
    return sha256(name.encode() + b"\n" + b"\x01" + public)[:4]


def parse_vkey(text):
    name, id_hex, key_b64 = text.strip().split("+", 2)
    raw = base64.b64decode(key_b64, validate=True)
    if len(raw) != 33 or raw[0] != 1:
        raise Reject("not an Ed25519 verifier key")
    public = raw[1:]
    if key_id(name, public).hex() != id_hex:
        raise Reject("verifier key id does not match")
    return name, public


def open_note(note, vkey):
    """Returns the note's text once a signature by the vkey's key verifies over it."""
    name, public = parse_vkey(vkey)
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Reject("not a signed note")
    text, sigs = note[: split + 1], note[split + 2:]
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise Reject("control character in the note text")
    wanted = key_id(name, public)
    verified = False
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            raise Reject("a signature line does not start with an em dash")
        sig_name, blob = line[2:].split(" ", 1)
        raw = base64.b64decode(blob, validate=True)
        if sig_name == name and raw[:4] == wanted:
            if not ed25519_verify(public, text.encode(), raw[4:]):
                raise Reject("signature does not verify")
            verified = True
    if not verified:
        raise Reject("no signature by the key")
    return text


def parse_checkpoint(text):
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise Reject("a checkpoint has origin, size and root lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise Reject("tree size is not a decimal number")
    root = base64.b64decode(root, validate=True)
    if len(root) != 32:
        raise Reject("root hash is not 32 bytes")
    return origin, int(size), root


# ---- RFC 8785 for the events -------------------------------------------------------------------

def canonical_event(event):
    """RFC 8785 for an object whose members are strings or null: sorted member names (all ASCII,
    so UTF-16 order is byte order), no whitespace, strings escaped as JSON.stringify does."""
    for key, value in event.items():
        if not (value is None or isinstance(value, str)) or not key.isascii():
            raise Reject("an event member is neither a string nor null")
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# ---- self-test against published vectors ------------------------------------------------------

# Certificate Transparency reference leaves and tree heads, as published with transparency-dev/merkle
# (proof/verify_test.go) and the certificate-transparency test suites.
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index, tree size, path)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CT_CONSISTENCY = [  # (first, second, path)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
# golang.org/x/mod/sumdb/note (note_test.go): the example key and signed note.
GO_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
# RFC 8032 §7.1, TEST 1.
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIG = ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def expect_reject(fn, what):
    try:
        fn()
    except Reject:
        return
    raise AssertionError("accepted: " + what)


def selftest():
    h = bytes.fromhex
    leaves = [h(x) for x in CT_LEAVES]
    expect(mth([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty root")
    for n in range(1, 9):
        expect(mth(leaves[:n]).hex() == CT_ROOTS[n - 1], "CT root of size %d" % n)
    for index, size, want in CT_INCLUSION:
        got = path(index, leaves[:size])
        expect([x.hex() for x in got] == want, "CT inclusion path %d/%d" % (index, size))
        verify_inclusion(leaf_hash(leaves[index]), index, size, got, h(CT_ROOTS[size - 1]))
    for first, second, want in CT_CONSISTENCY:
        got = proof(first, leaves[:second])
        expect([x.hex() for x in got] == want, "CT consistency proof %d/%d" % (first, second))
        verify_consistency(first, second, h(CT_ROOTS[first - 1]), h(CT_ROOTS[second - 1]), got)
        expect_reject(lambda: verify_consistency(first, second, h(CT_ROOTS[second - 1]),
                                                 h(CT_ROOTS[first - 1]), got), "swapped roots")
    # RFC 9162 §2.1.5 worked example: d0..d6.
    d = [b"d%d" % i for i in range(7)]
    a, b, c, dd, e, f, j = [leaf_hash(x) for x in d]
    g, hh, i = node_hash(a, b), node_hash(c, dd), node_hash(e, f)
    k, l_ = node_hash(g, hh), node_hash(i, j)
    expect(path(3, d) == [c, g, l_], "RFC 9162 inclusion proof for d3")
    expect(path(0, d) == [b, hh, l_] and path(4, d) == [f, j, k] and path(6, d) == [i, k],
           "RFC 9162 inclusion proofs for d0, d4, d6")
    expect(proof(3, d) == [c, dd, g, l_], "RFC 9162 PROOF(3, D[7])")
    expect(proof(4, d) == [l_] and proof(6, d) == [i, j, k], "RFC 9162 PROOF(4|6, D[7])")
    # Ed25519 and signed notes.
    secret = h(RFC8032_SECRET)
    expect(ed25519_public(secret).hex() == RFC8032_PUBLIC, "RFC 8032 public key")
    expect(ed25519_sign(secret, b"").hex() == RFC8032_SIG, "RFC 8032 signature")
    expect(ed25519_verify(h(RFC8032_PUBLIC), b"", h(RFC8032_SIG)), "RFC 8032 verification")
    expect(not ed25519_verify(h(RFC8032_PUBLIC), b"x", h(RFC8032_SIG)), "RFC 8032 wrong message")
    seed = base64.b64decode(GO_SKEY_SEED)[1:]
    name, public = parse_vkey(GO_VKEY)
    expect(ed25519_public(seed) == public, "Go example key pair")
    sig = key_id(name, public) + ed25519_sign(seed, GO_TEXT.encode())
    expect(GO_TEXT + "\n\u2014 PeterNeumann " + base64.b64encode(sig).decode() + "\n" == GO_NOTE,
           "Go example note, byte for byte")
    expect(open_note(GO_NOTE, GO_VKEY) == GO_TEXT, "Go example note verifies")
    expect_reject(lambda: open_note(GO_NOTE.replace("cryptography", "cryptographY"), GO_VKEY),
                  "tampered Go note")
    return {"selftest": "ok", "ct_roots": 8, "ct_inclusion": len(CT_INCLUSION),
            "ct_consistency": len(CT_CONSISTENCY), "rfc9162_example": 7, "ed25519": 2}


# ---- checking a bundle from our log ------------------------------------------------------------

def b64hash(text):
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise Reject("a hash is not 32 bytes")
    return raw


def flip(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def check(bundle_path):
    with open(bundle_path, encoding="utf-8") as fh:
        bundle = json.load(fh)
    vkey = bundle["vkey"]
    origin = vkey.split("+", 1)[0]
    leaves = [canonical_event(e) for e in bundle["entries"]]
    counts = {"checkpoints": 0, "inclusion": 0, "consistency": 0, "rejected_tampered": 0}

    # Checkpoints: signature, body, and the root recomputed from the entries by MTH.
    roots = {}
    for note in bundle["checkpoints"]:
        cp_origin, size, root = parse_checkpoint(open_note(note, vkey))
        expect(cp_origin == origin, "checkpoint origin %r" % cp_origin)
        expect(mth(leaves[:size]) == root, "checkpoint root of size %d recomputed from the entries" % size)
        roots[size] = root
        counts["checkpoints"] += 1
        body_end = note.index("\n\n")
        forged = note[:body_end].replace("\n%d\n" % size, "\n%d\n" % (size + 1)) + note[body_end:]
        expect_reject(lambda: open_note(forged, vkey), "checkpoint with a changed size")
        sig_at = note.rindex(" ") + 1
        raw = base64.b64decode(note[sig_at:].strip())
        bad = note[:sig_at] + base64.b64encode(flip(raw, 8 * 4 + 3)).decode() + "\n"
        expect_reject(lambda: open_note(bad, vkey), "checkpoint with a changed signature")
        counts["rejected_tampered"] += 2

    for doc in bundle["inclusion"]:
        index, size = doc["index"], doc["size"]
        hashes = [b64hash(x) for x in doc["hashes"]]
        leaf = canonical_event(doc["leaf"])
        expect(leaf == leaves[index], "entry %d in its proof equals the log's entry" % index)
        lh = leaf_hash(leaf)
        expect(lh == b64hash(doc["leaf_hash"]), "leaf hash of entry %d" % index)
        expect(hashes == path(index, leaves[:size]), "inclusion proof %d/%d equals PATH" % (index, size))
        root = roots[size]
        verify_inclusion(lh, index, size, hashes, root)
        counts["inclusion"] += 1
        tampered = []
        for k in range(len(hashes)):
            for bit in (0, 131, 255):
                tampered.append((lh, index, size, hashes[:k] + [flip(hashes[k], bit)] + hashes[k + 1:], root))
        tampered += [
            (flip(lh, 7), index, size, hashes, root),
            (lh, index, size, hashes, flip(root, 200)),
            (lh, index ^ 1, size, hashes, root),
            (lh, index, size, hashes + [root], root),
            (lh, size, size, hashes, root),
        ]
        # A proof never verifies against the checkpoint of another size. (With the same root and
        # only the size changed it may: RFC 9162 binds size and root through the signed checkpoint.)
        for other in (size - 1, size + 1, 2 * size):
            if other in roots and other > index:
                tampered.append((lh, index, other, hashes, roots[other]))
        if hashes:
            tampered.append((lh, index, size, hashes[:-1], root))
        for args in tampered:
            expect_reject(lambda: verify_inclusion(*args), "tampered inclusion proof %d/%d" % (index, size))
            counts["rejected_tampered"] += 1

    for doc in bundle["consistency"]:
        first, second = doc["first"], doc["second"]
        hashes = [b64hash(x) for x in doc["hashes"]]
        expect(hashes == proof(first, leaves[:second]) if 0 < first < second else hashes == [],
               "consistency proof %d/%d equals PROOF" % (first, second))
        r1, r2 = roots[first], roots[second]
        verify_consistency(first, second, r1, r2, hashes)
        counts["consistency"] += 1
        if not 0 < first < second:
            continue
        tampered = []
        for k in range(len(hashes)):
            for bit in (0, 77, 255):
                tampered.append((first, second, r1, r2, hashes[:k] + [flip(hashes[k], bit)] + hashes[k + 1:]))
        tampered += [
            (first, second, flip(r1, 1), r2, hashes),
            (first, second, r1, flip(r2, 254), hashes),
            (first, second, r2, r1, hashes),
            (first, second, r1, r2, hashes[:-1]),
            (first, second, r1, r2, hashes + [r1]),
            (first, second, r1, r2, []),
        ]
        if first + 1 < second and first + 1 in roots:
            tampered.append((first + 1, second, roots[first + 1], r2, hashes))
        if second - 1 > first and second - 1 in roots:
            tampered.append((first, second - 1, r1, roots[second - 1], hashes))
        for args in tampered:
            expect_reject(lambda: verify_consistency(*args), "tampered consistency proof %d/%d" % (first, second))
            counts["rejected_tampered"] += 1
    return counts


def main(argv):
    try:
        if argv[1:] == ["selftest"]:
            result = selftest()
        elif len(argv) == 3 and argv[1] == "check":
            result = selftest()
            result.update(check(argv[2]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (AssertionError, Reject, KeyError, ValueError) as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
