"""Engine cost in CPU time, robust to a busy machine: the mix of ``bench/engine.py``, each request
timed with the thread's CPU clock (``time.thread_time_ns``: time other processes take the core
is not counted), and each request's figure is the minimum over ``--rounds`` rounds (interrupts
and cache misses only ever add). Reports median / p90 / p99 / max of those minima, their mean,
and the minimum over rounds of the whole mix's CPU time.

    python bench/engine_cpu.py [--per-file 400] [--rounds 7] [--rules DIR] [--model FILE] [--src DIR]
    python bench/engine_cpu.py --profile [--sort tottime]     # cProfile of the mix instead

Last line: ``cpu median_us=X p99_us=Y mean_us=Z total_ms=T``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _forgetter(engine: object) -> Callable[[], None]:
    """A function that empties the engine's cross-request caches (pure memos), whichever version
    of the source is measured."""
    clear = getattr(engine, "clear_caches", None)
    if clear is not None:
        return clear  # type: ignore[no-any-return]
    caches = [d._cache for d in engine.detectors if isinstance(getattr(d, "_cache", None), dict)]  # type: ignore[attr-defined]

    def forget() -> None:
        for c in caches:
            c.clear()

    return forget


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=os.environ.get("SIREN_SHARED", str(REPO.parent / "shared")))
    parser.add_argument("--per-file", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rules", help="rules folder (default: the built-in rules)")
    parser.add_argument("--model", help="classifier model file (default: the shipped one)")
    parser.add_argument("--src", help="source tree to import siren from (default: this repo's src)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--cold", action="store_true", help="forget the engine's cross-request caches before each request")
    parser.add_argument(
        "--fresh", action="store_true",
        help="forget them before each round: every round is a first pass over the mix (values repeat only within it)",
    )
    parser.add_argument("--slowest", type=int, default=0, help="list the N slowest requests")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.src).resolve() if args.src else REPO / "src"))
    sys.path.insert(1, str(REPO / "bench"))
    # siren from --src first: bench/engine.py puts this repo's src at the front of sys.path
    importlib.import_module("siren.engine")
    from engine import load_mix  # bench/engine.py
    from verdicts import build_engine  # bench/verdicts.py

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mix = load_mix(Path(args.shared), args.per_file)
    requests = [r.request for r in mix]
    engine = build_engine(args.rules, args.model, 1)
    inspect = engine.inspect  # type: ignore[attr-defined]
    for r in requests:  # warm-up (caches, lazy imports)
        inspect(r)
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.rounds):
            for r in requests:
                inspect(r)
        prof.disable()
        pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
        return 0
    forget = _forgetter(engine) if args.cold else None
    forget_round = _forgetter(engine) if args.fresh else None
    clock = time.thread_time_ns
    best = [float("inf")] * len(requests)
    totals: list[float] = []
    for _ in range(args.rounds):
        if forget_round is not None:
            forget_round()
        t_all = clock()
        for i, r in enumerate(requests):
            if forget is not None:
                forget()
            t0 = clock()
            inspect(r)
            dt = clock() - t0
            if dt < best[i]:
                best[i] = dt
        totals.append((clock() - t_all) / 1e6)
    us = sorted(b / 1000 for b in best)

    def pct(q: float) -> float:
        return us[min(len(us) - 1, int(q * len(us)))]

    if args.slowest:
        order = sorted(range(len(requests)), key=lambda i: -best[i])[: args.slowest]
        for i in order:
            print(f"{best[i] / 1000:9.1f} us  {mix[i].id}  {requests[i].method} {requests[i].target[:80]}")
    print(
        f"mix: {len(requests)} requests, {args.rounds} rounds, per-request minimum of thread CPU time"
        + (", caches cleared before each request" if args.cold else "")
        + (", caches cleared before each round" if args.fresh else "")
    )
    print(
        f"cpu median_us={statistics.median(us):.1f} p90_us={pct(0.90):.1f} p99_us={pct(0.99):.1f} "
        f"max_us={us[-1]:.1f} mean_us={statistics.fmean(us):.1f} total_ms={min(totals):.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
