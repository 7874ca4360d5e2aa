"""QR tokens, codes and keys: no database, no app."""

from __future__ import annotations

import hashlib
import string
from datetime import UTC, datetime, timedelta

import pytest

from o2o.errors import O2OError
from o2o.tokens import (
    CODE_ALPHABET,
    hash_api_key,
    new_coupon_code,
    new_payment_code,
    normalize_code,
    sign_qr_token,
    token_expiry,
    verify_qr_token,
)
from o2o.vocabulary import ErrorCode

SECRET = "unit-secret"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _token() -> str:
    return sign_qr_token(SECRET, "ABCDEFGH2345", NOW + timedelta(seconds=300))


def test_a_fresh_token_verifies_to_its_coupon_code() -> None:
    assert verify_qr_token(SECRET, _token(), NOW) == "ABCDEFGH2345"


def test_changing_any_single_character_makes_the_token_invalid() -> None:
    token = _token()
    for i, char in enumerate(token):
        for replacement in {"A", "9", "_", "z"} - {char}:
            forged = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(O2OError) as caught:
                verify_qr_token(SECRET, forged, NOW)
            assert caught.value.error is ErrorCode.INVALID_QR_TOKEN


def test_a_token_signed_with_another_secret_is_invalid() -> None:
    token = sign_qr_token("other", "ABCDEFGH2345", NOW + timedelta(seconds=300))
    with pytest.raises(O2OError) as caught:
        verify_qr_token(SECRET, token, NOW)
    assert caught.value.error is ErrorCode.INVALID_QR_TOKEN


@pytest.mark.parametrize("garbage", ["", "O2O1", "O2O1.A.B.C", "a.b.c.d.e", "O2O1.X.-5.sig"])
def test_malformed_tokens_are_invalid_not_errors(garbage: str) -> None:
    with pytest.raises(O2OError) as caught:
        verify_qr_token(SECRET, garbage, NOW)
    assert caught.value.error is ErrorCode.INVALID_QR_TOKEN


def test_a_token_is_expired_at_its_expiry_and_says_so() -> None:
    token = _token()
    assert token_expiry(token) == NOW + timedelta(seconds=300)
    with pytest.raises(O2OError) as caught:
        verify_qr_token(SECRET, token, NOW + timedelta(seconds=300))
    assert (caught.value.status, caught.value.code) == (400, "qr_token_expired")


def test_coupon_codes_are_upper_case_without_ambiguous_characters() -> None:
    codes = {new_coupon_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 12
        assert code == code.upper()
        assert set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OI")


@pytest.mark.parametrize("typed", ["abcd-efgh-2345", " ABCD EFGH 2345 ", "abcdEFGH2345"])
def test_codes_are_normalized_from_any_case_and_stray_separators(typed: str) -> None:
    assert normalize_code(typed) == "ABCDEFGH2345"


def test_payment_codes_are_18_digits_starting_10_to_15() -> None:
    for _ in range(200):
        code = new_payment_code()
        assert len(code) == 18
        assert set(code) <= set(string.digits)
        assert 10 <= int(code[:2]) <= 15


def test_api_keys_are_stored_as_their_sha256_hex_digest() -> None:
    # A hex digest can never contain a word such as "secret", so the test pins the digest
    # itself: the SHA-256 of the key's UTF-8 bytes, stable, and different for a different key.
    digest = hash_api_key("o2o_admin_secret")
    assert digest == hashlib.sha256(b"o2o_admin_secret").hexdigest()
    assert digest == hash_api_key("o2o_admin_secret")
    assert digest != hash_api_key("o2o_admin_secreT")
    assert hash_api_key("密钥") == hashlib.sha256("密钥".encode()).hexdigest()
