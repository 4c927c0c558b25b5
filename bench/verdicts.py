"""Verdict digests: run the engine over every request of the corpora and Siren's benign set and
write one compact line per request, so two versions of the engine can be compared verdict for
verdict (a performance change must not change any).

    python bench/verdicts.py OUT [--rules DIR] [--model FILE] [--src DIR] [--paranoia N]
    python bench/verdicts.py --compare OLD NEW

Each line: ``id  action  score  digest  full`` where ``digest`` is the sorted set of
(detector, rule_id, target) of the verdict's findings, and ``full`` a hash of the whole verdict
(every finding with its fragment, transforms, score and message, in order). ``--compare`` lists
the requests whose action, score or finding set differ (and counts those that differ only in
the full hash). Use ``--rules`` with a snapshot of the rules folder (and ``--model``
with a copy of the classifier) so rule authors' edits do not show up as differences; ``--src``
runs another copy of the source tree (e.g. a snapshot taken before a change). The header line
records a hash of the transforms' source, because transforms are not snapshotted by ``--rules``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from siren.corpus import Record

REPO = Path(__file__).resolve().parent.parent
CORPORA = ["gotestwaf.jsonl", "crs.jsonl", "httpparams.jsonl", "patt.jsonl", "fwaf.jsonl"]


def _setup_path(src: str | None) -> None:
    sys.path.insert(0, str(Path(src).resolve() if src else REPO / "src"))


def _sources(shared: Path) -> list[Path]:
    files = [shared / "corpus" / name for name in CORPORA]
    return [p for p in files if p.exists()] + [REPO / "src" / "siren" / "data" / "benign" / "siren-benign.jsonl"]


def _transforms_hash() -> str:
    import siren.engine.transforms as tr

    h = hashlib.sha256()
    for p in sorted(Path(tr.__file__).parent.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def build_engine(rules: str | None, model: str | None, paranoia: int) -> object:
    from siren.engine import Engine, Policy
    from siren.engine.detectors import Detector
    from siren.engine.detectors.classifier import ClassifierDetector, Model
    from siren.engine.detectors.injection import InjectionDetector
    from siren.engine.detectors.protocol import ProtocolDetector
    from siren.engine.detectors.signatures import SignatureDetector
    from siren.engine.limits import Limits
    from siren.engine.ruleset import builtin_rule_dir, compile_ruleset, load_rules

    policy = Policy(paranoia=paranoia)
    ruleset = compile_ruleset(load_rules([Path(rules) if rules else builtin_rule_dir()]), paranoia=policy.max_paranoia)
    detectors: list[Detector] = [SignatureDetector(ruleset), InjectionDetector(), ProtocolDetector()]
    if model:
        detectors.append(ClassifierDetector(Model.load(Path(model))))
    else:
        from siren.engine.detectors.classifier import load_default_classifier

        clf = load_default_classifier()
        if clf is not None:
            detectors.append(clf)
    return Engine(ruleset, policy, Limits(), detectors)


def run(args: argparse.Namespace) -> int:
    import orjson

    from siren.corpus import read_corpus

    engine = build_engine(args.rules, args.model, args.paranoia)
    inspect = engine.inspect  # type: ignore[attr-defined]
    n = 0
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(f"# transforms={_transforms_hash()} paranoia={args.paranoia} rules={args.rules or 'builtin'}\n")
        records: Iterable[Record] = (rec for path in _sources(Path(args.shared)) for rec in read_corpus(path))
        if args.reverse:
            records = reversed(list(records))
        for rec in records:
            v = inspect(rec.request)
            digest = sorted({(f.detector, f.rule_id, f.target) for f in v.findings})
            full = hashlib.sha256(orjson.dumps(v.as_dict())).hexdigest()[:16]
            out.write(f"{rec.id}\t{v.action.value}\t{v.score}\t{orjson.dumps(digest).decode()}\t{full}\n")
            n += 1
            if args.limit and n >= args.limit:
                break
    print(f"{n} requests -> {args.out}")
    return 0


def _read(path: str) -> tuple[str, dict[str, list[str]]]:
    header = ""
    rows: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#"):
                header = line.strip()
                continue
            parts = line.rstrip("\n").split("\t")
            rows[parts[0]] = parts[1:]
    return header, rows


def compare(old: str, new: str, show: int) -> int:
    h_old, a = _read(old)
    h_new, b = _read(new)
    if h_old != h_new:
        print(f"warning: headers differ:\n  {h_old}\n  {h_new}")
    diffs = [k for k in a if k in b and a[k][:3] != b[k][:3]]
    full_only = [k for k in a if k in b and a[k][:3] == b[k][:3] and a[k][3:] != b[k][3:]]
    missing = sorted(set(a) ^ set(b))
    for k in diffs[:show]:
        print(f"{k}\n  old: {' '.join(a[k][:3])}\n  new: {' '.join(b[k][:3])}")
    print(
        f"compared {len(set(a) & set(b))} requests: {len(diffs)} differ in action/score/findings, "
        f"{len(full_only)} only in fragments/messages/order, {len(missing)} present in one file only"
    )
    return 1 if diffs or full_only or missing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?")
    parser.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"))
    parser.add_argument("--shared", default=os.environ.get("SIREN_SHARED", str(REPO.parent / "shared")))
    parser.add_argument("--rules", help="rules folder (default: the built-in rules)")
    parser.add_argument("--model", help="classifier model file (default: the shipped one)")
    parser.add_argument("--src", help="source tree to import siren from (default: this repo's src)")
    parser.add_argument("--paranoia", type=int, default=1)
    parser.add_argument("--reverse", action="store_true", help="inspect the requests in reverse order (memos must not matter)")
    parser.add_argument("--limit", type=int, default=0, help="stop after this many requests (0: all)")
    parser.add_argument("--show", type=int, default=20)
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare, args.show)
    if not args.out:
        parser.error("OUT or --compare OLD NEW")
    _setup_path(args.src)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
