"""the sandbox clock can follow real time again

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 15:30:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sandbox_clock", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frozen", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("sandbox_clock", schema=None) as batch_op:
        batch_op.drop_column("frozen")
