// The till: scan a coupon, check out, take the payment, print the receipt, the day's payments.
import { $, api, fail, idempotencyKey, imageUrl, money, say, scanner, signIn, t, when, word, yuanToFen } from "./common.js";

const state = { token: null, order: null, payment: null, poll: null, storeId: null, csvUrl: null };

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
    state.storeId = state.order.store_id;
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

function today() {
  const now = new Date(); // the till's own day: a till in Hangzhou runs on Asia/Shanghai
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

// The clerk's store: from an order of theirs (a clerk's key names no store the page can read).
async function storeId() {
  if (!state.storeId) {
    const orders = await api("GET", "/orders?limit=1");
    state.storeId = orders.items.length ? orders.items[0].store_id : null;
  }
  return state.storeId;
}

function row(body, cells, control) {
  const tr = body.insertRow();
  for (const text of cells) tr.insertCell().textContent = text;
  if (control) tr.insertCell().append(control);
}

function refundButton(line) {
  const left = line.amount - (line.refunded_amount || 0);
  if (left <= 0) return null;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = t.refund;
  button.setAttribute("aria-label", `${t.refund} ${line.payment_id} ${money(left)}`);
  button.dataset.payment = line.payment_id;
  button.addEventListener("click", () => refund(line.payment_id));
  return button;
}

// The day's statement (GET /stores/{id}/statement): every payment and refund, the totals.
async function statement() {
  if (!$("statement-date").value) $("statement-date").value = today();
  const body = $("statement").tBodies[0];
  let day;
  try {
    const store = await storeId();
    if (!store) return body.replaceChildren();
    day = await api("GET", `/stores/${encodeURIComponent(store)}/statement?date=${$("statement-date").value}`);
  } catch (error) {
    return fail(error);
  }
  body.replaceChildren();
  for (const p of day.payments) {
    const cells = [when(p.at), word(p.method), word(p.flow), money(p.amount)];
    cells.push(p.refunded_amount ? `${t.refunded} ${money(p.refunded_amount)}` : "");
    row(body, cells, refundButton(p));
  }
  for (const r of day.refunds) row(body, [when(r.at), word(r.method), t.refund, money(-r.amount), r.payment_id]);
  const totals = [`${t.total} ${money(day.totals.net_amount)}`];
  totals.push(`${t.paid} ${day.totals.paid_count} (${money(day.totals.paid_amount)})`);
  totals.push(`${t.refunds} ${day.totals.refunded_count} (${money(day.totals.refunded_amount)})`);
  for (const m of day.by_method) totals.push(`${word(m.method)} ${money(m.net_amount)}`);
  $("statement-total").textContent = totals.join(" · ");
}

// The same statement as CSV, saved as a file: fetched with the key in the Authorization
// header (never in a URL), then handed to the browser as a blob: URL on an <a download>.
async function downloadStatement() {
  const date = $("statement-date").value || today();
  let response;
  let store;
  try {
    store = await storeId();
    if (!store) return say(t.nothing);
    response = await api("GET", `/stores/${encodeURIComponent(store)}/statement?date=${date}&format=csv`, { raw: true });
  } catch (error) {
    return fail(error);
  }
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  if (state.csvUrl) URL.revokeObjectURL(state.csvUrl); // the previous download's, long done
  state.csvUrl = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), {
    href: state.csvUrl,
    download: named ? named[1] : `statement-${store}-${date}.csv`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  say("");
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
  $("download-statement").addEventListener("click", downloadStatement);
  $("statement-date").addEventListener("change", statement);
  statement();
});
