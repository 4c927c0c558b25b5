"""``siren train``: fit the learned classifier on labelled corpora and measure it on others.

Training examples are target values, not whole requests: every request is split into targets
exactly as the engine does (:func:`~siren.engine.targets.extract_targets`, ``decoded`` view).
Every input target of a benign request is a negative (also the plain ones the detector skips),
and so are its whole decoded request-target and body: they show the model ordinary text and
syntax; of an attack request, the inspected targets that hold the
source payload (the corpus ``payload`` field, decoded the same way; CRS payloads are split on
`` | ``) are positives and the other targets are left out. Duplicate (text, label) pairs count
once.

The model is an L2-regularised logistic regression on binary features, fitted by full-batch
Adam with numpy from zero weights: no randomness, features in sorted order, so the same files and
parameters give the same model file byte for byte. Only features anchored on attack syntax get a
weight (:func:`~siren.engine.features.is_syntax_feature`). Examples are learnt whole; the engine
scores the best window of a long value, as do the held-out figures here, which are per request:
a request is flagged when its most suspicious target reaches a threshold (the detector's own
code path, :func:`~siren.engine.detectors.classifier.best_target`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import re
import shlex
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from siren.corpus import Record, read_corpus_raw
from siren.engine.detectors.classifier import COLLECTIONS, Model, best_target, default_model_path, inspected
from siren.engine.features import FEATURE_VERSION, MAX_CHARS, Feature, feature_name, features, is_syntax_feature
from siren.engine.limits import Limits
from siren.engine.targets import Target, extract_targets
from siren.engine.transforms import apply_chain
from siren.engine.views import ViewCache, chain
from siren.errors import SirenError

NOISY_CATEGORIES = frozenset({"other", "scanner"})
"""As in :mod:`siren.evaluation`: attacks with these labels are left out of the headline rate."""
_CATEGORY_LABELS = frozenset({"sqli", "xss", "rce", "lfi", "rfi", "ssrf", "ssti", "xxe", "nosqli", "ldapi", "log4shell", "crlf"})
_HEADER_PIECE = re.compile(r"^[A-Za-z0-9-]+: (.*)$", re.DOTALL)
_DECODED = chain("decoded")


@dataclass(frozen=True)
class Params:
    l2: float = 1e-4
    iterations: int = 300
    learning_rate: float = 0.05
    min_df: int = 2
    suspect: float = 0.5
    attack: float = 0.9
    score_suspect: int = 2
    score_attack: int = 3

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Example:
    text: str
    label: int
    category: str


@dataclass
class Collected:
    examples: list[Example] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    """Records per outcome: ``benign``, ``attack`` (payload located), ``attack-unlocated``."""


def read_raw(path: Path) -> Iterator[tuple[dict[str, Any], Record]]:
    """(JSON object, record) per line of a corpus file."""
    return read_corpus_raw(path)


def decoded_targets(record: Record, limits: Limits | None = None) -> list[tuple[Target, str]]:
    """Every (target, decoded text) pair of a request, as the engine extracts them."""
    targets = extract_targets(record.request, limits or Limits()).targets
    return list(zip(targets, ViewCache([t.value for t in targets]).get("decoded"), strict=True))


def inspected_texts(record: Record, limits: Limits | None = None) -> list[tuple[Target, str]]:
    """The (target, decoded text) pairs of a request that the classifier scores."""
    return [(t, x) for t, x in decoded_targets(record, limits) if inspected(t, x)]


def whole_request_texts(record: Record) -> list[str]:
    """The decoded request-target and body of a request (extra benign examples)."""
    texts = [apply_chain(record.request.target, _DECODED)]
    if record.request.body:
        texts.append(apply_chain(record.request.body[:MAX_CHARS].decode("utf-8", "replace"), _DECODED))
    return texts


def payload_pieces(obj: dict[str, Any]) -> list[str]:
    """The source payload decoded like a target value (CRS: each `` | `` piece, header values
    without their name)."""
    payload = obj.get("payload")
    if not isinstance(payload, str) or not payload:
        return []
    pieces = payload.split(" | ") if obj.get("source") == "crs" else [payload]
    out = []
    for piece in pieces:
        m = _HEADER_PIECE.match(piece)
        if m and obj.get("source") == "crs":
            piece = m.group(1)
        decoded = apply_chain(piece, _DECODED).strip()
        if len(decoded) >= 2:
            out.append(decoded)
    return out


def collect(paths: Iterable[Path]) -> Collected:
    """Training examples of the given corpus files, deduplicated, in file order."""
    out = Collected()
    seen: set[tuple[str, int]] = set()
    for path in paths:
        for obj, record in read_raw(path):
            pairs = decoded_targets(record)
            if record.label == "benign":
                # Every input value, even those the detector skips as plain, and the whole
                # request-target and body: they show the model ordinary syntax (query strings,
                # JSON documents) around words that are keywords elsewhere.
                out.records["benign"] += 1
                chosen = [(x, 0) for t, x in pairs if t.collection in COLLECTIONS and x.strip()]
                chosen += [(x, 0) for x in whole_request_texts(record)]
            else:
                pieces = payload_pieces(obj)
                chosen = [
                    (x, 1) for t, x in pairs if inspected(t, x)
                    if any(p in x or (len(x) >= 3 and x in p) for p in pieces)
                ]
                out.records["attack" if chosen else "attack-unlocated"] += 1
            category = record.category if record.category in _CATEGORY_LABELS else ""
            for text, label in chosen:
                if (text, label) not in seen:
                    seen.add((text, label))
                    out.examples.append(Example(text, label, category))
    return out


@dataclass
class Matrix:
    vocab: list[Feature]
    indices: np.ndarray[Any, np.dtype[np.int32]]
    indptr: np.ndarray[Any, np.dtype[np.int64]]
    labels: np.ndarray[Any, np.dtype[np.float64]]

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1


def build_matrix(examples: Sequence[Example], min_df: int) -> tuple[Matrix, list[set[Feature]]]:
    feats = [features(e.text) for e in examples]
    df: Counter[Feature] = Counter()
    for fs in feats:
        df.update(fs)
    vocab = sorted((f for f, c in df.items() if c >= min_df and is_syntax_feature(f)), key=feature_name)
    index = {f: i for i, f in enumerate(vocab)}
    indices: list[int] = []
    indptr = [0]
    for fs in feats:
        row = sorted(index[f] for f in fs if f in index)
        indices.extend(row)
        indptr.append(len(indices))
    return (
        Matrix(
            vocab,
            np.asarray(indices, dtype=np.int32),
            np.asarray(indptr, dtype=np.int64),
            np.asarray([e.label for e in examples], dtype=np.float64),
        ),
        feats,
    )


def fit(m: Matrix, params: Params) -> tuple[np.ndarray[Any, np.dtype[np.float64]], float, float]:
    """(weights, bias, final loss): class-balanced, L2-regularised logistic regression."""
    n, v = m.rows, len(m.vocab)
    y = m.labels
    pos = float(y.sum())
    neg = n - pos
    if pos == 0 or neg == 0:
        raise SirenError("training needs both attack and benign examples")
    sw = np.where(y > 0, n / (2 * pos), n / (2 * neg)) / n
    rows = np.repeat(np.arange(n), np.diff(m.indptr))
    w = np.zeros(v)
    b = 0.0
    mw, vw = np.zeros(v), np.zeros(v)
    mb = vb = 0.0
    b1, b2, eps = 0.9, 0.999, 1e-8
    loss = 0.0
    for t in range(1, params.iterations + 1):
        z = np.bincount(rows, weights=w[m.indices], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-z))
        r = sw * (p - y)
        gw = np.bincount(m.indices, weights=r[rows], minlength=v) + params.l2 * w
        gb = float(r.sum())
        mw = b1 * mw + (1 - b1) * gw
        vw = b2 * vw + (1 - b2) * gw * gw
        mb = b1 * mb + (1 - b1) * gb
        vb = b2 * vb + (1 - b2) * gb * gb
        lr = params.learning_rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        w -= lr * mw / (np.sqrt(vw) + eps)
        b -= float(lr * mb / (np.sqrt(vb) + eps))
        if t == params.iterations:
            zc = np.clip(z, -30, 30)
            loss = float(np.sum(sw * (np.logaddexp(0, zc) - y * zc)) + 0.5 * params.l2 * float(w @ w))
    return w, b, loss


def feature_categories(examples: Sequence[Example], feats: Sequence[set[Feature]], keep: set[Feature]) -> dict[Feature, str]:
    """For each kept feature, the category of most of the attack examples holding it (if one
    category has at least half of them)."""
    counts: dict[Feature, Counter[str]] = {}
    for e, fs in zip(examples, feats, strict=True):
        if e.label and e.category:
            for f in fs:
                if f in keep:
                    counts.setdefault(f, Counter())[e.category] += 1
    out: dict[Feature, str] = {}
    for f, c in counts.items():
        cat, top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if 2 * top >= sum(c.values()):
            out[f] = cat
    return out


def train(paths: Sequence[Path], params: Params, log: Any = None) -> tuple[Model, dict[str, Any]]:
    """A model and a summary of the training data."""
    data = collect(paths)
    matrix, feats = build_matrix(data.examples, params.min_df)
    if log:
        print(
            f"training: {len(data.examples)} examples ({int(matrix.labels.sum())} attack) from "
            f"{dict(sorted(data.records.items()))} records; {len(matrix.vocab)} features",
            file=log,
        )
    w, b, loss = fit(matrix, params)
    weights: dict[Feature, float] = {}
    for f, value in zip(matrix.vocab, w.tolist(), strict=True):
        rounded = round(value, 4)
        if rounded != 0.0:
            weights[f] = rounded
    positive = {f for f, value in weights.items() if value > 0}
    model = Model(
        weights=weights,
        bias=round(b, 4),
        suspect=params.suspect,
        attack=params.attack,
        score_suspect=params.score_suspect,
        score_attack=params.score_attack,
        categories=feature_categories(data.examples, feats, positive),
    )
    summary = {
        "examples": len(data.examples),
        "attack_examples": int(matrix.labels.sum()),
        "records": dict(sorted(data.records.items())),
        "features": len(matrix.vocab),
        "nonzero_weights": len(weights),
        "final_loss": round(loss, 6),
    }
    return model, summary


@dataclass
class FileFigures:
    attacks: int = 0
    attacks_noisy: int = 0
    benign: int = 0
    flagged: dict[str, Counter[str]] = field(default_factory=dict)
    """band (``suspect``/``attack``) -> counts of ``attack``, ``attack_noisy``, ``benign`` flagged
    and ``benign:<kind>`` for benign records with a ``meta.kind``."""
    kinds: Counter[str] = field(default_factory=Counter)
    """Benign records per ``meta.kind`` (Siren's benign set)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "attacks": self.attacks,
            "attacks_other_scanner": self.attacks_noisy,
            "benign": self.benign,
            "benign_kinds": dict(sorted(self.kinds.items())),
            "flagged": {band: dict(sorted(c.items())) for band, c in sorted(self.flagged.items())},
        }


