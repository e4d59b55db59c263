"""The platform's default run against a plain pandas + scikit-learn + hdbscan notebook, side by side.

    PYTHONPATH=. python bench/pipeline_vs_baseline.py [--log var/bench/log_200k.parquet] [--record]
    PYTHONPATH=. python bench/pipeline_vs_baseline.py --log var/bench/log_1m.parquet --only platform
    BENCH_TRANSFORMS=default PYTHONPATH=. python bench/pipeline_vs_baseline.py   # the default run

``BENCH_TRANSFORMS=default`` runs the platform as a user who names no transforms gets it (the
engine's own defaults decide); the default ``log1p`` names log1p on the skewed four, as the
notebook does.

Each side runs in its own child process (this script re-invoked with ``--side``), so its wall
time and peak memory (``ru_maxrss`` of that child, from ``os.wait4``) are its own. Both read the
same log written by ``bench/generate.py`` and are scored by adjusted Rand against the generator's
planted archetypes (``<log>.truth.parquet``). Not a test: timings depend on the machine's load.

The baseline is written as a careful analyst's notebook would do the same steps:

- features: pandas groupby over purchases (amount > 0) and refunds: recency, frequency,
  monetary total and mean, refund rate, Q4 share and busiest-quarter share (the platform's
  ``rfm`` and ``seasonality`` groups); log1p on the skewed ones; median fill; StandardScaler;
- K-Means (``n_init=10``) and a full-covariance GaussianMixture for each k = 2..10 on every row;
  silhouette on a 10,000-row sample (``silhouette_score(sample_size=10_000)``: the full one is
  quadratic, ~4 minutes at 200k), Davies–Bouldin and Calinski–Harabasz on every row;
- HDBSCAN (``hdbscan`` package) fitted on a 20,000-row sample — on all 200,000 rows it does not
  finish in minutes — and ``approximate_predict`` for the rest;
- the best candidate by silhouette refitted on 20 bootstrap resamples of every row (mean ARI);
- a profile (per-segment means, medians and lift) and a depth-4 DecisionTreeClassifier with
  held-out fidelity and ``export_text`` rules.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKEWED = ("recency_days", "frequency", "monetary_total", "monetary_mean")
FEATURES = (*SKEWED, "refund_rate", "q4_share", "top_quarter_share")
K_RANGE = range(2, 11)
RESAMPLES = 20
SEED = 0


def _platform(log_path: Path) -> dict:
    import pandas as pd

    from segmentation.pipeline import segment
    from segmentation.spec import SegmentationSpec

    log = pd.read_parquet(log_path)
    started = time.perf_counter()
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "input_kind": "transactions",
            "timestamp_column": "timestamp",
            "amount_column": "amount",
            "features": ["rfm", "seasonality"],
            **_transforms(),
            "algorithms": ["kmeans", "gmm", "hdbscan"],
            "k_min": 2,
            "k_max": 10,
            "stability_resamples": RESAMPLES,
            "random_state": SEED,
            "selection": os.environ.get("BENCH_SELECTION", "combined"),
        }
    )
    steps: list[tuple[str, float]] = []
    result = segment(log, spec, progress=lambda step, _: steps.append((step, time.perf_counter() - started)))
    wall = time.perf_counter() - started
    return {
        "wall_steps": wall,
        "ids": result.labels["customer_id"].astype(str).tolist(),
        "labels": result.labels["segment"].tolist(),
        "selected": f"{result.metrics['selected']['algorithm']} k={result.metrics['selected']['k']}",
        "steps": _step_times(steps),
    }


def _transforms() -> dict:
    """The platform's transforms: log1p on the skewed four, or none named (the default run)."""
    if os.environ.get("BENCH_TRANSFORMS", "log1p") == "default":
        return {}
    return {"transforms": dict.fromkeys(SKEWED, "log1p")}


def _step_times(steps: list[tuple[str, float]]) -> dict[str, float]:
    """Seconds spent in each reported step (until the next one began)."""
    out: dict[str, float] = {}
    previous = 0.0
    for name, at in steps:
        out[name] = round(out.get(name, 0.0) + at - previous, 2)
        previous = at
    return out


