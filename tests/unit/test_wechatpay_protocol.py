"""o2o.wechatpay.protocol against the official SDK, `wechatpayv3` 2.0.4, unmodified: what the SDK
signs verifies here, and what is signed, encrypted and formatted here the SDK accepts — over a
real HTTP server on 127.0.0.1, in public-key and in certificate mode."""

from __future__ import annotations

import contextlib
import json
import string
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3 import utils as sdk
from wechatpayv3.core import Core

from o2o import crypto
from o2o.wechatpay import protocol
from tests.unit.test_import_graph import PACKAGE_DIR, build_import_graph

MCHID = "1900000001"
APPID = "wxd678efh567hg6787"
PUB_KEY_ID = "PUB_KEY_ID_0119000000012025120400000000000001"
GATEWAY = "https://api.mch.weixin.qq.com"
ORDER = "P|订单-1"  # requests percent-encodes both the bar and the Chinese
QUERY_PATH = f"/v3/pay/transactions/out-trade-no/{ORDER}?mchid={MCHID}"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Keys:
    """A merchant's key and certificate serial, the platform's key and certificate, an APIv3 key."""

    merchant: str
    merchant_serial: str
    platform: str
    platform_cert: str
    apiv3: str

    @property
    def merchant_public(self) -> str:
        return crypto.public_key_pem(self.merchant)

    @property
    def platform_serial(self) -> str:
        return crypto.certificate_serial_hex(self.platform_cert)


def _leaf(ca_key: str, ca: str, subject_key: str, name: str) -> str:
    return crypto.issue_certificate(
        ca_key,
        ca,
        crypto.public_key_pem(subject_key),
        name,
        crypto.random_serial(),
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=365),
        organization="o2o sandbox",
    )


@pytest.fixture(scope="module")
def keys() -> Keys:
    ca_key, merchant, platform = (crypto.generate_rsa_key() for _ in range(3))
    ca = crypto.self_signed_ca(
        ca_key, "o2o sandbox CA", NOW - timedelta(days=1), NOW + timedelta(days=3650)
    )
    return Keys(
        merchant=merchant,
        merchant_serial=crypto.certificate_serial_hex(_leaf(ca_key, ca, merchant, MCHID)),
        platform=platform,
        platform_cert=_leaf(ca_key, ca, platform, "Tenpay.com Root CA"),
        apiv3=protocol.new_apiv3_key(),
    )


@pytest.fixture(scope="module")
def other_key() -> str:
    return crypto.generate_rsa_key()


def _sdk_header(keys: Keys, method: str, path: str, data: dict[str, Any] | None = None) -> str:
    """The Authorization header the SDK builds for a request."""
    private = sdk.load_private_key(keys.merchant)
    return str(sdk.build_authorization(path, method, MCHID, keys.merchant_serial, private, data))


# --- merchant → us ----------------------------------------------------------------------------


def test_a_request_the_sdk_signs_verifies_with_its_path_as_signed_and_as_requests_sends_it(
    keys: Keys,
) -> None:
    auth = protocol.parse_authorization(_sdk_header(keys, "GET", QUERY_PATH))
    wire = requests.Request("GET", GATEWAY + QUERY_PATH).prepare().path_url

    assert "%7C" in wire
    assert "%E8%AE%A2" in wire
    assert protocol.candidate_paths(wire) == (wire, QUERY_PATH)
    assert protocol.verify_request(auth, "GET", wire, b"", keys.merchant_public)
    assert protocol.verify_request(auth, "GET", QUERY_PATH, b"", keys.merchant_public)
    assert (auth.mchid, auth.serial_no) == (MCHID, keys.merchant_serial)


def test_a_post_verifies_over_the_raw_bytes_requests_sends(keys: Keys) -> None:
    path = "/v3/pay/transactions/native"
    data: dict[str, Any] = {
        "mchid": MCHID,
        "description": "杭州 · 咖啡",
        "amount": {"total": 1, "currency": "CNY"},
    }
    body = requests.Request("POST", GATEWAY + path, json=data).prepare().body
    assert isinstance(body, bytes)

    auth = protocol.parse_authorization(_sdk_header(keys, "POST", path, data))

    assert protocol.verify_request(auth, "POST", path, body, keys.merchant_public)