def evaluate_model(model: Model, paths: Sequence[Path]) -> dict[str, FileFigures]:
    """Per file: requests flagged by the classifier alone at each band's threshold."""
    out: dict[str, FileFigures] = {}
    for path in paths:
        figs = out.setdefault(path.name, FileFigures(flagged={"suspect": Counter(), "attack": Counter()}))
        for record in (r for _, r in read_raw(path)):
            pairs = inspected_texts(record)
            p, _ = best_target(model, [t for t, _ in pairs], [x for _, x in pairs])
            sub = ""
            if record.label == "benign":
                kind = "benign"
                figs.benign += 1
                if isinstance(record.meta.get("kind"), str):
                    sub = f"benign:{record.meta['kind']}"
                    figs.kinds[record.meta["kind"]] += 1
            elif record.category in NOISY_CATEGORIES:
                kind = "attack_noisy"
                figs.attacks_noisy += 1
            else:
                kind = "attack"
                figs.attacks += 1
            for band, threshold in (("suspect", model.suspect), ("attack", model.attack)):
                if p >= threshold:
                    figs.flagged[band][kind] += 1
                    if sub:
                        figs.flagged[band][sub] += 1
    return out


def _pct(part: int, total: int) -> str:
    return f"{100 * part / total:.2f}% ({part}/{total})" if total else "-"


