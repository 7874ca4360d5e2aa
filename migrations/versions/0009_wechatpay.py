"""the WeChat Pay APIv3 facade: platform identity, merchants, nonces, trades, refunds, outcomes

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wechat_platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("private_key_sealed", sa.Text(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("serial_no", sa.String(length=40), nullable=False),
        sa.Column("public_key_id", sa.String(length=64), nullable=False),
        sa.Column("ca_private_key_sealed", sa.Text(), nullable=False),
        sa.Column("ca_certificate", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "wechat_merchants",
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("store_ids", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("merchant_public_key", sa.Text(), nullable=False),
        sa.Column("cert_serial_no", sa.String(length=40), nullable=False),
        sa.Column("apiv3_key_sealed", sa.Text(), nullable=False),
        sa.Column("coupon_notify_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("mode IN ('certificate', 'public_key')", name="mode"),
        sa.PrimaryKeyConstraint("mchid"),
    )
    op.create_index(
        "ix_wechat_merchants_created_at", "wechat_merchants", ["created_at", "mchid"], unique=False
    )
    op.create_table(
        "wechat_nonces",
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("mchid", "nonce"),
    )
    op.create_index("ix_wechat_nonces_seen_at", "wechat_nonces", ["seen_at"], unique=False)
    op.create_table(
        "wechat_openids",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("shopper_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["shopper_id"], ["shoppers.id"]),
        sa.PrimaryKeyConstraint("openid"),
        sa.UniqueConstraint("appid", "shopper_id"),
    )
    op.create_table(
        "wechat_trades",
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("appid", sa.String(length=32), nullable=False),
        sa.Column("trade_type", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=127), nullable=False),
        sa.Column("attach", sa.String(length=128), nullable=True),
        sa.Column("notify_url", sa.String(length=2048), nullable=True),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("payment_id", sa.String(length=32), nullable=True),
        sa.Column("openid", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("reversed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mchid"], ["wechat_merchants.mchid"]),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"]),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.PrimaryKeyConstraint("transaction_id"),
        sa.UniqueConstraint("mchid", "out_trade_no"),
        sa.UniqueConstraint("order_id"),
    )
    op.create_index("ix_wechat_trades_payment_id", "wechat_trades", ["payment_id"], unique=False)
    op.create_table(
        "wechat_refunds",
        sa.Column("refund_id", sa.String(length=32), nullable=False),
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("out_refund_no", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("refund_row_id", sa.String(length=32), nullable=False),
        sa.Column("notify_url", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mchid"], ["wechat_merchants.mchid"]),
        sa.ForeignKeyConstraint(["transaction_id"], ["wechat_trades.transaction_id"]),
        sa.ForeignKeyConstraint(["refund_row_id"], ["refunds.id"]),
        sa.PrimaryKeyConstraint("refund_id"),
        sa.UniqueConstraint("mchid", "out_refund_no"),
        sa.UniqueConstraint("refund_row_id"),
    )
    op.create_table(
        "wechat_outcomes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mchid", sa.String(length=32), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["mchid"], ["wechat_merchants.mchid"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wechat_outcomes_mchid", "wechat_outcomes", ["mchid"], unique=False)


def downgrade():
    op.drop_index("ix_wechat_outcomes_mchid", table_name="wechat_outcomes")
    op.drop_table("wechat_outcomes")
    op.drop_table("wechat_refunds")
    op.drop_index("ix_wechat_trades_payment_id", table_name="wechat_trades")
    op.drop_table("wechat_trades")
    op.drop_table("wechat_openids")
    op.drop_index("ix_wechat_nonces_seen_at", table_name="wechat_nonces")
    op.drop_table("wechat_nonces")
    op.drop_index("ix_wechat_merchants_created_at", table_name="wechat_merchants")
    op.drop_table("wechat_merchants")
    op.drop_table("wechat_platform")
