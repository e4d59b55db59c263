"""Scale past one machine: features of 100M events where the data lives, and a 10M-customer run.

    PYTHONPATH=. python bench/scale.py --generate            # 10M customers, ~100M events, Parquet
    PYTHONPATH=. python bench/scale.py [--record]            # every side below, one run

Sides, each in its own child process (this script re-invoked with ``--side``) so its wall time
and peak memory are its own:

- ``duckdb``: the compiled feature SQL over the Parquet folder in DuckDB (``ParquetSource``,
  memory limit 3 GB), features written to Parquet; peak RSS of the process;
- ``spark``: the same SQL in a local Spark session (``local[2]``, driver memory 3 GB), features
  written to Parquet; peak RSS of the JVM (``VmHWM`` of the Java process) and of Python;
- ``numpy``: the in-memory path (pandas read, ``clean_transactions`` + ``customer_features``) on
  the largest slice of the log it is run on here (``--numpy-customers``), with DuckDB and Spark
  timed on that same slice for the ratio;
- ``e2e``: ``segment_source`` on the whole folder: features in DuckDB, a stratified sample of
  200,000 customers fitted, every customer scored in DuckDB and the labels written as Parquet.

Not a test: timings depend on the machine's load. Figures go to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

FOLDER = ROOT / "var" / "bench" / "scale"
CHUNK = 1_000_000
SPEC = {
    "id_column": "customer_id",
    "input_kind": "transactions",
    "timestamp_column": "timestamp",
    "amount_column": "amount",
    "category_column": "category",
    "as_of": "2026-01-01",
    "random_state": 0,
}


def generate(customers: int, intensity: float) -> None:
    from segmentation.synthetic.transactions import transaction_log

    FOLDER.mkdir(parents=True, exist_ok=True)
    events = 0
    for i, start in enumerate(range(0, customers, CHUNK)):
        n = min(CHUNK, customers - start)
        log, _ = transaction_log(n, seed=i, string_ids=False, intensity=intensity)
        log["customer_id"] += start
        log.to_parquet(FOLDER / f"part-{i:03d}.parquet", index=False)
        events += len(log)
        print(f"part {i}: {len(log):,} events", flush=True)
    (FOLDER / "_meta.json").write_text(json.dumps({"customers": customers, "events": events}))


def _files(customers: int | None) -> list[str]:
    parts = sorted(str(p) for p in FOLDER.glob("part-*.parquet"))
    return parts if customers is None else parts[: max(1, customers // CHUNK)]


def _folder(customers: int | None) -> str:
    """A folder holding the slice's files (links), for the sources that read a folder."""
    if customers is None:
        return str(FOLDER)
    folder = FOLDER.parent / f"scale-slice-{customers}"
    folder.mkdir(exist_ok=True)
    for path in _files(customers):
        link = folder / Path(path).name
        if not link.exists():
            link.symlink_to(path)
    return str(folder)


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _descendants_peak_gib() -> float:
    """The largest peak RSS (VmHWM) among this process's descendants (the Spark JVM)."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        parents[int(status.parent.name)] = int(fields.get("PPid", "0").strip())
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    peak = 0
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 2**20


def _spec():  # type: ignore[no-untyped-def]
    from segmentation.spec import SegmentationSpec

    return SegmentationSpec.from_dict(SPEC)


def side_duckdb(customers: int | None) -> dict:
    from segmentation.sources.duck import ParquetSource
    from segmentation.sources.plan import features_sql, source_groups

    spec = _spec()
    files = _files(customers)
    source = ParquetSource(_folder(customers), memory_limit="3GB")
    groups, _ = source_groups(spec)
    out = ROOT / "var" / "bench" / "scale-features-duckdb.parquet"
    started = time.perf_counter()
    source.write_parquet(features_sql(spec, spec.as_of_date, source.dialect, groups), str(out))
    wall = time.perf_counter() - started
    source.close()
    return {"wall": wall, "peak_gib": _peak_gib(), "files": len(files)}


def side_spark(customers: int | None) -> dict:
    from pyspark.sql import SparkSession

    from segmentation.sources.plan import features_sql, source_groups

    spec = _spec()
    files = _files(customers)
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "3g")
        .config("spark.sql.shuffle.partitions", "16")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    groups, _ = source_groups(spec)
    out = ROOT / "var" / "bench" / "scale-features-spark"
    started = time.perf_counter()
    session.read.parquet(*files).createOrReplaceTempView("transactions")
    session.sql(features_sql(spec, spec.as_of_date, "spark", groups)).write.mode("overwrite").parquet(
        str(out)
    )
    wall = time.perf_counter() - started
    jvm = _descendants_peak_gib()
    session.stop()
    return {"wall": wall, "peak_gib": _peak_gib(), "jvm_peak_gib": jvm, "files": len(files)}


def side_numpy(customers: int | None) -> dict:
    import pandas as pd

    from segmentation.data.features import customer_features
    from segmentation.data.transactions import clean_transactions

    spec = _spec()
    files = _files(customers)
    started = time.perf_counter()
    log = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    events = clean_transactions(log, spec)
    table = customer_features(
        events.frame, as_of=spec.as_of_date, groups=["rfm", "temporal", "windows", "diversity", "seasonality"]
    )
    wall = time.perf_counter() - started
    return {"wall": wall, "peak_gib": _peak_gib(), "events": len(log), "customers": len(table.frame)}


def side_e2e(customers: int | None) -> dict:
    from segmentation.sources.duck import ParquetSource
    from segmentation.sources.run import segment_source

    spec = _spec()
    source = ParquetSource(_folder(customers), memory_limit="3GB")
    out = ROOT / "var" / "bench" / "scale-labels.parquet"
    started = time.perf_counter()
    run = segment_source(
        source,
        spec,
        sample_size=200_000,
        labels_parquet=str(out),
        labels_csv=ROOT / "var" / "bench" / "scale-labels.csv",
    )
    wall = time.perf_counter() - started
    metrics = run.metrics
    source.close()
    return {
        "wall": wall,
        "peak_gib": _peak_gib(),
        "customers": metrics.get("customers"),
        "sampled": metrics.get("sampled"),
        "seconds": metrics.get("seconds"),
        "selected": f"{run.result.metrics['selected']['algorithm']} k={run.result.metrics['selected']['k']}",
    }


SIDES = {"duckdb": side_duckdb, "spark": side_spark, "numpy": side_numpy, "e2e": side_e2e}


def _child(side: str, customers: int | None) -> dict:
    command = [sys.executable, __file__, "--side", side]
    if customers is not None:
        command += ["--customers", str(customers)]
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--total-customers", type=int, default=10_000_000)
    parser.add_argument("--intensity", type=float, default=0.8)
    parser.add_argument("--side", choices=sorted(SIDES))
    parser.add_argument("--customers", type=int, default=None, help="a slice of the log (whole files of 1M)")
    parser.add_argument("--numpy-customers", type=int, default=2_000_000)
    parser.add_argument("--only", default="duckdb,spark,numpy,e2e")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    if args.generate:
        generate(args.total_customers, args.intensity)
        return
    if args.side:
        print(json.dumps(SIDES[args.side](args.customers)))
        return
    meta = json.loads((FOLDER / "_meta.json").read_text())
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    wanted = args.only.split(",")
    figures: dict[str, dict] = {}
    for side in ("duckdb", "spark"):
        if side in wanted:
            figures[side] = _child(side, None)
            print(side, figures[side], flush=True)
    if "numpy" in wanted:
        for side in ("numpy", "duckdb", "spark"):
            figures[f"{side}_slice"] = _child(side, args.numpy_customers)
            print(f"{side} slice", figures[f"{side}_slice"], flush=True)
    if "e2e" in wanted:
        figures["e2e"] = _child("e2e", None)
        print("e2e", figures["e2e"], flush=True)
    machine = f"{platform.machine()}, nproc {os.cpu_count()}, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB, Python {platform.python_version()}"
    lines = [
        f"### {meta['events']:,} events of {meta['customers']:,} customers ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"- machine: {machine}; load average before {load}; the log in {len(_files(None))} Parquet files",
    ]
    if "duckdb" in figures:
        d = figures["duckdb"]
        lines.append(
            f"- features in DuckDB (memory limit 3 GB): {d['wall']:.0f} s, peak RSS {d['peak_gib']:.2f} GiB (the bound is 4 GiB)"
        )
    if "spark" in figures:
        s = figures["spark"]
        lines.append(
            f"- features in Spark local[2] (driver 3 GB): {s['wall']:.0f} s, JVM peak RSS {s['jvm_peak_gib']:.2f} GiB, Python {s['peak_gib']:.2f} GiB"
        )
    if "numpy_slice" in figures:
        n, d, s = figures["numpy_slice"], figures["duckdb_slice"], figures["spark_slice"]
        lines.append(
            f"- on {n['events']:,} events of {n['customers']:,} customers (the in-memory path's slice here): numpy/pandas "
            f"{n['wall']:.0f} s, peak {n['peak_gib']:.2f} GiB; DuckDB {d['wall']:.0f} s ({d['wall'] / n['wall']:.2f}x), "
            f"peak {d['peak_gib']:.2f} GiB; Spark {s['wall']:.0f} s ({s['wall'] / n['wall']:.2f}x), JVM {s['jvm_peak_gib']:.2f} GiB"
        )
    if "e2e" in figures:
        e = figures["e2e"]
        lines.append(
            f"- end to end on the whole log (features in DuckDB, fit on a stratified {e['sampled']:,} of {e['customers']:,}, "
            f"every customer scored in DuckDB, labels to Parquet): {e['wall'] / 60:.1f} min (the bound is 15), peak RSS "
            f"{e['peak_gib']:.2f} GiB, selected {e['selected']}; steps (s): {e['seconds']}"
        )
    text = "\n".join([*lines, ""])
    print(text)
    if args.record:
        record("scale", "Scale past one machine (`bench/scale.py`)", text)


if __name__ == "__main__":
    main()
