"""Alembic environment: runs against the engine handed over in the config's attributes. The
metadata is every table the process has imported: the app factory imports them all
(:func:`app.models.import_models`), which autogenerate needs; an upgrade runs the scripts alone."""

from __future__ import annotations

from alembic import context

from app.database.core import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
