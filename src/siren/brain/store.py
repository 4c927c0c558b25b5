"""The brain's database: connect (SQLite file or PostgreSQL URL), migrate with Alembic, and the
few statements that differ between the two (insert-or-ignore, upsert).

Everything else is plain SQLAlchemy Core against :mod:`siren.brain.tables`, in the modules that
own the data. The schema only ever changes through the migrations shipped in
``siren/brain/migrations``, which run at start (``Store.open(url)``); several brain replicas
starting at once take turns (a PostgreSQL advisory lock).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from siren.brain import tables
from siren.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_EVENT_COLUMNS = tuple(c.name for c in tables.events.columns if c.name != "id")
_JSON_COLUMNS = frozenset(c.name for c in tables.events.columns if isinstance(c.type, sa.JSON))
_MIGRATION_LOCK = 0x5152454E  # any constant shared by every replica


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'brain.db'}"


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect and bring the schema to the newest migration."""
        url = normalize_url(url)
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConfigError(f"--db {url!r} is not a database URL (sqlite:///path or postgresql://user@host/db)") from exc
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        elif parsed.get_backend_name() == "postgresql":
            engine = sa.create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
        else:
            raise ConfigError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite:/// or postgresql://")
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.OperationalError as exc:
            raise ConfigError(f"cannot reach the database {self.engine.url.render_as_string(hide_password=True)}: {exc.orig}") from exc

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            try:
                row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
            except sa.exc.DatabaseError:
                return None
        return str(row[0]) if row else None

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # -- statements that differ between SQLite and PostgreSQL --------------------------------

    def _insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    def insert_ignore(self, conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str) -> list[Any]:
        """Insert rows whose ``key`` is not stored yet, in bulk; the keys actually inserted."""
        if not rows:
            return []
        stmt = self._insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])
        return [r[0] for r in conn.execute(stmt, list(rows))]

    def insert_events(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store events whose id is new; the ids stored. PostgreSQL: COPY into a session-local
        staging table, then one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` (several
        times faster than multi-row VALUES, whose SQL text the driver re-parses per batch).
        SQLite: a multi-row insert-or-ignore with RETURNING."""
        if not rows:
            return []
        if self.dialect != "postgresql":
            return [str(k) for k in self.insert_ignore(conn, tables.events, rows, "event_id")]
        driver = conn.connection.driver_connection
        info = conn.connection.info
        names = ", ".join(_EVENT_COLUMNS)
        with driver.cursor() as cur:  # type: ignore[union-attr]
            if not info.get("siren_events_stage"):
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS siren_events_stage ON COMMIT DELETE ROWS AS SELECT {names} FROM events WITH NO DATA"
                )
                info["siren_events_stage"] = True
            with cur.copy(f"COPY siren_events_stage ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_json_text(row[c]) if c in _JSON_COLUMNS else row[c] for c in _EVENT_COLUMNS])
            cur.execute(
                f"INSERT INTO events ({names}) SELECT {names} FROM siren_events_stage "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            )
            # The staging rows go at commit (ON COMMIT DELETE ROWS); a second call in the same
            # transaction would only re-offer rows that now conflict.
            return [str(r[0]) for r in cur.fetchall()]

    def add_counts(self, conn: Connection, table: sa.Table, counts: Mapping[tuple[str, int], int]) -> None:
        """``client_counts``-style increments: ``{(client, bucket): n}`` added atomically."""
        if not counts:
            return
        rows = [{"client": c, "bucket": b, "blocked": n} for (c, b), n in sorted(counts.items())]
        stmt = self._insert(table)
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["client", "bucket"], set_={"blocked": table.c.blocked + stmt.excluded.blocked}),
            rows,
        )

    def upsert(self, conn: Connection, table: sa.Table, row: Mapping[str, Any], keys: Sequence[str]) -> None:
        stmt = self._insert(table).values(**row)
        updates = {k: stmt.excluded[k] for k in row if k not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates) if updates else stmt.on_conflict_do_nothing())

    # -- small shared helpers ------------------------------------------------------------------

    def audit(self, conn: Connection, at: float, actor: str, action: str, subject: str, detail: Mapping[str, Any] | None = None) -> None:
        conn.execute(tables.audit.insert().values(at=at, actor=actor, action=action, subject=subject[:256], detail=dict(detail or {})))

    def get_setting(self, conn: Connection, key: str) -> Any:
        row = conn.execute(sa.select(tables.settings.c.value).where(tables.settings.c.key == key)).first()
        return None if row is None else row[0]

    def put_setting(self, conn: Connection, key: str, value: Any) -> None:
        self.upsert(conn, tables.settings, {"key": key, "value": value}, ["key"])
