"""Alembic migrations of the brain's schema, run at start by ``Store.open``."""
