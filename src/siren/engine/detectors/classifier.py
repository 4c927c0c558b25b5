"""Learned classifier: a logistic-regression model over syntax-token n-grams of each decoded
target value (features in :mod:`siren.engine.features`, trained by ``siren train``).

It never blocks on its own: for the most suspicious target of a request it emits one finding
scored below the block threshold (``score_attack`` = 3 above the high probability threshold,
``score_suspect`` = 2 in the uncertain band, nothing below), so it only tips a request over when
another detector also found something. At paranoia 1 (the default) the finding is advisory
(score 0): it marks suspicious-but-allowed requests for the brain without changing verdicts. The model ships as ``siren/models/classifier.json``
(weights per feature, bias, thresholds and a record of how it was trained; see the ``.md``
beside it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from siren.engine.context import Context
from siren.engine.features import FEATURE_VERSION, Feature, feature_name, features, is_plain, iter_windows, parse_feature
from siren.engine.targets import Target
from siren.engine.verdict import Finding
from siren.engine.views import chain

MODEL_FORMAT = "siren-classifier/1"

# Collections whose values are application input (as for libinjection, plus the whole path and
# unparsed bodies).
COLLECTIONS = frozenset({"ARGS", "ARGS_NAMES", "PATH", "PATH_SEGMENTS", "COOKIES", "HEADERS", "XML", "FILE_NAMES", "BODY"})
_BROWSER_UA = re.compile(r"mozilla/\d\.\d \([^'\"<>`${}]*\)[^'\"<>`${}]*")
_CACHE_MAX = 4096
_CACHE_TEXT_MAX = 256


def inspected(target: Target, text: str) -> bool:
    """Whether the classifier scores this (decoded) target value at all; shared with training so
    the model learns on exactly what it will see."""
    if target.collection not in COLLECTIONS or len(text) < 3 or is_plain(text):
        return False
    if target.name.lower() == "header:user-agent" and _BROWSER_UA.fullmatch(text):
        return False  # a browser User-Agent with no quote, bracket or template character
    return True


@dataclass
class Model:
    """Weights per feature (missing = 0), bias, and the probability thresholds of the two bands."""

    weights: dict[Feature, float]
    bias: float
    suspect: float = 0.5
    attack: float = 0.9
    score_suspect: int = 2
    score_attack: int = 3
    categories: dict[Feature, str] = field(default_factory=dict)
    """Attack category of positive-weight features whose training examples mostly had one."""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._keys = frozenset(self.weights)

    def margin(self, feats: Iterable[Feature]) -> float:
        """Bias plus the weights of the distinct features given (exactly summed, so the result
        does not depend on the order of a set)."""
        hits = self._keys.intersection(feats)
        return math.fsum([self.bias, *map(self.weights.__getitem__, hits)])

    def probability(self, text: str) -> float:
        """Attack probability of a decoded value: of its most suspicious window."""
        return _sigmoid(max(self.margin(w) for w in iter_windows(text)))

    def category(self, feats: Iterable[Feature]) -> str:
        """The category whose features add most to the score, or ``other``."""
        totals: dict[str, float] = {}
        for f in self._keys.intersection(feats):
            cat = self.categories.get(f)
            w = self.weights[f]
            if cat is not None and w > 0:
                totals[cat] = totals.get(cat, 0.0) + w
        return max(sorted(totals), key=lambda c: totals[c]) if totals else "other"

    def top_features(self, feats: Iterable[Feature], n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` features adding most to the score (name, weight)."""
        contrib = [(feature_name(f), self.weights[f]) for f in self._keys.intersection(feats) if self.weights[f] > 0]
        return sorted(contrib, key=lambda x: (-x[1], x[0]))[:n]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "feature_version": FEATURE_VERSION,
            "bias": self.bias,
            "thresholds": {"suspect": self.suspect, "attack": self.attack},
            "scores": {"suspect": self.score_suspect, "attack": self.score_attack},
            "meta": self.meta,
            "categories": {feature_name(f): c for f, c in sorted(self.categories.items(), key=lambda kv: feature_name(kv[0]))},
            "weights": {feature_name(f): w for f, w in sorted(self.weights.items(), key=lambda kv: feature_name(kv[0]))},
        }

    @classmethod
    def from_json(cls, doc: Any) -> Model:
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} model")
        if doc.get("feature_version") != FEATURE_VERSION:
            raise ValueError(f"model built for feature version {doc.get('feature_version')}, engine has {FEATURE_VERSION}")
        thresholds = doc["thresholds"]
        scores = doc["scores"]
        return cls(
            weights={parse_feature(k): float(v) for k, v in doc["weights"].items()},
            bias=float(doc["bias"]),
            suspect=float(thresholds["suspect"]),
            attack=float(thresholds["attack"]),
            score_suspect=int(scores["suspect"]),
            score_attack=int(scores["attack"]),
            categories={parse_feature(k): str(v) for k, v in doc.get("categories", {}).items()},
            meta=dict(doc.get("meta", {})),
        )

    @classmethod
    def load(cls, path: Path) -> Model:
        return cls.from_json(orjson.loads(path.read_bytes()))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def best_target(model: Model, targets: list[Target], texts: list[str], cache: dict[str, float] | None = None) -> tuple[float, int]:
    """(highest probability, index of its target) over the inspected targets; (0.0, -1) if none."""
    best, best_i = 0.0, -1
    for i, (target, text) in enumerate(zip(targets, texts, strict=True)):
        if not inspected(target, text):
            continue
        p = cache.get(text) if cache is not None else None
        if p is None:
            p = model.probability(text)
            if cache is not None and len(text) <= _CACHE_TEXT_MAX:
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[text] = p
        if p > best:
            best, best_i = p, i
    return best, best_i


