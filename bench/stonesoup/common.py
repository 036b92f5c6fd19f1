"""Reading and writing the scenario and track files, shared by the Stone Soup scripts."""

import csv
import datetime
import json
import os

import numpy as np

EPOCH = datetime.datetime(2026, 1, 1)


def when(t):
    return EPOCH + datetime.timedelta(seconds=float(t))


def read_scenario(d):
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    scans = []
    index = {}
    with open(os.path.join(d, "scans.csv")) as f:
        for row in csv.DictReader(f):
            index[row["scan"]] = len(scans)
            scans.append((float(row["t"]), []))
    with open(os.path.join(d, "detections.csv")) as f:
        for row in csv.DictReader(f):
            scans[index[row["scan"]]][1].append((float(row["x"]), float(row["y"])))
    return meta, scans


def read_paths(path, id_column):
    """{id: [(t, x, vx, y, vy), ...]} in file order."""
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            out.setdefault(row[id_column], []).append(
                tuple(float(row[k]) for k in ("t", "x", "vx", "y", "vy")))
    return out


def tracker_params(meta):
    """The tutorial-10 components, scaled to the scenario's plot noise as our tracker does."""
    m = meta["model"]
    o = meta.get("tracker", {})
    rx, ry = m["R"]
    return {
        "q": m["q"], "rx": rx, "ry": ry,
        "missed_distance": o.get("missed_distance", 3.0),
        "delete_trace": o.get("delete_covariance_trace", 4.0 * (rx + ry)),
        "min_points": o.get("min_points", 3),
        "prior_velocity_variance": o.get("prior_velocity_variance", 0.5),
    }


def write_tracks(path, rows, covariance=False):
    cols = ["track_id", "t", "x", "vx", "y", "vy"]
    cov_cols = ["p_x_x", "p_x_vx", "p_x_y", "p_x_vy", "p_vx_vx", "p_vx_y", "p_vx_vy", "p_y_y",
                "p_y_vy", "p_vy_vy"]
    with open(path, "w") as f:
        f.write(",".join(cols + (cov_cols if covariance else [])) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")


def percentile(values, q):
    values = sorted(values)
    if not values:
        return 0.0
    k = max(1, int(np.ceil(q * len(values)))) - 1
    return values[k]
