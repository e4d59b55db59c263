"""Write a transaction log with planted archetypes, for benchmarks and demos.

    python bench/generate.py --customers 200000 --out var/bench/log_200k.parquet
    python bench/generate.py --customers 1000000 --out var/bench/log_1m.parquet   # about 12M events

The planted archetype of every customer is written beside the log (``<out>.truth.parquet``)
so recovery can be measured with the adjusted Rand index.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from segmentation.synthetic.transactions import LOG_ARCHETYPES, transaction_log


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, default=200_000, help="number of customers (default 200,000)"
    )
    parser.add_argument(
        "--intensity", type=float, default=1.0, help="events multiplier (1.0: ~12.5/customer)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output file: .parquet or .csv")
    parser.add_argument(
        "--string-ids", action="store_true", help="ids as text (C0000001) instead of integers"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    log, archetype = transaction_log(
        args.customers, seed=args.seed, string_ids=args.string_ids, intensity=args.intensity
    )
    generated = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.out.suffix == ".csv":
        log.to_csv(args.out, index=False)
    else:
        log.to_parquet(args.out, index=False)
    ids = pd.Series(range(1, args.customers + 1))
    truth = pd.DataFrame(
        {
            "customer_id": ("C" + ids.astype(str).str.zfill(7)) if args.string_ids else ids,
            "archetype": [LOG_ARCHETYPES[a][0] for a in archetype],
        }
    )
    truth.to_parquet(args.out.with_name(args.out.name + ".truth.parquet"), index=False)
    print(
        f"{len(log):,} events for {args.customers:,} customers generated in {generated:.2f} s, "
        f"written to {args.out} in {time.perf_counter() - started - generated:.2f} s"
    )


if __name__ == "__main__":
    main()
