#!/usr/bin/env python3
"""Reference answers of pymispwarninglists for the differential test of entente-warninglists.

    oracle_warninglists.py --data-dir
        Prints the `lists` folder of the installed package (the set the Rust side loads).

    oracle_warninglists.py VALUES.jsonl ANSWERS.jsonl [--check N] [--lists FOLDER,...]
        VALUES holds one JSON string per line (`-`: standard input). ANSWERS (`-`: standard
        output) gets one JSON object per line:
          "slow":  names of the lists WarningLists(slow_search=True).search(value) returns
                   (the typed comparison MISP does; our `lookup`),
          "fast":  names WarningLists(slow_search=False).search(value) returns (exact
                   membership, the package's default; our `lookup_exact`),
          "regex": names of the `regex` lists whose patterns match the value with Python's
                   `re` (the package never matches regex lists: see below),
          "raised": names of the lists whose check raised ValueError (search() itself then
                   raises), with "error", the message.

With --lists, only the lists of those folders are loaded (passed to WarningLists(lists=...))
and every list is asked unchanged, without the narrowing below.

Exit status 3 (and a message on stderr) when pymispwarninglists cannot be imported.

Speed. search() with slow_search=True tries every entry of a `hostname` list in turn
(`any(value == v or value.endswith("." + v.lstrip(".")) for v in self.list)`): 1.1 million
entries over 19 lists, about 0.17 s per value, 4.7 hours for 100,000 values. So for the
`hostname` and `substring` lists this script still calls the package's own `_slow_search`, but
on a copy of the list whose `list` holds only candidate entries, chosen by an index that
cannot miss one:
  - hostname: the predicate needs `v.lstrip(".")` to be a suffix of the compared value (the
    value, or its URL host), so the candidates are the entries whose stripped form is any
    suffix of the value or of `urlparse(value).hostname`;
  - substring: `v in value` needs `v[:3]` in the value, so the candidates are the entries
    whose first three characters occur in the value, plus entries shorter than three.
Every other list is asked through the package unchanged (`value in warninglist`), except that
the address constructors `_slow_search` calls for each of the 69 cidr lists (`IPv4Address`,
`IPv6Address`, pure functions) remember their answer, or exception, for the last value. With
--check N, N values (half of them among those that hit a hostname or substring list) are
also searched with the unmodified `search()`, and any difference aborts the run.

Regex lists: `WarningList._slow_search` has no branch for the `regex` type and returns False,
so these lists never match (a bug of the package: MISP matches them with preg_match). "regex"
gives the answer MISP means, for the Rust side to compare with: the PHP-style pattern
(`/body/flags`) is read as PCRE reads it (delimiter, first unescaped closing delimiter, flags;
`g`, which PCRE refuses but the phone_numbers list uses, is ignored) and run with `re.search`.
"""

import copy
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

try:
    import pymispwarninglists
    from pymispwarninglists import api
    from pymispwarninglists.api import WarningLists
except ImportError as error:  # pragma: no cover - reported to the Rust side
    print(f"pymispwarninglists is not importable: {error}", file=sys.stderr)
    sys.exit(3)


def lists_dir() -> Path:
    return Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"


class CandidateIndex:
    """Entries of all hostname (or all substring) lists that could match a value, by list.

    Built once for all lists of the type; `for_value` is computed once per value and kept for
    the next list's question about the same value."""

    def __init__(self, list_type):
        self.list_type = list_type
        self.index = {}   # key -> [(list name, entry)]
        self.short = {}   # substring lists: list name -> entries shorter than 3
        self.value = None
        self.found = {}

    def add(self, name, warninglist):
        for entry in warninglist.list:
            if self.list_type == "hostname":
                self.index.setdefault(entry.lstrip("."), []).append((name, entry))
            elif len(entry) < 3:
                self.short.setdefault(name, []).append(entry)
            else:
                self.index.setdefault(entry[:3], []).append((name, entry))

    def for_value(self, value):
        if value is self.value:
            return self.found
        found = {name: list(entries) for name, entries in self.short.items()}
        if self.list_type == "hostname":
            keys = {value}
            try:
                host = urlparse(value).hostname
            except ValueError:
                host = None  # _slow_search raises the same error, whatever the candidates
            if host:
                keys.add(host)
            for key in keys:
                for start in range(len(key) + 1):
                    for name, entry in self.index.get(key[start:], ()):
                        found.setdefault(name, []).append(entry)
        else:
            for start in range(len(value) - 2):
                for name, entry in self.index.get(value[start:start + 3], ()):
                    found.setdefault(name, []).append(entry)
        self.value, self.found = value, found
        return found


class Narrowed:
    """A list asked through its own `_slow_search`, on the entries that could match only."""

    def __init__(self, name, warninglist, index):
        self.name = name
        self.view = copy.copy(warninglist)
        self.index = index
        index.add(name, warninglist)

    def __contains__(self, value):
        self.view.list = self.index.for_value(value).get(self.name, [])
        return self.view._slow_search(value)


def memoize_last(constructor):
    """`constructor` (a pure function) answering the last value again from memory, its
    exception included, so that 69 cidr lists asking about one value parse it once."""
    last = [None, None, None]  # value, result, exception

    def construct(value):
        if value is not last[0] or not isinstance(value, str):
            try:
                last[1], last[2] = constructor(value), None
            except ValueError as exc:
                last[1], last[2] = None, exc
            last[0] = value
        if last[2] is not None:
            raise type(last[2])(*last[2].args)
        return last[1]

    return construct


