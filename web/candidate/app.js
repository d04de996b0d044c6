// The candidate's page: consent, document photo, video selfie with the session's challenge.
// Plain JavaScript, no dependency, no request anywhere but this server. All text comes from
// messages.en.json (one file to translate).
"use strict";

const $ = (id) => document.getElementById(id);
const link = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const stored = "idgate-token:" + link.slice(0, 16);
let token = sessionStorage.getItem(stored) || link;
let messages = {};
let session = null;

const t = (key) => messages[key] || key;

function show(step) {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== "step-" + step;
  $("error").hidden = true;
  const heading = document.querySelector("#step-" + step + " h1");
  if (heading) { heading.tabIndex = -1; heading.focus(); }
}

function fail(key, detail) {
  $("error").textContent = t(key) + (detail ? detail : "");
  $("error").hidden = false;
}

function keep(next) {
  token = next;
  sessionStorage.setItem(stored, next);
}

async function api(method, path, body, headers) {
  const response = await fetch(path, {
    method,
    headers: Object.assign({ Authorization: "Bearer " + token }, headers || {}),
    body,
  });
  const json = await response.json().catch(() => ({}));
  if (response.status === 401) throw Object.assign(new Error("link"), { key: "error.link_expired" });
  if (!response.ok) throw Object.assign(new Error(json.code || "error"), { problem: json });
  return json;
}

function explain(error) {
  if (error.key) return fail(error.key);
  const p = error.problem || {};
  if (p.status === 422) return fail("error.bad_photo", p.detail || p.title || p.code);
  fail("error.generic", p.detail || p.title || error.message);
}

async function start() {
  messages = await (await fetch("/c/assets/messages.en.json")).json();
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  try {
    session = await api("GET", "/v1/candidate/session");
  } catch (e) {
    return explain(e);
  }
  $("consent-version").textContent = session.consent_version;
  const next = session.next_step;
  if (next === null) { show("done"); return fail("error.already_done"); }
  if (next === "consent") return show("intro");
  sendDevice();
  if (next === "upload_document") return show("document");
  if (next === "upload_selfie") return show("selfie");
  if (next === "submit") return submit();
}

$("intro-start").onclick = () => show("consent");

// --- Device report (after consent only; the consent text says what and why) -----------------
// What this browser says about its machine, for the fraud signals: nothing is read that a
// page could not read anyway, and nothing goes anywhere but this server.
function webgl() {
  try {
    const gl = document.createElement("canvas").getContext("webgl");
    if (!gl) return undefined;
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    return {
      vendor: String(gl.getParameter(ext ? ext.UNMASKED_VENDOR_WEBGL : gl.VENDOR)).slice(0, 256),
      renderer: String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER)).slice(0, 256),
    };
  } catch (e) { return undefined; }
}

async function mediaCounts() {
  try {
    const devices = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: devices.filter((d) => d.kind === "videoinput").length,
      microphones: devices.filter((d) => d.kind === "audioinput").length,
    };
  } catch (e) { return undefined; }
}

async function deviceReport() {
  const n = navigator;
  const report = {
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    utc_offset_minutes: -new Date().getTimezoneOffset(),
    languages: Array.from(n.languages || [n.language]).filter(Boolean).slice(0, 16),
    screen: { width: screen.width, height: screen.height, colour_depth: screen.colorDepth },
    hardware_concurrency: n.hardwareConcurrency,
    device_memory_gb: n.deviceMemory,
    platform: n.platform,
    touch_points: n.maxTouchPoints,
    webdriver: n.webdriver === true,
    media_devices: await mediaCounts(),
    webgl: webgl(),
  };
  return JSON.parse(JSON.stringify(report)); // drops what this browser does not have
}

let deviceSent = false;
// Sent before the next step starts (a step spends the token this uses), within 3 s at most;
// a refused attempt is tried once more with the token current then. The flow never waits
// longer and never fails for it: the report is one signal among many.
async function sendDevice() {
  if (deviceSent) return;
  deviceSent = true;
  const limit = new Promise((resolve) => setTimeout(resolve, 3000, null));
  const report = await Promise.race([deviceReport().catch(() => null), limit]);
  if (!report) return;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await api("POST", "/v1/candidate/device", JSON.stringify(report), { "Content-Type": "application/json" });
      return;
    } catch (e) { /* tried again once, then given up */ }
  }
}

