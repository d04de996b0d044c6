// The reviewers' and auditors' console: sign-in (password + authenticator code), set-up
// from a one-time link, the review queue, a claimed case with its evidence and the
// decision form, and the audit log with its in-browser verification. It calls the same
// API as an API key, with the session cookie and the CSRF token; its words are in
// messages.en.json. Nothing is cached: media come as blobs, shown and dropped.
import { verifyTrail } from './verify.js';

let M = {};
let me = null;
const $ = (sel) => document.querySelector(sel);
const say = (key, vars = {}) => String(M[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? '');

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function show(view) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== `view-${view}`;
  $('#nav').hidden = !me;
  if (me) {
    $('#nav-queue').hidden = me.role === 'auditor';
    $('#nav-audit').hidden = me.role === 'reviewer';
    $('#nav-admin').hidden = me.role !== 'admin';
  }
}

function notice(text) { $('#notice').textContent = text || ''; }

class Problem extends Error {
  constructor(body, status) { super(body.title || String(status)); this.body = body; this.status = status; }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && me) headers['X-CSRF-Token'] = me.csrf;
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Problem(data, resp.status);
  return data;
}

function failed(e) {
  const b = e.body || {};
  notice(say('error', { title: b.detail || b.title || e.message, code: b.code || e.status || '' }));
}

// ---- accounts --------------------------------------------------------------------------

async function start() {
  M = await (await fetch('/console/assets/messages.en.json', { cache: 'no-store' })).json();
  for (const node of document.querySelectorAll('[data-msg]')) node.textContent = say(node.dataset.msg);
  const setup = new URLSearchParams(location.hash.slice(1)).get('setup');
  if (setup) return startSetup(setup);
  try { me = await api('GET', '/console/api/me'); } catch (e) { me = null; }
  if (!me) return show('sign-in');
  $('#who').textContent = say('signed_in_as', { email: me.email, role: me.role });
  return me.role === 'auditor' ? openAudit() : openQueue();
}

async function startSetup(token) {
  show('setup');
  try {
    const enrol = await api('POST', '/console/api/setup/start', { token });
    $('#setup-email').textContent = enrol.email;
    $('#setup-secret').textContent = enrol.totp_secret;
    $('#setup-url').textContent = enrol.otpauth_url;
  } catch (e) { return failed(e); }
  $('#setup-form').onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    try {
      await api('POST', '/console/api/setup/finish', { token, password: f.get('password'), code: f.get('code') });
      history.replaceState(null, '', '/console');
      show('sign-in');
      notice(say('setup_done'));
    } catch (e) { failed(e); }
  };
}

$('#sign-in-form').onsubmit = async (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    await api('POST', '/console/api/sign-in', { email: f.get('email'), password: f.get('password'), code: f.get('code') });
    ev.target.reset();
    notice('');
    await start();
  } catch (e) { failed(e); }
};

$('#sign-out').onclick = async () => {
  try { await api('POST', '/console/api/sign-out'); } finally { me = null; show('sign-in'); }
};
$('#nav-queue').onclick = () => openQueue();
$('#nav-audit').onclick = () => openAudit();
$('#nav-admin').onclick = () => openAdmin();

// ---- users and keys (admins) -----------------------------------------------------------

function actionButton(label, onclick) {
  const b = el('button', say(label), { type: 'button' });
  b.onclick = onclick;
  return b;
}

async function openAdmin() {
  show('admin');
  let users, keys;
  try { [users, keys] = await Promise.all([api('GET', '/v1/admin/users'), api('GET', '/v1/admin/api-keys')]); } catch (e) { return failed(e); }
  const ub = $('#users tbody');
  ub.replaceChildren();
  for (const u of users.items) {
    const state = u.disabled ? say('state_disabled') : !u.set_up ? say('state_pending')
      : u.locked_until && new Date(u.locked_until) > new Date() ? say('state_locked', { at: u.locked_until }) : say('state_active');
    const row = el('tr');
    row.append(el('td', u.email), el('td', u.role), el('td', state));
    const cell = el('td');
    if (!u.disabled && u.id !== me.user) cell.append(actionButton('disable', () => act('DELETE', `/v1/admin/users/${u.id}`)));
    row.append(cell);
    ub.append(row);
  }
  const kb = $('#keys tbody');
  kb.replaceChildren();
  for (const k of keys.items) {
    const state = k.revoked_at ? say('state_revoked', { at: k.revoked_at }) : k.expires_at ? say('state_expires', { at: k.expires_at }) : say('state_active');
    const row = el('tr');
    row.append(el('td', k.prefix), el('td', k.role), el('td', k.label || ''), el('td', state));
    const cell = el('td');
    if (!k.revoked_at) cell.append(actionButton('revoke', () => act('DELETE', `/v1/admin/api-keys/${k.prefix}`)));
    row.append(cell);
    kb.append(row);
  }
}

async function act(method, path, body, shown) {
  try {
    const out = await api(method, path, body);
    await openAdmin();
    $('#admin-secret').textContent = shown ? shown(out) : '';
  } catch (e) { failed(e); }
}

