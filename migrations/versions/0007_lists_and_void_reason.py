"""indexes for the lists that reconcile; the reason a coupon was voided

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 16:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

LISTED = ("orders", "payments", "refunds")


def upgrade():
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("void_reason", sa.String(length=255), nullable=True))
    for table in LISTED:
        op.create_index(f"ix_{table}_created_at_id", table, ["created_at", "id"], unique=False)


def downgrade():
    for table in LISTED:
        op.drop_index(f"ix_{table}_created_at_id", table_name=table)
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
