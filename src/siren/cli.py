"""``siren`` command line: test, eval, rules, train (and the proxy and brain as they land)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from siren.engine import Engine, ParseError, Policy, Request, parse_http
from siren.errors import SirenError

_REQUEST_LINE = re.compile(r"^[A-Z]{3,10} \S")


def _engine(args: argparse.Namespace) -> Engine:
    policy = Policy(paranoia=args.paranoia, threshold=args.threshold)
    return Engine.create(
        policy=policy,
        rule_paths=[Path(p) for p in args.rules],
        builtin=not args.no_builtin,
        classifier=not getattr(args, "no_classifier", False),
    )


def request_from_argument(text: str) -> Request:
    """A URL, a request line / raw request, a file holding one, or a bare payload."""
    if text.startswith("@") or (len(text) < 4096 and "\n" not in text and os.path.isfile(text)):
        raw = Path(text.lstrip("@")).read_bytes()
        return _raw(raw)
    if _REQUEST_LINE.match(text):
        return _raw(text.encode("utf-8"))
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return Request("GET", _safe_target(target), (("Host", parts.netloc or "localhost"), ("User-Agent", "siren-test")))
    if text.startswith("/"):
        return Request("GET", _safe_target(text), (("Host", "localhost"), ("User-Agent", "siren-test")))
    return Request("GET", "/?q=" + quote(text, safe=""), (("Host", "localhost"), ("User-Agent", "siren-test")))


def _safe_target(target: str) -> str:
    return quote(target, safe="/?&=%+:;,@!$'()*[]~._-<>\"{}|\\^`#")


def _raw(raw: bytes) -> Request:
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    lines = head.split(b"\n")
    first = lines[0].split(b" ")
    if len(first) == 2:  # no version written: "GET /path"
        lines[0] = first[0] + b" " + first[1] + b" HTTP/1.1"
    elif len(first) > 3:  # spaces inside the target
        lines[0] = first[0] + b" " + b"%20".join(first[1:-1]) + b" " + first[-1] if first[-1].startswith(b"HTTP/") else (
            first[0] + b" " + b"%20".join(first[1:]) + b" HTTP/1.1"
        )
    if not any(line.lower().startswith(b"host:") for line in lines[1:]):
        lines.insert(1, b"Host: localhost")
    if body and not any(line.lower().startswith(b"content-length:") for line in lines[1:]):
        lines.append(b"Content-Length: " + str(len(body)).encode())
    parsed = parse_http(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    if isinstance(parsed, ParseError):
        raise SirenError(f"cannot parse the request: {parsed.reason} (a server would answer {parsed.status_hint})")
    return parsed


def cmd_test(args: argparse.Namespace) -> int:
    engine = _engine(args)
    request = request_from_argument(args.input)
    verdict = engine.inspect(request)
    if args.json:
        print(json.dumps({"request": {"method": request.method, "target": request.target}, "verdict": verdict.as_dict()}, indent=2))
    else:
        print(f"{request.method} {request.target}")
        print(verdict.explain())
    return 0 if not verdict.blocked else 1


def cmd_eval(args: argparse.Namespace) -> int:
    from siren.evaluation import evaluate, format_table

    engine = _engine(args)
    ev = evaluate(engine, args.files, keep=args.show, show_categories=frozenset(args.category))
    if args.json:
        print(json.dumps(ev.as_dict(), indent=1 if args.pretty else None))
    else:
        print(format_table(ev))
    if args.show:
        out = sys.stderr if args.json else sys.stdout
        for title, items in (("missed attacks", ev.misses), ("benign blocked", ev.false_positives)):
            print(f"\n{title} (first {args.show}):", file=out)
            for record, verdict in items:
                print(f"- {record.id} [{record.category}] {record.request.method} {record.request.target[:150]}", file=out)
                if record.request.body:
                    print(f"    body: {record.request.body[:200]!r}", file=out)
                for f in verdict.findings:
                    print(f"    +{f.score} {f.detector}:{f.rule_id} {f.target} {f.fragment[:80]!r}", file=out)
    return 0


def cmd_rules(args: argparse.Namespace) -> int:
    from siren.engine.ruleset import builtin_rule_dir, compile_ruleset, load_rules
    from siren.rulecheck import check_samples

    paths = [Path(p) for p in args.paths] or [builtin_rule_dir()]
    rules = load_rules(paths)
    compile_ruleset(rules, use_cache=False)
    if args.action == "lint":
        print(f"{len(rules)} rules OK (schema valid, every pattern compiles in hyperscan)")
        return 0
    failures = check_samples(rules)
    for line in failures:
        print(line)
    samples = sum(len(r.match) + len(r.no_match) for r in rules)
    print(f"{len(rules)} rules, {samples} samples, {len(failures)} failures")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="siren", description="Siren: a self-healing web application firewall")
    sub = parser.add_subparsers(dest="command", required=True)

    def engine_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", action="append", default=[], metavar="PATH", help="extra rule file or folder (repeatable)")
        p.add_argument("--no-builtin", action="store_true", help="only the --rules given: no built-in rules, libinjection or classifier")
        p.add_argument("--no-classifier", action="store_true", help="leave the learned classifier out")
        p.add_argument("--paranoia", type=int, default=1, choices=[1, 2, 3, 4])
        p.add_argument("--threshold", type=int, default=5)

    p = sub.add_parser("test", help="inspect one request and explain the verdict")
    p.add_argument("input", help="a payload, a URL, a request line ('GET /?q=...'), or a raw HTTP request file (@file)")
    p.add_argument("--json", action="store_true")
    engine_options(p)
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("eval", help="detection and false-positive rates on labelled JSONL corpora")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--pretty", action="store_true")
    p.add_argument("--show", type=int, default=0, metavar="N", help="list the first N misses and false positives")
    p.add_argument("--category", action="append", default=[], help="with --show: only misses of this category (repeatable)")
    engine_options(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("rules", help="check rule files")
    p.add_argument("action", choices=["lint", "test"])
    p.add_argument("paths", nargs="*")
    p.set_defaults(func=cmd_rules)

    # Commands that live with their subsystem register themselves here.
    import importlib

    for module in ("siren.train", "siren.proxy.cli", "siren.brain.cli", "siren.demo"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SirenError as exc:
        print(f"siren: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
