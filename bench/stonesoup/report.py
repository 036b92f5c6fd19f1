"""Prints the markdown tables of BENCHMARKS.md's "Air picture" section from bench/results/."""

import json
import os

RESULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results")
METRICS = ["GOSPA", "localisation", "missed", "false", "OSPA", "SIAP C", "SIAP A", "SIAP S"]
NAMES = {"entente": "Entente (live picture)",
         "entente_deletion_states": "Entente (Stone Soup output convention)",
         "stonesoup": "Stone Soup 1.9.1"}


def accuracy_table(name, title):
    path = os.path.join(RESULTS, f"accuracy-{name}.json")
    if not os.path.exists(path):
        return
    s = json.load(open(path))
    print(f"**{title}** — {s['runs']} Monte Carlo runs, c = {s['c']:g}, p = {s['p']:g}; mean ± 95 % CI")
    print()
    print("| system | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for system, label in NAMES.items():
        if system == "entente" and "entente_deletion_states" not in s:
            label = "Entente"
        if system in s:
            cells = [f"{s[system][m]['mean']:.4f} ± {s[system][m]['ci95']:.4f}" for m in METRICS]
            print(f"| {label} | " + " | ".join(cells) + " |")
    print()


def speed_table():
    print("| targets | scans timed (Stone Soup) | Stone Soup median / p99 per scan | Entente same scans median / p99 | Entente all 600 scans median / p99 | ratio (median) |")
    print("|---|---|---|---|---|---|")
    for n in (10, 100, 1000):
        path = os.path.join(RESULTS, f"speed-{n}.json")
        if not os.path.exists(path):
            continue
        r = json.load(open(path))
        ss, same, full = r["stonesoup"], r["entente_same_scans"], r["entente_600_scans"]
        ms = lambda us: f"{us / 1000:.1f} ms" if us < 1e6 else f"{us / 1e6:.2f} s"
        print(f"| {n} | {r['scans']} | {ms(ss['median_us'])} / {ms(ss['p99_us'])} | "
              f"{same['median_us']:.1f} µs / {same['p99_us']:.1f} µs | "
              f"{full['median_us']:.1f} µs / {full['p99_us']:.1f} µs | {r['ratio_median']:,.0f}× |")
    print()


if __name__ == "__main__":
    speed_table()
    accuracy_table("tutorial10", "Tutorial 10")
    for n in (10, 100, 1000):
        accuracy_table(f"scaled-{n}", f"Scaled, {n} targets")
    accuracy_table("three-nation", "Three nations, fused")
