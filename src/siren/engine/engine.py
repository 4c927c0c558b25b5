"""The engine: request in, verdict out. Pure and synchronous; safe to call from one thread at a
time per instance (hyperscan scratch space is per database)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from siren.engine.context import Context
from siren.engine.detectors import Detector
from siren.engine.detectors.injection import InjectionDetector
from siren.engine.detectors.protocol import ProtocolDetector
from siren.engine.detectors.signatures import SignatureDetector
from siren.engine.limits import Limits
from siren.engine.policy import Policy
from siren.engine.request import Request
from siren.engine.ruleset import Rule, Ruleset, builtin_rule_dir, compile_ruleset, load_rules
from siren.engine.scoring import anomaly_score
from siren.engine.targets import clear_memo as clear_target_memo
from siren.engine.targets import extract_targets
from siren.engine.verdict import Action, Finding, Verdict
from siren.engine.views import ViewCache, clear_memo


class Engine:
    def __init__(
        self,
        ruleset: Ruleset,
        policy: Policy | None = None,
        limits: Limits | None = None,
        detectors: Sequence[Detector] | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.limits = limits or Limits()
        self.ruleset = ruleset
        self._paranoia = {r.id: r.paranoia for r in ruleset.rules}
        if detectors is None:
            detectors = default_detectors(ruleset)
        self.detectors = list(detectors)

    @classmethod
    def create(
        cls,
        *,
        policy: Policy | None = None,
        rule_paths: Sequence[Path] = (),
        builtin: bool = True,
        limits: Limits | None = None,
        extra_rules: Sequence[Rule] = (),
        use_cache: bool = True,
        classifier: bool = True,
    ) -> Engine:
        """An engine with the built-in rules (unless ``builtin=False``) plus ``rule_paths``.

        With ``builtin=False`` only the given rules' signatures run: no libinjection, no
        classifier, so a rule file can be evaluated on its own."""
        policy = policy or Policy()
        paths = ([builtin_rule_dir()] if builtin else []) + list(rule_paths)
        rules = load_rules(paths) + list(extra_rules)
        ruleset = compile_ruleset(rules, paranoia=policy.max_paranoia, use_cache=use_cache)
        detectors: list[Detector] = [SignatureDetector(ruleset)]
        if builtin:
            detectors = default_detectors(ruleset, classifier=classifier)
        return cls(ruleset, policy, limits, detectors)

    def inspect(self, request: Request) -> Verdict:
        policy = self.policy.resolve(request.path)
        if policy.mode == "off":
            return Verdict(Action.ALLOW, 0, policy.threshold, (), mode="off")
        extraction = extract_targets(request, self.limits)
        targets = extraction.targets
        ctx = Context(request, targets, ViewCache([t.value for t in targets]), policy.paranoia, extraction.findings)
        failed = False
        for detector in self.detectors:
            try:
                found = detector.detect(ctx)
            except Exception as exc:  # noqa: BLE001 - a detector crash must never take the request path down
                failed = True
                ctx.findings.append(
                    Finding("engine", "engine.error", "other", "-", "", (), 0, f"{detector.name} failed: {type(exc).__name__}: {exc}")
                )
                continue
            if found:
                ctx.findings.extend(found)
        findings = ctx.findings
        if findings:
            paranoia, level, exclusions = self._paranoia, policy.paranoia, policy.exclusions
            findings = [
                f for f in findings
                if paranoia.get(f.rule_id, 1) <= level
                and not (exclusions and any(e.excludes(f.rule_id, f.target) for e in exclusions))
            ]
        score = anomaly_score(findings)
        block = score >= policy.threshold or (failed and not policy.fail_open)
        categories = tuple(sorted({f.category for f in findings if f.score > 0}))
        if not block:
            action = Action.ALLOW
        elif policy.mode == "shadow":
            action = Action.LOG
        else:
            action = Action.BLOCK
        return Verdict(action, score, policy.threshold, tuple(findings), mode=policy.mode, categories=categories)

    def clear_caches(self) -> None:
        """Forget what the engine keeps across requests (memos of pure per-value results: views,
        classifier and libinjection results). Verdicts never depend on them; this is for
        measuring the uncached cost."""
        clear_memo()
        clear_target_memo()
        for detector in self.detectors:
            clear = getattr(detector, "clear_cache", None)
            if clear is not None:
                clear()


def default_detectors(ruleset: Ruleset, *, classifier: bool = True) -> list[Detector]:
    detectors: list[Detector] = [SignatureDetector(ruleset), InjectionDetector(), ProtocolDetector()]
    if classifier:
        from siren.engine.detectors.classifier import load_default_classifier

        model = load_default_classifier()
        if model is not None:
            detectors.append(model)
    return detectors
