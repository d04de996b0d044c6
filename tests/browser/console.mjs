// Drives the reviewers' and auditors' console in Debian's Chromium.
// Usage: node console.mjs BASE SETUP_LINK EMAIL PASSWORD SECOND_EMAIL SECOND_PASSWORD SECOND_SECRET
//                         AUDITOR_EMAIL AUDITOR_PASSWORD AUDITOR_SECRET SHOTS_DIR
//                         ADMIN_EMAIL ADMIN_PASSWORD ADMIN_SECRET
// A reviewer sets up their account from the one-time link (password + authenticator), signs
// in, claims the first (highest-risk) case of the queue, sees its evidence and rejects it
// with a reason; then claims the next case, which a second reviewer's claim cannot take. An
// auditor opens the first case's trail and verifies it in the browser; the script then
// prints TAMPER and waits for a line on stdin (the test changes one byte of an entry in the
// database) and verifies again. Prints one JSON line per phase; exits non-zero on failure.
import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";
import { createInterface } from "node:readline";

const [base, setupLink, email, password, email2, password2, secret2, auditorEmail, auditorPassword, auditorSecret, shots,
  adminEmail, adminPassword, adminSecret] = process.argv.slice(2);

function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of text.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

// RFC 6238 (SHA-1, 6 digits, 30 s) at `now + offsetSeconds`: a code is accepted once, so a
// sign-in right after set-up uses the next step (within the server's one-step skew).
function totp(secret, offsetSeconds = 0) {
  const counter = Math.floor((Date.now() / 1000 + offsetSeconds) / 30);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", base32(secret)).update(msg).digest();
  const o = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const external = [];
const report = {};

async function session(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("blob:")) external.push(r.url()); });
  page.on("pageerror", (e) => { report[`${name}_page_error`] = String(e); });
  return page;
}

async function signIn(page, who, pass, secret, offset) {
  await page.goto(`${base}/console`);
  await page.waitForSelector("#view-sign-in:not([hidden])");
  await page.fill("#sign-in-form [name=email]", who);
  await page.fill("#sign-in-form [name=password]", pass);
  await page.fill("#sign-in-form [name=code]", totp(secret, offset));
  await page.click("#sign-in-form button[type=submit]");
  await page.waitForSelector("#nav:not([hidden])", { timeout: 30000 });
}

