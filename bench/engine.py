"""Engine benchmark: microseconds per request over a fixed mix of the corpora, on one core,
beside a reference measured in the same run.

The reference is ModSecurity v3 + OWASP CRS at paranoia level 1 run in-process through the
``libmodsecurity`` wheel (``pip install libmodsecurity``; CRS rules from Debian's
``modsecurity-crs`` package), when both are available; otherwise libinjection alone (SQLi + XSS
on every decoded argument), which is a floor, not a WAF.

    python bench/engine.py [--per-file 400] [--reference auto|modsecurity|libinjection]

Last line: ``engine median_us=X p99_us=Y reference=NAME ratio=R`` where ratio is the
reference's median over Siren's (how many times faster Siren is).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from siren.corpus import Record, read_corpus  # noqa: E402
from siren.engine import Engine, Request  # noqa: E402

CORPORA = ["gotestwaf.jsonl", "crs.jsonl", "httpparams.jsonl", "patt.jsonl", "fwaf.jsonl"]
CRS_DIRS = [Path("/usr/share/modsecurity-crs"), Path("/etc/modsecurity/crs")]
TYPICAL_MAX = 4096


def load_mix(shared: Path, per_file: int) -> list[Record]:
    """Every k-th line of each corpus file (deterministic), requests of at most 4 KB."""
    mix: list[Record] = []
    for name in CORPORA:
        records = [r for r in read_corpus(shared / "corpus" / name) if len(r.request.body) + len(r.request.target) <= TYPICAL_MAX]
        step = max(1, len(records) // per_file)
        mix.extend(records[::step][:per_file])
    return mix


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def measure(fn: Callable[[Request], object], requests: list[Request], rounds: int) -> list[float]:
    for r in requests[:200]:  # warm-up
        fn(r)
    times: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for r in requests:
            t0 = clock()
            fn(r)
            times.append((clock() - t0) / 1000)
    times.sort()
    return times


def libinjection_reference() -> tuple[str, Callable[[Request], object]]:
    import libinjection

    from siren.engine.transforms.url import url_decode

    def run(req: Request) -> object:
        values = [v for _, v in parse_qsl(req.query, keep_blank_values=True)]
        if req.body:
            values += [v for _, v in parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)]
        hit = False
        for v in values:
            v = url_decode(v)
            hit = hit or libinjection.is_sql_injection(v)["is_sqli"] or libinjection.is_xss(v)["is_xss"]
        return hit

    return "libinjection", run


def modsecurity_reference() -> tuple[str, Callable[[Request], object]] | None:
    try:
        import libmodsecurity as msc
    except ImportError:
        return None
    crs = next((d for d in CRS_DIRS if (d / "rules").is_dir()), None)
    setup = Path("/etc/modsecurity/crs/crs-setup.conf")
    if crs is None or not setup.exists():
        return None
    rule_files = sorted(p for p in (crs / "rules").glob("REQUEST-*.conf") if "910-IP-REPUTATION" not in p.name)
    conf = "\n".join(
        [
            "SecRuleEngine On",
            "SecRequestBodyAccess On",
            "SecRequestBodyLimit 13107200",
            "SecRequestBodyNoFilesLimit 131072",
            'SecRule REQUEST_HEADERS:Content-Type "@rx (?:application(?:/soap\\+|/)|text/)xml" '
            '"id:9100001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"',
            'SecRule REQUEST_HEADERS:Content-Type "@rx ^application/json" '
            '"id:9100002,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"',
            "SecAuditEngine Off",
            f"Include {setup}",
            'SecAction "id:9100003,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1"',
            *[f"Include {p}" for p in rule_files],
        ]
    )
    engine = msc.ModSecurity()
    engine.set_log_callback(lambda _line: None)  # CRS logs every match; keep the output readable
    rules = msc.RulesSet()
    rules.load(conf)
    err = rules.get_parser_error() if hasattr(rules, "get_parser_error") else ""
    if err:
        print(f"modsecurity: rules did not load: {err}", file=sys.stderr)
        return None

    def run(req: Request) -> object:
        t = msc.Transaction(engine, rules)
        t.process_connection("127.0.0.1", 40000, "127.0.0.1", 80)
        t.process_uri(req.target, req.method, "1.1")
        for k, v in req.headers:
            t.add_request_header(k, v)
        t.process_request_headers()
        if req.body:
            t.append_request_body(req.body)
        t.process_request_body()
        return t.intervention()

    return f"modsecurity-{msc.__version__}+crs-pl1", run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", default=os.environ.get("SIREN_SHARED", str(REPO.parent / "shared")))
    parser.add_argument("--per-file", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reference", choices=["auto", "modsecurity", "libinjection"], default="auto")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    mix = load_mix(Path(args.shared), args.per_file)
    requests = [r.request for r in mix]
    engine = Engine.create()
    ref = None
    if args.reference in ("auto", "modsecurity"):
        ref = modsecurity_reference()
        if ref is None and args.reference == "modsecurity":
            print("modsecurity reference unavailable (pip install libmodsecurity; apt-get install modsecurity-crs)", file=sys.stderr)
            return 2
    if ref is None:
        ref = libinjection_reference()
    ref_name, ref_fn = ref
    ref_rounds = 1 if ref_name.startswith("modsecurity") else args.rounds
    siren = measure(engine.inspect, requests, args.rounds)
    reference = measure(ref_fn, requests, ref_rounds)
    print(f"mix: {len(requests)} requests ({args.per_file} per corpus file, each <= {TYPICAL_MAX} bytes), one core")
    print(f"{'':14}{'median_us':>10}{'p90_us':>10}{'p99_us':>10}{'max_us':>10}")
    for name, times in (("siren", siren), (ref_name[:14], reference)):
        print(f"{name:14}{statistics.median(times):10.1f}{percentile(times, 0.90):10.1f}{percentile(times, 0.99):10.1f}{times[-1]:10.1f}")
    med, p99 = statistics.median(siren), percentile(siren, 0.99)
    ratio = statistics.median(reference) / med
    print(f"engine median_us={med:.1f} p99_us={p99:.1f} reference={ref_name} ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