$("consent-accept").onclick = async () => {
  try {
    const r = await api("POST", "/v1/candidate/consent",
      JSON.stringify({ consent_version: session.consent_version, accepted: true }),
      { "Content-Type": "application/json" });
    keep(r.token);
    await sendDevice();
    show("document");
  } catch (e) { explain(e); }
};

// --- Document -------------------------------------------------------------------------------
let side = "front";
let documentStream = null;

async function camera(constraints) {
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (e) {
    if (e.name === "NotAllowedError" || e.name === "SecurityError") fail("error.camera_refused");
    else if (e.name === "NotFoundError" || e.name === "OverconstrainedError") fail("error.no_camera");
    else fail("error.generic", e.message);
    return null;
  }
}

$("document-camera").onclick = async () => {
  documentStream = await camera({ video: { facingMode: "environment", width: { ideal: 1920 } } });
  if (!documentStream) return;
  $("document-video").srcObject = documentStream;
  await $("document-video").play();
  $("document-viewer").hidden = false;
  $("document-capture").hidden = false;
};

$("document-capture").onclick = () => {
  const video = $("document-video");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => sendDocument(blob), "image/jpeg", 0.92);
};

$("document-file").onchange = (event) => {
  const file = event.target.files[0];
  if (file) sendDocument(file);
};

async function sendDocument(blob) {
  $("document-hint").textContent = t("document.checking");
  $("document-retake").hidden = true;
  $("document-keep").hidden = true;
  try {
    const r = await api("PUT", "/v1/candidate/document/" + side, blob, { "Content-Type": blob.type || "image/jpeg" });
    keep(r.token);
    if (documentStream) documentStream.getTracks().forEach((track) => track.stop());
    $("document-viewer").hidden = true;
    $("document-capture").hidden = true;
    const issues = (r.readability && r.readability.issues) || [];
    if (issues.length) {
      // Stored, but probably unreadable: offer a retake before moving on.
      $("document-hint").textContent = t("readability.intro") + " " + issues.map((i) => t("readability." + i)).join("; ") + ".";
      $("document-retake").hidden = false;
      $("document-keep").hidden = false;
      $("document-file").value = "";
      return;
    }
    nextDocumentSide();
  } catch (e) {
    $("document-hint").textContent = t(side === "front" ? "document.hint" : "document.back.hint");
    explain(e);
  }
}

$("document-retake").onclick = () => {
  $("document-retake").hidden = true;
  $("document-keep").hidden = true;
  $("document-hint").textContent = t(side === "front" ? "document.hint" : "document.back.hint");
};
$("document-keep").onclick = () => {
  $("document-retake").hidden = true;
  $("document-keep").hidden = true;
  nextDocumentSide();
};

function nextDocumentSide() {
  {
    if (side === "front") {
      side = "back";
      $("document-heading").textContent = t("document.back.heading");
      $("document-hint").textContent = t("document.back.hint");
      $("document-skip-back").hidden = false;
      $("document-file").value = "";
    } else {
      show("selfie");
    }
  }
}

$("document-skip-back").onclick = () => show("selfie");

// --- Selfie ---------------------------------------------------------------------------------
const HOLD_MS = 1000;
const STEP_MS = 2500;
let recording = null;

function brightness(video, canvas) {
  canvas.width = 32;
  canvas.height = 24;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.drawImage(video, 0, 0, 32, 24);
  const d = g.getImageData(0, 0, 32, 24).data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
  return sum / (d.length / 4);
}

