"""Answers, for each pattern of a JSON-lines file, what OASIS stix2-patterns (2.1) says of it.

Usage: oracle_patterns.py INPUT OUTPUT
Each input line: {"pattern": "..."}.  Each output line, in the same order:
  {"valid": true/false/null,      # run_validator(pattern, stix_version='2.1') == [] (null: it raised)
   "raised": "TypeName: message" or null,
   "patched_valid": true/false,   # the same with the validator's crashes fixed (see below)
   "parses": true/false,          # stix2patterns.v21.pattern.Pattern(pattern) raises no ParseException
   "comparisons": [[type, path, op, value_text], ...] or null}
path items: ["key", name], ["index", n] or ["star"].

The validator raises on two kinds of valid text: a negative list index (its inspector reads only
IntPosLiteral) and a `hashes` path ending in a list index (its hash check upper-cases the index);
on the empty string brackets_check reads an unbound variable.  "patched_valid" is the validator's
answer with those three fixed: negative indexes read, index selectors skipped by the hash check, the
empty string refused.  The comparisons are the inspector's (patched for negative indexes).
"""

import json
import sys

from stix2patterns.exceptions import ParseException
from stix2patterns.inspector import INDEX_STAR
from stix2patterns.v21 import inspector as inspector21
from stix2patterns.v21 import object_validator
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import run_validator

original_index_step = inspector21.InspectionListener.exitIndexPathStep
original_verify = object_validator.verify_object


def patched_index_step(self, ctx):
    if ctx.ASTERISK():
        self._InspectionListener__obj_path.append(INDEX_STAR)
    else:
        literal = ctx.IntPosLiteral() or ctx.IntNegLiteral()
        self._InspectionListener__obj_path.append(int(literal.getText()))


def patched_verify(patt_data):
    filtered = {}
    for type_name, comps in patt_data.comparisons.items():
        filtered[type_name] = [c for c in comps if isinstance(c[0][-1], str) or c[0][-1] is INDEX_STAR]
    return original_verify(patt_data._replace(comparisons=filtered))


def patched(fn):
    inspector21.InspectionListener.exitIndexPathStep = patched_index_step
    object_validator.verify_object = patched_verify
    try:
        return fn()
    finally:
        inspector21.InspectionListener.exitIndexPathStep = original_index_step
        object_validator.verify_object = original_verify


def path_json(path):
    out = []
    for item in path:
        if item is INDEX_STAR:
            out.append(["star"])
        elif isinstance(item, int):
            out.append(["index", item])
        else:
            out.append(["key", item])
    return out


def answer(pattern):
    result = {"valid": None, "raised": None, "patched_valid": False, "parses": False, "comparisons": None}
    try:
        result["valid"] = run_validator(pattern, stix_version="2.1") == []
        result["patched_valid"] = result["valid"]
    except Exception as e:  # the validator's own crashes
        result["raised"] = "%s: %s" % (type(e).__name__, e)
        if pattern == "":
            result["patched_valid"] = False
        else:
            result["patched_valid"] = patched(lambda: run_validator(pattern, stix_version="2.1")) == []
    try:
        parsed = Pattern(pattern)
        result["parses"] = True
    except ParseException:
        return result
    data = patched(parsed.inspect)
    comps = []
    # The inspector groups comparisons by object type; each group is in the order of the text.
    for type_name, items in data.comparisons.items():
        for path, op, value in items:
            comps.append([type_name, path_json(path), op, value])
    result["comparisons"] = comps
    return result


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as inp, open(target, "w", encoding="utf-8") as out:
        for line in inp:
            pattern = json.loads(line)["pattern"]
            out.write(json.dumps(answer(pattern)) + "\n")


if __name__ == "__main__":
    main()
