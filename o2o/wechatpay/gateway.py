"""The /v3/ gateway: WeChat Pay APIv3 as the official SDK speaks it, on this service's app.

Every request is authenticated as the SDK signs it (the merchant's key over the raw bytes, the
path as sent or percent-decoded, a timestamp within ±300 s of the service clock, a nonce used
once); every answer — 2xx, 4xx or 204 — is signed with the platform key over the exact bytes
sent, with the serial of the mode the merchant runs in. Errors are WeChat's codes and statuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from o2o import clock, store
from o2o.errors import O2OError
from o2o.extensions import db
from o2o.models import WechatMerchant, WechatNonce
from o2o.wechatpay import busifavor, busifavor_coupons, merchants, protocol, refunds, trades
from o2o.wechatpay.errors import WechatError

blp = Blueprint("wechatpay_v3", __name__, url_prefix="/v3")
CLOCK_SKEW = timedelta(seconds=300)
# Partner (服务商) mode, bills and combine transactions are outside the sandbox's scope.
OUT_OF_SCOPE = ("pay/partner/", "bill/", "combine-transactions/", "billdownload/")

View = Callable[..., tuple[int, dict[str, Any] | None]]


def install(app: Flask) -> None:
    """Mount /v3/ and make WeChat Pay's notifications a delivery channel of `app`."""
    from o2o.wechatpay import notifications

    app.register_blueprint(blp)
    notifications.init_app(app)


def _json(body: dict[str, Any] | None) -> bytes:
    return (
        b""
        if body is None
        else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    )