$("selfie-start").onclick = async () => {
  $("selfie-start").disabled = true;
  let challenge;
  try {
    challenge = await api("POST", "/v1/candidate/challenge");
  } catch (e) {
    $("selfie-start").disabled = false;
    return explain(e);
  }
  const stream = await camera({ video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false });
  if (!stream) { $("selfie-start").disabled = false; return; }
  $("selfie-start").hidden = true;
  const video = $("selfie-video");
  video.srcObject = stream;
  await video.play();
  const track = stream.getVideoTracks()[0];
  const intervals = [];
  let last = null;
  const probe = document.createElement("canvas");
  const tick = (now) => {
    if (last !== null) intervals.push(now - last);
    last = now;
    if (recording) video.requestVideoFrameCallback(tick);
  };
  // Live guidance: a small frame to the server about once a second (nothing is stored).
  const guide = setInterval(() => {
    if (brightness(video, probe) < 60) { $("feedback").textContent = t("feedback.more_light"); return; }
    probe.width = 320;
    probe.height = Math.round((320 * video.videoHeight) / Math.max(1, video.videoWidth));
    probe.getContext("2d").drawImage(video, 0, 0, probe.width, probe.height);
    probe.toBlob(async (frame) => {
      try {
        const r = await api("POST", "/v1/candidate/preview", frame, { "Content-Type": "image/jpeg" });
        $("feedback").textContent = r.feedback.map((f) => t("feedback." + f)).join(" · ");
      } catch (e) { /* guidance is best effort */ }
    }, "image/jpeg", 0.7);
  }, 1000);
  const mime = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"].find((m) => MediaRecorder.isTypeSupported(m));
  const chunks = [];
  const recorder = new MediaRecorder(stream, { mimeType: mime, videoBitsPerSecond: 2500000 });
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  // A drawn challenge says when to prompt each step (its step must start soon after);
  // a fixed one is prompted every STEP_MS.
  const prompts = challenge.timing ? challenge.timing.prompts_ms : challenge.steps.map((_, i) => HOLD_MS + STEP_MS * i);
  const end = challenge.timing ? prompts[prompts.length - 1] + challenge.timing.window_ms : HOLD_MS + STEP_MS * challenge.steps.length;
  const total = Math.min(challenge.max_seconds * 1000, Math.max(challenge.min_seconds * 1000, end));
  recording = true;
  video.requestVideoFrameCallback(tick);
  recorder.start(500);
  $("instruction").textContent = t("selfie.hold");
  challenge.steps.forEach((action, i) => {
    setTimeout(() => { $("instruction").textContent = t("action." + action); }, prompts[i]);
  });
  await new Promise((resolve) => setTimeout(resolve, total));
  recorder.stop();
  await new Promise((resolve) => { recorder.onstop = resolve; });
  recording = false;
  clearInterval(guide);
  $("feedback").textContent = "";
  track.stop();
  $("instruction").textContent = t("selfie.done");
  const mean = intervals.reduce((a, b) => a + b, 0) / Math.max(1, intervals.length);
  const variance = intervals.reduce((a, b) => a + (b - mean) * (b - mean), 0) / Math.max(1, intervals.length);
  const capture = {
    camera_label: track.label || null,
    frames: intervals.length + 1,
    interval_mean_ms: mean,
    interval_stddev_ms: Math.sqrt(variance),
  };
  upload(new Blob(chunks, { type: "video/webm" }), challenge.challenge_id, capture);
};

function upload(blob, challengeId, capture) {
  show("upload");
  $("upload-retry").hidden = true;
  const xhr = new XMLHttpRequest();
  xhr.open("PUT", "/v1/candidate/selfie?challenge_id=" + encodeURIComponent(challengeId));
  xhr.setRequestHeader("Authorization", "Bearer " + token);
  xhr.setRequestHeader("Content-Type", "video/webm");
  xhr.setRequestHeader("Idgate-Capture", JSON.stringify(capture));
  xhr.upload.onprogress = (event) => {
    if (event.lengthComputable) $("upload-progress").value = Math.round((100 * event.loaded) / event.total);
  };
  const retry = () => {
    fail("error.upload_failed");
    $("upload-retry").hidden = false;
    $("upload-retry").onclick = () => upload(blob, challengeId, capture);
  };
  xhr.onerror = retry;
  xhr.onload = () => {
    const body = JSON.parse(xhr.responseText || "{}");
    if (xhr.status === 200) { keep(body.token); return submit(); }
    if (xhr.status === 401) return fail("error.link_expired");
    if (xhr.status >= 500) return retry();
    explain({ problem: body });
  };
  xhr.send(blob);
}

async function submit() {
  try {
    const r = await api("POST", "/v1/candidate/submit");
    keep(r.token);
    show("done");
  } catch (e) { explain(e); }
}

start();
