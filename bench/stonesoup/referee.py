"""The referee: scores a track file against a truth file with Stone Soup's own metric generators
(GOSPAMetric, OSPAMetric, SIAPMetrics with the TrackToTruth associator), on positions only.

  python referee.py --truth truth.csv --tracks tracks.csv [--c 10] [--p 1] [--siap-threshold 10]

Prints JSON: mean GOSPA (and its localisation / missed / false split), mean OSPA, SIAP
completeness, ambiguity and spuriousness. Means are over the instants Stone Soup scores (every
time at which a truth or a track has a state).
"""

import argparse
import json

import numpy as np
from stonesoup.dataassociator.tracktotrack import TrackToTruth
from stonesoup.measures import Euclidean
from stonesoup.metricgenerator.manager import MultiManager
from stonesoup.metricgenerator.ospametric import GOSPAMetric, OSPAMetric
from stonesoup.metricgenerator.tracktotruthmetrics import SIAPMetrics
from stonesoup.types.groundtruth import GroundTruthPath, GroundTruthState
from stonesoup.types.state import State
from stonesoup.types.track import Track

from common import read_paths, when


def load(truth_file, tracks_file):
    truths = set()
    for tid, states in read_paths(truth_file, "target_id").items():
        truths.add(GroundTruthPath(
            [GroundTruthState(np.array([[x], [vx], [y], [vy]]), timestamp=when(t))
             for t, x, vx, y, vy in states], id=tid))
    tracks = set()
    for tid, states in read_paths(tracks_file, "track_id").items():
        states = sorted(states)
        tracks.add(Track([State(np.array([[x], [vx], [y], [vy]]), timestamp=when(t))
                          for t, x, vx, y, vy in states], id=tid))
    return truths, tracks


def score(truths, tracks, c, p, siap_threshold):
    position = Euclidean((0, 2))
    generators = [
        GOSPAMetric(c=c, p=p, measure=position),
        OSPAMetric(c=c, p=p, measure=position),
        SIAPMetrics(position_measure=position, velocity_measure=Euclidean((1, 3))),
    ]
    manager = MultiManager(generators, TrackToTruth(association_threshold=siap_threshold,
                                                    measure=position))
    manager.add_data({"groundtruth_paths": truths, "tracks": tracks})
    metrics = manager.generate_metrics()
    gospa = metrics["gospa_generator"]["GOSPA Metrics"].value
    ospa = metrics["ospa_generator"]["OSPA distances"].value
    siap = metrics["SIAP Metrics"] if "SIAP Metrics" in metrics else next(
        v for k, v in metrics.items() if "SIAP" in k or "siap" in k)
    mean = lambda key: float(np.mean([m.value[key] for m in gospa]))
    return {
        "instants": len(gospa),
        "gospa": {"distance": mean("distance"), "localisation": mean("localisation"),
                  "missed": mean("missed"), "false": mean("false")},
        "ospa": float(np.mean([m.value for m in ospa])),
        "siap": {"completeness": float(siap["SIAP Completeness"].value),
                 "ambiguity": float(siap["SIAP Ambiguity"].value),
                 "spuriousness": float(siap["SIAP Spuriousness"].value)},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--tracks", required=True)
    ap.add_argument("--c", type=float, default=10.0)
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--siap-threshold", type=float)
    a = ap.parse_args()
    truths, tracks = load(a.truth, a.tracks)
    print(json.dumps(score(truths, tracks, a.c, a.p, a.siap_threshold or a.c), indent=1))


if __name__ == "__main__":
    main()
