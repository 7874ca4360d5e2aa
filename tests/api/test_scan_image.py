"""POST /scans/image: the till's and the wallet's camera; the server reads the QR in a photo."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from werkzeug.test import TestResponse

from o2o import qr
from tests.api.hostile import assert_envelope
from tests.api.photos import jpeg, photo, plain_photo, png, with_orientation
from tests.builders import Api, error_code


def upload(
    api: Api, key: str | None, image: bytes, filename: str = "photo.jpg", **fields: Any
) -> TestResponse:
    data: dict[str, Any] = {"image": (io.BytesIO(image), filename)}
    data.update({name: str(value) for name, value in fields.items()})
    return api.post("/scans/image", key, data=data, content_type="multipart/form-data")


@pytest.fixture
def till(api: Api) -> dict[str, Any]:
    """A clerk, and a shopper whose ¥50-off-¥300 coupon's QR token is fresh."""
    clerk = api.clerk()
    shopper = api.shopper()
    code = api.coupon(shopper)["code"]
    return {"clerk": clerk, "shopper": shopper, "code": code, "token": api.qr_token(shopper, code)}


def coupon_qr_text(api: Api, shopper: dict[str, Any], code: str) -> str:
    """What the wallet's QR image of the coupon says, read by an independent reader."""
    response = api.get(f"/coupons/{code}/qr", shopper["api_key"])
    assert response.status_code == 200
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    return str(result.text)


def test_a_camera_sized_jpeg_of_the_wallets_coupon_qr_answers_the_scan(
    api: Api, till: dict[str, Any]
) -> None:
    token = coupon_qr_text(api, till["shopper"], till["code"])
    response = upload(api, till["clerk"]["api_key"], jpeg(photo(token)), amount=39900)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["decoded"] == {
        "kind": "coupon",
        "text": token,
        "valid_shape": None,
        "payment_id": None,
        "wallet_url": None,
    }
    assert body["coupon"]["code"] == till["code"]
    assert (body["applicable"], body["reasons"]) == (True, [])
    assert (body["discount_amount"], body["payable_amount"]) == (5000, 34900)
    assert api.coupon_status(till["code"]) == "available"  # a scan changes nothing


def test_a_photo_turned_12_degrees_with_noise_is_read(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, till["clerk"]["api_key"], jpeg(photo(till["token"], angle=12)), amount=1)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decoded"]["text"] == till["token"]


@pytest.mark.parametrize("orientation", [6, 8])
def test_a_photo_stored_turned_with_its_exif_orientation_is_read(
    api: Api, till: dict[str, Any], orientation: int
) -> None:
    image = with_orientation(photo(till["token"], angle=5), orientation)
    response = upload(api, till["clerk"]["api_key"], image, amount=39900)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["decoded"]["text"] == till["token"]


def test_a_coupon_below_min_spend_says_why_as_a_scan_does(api: Api, till: dict[str, Any]) -> None:
    body = upload(api, till["clerk"]["api_key"], png(photo(till["token"])), amount=29999).get_json()
    assert (body["applicable"], body["reasons"]) == (False, ["min_spend_not_met"])
    assert (body["discount_amount"], body["payable_amount"]) == (0, 29999)


def test_a_coupon_qr_without_an_amount_is_a_validation_error_on_amount(
    api: Api, till: dict[str, Any]
) -> None:
    response = upload(api, till["clerk"]["api_key"], jpeg(photo(till["token"])))
    assert response.status_code == 422
    assert "amount" in assert_envelope(response)["details"]


def test_an_expired_coupon_qr_is_refused_as_a_scan_refuses_it(
    api: Api, till: dict[str, Any]
) -> None:
    api.clock(advance_seconds=3600)
    response = upload(api, till["clerk"]["api_key"], jpeg(photo(till["token"])), amount=39900)
    assert (response.status_code, error_code(response)) == (400, "qr_token_expired")


