"""Side-by-side accuracy and speed of Entente and Stone Soup on identical frozen inputs.

  python compare.py accuracy --kind tutorial10 --runs 100 --c 10
  python compare.py accuracy --kind scaled --targets 10 --runs 10 --c 10
  python compare.py accuracy --kind three-nation --runs 10 --c 10
  python compare.py speed --targets 100 --scans 100

Every run generates its scenario from a seed (scenarios.py), runs both trackers on the same files,
and scores both outputs with the referee (Stone Soup's own metric generators, referee.py). Results
(one JSON line per run, then the summary) go to bench/results/. Needs the release binary:
`cargo build --release -p entente`; set ENTENTE to its path if it is not in the default target
directory.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = sys.executable
ENTENTE = os.environ.get("ENTENTE", os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "entente"))
RESULTS = os.path.join(ROOT, "bench", "results")


def sh(*args):
    out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=HERE)
    return out.stdout


def referee(truth, tracks, c, p):
    return json.loads(sh(PY, "referee.py", "--truth", truth, "--tracks", tracks, "--c", str(c),
                         "--p", str(p), "--siap-threshold", str(c)))


def scenario(kind, seed, out, targets, scans):
    args = [PY, "scenarios.py", kind, "--seed", str(seed), "--out", out]
    if kind == "scaled":
        args += ["--targets", str(targets), "--scans", str(scans)]
    sh(*args)


def one_run(kind, seed, targets, scans, c, p, work):
    d = os.path.join(work, f"{kind}-{seed}")
    scenario(kind, seed, d, targets, scans)
    truth = os.path.join(d, "truth.csv")
    with open(truth) as f:
        if sum(1 for _ in f) <= 1:
            # No target was ever born (tutorial 10's birth process allows it): nothing to score.
            return None
    if kind == "three-nation":
        ours_local, ss_local = os.path.join(d, "ours-local"), os.path.join(d, "ss-local")
        os.makedirs(ours_local)
        os.makedirs(ss_local)
        for nation in sorted(os.listdir(os.path.join(d, "nations"))):
            nd = os.path.join(d, "nations", nation)
            sh(ENTENTE, "picture", "track", "--scenario", nd, "--covariance", "--no-history",
               "--out", os.path.join(ours_local, nation + ".csv"))
            sh(PY, "run_stonesoup.py", "--scenario", nd, "--covariance", "--no-history",
               "--out", os.path.join(ss_local, nation + ".csv"))
        ours = os.path.join(d, "ours.csv")
        ss = os.path.join(d, "stonesoup.csv")
        q = json.load(open(os.path.join(d, "nations", "EST", "meta.json")))["model"]["q"]
        sh(ENTENTE, "picture", "fuse", "--inputs", ours_local, "--out", ours, "--every", "1",
           "--q", str(q))
        sh(PY, "fuse_stonesoup.py", "--inputs", ss_local, "--out", ss, "--q", str(q))
        return {"seed": seed, "entente": referee(truth, ours, c, p),
                "stonesoup": referee(truth, ss, c, p)}
    ours = os.path.join(d, "ours.csv")
    ours_ss = os.path.join(d, "ours-deletion-states.csv")
    ss = os.path.join(d, "stonesoup.csv")
    sh(ENTENTE, "picture", "track", "--scenario", d, "--out", ours)
    # The same tracker, its output written the way Stone Soup's track objects hold it.
    sh(ENTENTE, "picture", "track", "--scenario", d, "--deletion-states", "--out", ours_ss)
    sh(PY, "run_stonesoup.py", "--scenario", d, "--out", ss)
    return {"seed": seed, "entente": referee(truth, ours, c, p),
            "entente_deletion_states": referee(truth, ours_ss, c, p),
            "stonesoup": referee(truth, ss, c, p)}


def flatten(score):
    return {"GOSPA": score["gospa"]["distance"], "localisation": score["gospa"]["localisation"],
            "missed": score["gospa"]["missed"], "false": score["gospa"]["false"],
            "OSPA": score["ospa"], "SIAP C": score["siap"]["completeness"],
            "SIAP A": score["siap"]["ambiguity"], "SIAP S": score["siap"]["spuriousness"]}


def summarise(runs):
    out = {}
    for system in ("entente", "entente_deletion_states", "stonesoup"):
        if system not in runs[0]:
            continue
        rows = [flatten(r[system]) for r in runs]
        out[system] = {}
        for k in rows[0]:
            v = np.array([r[k] for r in rows])
            half = 1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0
            out[system][k] = {"mean": float(v.mean()), "ci95": float(half)}
    return out


def accuracy(a):
    os.makedirs(RESULTS, exist_ok=True)
    name = a.kind + (f"-{a.targets}" if a.kind == "scaled" else "")
    log = os.path.join(RESULTS, f"accuracy-{name}.jsonl")
    runs = []
    if a.resume and os.path.exists(log):
        with open(log) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    seed = max((r["seed"] for r in runs), default=a.first_seed - 1) + 1
    with tempfile.TemporaryDirectory() as work, open(log, "a" if a.resume else "w") as f:
        while len(runs) < a.runs:
            start = time.time()
            r = one_run(a.kind, seed, a.targets, a.scans, a.c, a.p, work)
            seed += 1
            if r is None:
                print(f"seed {seed - 1}: no target in the scenario, skipped", flush=True)
                continue
            r["seconds"] = time.time() - start
            runs.append(r)
            f.write(json.dumps(r) + "\n")
            f.flush()
            print(f"seed {r['seed']}: GOSPA entente {r['entente']['gospa']['distance']:.4f} "
                  f"stonesoup {r['stonesoup']['gospa']['distance']:.4f} ({r['seconds']:.0f} s)",
                  flush=True)
    s = summarise(runs)
    s["runs"] = len(runs)
    s["c"], s["p"] = a.c, a.p
    with open(os.path.join(RESULTS, f"accuracy-{name}.json"), "w") as f:
        json.dump(s, f, indent=1)
    for k in s["entente"]:
        line = f"{k:13s}"
        for system in ("entente", "entente_deletion_states", "stonesoup"):
            if system in s:
                line += f"  {system} {s[system][k]['mean']:.4f} ± {s[system][k]['ci95']:.4f}"
        print(line)


def speed(a):
    os.makedirs(RESULTS, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        d = os.path.join(work, "scaled")
        scenario("scaled", a.seed, d, a.targets, 600)
        ss = json.loads(sh(PY, "run_stonesoup.py", "--scenario", d, "--scans", str(a.scans),
                           "--out", os.path.join(work, "ss.csv")).strip().splitlines()[-1])
        ours_same = json.loads(sh(ENTENTE, "picture", "bench", "track", "--scenario", d,
                                  "--scans", str(a.scans), "--repeat", str(a.repeat), "--json"))
        ours_full = json.loads(sh(ENTENTE, "picture", "bench", "track", "--scenario", d, "--json"))
    r = {"targets": a.targets, "scans": a.scans, "stonesoup": ss["timing"],
         "entente_same_scans": ours_same["timing"], "entente_600_scans": ours_full["timing"]}
    r["ratio_median"] = ss["timing"]["median_us"] / ours_same["timing"]["median_us"]
    r["ratio_mean"] = ss["timing"]["mean_us"] / ours_same["timing"]["mean_us"]
    with open(os.path.join(RESULTS, f"speed-{a.targets}.json"), "w") as f:
        json.dump(r, f, indent=1)
    print(json.dumps(r, indent=1))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    acc = sub.add_parser("accuracy")
    acc.add_argument("--kind", choices=["tutorial10", "scaled", "three-nation"], required=True)
    acc.add_argument("--runs", type=int, default=100)
    acc.add_argument("--first-seed", type=int, default=0)
    acc.add_argument("--targets", type=int, default=10)
    acc.add_argument("--scans", type=int, default=600)
    acc.add_argument("--c", type=float, default=10.0)
    acc.add_argument("--p", type=float, default=1.0)
    acc.add_argument("--resume", action="store_true",
                     help="keep the runs already in the results file and add more")
    sp = sub.add_parser("speed")
    sp.add_argument("--targets", type=int, required=True)
    sp.add_argument("--scans", type=int, default=100)
    sp.add_argument("--repeat", type=int, default=1)
    sp.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    accuracy(a) if a.cmd == "accuracy" else speed(a)


if __name__ == "__main__":
    main()
