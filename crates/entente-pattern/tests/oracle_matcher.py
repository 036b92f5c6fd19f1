"""Answers, for each (pattern, bundles) pair of a JSON-lines file, what OASIS stix2-matcher says.

Usage: oracle_matcher.py INPUT OUTPUT
Each input line: {"pattern": "...", "bundles": [bundle, ...]}.  Each output line, in order:
  {"result": true | false | "error", "error": "TypeName: message" or null}
with stix2matcher.matcher.match(pattern, bundles, stix_version='2.1') (a non-empty list: true).
"""

import json
import sys

from stix2matcher.matcher import match


def main():
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as inp, open(target, "w", encoding="utf-8") as out:
        for line in inp:
            case = json.loads(line)
            try:
                result = bool(match(case["pattern"], case["bundles"], stix_version="2.1"))
                answer = {"result": result, "error": None}
            except Exception as e:  # stix2-matcher raising is an answer too
                answer = {"result": "error", "error": "%s: %s" % (type(e).__name__, e)}
            out.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
