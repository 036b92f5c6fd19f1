#!/usr/bin/env python3
"""Time to first render of console pages in Chromium, on loopback.

Starts `console_bench` (a node holding N objects, 16 users), waits until it serves, signs in in
a headless Chromium (Debian's, by its executable path) and loads the holdings page and object
pages R times each, reading the browser's own `first-contentful-paint` and the navigation's
`responseEnd` (the server's answer fully received). Prints p50/p99 of each.

    python3 bench/console/first_render.py --objects 100000 --runs 40 [--requests 200]

With `--requests`, the server-side timings `console_bench` prints first are of that many requests per
user and page kind (its default here is 20).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def percentile(values, p):
    values = sorted(values)
    return values[round((len(values) - 1) * p)]


def timings(page):
    """First contentful paint and response end of the last navigation, in ms from its start.
    The paint may be recorded after the load event the navigation waited for: it is awaited
    (at most 2 s), and None when the browser reported none."""
    return page.evaluate(
        """() => new Promise(resolve => {
            const nav = performance.getEntriesByType('navigation')[0];
            const done = fcp => resolve([fcp, nav.responseEnd]);
            const seen = performance.getEntriesByName('first-contentful-paint')[0];
            if (seen) { done(seen.startTime); return; }
            new PerformanceObserver(list => {
                const e = list.getEntriesByName('first-contentful-paint')[0];
                if (e) done(e.startTime);
            }).observe({type: 'paint', buffered: true});
            setTimeout(() => done(null), 2000);
        })"""
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--requests", type=int, default=20,
                        help="requests per user and page kind console_bench times before serving")
    parser.add_argument("--bench", default=None, help="the console_bench binary (default: cargo run --release)")
    args = parser.parse_args()
    serve_file = os.path.join(tempfile.mkdtemp(), "serving.json")
    command = [args.bench] if args.bench else [
        "cargo", "run", "--quiet", "--release", "-p", "entente-console", "--example", "console_bench", "--"]
    bench = subprocess.Popen(command + [str(args.objects), str(args.requests), serve_file], stdout=sys.stderr)
    try:
        while not os.path.exists(serve_file):
            if bench.poll() is not None:
                sys.exit("console_bench stopped before serving")
            time.sleep(0.5)
        time.sleep(0.2)
        about = json.load(open(serve_file))
        base, user, password = about["base"], about["users"][0], about["password"]
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("ENTENTE_CHROMIUM", "/usr/bin/chromium"), args=CHROMIUM_ARGS)
            context = browser.new_context()
            page = context.new_page()
            page.goto(base + "/console/signin")
            page.fill("#name", user)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url("**/console/holdings")
            links = page.eval_on_selector_all("table.holdings a[href^='/console/objects/']", "els => els.map(e => e.getAttribute('href'))")
            results = {"holdings": [], "object": []}
            for run in range(args.runs):
                for kind, path in (("holdings", "/console/holdings?sort=name&page=3"),
                                   ("object", links[run % len(links)])):
                    page.goto(base + path)
                    fcp, response_end = timings(page)
                    results[kind].append((fcp, response_end))
            browser.close()
        print(f"Chromium {args.objects} objects held, {args.runs} loads each (ms from navigation start):")
        for kind, values in results.items():
            fcp = [v[0] for v in values if v[0] is not None]
            resp = [v[1] for v in values]
            if len(fcp) < len(values):
                print(f"  {kind}: {len(values) - len(fcp)} of {len(values)} loads reported no first contentful paint")
            if not fcp:
                continue
            print(f"  {kind}: first contentful paint p50={percentile(fcp, .5):.1f} p99={percentile(fcp, .99):.1f} max={max(fcp):.1f};"
                  f" response end p50={percentile(resp, .5):.1f} p99={percentile(resp, .99):.1f}")
    finally:
        if os.path.exists(serve_file):
            os.remove(serve_file)
        bench.wait(timeout=60)


if __name__ == "__main__":
    main()
