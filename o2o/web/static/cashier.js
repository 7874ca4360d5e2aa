// The WeChat Pay sandbox's mock cashier: what wx.requestPayment (JSAPI) or the app's WeChat SDK
// (APP) would open. The query carries the parameters the merchant signed; the shopper sees the
// order and pays, and the service checks the signature with the merchant's public key.
import { $, api, fail, idempotencyKey, money, say, signIn, t, word } from "./common.js";

const FIELDS = ["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"];
const params = Object.fromEntries(FIELDS.map((name) => [name, new URLSearchParams(location.search).get(name)]));
const prepayId = (params.package || "").replace(/^prepay_id=/, "");

function show(trade) {
  $("cashier-details").replaceChildren();
  for (const [label, value] of [
    [t.merchant_name, trade.merchant_name],
    [t.description, trade.description],
    [t.to_pay, money(trade.payable_amount)],
  ]) {
    $("cashier-details").append(
      Object.assign(document.createElement("dt"), { textContent: label }),
      Object.assign(document.createElement("dd"), { textContent: value }),
    );
  }
  status(trade.trade_state);
  $("cashier-pay").hidden = trade.trade_state !== "NOTPAY";
  $("cashier-screen").hidden = false;
}

function status(state) {
  $("cashier-status").textContent = state === "NOTPAY" ? "" : word(state);
  $("cashier-status").className = state === "SUCCESS" ? "good" : state === "PAYERROR" ? "bad" : "";
}

async function open() {
  if (FIELDS.some((name) => !params[name])) return say(t.cashier_bad_link);
  try {
    show(await api("GET", `/wechatpay/cashier?prepay_id=${encodeURIComponent(prepayId)}`));
  } catch (error) {
    fail(error);
  }
}

async function pay() {
  $("cashier-pay").hidden = true; // one confirmation: a failed one used the payment up
  try {
    const paid = await api("POST", "/wechatpay/cashier/pay", { json: params, headers: { "Idempotency-Key": idempotencyKey() } });
    status(paid.trade_state);
    say("");
  } catch (error) {
    $("cashier-pay").hidden = false;
    fail(error);
  }
}

signIn(() => {
  $("cashier-pay").addEventListener("click", pay);
  open();
});