def _baseline(log_path: Path) -> dict:
    import hdbscan
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.metrics import (
        adjusted_rand_score,
        calinski_harabasz_score,
        davies_bouldin_score,
        silhouette_score,
    )
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier, export_text

    log = pd.read_parquet(log_path)
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []

    def mark(step: str) -> None:
        marks.append((step, time.perf_counter() - started))

    # --- features, as of the day after the last event
    log = log.dropna(subset=["customer_id"])
    as_of = log["timestamp"].max().normalize() + pd.Timedelta(days=1)
    buys = log[log["amount"] > 0]
    g = buys.groupby("customer_id")
    feats = pd.DataFrame(
        {
            "recency_days": (as_of - g["timestamp"].max()).dt.days,
            "frequency": g.size(),
            "monetary_total": g["amount"].sum(),
            "monetary_mean": g["amount"].mean(),
        }
    )
    events = log.groupby("customer_id").size()
    refunds = log[log["amount"] < 0].groupby("customer_id").size()
    feats = feats.reindex(events.index)
    feats["refund_rate"] = refunds.reindex(events.index, fill_value=0) / events
    quarter = buys["timestamp"].dt.quarter
    by_quarter = buys.groupby([buys["customer_id"], quarter])["amount"].sum().unstack(fill_value=0)
    share = by_quarter.div(by_quarter.sum(axis=1), axis=0)
    feats["q4_share"] = share.get(4, 0.0)
    feats["top_quarter_share"] = share.max(axis=1)
    feats["frequency"] = feats["frequency"].fillna(0)
    feats["monetary_total"] = feats["monetary_total"].fillna(0)
    for column in SKEWED:
        feats[column] = np.log1p(feats[column])
    feats = feats.fillna(feats.median())
    X = StandardScaler().fit_transform(feats[list(FEATURES)])
    mark("features")

    # --- sweep
    candidates = []
    fitted = {}
    for k in K_RANGE:
        for name, model in (
            ("kmeans", KMeans(n_clusters=k, n_init=10, random_state=SEED)),
            ("gmm", GaussianMixture(n_components=k, covariance_type="full", random_state=SEED)),
        ):
            labels = model.fit_predict(X)
            fitted[(name, k)] = labels
            candidates.append(
                {
                    "algorithm": name,
                    "k": k,
                    "silhouette": silhouette_score(X, labels, sample_size=10_000, random_state=SEED),
                    "davies_bouldin": davies_bouldin_score(X, labels),
                    "calinski_harabasz": calinski_harabasz_score(X, labels),
                }
            )
    mark("kmeans + gmm + validation")
    rng = np.random.default_rng(SEED)
    sample = rng.choice(len(X), size=min(20_000, len(X)), replace=False)
    density = hdbscan.HDBSCAN(min_cluster_size=200, min_samples=10, prediction_data=True).fit(X[sample])
    dense_labels, _ = hdbscan.approximate_predict(density, X)
    clusters = len(set(dense_labels) - {-1})
    if clusters >= 2:
        kept = dense_labels >= 0
        candidates.append(
            {
                "algorithm": "hdbscan",
                "k": clusters,
                "silhouette": silhouette_score(
                    X[kept], dense_labels[kept], sample_size=10_000, random_state=SEED
                ),
            }
        )
        fitted[("hdbscan", clusters)] = dense_labels
    mark("hdbscan")

    # --- choose by silhouette, then bootstrap stability of the winner
    best = max(candidates, key=lambda c: c["silhouette"])
    labels = fitted[(best["algorithm"], best["k"])]
    aris = []
    for b in range(RESAMPLES):
        rows = rng.integers(0, len(X), size=len(X))
        if best["algorithm"] == "kmeans":
            refit = KMeans(n_clusters=best["k"], n_init=10, random_state=b).fit(X[rows])
        elif best["algorithm"] == "gmm":
            refit = GaussianMixture(n_components=best["k"], random_state=b).fit(X[rows])
        else:
            refit = KMeans(n_clusters=best["k"], n_init=10, random_state=b).fit(X[rows])
        aris.append(adjusted_rand_score(labels, refit.predict(X)))
    mark("stability")

    # --- profile and rules
    raw = feats.assign(segment=labels)
    profile = raw.groupby("segment").agg(["mean", "median"])
    lift = raw.groupby("segment").mean() / raw.drop(columns="segment").mean()
    train_x, test_x, train_y, test_y = train_test_split(feats, labels, test_size=0.25, random_state=SEED)
    tree = DecisionTreeClassifier(max_depth=4, random_state=SEED).fit(train_x, train_y)
    fidelity = tree.score(test_x, test_y)
    rules = export_text(tree, feature_names=list(feats.columns))
    mark("profile + rules")
    del profile, lift, rules
    return {
        "wall_steps": time.perf_counter() - started,
        "ids": feats.index.astype(str).tolist(),
        "labels": [int(v) for v in labels],
        "selected": f"{best['algorithm']} k={best['k']} (stability {np.mean(aris):.3f}, fidelity {fidelity:.3f})",
        "steps": _step_times(marks),
    }


