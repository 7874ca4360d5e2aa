// The till: scan a coupon, check out, take the payment, print the receipt, the day's payments.
import { $, api, fail, idempotencyKey, imageUrl, money, say, scanner, signIn, t, when, word, yuanToFen } from "./common.js";

const state = { token: null, order: null, payment: null, poll: null };

function amount() {
  const fen = yuanToFen($("amount").value);
  if (fen === null) say(t.bad_amount);
  return fen;
}

function show(screen) {
  for (const id of ["scan-screen", "pay-screen", "receipt-screen"]) $(id).hidden = id !== screen;
}

function dl(target, rows) {
  target.replaceChildren();
  for (const [label, value] of rows) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = label;
    dd.textContent = value;
    target.append(dt, dd);
  }
}

async function quote() {
  const fen = amount();
  if (fen === null) return;
  say("");
  const box = $("quote");
  if (!state.token) {
    box.textContent = `${t.no_coupon} · ${t.to_pay} ${money(fen)}`;
    return;
  }
  try {
    const scan = await api("POST", "/scans", { json: { qr_token: state.token, amount: fen } });
    const lines = scan.applicable
      ? [t.applicable, `${t.coupon} ${scan.coupon.code}`, `${t.discount} ${money(scan.discount_amount)}`]
      : [t.not_applicable, ...scan.reasons.map(word)];
    lines.push(`${t.to_pay} ${money(scan.payable_amount)}`);
    box.replaceChildren(...lines.map((line) => Object.assign(document.createElement("p"), { textContent: line })));
    box.className = scan.applicable ? "good" : "bad";
  } catch (error) {
    box.textContent = "";
    fail(error);
  }
}

async function checkout() {
  const fen = amount();
  if (fen === null) return;
  const body = { amount: fen, ...(state.token ? { qr_token: state.token } : {}) };
  try {
    state.order = await api("POST", "/orders", { json: body, headers: { "Idempotency-Key": idempotencyKey() } });
  } catch (error) {
    return fail(error);
  }
  say("");
  const o = state.order;
  $("order-summary").textContent = `${t.order} ${o.id} · ${t.discount} ${money(o.discount_amount)} · ${t.to_pay} ${money(o.payable_amount)}`;
  resetPayment();
  show("pay-screen");
}

function flow() {
  return document.querySelector("input[name=flow]:checked").value;
}

function resetPayment() {
  clearInterval(state.poll);
  $("pay-form").hidden = false;
  $("merchant-qr").hidden = true;
  $("retry").hidden = true;
  $("pay-status").textContent = "";
  $("pay-status").className = "";
  $("paycode-text").value = "";
  $("code-scanner").hidden = flow() !== "clerk_scan";
}

async function takePayment() {
  const body = { method: $("method").value, flow: flow() };
  if (body.flow === "clerk_scan") {
    body.auth_code = $("paycode-text").value.replace(/\D/g, "");
    if (body.auth_code.length !== 18) return say(t.invalid_payment_code);
  }
  const headers = { "Idempotency-Key": idempotencyKey(), "O2O-Mock-Outcome": $("outcome").value };
  try {
    state.payment = await api("POST", `/orders/${state.order.id}/payments`, { json: body, headers });
  } catch (error) {
    return fail(error);
  }
  say("");
  $("pay-form").hidden = true;
  if (body.flow === "shopper_scan" && state.payment.status === "pending") {
    $("merchant-qr-img").src = await imageUrl(`/payments/${state.payment.id}/qr`);
    $("merchant-qr").hidden = false;
  }
  settled(state.payment) || wait();
}

// Poll the payment until it settles: the page turns itself to the receipt or the failure.
function wait() {
  $("pay-status").textContent = t.waiting;
  state.poll = setInterval(async () => {
    try {
      const payment = await api("GET", `/payments/${state.payment.id}`);
      if (settled(payment)) clearInterval(state.poll);
    } catch (error) {
      fail(error);
    }
  }, 1000);
}

