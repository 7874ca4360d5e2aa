"""WeChat Pay merchant coupons (商家券): stocks over campaigns, and the request numbers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wechat_stocks",
        sa.Column("stock_id", sa.String(length=20), nullable=False),
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("out_request_no", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("goods_name", sa.String(length=64), nullable=False),
        sa.Column("stock_type", sa.String(length=16), nullable=False),
        sa.Column("coupon_code_mode", sa.String(length=20), nullable=False),
        sa.Column("use_method", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.String(length=64), nullable=True),
        sa.Column("display", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mchid"], ["wechat_merchants.mchid"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("stock_id"),
        sa.UniqueConstraint("campaign_id"),
        sa.UniqueConstraint("mchid", "out_request_no"),
    )
    op.create_index(
        "ix_wechat_stocks_mchid_created_at",
        "wechat_stocks",
        ["mchid", "created_at"],
        unique=False,
    )
    op.create_table(
        "wechat_busifavor_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("request_no", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mchid"], ["wechat_merchants.mchid"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mchid", "kind", "request_no"),
    )
    op.create_index(
        "ix_wechat_busifavor_requests_subject",
        "wechat_busifavor_requests",
        ["subject"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_wechat_busifavor_requests_subject", table_name="wechat_busifavor_requests")
    op.drop_table("wechat_busifavor_requests")
    op.drop_index("ix_wechat_stocks_mchid_created_at", table_name="wechat_stocks")
    op.drop_table("wechat_stocks")
