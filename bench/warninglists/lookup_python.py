#!/usr/bin/env python3
"""Lookups per second of pymispwarninglists on the values of the Rust benchmark.

    cargo run --release -p entente-warninglists --example warninglists_bench -- LISTS_DIR VALUES
    python bench/warninglists/lookup_python.py VALUES [SLOW_SAMPLE]

VALUES holds one JSON string per line (written by the example). Both modes of the package are
timed, with its own `WarningLists.search`:
  - slow_search=True (the typed comparison MISP does, what `WarningLists::lookup` answers): it
    tries each entry of the hostname lists in turn (1.1 million entries), about 0.15 s per value,
    so only the first SLOW_SAMPLE values (default 200) are timed;
  - slow_search=False (the package's default, exact membership, `WarningLists::lookup_exact`):
    every value.
The load time of the full set is reported for both.
"""

import json
import sys
import time

from pymispwarninglists.api import WarningLists


def timed(lists, values):
    started = time.perf_counter()
    hits = 0
    for value in values:
        try:
            hits += len(lists.search(value))
        except ValueError:
            pass  # urlparse refusing a URL (see the tests' reference_bugs.rs)
    return time.perf_counter() - started, hits


def main(arguments):
    values_path = arguments[0]
    slow_sample = int(arguments[1]) if len(arguments) > 1 else 200
    with open(values_path, "rb") as source:
        values = [json.loads(line) for line in source]

    for slow_search, sample in ((True, values[:slow_sample]), (False, values)):
        started = time.perf_counter()
        lists = WarningLists(slow_search=slow_search)
        load = time.perf_counter() - started
        elapsed, hits = timed(lists, sample)
        print(f"pymispwarninglists slow_search={slow_search}: load {load:.2f} s; "
              f"{len(sample)} values in {elapsed:.3f} s: {len(sample) / elapsed:.1f} lookups/s, "
              f"{elapsed / len(sample) * 1e6:.0f} us/lookup, {hits} hits")
        del lists
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
