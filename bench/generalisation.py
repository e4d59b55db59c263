"""Least-loss generalisation to k: the lattice search against an exhaustive search (and the old greedy).

    PYTHONPATH=. python bench/generalisation.py [--greedy-engine DIR]

``--greedy-engine`` names a checkout whose ``segmentation`` package still holds the greedy
search (e.g. ``git archive 2bda144 segmentation | tar -x -C /tmp/greedy``); its result is
measured in a subprocess so both engines can be compared on the same tables.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segmentation.protection.generalise import generalise, hierarchies_for, level_codes
from segmentation.protection.hierarchy import read_hierarchy
from segmentation.protection.lattice import Targets, node_outcome
from tests.segmentation.helpers import ADULT_QUASI_IDENTIFIERS as QI
from tests.segmentation.helpers import EDUCATION, MARITAL, adult_like, arx_hierarchy

GREEDY = """
import json, sys
import pandas as pd
from segmentation.protection.generalise import generalise
frame = pd.read_csv(sys.argv[1], dtype=str)
r = generalise(frame, sys.argv[2].split(","), k=int(sys.argv[3]), max_suppression=0.05)
share = r.suppressed_rows / len(frame)
height = r.information_loss - share
print(json.dumps({"loss": r.information_loss, "precision_loss": height * (1 - share) + share,
                  "levels": r.levels, "suppressed": r.suppressed_rows}))
"""


def exhaustive(frame, hierarchies, k):
    codes = [level_codes(frame[c], hierarchies[c])[0] for c in QI]
    heights = [len(levels) - 1 for levels in codes]
    losses = []
    for node in itertools.product(*(range(h + 1) for h in heights)):
        outcome = node_outcome(node, codes, heights, Targets(k=k), [])[0]
        if outcome is not None:
            losses.append(outcome.precision_loss)
    best = min(losses)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--greedy-engine", type=Path)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 30000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    for column, mapping in (("education", EDUCATION), ("marital", MARITAL)):
        (work / f"{column}.csv").write_text(arx_hierarchy(mapping))
    supplied = {c: read_hierarchy(work / f"{c}.csv", c) for c in ("education", "marital")}
    print(
        "| table | greedy loss (its own metric) | greedy precision loss | hierarchies | lattice "
        "nodes (evaluated) | optimal precision loss | exhaustive least | seconds |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for rows, seed in itertools.product(args.rows, (0, 1)):
        frame = adult_like(rows, seed=seed)
        greedy = {"loss": float("nan"), "precision_loss": float("nan")}
        if args.greedy_engine:
            path = work / f"adult{rows}-{seed}.csv"
            frame.to_csv(path, index=False)
            done = subprocess.run(
                [sys.executable, "-c", GREEDY, str(path), ",".join(QI), str(args.k)],
                capture_output=True, text=True, check=True, cwd=work, env={"PYTHONPATH": str(args.greedy_engine)},
            )  # fmt: skip
            greedy = json.loads(done.stdout)
        for label, given in (("defaults", {}), ("ARX files for education, marital", supplied)):
            started = time.perf_counter()
            result = generalise(frame, QI, k=args.k, hierarchies=given)
            seconds = time.perf_counter() - started
            least = exhaustive(frame, hierarchies_for(frame, QI, given), args.k)
            print(
                f"| adult-like {rows:,} rows, seed {seed} | {greedy['loss']:.3f} | {greedy['precision_loss']:.3f} "
                f"| {label} | {result.lattice_nodes} ({result.evaluated_nodes}) | {result.information_loss:.3f} "
                f"| {least:.3f} | {seconds:.2f} |"
            )


if __name__ == "__main__":
    main()