try {
  // 1. Set-up from the one-time link, then sign in.
  const reviewer = await session("reviewer");
  await reviewer.goto(setupLink);
  await reviewer.waitForSelector("#setup-secret:not(:empty)");
  const secret = (await reviewer.textContent("#setup-secret")).trim();
  await reviewer.screenshot({ path: `${shots}/console-1-setup.png`, fullPage: true });
  await reviewer.fill("#setup-form [name=password]", password);
  await reviewer.fill("#setup-form [name=code]", totp(secret));
  await reviewer.click("#setup-form button[type=submit]");
  await reviewer.waitForSelector("#view-sign-in:not([hidden])");
  report.setup_notice = await reviewer.textContent("#notice");
  // A wrong code is refused with a clear message.
  await reviewer.fill("#sign-in-form [name=email]", email);
  await reviewer.fill("#sign-in-form [name=password]", password);
  await reviewer.fill("#sign-in-form [name=code]", "000000");
  await reviewer.click("#sign-in-form button[type=submit]");
  await reviewer.waitForFunction(() => document.querySelector("#notice").textContent.includes("sign_in_failed"));
  report.wrong_code_notice = await reviewer.textContent("#notice");
  await signIn(reviewer, email, password, secret, 30);

  // 2. The queue, highest risk first; claim the first case and look at its evidence.
  await reviewer.waitForSelector("#queue tbody tr[data-case]");
  report.queue = await reviewer.$$eval("#queue tbody tr[data-case]", (rows) => rows.map((r) => r.dataset.case));
  await reviewer.screenshot({ path: `${shots}/console-2-queue.png`, fullPage: true });
  await reviewer.click("#queue tbody tr[data-case] button.claim");
  await reviewer.waitForSelector("#view-case:not([hidden])");
  await reviewer.waitForFunction(() => {
    const doc = document.querySelector("#case-document");
    const frames = [...document.querySelectorAll("#case-frames img")];
    return doc.naturalWidth > 0 && frames.length > 0 && frames.every((f) => f.naturalWidth > 0);
  }, null, { timeout: 120000 });
  report.case = {
    id: await reviewer.textContent("#case-id"),
    frames: await reviewer.$$eval("#case-frames figcaption", (c) => c.map((x) => x.textContent)),
    facts: await reviewer.textContent("#case-facts"),
    liveness: await reviewer.$$eval("#case-liveness li", (l) => l.map((x) => x.textContent)),
    signals: await reviewer.$$eval("#case-signals li", (l) => l.map((x) => x.textContent)),
    claims: await reviewer.textContent("#case-claims"),
  };
  await reviewer.screenshot({ path: `${shots}/console-3-case.png`, fullPage: true });

  // 3. Reject with a reason and a note.
  await reviewer.selectOption("#decision-form [name=decision]", "reject");
  await reviewer.selectOption("#decision-form [name=reason]", "laptop_farm");
  await reviewer.fill("#decision-form [name=note]", "Same device as two other applicants; North Korean phone.");
  await reviewer.click("#decision-form button[type=submit]");
  await reviewer.waitForFunction(() => document.querySelector("#notice").textContent.includes("rejected"));
  report.decided_notice = await reviewer.textContent("#notice");

  // 4. The reviewer takes the next case; a second reviewer's claim on it is refused.
  await reviewer.waitForSelector("#queue tbody tr[data-case] button.claim");
  report.next_case = await reviewer.$eval("#queue tbody tr[data-case]", (r) => r.dataset.case);
  await reviewer.click("#queue tbody tr[data-case] button.claim");
  await reviewer.waitForSelector("#view-case:not([hidden])");
  const second = await session("second");
  await signIn(second, email2, password2, secret2, 30);
  await second.waitForSelector("#queue tbody tr[data-case] button.claim");
  report.second_sees_claimed_by = await second.$eval("#queue tbody tr[data-case] td:nth-child(5)", (c) => c.textContent);
  await second.click("#queue tbody tr[data-case] button.claim");
  await second.waitForFunction(() => document.querySelector("#notice").textContent.includes("claimed_by_another"));
  report.second_claim_notice = await second.textContent("#notice");

  // 5. The auditor verifies the first case's trail in the browser.
  const auditor = await session("auditor");
  await signIn(auditor, auditorEmail, auditorPassword, auditorSecret, 30);
  await auditor.waitForSelector("#view-audit:not([hidden])");
  await auditor.fill("#audit-search [name=verification]", report.case.id);
  await auditor.click("#audit-search button[type=submit]");
  await auditor.waitForSelector("#trail:not([hidden])");
  await auditor.click("#verify-trail");
  await auditor.waitForFunction(() => document.querySelector("#verify-result").textContent.length > 0, null, { timeout: 60000 });
  report.verified = await auditor.textContent("#verify-result");
  report.audit_rows = await auditor.$$eval("#audit-events tbody tr", (r) => r.length);
  await auditor.screenshot({ path: `${shots}/console-4-audit-verified.png`, fullPage: true });
  console.log(JSON.stringify({ phase: "TAMPER" }));
  await nextLine();
  await auditor.click("#verify-trail");
  await auditor.waitForFunction(() => document.querySelector("#verify-result").textContent.includes("does not verify"), null, { timeout: 60000 });
  report.tampered = await auditor.textContent("#verify-result");
  await auditor.screenshot({ path: `${shots}/console-5-audit-tampered.png`, fullPage: true });

  // 6. An admin creates an API key (shown once) and revokes it.
  const admin = await session("admin");
  await signIn(admin, adminEmail, adminPassword, adminSecret, 30);
  await admin.click("#nav-admin");
  await admin.waitForSelector("#view-admin:not([hidden]) #keys tbody tr");
  const keysBefore = await admin.$$eval("#keys tbody tr", (r) => r.length);
  await admin.fill("#key-form [name=label]", "ATS integration");
  await admin.click("#key-form button[type=submit]");
  await admin.waitForFunction(() => document.querySelector("#admin-secret").textContent.includes("idg_"));
  report.new_key_notice = await admin.textContent("#admin-secret");
  report.keys_after_create = await admin.$$eval("#keys tbody tr", (r) => r.length) - keysBefore;
  const labelled = admin.locator("#keys tbody tr", { hasText: "ATS integration" });
  await labelled.locator("button").click();
  await admin.waitForFunction(() => [...document.querySelectorAll("#keys tbody tr")].some((r) => r.textContent.includes("ATS integration") && r.textContent.includes("revoked")));
  report.revoked_row = await labelled.textContent();
  await admin.screenshot({ path: `${shots}/console-6-admin.png`, fullPage: true });
  report.external_requests = external;
  console.log(JSON.stringify({ phase: "DONE", report }));
} catch (e) {
  console.log(JSON.stringify({ phase: "FAILED", error: String(e), report }));
  process.exitCode = 1;
} finally {
  lines.close();
  await browser.close();
}
