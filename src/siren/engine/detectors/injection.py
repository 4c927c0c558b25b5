"""libinjection SQLi and XSS detection on decoded values (the C core's tokenizer and
fingerprints; see RATIONALE.md for the licence decision)."""

from __future__ import annotations

import re

import libinjection

from siren.engine.context import Context
from siren.engine.verdict import Finding
from siren.engine.views import chain

# Collections whose values are application input.
_COLLECTIONS = frozenset({"ARGS", "ARGS_NAMES", "PATH_SEGMENTS", "COOKIES", "HEADERS", "XML", "FILE_NAMES"})
# A value made only of these characters cannot hold SQL or markup syntax libinjection flags.
_PLAIN = re.compile(r"[\w .,@:+-]*")
_XSS_HINT = re.compile(r"[<>]|javascript:|\bon[a-z]+\s*=|expression\s*\(|vbscript:|data:", re.IGNORECASE)
# libinjection flags any markup it cannot prove harmless, including the inline styles every
# rich-text editor writes. A flagged value with none of these script-capable constructs is weak
# evidence (measured on Siren's own benign set: all 27 rich-text false positives were style=).
_SCRIPT_CAPABLE = re.compile(
    r"<\s*/?\s*(?:script|iframe|frame|object|embed|applet|svg|math|base|meta|link|form|style|xml|import|isindex|template"
    r"|video|audio|source|body|html|marquee|details|input|button|textarea|select|keygen|image|animate|set|handler)\b"
    r"|\bon[a-z]{3,}[^=<>]{0,10}=|(?:j\s*a\s*v\s*a|v\s*b|l\s*i\s*v\s*e)\W{0,3}s\s*c\s*r\s*i\s*p\s*t|<!doctype|<!entity|data\s*:[^,]{0,40}(?:html|script|svg)|expression\s*\("
    r"|url\s*\(\s*['\"]?\s*(?:javascript|data|vbscript)|behavior\s*:|-moz-binding|srcdoc|formaction|xlink:href"
    r"|@import|<!\[cdata|&\{|<!--|<\?|xmlns|:include|datasrc|style\s*=\s*['\"]?[^'\">]*(?:/\*|\\|url\s*\()"
    r"|\s(?:src|href|action|background|dynsrc|lowsrc)\s*=\s*['\"]?\s*(?!https?:|mailto:|tel:)[a-z0-9+.-]{2,}:",
    re.IGNORECASE,
)
# SQLi fingerprints that, measured on the corpora and Siren's benign set, occur in ordinary text
# (globs such as ``vendor/**`` read as word + comment) far more than in attacks: weak evidence.
_WEAK_SQLI_FINGERPRINTS = frozenset({"nc", "nE(n)", "1of()"})
_SQL_HINT = re.compile(r"['\"`;()#=*/\\|&-]|\b(?:or|and|union|select|having|order|where|xor|div|like|sleep)\b", re.IGNORECASE)


# Results per decoded value are kept across requests (pure functions of the text), bounded.
_MEMO_MAX = 4096
_MEMO_TEXT_MAX = 512

_Result = tuple[tuple[str, str, int, str], ...]
"""(rule id, category, score, message) of each finding a value yields."""


class InjectionDetector:
    name = "libinjection"

    def __init__(self, sqli: bool = True, xss: bool = True) -> None:
        self.sqli = sqli
        self.xss = xss
        self._chain = chain("decoded")
        self._memo: dict[str, _Result] = {}

    def clear_cache(self) -> None:
        self._memo.clear()

    def detect(self, ctx: Context) -> list[Finding]:
        findings: list[Finding] = []
        texts = ctx.views.get("decoded")
        memo = self._memo
        for target, text in zip(ctx.targets, texts, strict=True):
            if target.collection not in _COLLECTIONS or len(text) < 2:
                continue
            if target.name.startswith("HEADER:") and target.name.lower() == "header:user-agent" and text.startswith("mozilla/"):
                # Browser User-Agents are structured text libinjection misreads; signatures still scan them.
                if "'" not in text and "<" not in text:
                    continue
            results = memo.get(text)
            if results is None:
                results = self._analyse(text)
                if len(text) <= _MEMO_TEXT_MAX:
                    if len(memo) >= _MEMO_MAX:
                        memo.clear()
                    memo[text] = results
            for rule_id, category, score, message in results:
                findings.append(Finding("libinjection", rule_id, category, target.name, text[:120], self._chain, score, message))
        return findings

    def _analyse(self, text: str) -> _Result:
        if _PLAIN.fullmatch(text):
            return ()
        out: list[tuple[str, str, int, str]] = []
        if self.sqli and _SQL_HINT.search(text):
            result = libinjection.is_sql_injection(text)
            if result["is_sqli"]:
                fp = result["fingerprint"]
                fp = fp.decode() if isinstance(fp, bytes) else str(fp)
                weak = fp in _WEAK_SQLI_FINGERPRINTS
                out.append(
                    (f"libinjection.sqli.{fp}", "sqli", 2 if weak else 5,
                     f"SQL injection syntax (libinjection fingerprint {fp}{', often benign' if weak else ''})")
                )
        if self.xss and _XSS_HINT.search(text):
            if libinjection.is_xss(text)["is_xss"]:
                capable = _SCRIPT_CAPABLE.search(text) is not None
                out.append(
                    ("libinjection.xss", "xss", 5 if capable else 2,
                     "cross-site scripting syntax (libinjection)" if capable
                     else "markup flagged by libinjection, but nothing in it can run script")
                )
        return tuple(out)