@pytest.mark.parametrize(
    "change",
    [
        {"body": b'{"amount": 2}'},
        {"method": "POST"},
        {"raw_uri": "/v3/pay/transactions/out-trade-no/P2?mchid=1900000001"},
        {"raw_uri": QUERY_PATH.replace(MCHID, "1900000002")},
        {"key": "other"},
        {"timestamp": 1},
    ],
    ids=["body", "method", "path", "query", "key", "timestamp"],
)
def test_a_tampered_body_method_path_key_or_timestamp_does_not_verify(
    keys: Keys, other_key: str, change: dict[str, Any]
) -> None:
    auth = protocol.parse_authorization(_sdk_header(keys, "GET", QUERY_PATH, None))
    if "timestamp" in change:
        auth = protocol.Authorization(**{**auth.__dict__, "timestamp": change["timestamp"]})
    public = crypto.public_key_pem(other_key) if "key" in change else keys.merchant_public
    request = {"method": "GET", "raw_uri": QUERY_PATH, "body": b"", **change}

    assert not protocol.verify_request(
        auth, request["method"], request["raw_uri"], request["body"], public
    )


def test_the_request_message_is_exactly_the_five_lines_over_raw_bytes() -> None:
    message = protocol.request_message("POST", "/v3/x?a=|", 1764820800, "N", b'{"a": "\xe2"}')

    assert message == b'POST\n/v3/x?a=|\n1764820800\nN\n{"a": "\xe2"}\n'
    assert protocol.request_message("GET", "/v3/\udcff", 0, "N", b"").startswith(b"GET\n/v3/")


# --- parse_authorization ----------------------------------------------------------------------

FIELDS = {
    "mchid": MCHID,
    "nonce_str": "593BEC0C930BF1AFEB40B4A08C8FB242",
    "signature": "dGhlIHNpZ25hdHVyZQ==",
    "timestamp": "1764820800",
    "serial_no": "5157F09EFDC096DE15EBE81A47057A7232F6C34C",
}


def _header(fields: dict[str, str], scheme: str = protocol.SIGNATURE_TYPE) -> str:
    return scheme + " " + ",".join(f'{name}="{value}"' for name, value in fields.items())


def test_the_header_parses_into_its_fields_in_any_order() -> None:
    expected = protocol.Authorization(
        mchid=MCHID,
        nonce_str=FIELDS["nonce_str"],
        signature=FIELDS["signature"],
        timestamp=1764820800,
        serial_no=FIELDS["serial_no"],
    )

    assert protocol.parse_authorization(_header(FIELDS)) == expected
    assert protocol.parse_authorization(_header(dict(reversed(FIELDS.items())))) == expected
    spaced = _header(FIELDS).replace(",", " , ").replace(" mchid", "   mchid")
    assert protocol.parse_authorization(spaced) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        protocol.SIGNATURE_TYPE,
        _header(FIELDS, scheme="Bearer"),
        _header(FIELDS, scheme="wechatpay2-sha256-rsa2048"),
        _header({**FIELDS, "mchid": ""}),
        _header({name: value for name, value in FIELDS.items() if name != "signature"}),
        _header(FIELDS).replace('mchid="1900000001"', "mchid=1900000001"),
        _header(FIELDS).replace('"', "'"),
        _header(FIELDS).replace(",", ""),
        _header(FIELDS) + ',mchid="1900000002"',
        _header(FIELDS) + " trailing",
        _header(FIELDS) + ',"',
        _header({**FIELDS, "timestamp": "17648208OO"}),
        _header({**FIELDS, "timestamp": "-1"}),
        _header({**FIELDS, "timestamp": "1.5"}),
        _header({**FIELDS, "timestamp": "０１"}),
        _header({**FIELDS, "timestamp": "01764820800"}),
        _header({**FIELDS, "timestamp": "1" * 5000}),
        _header({**FIELDS, "nonce_str": "x" * 10_000}),
    ],
    ids=lambda header: repr(header)[:40],
)
def test_a_missing_or_garbled_header_is_a_sign_error(header: str | None) -> None:
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_authorization(header)

    assert caught.value.code == protocol.SIGN_ERROR


