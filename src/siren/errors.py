"""Siren's exceptions. Errors on the hot path are values (:class:`siren.engine.verdict.Verdict`,
:class:`siren.engine.request.ParseError`); exceptions are for the edges, with a message a user
can act on::

    SirenError
     ├── RuleError        a rule file is invalid (YAML, schema, pattern hyperscan rejects)
     ├── ConfigError      a configuration or policy file is invalid
     ├── ModelError       a classifier model file is missing or malformed
     └── CorpusError      a corpus JSONL line is malformed
"""


class SirenError(Exception):
    """Base of every Siren exception."""


class RuleError(SirenError):
    pass


class ConfigError(SirenError):
    pass


class ModelError(SirenError):
    pass


class CorpusError(SirenError):
    pass