def _signed(status: int, body: dict[str, Any] | None, mode: str) -> Response:
    """The answer, signed over the exact bytes it carries."""
    raw = _json(body)
    platform = merchants.platform()
    headers = protocol.signed_response_headers(
        platform.private_key,
        platform.serial_for(mode),
        raw,
        int(clock.real_now().timestamp()),
        protocol.new_nonce(),
    )
    response = Response(raw, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json; charset=utf-8"
    if body is None:
        response.headers.pop("Content-Type")
    store.rollback()  # nothing of an answer is left open
    return response


def _mode() -> str:
    """The mode to answer in: the merchant's, else what the request's serial says."""
    merchant: WechatMerchant | None = g.get("wechat_merchant")
    if merchant is not None:
        return merchant.mode
    serial = request.headers.get("Wechatpay-Serial", "")
    return "public_key" if serial.startswith("PUB_KEY_ID_") else "certificate"


def _authenticate() -> WechatMerchant:
    try:
        auth = protocol.parse_authorization(request.headers.get("Authorization"))
    except protocol.ProtocolError as exc:
        raise WechatError("SIGN_ERROR", exc.message) from exc
    merchant = merchants.find_merchant(auth.mchid)
    if merchant is None:
        raise WechatError("SIGN_ERROR", "No merchant has this mchid.")
    if auth.serial_no.upper() != merchant.cert_serial_no:
        raise WechatError(
            "SIGN_ERROR", "serial_no is not the serial of this merchant's certificate."
        )
    raw_uri = request.environ.get("RAW_URI") or request.full_path.rstrip("?")
    if not protocol.verify_request(
        auth, request.method, raw_uri, request.get_data(cache=True), merchant.merchant_public_key
    ):
        raise WechatError("SIGN_ERROR", "The signature does not verify.")
    if not any(_near(moment, auth.timestamp) for moment in (clock.now(), clock.real_now())):
        raise WechatError("SIGN_ERROR", "The timestamp is more than 300 s from the server's clock.")
    _use_nonce(merchant.mchid, auth.nonce_str, clock.real_now())
    return merchant


def _near(moment: datetime, timestamp: int) -> bool:
    """Within ±300 s of the service clock — or of the real one, which the SDK signs with while
    a test has moved the sandbox clock on."""
    return abs(moment.timestamp() - timestamp) <= CLOCK_SKEW.total_seconds()


def _use_nonce(mchid: str, nonce: str, now: datetime) -> None:
    """Keep the nonce (in its own commit, so a failed request's nonce is spent too); a second
    use is a replay. Nonces older than twice the timestamp window (real time) are forgotten."""
    db.session.execute(delete(WechatNonce).where(WechatNonce.seen_at < now - 2 * CLOCK_SKEW))
    db.session.add(WechatNonce(mchid=mchid, nonce=nonce, seen_at=now))
    try:
        store.commit()
    except IntegrityError as exc:
        store.rollback()
        raise WechatError("SIGN_ERROR", "This nonce was used already: a replayed request.") from exc


def _body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WechatError("PARAM_ERROR", "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise WechatError("PARAM_ERROR", "The body must be a JSON object.")
    return body


def _answer(view: View, **kwargs: Any) -> Response:
    try:
        merchant = _authenticate()
        g.wechat_merchant = merchant
        status, body = view(merchant, _body(), **kwargs)
    except WechatError as error:
        store.rollback()
        return _signed(error.status, error.body(), _mode())
    except O2OError as error:
        store.rollback()
        wechat = WechatError.from_service(error)
        return _signed(wechat.status, wechat.body(), _mode())
    return _signed(status, body, _mode())


def route(rule: str, methods: tuple[str, ...]) -> Callable[[View], View]:
    """A /v3/ operation: `view(merchant, body, **path) -> (status, body or None for 204)`."""

    def decorator(view: View) -> View:
        def endpoint(**kwargs: Any) -> Response:
            return _answer(view, **kwargs)

        blp.add_url_rule(rule, view.__name__, endpoint, methods=list(methods))
        return view

    return decorator


# -- the operations


@route("/certificates", ("GET",))
def certificates(merchant: WechatMerchant, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    platform = merchants.platform()
    listed = protocol.certificates_body(
        merchants.apiv3_key(merchant), [(platform.serial_no, platform.certificate)]
    )
    return 200, json.loads(listed)


@route("/pay/transactions/<kind>", ("POST",))
def pay(merchant: WechatMerchant, body: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]]:
    return 200, trades.pay(merchant, kind, body)


def _mchid_param(merchant: WechatMerchant) -> None:
    if request.args.get("mchid") != merchant.mchid:
        raise WechatError("APPID_MCHID_NOT_MATCH", "mchid does not match the signing merchant")


@route("/pay/transactions/out-trade-no/<out_trade_no>", ("GET",))
def query_by_out_trade_no(
    merchant: WechatMerchant, body: dict[str, Any], out_trade_no: str
) -> tuple[int, dict[str, Any]]:
    _mchid_param(merchant)
    return 200, trades.query(merchant, out_trade_no=out_trade_no)


@route("/pay/transactions/id/<transaction_id>", ("GET",))
def query_by_transaction_id(
    merchant: WechatMerchant, body: dict[str, Any], transaction_id: str
) -> tuple[int, dict[str, Any]]:
    _mchid_param(merchant)
    return 200, trades.query(merchant, transaction_id=transaction_id)


@route("/pay/transactions/out-trade-no/<out_trade_no>/close", ("POST",))
def close(merchant: WechatMerchant, body: dict[str, Any], out_trade_no: str) -> tuple[int, None]:
    trades.close(merchant, out_trade_no, body)
    return 204, None


@route("/pay/transactions/out-trade-no/<out_trade_no>/reverse", ("POST",))
def reverse(merchant: WechatMerchant, body: dict[str, Any], out_trade_no: str) -> tuple[int, None]:
    trades.reverse(merchant, out_trade_no, body)
    return 204, None


@route("/refund/domestic/refunds", ("POST",))
def refund(merchant: WechatMerchant, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, refunds.refund(merchant, body)


@route("/refund/domestic/refunds/<out_refund_no>", ("GET",))
def query_refund(
    merchant: WechatMerchant, body: dict[str, Any], out_refund_no: str
) -> tuple[int, dict[str, Any]]:
    return 200, refunds.query(merchant, out_refund_no)


# -- merchant coupons (商家券): o2o/wechatpay/busifavor.py and busifavor_coupons.py

BUSIFAVOR = "/marketing/busifavor"


@route(f"{BUSIFAVOR}/stocks", ("POST",))
def busifavor_create_stock(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor.create_stock(merchant, body)


@route(f"{BUSIFAVOR}/stocks/<stock_id>", ("GET",))
def busifavor_query_stock(
    merchant: WechatMerchant, body: dict[str, Any], stock_id: str
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor.query_stock(merchant, stock_id)


@route(f"{BUSIFAVOR}/stocks/<stock_id>", ("PATCH",))
def busifavor_modify_stock(
    merchant: WechatMerchant, body: dict[str, Any], stock_id: str
) -> tuple[int, None]:
    busifavor.modify_stock(merchant, stock_id, body)
    return 204, None


@route(f"{BUSIFAVOR}/stocks/<stock_id>/budget", ("PATCH",))
def busifavor_stock_budget(
    merchant: WechatMerchant, body: dict[str, Any], stock_id: str
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor.change_budget(merchant, stock_id, body)


@route(f"{BUSIFAVOR}/stocks/<stock_id>/couponcodes", ("POST",))
def busifavor_upload_codes(
    merchant: WechatMerchant, body: dict[str, Any], stock_id: str
) -> tuple[int, None]:
    busifavor.find_stock(merchant, stock_id)
    raise WechatError(
        "NOT_SUPPORTED",
        "Uploading coupon codes is not supported: the sandbox's stocks are WECHATPAY_MODE, their "
        "codes this service's own (docs/wechatpay.md).",
    )


@route(f"{BUSIFAVOR}/users/<openid>/coupons", ("GET",))
def busifavor_user_coupons(
    merchant: WechatMerchant, body: dict[str, Any], openid: str
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.list_user_coupons(merchant, openid, request.args)


@route(f"{BUSIFAVOR}/users/<openid>/coupons/<coupon_code>/appids/<appid>", ("GET",))
def busifavor_coupon_detail(
    merchant: WechatMerchant, body: dict[str, Any], openid: str, coupon_code: str, appid: str
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.coupon_detail(merchant, openid, coupon_code, appid)


@route(f"{BUSIFAVOR}/coupons/use", ("POST",))
def busifavor_use(merchant: WechatMerchant, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.use(merchant, body)


@route(f"{BUSIFAVOR}/coupons/return", ("POST",))
def busifavor_return(merchant: WechatMerchant, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.give_back(merchant, body)


@route(f"{BUSIFAVOR}/coupons/deactivate", ("POST",))
def busifavor_deactivate(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.deactivate(merchant, body)


@route(f"{BUSIFAVOR}/coupons/associate", ("POST",))
def busifavor_associate(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.associate(merchant, body, tie=True)


@route(f"{BUSIFAVOR}/coupons/disassociate", ("POST",))
def busifavor_disassociate(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor_coupons.associate(merchant, body, tie=False)


@route(f"{BUSIFAVOR}/callbacks", ("POST",))
def busifavor_set_callback(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor.set_callback(merchant, body)


@route(f"{BUSIFAVOR}/callbacks", ("GET",))
def busifavor_query_callback(
    merchant: WechatMerchant, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    return 200, busifavor.query_callback(merchant, request.args.get("mchid"))


@route("/<path:rest>", ("GET", "POST", "PUT", "PATCH", "DELETE"))
def elsewhere(merchant: WechatMerchant, body: dict[str, Any], rest: str) -> tuple[int, None]:
    if rest.startswith(OUT_OF_SCOPE):
        raise WechatError(
            "NOT_SUPPORTED",
            "The sandbox speaks direct-merchant APIv3 only: partner mode, bills and combine "
            "transactions are not supported (docs/wechatpay.md).",
        )
    raise WechatError("RESOURCE_NOT_EXISTS", f"No /v3/{rest} operation with {request.method}.")
