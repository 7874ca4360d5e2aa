"""events: the outbox row each state change writes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("dispatched", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index("ix_events_created_at_id", "events", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_events_undispatched",
        "events",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("NOT dispatched"),
        sqlite_where=sa.text("NOT dispatched"),
    )


def downgrade():
    op.drop_index("ix_events_undispatched", table_name="events")
    op.drop_index("ix_events_created_at_id", table_name="events")
    op.drop_table("events")
