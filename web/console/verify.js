// The audit trail checked in the browser, with WebCrypto only: each event's leaf is
// recomputed from its entry (SHA-256 of 0x00 ‖ entry, RFC 6962), each inclusion proof is
// folded up to the root (RFC 9162 §2.1.3.2) and compared with the signed tree head, and the
// head's Ed25519 signature is checked against the published audit key. A browser without
// Ed25519 in WebCrypto gets "signature not checked here" (and the offline command to use).
'use strict';

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (text) => new Uint8Array((text.match(/../g) || []).map((h) => parseInt(h, 16)));
const b64url = (text) => {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
};

async function sha256(parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { joined.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', joined));
}

const leafHash = (entry) => sha256([new Uint8Array([0]), new TextEncoder().encode(entry)]);
const nodeHash = (left, right) => sha256([new Uint8Array([1]), left, right]);

// RFC 9162 §2.1.3.2: the root that `proof` gives for leaf `index` of a tree of `size`.
async function rootFromProof(index, size, leaf, proof) {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

async function checkSignature(head, keys) {
  const jwk = (keys.keys || []).find((k) => k.kid === head.kid);
  if (!jwk) return { ok: false, problem: 'unknown_audit_key' };
  let key;
  try {
    key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    return { ok: null, problem: 'ed25519_unsupported' };
  }
  const message = headMessage(head);
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, b64url(head.signature), new TextEncoder().encode(message));
  return { ok, problem: ok ? null : 'bad_head_signature' };
}

// The bytes a head's signature covers: v2 names the log; heads signed before logs had ids are v1.
function headMessage(head) {
  const rest = `${head.tree_size}\n${head.root_hash}\n${head.signed_at_ms}\n`;
  return head.log_id ? `idgate-tree-head/v2\n${head.log_id}\n${rest}` : `idgate-tree-head/v1\n${rest}`;
}

// Checks a trail (`GET /v1/audit/verifications/{id}`) against the audit keys. Returns
// { verified: true|false|null, problems: [{seq, code}], checked: n, signature: 'ok'|... }.
export async function verifyTrail(trail, keys) {
  const head = trail.tree_head;
  const root = unhex(head.root_hash);
  const problems = [];
  // The signed message is rebuilt here from the head's fields, not taken from the server.
  const message = headMessage(head);
  if (head.signed_message !== message) problems.push({ seq: null, code: 'head_message_mismatch' });
  for (const event of trail.events) {
    const leaf = await leafHash(event.entry);
    if (hex(leaf) !== event.leaf_hash) problems.push({ seq: event.seq, code: 'entry_altered' });
    const proof = (event.inclusion_proof || []).map(unhex);
    const computed = await rootFromProof(event.seq, head.tree_size, leaf, proof);
    if (!computed || hex(computed) !== hex(root)) problems.push({ seq: event.seq, code: 'not_in_signed_tree' });
  }
  const signature = await checkSignature(head, keys);
  if (signature.ok === false) problems.push({ seq: null, code: signature.problem });
  const verified = problems.length > 0 ? false : (signature.ok === null ? null : true);
  return { verified, problems, checked: trail.events.length, signature: signature.problem || 'ok' };
}
