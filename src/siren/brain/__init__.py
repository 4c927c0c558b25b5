"""The brain: Siren's control plane (``siren brain``).

Sidecars push events and heartbeats and pull signed bundles; operators manage rules, policies,
exclusions, reputation, patches and emergency stops. Modules, one concept each:

- ``schema``     the wire format shared with sidecars (the only module a sidecar imports)
- ``auth``       admin and sidecar tokens (stored as salted HMACs)
- ``tables``     the schema as SQLAlchemy Core tables; ``migrations/`` changes it (Alembic)
- ``store``      connect (SQLite or PostgreSQL), migrate, dialect-specific statements
- ``signing``    the Ed25519 key ring
- ``bundles``    bundle content, hashing, publishing
- ``reputation`` which clients get listed
- ``patches``    rule synthesis from one attack fragment, validation, lifecycle table
- ``jobs``       in-process background jobs
- ``core``       the operations (``Brain``), independent of HTTP
- ``api``        FastAPI routes over ``Brain``
- ``cli``        ``siren brain``
"""