@given(st.text(max_size=600))
def test_any_text_parses_or_is_a_sign_error(text: str) -> None:
    headers = (text, f"{protocol.SIGNATURE_TYPE} {text}", _header(FIELDS) + text)

    assert {_outcome(header) for header in headers} <= {"parsed", protocol.SIGN_ERROR}


def _outcome(header: str) -> str:
    """ "parsed", or the code of the ProtocolError (any other exception propagates)."""
    try:
        protocol.parse_authorization(header)
    except protocol.ProtocolError as error:
        return error.code
    return "parsed"


_VALUE = st.text(st.characters(blacklist_characters='"', codec="utf-8"), min_size=1, max_size=60)


@given(
    st.fixed_dictionaries(
        {
            "mchid": _VALUE,
            "nonce_str": _VALUE,
            "signature": _VALUE,
            "timestamp": st.integers(0, 2**40).map(str),
            "serial_no": _VALUE,
        }
    ),
    st.randoms(),
)
def test_any_well_quoted_fields_in_any_order_round_trip(fields: dict[str, str], rng: Any) -> None:
    order = list(fields.items())
    rng.shuffle(order)

    auth = protocol.parse_authorization(_header(dict(order)))

    assert {**auth.__dict__, "timestamp": str(auth.timestamp)} == fields


# --- a facade on 127.0.0.1, and the SDK as its client -----------------------------------------


@dataclass
class Received:
    method: str
    raw_uri: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Facade:
    """What a test facade received and whether each request verified."""

    url: str
    received: list[Received] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)


