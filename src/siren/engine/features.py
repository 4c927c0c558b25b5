"""Syntax-aware features for the learned classifier (shared by ``siren train`` and the engine).

A target value (its ``decoded`` view: URL/entity-decoded, lowercased) becomes a stream of
tokens that keeps the *syntax* of the text and forgets its vocabulary:

* punctuation and operators stay themselves (``'``, ``(``, ``--``, ``/*``, ``../``, ``{{``, ``${``…);
* SQL, shell, HTML/JS, template, path and URL-scheme keywords stay themselves (``union``, ``select``,
  ``script``, ``onerror``, ``passwd``, ``jndi``…), but only in a syntactic context (next to an
  operator, quote, bracket or number): in prose they are ordinary words;
* every other word becomes a word-class token (``W`` letters in any script, ``A`` letters and
  digits), numbers become ``N`` (``X`` for ``0x…``, ``E`` for ``\\x41``-style escapes), other
  non-ASCII symbols ``S``.

So "Das ist ein schöner Tag." and "select the best option" both read ``W W W W W`` (plus the
full stop), while ``1' OR '1'='1`` reads ``N ' or ' N ' = ' N``. The features are token 1-, 2- and
3-grams (with start and end markers). Only features anchored on attack syntax can carry weight (:func:`is_syntax_feature`:
a keyword in context, a multi-character operator, a hex number or an escape); n-grams of words,
numbers and single punctuation characters alone cannot.

libinjection's verdict and fingerprint are deliberately *not* features: libinjection is its own
detector with its own finding, and the classifier's score is added to it, so feeding it in would
count the same evidence twice.

A feature is a display token (1-gram) or a tuple of two or three (2- and 3-grams). A model keeps a weight per feature it learnt (a dict: no fixed-size hashing
table, no collisions); any other feature weighs nothing. Everything here is pure and
deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain, pairwise
from typing import TypeAlias

FEATURE_VERSION = 1
"""Bump when the tokens or features change: a model records the version it was trained with."""

MAX_CHARS = 4096
"""Only the first this many characters of a value are tokenized (bounded cost per target)."""
MAX_TOKENS = 512

# Keywords: attack vocabulary that is rare in ordinary input *next to syntax*. Very common words
# that also name SQL clauses, HTML tags, JSON keys or paths (``all``, ``by``, ``if``, ``id``,
# ``data``, ``type``, ``user``, ``body``, ``src``, ``dev``, ``http``…) are left out on purpose.
SQL_KEYWORDS = (
    "select union from where and or not xor like rlike regexp having order group insert into update "
    "delete drop create alter table exec execute declare cast convert char chr concat concat_ws "
    "group_concat substring substr ascii sleep benchmark waitfor delay pg_sleep null ifnull isnull "
    "coalesce information_schema tables columns table_name column_name sysobjects syscolumns mysql "
    "current_user system_user session_user load_file outfile dumpfile xp_cmdshell sp_executesql "
    "extractvalue updatexml md5 hex unhex char_length nvarchar varchar dbms_pipe utl_inaddr "
    "sqlite_master pg_user elt make_set"
)
SHELL_KEYWORDS = (
    "cat ls whoami uname pwd echo wget curl nc ncat netcat bash sh zsh ksh cmd powershell ping "
    "nslookup chmod rm mkdir python perl ruby php node system passthru shell_exec popen proc_open "
    "base64 bin tcp tmp etc passwd shadow hosts win ini boot proc environ cmdline usr grep awk "
    "sed kill netstat ifconfig ipconfig telnet ftp tftp xterm nohup sudo su system32 winnt "
    "htaccess htpasswd exe dll bash_history ssh authorized_keys id_rsa"
)
WEB_KEYWORDS = (
    "script img svg iframe embed applet frameset marquee xml onerror onload onclick onmouseover "
    "onfocus onblur onmouseout onstart ontoggle onbegin onanimationstart onpageshow onresize onwheel "
    "onpointerover alert prompt confirm document cookie window href srcdoc javascript vbscript "
    "livescript expression eval settimeout setinterval fromcharcode atob innerhtml outerhtml "
    "constructor prototype __proto__ xmlhttprequest require child_process mainmodule"
)
TEMPLATE_KEYWORDS = (
    "mro subclasses globals builtins __class__ __mro__ __subclasses__ __globals__ __builtins__ "
    "__import__ __init__ lipsum cycler joiner namespace getruntime getclass forname invoke "
    "freemarker velocity"
)
NET_KEYWORDS = (
    "file gopher dict ldap ldaps rmi jndi iiop corba nds nis expect phar jar glob doctype entity ne gt "
    "lt gte lte nin objectclass cn uid"
)
KEYWORDS = frozenset(" ".join((SQL_KEYWORDS, SHELL_KEYWORDS, WEB_KEYWORDS, TEMPLATE_KEYWORDS, NET_KEYWORDS)).split())

# Combining marks and joiners that belong inside words of Indic, Thai, Arabic, Hebrew… scripts
# (``\w`` alone would split those words at every vowel sign).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0711"
    "\u0730-\u074a\u0900-\u0dff\u0e00-\u0eff\u0f18-\u0fbc\u1000-\u109f\u1780-\u17ff\u1ab0-\u1aff"
    "\u1dc0-\u1dff\u200c\u200d\u20d0-\u20ff\u3099\u309a\ufe00-\ufe0f\ufe20-\ufe2f"
)
OPERATORS = (
    "<!-- --> <![cdata[ ]]> ../ ..\\ /*! /* */ -- || && {{ }} {% %} ${ $( #{ <? ?> <% %> <= >= <> != => &#"
).split()
# Words first (the commonest token), then hex numbers, numbers, multi-character operators (behind
# a one-character look-ahead so ordinary characters skip them quickly), any other single character.
_TOKEN_RE = re.compile(
    rf"[^\W\d][\w{_MARKS}]*|0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[-+]?\d+)?|"
    r"(?=[-<>\].\\/*|&{}%$#?!=:])(?:"
    + "|".join(re.escape(op) for op in sorted(OPERATORS, key=lambda op: (-len(op), op)))
    + r")|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\S",
)
_HAS_DIGIT = re.compile(r"\d")
# A value made only of these characters and no keyword has no attack syntax to score.
_PLAIN = re.compile(r"[\w .,@+-]*")

# Token classes. Raw text never produces these display tokens: input is lowercased (so no "W"),
# and "^"/"$" alone are the characters themselves, not the markers.
WORD, ALNUM, NUMBER, HEXNUM, SYMBOL, ESCAPE, BOS, EOS = "W", "A", "N", "X", "S", "E", "^^", "$$"

Feature: TypeAlias = "str | tuple[str, str] | tuple[str, str, str]"

# Anchors of attack syntax besides the keywords (see is_syntax_feature): the multi-character
# operators, hex numbers and escapes. A lone quote, bracket or semicolon is not one: ordinary
# JSON, prose, phone numbers and browser headers are full of them.
ANCHORS = frozenset([*OPERATORS, HEXNUM, ESCAPE])

# Prose punctuation does not make a neighbouring keyword syntax; every other operator or
# punctuation character, a number or an escape does.
_NOT_SYNTAX = frozenset({",", ".", "!", "?"})
_SYNTAX_CLASSES = frozenset({NUMBER, HEXNUM, ESCAPE})

_DISPLAY: dict[str, str] = {k: k for k in KEYWORDS}
_DISPLAY.update({op: op for op in OPERATORS})
_DISPLAY.update({chr(c): chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum() and chr(c) != "_"})


def classify(tok: str) -> str:
    """Display token of one raw token: a keyword or operator as itself, else its class."""
    known = _DISPLAY.get(tok)
    if known is not None:
        return known
    c = tok[0]
    if c.isdigit():
        return HEXNUM if tok.startswith("0x") else NUMBER
    if c.isalpha() or c == "_":
        return WORD if tok.isalpha() or not _HAS_DIGIT.search(tok) else ALNUM
    if c == "\\" and len(tok) > 1:
        return ESCAPE
    return SYMBOL if not c.isascii() else tok


_CLASS_CACHE: dict[str, str] = {}
_CLASS_CACHE_MAX = 65536


def _classify_cached(tok: str) -> str:
    display = classify(tok)
    if len(_CLASS_CACHE) >= _CLASS_CACHE_MAX:
        _CLASS_CACHE.clear()
    _CLASS_CACHE[tok] = display
    return display


def _raw_tokens(text: str) -> list[str]:
    raw: list[str] = _TOKEN_RE.findall(text[:MAX_CHARS])
    return raw[:MAX_TOKENS] if len(raw) > MAX_TOKENS else raw


def _is_syntax(tok: str) -> bool:
    return tok not in _NOT_SYNTAX and tok not in KEYWORDS and (tok in _DISPLAY or tok in _SYNTAX_CLASSES)


def _in_context(toks: list[str], start: int, end: int) -> bool:
    """Whether the keyword run ``toks[start:end]`` touches syntax. Brackets count only as a call
    (``sleep(``): a parenthesis around a keyword is also how prose writes an aside."""
    if start > 0:
        left = toks[start - 1]
        if left not in ("(", ")") and _is_syntax(left):
            return True
    if end < len(toks):
        right = toks[end]
        if right != ")" and _is_syntax(right):
            return True
    return False


def tokenize(text: str) -> list[str]:
    """The syntax token stream of ``text`` (display tokens, without the start/end markers).

    A keyword keeps its identity only in a syntactic context: when the run of consecutive
    keywords it belongs to touches an operator, a quote, a number or an escape, or is called
    (followed by ``(``).
    Otherwise ("select the best option from the list", "curl and divergence") it is a plain
    word, ``W``: prose is prose whatever its vocabulary."""
    get = _DISPLAY.get
    cget = _CLASS_CACHE.get
    toks = [get(t) or cget(t) or _classify_cached(t) for t in _raw_tokens(text)]
    if KEYWORDS.isdisjoint(toks):
        return toks
    positions = [i for i, t in enumerate(toks) if t in KEYWORDS]
    start = prev = positions[0]
    for i in [*positions[1:], -2]:
        if i == prev + 1:
            prev = i
            continue
        if not _in_context(toks, start, prev + 1):
            for k in range(start, prev + 1):
                toks[k] = WORD
        start = prev = i
    return toks


def is_plain(text: str) -> bool:
    """True when ``text`` holds only word characters, spaces and ``.,@+-`` and no keyword: such a
    value has no attack syntax, and the classifier gives it probability 0 without scoring it."""
    if not _PLAIN.fullmatch(text):
        return False
    return not any(w in KEYWORDS for w in text.split())


WINDOW = 32
"""Tokens per window: a long value is scored window by window (see :func:`iter_windows`)."""
_STRIDE = WINDOW // 2


def _ngrams(seq: list[str], tokens: list[str]) -> Iterator[Feature]:
    return chain(tokens, pairwise(seq), zip(seq, seq[1:], seq[2:], strict=False))


def iter_features(text: str) -> Iterator[Feature]:
    """Every feature of one decoded target value, possibly repeated: token 1-, 2- and 3-grams
    (with start and end markers). A model only keeps weights for
    :func:`is_syntax_feature` ones, so the rest weigh nothing."""
    tokens = tokenize(text)
    return _ngrams([BOS, *tokens, EOS], tokens)


def iter_windows(text: str) -> Iterator[Iterator[Feature]]:
    """The features of ``text`` per window of :data:`WINDOW` tokens (half-overlapping; the start
    marker in the first, the end marker in the last). A short
    value is one window. Scoring the best window rather than the whole keeps a long benign text
    (a bug report, an article) from adding up weak evidence spread over pages, while an attack,
    which is dense, fills a window on its own."""
    return token_windows(tokenize(text))


def token_windows(tokens: list[str]) -> Iterator[Iterator[Feature]]:
    """:func:`iter_windows` of an already tokenized value."""
    if len(tokens) <= WINDOW:
        yield _ngrams([BOS, *tokens, EOS], tokens)
        return
    last = len(tokens) - WINDOW
    for start in range(0, last + _STRIDE, _STRIDE):
        start = min(start, last)
        part = tokens[start : start + WINDOW]
        seq = ([BOS] if start == 0 else []) + part + ([EOS] if start == last else [])
        yield _ngrams(seq, part)
        if start == last:
            return


def features(text: str) -> set[Feature]:
    """The set of features of one decoded target value (binary: repeats count once)."""
    return set(iter_features(text))


def token_features(tokens: list[str]) -> set[Feature]:
    """:func:`features` of an already tokenized value."""
    return set(_ngrams([BOS, *tokens, EOS], tokens))


def is_syntax_feature(f: Feature) -> bool:
    """Whether a feature can carry weight: an n-gram holding a keyword
    (in syntactic context, see :func:`tokenize`), a multi-character operator (``--``, ``/*``,
    ``../``, ``{{``, ``${``, ``&&``…), a hex number or an escape. N-grams made only of words,
    numbers and single punctuation characters carry none: the benign training data cannot show
    all the ordinary ways to write quotes, brackets, semicolons or URLs, and a weight learned on
    them flags ordinary JSON, prose and browser headers."""
    if isinstance(f, str):
        return f in ANCHORS or f in KEYWORDS
    return any(t in ANCHORS or t in KEYWORDS for t in f)


def syntax_features(text: str) -> set[Feature]:
    """The features of ``text`` that can carry weight."""
    return {f for f in features(text) if is_syntax_feature(f)}


def feature_name(f: Feature) -> str:
    """A feature as one string (n-gram tokens joined by spaces; tokens never hold a space)."""
    return f if isinstance(f, str) else " ".join(f)


def parse_feature(name: str) -> Feature:
    """Inverse of :func:`feature_name`."""
    parts = name.split(" ")
    if len(parts) == 2:
        return (parts[0], parts[1])
    if len(parts) == 3:
        return (parts[0], parts[1], parts[2])
    return name
