"""Track-to-track fusion with Stone Soup: national tracks in, fused tracks out.

  python fuse_stonesoup.py --inputs DIR --out fused.csv [--q 0.005] [--omega 0.5]

DIR holds <NATION>.csv files (track_id,t,x,vx,y,vy + covariance columns), as for
`entente picture fuse`. Each national report (all tracks a nation holds at one of its scan times)
becomes a set of GaussianDetections fed to a Stone Soup MultiTargetTracker whose updater is the
ChernoffUpdater (covariance intersection as a Bayesian update), with a Mahalanobis
DistanceHypothesiser, GNNWith2DAssignment, CovarianceBasedDeleter and MultiMeasurementInitiator.
Reports of different nations at the same time are fed one after the other, so a fused track can
take one track of each nation. Fused tracks are written at every report instant from their
confirmation on (the last state per instant).
"""

import argparse
import csv
import os
import time

import numpy as np
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.error import CovarianceBasedDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel, ConstantVelocity)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.detection import GaussianDetection
from stonesoup.types.state import GaussianState
from stonesoup.updater.chernoff import ChernoffUpdater

from common import EPOCH, when, write_tracks

UPPER = [(0, 0), (0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]
COV = ["p_x_x", "p_x_vx", "p_x_y", "p_x_vy", "p_vx_vx", "p_vx_y", "p_vx_vy", "p_y_y", "p_y_vy",
       "p_vy_vy"]


def read_reports(d):
    """[(t, nation, [(mean, covar), ...]), ...] sorted by time then nation."""
    reports = {}
    for name in sorted(os.listdir(d)):
        if not name.endswith(".csv") or len(name) != 7:
            continue
        nation = name[:3]
        with open(os.path.join(d, name)) as f:
            for row in csv.DictReader(f):
                t = float(row["t"])
                x = np.array([[float(row[k])] for k in ("x", "vx", "y", "vy")])
                p = np.zeros((4, 4))
                for (i, j), c in zip(UPPER, COV):
                    p[i, j] = p[j, i] = float(row[c])
                reports.setdefault((t, nation), []).append((x, p))
    return [(t, n, v) for (t, n), v in sorted(reports.items())]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--q", type=float, default=0.005)
    ap.add_argument("--omega", type=float, default=0.5)
    ap.add_argument("--missed-distance", type=float, default=float(np.sqrt(13.2767)))
    ap.add_argument("--delete-trace", type=float, default=10.0)
    a = ap.parse_args()

    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(a.q), ConstantVelocity(a.q)])
    predictor = KalmanPredictor(transition)
    updater = ChernoffUpdater(measurement_model=None, omega=a.omega)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=a.missed_distance)
    associator = GNNWith2DAssignment(hypothesiser)
    deleter = CovarianceBasedDeleter(covar_trace_thresh=a.delete_trace)
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState(np.zeros((4, 1)), np.zeros((4, 4))),
        measurement_model=None, deleter=deleter, data_associator=associator, updater=updater,
        min_points=2)

    feed = []
    for t, nation, tracks in read_reports(a.inputs):
        dets = set()
        for x, p in tracks:
            model = LinearGaussian(4, [0, 1, 2, 3], p)
            dets.add(GaussianDetection(x, p, timestamp=when(t), measurement_model=model))
        feed.append((when(t), dets))
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=feed,
                                 data_associator=associator, updater=updater)
    confirmed_at = {}
    all_tracks = set()
    times = []
    it = iter(tracker)
    for stamp, _ in feed:
        start = time.perf_counter()
        _, current = next(it)
        times.append(time.perf_counter() - start)
        for tr in current:
            confirmed_at.setdefault(tr, stamp)
        all_tracks |= current
    rows = []
    for n, tr in enumerate(sorted(all_tracks, key=lambda tr: (tr[0].timestamp, tr.id))):
        for s in tr.last_timestamp_generator():
            if s.timestamp < confirmed_at[tr]:
                continue
            v = s.state_vector.ravel()
            rows.append([n + 1, (s.timestamp - EPOCH).total_seconds(), *map(float, v)])
    rows.sort(key=lambda r: (r[1], r[0]))
    write_tracks(a.out, rows)
    print({"fused_tracks": len(all_tracks), "reports": len(feed),
           "median_ms": float(np.median(times) * 1e3)})


if __name__ == "__main__":
    main()