def _run_side(side: str, log: Path, out: Path) -> dict:
    """Run one side in a child process; its own wall and peak RSS."""
    load = os.getloadavg()
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--side", side, "--log", str(log), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{side} failed with status {status}")
    result = json.loads(out.read_text())
    result.update(side=side, wall_process=wall, peak_gib=usage.ru_maxrss / 2**20, load_before=load)
    return result


def _ari(result: dict, truth) -> float:
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    got = pd.Series(result["labels"], index=result["ids"])
    return float(adjusted_rand_score(truth.loc[got.index], got.to_numpy()))


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{platform.machine()}, nproc {os.cpu_count()}, {cpu}, {int(mem) / 2**20:.1f} GiB memory, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log", type=Path, default=ROOT / "var/bench/log_200k.parquet")
    parser.add_argument("--only", choices=("platform", "baseline"))
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    parser.add_argument("--side", choices=("platform", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        result = (_platform if args.side == "platform" else _baseline)(args.log)
        args.out.write_text(json.dumps(result))
        return

    import pandas as pd

    truth_frame = pd.read_parquet(args.log.with_name(args.log.name + ".truth.parquet"))
    truth = pd.Series(truth_frame["archetype"].to_numpy(), index=truth_frame["customer_id"].astype(str))
    events = len(pd.read_parquet(args.log, columns=["customer_id"]))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sides = [args.only] if args.only else ["platform", "baseline"]
    results = []
    for side in sides:
        out = args.log.with_name(f"{args.log.stem}.{side}.json")
        result = _run_side(side, args.log, out)
        result["ari"] = _ari(result, truth)
        out.unlink()
        results.append(result)
        print(
            f"{side}: wall {result['wall_process']:.1f} s (steps {result['wall_steps']:.1f} s), "
            f"peak {result['peak_gib']:.2f} GiB, ARI {result['ari']:.3f}, {result['selected']}, "
            f"load before {result['load_before'][0]:.2f}; {result['steps']}",
            flush=True,
        )
    lines = [
        f"### {len(truth):,} customers, {events:,} events ({when})",
        "",
        f"- machine: {_machine()}",
    ]
    for r in results:
        lines.append(
            f"- {r['side']}: wall {r['wall_process']:.1f} s for the whole process "
            f"({r['wall_steps']:.1f} s after reading the log), peak RSS {r['peak_gib']:.2f} GiB, "
            f"adjusted Rand vs planted archetypes {r['ari']:.3f}, selected {r['selected']}; "
            f"load average before it {', '.join(f'{v:.2f}' for v in r['load_before'])}; "
            f"steps (s): {r['steps']}"
        )
    if len(results) == 2:
        p, b = results
        lines.append(
            f"- ratios platform / baseline: wall {p['wall_process'] / b['wall_process']:.2f} "
            f"(after reading {p['wall_steps'] / b['wall_steps']:.2f}), peak memory "
            f"{p['peak_gib'] / b['peak_gib']:.2f}, adjusted Rand {p['ari']:.3f} vs {b['ari']:.3f}"
        )
    text = "\n".join(lines)
    print(text)
    if args.record:
        path = ROOT / "bench/RESULTS.md"
        path.write_text(path.read_text().rstrip("\n") + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
