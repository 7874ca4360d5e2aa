// What the till and the wallet share: the page's words, the key, API calls, money, scanners.

const data = JSON.parse(document.getElementById("page-data").textContent);
export const t = data.t;
export const lang = data.lang;
export const paymentId = data.payment_id;
export const wechatpay = data.wechatpay; // opened by a WeChat Pay sandbox h5_url
const KEY = "o2o.api_key";

export const $ = (id) => document.getElementById(id);

// "399" / "399.5" / "399.50" (yuan) → 39950 fen, exactly, without floating point; else null.
export function yuanToFen(text) {
  const match = /^\s*¥?\s*(\d{1,9})(?:\.(\d{0,2}))?\s*$/.exec(String(text));
  if (!match) return null;
  const fen = Number(match[1]) * 100 + Number((match[2] || "").padEnd(2, "0"));
  return fen > 0 ? fen : null;
}

// 34900 → "¥349.00"
export function money(fen) {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString(lang) : "";
}

export function word(code) {
  return t[code] || code;
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || { code: "error", message: String(status) };
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details || {};
  }
  // In the page's language: the reasons, or the code's own words, or the API's sentence.
  explain() {
    const reasons = this.details.reasons || [];
    if (reasons.length) return reasons.map(word).join(" ");
    if (this.code === "validation_error") {
      // field → messages: the API's own words, naming the field
      const fields = Object.entries(this.details).map(([name, said]) => `${name}: ${[].concat(said).join(" ")}`);
      if (fields.length) return `${t.error} ${fields.join("; ")}`;
    }
    return t[this.code] || `${t.error} ${this.message}`;
  }
}

export function key() {
  return sessionStorage.getItem(KEY);
}

export async function api(method, path, { json, form, headers = {}, raw = false } = {}) {
  const init = { method, headers: { Authorization: `Bearer ${key()}`, ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const response = await fetch(`${data.api}${path}`, init);
  if (raw && response.ok) return response;
  const body = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// An image the API serves behind the key, as a blob: URL for an <img>.
export async function imageUrl(path) {
  const response = await api("GET", path, { raw: true });
  return URL.createObjectURL(await response.blob());
}

export function say(text, good = false) {
  const box = $("message");
  box.textContent = text || "";
  box.className = good ? "good" : "";
}

export function fail(error) {
  say(error instanceof ApiError ? error.explain() : `${t.error} ${error.message}`);
}

export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

// The key form: shown until a key is kept in this tab's sessionStorage (never in a URL).
export function signIn(start) {
  const form = $("key-form");
  const begin = () => {
    form.hidden = true;
    $("app").hidden = false;
    start();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("api-key").value.trim());
    begin();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  if (key()) begin();
  else {
    form.hidden = false;
    $("api-key").focus();
  }
}

let detector = null;
async function nativeDetector() {
  // BarcodeDetector only where the browser really reads QR codes, never assumed.
  if (detector !== null) return detector;
  detector = false;
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (_) {
      detector = false;
    }
  }
  return detector;
}

// Decode one picture: in the browser where it can, else by POST /scans/image. null: no code.
async function decode(blob, source, extra) {
  const native = await nativeDetector();
  if (native) {
    try {
      const found = await native.detect(source || (await createImageBitmap(blob)));
      if (found.length) return found[0].rawValue;
    } catch (_) {
      /* fall through to the server */
    }
  }
  const form = new FormData();
  form.append("image", blob, "scan.jpg");
  for (const [name, value] of Object.entries(extra() || {})) form.append(name, value);
  try {
    const answer = await api("POST", "/scans/image", { form });
    return answer.decoded ? answer.decoded.text : null;
  } catch (error) {
    if (error.code === "no_code_found") return null;
    throw error;
  }
}

// A scanner: camera (a frame every ~400 ms until a code is found), photo upload, typed text.
export function scanner(name, onText, extra = () => ({})) {
  const video = $(`${name}-video`);
  const button = $(`${name}-camera`);
  const text = $(`${name}-text`);
  let stream = null;
  let timer = null;
  const stop = () => {
    clearTimeout(timer);
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    video.hidden = true;
    button.textContent = t.start_camera;
  };
  const found = (value) => {
    stop();
    text.value = value;
    onText(value);
  };
  const tick = async () => {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth) {
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
      try {
        const value = await decode(blob, canvas, extra);
        if (value && stream) return found(value);
      } catch (error) {
        fail(error);
      }
    }
    if (stream) timer = setTimeout(tick, 400);
  };
  button.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (_) {
      return say(t.camera_unavailable);
    }
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    button.textContent = t.stop_camera;
    timer = setTimeout(tick, 400);
  });
  $(`${name}-photo`).addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    try {
      const value = await decode(file, null, extra);
      if (value) found(value);
      else say(t.no_code_found);
    } catch (error) {
      fail(error);
    }
    event.target.value = "";
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && text.value.trim()) {
      event.preventDefault();
      onText(text.value.trim());
    }
  });
  text.addEventListener("paste", () => setTimeout(() => text.value.trim() && onText(text.value.trim())));
  return { stop, text };
}
