"""Alembic environment for parley's schema.

The stores' `open()` run it with a connection of theirs (in `config.attributes["connection"]`);
given only `sqlalchemy.url` (see `parley.storage._engine.alembic_config`) it connects itself,
and in offline mode (`--sql`) it prints the SQL.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import context

from parley.storage._engine import create_engine
from parley.storage._tables import metadata


def _configure(connection: sa.Connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite, which has little ALTER TABLE.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(sa.make_url(url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def _run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    url = config.get_main_option("sqlalchemy.url")
    if connection is not None:
        _configure(connection)
    elif url is None:
        raise RuntimeError("no connection and no sqlalchemy.url: use SqlStore.open()")
    elif context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_with_own_engine(url))


_run()