$('#user-form').onsubmit = (ev) => {
  ev.preventDefault();
  const f = Object.fromEntries(new FormData(ev.target));
  ev.target.reset();
  act('POST', '/v1/admin/users', f, (out) => say('new_user_link', { link: out.setup_link }));
};
$('#key-form').onsubmit = (ev) => {
  ev.preventDefault();
  const f = Object.fromEntries(new FormData(ev.target));
  const body = { role: f.role };
  if (f.label) body.label = f.label;
  if (f.expires_in_days) body.expires_in_days = Number(f.expires_in_days);
  ev.target.reset();
  act('POST', '/v1/admin/api-keys', body, (out) => say('new_key', { key: out.key }));
};
$('#rotate-secret').onclick = () => act('POST', '/v1/admin/webhook-secret', undefined, (out) => say('new_secret', { secret: out.webhook_secret }));

// ---- the review queue ------------------------------------------------------------------

async function openQueue(filter = {}) {
  show('queue');
  const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
  let queue;
  try { queue = await api('GET', `/v1/review-queue?${params}`); } catch (e) { return failed(e); }
  const body = $('#queue tbody');
  body.replaceChildren();
  if (queue.items.length === 0) body.append(el('tr')).lastChild.append(el('td', say('queue_empty'), { colspan: '6' }));
  for (const item of queue.items) {
    const row = el('tr', null, { 'data-case': item.id });
    row.append(el('td', `${item.risk_score ?? '–'} ${item.risk_band ?? ''}`, { class: `band-${item.risk_band}` }));
    row.append(el('td', `${item.external_id} (${item.status})`));
    row.append(el('td', [...item.signals, ...item.reasons.filter((r) => !item.signals.includes(r))].join(', ')));
    row.append(el('td', new Date(item.waiting_since).toLocaleString()));
    row.append(el('td', item.claimed_by || ''));
    const action = el('td');
    const mine = me && item.claimed_by && item.claimed_by.endsWith(me.user);
    const button = el('button', say(mine ? 'open' : 'claim'), { type: 'button', class: 'claim' });
    button.onclick = () => claim(item.id);
    action.append(button);
    row.append(action);
    body.append(row);
  }
}

$('#queue-filter').onsubmit = (ev) => {
  ev.preventDefault();
  openQueue(Object.fromEntries(new FormData(ev.target)));
};

async function claim(id) {
  try { await api('POST', `/v1/verifications/${id}/claim`); } catch (e) { return failed(e); }
  notice('');
  return openCase(id);
}

// ---- one case --------------------------------------------------------------------------

async function imageInto(img, path) {
  const resp = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
  if (!resp.ok) { img.alt = String(resp.status); return; }
  const url = URL.createObjectURL(await resp.blob());
  img.onload = () => URL.revokeObjectURL(url);
  img.src = url;
}

function dl(target, pairs) {
  target.replaceChildren();
  for (const [k, v] of pairs) { target.append(el('dt', k)); target.append(el('dd', v)); }
}

function list(target, items, empty) {
  target.replaceChildren();
  if (items.length === 0 && empty) target.append(el('li', empty));
  for (const item of items) target.append(el('li', item));
}

async function openCase(id) {
  show('case');
  $('#case-id').textContent = id;
  let v, claims, reviews, frames;
  try {
    [v, claims, reviews, frames] = await Promise.all([
      api('GET', `/v1/verifications/${id}`), api('GET', `/v1/verifications/${id}/claims`),
      api('GET', `/v1/verifications/${id}/reviews`), api('GET', `/v1/verifications/${id}/frames`),
    ]);
  } catch (e) { return failed(e); }
  await imageInto($('#case-document'), `/v1/verifications/${id}/media/document_front`);
  const strip = $('#case-frames');
  strip.replaceChildren();
  for (const frame of frames.frames) {
    const fig = el('figure');
    const img = el('img', null, { alt: '', class: 'key-frame' });
    fig.append(img, el('figcaption', say('key_frame', { at: Math.round(frame.at_ms), what: frame.label === 'best_face' ? say('best_frame') : frame.label })));
    strip.append(fig);
    await imageInto(img, `/v1/verifications/${id}/frames/${frame.index}`);
  }
  const face = v.results.face_match || {};
  dl($('#case-facts'), [
    [say('facts_status'), v.status], [say('facts_external'), v.external_id],
    [say('facts_similarity'), face.similarity === undefined ? '–' : `${face.similarity.toFixed(3)} (${say('facts_threshold', { threshold: face.threshold ?? '' })})`],
    [say('facts_risk'), v.risk ? `${v.risk.score} ${v.risk.band}` : '–'],
    [say('facts_reasons'), v.reasons.join(', ')],
  ]);
  dl($('#case-claims'), Object.entries(claims).filter(([, x]) => typeof x !== 'object').map(([k, x]) => [k, x]));
  const live = v.results.liveness;
  const steps = live && live.challenge ? live.challenge.steps : [];
  list($('#case-liveness'), steps.map((s) => say('liveness_step', { n: s.step, action: s.action, outcome: s.outcome, from: Math.round(s.from_ms ?? 0), to: Math.round(s.to_ms ?? 0) })), say('liveness_absent'));
  const doc = v.results.document || {};
  const fields = ['document_kind', 'issuing_state', 'nationality', 'source', 'expiry'].filter((k) => doc[k]).map((k) => `${k}: ${doc[k]}`);
  list($('#case-findings'), [...fields, ...(doc.findings || []).map((f) => `${f.code} (${f.severity})`)], doc.outcome === 'refused' ? doc.code : '');
  const signals = v.risk ? v.risk.signals : [];
  list($('#case-signals'), signals.map((s) => `${s.code} (${s.weight}): ${JSON.stringify(s.evidence)}`));
  const linked = new Set();
  for (const s of signals) for (const x of JSON.stringify(s.evidence).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) || []) if (x !== id) linked.add(x);
  list($('#case-linked'), [...linked], say('linked_none'));
  list($('#case-reviews'), reviews.reviews.map((r) => `${r.at} ${r.reviewer}: ${r.decision} (${r.reason}, ${r.state}): ${r.note}`), say('reviews_none'));
  fillReasons();
  $('#decision-form').onsubmit = (ev) => decide(ev, id);
  $('#release').onclick = async () => {
    try { await api('DELETE', `/v1/verifications/${id}/claim`); openQueue(); } catch (e) { failed(e); }
  };
}

