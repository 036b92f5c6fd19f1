"""Times OASIS stix2-matcher and stix2-patterns on a pairs file written by pattern_bench.

Usage: match_python.py PAIRS.jsonl   (lines {"pattern": ..., "bundles": [...]})
Prints one JSON object: pairs, matched, raised, seconds and matches/s of
stix2matcher.matcher.match(pattern, bundles, stix_version='2.1') once per pair (and, from the text,
of json.loads of each line then match), and patterns/s of
stix2patterns.validator.run_validator(pattern, stix_version='2.1').
"""

import json
import sys
import time

from stix2matcher.matcher import match
from stix2patterns.validator import run_validator


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().splitlines()
    pairs = [json.loads(line) for line in lines]
    matched = raised = 0
    start = time.perf_counter()
    for pair in pairs:
        try:
            if match(pair["pattern"], pair["bundles"], stix_version="2.1"):
                matched += 1
        except Exception:
            raised += 1
    match_seconds = time.perf_counter() - start
    # From the text: each line read with json.loads, then matched.
    start = time.perf_counter()
    for line in lines:
        pair = json.loads(line)
        try:
            match(pair["pattern"], pair["bundles"], stix_version="2.1")
        except Exception:
            pass
    text_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for pair in pairs:
        run_validator(pair["pattern"], stix_version="2.1")
    parse_seconds = time.perf_counter() - start
    print(json.dumps({
        "pairs": len(pairs),
        "matched": matched,
        "raised": raised,
        "match_seconds": match_seconds,
        "matches_per_second": len(pairs) / match_seconds,
        "text_matches_per_second": len(lines) / text_seconds,
        "parse_seconds": parse_seconds,
        "parses_per_second": len(pairs) / parse_seconds,
    }))


if __name__ == "__main__":
    main()
