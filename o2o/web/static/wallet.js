// The wallet: claim coupons, show their QR and the payment code, pay a store's QR, my orders.
import { $, api, fail, idempotencyKey, imageUrl, money, paymentId, say, scanner, signIn, t, wechatpay, when, word } from "./common.js";

const REFRESH_BEFORE = 10; // seconds before a token's expiry: a fresh one is on screen in time
const state = { timer: null, tick: null, payment: null, wechatpay: false };
const CODE_URL = "weixin://wxpay/bizpayurl?pr=";
// What the WeChat Pay sandbox answers, as the wallet shows a payment's status.
const TRADE_STATUS = { SUCCESS: "succeeded", USERPAYING: "pending", PAYERROR: "failed", NOTPAY: "pending" };

function item(text, ...controls) {
  const li = document.createElement("li");
  li.append(Object.assign(document.createElement("span"), { textContent: text }), " ", ...controls);
  return li;
}

function button(text, onClick, label) {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: text });
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function discount(d) {
  const min = d.min_spend ? ` (≥ ${money(d.min_spend)})` : "";
  if (d.type === "amount_off") return `-${money(d.amount_off)}${min}`;
  if (d.type === "percent_off") return `-${d.percent_off}%${min}`;
  return `${d.item} ${money(d.exchange_price)}${min}`;
}

async function claimable() {
  try {
    const page = await api("GET", "/campaigns?claimable=true");
    const list = page.items.map((c) =>
      item(`${c.name} · ${discount(c.discount)}`, button(t.claim, () => claim(c.id), `${t.claim} ${c.name}`)),
    );
    $("claimable").replaceChildren(...(list.length ? list : [item(t.nothing)]));
  } catch (error) {
    fail(error);
  }
}

async function claim(campaignId) {
  try {
    await api("POST", `/campaigns/${campaignId}/claims`, { json: { channel: "app" }, headers: { "Idempotency-Key": idempotencyKey() } });
    say("");
  } catch (error) {
    fail(error);
  }
  claimable();
  coupons();
}

const ORDER = ["available", "reserved", "redeemed", "expired", "voided"];

async function coupons() {
  try {
    const page = await api("GET", "/me/coupons?limit=200");
    page.items.sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status));
    const list = page.items.map((c) => {
      const li = item(
        `${c.code} · ${discount(c.discount)} · ${word(`status_${c.status}`)}`,
        ...(c.status === "available" ? [button(t.show_qr, () => couponQr(c.code), `${t.show_qr} ${c.code}`)] : []),
      );
      li.dataset.code = c.code;
      li.dataset.status = c.status;
      return li;
    });
    $("coupons").replaceChildren(...(list.length ? list : [item(t.nothing)]));
  } catch (error) {
    fail(error);
  }
}

function closeQr() {
  clearTimeout(state.timer);
  clearInterval(state.tick);
  $("qr-screen").hidden = true;
}

// Show something that expires, refreshed REFRESH_BEFORE seconds before it does, with a countdown.
async function showExpiring(title, load) {
  closeQr();
  let shown;
  try {
    shown = await load();
  } catch (error) {
    return fail(error);
  }
  $("qr-title").textContent = title;
  $("qr-screen").hidden = false;
  let left = Math.round((Date.parse(shown.expires_at) - Date.now()) / 1000);
  if (!(left > 0 && left <= 3600)) left = 60; // a service clock far from this device's
  const countdown = () => {
    $("countdown").textContent = String(Math.max(0, left));
    left -= 1;
  };
  countdown();
  state.tick = setInterval(countdown, 1000);
  state.timer = setTimeout(() => showExpiring(title, load), Math.max(1, left - REFRESH_BEFORE) * 1000);
  $("qr-close").focus();
}

function couponQr(code) {
  showExpiring(`${t.coupon} ${code}`, async () => {
    const token = await api("GET", `/coupons/${encodeURIComponent(code)}/qr-token`);
    $("qr-img").src = await imageUrl(`/coupons/${encodeURIComponent(code)}/qr`);
    $("qr-img").alt = `${t.coupon} ${code}`;
    $("qr-img").hidden = false;
    $("qr-digits").textContent = "";
    return token;
  });
}

function paymentCode() {
  showExpiring(t.my_payment_code, async () => {
    const code = await api("GET", "/me/payment-code?qr=png"); // the QR of the same code
    $("qr-img").src = code.qr;
    $("qr-img").alt = t.my_payment_code;
    $("qr-img").hidden = false;
    $("qr-digits").textContent = code.auth_code.replace(/(\d{4})(?=\d)/g, "$1 ");
    $("qr-digits").dataset.code = code.auth_code;
    return code;
  });
}