@contextlib.contextmanager
def _serve(keys: Keys, routes: dict[str, tuple[int, bytes]], signer: str) -> Iterator[Facade]:
    """A threaded HTTP server that checks each request as the facade will, answers by path,
    and signs every answer with `signer` under the serial of the request's mode."""

    class Handler(BaseHTTPRequestHandler):
        def handle_request(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Received(self.command, self.path, dict(self.headers), body)
            state.received.append(request)
            status, answer = _answer(keys, routes, request, state)
            public_key_mode = request.headers.get("Wechatpay-Serial") == PUB_KEY_ID
            serial = PUB_KEY_ID if public_key_mode else keys.platform_serial
            headers = protocol.signed_response_headers(
                signer, serial, answer, int(time.time()), protocol.new_nonce()
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PATCH = handle_request

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read what was received instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Facade(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def _answer(
    keys: Keys, routes: dict[str, tuple[int, bytes]], request: Received, facade: Facade
) -> tuple[int, bytes]:
    """401 SIGN_ERROR unless the merchant signed the request, else the route's answer."""
    try:
        auth = protocol.parse_authorization(request.headers.get("Authorization"))
        ok = protocol.verify_request(
            auth, request.method, request.raw_uri, request.body, keys.merchant_public
        )
    except protocol.ProtocolError:
        ok = False
    facade.verified.append(ok)
    if not ok:
        return 401, b'{"code":"SIGN_ERROR","message":"signature mismatch"}'
    return routes[unquote(urlsplit(request.raw_uri).path)]


def _routes(keys: Keys) -> dict[str, tuple[int, bytes]]:
    certificates = [(keys.platform_serial, keys.platform_cert)]
    query = {"out_trade_no": ORDER, "trade_state": "NOTPAY", "trade_state_desc": "订单未支付"}
    query_body = json.dumps(query, ensure_ascii=False).encode()  # UTF-8, as WeChat answers
    return {
        "/v3/certificates": (200, protocol.certificates_body(keys.apiv3, certificates)),
        "/v3/pay/transactions/native": (200, b'{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}'),
        f"/v3/pay/transactions/out-trade-no/{ORDER}": (200, query_body),
        f"/v3/pay/transactions/out-trade-no/{ORDER}/close": (204, b""),
    }


@pytest.fixture
def facade(keys: Keys) -> Iterator[Facade]:
    with _serve(keys, _routes(keys), signer=keys.platform) as serving:
        yield serving


def _client(keys: Keys, mode: str, cert_dir: Path, **config: Any) -> WeChatPay:
    """The merchant's unchanged SDK configuration, in public-key or certificate mode."""
    settings: dict[str, Any] = {
        "wechatpay_type": WeChatPayType.NATIVE,
        "mchid": MCHID,
        "private_key": keys.merchant,
        "cert_serial_no": keys.merchant_serial,
        "appid": APPID,
        "apiv3_key": keys.apiv3,
        "notify_url": "https://shop.example/notify",
        "cert_dir": str(cert_dir),
    }
    if mode == "public_key":
        settings |= {
            "public_key": crypto.public_key_pem(keys.platform),
            "public_key_id": PUB_KEY_ID,
        }
    return WeChatPay(**(settings | config))


@pytest.fixture
def at_facade(facade: Facade, monkeypatch: pytest.MonkeyPatch) -> Facade:
    """The SDK's gateway pointed at the facade before construction (one line, both modes), and
    no proxy from the environment."""
    gateway = property(lambda _: facade.url, lambda _, __: None)
    monkeypatch.setattr(Core, "_gate_way", gateway, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    return facade


@pytest.mark.parametrize("mode", ["public_key", "certificate"])
def test_the_sdk_pays_queries_and_closes_and_accepts_every_signed_answer(
    keys: Keys, at_facade: Facade, tmp_path: Path, mode: str
) -> None:
    wxpay = _client(keys, mode, tmp_path)

    paid = wxpay.pay(description="咖啡", out_trade_no=ORDER, amount={"total": 1800})
    queried = wxpay.query(out_trade_no=ORDER)
    closed = wxpay.close(out_trade_no=ORDER)

    assert paid == (200, '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}')
    assert json.loads(queried[1])["trade_state_desc"] == "订单未支付"
    assert closed == (204, "")  # empty, and still signed
    assert at_facade.verified == [True] * len(at_facade.received)
    assert [r.raw_uri for r in at_facade.received][-2].startswith(
        "/v3/pay/transactions/out-trade-no/P%7C%E8%AE%A2"
    )


def test_in_certificate_mode_the_sdk_loads_the_platform_certificate_from_certificates_body(
    keys: Keys, at_facade: Facade, tmp_path: Path
) -> None:
    wxpay = _client(keys, "certificate", tmp_path)

    [certificate] = wxpay._core._certificates
    assert certificate.serial_number == int(keys.platform_serial, 16)
    assert (tmp_path / f"{keys.platform_serial}.pem").read_text() == keys.platform_cert
    assert at_facade.received[0].raw_uri == "/v3/certificates"
    assert "Wechatpay-Serial" not in at_facade.received[0].headers


def test_certificates_body_says_when_each_certificate_is_valid_in_china_time(keys: Keys) -> None:
    body = protocol.certificates_body(keys.apiv3, [(keys.platform_serial, keys.platform_cert)])
    [entry] = json.loads(body)["data"]
    not_before, not_after = crypto.certificate_validity(keys.platform_cert)

    assert entry["serial_no"] == keys.platform_serial
    assert entry["effective_time"] == protocol.rfc3339(not_before)
    assert entry["expire_time"].endswith("+08:00")
    assert protocol.parse_rfc3339(entry["expire_time"]) == not_after
    assert entry["encrypt_certificate"]["associated_data"] == "certificate"
    assert protocol.decrypt_resource(keys.apiv3, entry["encrypt_certificate"]) == keys.platform_cert


def test_certificates_under_another_apiv3_key_leave_the_sdk_without_a_certificate(
    keys: Keys, at_facade: Facade, tmp_path: Path
) -> None:
    with pytest.raises(Exception, match="No wechatpay platform certificate"):
        _client(keys, "certificate", tmp_path, apiv3_key=protocol.new_apiv3_key())


@pytest.mark.parametrize("mode", ["public_key", "certificate"])
def test_an_answer_signed_with_another_key_is_refused_by_the_sdk(
    keys: Keys, other_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    (tmp_path / f"{keys.platform_serial}.pem").write_text(keys.platform_cert)
    with _serve(keys, _routes(keys), signer=other_key) as facade:
        wxpay = _client(keys, mode, tmp_path)
        wxpay._core._gate_way = facade.url
        with pytest.raises(Exception, match="failed to verify the signature"):
            wxpay.query(out_trade_no=ORDER)


def test_a_request_signed_with_another_key_is_a_sign_error_at_the_facade(
    keys: Keys, other_key: str, at_facade: Facade, tmp_path: Path
) -> None:
    wxpay = _client(keys, "public_key", tmp_path, private_key=other_key)

    assert wxpay.query(out_trade_no=ORDER)[0] == 401
    assert at_facade.verified == [False]


def test_response_headers_sign_timestamp_nonce_and_body(keys: Keys) -> None:
    headers = protocol.signed_response_headers(keys.platform, "SERIAL", b"{}", 1764820800, "N")

    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert (headers["Wechatpay-Serial"], headers["Wechatpay-Timestamp"]) == ("SERIAL", "1764820800")
    message = b"1764820800\nN\n{}\n"
    assert crypto.rsa_verify(keys.platform_cert, message, headers["Wechatpay-Signature"])


# --- notifications ----------------------------------------------------------------------------

TRANSACTION = {
    "mchid": MCHID,
    "appid": APPID,
    "out_trade_no": ORDER,
    "transaction_id": "4200000000202612040000000001",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "amount": {"total": 1800, "payer_total": 1800, "currency": "CNY"},
}


@pytest.fixture(params=["public_key", "certificate"])
def receiver(request: pytest.FixtureRequest, keys: Keys, tmp_path: Path) -> tuple[WeChatPay, str]:
    """The merchant's SDK receiving notifications (certificate mode from a filled `cert_dir`,
    so no request is made), and the serial a notification to it carries."""
    (tmp_path / f"{keys.platform_serial}.pem").write_text(keys.platform_cert)
    mode = request.param
    serial = PUB_KEY_ID if mode == "public_key" else keys.platform_serial
    return _client(keys, mode, tmp_path), serial


def _notification(
    keys: Keys, serial: str, apiv3: str | None = None
) -> tuple[dict[str, str], bytes]:
    plaintext = json.dumps(TRANSACTION, ensure_ascii=False)
    resource = protocol.encrypt_resource(
        apiv3 or keys.apiv3, plaintext, "transaction", "transaction"
    )
    body = protocol.notification_body(
        "EV-2018022511223320873", NOW, "TRANSACTION.SUCCESS", "支付成功", resource
    )
    headers = protocol.signed_response_headers(
        keys.platform, serial, body, int(time.time()), protocol.new_nonce()
    )
    return headers, body


def test_a_notification_passes_the_sdks_callback_and_decrypt_callback(
    keys: Keys, receiver: tuple[WeChatPay, str]
) -> None:
    wxpay, serial = receiver
    headers, body = _notification(keys, serial)

    received = wxpay.callback(headers, body)
    lower_case = {name.lower(): value for name, value in headers.items()}  # as FastAPI hands them

    assert received["resource"] == TRANSACTION
    assert received["event_type"] == "TRANSACTION.SUCCESS"
    assert received["summary"] == "支付成功"
    assert received["resource_type"] == "encrypt-resource"
    assert received["create_time"] == protocol.rfc3339(NOW)
    assert json.loads(wxpay.decrypt_callback(lower_case, body.decode())) == TRANSACTION


@pytest.mark.parametrize("tamper", ["body", "signature", "apiv3_key", "timestamp"])
def test_a_tampered_notification_returns_none(
    keys: Keys, other_key: str, receiver: tuple[WeChatPay, str], tamper: str
) -> None:
    wxpay, serial = receiver
    headers, body = _notification(
        keys, serial, protocol.new_apiv3_key() if tamper == "apiv3_key" else None
    )
    if tamper == "body":
        body = body.replace("支付成功".encode(), "支付失败".encode())
    elif tamper == "signature":
        headers["Wechatpay-Signature"] = crypto.rsa_sign(other_key, body)
    elif tamper == "timestamp":
        headers["Wechatpay-Timestamp"] = str(int(headers["Wechatpay-Timestamp"]) + 1)

    assert wxpay.callback(headers, body) is None


def test_a_resource_opens_under_its_key_only_with_a_fresh_nonce_each_time() -> None:
    key = protocol.new_apiv3_key()
    first = protocol.encrypt_resource(key, "明文", "refund", "refund")
    second = protocol.encrypt_resource(key, "明文", "refund", "refund")

    assert first["nonce"] != second["nonce"]
    assert len(first["nonce"]) == 12
    assert first["nonce"].isascii()
    assert first["nonce"].isalnum()
    assert (first["algorithm"], first["original_type"]) == ("AEAD_AES_256_GCM", "refund")
    assert protocol.decrypt_resource(key, first) == "明文"
    assert sdk.aes_decrypt(first["nonce"], first["ciphertext"], "refund", key) == "明文"
    with pytest.raises(crypto.Undecryptable):
        protocol.decrypt_resource(protocol.new_apiv3_key(), first)


@pytest.mark.parametrize(
    "change",
    [
        {"algorithm": "AEAD_SM4_GCM"},
        {"nonce": None},
        {"ciphertext": 12},
        {"ciphertext": "not base64!"},
        {"associated_data": "transaction"},
    ],
)
def test_a_malformed_resource_is_undecryptable(change: dict[str, Any]) -> None:
    key = protocol.new_apiv3_key()
    resource = {**protocol.encrypt_resource(key, "text", "refund", "refund"), **change}

    with pytest.raises(crypto.Undecryptable):
        protocol.decrypt_resource(key, resource)


# --- paySign ----------------------------------------------------------------------------------


def test_a_pay_sign_from_the_sdks_sign_verifies_and_a_changed_one_does_not(
    keys: Keys, tmp_path: Path
) -> None:
    wxpay = _client(keys, "public_key", tmp_path)
    fields = [
        APPID,
        "1764820800",
        protocol.new_nonce(),
        "prepay_id=wx201410272009395522657a690389285100",
    ]
    params = dict(zip(("appId", "timeStamp", "nonceStr", "package"), fields, strict=True))
    params |= {"signType": "RSA", "paySign": wxpay.sign(fields)}

    assert protocol.paysign_message(*fields) == ("\n".join(fields) + "\n").encode()
    assert protocol.verify_paysign(keys.merchant_public, params)
    for change in ({"package": "prepay_id=wx2"}, {"signType": "HMAC-SHA256"}, {"timeStamp": 1}):
        assert not protocol.verify_paysign(keys.merchant_public, params | change)
    assert not protocol.verify_paysign(keys.merchant_public, {"appId": APPID})


def test_an_app_payments_sign_covers_the_bare_prepay_id_not_the_package(
    keys: Keys, tmp_path: Path
) -> None:
    wxpay = _client(keys, "public_key", tmp_path)
    prepay_id = "wx201410272009395522657a690389285100"
    fields = [APPID, "1764820800", protocol.new_nonce(), prepay_id]
    params = dict(zip(("appId", "timeStamp", "nonceStr"), fields, strict=False))
    params |= {
        "package": f"prepay_id={prepay_id}",
        "signType": "RSA",
        "paySign": wxpay.sign(fields),
    }

    assert protocol.verify_paysign(keys.merchant_public, params, app=True)
    assert not protocol.verify_paysign(keys.merchant_public, params)


# --- times, keys, nonces, openids -------------------------------------------------------------


def test_times_print_in_china_to_the_second_and_parse_back_to_utc() -> None:
    moment = datetime(2026, 12, 4, 2, 0, 0, 123456, tzinfo=UTC)

    assert protocol.rfc3339(moment) == "2026-12-04T10:00:00+08:00"
    assert protocol.parse_rfc3339("2026-12-04T10:00:00+08:00") == moment.replace(microsecond=0)
    assert protocol.parse_rfc3339("2026-12-04T02:00:00.123456Z") == moment
    assert protocol.parse_rfc3339("2026-12-04t02:00:00z").tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        protocol.rfc3339(datetime(2026, 12, 4))  # noqa: DTZ001


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "2026-12-04",
        "2026-12-04T10:00:00",
        "2026-12-04 10:00:00+08:00",
        "2026-12-04T10:00+08:00",
        "2026-13-04T10:00:00+08:00",
        "2026-02-30T10:00:00+08:00",
        "2026-12-04T24:00:00Z",
        "2026-12-04T10:00:60Z",
        "2026-12-04T10:00:00+24:00",
        "2026-12-04T10:00:00.1234567Z",
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59Z",  # would not print in China's zone
        "1969-12-31T23:59:59Z",
        "２０２６-12-04T10:00:00Z",
        "2026-12-04T10:00:00Z\n",
        "2026-12-04T10:00:00\x00Z",
        "\ud800",
        None,
        1764820800,
    ],
)
def test_anything_but_an_rfc3339_time_is_a_param_error(garbage: Any) -> None:
    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse_rfc3339(garbage)

    assert caught.value.code == protocol.PARAM_ERROR


# hypothesis takes naive bounds and attaches the timezone itself
EPOCH, LATEST = datetime(1970, 1, 2), datetime(9999, 12, 30)  # noqa: DTZ001


@given(st.datetimes(min_value=EPOCH, max_value=LATEST, timezones=st.just(UTC)))
def test_every_time_round_trips_through_rfc3339_to_the_second(moment: datetime) -> None:
    assert protocol.parse_rfc3339(protocol.rfc3339(moment)) == moment.replace(microsecond=0)


def test_an_apiv3_key_is_32_ascii_alphanumerics_that_the_sdk_can_use() -> None:
    key = protocol.new_apiv3_key()

    assert len(key.encode()) == 32
    assert key.isascii()
    assert key.isalnum()
    assert key != protocol.new_apiv3_key()
    resource = protocol.encrypt_resource(key, "x", "", "transaction")
    assert sdk.aes_decrypt(resource["nonce"], resource["ciphertext"], "", key) == "x"


def test_a_nonce_is_32_upper_case_hex_digits_like_the_sdks() -> None:
    nonce = protocol.new_nonce()

    assert len(nonce) == 32
    assert set(nonce) <= set("0123456789ABCDEF")
    assert nonce != protocol.new_nonce()


def test_an_openid_is_stable_per_appid_and_looks_like_wechats() -> None:
    openid = protocol.openid("secret", APPID, "42")
    alphabet = set(string.ascii_letters + string.digits + "-_")

    assert openid == protocol.openid("secret", APPID, "42")
    assert len(openid) == 28
    assert openid.startswith("o")
    assert set(openid) <= alphabet
    others = {
        protocol.openid("secret", "wx0000000000000000", "42"),
        protocol.openid("secret", APPID, "43"),
        protocol.openid("other", APPID, "42"),
        protocol.openid("secret", APPID + "4", "2"),
    }
    assert openid not in others
    assert len(others) == 4


def test_the_protocol_imports_only_the_standard_library_and_o2o_crypto() -> None:
    imported = build_import_graph(PACKAGE_DIR)["o2o.wechatpay.protocol"]

    assert {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names} == {
        "o2o.crypto"
    }