function fillReasons() {
  const form = $('#decision-form');
  const select = form.elements.reason;
  select.replaceChildren(...M.reasons_by_decision[form.elements.decision.value].map((code) => el('option', M.reasons[code] || code, { value: code })));
}
$('#decision-form').elements.decision.onchange = fillReasons;

async function decide(ev, id) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  try {
    const done = await api('POST', `/v1/verifications/${id}/review`, { decision: f.get('decision'), reason: f.get('reason'), note: f.get('note') });
    ev.target.reset();
    await openQueue();
    notice(done.state === 'final' ? say('decided_final', { status: done.status }) + (done.candidate_url ? ' ' + say('retake_link', { url: done.candidate_url }) : '') : say('decided_pending'));
  } catch (e) { failed(e); }
}

// ---- the audit log ---------------------------------------------------------------------

async function openAudit(query = {}) {
  show('audit');
  const params = new URLSearchParams({ limit: '200' });
  if (query.external_id && !query.verification) {
    try {
      const found = await api('GET', `/v1/verifications?external_id=${encodeURIComponent(query.external_id)}&limit=1`);
      if (found.items[0]) query.verification = found.items[0].id;
    } catch (e) { return failed(e); }
  }
  if (query.verification) params.set('verification', query.verification);
  if (query.kind) params.set('kind', query.kind);
  if (query.decision) params.set('decision', query.decision);
  if (query.actor) params.set('actor', query.actor);
  if (query.from) params.set('from', `${query.from}T00:00:00Z`);
  if (query.to) params.set('to', `${query.to}T00:00:00Z`);
  let page;
  try { page = await api('GET', `/v1/audit/events?${params}`); } catch (e) { return failed(e); }
  const body = $('#audit-events tbody');
  body.replaceChildren();
  for (const event of page.events) {
    const entry = JSON.parse(event.entry);
    const row = el('tr');
    row.append(el('td', event.seq), el('td', event.at), el('td', event.kind), el('td', entry.actor.key_prefix || entry.actor.user || entry.actor.component || entry.actor.type));
    const cell = el('td');
    if (event.verification_id) {
      const open = el('button', event.verification_id, { type: 'button', class: 'open-trail' });
      open.onclick = () => openTrail(event.verification_id);
      cell.append(open);
    }
    row.append(cell);
    body.append(row);
  }
  if (query.verification) openTrail(query.verification);
}

$('#audit-search').onsubmit = (ev) => {
  ev.preventDefault();
  openAudit(Object.fromEntries([...new FormData(ev.target)].filter(([, v]) => v)));
};

function openTrail(id) {
  $('#trail').hidden = false;
  $('#trail-id').textContent = id;
  $('#verify-result').textContent = '';
  $('#verify-result').className = '';
  $('#export-link').href = `/v1/audit/evidence?verification=${id}`;
  $('#verify-trail').onclick = async () => {
    const out = $('#verify-result');
    try {
      const [trail, keys] = await Promise.all([api('GET', `/v1/audit/verifications/${id}`), api('GET', '/.well-known/audit-keys.json')]);
      const result = await verifyTrail(trail, keys);
      if (result.verified === true) { out.className = 'ok'; out.textContent = say('verified', { n: result.checked, kid: trail.tree_head.kid }); }
      else if (result.verified === null) { out.className = 'ok'; out.textContent = say('signature_unchecked'); }
      else { out.className = 'bad'; out.textContent = say('does_not_verify', { problems: result.problems.map((p) => (p.seq === null ? p.code : `#${p.seq} ${p.code}`)).join(', ') }); }
    } catch (e) { failed(e); }
  };
}

start();
