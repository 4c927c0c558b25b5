"""Brain ingest benchmark: events per second stored into PostgreSQL and into SQLite, in batches,
through the brain's own ingest path (redaction, SQLAlchemy Core bulk insert-or-ignore, the
reputation count for the batch's clients), without HTTP.

    python bench/brain_ingest.py [--batch 1000] [--events 60000] [--seconds 20]

PostgreSQL: ``SIREN_BENCH_PG`` (a database URL; it must be a throwaway database), else a
temporary database ``siren_bench_<random>`` on postgres@127.0.0.1:5432, dropped afterwards.
SQLite: a file in a temporary folder. Each backend stops after ``--events`` events or
``--seconds`` seconds, whichever comes first. Also printed: the rate of decoding and validating
the JSON of a batch (what ``POST /v1/events`` does before ingesting), for scale.

Last line: ``ingest postgres_events_per_s=X sqlite_events_per_s=Y batch=N``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from siren.brain.auth import Principal  # noqa: E402
from siren.brain.core import Brain  # noqa: E402
from siren.brain.schema import Event, EventBatch  # noqa: E402
from siren.brain.store import Store  # noqa: E402
from siren.brain.testing import make_event, postgres_database  # noqa: E402

PRINCIPAL = Principal("sidecar", "bench-sidecar", "bench")
FRAGMENTS = ["' or 1=1--", "<script>alert(1)</script>", "../../etc/passwd", "${jndi:ldap://x/a}", "; cat /etc/shadow"]


def make_batches(n_batches: int, size: int, seed: int = 7) -> list[list[Event]]:
    """Realistic events: 200 clients, 5 services, one or two findings, no sample."""
    rng = random.Random(seed)
    batches = []
    for b in range(n_batches):
        batch = []
        for i in range(size):
            fragment = rng.choice(FRAGMENTS)
            batch.append(
                make_event(
                    f"bench-{b}-{i}", service=f"svc{rng.randrange(5)}", client=f"198.51.{rng.randrange(2)}.{rng.randrange(100)}",
                    action=rng.choice(["block", "block", "log", "allow"]), target=f"/api/items?id={i}&q=x", fragment=fragment,
                )
            )
        batches.append(batch)
    return batches


def run(url: str, batches: list[list[Event]], seconds: float) -> tuple[float, int]:
    store = Store.open(url)
    try:
        brain = Brain(store, admin_token="bench")
        brain.start()
        # A high threshold: the reputation query runs for every batch, listing stays rare.
        brain.update_settings({"reputation_threshold": 10_000_000}, "bench")
        brain.ingest(PRINCIPAL, batches[0])  # warm-up (connections, statement caches)
        count = 0
        start = time.perf_counter()
        for batch in batches[1:]:
            count += brain.ingest(PRINCIPAL, batch).accepted
            if time.perf_counter() - start > seconds:
                break
        elapsed = time.perf_counter() - start
        assert brain.count_events() == count + len(batches[0])
        return count / elapsed, count
    finally:
        store.close()


def validation_rate(batch: list[Event]) -> float:
    body = EventBatch(events=batch).model_dump_json().encode()
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < 1.0:
        EventBatch.model_validate_json(body)
        rounds += 1
    return rounds * len(batch) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--events", type=int, default=60_000, help="events per backend (at most)")
    parser.add_argument("--seconds", type=float, default=20.0, help="time per backend (at most)")
    args = parser.parse_args()
    batches = make_batches(args.events // args.batch + 1, args.batch)
    print(f"validate (JSON decode + pydantic): {validation_rate(batches[0]):,.0f} events/s", flush=True)
    with ExitStack() as stack:
        pg_url = os.environ.get("SIREN_BENCH_PG") or stack.enter_context(postgres_database(prefix="siren_bench"))
        pg_rate, pg_n = run(pg_url, batches, args.seconds)
        print(f"postgresql: {pg_n} events in batches of {args.batch}: {pg_rate:,.0f} events/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="siren-bench-") as tmp:
        lite_rate, lite_n = run(f"sqlite:///{tmp}/brain.db", batches, args.seconds)
        print(f"sqlite: {lite_n} events in batches of {args.batch}: {lite_rate:,.0f} events/s", flush=True)
    print(f"ingest postgres_events_per_s={pg_rate:.0f} sqlite_events_per_s={lite_rate:.0f} batch={args.batch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
