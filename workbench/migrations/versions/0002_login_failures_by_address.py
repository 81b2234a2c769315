"""Failed logins are counted per name and client address, and forgotten after a quiet
spell: the time of the last failure.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The counts of 0001 were by name alone: they do not carry over.
    op.execute("DELETE FROM login_failures")
    with op.batch_alter_table("login_failures") as table:
        table.add_column(sa.Column("last_failed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_failures") as table:
        table.drop_column("last_failed_at")
