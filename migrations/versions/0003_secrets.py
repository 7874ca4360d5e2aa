"""payment codes kept as their keyed hash; API keys that expire or are revoked

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00.000000

Payment codes are dropped, not hashed: a code lives 60 s and is used once, so an unused one
is lost for at most a minute (the shopper's wallet shows a fresh code), a used one is history
nothing reads; hashing them here would need the instance secret inside the migration.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _payment_codes(key: sa.Column) -> None:
    op.create_table('payment_codes',
    key,
    sa.Column('shopper_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['shopper_id'], ['shoppers.id'], name=op.f('fk_payment_codes_shopper_id_shoppers')),
    sa.PrimaryKeyConstraint(key.name, name=op.f('pk_payment_codes'))
    )
    with op.batch_alter_table('payment_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_codes_shopper_id'), ['shopper_id'], unique=False)


def _drop_payment_codes() -> None:
    with op.batch_alter_table('payment_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_codes_shopper_id'))
    op.drop_table('payment_codes')


def upgrade():
    _drop_payment_codes()  # every clear code goes with the old table (see above)
    _payment_codes(sa.Column('code_hash', sa.String(length=64), nullable=False))

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_keys_clerk_id'), ['clerk_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_keys_shopper_id'), ['shopper_id'], unique=False)


def downgrade():
    # Without the columns a revoked or rotated-out key would work again: those rows go.
    op.execute("DELETE FROM api_keys WHERE revoked_at IS NOT NULL OR expires_at IS NOT NULL")
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_shopper_id'))
        batch_op.drop_index(batch_op.f('ix_api_keys_clerk_id'))
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')

    # The hashes cannot be turned back into codes: the old table comes back empty.
    _drop_payment_codes()
    _payment_codes(sa.Column('code', sa.String(length=18), nullable=False))
