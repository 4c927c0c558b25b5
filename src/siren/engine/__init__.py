"""Siren's detection engine: pure, synchronous, no I/O. Bytes and configuration in, a verdict
out. It must never import ``siren.proxy`` or ``siren.brain``, asyncio or sockets.

    >>> from siren.engine import Engine, Request
    >>> engine = Engine.create()
    >>> engine.inspect(Request("GET", "/?q=%27%20OR%201%3D1--", (("Host", "x"),))).blocked
    True
"""

from siren.engine.engine import Engine
from siren.engine.limits import Limits
from siren.engine.policy import Exclusion, Policy, Route
from siren.engine.request import ParseError, Request, parse_http
from siren.engine.verdict import Action, Finding, Verdict

__all__ = [
    "Action", "Engine", "Exclusion", "Finding", "Limits", "ParseError", "Policy", "Request", "Route", "Verdict", "parse_http",
]