def format_figures(model: Model, figures: dict[str, FileFigures]) -> str:
    lines = [
        "held-out figures (classifier alone, per request; attacks exclude 'other'/'scanner' labels):",
        f"| file | attacks flagged p>={model.suspect} | attacks flagged p>={model.attack} | benign flagged p>={model.suspect} | benign flagged p>={model.attack} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, f in figures.items():
        lines.append(
            f"| {name} | {_pct(f.flagged['suspect']['attack'], f.attacks)} | {_pct(f.flagged['attack']['attack'], f.attacks)} "
            f"| {_pct(f.flagged['suspect']['benign'], f.benign)} | {_pct(f.flagged['attack']['benign'], f.benign)} |"
        )
        for kind, total in sorted(f.kinds.items()):
            key = f"benign:{kind}"
            lines.append(
                f"| {name} kind={kind} | - | - | {_pct(f.flagged['suspect'][key], total)} | {_pct(f.flagged['attack'][key], total)} |"
            )
    return "\n".join(lines)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(paths: Sequence[Path]) -> list[dict[str, Any]]:
    return [{"file": p.name, "sha256": sha256(p)} for p in paths]


def _markdown(model: Model, command: str, date: str, figures_text: str) -> str:
    meta = model.meta
    lines = [
        "# Siren learned classifier: how `classifier.json` was made",
        "",
        "Written by `siren train` together with the model; do not edit by hand.",
        "",
        f"- date (UTC): {date}",
        f"- command: `{command}`",
        f"- feature version: {FEATURE_VERSION} (`siren.engine.features`)",
        f"- parameters: `{orjson.dumps(meta['params'], option=orjson.OPT_SORT_KEYS).decode()}`",
        f"- training summary: `{orjson.dumps(meta['training'], option=orjson.OPT_SORT_KEYS).decode()}`",
        "",
        "## Training files",
        "",
        "| file | sha256 |",
        "| --- | --- |",
        *[f"| {f['file']} | `{f['sha256']}` |" for f in meta["train_files"]],
        "",
        "## Held-out files (never seen in training)",
        "",
        "| file | sha256 |",
        "| --- | --- |",
        *[f"| {f['file']} | `{f['sha256']}` |" for f in meta["test_files"]],
        "",
        figures_text,
        "",
        "The engine adds the classifier's finding with score "
        f"{model.score_suspect} (p >= {model.suspect}) or {model.score_attack} (p >= {model.attack}), below the block "
        "threshold: it only tips a request over together with another detector's evidence.",
        "",
    ]
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    train_paths = [Path(p) for p in args.train]
    test_paths = [Path(p) for p in args.test]
    overlap = {p.resolve() for p in train_paths} & {p.resolve() for p in test_paths}
    if overlap:
        raise SirenError(f"a file is both a training and a test file: {', '.join(sorted(map(str, overlap)))}")
    params = Params(
        l2=args.l2, iterations=args.iterations, learning_rate=args.learning_rate, min_df=args.min_df,
        suspect=args.suspect, attack=args.attack,
    )
    model, summary = train(train_paths, params, log=sys.stderr)
    print(f"training: final loss {summary['final_loss']}, {summary['nonzero_weights']} non-zero weights", file=sys.stderr)
    figures = evaluate_model(model, test_paths) if test_paths else {}
    figures_text = format_figures(model, figures) if figures else "(no held-out files given)"
    print(figures_text)
    command = canonical_command(args)
    model.meta = {
        "command": command,
        "params": params.as_dict(),
        "train_files": _files(train_paths),
        "test_files": _files(test_paths),
        "training": summary,
        "held_out": {name: f.as_dict() for name, f in figures.items()},
    }
    out = Path(args.out) if args.out else default_model_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(model.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    out.with_suffix(".md").write_text(_markdown(model, command, date, figures_text), encoding="utf-8")
    print(f"wrote {out} and {out.with_suffix('.md')}", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train the learned classifier on labelled JSONL corpora")
    p.add_argument("--train", nargs="+", required=True, metavar="FILE", help="training corpus files")
    p.add_argument("--test", nargs="*", default=[], metavar="FILE", help="held-out corpus files (never trained on)")
    p.add_argument("--out", metavar="PATH", help="model file (default: the shipped siren/models/classifier.json)")
    d = Params()
    p.add_argument("--l2", type=float, default=d.l2, help="L2 regularisation strength")
    p.add_argument("--iterations", type=int, default=d.iterations, help="full-batch Adam steps")
    p.add_argument("--learning-rate", type=float, default=d.learning_rate)
    p.add_argument("--min-df", type=int, default=d.min_df, help="keep features seen in at least this many examples")
    p.add_argument("--suspect", type=float, default=d.suspect, help="probability of the uncertain band (score 2)")
    p.add_argument("--attack", type=float, default=d.attack, help="probability of the high band (score 3)")
    p.set_defaults(func=cmd_train)


def canonical_command(args: argparse.Namespace) -> str:
    """The ``siren train`` command line that reproduces this run, every parameter spelled out."""
    parts = ["siren", "train", "--train", *args.train]
    if args.test:
        parts += ["--test", *args.test]
    if args.out:
        parts += ["--out", args.out]
    parts += [
        "--l2", repr(args.l2), "--iterations", str(args.iterations), "--learning-rate", repr(args.learning_rate),
        "--min-df", str(args.min_df), "--suspect", repr(args.suspect), "--attack", repr(args.attack),
    ]
    return shlex.join(parts)
