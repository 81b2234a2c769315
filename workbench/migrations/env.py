"""Alembic's environment for the workbench database (workbench/store.py:migrate)."""

from alembic import context
from sqlalchemy import create_engine

from workbench.store import Base

url = context.config.attributes["url"]
connectable = create_engine(url)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