// A merchant QR encodes <public URL>/wallet/pay/<payment id>: the confirm screen of that payment.
// A WeChat Pay sandbox Native QR encodes weixin://wxpay/bizpayurl?pr=<payment id>, and an H5
// trade's h5_url is <public URL>/wallet/wechatpay/<payment id>: paid as WeChat's client pays.
function merchantText(text) {
  const wechat = /^weixin:\/\/wxpay\/bizpayurl\?pr=([^&#\s]+)|\/wallet\/wechatpay\/([^/?#\s]+)/.exec(text.trim());
  if (wechat) return confirmScreen(decodeURIComponent(wechat[1] || wechat[2]), true);
  const match = /\/wallet\/pay\/([^/?#\s]+)/.exec(text);
  if (!match) return say(t.invalid_qr_token);
  confirmScreen(decodeURIComponent(match[1]), false);
}

async function confirmScreen(id, viaWechat) {
  state.wechatpay = viaWechat;
  $("wallet-outcome-choice").hidden = viaWechat;
  $("wechatpay-note").hidden = !viaWechat;
  try {
    const payment = await api("GET", `/payments/${encodeURIComponent(id)}`);
    const order = await api("GET", `/orders/${encodeURIComponent(payment.order_id)}`);
    state.payment = payment;
    $("confirm-details").replaceChildren();
    for (const [label, value] of [
      [t.to_pay, money(payment.amount)],
      [t.store, order.store_id || ""],
      [t.coupon, order.coupon_code ? `${order.coupon_code} (-${money(order.discount_amount)})` : t.no_coupon],
      [t.method, word(payment.method)],
    ]) {
      $("confirm-details").append(
        Object.assign(document.createElement("dt"), { textContent: label }),
        Object.assign(document.createElement("dd"), { textContent: value }),
      );
    }
    $("confirm-status").textContent = payment.status === "pending" ? "" : word(payment.status);
    $("confirm-pay").hidden = payment.status !== "pending";
    $("confirm-screen").hidden = false;
    $("confirm-pay").focus();
  } catch (error) {
    // paid by someone else, or another shopper's: 404, as for an id that never existed
    if (error.code === "not_found") say(t.payment_not_found);
    else fail(error);
  }
}

// The shopper pays: a plain merchant QR with the outcome chosen on the page; a WeChat Pay
// sandbox one through its code_url, with the sandbox's outcome (magic amounts, chosen outcomes).
async function pay() {
  const key = { "Idempotency-Key": idempotencyKey() };
  if (!state.wechatpay) {
    const headers = { ...key, "O2O-Mock-Outcome": $("wallet-outcome").value };
    return api("POST", `/payments/${state.payment.id}/confirm`, { json: {}, headers });
  }
  const json = { code_url: CODE_URL + state.payment.id };
  const trade = await api("POST", "/wechatpay/code-url/pay", { json, headers: key });
  const payment = await api("GET", `/payments/${encodeURIComponent(state.payment.id)}`);
  return { ...payment, status: TRADE_STATUS[trade.trade_state] || payment.status };
}

async function confirmPay() {
  try {
    const payment = await pay();
    const ok = payment.status === "succeeded";
    const waiting = payment.status === "pending"; // user_paying: it settles later, not here
    $("confirm-status").textContent = ok ? t.paid : waiting ? t.user_paying : `${t.failed} ${word(payment.failure_code || payment.status)}`;
    $("confirm-status").className = ok ? "good" : waiting ? "" : "bad";
    // A failed confirmation used the payment up: a new try needs a new QR from the clerk.
    $("confirm-pay").hidden = true;
    say("");
  } catch (error) {
    fail(error);
  }
  coupons();
  orders();
}

async function orders() {
  try {
    const [list, payments] = await Promise.all([api("GET", "/orders?limit=50"), api("GET", "/payments?limit=200")]);
    const rows = list.items.map((o) => {
      const paid = payments.items.filter((p) => p.order_id === o.id).map((p) => `${word(p.method)} ${money(p.amount)} ${word(p.status)}`);
      return item(`${when(o.created_at)} · ${money(o.payable_amount)} · ${word(o.status)}${paid.length ? ` · ${paid.join(", ")}` : ""}`);
    });
    $("orders").replaceChildren(...(rows.length ? rows : [item(t.nothing)]));
  } catch (error) {
    fail(error);
  }
}

signIn(() => {
  scanner("merchant", merchantText);
  $("show-payment-code").addEventListener("click", paymentCode);
  $("qr-close").addEventListener("click", closeQr);
  $("confirm-pay").addEventListener("click", confirmPay);
  $("confirm-cancel").addEventListener("click", () => {
    $("confirm-screen").hidden = true;
  });
  claimable();
  coupons();
  orders();
  if (paymentId) confirmScreen(paymentId, wechatpay);
});
