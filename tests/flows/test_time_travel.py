"""Time rules follow the sandbox clock: advanced in tests, never slept through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2o.client import Clock, Service, ServiceError
from tests.builders import ORDER_TTL, PAYMENT_CODE_TTL, QR_TOKEN_TTL


@pytest.fixture
def frozen(o2o_clock: Clock) -> Clock:
    o2o_clock.freeze("2026-12-01T10:00:00+08:00")
    return o2o_clock


def test_a_coupon_expires_when_its_days_are_up(o2o: Service, frozen: Clock) -> None:
    shopper = o2o.shopper()
    coupon = shopper.claim(o2o.campaign(valid_days_after_claim=3))
    frozen.advance(days=3, seconds=-1)
    assert shopper.coupon(coupon).status == "available"
    frozen.advance(seconds=1)
    assert shopper.coupon(coupon).status == "expired"
    assert [c.code for c in shopper.coupons("expired")] == [coupon.code]


def test_a_relative_coupon_becomes_valid_after_its_wait(o2o: Service, frozen: Clock) -> None:
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    coupon = shopper.claim(o2o.campaign(wait_days_after_claim=2, valid_days_after_claim=5))
    assert clerk.scan(shopper.show_qr(coupon), 39900).reasons == ["coupon_not_yet_valid"]
    frozen.advance(days=2)
    assert clerk.scan(shopper.show_qr(coupon), 39900).applicable is True


def test_a_reservation_lapses_and_the_coupon_comes_back(o2o: Service, frozen: Clock) -> None:
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    coupon = shopper.claim(o2o.campaign())
    order = clerk.checkout(39900, qr=shopper.show_qr(coupon))
    frozen.advance(seconds=ORDER_TTL - 1)
    assert shopper.coupon(coupon).status == "reserved"
    frozen.advance(seconds=1)
    assert shopper.order(order).status == "expired"
    assert shopper.coupon(coupon).status == "available"


def test_a_qr_token_expires_after_its_ttl(o2o: Service, frozen: Clock) -> None:
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    qr = shopper.show_qr(shopper.claim(o2o.campaign()))
    frozen.advance(seconds=QR_TOKEN_TTL - 1)
    assert clerk.scan(qr, 39900).applicable is True
    frozen.advance(seconds=1)
    with pytest.raises(ServiceError) as caught:
        clerk.scan(qr, 39900)
    assert (caught.value.status, caught.value.code) == (400, "qr_token_expired")


def test_a_payment_code_expires_after_a_minute(o2o: Service, frozen: Clock) -> None:
    clerk, shopper = o2o.clerk(o2o.store()), o2o.shopper()
    order = clerk.checkout(10000)
    code = shopper.payment_code()
    frozen.advance(seconds=PAYMENT_CODE_TTL)
    with pytest.raises(ServiceError) as caught:
        clerk.take_payment(order, code)
    assert caught.value.code == "invalid_payment_code"


def test_the_client_gives_a_frozen_clock_back_to_real_time(o2o_admin: Service) -> None:
    clock = Clock(o2o_admin)
    clock.freeze("2031-05-01T00:00:00Z")
    assert clock.mode() == "frozen"

    now = clock.real()

    assert clock.mode() == "real"
    assert now.year == datetime.now(UTC).year
