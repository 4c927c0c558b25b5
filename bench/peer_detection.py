#!/usr/bin/env python3
"""Detection figures of a peer WAF, in the format of ``siren eval --json``.

The peer is any HTTP endpoint measured with the shared wafbench harness
(``shared/wafbench/replay.py``); in practice nginx + ModSecurity v3 + OWASP CRS
started by ``shared/peers/modsec/start.sh``. This script turns wafbench's
per-request records into the same figures Siren reports, so both can be put
side by side (docs/peer-baseline.md):

    {"overall": C, "files": {PATH: C, ...}}
    C = {"attack":  {"total": n, "blocked": n},
         "benign":  {"total": n, "blocked": n},
         "by_category": {CATEGORY: {"total": n, "blocked": n}, ...}}

Counting rules:
  * "attack" counts every attack record EXCEPT categories ``other`` and
    ``scanner`` (label noise and probes); those appear only in by_category.
  * by_category has every category seen, benign included.
  * blocked = wafbench outcome ``blocked`` (status in its --blocked-status,
    403 by default). wafbench errors (timeouts, resets, 5xx) and requests not
    sent before --max-seconds count as not blocked; their numbers are printed,
    never hidden in the JSON.
  * PATH is the corpus path relative to the shared folder (``corpus/crs.jsonl``)
    by default; see --file-key.

Two ways to use it:
  peer_detection.py RESULT.json [RESULT.json ...]        score wafbench --json-out files
  peer_detection.py --target http://127.0.0.1:18082 [CORPUS.jsonl ...]
        run replay.py first (default corpora: the five of shared/corpus plus
        shared/cve/exploits.jsonl), then score its output.

Several result files are merged into one report (e.g. one run per corpus);
a (file, line) seen twice is an error. Standard library only; it sends traffic
only through replay.py, which refuses non-loopback targets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO, TypedDict

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_CORPORA = (
    "corpus/gotestwaf.jsonl",
    "corpus/crs.jsonl",
    "corpus/httpparams.jsonl",
    "corpus/patt.jsonl",
    "corpus/fwaf.jsonl",
    "cve/exploits.jsonl",
)
# Reported only inside by_category, never in the "attack" total.
NOT_IN_ATTACK_TOTAL = frozenset({"other", "scanner"})


class Pair(TypedDict):
    total: int
    blocked: int


class Figures(TypedDict):
    attack: Pair
    benign: Pair
    by_category: dict[str, Pair]


class Report(TypedDict):
    overall: Figures
    files: dict[str, Figures]


@dataclass
class Tally:
    """Counts for one file (or all of them); `errors`/`not_sent` are side notes."""

    attack: list[int] = field(default_factory=lambda: [0, 0])
    benign: list[int] = field(default_factory=lambda: [0, 0])
    by_category: dict[str, list[int]] = field(default_factory=dict)
    errors: int = 0
    not_sent: int = 0

    def add(self, label: str, category: str, outcome: str) -> None:
        hit = 1 if outcome == "blocked" else 0
        cat = self.by_category.setdefault(category, [0, 0])
        cat[0] += 1
        cat[1] += hit
        if label == "benign":
            self.benign[0] += 1
            self.benign[1] += hit
        elif category not in NOT_IN_ATTACK_TOTAL:
            self.attack[0] += 1
            self.attack[1] += hit
        if outcome == "error":
            self.errors += 1
        elif outcome == "not_sent":
            self.not_sent += 1

    def figures(self) -> Figures:
        return {
            "attack": _pair(self.attack),
            "benign": _pair(self.benign),
            "by_category": {k: _pair(v) for k, v in sorted(self.by_category.items())},
        }


def _pair(v: list[int]) -> Pair:
    return {"total": v[0], "blocked": v[1]}


@dataclass(frozen=True)
class Record:
    file: str  # the report key (see file_key)
    line: int
    label: str
    category: str
    outcome: str


def file_key(path: str, shared: Path, mode: str) -> str:
    """The PATH key of a corpus file: relative to `shared`, bare name, or absolute."""
    p = Path(path).resolve()
    if mode == "name":
        return p.name
    if mode == "shared":
        try:
            return p.relative_to(shared.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def load_records(result_path: Path, shared: Path, mode: str) -> list[Record]:
    """Records of one wafbench --json-out file, keyed by corpus path."""
    with result_path.open(encoding="utf-8") as f:
        doc: dict[str, Any] = json.load(f)
    if "records" not in doc:
        raise SystemExit(f"{result_path}: no per-request records (replay.py ran with --no-records?)")
    # replay.py records only a file's basename; its meta keeps the full paths.
    by_name: dict[str, str] = {}
    for corpus in doc.get("meta", {}).get("corpus", []):
        name = os.path.basename(corpus)
        if name in by_name and by_name[name] != corpus:
            raise SystemExit(f"{result_path}: two corpus files named {name}; cannot tell them apart")
        by_name[name] = corpus
    out = []
    for r in doc["records"]:
        corpus = by_name.get(r["file"], r["file"])
        out.append(Record(file=file_key(corpus, shared, mode), line=int(r["line"]),
                          label=str(r["label"]), category=str(r["category"]),
                          outcome=str(r["outcome"])))
    return out


def tally(records: Iterable[Record]) -> tuple[Tally, dict[str, Tally]]:
    """Overall and per-file tallies; files keep their first-seen order."""
    overall = Tally()
    files: dict[str, Tally] = {}
    seen: set[tuple[str, int]] = set()
    for r in records:
        if (r.file, r.line) in seen:
            raise SystemExit(f"{r.file}:{r.line} appears in more than one result; "
                             "pass one run per configuration")
        seen.add((r.file, r.line))
        overall.add(r.label, r.category, r.outcome)
        files.setdefault(r.file, Tally()).add(r.label, r.category, r.outcome)
    return overall, files


def build_report(overall: Tally, files: dict[str, Tally]) -> Report:
    return {"overall": overall.figures(), "files": {k: t.figures() for k, t in files.items()}}


def _pct(k: int, n: int) -> str:
    return "-" if n == 0 else f"{100.0 * k / n:.2f}"


def _cell(t: Tally, cat: str) -> tuple[str, str]:
    n, k = t.by_category.get(cat, [0, 0])
    return str(n), _pct(k, n)


def table_rows(overall: Tally, files: dict[str, Tally]) -> list[list[str]]:
    rows = []
    for name, t in [*files.items(), ("ALL", overall)]:
        other_n, other_p = _cell(t, "other")
        scan_n, scan_p = _cell(t, "scanner")
        rows.append([name, str(t.attack[0]), _pct(t.attack[1], t.attack[0]),
                     other_n, other_p, scan_n, scan_p,
                     str(t.benign[0]), _pct(t.benign[1], t.benign[0]),
                     str(t.errors), str(t.not_sent)])
    return rows


HEAD = ["file", "attacks", "attack blocked %", "other", "other blocked %", "scanner",
        "scanner blocked %", "benign", "benign blocked %", "errors", "not sent"]


def print_table(rows: Sequence[Sequence[str]], out: TextIO, markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(HEAD) + " |", file=out)
        print("|---|" + "---:|" * (len(HEAD) - 1), file=out)
        for row in rows:
            print("| " + " | ".join(row) + " |", file=out)
        return
    widths = [max(len(HEAD[i]), *(len(r[i]) for r in rows)) for i in range(len(HEAD))]
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    print(fmt.format(*HEAD), file=out)
    for row in rows:
        print(fmt.format(*row), file=out)


def run_replay(args: argparse.Namespace, shared: Path, out_path: Path) -> None:
    """Replay the corpora at args.target with the shared harness (bounded in time)."""
    replay = shared / "wafbench" / "replay.py"
    corpora = args.inputs or [str(shared / c) for c in DEFAULT_CORPORA]
    cmd = [sys.executable, str(replay), "--target", args.target, *corpora,
           "--concurrency", str(args.concurrency), "--timeout", str(args.timeout),
           "--max-seconds", str(args.max_seconds), "--json-out", str(out_path)]
    if args.label:
        cmd += ["--label", args.label]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    # replay.py's own table goes to stderr so that stdout holds only our figures.
    done = subprocess.run(cmd, stdout=sys.stderr, timeout=args.max_seconds + 300, check=False)
    if done.returncode != 0:
        raise SystemExit(f"replay.py exited with {done.returncode}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the module docstring for the counting rules.")
    ap.add_argument("inputs", nargs="*",
                    help="wafbench --json-out files; with --target, corpus JSONL files to replay "
                         "(default: the five shared corpora and cve/exploits.jsonl)")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                    help="the shared folder (default: ../shared beside the repo root)")
    ap.add_argument("--json", metavar="PATH", help="write the figures here ('-' = stdout; "
                                                   "the table then goes to stderr)")
    ap.add_argument("--markdown", action="store_true", help="print the table as markdown")
    ap.add_argument("--file-key", choices=["shared", "name", "abs"], default="shared",
                    help="PATH keys: relative to --shared (falls back to absolute), bare file "
                         "name, or absolute path (default shared)")
    g = ap.add_argument_group("replay (only with --target)")
    g.add_argument("--target", help="http://127.0.0.1:PORT of the WAF; runs replay.py first")
    g.add_argument("--concurrency", type=int, default=4)
    g.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    g.add_argument("--max-seconds", type=float, default=1800.0, help="bound on the whole replay")
    g.add_argument("--label", default="", help="name stored in replay.py's JSON")
    g.add_argument("--replay-out", type=Path,
                   help="keep replay.py's JSON (with records) here; default: a temporary file")
    args = ap.parse_args(argv)
    if not args.target and not args.inputs:
        ap.error("give wafbench result files, or --target URL")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    shared: Path = args.shared
    with tempfile.TemporaryDirectory(prefix="peer-detection-") as tmp:
        if args.target:
            result = args.replay_out or Path(tmp) / "replay.json"
            run_replay(args, shared, result)
            results = [result]
        else:
            results = [Path(p) for p in args.inputs]
        records = [r for p in results for r in load_records(p, shared, args.file_key)]
    overall, files = tally(records)
    report = build_report(overall, files)

    table_out = sys.stderr if args.json == "-" else sys.stdout
    print_table(table_rows(overall, files), table_out, args.markdown)
    print(f"\nerrors (wafbench outcome error, counted as not blocked): {overall.errors}; "
          f"not sent (--max-seconds reached, not blocked): {overall.not_sent}; "
          "'attacks' excludes categories other and scanner", file=table_out)
    text = json.dumps(report, indent=1) + "\n"
    if args.json == "-":
        sys.stdout.write(text)
    elif args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