PHP_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def php_pattern(pattern):
    """A PHP/PCRE pattern `/body/flags` as a compiled Python regex."""
    pattern = pattern.lstrip()
    delimiter = pattern[0]
    closing = {"(": ")", "[": "]", "{": "}", "<": ">"}.get(delimiter, delimiter)
    depth, escaped, end = 0, False, None
    for offset, char in enumerate(pattern[1:], start=1):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == closing and depth == 0:
            end = offset
            break
        elif closing != delimiter and char == delimiter:
            depth += 1
        elif closing != delimiter and char == closing:
            depth -= 1
    if end is None:
        raise ValueError(f"no ending delimiter in {pattern!r}")
    flags = 0
    for flag in pattern[end + 1:]:
        if flag in PHP_FLAGS:
            flags |= PHP_FLAGS[flag]
        elif flag not in "gDu \n\r":
            raise ValueError(f"unknown modifier {flag!r} in {pattern!r}")
    return re.compile(pattern[1:end], flags)


def names_of(matches):
    return [warninglist.name for warninglist in matches]


def main(arguments):
    if arguments == ["--data-dir"]:
        print(lists_dir())
        return 0
    check = 0
    if "--check" in arguments:
        at = arguments.index("--check")
        check = int(arguments[at + 1])
        del arguments[at:at + 2]
    subset = None
    if "--lists" in arguments:
        at = arguments.index("--lists")
        subset = []
        for folder in arguments[at + 1].split(","):
            with open(lists_dir() / folder / "list.json", encoding="utf-8") as source:
                subset.append(json.load(source))
        del arguments[at:at + 2]
    values_path, answers_path = arguments

    started, started_cpu = time.perf_counter(), time.process_time()
    slow = WarningLists(slow_search=True, lists=subset)
    slow_loaded = time.perf_counter()
    fast = WarningLists(slow_search=False, lists=subset)
    fast_loaded = time.perf_counter()
    print(f"oracle: {len(slow)} lists; slow_search=True loaded in {slow_loaded - started:.1f} s, "
          f"slow_search=False in {fast_loaded - slow_loaded:.1f} s "
          f"({time.process_time() - started_cpu:.1f} s CPU for both)", file=sys.stderr)

    askers = []
    regexes = []
    indexes = {"hostname": CandidateIndex("hostname"), "substring": CandidateIndex("substring")}
    unmodified = (api.IPv4Address, api.IPv6Address)
    if subset is None:
        # The cidr branch of _slow_search builds IPv4Address(value), then IPv6Address(value),
        # for each of the 69 lists: the same value each time.
        api.IPv4Address = memoize_last(api.IPv4Address)
        api.IPv6Address = memoize_last(api.IPv6Address)
    for name, warninglist in slow.warninglists.items():
        if warninglist.type in indexes and subset is None:
            askers.append((name, Narrowed(name, warninglist, indexes[warninglist.type])))
        else:
            askers.append((name, warninglist))
        if warninglist.type == "regex":
            regexes.append((name, [php_pattern(entry) for entry in warninglist.list]))

    if values_path == "-":
        values = [json.loads(line) for line in sys.stdin.buffer]
    else:
        with open(values_path, "rb") as source:
            values = [json.loads(line) for line in source]

    answers = []
    typed_hits = []  # values whose answer includes a hostname or substring list
    started, started_cpu = time.perf_counter(), time.process_time()
    for number, value in enumerate(values):
        hits, raised, error = [], [], None
        for name, asker in askers:
            try:
                if value in asker:
                    hits.append(name)
            except ValueError as exc:
                raised.append(name)
                error = f"{type(exc).__name__}: {exc}"
        regex_hits = [name for name, patterns in regexes
                      if any(pattern.search(value) for pattern in patterns)]
        answer = {"slow": hits, "fast": names_of(fast.search(value)), "regex": regex_hits,
                  "raised": raised, "error": error}
        answers.append(answer)
        if any(slow.warninglists[name].type in ("hostname", "substring") for name in hits):
            typed_hits.append(number)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    how = "hostname and substring lists narrowed" if subset is None else "every list unchanged"
    print(f"oracle: {len(values)} values answered in {elapsed:.1f} s ({cpu:.1f} s CPU, "
          f"{len(values) / max(cpu, 1e-9):.0f} values per CPU second, {how})", file=sys.stderr)

    api.IPv4Address, api.IPv6Address = unmodified
    if check:
        half = check // 2
        typed_sample = typed_hits[:: max(1, len(typed_hits) // max(1, half))][:half]
        rest = check - len(typed_sample)
        spread = list(range(0, len(values), max(1, len(values) // max(1, rest))))[:rest]
        chosen = sorted(set(typed_sample) | set(spread))
        started, started_cpu = time.perf_counter(), time.process_time()
        for number in chosen:
            value = values[number]
            try:
                real = sorted(names_of(slow.search(value)))
                real_error = None
            except ValueError as exc:
                real, real_error = None, f"{type(exc).__name__}: {exc}"
            answer = answers[number]
            ours = None if answer["raised"] else sorted(answer["slow"])
            if real != ours or (real_error is not None) != bool(answer["raised"]):
                print(f"oracle: narrowed search differs from search() for {value!r}: "
                      f"narrowed {answer}, search() {real} {real_error}", file=sys.stderr)
                return 1
        elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        print(f"oracle: {len(chosen)} values checked with the unmodified search() in "
              f"{elapsed:.1f} s ({cpu / max(1, len(chosen)):.3f} CPU s per value)", file=sys.stderr)

    lines = "".join(json.dumps(answer) + "\n" for answer in answers)
    if answers_path == "-":
        sys.stdout.write(lines)
        sys.stdout.flush()
    else:
        with open(answers_path, "w", encoding="utf-8") as sink:
            sink.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
