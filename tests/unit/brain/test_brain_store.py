"""The database layer on SQLite and PostgreSQL: migrations, and the statements that differ."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from siren.brain.store import Store, normalize_url
from siren.brain.tables import events, metadata, settings
from siren.errors import ConfigError


def test_migrations_run_at_open_and_match_the_tables(store: Store) -> None:
    assert store.revision() == "0002"
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []


def test_migrating_again_is_a_no_op(store: Store) -> None:
    store.migrate()
    store.migrate()
    assert store.revision() == "0002"


def _row(event_id: str) -> dict[str, object]:
    return {
        "event_id": event_id, "time": 1.0, "received_at": 2.0, "sidecar_id": "s", "service": "shop", "route": "", "client": "c",
        "method": "GET", "target": "/", "action": "block", "score": 5, "threshold": 5, "mode": "block", "request_id": "",
        "incident_id": "", "categories": [], "findings": [{"rule_id": "r", "fragment": "é\u2028"}], "sample": None,
        "payload_sha256": None, "signal": None,
    }


def test_insert_ignore_stores_each_key_once(store: Store) -> None:
    with store.begin() as conn:
        assert sorted(store.insert_ignore(conn, events, [_row("a"), _row("b")], "event_id")) == ["a", "b"]
    with store.begin() as conn:
        assert store.insert_ignore(conn, events, [_row("b"), _row("c"), _row("c")], "event_id") == ["c"]
        assert store.insert_ignore(conn, events, [], "event_id") == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 3
        finding = conn.execute(sa.select(events.c.findings).where(events.c.event_id == "a")).scalar_one()
    assert finding == [{"rule_id": "r", "fragment": "é\u2028"}]


def test_upsert_and_settings(store: Store) -> None:
    with store.begin() as conn:
        assert store.get_setting(conn, "k") is None
        store.put_setting(conn, "k", {"a": 1})
        store.put_setting(conn, "k", {"a": 2})
        assert store.get_setting(conn, "k") == {"a": 2}
        assert conn.execute(sa.select(sa.func.count()).select_from(settings)).scalar_one() == 1


def test_urls_are_normalized_and_bad_ones_explained(tmp_path: object) -> None:
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="not a database URL"):
        Store.open("nonsense")
    with pytest.raises(ConfigError, match="unsupported database"):
        Store.open("mysql://u@h/db")


def test_unreachable_postgres_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="cannot reach the database"):
        Store.open("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_upgrading_from_the_first_schema_keeps_the_reputation_counts(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from siren.brain.store import MIGRATIONS
    from siren.brain.tables import client_counts

    store = Store.open(db_url, migrate=False)
    try:
        with store.begin() as conn:
            if store.dialect == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            rows = [_row("a") | {"client": "c1", "received_at": 12.0}, _row("b") | {"client": "c1", "received_at": 13.0},
                    _row("c") | {"client": "c1", "received_at": 14.0, "action": "allow"}]
            conn.execute(events.insert(), rows)
        store.migrate()
        assert store.revision() == "0002"
        with store.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(sa.select(client_counts))] == [("c1", 2, 2)]
    finally:
        store.close()
