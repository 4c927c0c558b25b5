"""Check each rule's own samples: every ``match`` sample must make the rule fire, every
``no_match`` sample must not. A sample is a string (placed where the rule looks: a query
argument, or the first header the rule names) or a mapping ``{request: "<raw HTTP>"}``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from siren.engine.context import Context
from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.limits import Limits
from siren.engine.request import ParseError, Request, parse_http
from siren.engine.ruleset import Rule, compile_ruleset
from siren.engine.targets import extract_targets
from siren.engine.views import ViewCache


def sample_request(rule: Rule, sample: Any, pad: int = 0) -> Request:
    """The request a sample stands for; ``pad`` > 0 puts an innocuous value of that length
    before it (same view, earlier in the scan buffer), to check a rule matches at any offset."""
    if isinstance(sample, dict) and "request" in sample:
        raw = str(sample["request"]).replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        if b"\r\n\r\n" not in raw:
            raw += b"\r\n\r\n"
        parsed = parse_http(raw)
        if isinstance(parsed, ParseError):
            raise ValueError(f"rule {rule.id}: sample request does not parse: {parsed.reason}")
        return parsed
    text = str(sample)
    base = [("Host", "localhost"), ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0")]
    headers = sorted(t for t in rule.targets if t.startswith("HEADERS:"))
    if headers and not rule.targets & {"ARGS", "ARGS_NAMES"}:
        name = headers[0].split(":", 1)[1]
        base = [(k, v) for k, v in base if k.lower() != name] + [(name, text)]
        return Request("GET", "/", tuple(base))
    if "ARGS" in rule.targets:
        prefix = f"pad={'q' * pad}&" if pad else ""
        return Request("GET", "/search?" + prefix + "q=" + quote(text, safe=""), tuple(base))
    if "PATH" in rule.targets or "PATH_SEGMENTS" in rule.targets:
        return Request("GET", "/" + quote(text, safe="/"), tuple(base))
    if "HEADERS" in rule.targets:
        return Request("GET", "/", (*base, ("X-Sample", text)))
    body = text.encode("utf-8")
    return Request("POST", "/", (*base, ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))), body)


def rule_fires(detector: SignatureDetector, rule: Rule, request: Request) -> bool:
    extraction = extract_targets(request, Limits())
    ctx = Context(request, extraction.targets, ViewCache([t.value for t in extraction.targets]))
    return any(f.rule_id == rule.id for f in detector.detect(ctx))


# Offsets at which every match sample must still match: the bundled Vectorscan has been seen to
# miss some patterns (several bounded repeats) once the match starts a few dozen bytes into the
# scanned buffer, so a rule must prove itself away from the buffer's start too.
PADS = (0, 40, 300)


def check_samples(rules: list[Rule]) -> list[str]:
    detector = SignatureDetector(compile_ruleset(rules))
    failures: list[str] = []
    for rule in rules:
        if not rule.match:
            failures.append(f"{rule.id}: has no match samples")
        for sample in rule.match:
            for pad in PADS:
                if not rule_fires(detector, rule, sample_request(rule, sample, pad)):
                    where = f" after a {pad}-byte value" if pad else ""
                    failures.append(f"{rule.id}: does not match its sample {sample!r}{where}")
                    break
        for sample in rule.no_match:
            if rule_fires(detector, rule, sample_request(rule, sample)):
                failures.append(f"{rule.id}: matches its no_match sample {sample!r}")
    return failures
