"""Alembic environment: run the migrations on the connection ``Store.migrate`` hands over, or on
``sqlalchemy.url`` when Alembic's own command line is used (``alembic -x`` is not needed)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlalchemy.engine import Connection

from siren.brain.tables import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite:///brain.db")
    with engine.begin() as conn:
        _run(conn)
