"""Alembic environment: runs against the engine the app hands over, with every area's tables."""

from __future__ import annotations

from alembic import context

from app.database.core import Base
from app.database.registry import import_models

import_models()
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