class ClassifierDetector:
    """Scores the inspected targets of a request (after the other detectors, whose findings are in
    ``ctx.findings``). With ``only_with_evidence`` it skips requests where no earlier detector
    found anything (score > 0): its finding could not change their verdict, so this saves the
    scoring cost on clean traffic, at the price of no classifier signal on requests the other
    detectors all pass."""

    name = "classifier"

    def __init__(self, model: Model, *, only_with_evidence: bool = False, scoring_paranoia: int = 2) -> None:
        self.model = model
        self.only_with_evidence = only_with_evidence
        self.scoring_paranoia = scoring_paranoia
        self._chain = chain("decoded")
        self._cache: dict[str, float] = {}

    def detect(self, ctx: Context) -> list[Finding]:
        if self.only_with_evidence and not any(f.score > 0 for f in ctx.findings):
            return []
        m = self.model
        p, i = best_target(m, ctx.targets, ctx.views.get("decoded"), self._cache)
        if i < 0 or p < m.suspect:
            return []
        text = ctx.views.get("decoded")[i]
        feats = features(text)
        high = p >= m.attack
        top = ", ".join(f"{name!r}" for name, _ in m.top_features(feats))
        # Below ``scoring_paranoia`` the finding is advisory (score 0): measured on held-out
        # files, its score changed almost no verdict at paranoia 1 except to add false positives,
        # but it still marks suspicious-but-allowed requests for the brain to learn from.
        advisory = ctx.paranoia < self.scoring_paranoia
        score = 0 if advisory else (m.score_attack if high else m.score_suspect)
        return [
            Finding(
                "classifier",
                "classifier.attack" if high else "classifier.suspect",
                m.category(feats),
                ctx.targets[i].name,
                text[:120],
                self._chain,
                score,
                f"learned classifier: attack probability {p:.2f}"
                + (f" (strongest: {top})" if top else "")
                + (" (advisory below paranoia 2)" if advisory else ""),
            )
        ]


def default_model_path() -> Path:
    return Path(str(resources.files("siren").joinpath("models/classifier.json")))


@lru_cache(maxsize=1)
def load_default_model() -> Model | None:
    """The shipped model, loaded once per process; ``None`` when no model file ships."""
    path = default_model_path()
    if not path.is_file():
        return None
    return Model.load(path)


def load_default_classifier() -> ClassifierDetector | None:
    """A detector around the shipped model (shared, loaded once), or ``None`` without one."""
    model = load_default_model()
    return ClassifierDetector(model) if model is not None else None