def test_a_payment_code_qr_answers_only_its_shape(api: Api, till: dict[str, Any]) -> None:
    code = api.payment_code(till["shopper"])
    response = upload(api, till["clerk"]["api_key"], jpeg(photo(code)))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["decoded"] == {
        "kind": "payment_code",
        "text": code,
        "valid_shape": True,
        "payment_id": None,
        "wallet_url": None,
    }
    assert body["coupon"] is None
    assert body["applicable"] is None


def test_digits_without_a_payment_codes_shape_are_said_to_be_misshapen(
    api: Api, till: dict[str, Any]
) -> None:
    for digits in ("12345", "993456789012345678"):  # too short; an 18-digit code never starts 99
        body = upload(api, till["clerk"]["api_key"], png(photo(digits))).get_json()
        assert body["decoded"]["kind"] == "payment_code"
        assert body["decoded"]["valid_shape"] is False


def test_a_shopper_reading_a_merchant_qr_is_told_its_payment_and_wallet_link(
    api: Api, app: Any
) -> None:
    clerk, shopper = api.clerk(), api.shopper()
    order = api.order(clerk)
    created = api.post(
        f"/orders/{order['id']}/payments",
        clerk["api_key"],
        json={"method": "alipay", "flow": "shopper_scan"},
    )
    assert created.status_code == 201, created.get_json()
    payment_id = created.get_json()["id"]
    merchant_qr = api.get(f"/payments/{payment_id}/qr", clerk["api_key"]).data
    response = upload(api, shopper["api_key"], merchant_qr, filename="merchant.png")
    assert response.status_code == 200, response.get_json()
    decoded = response.get_json()["decoded"]
    assert decoded["kind"] == "merchant"
    assert decoded["payment_id"] == payment_id
    assert decoded["wallet_url"] == f"{app.config['O2O_PUBLIC_URL']}/wallet/pay/{payment_id}"


def test_a_wallet_link_qr_is_read_as_a_merchant_qr(api: Api, app: Any) -> None:
    link = f"{app.config['O2O_PUBLIC_URL']}/wallet/pay/pay_abcdefghijklmnop"
    response = upload(api, api.shopper()["api_key"], qr.render_png(link), filename="qr.png")
    assert response.get_json()["decoded"]["payment_id"] == "pay_abcdefghijklmnop"


def test_a_picture_with_no_code_is_422_no_code_found(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, till["clerk"]["api_key"], plain_photo(), amount=39900)
    assert (response.status_code, error_code(response)) == (422, "no_code_found")


def test_a_qr_of_something_else_is_422_unrecognized_code(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, till["clerk"]["api_key"], qr.render_png("https://example.com/x"))
    assert (response.status_code, error_code(response)) == (422, "unrecognized_code")
    assert assert_envelope(response)["details"] == {"text": "https://example.com/x"}


def test_an_upload_over_the_size_limit_is_413_in_the_envelope(
    app_factory: Any, till: dict[str, Any]
) -> None:
    api = Api(app_factory(O2O_SCAN_IMAGE_MAX_BYTES=200_000).test_client())
    clerk = api.clerk()
    big = jpeg(photo("x"), quality=100) + b"\0" * 200_000
    response = upload(api, clerk["api_key"], big, amount=39900)
    assert (response.status_code, assert_envelope(response)["code"]) == (413, "payload_too_large")


def test_a_photo_over_the_apps_json_limit_but_under_the_upload_limit_is_read(
    api: Api, till: dict[str, Any]
) -> None:
    big = png(photo(till["token"], size=(1920, 1080), qr_side=500))
    assert len(big) > 1024 * 1024  # MAX_CONTENT_LENGTH of every other operation
    response = upload(api, till["clerk"]["api_key"], big, filename="big.png", amount=39900)
    assert response.status_code == 200, response.get_json()


