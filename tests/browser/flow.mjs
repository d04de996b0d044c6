// Walks the candidate flow in Debian's Chromium with a fake camera fed from a y4m file.
// Usage: node flow.mjs LINK DOCUMENT.jpg CAMERA.y4m SCREENSHOT_DIR VIEWPORT(phone|desktop)
// Prints one JSON line; exits non-zero with the reason when a step fails.
import { chromium } from "playwright-core";

const [link, documentPath, y4m, shots, viewport] = process.argv.slice(2);
const size = viewport === "phone" ? { width: 390, height: 844 } : { width: 1280, height: 900 };
const external = [];

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    `--use-file-for-fake-video-capture=${y4m}`,
  ],
});
let readability = null;
const deviceReports = [];
try {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  const origin = new URL(link).origin;
  page.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) external.push(r.url()); });
  page.on("request", (r) => {
    if (r.url() === `${origin}/v1/candidate/device` && r.method() === "POST") deviceReports.push(JSON.parse(r.postData()));
  });
  const shot = (name) => page.screenshot({ path: `${shots}/${viewport}-${name}.png`, fullPage: true });
  const visible = (id) => page.waitForSelector(`#${id}:not([hidden])`, { timeout: 60000 });

  await page.goto(link);
  await visible("step-intro");
  await shot("1-intro");
  await page.keyboard.press("Tab");
  await page.click("#intro-start");
  await visible("step-consent");
  await shot("2-consent");
  await page.click("#consent-accept");
  await visible("step-document");
  await shot("3-document");
  await page.setInputFiles("#document-file", documentPath);
  // The server says whether the photo looks readable; when it does not, the page offers a
  // retake, and the test keeps the photo (the pipeline decides).
  const next = await page.waitForSelector("#document-skip-back:not([hidden]), #document-keep:not([hidden])", { timeout: 60000 });
  readability = (await next.getAttribute("id")) === "document-keep" ? await page.textContent("#document-hint") : "readable";
  if (readability !== "readable") {
    await shot("3b-document-retake");
    await page.click("#document-keep");
    await visible("document-skip-back");
  }
  await shot("4-document-back");
  await page.click("#document-skip-back");
  await visible("step-selfie");
  await page.click("#selfie-start");
  await page.waitForFunction(() => {
    const text = document.getElementById("instruction").textContent;
    return text && !text.includes("…") && text.length > 3;
  }, null, { timeout: 20000 });
  await shot("5-challenge");
  await visible("step-done");
  await shot("6-done");

  // The link again, in a fresh browser profile: it was spent, the page says so.
  const again = await (await browser.newContext({ viewport: size })).newPage();
  await again.goto(link);
  await again.waitForSelector("#error:not([hidden])", { timeout: 20000 });
  const message = await again.textContent("#error");
  await again.screenshot({ path: `${shots}/${viewport}-7-link-used.png`, fullPage: true });
  console.log(JSON.stringify({ ok: true, external_requests: external, reused_link_message: message, readability, device_reports: deviceReports }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error), external_requests: external }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
