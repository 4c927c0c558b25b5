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
_SQL_HINT = re.compile(r"['\"`;()#=*/\\|&-]|\b(?:or|and|union|select|having|order|where|xor|div|like|sleep)\b", re.IGNORECASE)


class InjectionDetector:
    name = "libinjection"

    def __init__(self, sqli: bool = True, xss: bool = True) -> None:
        self.sqli = sqli
        self.xss = xss
        self._chain = chain("decoded")

    def detect(self, ctx: Context) -> list[Finding]:
        findings: list[Finding] = []
        texts = ctx.views.get("decoded")
        for target, text in zip(ctx.targets, texts):
            if target.collection not in _COLLECTIONS or len(text) < 2 or _PLAIN.fullmatch(text):
                continue
            if target.name.startswith("HEADER:") and target.name.lower() == "header:user-agent" and text.startswith("mozilla/"):
                # Browser User-Agents are structured text libinjection misreads; signatures still scan them.
                if "'" not in text and "<" not in text:
                    continue
            if self.sqli and _SQL_HINT.search(text):
                result = libinjection.is_sql_injection(text)
                if result["is_sqli"]:
                    fp = result["fingerprint"]
                    fp = fp.decode() if isinstance(fp, bytes) else str(fp)
                    findings.append(
                        Finding("libinjection", f"sqli.{fp}", "sqli", target.name, text[:120], self._chain, 5,
                                f"SQL injection syntax (libinjection fingerprint {fp})")
                    )
            if self.xss and _XSS_HINT.search(text):
                if libinjection.is_xss(text)["is_xss"]:
                    findings.append(
                        Finding("libinjection", "xss", "xss", target.name, text[:120], self._chain, 5,
                                "cross-site scripting syntax (libinjection)")
                    )
        return findings