function settled(payment) {
  state.payment = payment;
  if (payment.status === "succeeded") {
    receipt();
    return true;
  }
  if (payment.status === "failed" || payment.status === "canceled") {
    $("merchant-qr").hidden = true;
    $("pay-status").textContent = `${t.failed} ${word(payment.failure_code || payment.status)}`;
    $("pay-status").className = "bad";
    $("retry").hidden = false;
    $("retry").focus();
    return true;
  }
  return false;
}

function receipt() {
  const o = state.order;
  const p = state.payment;
  dl($("receipt"), [
    [t.order, o.id],
    [t.coupon, o.coupon_code || t.no_coupon],
    [t.amount, money(o.amount)],
    [t.discount, money(o.discount_amount)],
    [t.paid, money(p.amount)],
    [t.method, `${word(p.method)} · ${word(p.flow)}`],
    [t.time, when(p.succeeded_at || p.created_at)],
  ]);
  show("receipt-screen");
  $("new-sale").focus();
  statement();
}

function newSale() {
  state.token = null;
  state.order = null;
  $("coupon-text").value = "";
  $("amount").value = "";
  $("quote").textContent = "";
  show("scan-screen");
}

async function statement() {
  let payments;
  let refunds;
  try {
    // today on this till's clock: from just before its local midnight
    const now = new Date();
    const since = new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime() - 1;
    const query = `?limit=200&created_after=${encodeURIComponent(new Date(since).toISOString())}`;
    [payments, refunds] = await Promise.all([api("GET", `/payments${query}`), api("GET", `/refunds${query}`)]);
  } catch (error) {
    return fail(error);
  }
  const body = $("statement").tBodies[0];
  body.replaceChildren();
  let total = 0;
  for (const p of payments.items) {
    const row = body.insertRow();
    const cells = [when(p.created_at), word(p.method), money(p.amount), word(p.status)];
    if (p.refunded_amount) cells.push(`${t.refunded} ${money(p.refunded_amount)}`);
    for (const text of cells) row.insertCell().textContent = text;
    if (p.status === "succeeded") total += p.amount - (p.refunded_amount || 0);
    if (p.status === "succeeded" && p.refunded_amount < p.amount) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = t.refund;
      button.setAttribute("aria-label", `${t.refund} ${p.id} ${money(p.amount - p.refunded_amount)}`);
      button.dataset.payment = p.id;
      button.addEventListener("click", () => refund(p.id));
      row.insertCell().append(button);
    }
  }
  const refunded = refunds.items.reduce((sum, r) => sum + r.amount, 0);
  $("statement-total").textContent = `${t.total} ${money(total)} · ${t.refunds} ${refunds.items.length} (${money(refunded)})`;
}

async function refund(paymentId) {
  try {
    await api("POST", `/payments/${paymentId}/refunds`, { json: {}, headers: { "Idempotency-Key": idempotencyKey() } });
    say(t.refunded, true);
  } catch (error) {
    fail(error);
  }
  statement();
}

signIn(() => {
  scanner("coupon", (token) => {
    state.token = token;
    if (yuanToFen($("amount").value) !== null) quote();
    else $("amount").focus();
  }, () => {
    const fen = yuanToFen($("amount").value);
    return fen === null ? {} : { amount: String(fen) };
  });
  scanner("paycode", (code) => {
    if (code.replace(/\D/g, "").length === 18) takePayment();
  });
  $("coupon-text").addEventListener("input", () => {
    state.token = $("coupon-text").value.trim() || null;
  });
  $("amount-form").addEventListener("submit", (event) => {
    event.preventDefault();
    quote();
  });
  $("checkout").addEventListener("click", checkout);
  $("pay-form").addEventListener("submit", (event) => {
    event.preventDefault();
    takePayment();
  });
  for (const radio of document.querySelectorAll("input[name=flow]")) radio.addEventListener("change", resetPayment);
  $("retry").addEventListener("click", resetPayment);
  $("new-sale").addEventListener("click", newSale);
  $("refresh-statement").addEventListener("click", statement);
  statement();
});
