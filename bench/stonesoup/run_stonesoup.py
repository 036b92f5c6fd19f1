"""Runs Stone Soup's tutorial-10 tracker on a scenario directory.

  python run_stonesoup.py --scenario DIR --out tracks.csv [--scans N] [--timing timing.json]
                          [--covariance]

The tracker is the one of Stone Soup's tutorial 10 (KalmanPredictor / KalmanUpdater,
DistanceHypothesiser with the Mahalanobis measure, GNNWith2DAssignment, CovarianceBasedDeleter,
MultiMeasurementInitiator), with the scenario's q and R. Only the tracker step is timed; the plots
are turned into Stone Soup detections before the clock starts.
"""

import argparse
import json
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
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState
from stonesoup.updater.kalman import KalmanUpdater

from common import percentile, read_scenario, tracker_params, when, write_tracks


def build_tracker(params, feed):
    transition = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(params["q"]), ConstantVelocity(params["q"])])
    measurement = LinearGaussian(4, [0, 2], np.diag([params["rx"], params["ry"]]))
    predictor = KalmanPredictor(transition)
    updater = KalmanUpdater(measurement)
    hypothesiser = DistanceHypothesiser(predictor, updater, measure=Mahalanobis(),
                                        missed_distance=params["missed_distance"])
    associator = GNNWith2DAssignment(hypothesiser)
    deleter = CovarianceBasedDeleter(covar_trace_thresh=params["delete_trace"])
    v = params["prior_velocity_variance"]
    initiator = MultiMeasurementInitiator(
        prior_state=GaussianState([[0], [0], [0], [0]], np.diag([0, v, 0, v])),
        measurement_model=measurement, deleter=deleter, data_associator=associator,
        updater=updater, min_points=params["min_points"])
    return MultiTargetTracker(initiator=initiator, deleter=deleter, detector=feed,
                              data_associator=associator, updater=updater), measurement


def run(scenario, scans_limit=None):
    meta, scans = read_scenario(scenario)
    if scans_limit:
        scans = scans[:scans_limit]
    params = tracker_params(meta)
    measurement = LinearGaussian(4, [0, 2], np.diag([params["rx"], params["ry"]]))
    feed = [(when(t), {Detection(np.array([[x], [y]]), timestamp=when(t),
                                 measurement_model=measurement) for x, y in plots})
            for t, plots in scans]
    tracker, _ = build_tracker(params, feed)
    it = iter(tracker)
    times = []
    tracks = set()
    confirmed_at = {}
    for when_, _ in feed:
        start = time.perf_counter()
        _, current = next(it)
        times.append(time.perf_counter() - start)
        for track in current:
            confirmed_at.setdefault(track, when_)
        tracks |= current
    return tracks, times, confirmed_at


def rows_of(tracks, covariance=False, confirmed_at=None):
    """Rows of every state of every track; with `confirmed_at`, only from each track's
    confirmation on (what a live picture would have shown)."""
    from common import EPOCH
    rows = []
    for n, track in enumerate(sorted(tracks, key=lambda tr: (tr[0].timestamp, tr.id))):
        for s in track.last_timestamp_generator():
            if confirmed_at is not None and s.timestamp < confirmed_at[track]:
                continue
            v = s.state_vector.ravel()
            row = [n + 1, (s.timestamp - EPOCH).total_seconds(), *map(float, v)]
            if covariance:
                p = s.covar
                row += [float(p[i, j]) for i, j in
                        [(0, 0), (0, 1), (0, 2), (0, 3), (1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (3, 3)]]
            rows.append(row)
    rows.sort(key=lambda r: (r[1], r[0]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--scans", type=int)
    ap.add_argument("--timing")
    ap.add_argument("--covariance", action="store_true")
    ap.add_argument("--no-history", action="store_true",
                    help="leave out the states a track had before it was confirmed")
    a = ap.parse_args()
    tracks, times, confirmed_at = run(a.scenario, a.scans)
    write_tracks(a.out, rows_of(tracks, a.covariance, confirmed_at if a.no_history else None),
                 a.covariance)
    us = [t * 1e6 for t in times]
    summary = {"samples": len(us), "median_us": percentile(us, 0.5), "p99_us": percentile(us, 0.99),
               "mean_us": float(np.mean(us)) if us else 0.0, "max_us": max(us, default=0.0)}
    if a.timing:
        with open(a.timing, "w") as f:
            json.dump(summary, f, indent=1)
    print(json.dumps({"tracks": len(tracks), "timing": summary}))


if __name__ == "__main__":
    main()
