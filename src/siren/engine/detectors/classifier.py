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
from siren.engine.features import (
    ANCHORS,
    FEATURE_VERSION,
    KEYWORDS,
    Feature,
    feature_name,
    is_plain,
    is_syntax_feature,
    parse_feature,
    token_features,
    token_windows,
    tokenize,
)
from siren.engine.targets import Target
from siren.engine.verdict import Finding
from siren.engine.views import chain

MODEL_FORMAT = "siren-classifier/1"

# Collections whose values are application input (as for libinjection, plus the whole path and
# unparsed bodies).
COLLECTIONS = frozenset({"ARGS", "ARGS_NAMES", "PATH", "PATH_SEGMENTS", "COOKIES", "HEADERS", "XML", "FILE_NAMES", "BODY"})
_BROWSER_UA = re.compile(r"mozilla/\d\.\d \([^'\"<>`${}]*\)[^'\"<>`${}]*")
_ANCHOR_TOKENS = ANCHORS | KEYWORDS
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
        self._names: dict[Feature, str] = {}
        # When every weighted feature holds an anchor token (a keyword in context, an operator,
        # a hex number or an escape: true of every model ``siren train`` writes), a value
        # without one scores the bias alone and its windows need not be looked up.
        self._anchors = _ANCHOR_TOKENS if all(map(is_syntax_feature, self.weights)) else None

    def margin(self, feats: Iterable[Feature]) -> float:
        """Bias plus the weights of the distinct features given (exactly summed, so the result
        does not depend on the order of a set)."""
        hits = self._keys.intersection(feats)
        return math.fsum([self.bias, *map(self.weights.__getitem__, hits)])

    def probability(self, text: str) -> float:
        """Attack probability of a decoded value: of its most suspicious window."""
        return self.token_probability(tokenize(text))

    def token_probability(self, tokens: list[str]) -> float:
        """:meth:`probability` of an already tokenized value."""
        if self._anchors is not None and self._anchors.isdisjoint(tokens):
            return _sigmoid(self.margin(()))
        return _sigmoid(max(self.margin(w) for w in token_windows(tokens)))

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

    def explain(self, feats: Iterable[Feature], n: int = 3) -> tuple[str, list[tuple[str, float]]]:
        """:meth:`category` and :meth:`top_features` in one pass over the matched features
        (summed in the same order as :meth:`category`, so the same result to the last bit)."""
        totals: dict[str, float] = {}
        contrib: list[tuple[float, str]] = []
        categories, weights, names = self.categories, self.weights, self._names
        for f in self._keys.intersection(feats):
            w = weights[f]
            cat = categories.get(f)
            if w > 0:
                name = names.get(f)
                if name is None:
                    name = names[f] = feature_name(f)
                contrib.append((-w, name))
                if cat is not None:
                    totals[cat] = totals.get(cat, 0.0) + w
        category = max(sorted(totals), key=lambda c: totals[c]) if totals else "other"
        contrib.sort()
        return category, [(name, -neg) for neg, name in contrib[:n]]

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
    best, best_i, _ = _best_target(model, targets, texts, cache)
    return best, best_i


def _best_target(
    model: Model, targets: list[Target], texts: list[str], cache: dict[str, float] | None, own_cache: bool = False
) -> tuple[float, int, list[str] | None]:
    """:func:`best_target`, plus the tokens of the best target's text when they were computed.
    ``own_cache``: the cache holds only what this function put there, so only texts that passed
    :func:`inspected`'s checks on the text alone (length, :func:`~siren.engine.features.is_plain`):
    a text found there needs only the checks on its target."""
    best, best_i, best_tokens = 0.0, -1, None
    for i, (target, text) in enumerate(zip(targets, texts, strict=True)):
        p = None
        if own_cache and cache is not None:
            if target.collection not in COLLECTIONS:
                continue
            p = cache.get(text)
            if p is not None and target.name.lower() == "header:user-agent" and _BROWSER_UA.fullmatch(text):
                continue  # as in inspected()
        if p is None:
            if not inspected(target, text):
                continue
            p = cache.get(text) if cache is not None else None
        tokens = None
        if p is None:
            tokens = tokenize(text)
            p = model.token_probability(tokens)
            if cache is not None and len(text) <= _CACHE_TEXT_MAX:
                if len(cache) >= _CACHE_MAX:
                    cache.clear()
                cache[text] = p
        if p > best:
            best, best_i, best_tokens = p, i, tokens
    return best, best_i, best_tokens


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
        self._explained: dict[str, tuple[str, str]] = {}

    def clear_cache(self) -> None:
        self._cache.clear()
        self._explained.clear()

    def _explain(self, text: str, tokens: list[str] | None) -> tuple[str, str]:
        """(category, strongest features) of a decoded value; pure, so kept like probabilities."""
        found = self._explained.get(text)
        if found is not None:
            return found
        category, top = self.model.explain(token_features(tokens if tokens is not None else tokenize(text)))
        found = (category, ", ".join(f"{name!r}" for name, _ in top))
        if len(text) <= _CACHE_TEXT_MAX:
            if len(self._explained) >= _CACHE_MAX:
                self._explained.clear()
            self._explained[text] = found
        return found

    def detect(self, ctx: Context) -> list[Finding]:
        if self.only_with_evidence and not any(f.score > 0 for f in ctx.findings):
            return []
        m = self.model
        texts = ctx.views.get("decoded")
        p, i, tokens = _best_target(m, ctx.targets, texts, self._cache, own_cache=True)
        if i < 0 or p < m.suspect:
            return []
        text = texts[i]
        category, top = self._explain(text, tokens)
        high = p >= m.attack
        # Below ``scoring_paranoia`` the finding is advisory (score 0): measured on held-out
        # files, its score changed almost no verdict at paranoia 1 except to add false positives,
        # but it still marks suspicious-but-allowed requests for the brain to learn from.
        advisory = ctx.paranoia < self.scoring_paranoia
        score = 0 if advisory else (m.score_attack if high else m.score_suspect)
        return [
            Finding(
                "classifier",
                "classifier.attack" if high else "classifier.suspect",
                category,
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
