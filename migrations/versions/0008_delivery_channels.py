"""delivery channels: a delivery goes by a channel, to an endpoint or to its own url

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:00:00.000000

Every existing delivery is a `webhook` delivery of its endpoint (the server default). A
delivery of another channel (a WeChat Pay notification) has no endpoint: it carries its own
url and its owner (the merchant's mchid). The downgrade drops those, with their attempts,
since a delivery without an endpoint cannot exist before this revision.
"""
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OWNER_INDEX = "ix_webhook_deliveries_owner_created"
DESTINATION = "ck_webhook_deliveries_destination"


def upgrade():
    with _attempts_set_aside():
        with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "channel", sa.String(length=32), server_default="webhook", nullable=False
                )
            )
            batch_op.add_column(sa.Column("url", sa.String(length=2048), nullable=True))
            batch_op.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
            batch_op.alter_column(
                "endpoint_id", existing_type=sa.String(length=32), nullable=True
            )
            batch_op.create_check_constraint(
                op.f(DESTINATION), "endpoint_id IS NOT NULL OR url IS NOT NULL"
            )
    op.create_index(
        OWNER_INDEX,
        "webhook_deliveries",
        ["channel", "owner", "created_at", "id"],
        postgresql_where=sa.text("owner IS NOT NULL"),
        sqlite_where=sa.text("owner IS NOT NULL"),
    )


def downgrade():
    op.drop_index(OWNER_INDEX, table_name="webhook_deliveries")
    without_endpoint = "SELECT id FROM webhook_deliveries WHERE endpoint_id IS NULL"
    op.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({without_endpoint})")
    op.execute("DELETE FROM webhook_deliveries WHERE endpoint_id IS NULL")
    with _attempts_set_aside():
        with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
            batch_op.drop_constraint(op.f(DESTINATION), type_="check")
            batch_op.alter_column(
                "endpoint_id", existing_type=sa.String(length=32), nullable=False
            )
            batch_op.drop_column("owner")
            batch_op.drop_column("url")
            batch_op.drop_column("channel")


@contextmanager
def _attempts_set_aside():
    """On SQLite batch mode rebuilds webhook_deliveries, and dropping the old table fails while
    attempts reference its rows: foreign keys are enforced, and PRAGMA foreign_keys cannot be
    turned off inside the migration's transaction. So the attempts wait in a temporary table
    while the table is rebuilt. PostgreSQL alters the table in place."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE attempts_aside AS SELECT * FROM webhook_attempts")
    op.execute("DELETE FROM webhook_attempts")
    yield
    op.execute("INSERT INTO webhook_attempts SELECT * FROM attempts_aside")
    op.execute("DROP TABLE attempts_aside")
