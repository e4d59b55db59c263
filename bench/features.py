"""Time feature engineering from a transaction log: DuckDB against pandas, same features.

    python bench/features.py                      # 10M events (200,000 customers), best of 3
    python bench/features.py --customers 20000    # a quick look

Writes the figures, with the machine (cores, memory, CPU model), the load and the date, into
bench/RESULTS.md between the ``features`` markers (other benchmarks keep their own sections).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from segmentation.data.aggregate import aggregate, lean_events, ordered_statistics  # noqa: E402
from segmentation.data.features import customer_features, day_number  # noqa: E402
from segmentation.data.transactions import clean_transactions  # noqa: E402
from segmentation.spec import SegmentationSpec  # noqa: E402
from segmentation.synthetic.transactions import transaction_log  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- features:begin -->", "<!-- features:end -->"
AS_OF = dt.date(2026, 1, 1)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor() or "unknown CPU",
    )
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB memory, load average {load} at the start"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument(
        "--intensity", type=float, default=4.0, help="4.0 with 200,000 customers: ~10M events"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    where = machine()

    log, _ = transaction_log(args.customers, seed=0, string_ids=False, intensity=args.intensity)
    spec = SegmentationSpec.from_dict(
        {
            "id_column": "customer_id",
            "input_kind": "transactions",
            "timestamp_column": "timestamp",
            "amount_column": "amount",
            "category_column": "category",
        }
    )
    started = time.perf_counter()
    events = clean_transactions(log, spec).frame
    cleaning = time.perf_counter() - started
    del log
    n = len(events)
    cutoff = day_number(AS_OF)
    lean = lean_events(
        events["customer_id"].cat.codes.to_numpy(),
        events["t"].to_numpy(),
        events["cents"].to_numpy(),
        events["refund"].to_numpy(),
        events["category"].cat.codes.to_numpy(),
    )
    rows: list[tuple[str, str, float]] = []
    for engine in ("duckdb", "pandas", "numpy"):
        repeats = args.repeats if engine == "duckdb" else max(1, args.repeats - 1)
        rows.append(
            (
                engine,
                "base aggregates (RFM, intervals, windows, quarters)",
                best_of(repeats, lambda engine=engine: aggregate(lean, cutoff, engine=engine)),
            )
        )
        rows.append(
            (
                engine,
                "all feature groups (incl. categories, entropy, SVD)",
                best_of(repeats, lambda engine=engine: customer_features(events, as_of=AS_OF, engine=engine)),
            )
        )
    closed, sorted_ = _interval_forms(lean, cutoff, args.repeats)
    started = time.perf_counter()
    ordered_statistics(lean)
    ordered = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    lines = [
        BEGIN,
        "## Feature engineering from a transaction log (`bench/features.py`)",
        "",
        f"{dt.date.today().isoformat()} · {where} · duckdb {duckdb.__version__}, pandas {pd.__version__}, numpy {np.__version__}",
        "",
        f"{n:,} events of {args.customers:,} customers (`bench/generate.py` archetypes, intensity {args.intensity}); "
        f"text ids (as sorted Categorical codes); best of {args.repeats} (pandas: best of {max(1, args.repeats - 1)}); peak RSS of the whole script {peak:.1f} GiB.",
        "",
        "| engine | step | seconds |",
        "| --- | --- | --- |",
        *[f"| {e} | {step} | {s:.2f} |" for e, step, s in rows],
        f"| duckdb | mean inter-purchase interval only, closed form (last − first)/(n − 1) | {closed:.2f} |",
        f"| duckdb | mean inter-purchase interval only, sort and lag | {sorted_:.2f} |",
        f"| numpy | gaps and active months by two 16-bit radix passes (part of every engine's base aggregates) | {ordered:.2f} |",
        f"| — | cleaning the log (ids to text, timestamps, cents, refunds, duplicates) | {cleaning:.2f} |",
        "",
        _verdict(rows),
        "",
        _idle_estimate(rows, closed),
        END,
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
        if BEGIN in text:
            text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        RESULTS.write_text(text)


def _interval_forms(events: pd.DataFrame, cutoff: int, repeats: int) -> tuple[float, float]:
    limit = cutoff * 86_400
    closed = (
        f"SELECT customer, (max(t) - min(t)) / nullif(count(*) - 1, 0) FROM events "
        f"WHERE t < {limit} AND NOT refund GROUP BY customer"
    )
    lagged = (
        "SELECT customer, avg(g) FROM (SELECT customer, t - lag(t) OVER (PARTITION BY customer ORDER BY t) AS g "
        f"FROM events WHERE t < {limit} AND NOT refund) GROUP BY customer"
    )
    with duckdb.connect() as con:
        con.execute("SET enable_progress_bar = false")
        con.register("events", events)
        return (
            best_of(repeats, lambda: con.execute(closed).fetchall()),
            best_of(repeats, lambda: con.execute(lagged).fetchall()),
        )


# The closed-form interval query on 10M events takes 0.28 s on an idle machine of this kind
# (/work/shared/PERFORMANCE.md); on a shared machine its time here gives the slowdown factor.
IDLE_CLOSED_FORM_SECONDS = 0.28


def _idle_estimate(rows: list[tuple[str, str, float]], closed: float) -> str:
    factor = closed / IDLE_CLOSED_FORM_SECONDS
    full = {e: s for e, step, s in rows if step.startswith("all")}
    best = min(full, key=full.__getitem__)
    return (
        f"Load check: the closed-form interval query took {closed:.2f} s here against "
        f"{IDLE_CLOSED_FORM_SECONDS} s on an idle machine of this kind (shared/PERFORMANCE.md), so this "
        f"run saw a machine about {factor:.1f}× slower than idle. Scaled by that factor, {best} would take "
        f"about {full[best] / factor:.1f} s for every feature group (target: 3 s) — an estimate, not a measurement; "
        "re-run `python bench/features.py` on an idle machine to confirm."
    )


def _verdict(rows: list[tuple[str, str, float]]) -> str:
    full = {e: s for e, step, s in rows if step.startswith("all")}
    fastest = min(full, key=full.__getitem__)
    others = ", ".join(f"{e} {s / full[fastest]:.1f}× slower" for e, s in full.items() if e != fastest)
    return (
        f"Fastest: **{fastest}** ({full[fastest]:.2f} s for every feature group; {others}). "
        "`segmentation.data.aggregate.DEFAULT_ENGINE` is set from this measurement."
    )


if __name__ == "__main__":
    main()
