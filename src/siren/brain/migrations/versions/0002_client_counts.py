"""Reputation counts per client and time bucket (the window sum no longer scans events).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_counts",
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client", "bucket", name=op.f("pk_client_counts")),
    )
    # Fill from the events already stored, so an upgrade keeps the current window's counts.
    # (Times are positive: SQLite's CAST truncates, which is the floor; PostgreSQL's rounds.)
    bucket = "CAST(FLOOR(received_at / 5) AS BIGINT)" if op.get_bind().dialect.name == "postgresql" else "CAST(received_at / 5 AS INTEGER)"
    op.execute(
        f"INSERT INTO client_counts (client, bucket, blocked) SELECT client, {bucket}, COUNT(*) FROM events "
        f"WHERE action IN ('block', 'log') AND client <> '' GROUP BY client, {bucket}"
    )


def downgrade() -> None:
    op.drop_table("client_counts")