def bomb_png(width: int, height: int) -> bytes:
    """A PNG announcing width x height pixels (a decompression bomb's header), nearly empty."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0"))


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("text", b"this is not an image at all"),
        ("empty", b""),
        ("truncated jpeg", jpeg(photo("x"))[:5000]),
        ("jpeg header only", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
        ("pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("bomb 100k x 100k", bomb_png(100_000, 100_000)),
        ("bomb 10k x 8k", bomb_png(10_000, 8_000)),
    ],
)
def test_what_is_not_a_whole_image_is_answered_in_the_envelope_never_a_500(
    api: Api, till: dict[str, Any], name: str, image: bytes
) -> None:
    response = upload(api, till["clerk"]["api_key"], image, amount=39900)
    error = assert_envelope(response)
    assert 400 <= response.status_code < 500, (name, error)
    if name.startswith("bomb"):
        assert (response.status_code, error["code"]) == (413, "payload_too_large")
    else:
        assert (response.status_code, error["code"]) == (422, "validation_error")
        assert "image" in error["details"]


def test_a_body_that_is_not_multipart_is_415(api: Api, till: dict[str, Any]) -> None:
    response = api.post("/scans/image", till["clerk"]["api_key"], json={"amount": 39900})
    assert (response.status_code, assert_envelope(response)["code"]) == (
        415,
        "unsupported_media_type",
    )


def test_a_form_without_the_image_is_a_validation_error_on_image(
    api: Api, till: dict[str, Any]
) -> None:
    response = api.post(
        "/scans/image",
        till["clerk"]["api_key"],
        data={"amount": "39900"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "image" in assert_envelope(response)["details"]


def test_reading_a_photo_needs_a_key(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, None, jpeg(photo(till["token"])), amount=39900)
    assert (response.status_code, error_code(response)) == (401, "unauthenticated")


def test_an_admin_may_not_read_photos(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, api.admin_key, jpeg(photo(till["token"])), amount=39900)
    assert (response.status_code, error_code(response)) == (403, "forbidden")


def test_a_shopper_may_not_scan_a_coupon_qr(api: Api, till: dict[str, Any]) -> None:
    response = upload(api, till["shopper"]["api_key"], jpeg(photo(till["token"])), amount=39900)
    assert (response.status_code, error_code(response)) == (403, "forbidden")


def test_a_clerk_scans_only_for_their_own_store(api: Api, till: dict[str, Any]) -> None:
    other_store = api.store()["id"]
    image = jpeg(photo(till["token"]))
    response = upload(api, till["clerk"]["api_key"], image, amount=39900, store_id=other_store)
    assert (response.status_code, error_code(response)) == (403, "forbidden")


@pytest.mark.parametrize("bad", ["\ud800", "\x00"])
def test_a_form_field_with_nul_or_a_lone_surrogate_is_refused_in_the_envelope(
    api: Api, till: dict[str, Any], bad: str
) -> None:
    body = (
        b'--B\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + qr.render_png(till["token"]) + b"\r\n"
        b'--B\r\nContent-Disposition: form-data; name="store_id"\r\n\r\n'
        + f"st{bad}x".encode("utf-8", "surrogatepass")
        + b'\r\n--B\r\nContent-Disposition: form-data; name="amount"\r\n\r\n39900\r\n--B--\r\n'
    )
    response = api.post(
        "/scans/image",
        till["clerk"]["api_key"],
        data=body,
        content_type="multipart/form-data; boundary=B",
    )
    error = assert_envelope(response)
    if bad == "\x00":
        assert (response.status_code, error["code"]) == (422, "validation_error")
        assert "store_id" in error["details"]
    else:  # its UTF-8 bytes are undecodable: read as U+FFFD, a store that is not the clerk's
        assert (response.status_code, error["code"]) == (403, "forbidden")


def test_a_retry_with_the_same_idempotency_key_and_photo_replays_and_another_photo_is_refused(
    api: Api, till: dict[str, Any]
) -> None:
    image = qr.render_png(till["token"])
    headers = {"Idempotency-Key": "photo-1"}
    data = lambda picture: {"image": (io.BytesIO(picture), "a.png"), "amount": "39900"}  # noqa: E731
    key = till["clerk"]["api_key"]
    first = api.post("/scans/image", key, data=data(image), headers=headers)
    again = api.post("/scans/image", key, data=data(image), headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post("/scans/image", key, data=data(plain_photo()), headers=headers)
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")
