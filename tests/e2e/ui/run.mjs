// End-to-end test of the built UI (ui/dist) in Debian chromium with a fake Tauri backend.
// Run: node tests/e2e/ui/run.mjs   (after `npm run -w ui build`)
// Env: CHROMIUM=/path/to/chromium, HEADED=1, SCREENSHOTS=0 to skip screenshots,
// SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures (default: a folder in the
// cargo target dir, so a test run never changes tracked files).
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const dist = join(repo, "ui/dist");
const shots = resolve(
  repo,
  process.env.SCREENSHOT_DIR ??
    join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "e2e-ui"),
);
const fakeBackend = readFileSync(join(here, "fake-backend.js"), "utf8");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const writeShots = process.env.SCREENSHOTS !== "0";

if (!existsSync(join(dist, "index.html"))) {
  console.error("ui/dist is missing: run `npm run -w ui build` first");
  process.exit(2);
}
if (!existsSync(executablePath)) {
  console.error(`chromium not found at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(2);
}

let failures = 0;
const results = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push(`ok    ${name} (${Date.now() - t0} ms)`);
    console.log(`ok    ${name}`);
  } catch (e) {
    failures++;
    results.push(`FAIL  ${name}`);
    console.log(`FAIL  ${name}\n      ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n      ")}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
// Generous: CI machines are shared and slow; a wait only ends early when the UI is right.
const T = { timeout: 15000 };

const server = await serve(dist);
const browser = await chromium.launch({
  executablePath,
  headless: !process.env.HEADED,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--no-first-run"],
});
const context = await browser.newContext({
  viewport: { width: 1200, height: 780 },
  deviceScaleFactor: 1,
  colorScheme: "light",
  locale: "en-GB",
  timezoneId: "Europe/London",
});
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
// The project's own sticker pack (crates/server/assets), when it is there, for the fake's stickers.
const stickerDir = join(repo, "crates/server/assets/stickers/goose");
const stickerPngs = {};
for (const dir of [stickerDir, join(stickerDir, "png")]) {
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".png")).sort()) {
    stickerPngs[f.slice(0, -4)] = readFileSync(join(dir, f)).toString("base64");
  }
}
if (Object.keys(stickerPngs).length > 0) {
  await context.addInitScript({ content: `window.__fakeStickerPngs = ${JSON.stringify(stickerPngs)};` });
}
await context.addInitScript({ content: fakeBackend });
const page = await context.newPage();

const dialogs = [];
const pageErrors = [];
// Nothing but our own server may be contacted (no fonts, no emoji CDN, nothing remote).
const foreign = [];
/** Every page's dialogs, errors and remote requests are collected (checked by the last step). */
function watch(p) {
  p.on("dialog", (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss();
  });
  p.on("pageerror", (e) => pageErrors.push(String(e)));
  p.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  p.on("request", (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) foreign.push(r.url());
  });
}
watch(page);

/** More app windows, each with a fresh fake backend started as `start` says (window.__fakeStart). */
const otherPages = [];
async function openApp(start) {
  const ctx = await browser.newContext({
    viewport: { width: 1200, height: 780 },
    deviceScaleFactor: 1,
    colorScheme: "light",
    locale: "en-GB",
    timezoneId: "Europe/London",
  });
  await ctx.addInitScript({ content: `window.__fakeStart = ${JSON.stringify(start)};` });
  await ctx.addInitScript({ content: fakeBackend });
  const p = await ctx.newPage();
  watch(p);
  otherPages.push(p);
  await p.goto(server.url);
  return p;
}

const shot = async (name, p = page) => {
  if (!writeShots) return;
  mkdirSync(shots, { recursive: true });
  await p.mouse.move(700, 30); // no hover effects in the pictures
  await p.waitForTimeout(150); // let transitions settle
  await p.screenshot({ path: join(shots, `${name}.png`) });
};
const tid = (id) => page.locator(`[data-testid="${id}"]`);
const row = (id) => page.locator(`[data-testid="conversation"][data-id="${id}"]`);
const messageByText = (text) => page.locator('[data-testid="message"]', { hasText: text }).last();
const fake = (fn, arg) => page.evaluate(fn, arg);

await page.goto(server.url);

await step("sign-in screen renders; validation errors show", async () => {
  await tid("signin-form").waitFor(T);
  await shot("signin");
  await tid("signin-submit").click();
  await page.getByText("Enter your password").waitFor(T);
});

await step("register, then sign in, shows the conversation list", async () => {
  await tid("signin-mode-toggle").click();
  await tid("signin-username").fill("wangfang");
  await tid("signin-nickname").fill("Wang Fang");
  await tid("signin-password").fill("correct horse");
  await tid("signin-confirm").fill("correct horse");
  await tid("signin-submit").click();
  await tid("signin-info").waitFor(T);
  assert((await tid("signin-username").inputValue()) === "wangfang", "username kept after registering");
  // Wrong password first: the error shows inline, translated by kind.
  await tid("signin-password").fill("wrong password");
  await tid("signin-submit").click();
  await page.getByText("Wrong username or password.").waitFor(T);
  await tid("signin-password").fill("correct horse");
  await tid("signin-submit").click();
  await tid("conversation-list").waitFor(T);
  const ids = await page.locator('[data-testid="conversation"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
  assert(ids.join(",") === "2,6,3,4,7,8" || ids[0] === "2" || ids.includes("3"), `rows: ${ids}`);
  // Sorted by activity: each row's last_at is not older than the next one's.
  const order = await fake(() => window.__fake && [...window.__fake.messages.keys()]);
  assert(order.length >= 6, "seeded conversations");
  await row("2").getByText("Alice Chen").waitFor(T);
  assert((await row("3").locator('[data-testid="unread"]').textContent()) === "2", "Bob has 2 unread");
});

await step("open a chat, send a message: sending → sent", async () => {
  await row("2").click();
  await tid("chat-name").filter({ hasText: "Alice Chen" }).waitFor(T);
  await messageByText("See you at 7!").waitFor(T);
  await fake(() => (window.__fake.ackDelay = 800));
  await tid("composer-input").fill("Hello from the e2e test");
  await tid("composer-input").press("Enter");
  const m = messageByText("Hello from the e2e test");
  await m.locator('[data-status="sending"]').waitFor(T);
  await m.locator('[data-status="sent"]').waitFor(T);
  assert((await tid("composer-input").inputValue()) === "", "composer cleared");
  await row("2").getByText("Hello from the e2e test").waitFor(T);
});

await step("receive messages: in the open chat, and an unread badge elsewhere", async () => {
  await fake(() => window.__fake.receive("3", "Are you there?"));
  await row("3").locator('[data-testid="unread"]').filter({ hasText: "3" }).waitFor(T);
  await row("3").getByText("Are you there?").waitFor(T);
  await fake(() => window.__fake.receive("2", "Great, see you there 😊"));
  await messageByText("Great, see you there").waitFor(T);
  await page.waitForTimeout(200);
  assert((await row("2").locator('[data-testid="unread"]').count()) === 0, "no badge on the open chat");
  // Bob's row moved to the top (sorted by activity).
  // The notices stay pinned on top; below them, sorted by activity.
  const rows = await page.locator('[data-testid="conversation"]').evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
  assert(rows[0] === "notices", `pinned notices first, got ${rows[0]}`);
  assert(rows[1] === "2" || rows[1] === "3", `top row ${rows[1]}`);
});

await step("connection banner on reconnecting, gone when connected", async () => {
  await fake(() => window.__fake.setConnection({ state: "reconnecting", attempt: 2, in_ms: 4000 }));
  await tid("connection-banner").filter({ hasText: "Reconnecting in 4 s (attempt 2)" }).waitFor(T);
  await shot("connection-banner");
  await fake(() => window.__fake.setConnection({ state: "connected" }));
  await tid("connection-banner").waitFor({ state: "detached", timeout: 15000 });
});

await step("main window screenshot (light)", async () => {
  await shot("main-light");
});

await step("emoji picker: categories, search, insert", async () => {
  await page.getByRole("button", { name: "Emoji", exact: true }).click();
  await tid("emoji-picker").waitFor(T);
  await page.getByRole("tab", { name: "Food & drink" }).click();
  await tid("emoji-grid").getByText("🍕").waitFor(T);
  await page.getByRole("tab", { name: "Smileys & emotion" }).click();
  await shot("emoji-picker");
  await page.getByRole("searchbox", { name: "Search emoji" }).fill("grin");
  await page.getByRole("button", { name: "grinning face", exact: true }).click();
  const v = await tid("composer-input").inputValue();
  assert(v === "😀", `composer has ${JSON.stringify(v)}`);
  await page.keyboard.press("Escape");
  await tid("emoji-picker").waitFor({ state: "detached", timeout: 15000 });
  await tid("composer-input").fill("Nice 😀");
  await tid("send-button").click();
  await messageByText("Nice 😀").waitFor(T);
  // Recently used survives a reopen.
  await page.getByRole("button", { name: "Emoji", exact: true }).click();
  await page.getByRole("tab", { name: "Recently used", selected: true }).waitFor(T);
  await tid("emoji-grid").getByText("😀").waitFor(T);
  await page.keyboard.press("Escape");
});

await step("an HTML/script payload is shown literally and runs nothing", async () => {
  const payload = "<img src=x onerror=alert(1)><script>alert(2)</script>";
  await fake((p) => window.__fake.receive("2", p), payload);
  const m = messageByText("<img src=x onerror=alert(1)>");
  await m.waitFor(T);
  assert((await m.locator(".bubble-text").textContent()) === payload, "text shown literally");
  await tid("composer-input").fill('<b onmouseover="alert(3)">bold?</b>');
  await tid("composer-input").press("Enter");
  await messageByText('<b onmouseover="alert(3)">bold?</b>').waitFor(T);
  await page.waitForTimeout(300);
  assert((await tid("messages").locator("img, script, b").count()) === 0, "no elements from message text");
  assert(dialogs.length === 0, `dialogs fired: ${dialogs}`);
});

await step("failed message → retry → sent", async () => {
  await fake(() => {
    window.__fake.failNext = true;
    window.__fake.ackDelay = 200;
  });
  await tid("composer-input").fill("this one fails first");
  await tid("composer-input").press("Enter");
  const m = messageByText("this one fails first");
  await m.locator('[data-status="failed"]').waitFor(T);
  await m.getByRole("button", { name: /Retry/ }).click();
  await m.locator('[data-status="sent"]').waitFor(T);
});

// --- images and stickers (docs/MEDIA.md, issue 7) ---------------------------------------
/** A 3000×2000 "photo" drawn in the page (sky, sun, hills, grain), as PNG bytes. */
const photoPng = async () =>
  Buffer.from(
    await page.evaluate(async () => {
      const w = 3000;
      const h = 2000;
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext("2d");
      const sky = g.createLinearGradient(0, 0, 0, h);
      sky.addColorStop(0, "#2b6cb0");
      sky.addColorStop(0.6, "#f6ad55");
      sky.addColorStop(1, "#9c4221");
      g.fillStyle = sky;
      g.fillRect(0, 0, w, h);
      g.fillStyle = "#fefcbf";
      g.beginPath();
      g.arc(w * 0.68, h * 0.52, 180, 0, Math.PI * 2);
      g.fill();
      for (const [y, col] of [[0.62, "#2f855a"], [0.72, "#276749"], [0.84, "#22543d"]]) {
        g.fillStyle = col;
        g.beginPath();
        g.moveTo(0, h);
        for (let x = 0; x <= w; x += 50) g.lineTo(x, h * y + Math.sin(x / 260 + y * 9) * 90);
        g.lineTo(w, h);
        g.fill();
      }
      // Film grain: what makes a photo large as PNG.
      const img = g.getImageData(0, 0, w, h);
      let seed = 7;
      for (let i = 0; i < img.data.length; i += 4) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const n = (seed % 13) - 6;
        img.data[i] += n;
        img.data[i + 1] += n;
        img.data[i + 2] += n;
      }
      g.putImageData(img, 0, 0);
      const blob = await c.convertToBlob({ type: "image/png" });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = "";
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(bin);
    }),
    "base64",
  );
const mb = (n) => `${(Math.round((n / 1048576) * 10) / 10).toFixed(1).replace(/\.0$/, "")} MB`;
const imageMessages = () => page.locator('[data-testid="message"]').filter({ has: page.locator('[data-testid="image-thumb"]') });
let sentImage = null;

await step("image: attach a generated photo → preview with sizes and quality → send → bubble with its aspect ratio, no layout jump", async () => {
  await row("3").click();
  await tid("chat-name").filter({ hasText: "Bob Smith" }).waitFor(T);
  const png = await photoPng();
  assert(png.length > 2 * 1048576, `a large PNG (${png.length} bytes)`);
  await tid("attach-input").setInputFiles({ name: "IMG_2041.png", mimeType: "image/png", buffer: png });
  await tid("image-preview").waitFor(T);
  await tid("image-dims").filter({ hasText: "1280 × 853" }).waitFor(T);
  const standard = await tid("image-sizes").textContent();
  assert(new RegExp(`^${mb(png.length).replace(".", "\\.")} → \\d+ KB$`).test(standard), `sizes: ${standard} (file ${png.length} bytes)`);
  assert(await tid("image-preview-img").evaluate((img) => img.naturalWidth === 1280 && img.naturalHeight === 853), "the preview shows the prepared image");
  // The quality choice prepares again: HD is 2560 px and larger.
  await tid("quality-hd").click();
  await tid("image-dims").filter({ hasText: "2560 × 1707" }).waitFor(T);
  const hd = await tid("image-sizes").textContent();
  assert(hd !== standard, `HD differs: ${hd}`);
  const asked = await fake(() => window.__fake.calls.filter((c) => c.cmd === "prepare_image").map((c) => c.args.headers.quality));
  assert(asked.join(",") === "standard,hd", `prepare_image qualities: ${asked}`);
  const prepared = await fake(() => window.__fake.prepared);
  assert(prepared.every((p) => p.original_size === png.length), "the file's bytes went as the raw body");
  assert(prepared[1].size > prepared[0].size, `HD larger: ${JSON.stringify(prepared)}`);
  await tid("quality-standard").click();
  await tid("image-dims").filter({ hasText: "1280 × 853" }).waitFor(T);
  await tid("image-sizes").filter({ hasText: standard }).waitFor(T);
  await shot("image-preview");

  // The row of the new image: every height it ever has, from insertion on.
  await page.evaluate(() => {
    window.__rowHeights = [];
    window.__thumbLoadedAtFirstSight = null;
    const seen = new WeakSet();
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) window.__rowHeights.push(Math.round(e.target.getBoundingClientRect().height));
    });
    new MutationObserver(() => {
      for (const row of document.querySelectorAll('.vrow')) {
        const img = row.querySelector('[data-testid="image-thumb"] img');
        if (!img || seen.has(row) || row.querySelector('[data-status]')?.dataset.status !== "sending") continue;
        seen.add(row);
        window.__thumbLoadedAtFirstSight = img.complete && img.naturalWidth > 0;
        window.__rowHeights.push(Math.round(row.getBoundingClientRect().height));
        ro.observe(row);
      }
    }).observe(document.querySelector('[data-testid="messages"]'), { childList: true, subtree: true });
  });
  await fake(() => (window.__fake.uploadStepMs = 300));
  await tid("image-send").click();
  await tid("image-preview").waitFor({ state: "detached", timeout: 15000 });
  const own = imageMessages().last();
  await own.locator('[data-testid="upload-progress"]').waitFor(T);
  // upload-progress events fill the ring (the fake uploads in 4 steps).
  await own.locator('[data-testid="upload-progress"][aria-valuenow="50"]').waitFor(T);
  const thumb = own.locator('[data-testid="image-thumb"]');
  const box = await thumb.boundingBox();
  assert(Math.round(box.width) === 280 && Math.round(box.height) === 187, `box 280×187 for 1280×853: ${JSON.stringify(box)}`);
  await page.waitForFunction((id) => document.querySelector(`[data-id="${id}"] [data-testid="image-thumb"] img`)?.naturalWidth === 320, await own.getAttribute("data-id"), T);
  const after = await thumb.boundingBox();
  assert(after.width === box.width && after.height === box.height, "the box did not change when the thumbnail loaded");
  // The ring fills and goes; the message is sent.
  await own.locator('[data-status="sent"]').waitFor(T);
  await own.locator('[data-testid="upload-progress"]').waitFor({ state: "detached", timeout: 15000 });
  const heights = await page.evaluate(() => [...new Set(window.__rowHeights)]);
  assert(heights.length === 1, `the row kept one height from insertion to loaded: ${heights}`);
  const sendCall = await fake(() => window.__fake.calls.filter((c) => c.cmd === "send_image").at(-1).args);
  assert(sendCall.to === "3" && sendCall.image.width === 1280, `send_image: ${JSON.stringify(sendCall).slice(0, 200)}`);
  sentImage = sendCall.image;
  await row("3").getByText("[Image]").waitFor(T);
});

await step("image viewer: opens full size, zoom in / fit, Save as…, Esc closes", async () => {
  await imageMessages().last().locator('[data-testid="image-thumb"]').click();
  await tid("image-viewer").waitFor(T);
  await page.waitForFunction(() => document.querySelector('[data-testid="viewer-img"]')?.naturalWidth === 1280, null, T);
  const zoom = async () => parseInt(await tid("viewer-zoom").textContent(), 10);
  const width = () => tid("viewer-img").evaluate((img) => img.getBoundingClientRect().width);
  const fit = await zoom();
  const fitWidth = await width();
  assert(fit > 0 && fit <= 100, `fit zoom ${fit}%`);
  await tid("viewer-zoom-in").click();
  assert((await zoom()) > fit && (await width()) > fitWidth, "zoomed in");
  await tid("viewer-fit").click();
  assert((await zoom()) === fit && (await width()) === fitWidth, "back to fit");
  await tid("viewer-save").click();
  await tid("viewer-note").filter({ hasText: /Saved to \/home\/wangfang\/Pictures\/hongyan-\d{8}-\d{6}\.jpg/ }).waitFor(T);
  const saved = await fake(() => window.__fake.saved.at(-1));
  assert(saved.sha256 === sentImage.sha256, "saved the full image, not the thumbnail");
  await shot("image-viewer");
  await page.keyboard.press("Escape");
  await tid("image-viewer").waitFor({ state: "detached", timeout: 15000 });
});

await step("image: drop and paste open the preview too (HTML5 events)", async () => {
  const fire = (kind) =>
    page.evaluate(async (kind) => {
      const c = new OffscreenCanvas(200, 100);
      c.getContext("2d").fillRect(0, 0, 200, 100);
      const file = new File([await c.convertToBlob({ type: "image/png" })], "small.png", { type: "image/png" });
      const dt = new DataTransfer();
      dt.items.add(file);
      if (kind === "drop") {
        const chat = document.querySelector("section.chat");
        chat.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
        chat.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        document.querySelector('[data-testid="composer-input"]').dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    }, kind);
  for (const kind of ["drop", "paste"]) {
    const before = await fake(() => window.__fake.prepared.length);
    await fire(kind);
    await tid("image-preview").waitFor(T);
    await tid("image-dims").filter({ hasText: "200 × 100" }).waitFor(T);
    assert((await fake(() => window.__fake.prepared.length)) === before + 1, `${kind}: prepared once`);
    await tid("image-cancel").click();
    await tid("image-preview").waitFor({ state: "detached", timeout: 15000 });
  }
  assert((await tid("composer-input").inputValue()) === "", "nothing pasted as text");
  // A file dropped beside the chat (on the sidebar) is not opened by the window.
  const kept = await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["x"], "x.png", { type: "image/png" }));
    const e = new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true });
    document.querySelector('[data-testid="conversation-list"]').dispatchEvent(e);
    return e.defaultPrevented;
  });
  assert(kept, "a drop outside the chat is cancelled (no navigation to the file)");
  assert((await tid("image-preview").count()) === 0, "and it opens no preview");
});

await step("stickers: the tab sends one, it is kept as recently used; a received image and sticker render", async () => {
  await page.getByRole("button", { name: "Emoji", exact: true }).click();
  await tid("sticker-tab").click();
  const first = page.locator('[data-testid="sticker-pack"] [data-testid="sticker"]').nth(1);
  await first.waitFor(T);
  const id = await first.getAttribute("data-id");
  await first.click();
  await tid("emoji-picker").waitFor({ state: "detached", timeout: 15000 });
  const sent = await fake(() => window.__fake.calls.filter((c) => c.cmd === "send_sticker").at(-1).args);
  assert(sent.to === "3" && sent.pack === "goose" && sent.id === id, `send_sticker: ${JSON.stringify(sent)}`);
  const own = page.locator('[data-testid="message"]').filter({ has: page.locator('[data-testid="sticker-message"]') }).last();
  await own.locator('[data-status="sent"]').waitFor(T);
  const size = await own.locator('[data-testid="sticker-message"] img').evaluate((img) => [img.naturalWidth > 0, img.width, img.height]);
  assert(size.join() === "true,160,160", `sticker rendered at 160×160: ${size}`);
  await page.getByRole("button", { name: "Emoji", exact: true }).click();
  await tid("sticker-tab").click();
  await page.locator(`[data-testid="sticker-recent"] [data-testid="sticker"][data-id="${id}"]`).waitFor(T);
  await page.keyboard.press("Escape");
  await tid("emoji-picker").waitFor({ state: "detached", timeout: 15000 });

  await fake(() => window.__fake.receiveImage("3", 900, 1200, ["#ff9a9e", "#a18cd1"]));
  await fake((sent) => window.__fake.receiveSticker("3", window.__fake.stickerIds().find((s) => s !== sent)), id);
  const received = imageMessages().last();
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('[data-testid="image-thumb"] img')];
    return imgs.length >= 2 && imgs.every((i) => i.naturalWidth > 0);
  }, null, T);
  const box = await received.locator('[data-testid="image-thumb"]').boundingBox();
  assert(Math.round(box.width) === 240 && Math.round(box.height) === 320, `portrait 900×1200 → 240×320: ${JSON.stringify(box)}`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="sticker-message"] img')].filter((i) => i.naturalWidth > 0).length >= 2, null, T);
  // A taller window for the picture: the photo, the received image and both stickers.
  await page.setViewportSize({ width: 1200, height: 1020 });
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="messages"]');
    el.scrollTop = el.scrollHeight;
  });
  await shot("chat-media");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("chat-media-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1200, height: 780 });
});

await step("image: a failed upload shows its reason and Retry uploads it again", async () => {
  await fake(() => {
    window.__fake.failNextUpload = true;
    window.__fake.uploadStepMs = 150;
  });
  const before = await imageMessages().count();
  await tid("attach-input").setInputFiles({
    name: "again.png",
    mimeType: "image/png",
    buffer: Buffer.from(
      await page.evaluate(async () => {
        const c = new OffscreenCanvas(640, 480);
        const g = c.getContext("2d");
        g.fillStyle = "#805ad5";
        g.fillRect(0, 0, 640, 480);
        const b = new Uint8Array(await (await c.convertToBlob({ type: "image/png" })).arrayBuffer());
        return btoa(String.fromCharCode(...b));
      }),
      "base64",
    ),
  });
  await tid("image-dims").filter({ hasText: "640 × 480" }).waitFor(T);
  await tid("image-send").click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="image-thumb"]').length > n, before, T);
  const m = imageMessages().last();
  await m.locator('[data-status="failed"]').waitFor(T);
  await m.locator('[data-testid="failed-reason"]').filter({ hasText: "upload failed: connection reset" }).waitFor(T);
  assert((await m.locator('[data-testid="upload-progress"]').count()) === 0, "no ring on a failed upload");
  await m.locator('[data-testid="retry-message"]').click();
  await m.locator('[data-testid="upload-progress"]').waitFor(T);
  await m.locator('[data-status="sent"]').waitFor(T);
  await m.locator('[data-testid="upload-progress"]').waitFor({ state: "detached", timeout: 15000 });
});

await step("start a chat by searching users by name", async () => {
  await tid("new-chat-button").click();
  await tid("new-chat-query").fill("dmit");
  await tid("new-chat").getByText("Dmitri Ivanov").click();
  await tid("chat-name").filter({ hasText: "Dmitri Ivanov" }).waitFor(T);
  // The old failed message from the seed is there with its retry button.
  await messageByText("Nice work!").locator('[data-status="failed"]').waitFor(T);
  await tid("new-chat-button").click();
  await tid("new-chat-query").fill("555");
  await tid("new-chat-open-id").click();
  await tid("chat-name").filter({ hasText: "555" }).waitFor(T);
  await row("555").waitFor(T);
});

const noHtml = async (where) => {
  const n = await page.evaluate((sel) => document.querySelectorAll(`${sel} img, ${sel} script, ${sel} b`).length, where);
  assert(n === 0, `no elements from user text in ${where} (${n})`);
  assert(dialogs.length === 0, `dialogs fired: ${dialogs}`);
};
const friendIds = () => page.locator('[data-testid="friend"]').evaluateAll((els) => els.map((e) => `${e.dataset.id}:${e.dataset.online}`));

await step("contacts: friends online first; add friend → the peer accepts; an incoming request accepted", async () => {
  await row("3").click();
  await tid("chat-name").filter({ hasText: "Bob Smith" }).waitFor(T);
  await tid("nav-contacts").click();
  await tid("contacts").waitFor(T);
  await page.locator('[data-testid="friend"]').first().waitFor(T);
  const ids = await friendIds();
  assert(ids.slice(0, 2).every((x) => x.endsWith(":true")), `online friends first: ${ids}`);
  assert(ids.slice(2).every((x) => x.endsWith(":false")), `then offline: ${ids}`);
  // Add Carol with a message.
  await tid("add-friend-button").click();
  await tid("add-friend-query").fill("carol");
  await page.locator('[data-testid="add-friend-user"][data-id="9"] [data-testid="add-friend-pick"]').click();
  await tid("add-friend-message").fill("Hi Carol, it's Wang Fang from the hiking club");
  await tid("add-friend-send").click();
  await tid("add-friend-done").filter({ hasText: "Request sent to Carol Wu." }).waitFor(T);
  await page.keyboard.press("Escape");
  await page.locator('[data-testid="outgoing-request"]', { hasText: "Carol Wu" }).waitFor(T);
  // Frank asks me.
  await fake(() => window.__fake.requestFrom("10", "Hi! We met at the Rust meetup 👋"));
  await tid("requests-badge").filter({ hasText: "1" }).waitFor(T);
  const incoming = page.locator('[data-testid="friend-request"]', { hasText: "Frank Li" });
  await incoming.getByText("We met at the Rust meetup").waitFor(T);
  await shot("contacts");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("contacts-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await incoming.locator('[data-testid="accept-request"]').click();
  await page.locator('[data-testid="friend"][data-id="10"]').waitFor(T);
  await tid("requests-badge").waitFor({ state: "detached", timeout: 15000 });
  // Carol accepts (the peer's event): the pending row goes, she is a friend.
  await fake(() => window.__fake.peerAnswers("9", true));
  await page.locator('[data-testid="friend"][data-id="9"]').waitFor(T);
  await page.locator('[data-testid="outgoing-request"]').waitFor({ state: "detached", timeout: 15000 });
  // Presence moves Bob up among the online friends.
  await fake(() => window.__fake.presence("3", true));
  await page.locator('[data-testid="friend"][data-id="3"][data-online="true"]').waitFor(T);
  const after = await friendIds();
  const firstOffline = after.findIndex((x) => x.endsWith(":false"));
  assert(after.indexOf("3:true") < firstOffline, `Bob among the online ones: ${after}`);
  // Remove Dmitri, confirmed.
  const dmitri = page.locator('[data-testid="friend"][data-id="7"]');
  await dmitri.hover();
  await dmitri.locator('[data-testid="remove-friend"]').click();
  await tid("confirm-dialog").getByText("Remove Dmitri Ivanov from your friends?").waitFor(T);
  await tid("confirm-ok").click();
  await dmitri.waitFor({ state: "detached", timeout: 15000 });
});

await step("new group: create (HTML in the name stays text), chat, system lines, info panel: invite, remove, rename, leave", async () => {
  const evil = '<img src=x onerror=alert(1)> Team';
  await tid("new-group-button").click();
  await tid("new-group-name").fill(evil);
  await page.locator('[data-testid="new-group"] [data-testid="pick-friend"][data-id="2"]').click();
  await page.locator('[data-testid="new-group"] [data-testid="pick-friend"][data-id="9"]').click();
  await tid("new-group-create").click();
  await tid("chat-name").filter({ hasText: evil }).waitFor(T);
  assert((await tid("chat-name").textContent()) === evil, "group name shown literally");
  await tid("chat-status").filter({ hasText: "3 members" }).waitFor(T);
  await tid("system-line").filter({ hasText: `You created the group “${evil}”` }).waitFor(T);
  const gid = await page.locator('[data-testid="conversation"][aria-current="true"]').getAttribute("data-id");
  assert(/^g\d+$/.test(gid), `group conversation selected: ${gid}`);
  await tid("composer-input").fill("Hello team");
  await tid("composer-input").press("Enter");
  await messageByText("Hello team").locator('[data-status="sent"]').waitFor(T);
  await fake((g) => window.__fake.groupMessage(g, "2", "Hi all! 👋"), gid);
  const hi = messageByText("Hi all!");
  await hi.locator('[data-testid="message-sender"]').filter({ hasText: "Alice Chen" }).waitFor(T);
  // Info panel: I am the owner.
  await tid("group-info-button").click();
  await tid("group-info").waitFor(T);
  await page.locator('[data-testid="group-member"][data-id="100"][data-role="owner"]').waitFor(T);
  assert((await page.locator('[data-testid="group-member"]').count()) === 3, "three members");
  await tid("group-invite").click();
  await page.locator('[data-testid="group-info"] [data-testid="pick-friend"][data-id="4"]').click();
  await tid("group-invite-add").click();
  await tid("system-line").filter({ hasText: "You added 李雷" }).waitFor(T);
  await tid("chat-status").filter({ hasText: "4 members" }).waitFor(T);
  await page.locator('[data-testid="group-member"][data-id="4"]').waitFor(T);
  await page.locator('[data-testid="group-member"][data-id="9"] [data-testid="remove-member"]').click();
  await tid("confirm-ok").click();
  await tid("system-line").filter({ hasText: "You removed Carol Wu" }).waitFor(T);
  await page.locator('[data-testid="group-member"][data-id="9"]').waitFor({ state: "detached", timeout: 15000 });
  await tid("group-rename").click();
  await tid("group-name-input").fill("Trip planning");
  await tid("group-name-save").click();
  await tid("chat-name").filter({ hasText: "Trip planning" }).waitFor(T);
  await tid("system-line").filter({ hasText: "You renamed the group to “Trip planning”" }).waitFor(T);
  await noHtml("body");
  // Leave: the chat stays readable, writing is off.
  await tid("leave-group").click();
  await tid("confirm-dialog").getByText("Leave “Trip planning”?").waitFor(T);
  await tid("confirm-ok").click();
  await tid("not-member-banner").waitFor(T);
  assert(await tid("composer-input").isDisabled(), "composer disabled after leaving");
  await tid("group-info").waitFor({ state: "detached", timeout: 15000 });
});

await step("group chat screenshot with the info panel (light, dark)", async () => {
  await row("g1").click();
  await tid("chat-name").filter({ hasText: "Weekend hikers" }).waitFor(T);
  await fake(() => window.__fake.groupMessage("g1", "3", "I'll bring the map 🗺️"));
  await messageByText("I'll bring the map").waitFor(T);
  await tid("group-info-button").click();
  await page.locator('[data-testid="group-member"][data-id="4"][data-role="owner"]').waitFor(T);
  assert((await page.locator('[data-testid="remove-member"]').count()) === 0, "no remove buttons for a member");
  await shot("group-chat");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("group-chat-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await tid("group-info-button").click();
  await tid("group-info").waitFor({ state: "detached", timeout: 15000 });
});

await step("notices: pinned with an unread badge, cards, recall; HTML in a notice stays text", async () => {
  await tid("nav-chats").click();
  const notices = row("notices");
  assert((await page.locator('[data-testid="conversation"]').first().getAttribute("data-id")) === "notices", "pinned on top");
  await notices.locator('[data-testid="unread"]').filter({ hasText: "1" }).waitFor(T);
  await notices.click();
  await tid("chat-name").filter({ hasText: "Notices" }).waitFor(T);
  await tid("notice-card").filter({ hasText: "Scheduled maintenance on Sunday" }).waitFor(T);
  assert((await page.locator('[data-testid="notice-card"]').count()) === 2, "two notices");
  assert((await tid("composer-input").count()) === 0, "no composer in the notices");
  assert(await fake(() => window.__fake.calls.some((c) => c.cmd === "refresh_notices")), "notices refreshed on open");
  await notices.locator('[data-testid="unread"]').waitFor({ state: "detached", timeout: 15000 });
  await shot("notices");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("notices-dark");
  await page.emulateMedia({ colorScheme: "light" });
  const title = "<script>alert(1)</script>Release 2.0";
  const body = '<b>bold?</b> <img src=x onerror=alert(2)>';
  const m = await fake(([t, b]) => window.__fake.notice(t, b), [title, body]);
  const card = page.locator(`[data-testid="notice-card"][data-id="${m.id}"]`);
  await card.waitFor(T);
  assert((await card.locator('[data-testid="notice-title"]').textContent()) === title, "title literal");
  assert((await card.locator('[data-testid="notice-body"]').textContent()) === body, "body literal");
  await noHtml('[data-testid="messages"]');
  await fake((id) => window.__fake.recallNotice(id), m.id);
  await card.waitFor({ state: "detached", timeout: 15000 });
});

await step("1:1 presence and typing; the composer sends typing", async () => {
  await row("2").click();
  await tid("chat-name").filter({ hasText: "Alice Chen" }).waitFor(T);
  await tid("chat-status").filter({ hasText: /^online$/ }).waitFor(T);
  await page.locator('.chat-header [data-testid="presence-dot"]').waitFor(T);
  await row("2").locator('[data-testid="presence-dot"]').waitFor(T);
  await fake(() => window.__fake.typing("2", "2"));
  await tid("chat-status").filter({ hasText: "typing…" }).waitFor(T);
  await shot("typing");
  // "typing…" ends by itself about 5 s after the last event.
  const t0 = Date.now();
  await tid("chat-status").filter({ hasText: /^online$/ }).waitFor(T);
  assert(Date.now() - t0 > 3000, `typing shown for a while (${Date.now() - t0} ms)`);
  await fake(() => window.__fake.presence("2", false));
  await tid("chat-status").filter({ hasText: "ID 2" }).waitFor(T);
  await page.locator('.chat-header [data-testid="presence-dot"]').waitFor({ state: "detached", timeout: 15000 });
  await fake(() => window.__fake.presence("2", true));
  await tid("composer-input").pressSequentially("typing a reply");
  const typingCalls = await fake(() => window.__fake.calls.filter((c) => c.cmd === "send_typing" && c.args.conversationId === "2").length);
  assert(typingCalls >= 1 && typingCalls <= 3, `send_typing called, throttled (${typingCalls})`);
  await tid("composer-input").fill("");
});

await step("receipts: sent ✓ → delivered ✓✓ (grey) → read ✓✓ (coloured)", async () => {
  await tid("composer-input").fill("Did the receipts arrive?");
  await tid("composer-input").press("Enter");
  const m = messageByText("Did the receipts arrive?");
  await m.locator('[data-status="sent"]').waitFor(T);
  const id = await m.getAttribute("data-id");
  const color = (kind) => m.locator(`[data-status="${kind}"]`).evaluate((el) => getComputedStyle(el).color);
  await fake((i) => window.__fake.setStatus(i, { kind: "delivered" }), id);
  await m.locator('[data-status="delivered"]').waitFor(T);
  const delivered = await color("delivered");
  await fake((i) => window.__fake.setStatus(i, { kind: "read" }), id);
  await m.locator('[data-status="read"]').waitFor(T);
  const read = await color("read");
  assert(delivered !== read, `delivered (${delivered}) and read (${read}) look different`);
});

await step("a message to a non-friend fails with 1101; add friend, they accept, retry → sent", async () => {
  await tid("new-chat-button").click();
  await tid("new-chat-query").fill("eve");
  await tid("new-chat").getByText("Eve", { exact: true }).click();
  await tid("chat-name").filter({ hasText: "Eve" }).waitFor(T);
  await tid("not-friend-banner").waitFor(T);
  await fake(() => (window.__fake.ackDelay = 200));
  await tid("composer-input").fill("Hi Eve, happy new year!");
  await tid("composer-input").press("Enter");
  const m = messageByText("Hi Eve, happy new year!");
  await m.locator('[data-status="failed"]').waitFor(T);
  await m.locator('[data-testid="failed-reason"]').filter({ hasText: "Not friends — add them first" }).waitFor(T);
  await shot("failed-not-friends");
  await tid("chat-add-friend").click();
  await tid("add-friend-send").click();
  await tid("add-friend-done").waitFor(T);
  await page.keyboard.press("Escape");
  await tid("not-friend-banner").getByText("Friend request sent").waitFor(T);
  await fake(() => window.__fake.peerAnswers("8", true));
  await tid("not-friend-banner").waitFor({ state: "detached", timeout: 15000 });
  await m.getByRole("button", { name: /Retry/ }).click();
  await m.locator('[data-status="sent"]').waitFor(T);
  assert((await m.locator('[data-testid="failed-reason"]').count()) === 0, "reason gone after the retry");
});

await step("contacts in 简体中文", async () => {
  await tid("settings-button").click();
  await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
  await page.keyboard.press("Escape");
  await tid("nav-contacts").click();
  await page.getByRole("heading", { name: "通讯录" }).waitFor(T);
  await page.getByText("添加好友").first().waitFor(T);
  await shot("contacts-zh-CN");
  await tid("settings-button").click();
  await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  await page.keyboard.press("Escape");
  await tid("nav-chats").click();
  await page.getByRole("heading", { name: "Chats" }).waitFor(T);
});

const perf = {};
await step("10k-message conversation: render, scroll up, older pages load without jumping", async () => {
  const open = await page.evaluate(async () => {
    const t0 = performance.now();
    document.querySelector('[data-testid="conversation"][data-id="6"]').click();
    await new Promise((resolve) => {
      const check = () => {
        const ms = document.querySelectorAll('[data-testid="messages"] [data-testid="message"]');
        if (ms.length > 0 && [...ms].some((m) => m.textContent.includes("#10000 "))) resolve();
        else requestAnimationFrame(check);
      };
      check();
    });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return { ms: performance.now() - t0, rendered: document.querySelectorAll('[data-testid="message"]').length };
  });
  perf.openMs = open.ms;
  perf.renderedRows = open.rendered;
  const atBottom = await page.evaluate(() => {
    const el = document.querySelector('[data-testid="messages"]');
    return el.scrollHeight - el.scrollTop - el.clientHeight;
  });
  assert(atBottom < 80, `opens at the newest message (${atBottom}px from the bottom)`);

  // No jump: the message at the top of the view stays put while an older page is prepended.
  const jump = await page.evaluate(async () => {
    const fake = window.__fake;
    fake.historyLatency = 400;
    const el = document.querySelector('[data-testid="messages"]');
    const loads = () => fake.calls.filter((c) => c.cmd === "load_history").length;
    const count = () => el.querySelectorAll('[data-testid="message"]').length;
    const before = loads();
    el.scrollTop = 150; // inside the load margin: starts loading the next older page
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const top = el.getBoundingClientRect().top;
    const anchor = [...el.querySelectorAll('[data-testid="message"]')].find((m) => m.getBoundingClientRect().top >= top);
    const id = anchor.getAttribute("data-id");
    const y0 = anchor.getBoundingClientRect().top;
    const firstBefore = el.querySelector('[data-testid="message"]').getAttribute("data-id");
    while (loads() === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 600)); // the page arrives and gets measured
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const after = el.querySelector(`[data-id="${id}"]`);
    fake.historyLatency = 25;
    return { id, dy: after ? after.getBoundingClientRect().top - y0 : null, loads: loads() - before, firstBefore, rendered: count() };
  });
  assert(jump.loads >= 1, "an older page was requested");
  assert(jump.dy !== null && Math.abs(jump.dy) <= 2, `anchor message moved by ${jump.dy}px`);
  perf.jumpPx = jump.dy;

  // Scripted scroll: 600 frames, 150 px up per frame; count frames and older pages loaded.
  const scroll = await page.evaluate(async () => {
    const fake = window.__fake;
    const el = document.querySelector('[data-testid="messages"]');
    const loads = () => fake.calls.filter((c) => c.cmd === "load_history").length;
    const loads0 = loads();
    const frames = [];
    const t0 = performance.now();
    let last = t0;
    await new Promise((resolve) => {
      let n = 0;
      const stepFn = (t) => {
        frames.push(t - last);
        last = t;
        el.scrollTop -= 150;
        if (++n < 600) requestAnimationFrame(stepFn);
        else resolve();
      };
      requestAnimationFrame(stepFn);
    });
    const total = performance.now() - t0;
    frames.shift();
    const sorted = frames.slice().sort((a, b) => a - b);
    const oldest = [...el.querySelectorAll('[data-testid="message"]')]
      .map((m) => Number(/#(\d+) /.exec(m.textContent)?.[1] ?? NaN))
      .filter((n) => !Number.isNaN(n));
    return {
      frames: frames.length + 1,
      totalMs: total,
      fps: ((frames.length + 1) * 1000) / total,
      meanMs: frames.reduce((a, b) => a + b, 0) / frames.length,
      p95Ms: sorted[Math.floor(sorted.length * 0.95)],
      maxMs: sorted[sorted.length - 1],
      over50ms: frames.filter((f) => f > 50).length,
      pagesLoaded: loads() - loads0,
      oldestVisible: Math.min(...oldest),
      domRows: el.querySelectorAll('[data-testid="message"]').length,
    };
  });
  Object.assign(perf, scroll);
  assert(scroll.pagesLoaded >= 5, `older pages loaded while scrolling (${scroll.pagesLoaded})`);
  assert(scroll.domRows < 200, `virtualized: ${scroll.domRows} rows in the DOM`);
  assert(scroll.oldestVisible <= 10000 - 5 * 50, `scrolled back in history (oldest visible #${scroll.oldestVisible})`);
});

const hitIds = () => page.locator('[data-testid="search-hit"]').evaluateAll((els) => els.map((e) => e.dataset.id));
const groupIds = () => page.locator('[data-testid="search-group"]').evaluateAll((els) => els.map((e) => e.dataset.id));
const marks = () => tid("search-results").locator("mark").allTextContents();
/** The results for the text now in the field (not the previous answer shown while typing). */
const settled = () => page.locator('[data-testid="search-results"]:not([data-pending])').waitFor(T);
const searchCalls = () => fake(() => window.__fake.calls.filter((c) => c.cmd === "search").map((c) => c.args));
/** Where a message is relative to the visible part of the message list (px; 0,0 = inside). */
const inView = (id) =>
  page.evaluate((mid) => {
    const list = document.querySelector('[data-testid="messages"]').getBoundingClientRect();
    const el = document.querySelector(`[data-testid="message"][data-id="${mid}"]`);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return { above: Math.max(0, list.top - r.top), below: Math.max(0, r.bottom - list.bottom) };
  }, id);

await step("search: Ctrl+K, two Chinese characters → grouped by conversation, highlighted, newest first", async () => {
  await page.keyboard.press("Control+k");
  await tid("search-panel").waitFor(T);
  assert(await tid("search-input").evaluate((el) => el === document.activeElement), "the field has the focus");
  await tid("search-hint").waitFor(T);
  await page.keyboard.type("消息");
  await page.locator('[data-testid="search-group"][data-id="4"]').waitFor(T);
  await settled();
  assert((await groupIds()).join(",") === "6,4", `groups by newest hit: ${await groupIds()}`);
  const count = (id) => page.locator(`[data-testid="search-group"][data-id="${id}"] [data-testid="search-group-count"]`).textContent();
  assert((await count("6")) === "10" && (await count("4")) === "2", `counts ${await count("6")}, ${await count("4")}`);
  await tid("search-total").filter({ hasText: "12 messages" }).waitFor(T);
  const m = await marks();
  assert(m.length >= 12 && m.every((x) => x === "消息"), `highlights: ${m}`);
  // Newest first inside a group.
  const times = await page
    .locator('[data-testid="search-group"][data-id="6"] [data-testid="search-hit"] time')
    .evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute("datetime"))));
  assert(times.every((t, i) => i === 0 || times[i - 1] >= t), "newest first inside the group");
  // Typing fast asks once (debounced), for the last text only.
  const calls = await searchCalls();
  assert(calls.filter((c) => c.text === "消").length === 0 || calls.at(-1).text === "消息", `calls: ${JSON.stringify(calls)}`);
  assert(calls.at(-1).order === "newest" && calls.at(-1).conversationId === undefined, "all chats, newest first");
  await shot("search-results");
});

await step("search: an English prefix, relevance order, HTML in a message stays text", async () => {
  await tid("search-input").fill("deliv");
  await page.locator('[data-testid="search-group"][data-id="3"]').waitFor(T);
  await settled();
  const g = await groupIds();
  assert(g.includes("6") && g.includes("3"), `groups: ${g}`);
  const m = await marks();
  assert(m.length > 0 && m.every((x) => x.toLowerCase() === "deliv"), `highlights: ${m}`);
  await tid("search-order-relevance").click();
  await page.waitForFunction(() => window.__fake.calls.some((c) => c.cmd === "search" && c.args.order === "relevance"));
  await tid("search-order-relevance").and(page.locator('[aria-checked="true"]')).waitFor(T);
  await tid("search-order-newest").click();
  // A message with markup: found, shown literally, nothing runs.
  await fake(() => window.__fake.receive("7", 'xssprobe <img src=x onerror=alert(1)><script>alert(2)</script>'));
  await tid("search-input").fill("xssprobe");
  const hit = page.locator('[data-testid="search-group"][data-id="7"] [data-testid="search-snippet"]');
  await hit.waitFor(T);
  assert((await hit.textContent()).includes("<img src=x onerror=alert(1)><script>"), `literal: ${await hit.textContent()}`);
  assert((await hit.locator("mark").textContent()) === "xssprobe", "the hit part highlighted");
  await noHtml('[data-testid="search-panel"]');
});

await step("search: click a hit deep in a 10k history → opened there, flashed, older and newer around it; paging both ways", async () => {
  await tid("search-input").fill("消息");
  // The "#N" numbers of the history messages in the DOM (the list is virtualized).
  await page.evaluate(() => {
    window.numbered = () =>
      [...document.querySelectorAll('[data-testid="message"]')].map((m) => Number(/#(\d+) /.exec(m.textContent)?.[1] ?? NaN)).filter((n) => !Number.isNaN(n));
  });
  const target = page.locator('[data-testid="search-hit"]', { hasText: "#5501 " });
  await target.waitFor(T);
  const id = await target.getAttribute("data-id");
  await target.click();
  await tid("chat-name").filter({ hasText: "History Bot" }).waitFor(T);
  const msg = page.locator(`[data-testid="message"][data-id="${id}"]`);
  await msg.waitFor(T);
  await page.locator(`.vrow[data-flash="true"] [data-testid="message"][data-id="${id}"]`).waitFor(T);
  await page.waitForFunction(() => {
    const list = document.querySelector('[data-testid="messages"]').getBoundingClientRect();
    const el = document.querySelector('.vrow[data-flash="true"]');
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.top >= list.top && r.bottom <= list.bottom;
  }, null, T);
  const pos = await inView(id);
  assert(pos && pos.above === 0 && pos.below === 0, `the hit is in view: ${JSON.stringify(pos)}`);
  await messageByText("#5500 ").waitFor({ state: "attached", ...T });
  await messageByText("#5502 ").waitFor({ state: "attached", ...T });
  const around = await fake(() => window.__fake.calls.filter((c) => c.cmd === "history_around"));
  assert(around.at(-1).args.messageId === id && around.at(-1).args.conversationId === "6", "history_around for the hit");
  assert((await page.locator('[data-testid="search-hit"].opened').getAttribute("data-id")) === id, "the opened hit is marked");
  // The README's pictures: the chat opened at the hit, still flashing, beside the results.
  await shot("search");
  await page.emulateMedia({ colorScheme: "dark" });
  await shot("search-dark");
  await page.emulateMedia({ colorScheme: "light" });
  await tid("jump-latest").waitFor(T);
  // Flash ends by itself.
  await page.locator('.vrow[data-flash="true"]').waitFor({ state: "detached", timeout: 15000 });

  // Down: newer pages come from history_around on the newest loaded message, without a jump.
  const down = await page.evaluate(async () => {
    const fake = window.__fake;
    const el = document.querySelector('[data-testid="messages"]');
    const n = () => fake.calls.filter((c) => c.cmd === "history_around").length;
    const before = n();
    el.scrollTop = el.scrollHeight - el.clientHeight - 100;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const top = el.getBoundingClientRect().top;
    const anchor = [...el.querySelectorAll('[data-testid="message"]')].find((m) => m.getBoundingClientRect().top >= top);
    const aid = anchor.getAttribute("data-id");
    const y0 = anchor.getBoundingClientRect().top;
    while (n() === before) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 300));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const a = el.querySelector(`[data-id="${aid}"]`);
    const texts = [...el.querySelectorAll('[data-testid="message"]')].map((m) => m.textContent);
    return { dy: a ? a.getBoundingClientRect().top - y0 : null, calls: n() - before, newest: Math.max(...texts.map((t) => Number(/#(\d+) /.exec(t)?.[1] ?? 0))) };
  });
  assert(down.calls >= 1, "a newer page was asked for");
  assert(down.dy !== null && Math.abs(down.dy) <= 2, `the view stayed put (moved ${down.dy}px)`);
  // Further down, the next page's messages show.
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="messages"]');
    el.scrollTop = el.scrollHeight;
  });
  await page.waitForFunction(() => numbered().some((n) => n > 5551), null, T);
  // Up: older pages through load_history, as always.
  const loads0 = await fake(() => window.__fake.calls.filter((c) => c.cmd === "load_history").length);
  await page.evaluate(() => {
    document.querySelector('[data-testid="messages"]').scrollTop = 150;
  });
  await page.waitForFunction((n) => window.__fake.calls.filter((c) => c.cmd === "load_history").length > n, loads0, T);
  await page.waitForFunction(() => numbered().some((n) => n < 5451), null, T);
  // Back to the newest messages.
  await tid("jump-latest").click();
  await messageByText("#10000 ").waitFor(T);
  await tid("jump-latest").waitFor({ state: "detached", timeout: 15000 });
});

await step("search: keyboard ↓ ↓ Enter opens the third hit; Esc clears, Esc again closes", async () => {
  await tid("search-input").focus();
  await tid("search-input").fill("周六");
  await page.locator('[data-testid="search-group"][data-id="4"]').waitFor(T);
  await settled();
  const ids = await hitIds();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  const selected = await page.locator('[data-testid="search-hit"][aria-selected="true"]').getAttribute("data-id");
  assert(selected === ids[2], `third hit selected (${selected} vs ${ids})`);
  await page.keyboard.press("Enter");
  await page.locator(`[data-testid="message"][data-id="${selected}"]`).waitFor(T);
  await page.keyboard.press("Escape");
  assert((await tid("search-input").inputValue()) === "", "Esc clears the text");
  await page.keyboard.press("Escape");
  await tid("search-panel").waitFor({ state: "detached", timeout: 15000 });
  await tid("conversation-list").waitFor(T);
});

await step("search in one conversation: Ctrl+F in a chat, the chip widens to all chats", async () => {
  await row("4").click();
  await tid("chat-name").filter({ hasText: "李雷" }).waitFor(T);
  await tid("composer-input").focus();
  await page.keyboard.press("Control+f");
  await tid("search-scope").filter({ hasText: "李雷" }).waitFor(T);
  assert(await tid("search-input").evaluate((el) => el === document.activeElement), "the field has the focus");
  await page.keyboard.type("周六");
  await page.locator('[data-testid="search-group"][data-id="4"]').waitFor(T);
  await settled();
  assert((await groupIds()).join(",") === "4", `only this chat: ${await groupIds()}`);
  assert((await searchCalls()).at(-1).conversationId === "4", "asked with the conversation");
  await shot("search-in-chat");
  await tid("search-scope-clear").click();
  await page.locator('[data-testid="search-group"][data-id="6"]').waitFor(T);
  assert((await searchCalls()).at(-1).conversationId === undefined, "widened to all chats");
  await tid("search-close").click();
  await tid("search-panel").waitFor({ state: "detached", timeout: 15000 });
});

await step("search while the index rebuilds: indexing n%, then results asked again", async () => {
  await fake(() => window.__fake.rebuildIndex(2000, 4, 400));
  await page.keyboard.press("Control+k");
  await tid("search-input").fill("消息");
  await tid("search-indexing").filter({ hasText: /Indexing your messages… \d+%/ }).waitFor(T);
  const before = (await searchCalls()).length;
  await tid("search-indexing").waitFor({ state: "detached", timeout: 15000 });
  await page.waitForFunction((n) => window.__fake.calls.filter((c) => c.cmd === "search").length > n, before, T);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Escape");
  await tid("search-panel").waitFor({ state: "detached", timeout: 15000 });
});

await step("settings: about, dark theme, 简体中文", async () => {
  await row("2").click();
  await tid("chat-name").filter({ hasText: "Alice Chen" }).waitFor(T);
  await tid("settings-button").click();
  await tid("settings").waitFor(T);
  assert((await tid("app-version").textContent()) === "0.1.0", "app version");
  assert((await tid("core-level").textContent()) === "1", "core level");
  await shot("settings");
  await page.getByRole("combobox", { name: "Theme" }).selectOption("dark");
  await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert(bg !== "rgb(255, 255, 255)", `dark background, got ${bg}`);
  await shot("settings-dark");
  await page.keyboard.press("Escape");
  await tid("settings").waitFor({ state: "detached", timeout: 15000 });
  await shot("main-dark");
  await tid("settings-button").click();
  await page.getByRole("combobox", { name: "Theme" }).selectOption("light");
  await page.getByRole("combobox", { name: "Language" }).selectOption("zh-CN");
  await page.getByRole("heading", { name: "设置" }).waitFor(T);
  await page.getByText("深色").first().waitFor({ state: "attached", ...T });
  await page.keyboard.press("Escape");
  await page.getByRole("heading", { name: "聊天" }).waitFor(T);
  await row("4").click();
  await tid("chat-name").filter({ hasText: "李雷" }).waitFor(T);
  assert((await tid("composer-input").getAttribute("placeholder")) === "输入消息…", "composer placeholder in Chinese");
  await shot("main-zh-CN");
  await tid("settings-button").click();
  await page.getByRole("combobox", { name: "语言" }).selectOption("en");
  await page.keyboard.press("Escape");
  await page.getByRole("heading", { name: "Chats" }).waitFor(T);
});

// --- app updates (docs/UPDATES.md, issue 9) ---------------------------------------------
const MB = 1024 * 1024;
await step("about: Check for updates → up to date; a release published → found, the banner; an install that fails → Retry → size unknown → Installing… → Restarting…", async () => {
  await tid("settings-button").click();
  await tid("settings").waitFor(T);
  assert((await tid("update-banner").count()) === 0, "no banner while the server offers nothing");
  await tid("check-updates").click();
  await tid("check-updates-result").filter({ hasText: "You're up to date" }).waitFor(T);
  await fake((mb) => window.__fake.publishUpdate({ version: "0.2.0", notes: "Faster sync on slow networks.", size: 31 * mb, totalKnown: false, steps: 6, stepMs: 300 }), MB);
  await tid("check-updates").click();
  await tid("check-updates-result").filter({ hasText: "Hongyan 0.2.0 is available." }).waitFor(T);
  assert((await tid("check-updates-result").getAttribute("data-state")) === "available", "result state");
  assert((await tid("update-banner").getAttribute("data-version")) === "0.2.0", "the banner shows the update found");
  await shot("update-about");
  await page.keyboard.press("Escape");
  await tid("settings").waitFor({ state: "detached", timeout: 15000 });
  await tid("update-status").filter({ hasText: "Hongyan 0.2.0 is available" }).waitFor(T);
  await tid("conversation-list").evaluate((el) => (el.scrollTop = 0));
  await shot("update-main");
  // The same in the dark theme (set as the theme setting does; this window's setting is light).
  await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
  await shot("update-main-dark");
  await page.evaluate(() => document.documentElement.setAttribute("data-theme", "light"));

  // The download breaks off: the error in the banner, with Retry.
  await fake(() => (window.__fake.failNextInstall = { afterSteps: 2, kind: "network", message: "The update could not be fetched (connection reset by peer)." }));
  await tid("update-install").click();
  await tid("update-progress").waitFor(T);
  await tid("update-retry").waitFor(T);
  await tid("update-status").filter({ hasText: "Hongyan 0.2.0 could not be installed: Cannot reach the server." }).waitFor(T);
  assert((await tid("update-banner").getAttribute("role")) === "alert", "the error is announced");
  await shot("update-error");
  // Retry: the server does not say the size, so the bar is indeterminate and the bytes so far show.
  await tid("update-retry").click();
  await tid("update-progress").waitFor(T);
  await tid("update-detail").filter({ hasText: /^[\d.]+ MB$/ }).waitFor(T);
  assert(!(await tid("update-progress").evaluate((el) => el.hasAttribute("value"))), "indeterminate without a total");
  await tid("update-status").filter({ hasText: "Installing…" }).waitFor(T);
  await tid("update-status").filter({ hasText: "Restarting…" }).waitFor(T);
  const installs = await fake(() => window.__fake.calls.filter((c) => c.cmd === "install_update").length);
  assert(installs === 2 && (await fake(() => window.__fake.installed)) === "0.2.0", `installs ${installs}`);
});

await step("login rejected with 1027: back to sign-in, update required", async () => {
  await fake(() => window.__fake.emit("login-rejected", { code: 1027, message: "client too old" }));
  await tid("signin-notice").filter({ hasText: "Update required" }).waitFor(T);
  await tid("signin-username").fill("wangfang");
  await tid("signin-password").fill("correct horse");
  await tid("signin-submit").click();
  await tid("conversation-list").waitFor(T);
  await fake(() => window.__fake.emit("kicked-out", { code: 1, reason: "logged in elsewhere" }));
  await tid("signin-notice").filter({ hasText: "another device" }).waitFor(T);
});

// An app that the server offers 0.2.0 and refuses (core level too old), in its own window.
const UPDATE = { version: "0.2.0", notes: "Faster sync on slow networks, and the goose sticker pack.", size: Math.round(48.6 * MB), steps: 8, stepMs: 500 };
let up = null;
const upTid = (id) => up.locator(`[data-testid="${id}"]`);

await step("update: the banner shows on the sign-in screen at start when the server offers one", async () => {
  up = await openApp({ update: UPDATE, tooOld: true });
  await upTid("signin-form").waitFor(T);
  await upTid("update-banner").waitFor(T);
  assert((await upTid("update-banner").getAttribute("data-version")) === "0.2.0", "data-version");
  assert((await upTid("update-status").textContent()) === "Hongyan 0.2.0 is available", await upTid("update-status").textContent());
  assert((await upTid("update-detail").textContent()) === UPDATE.notes, "the release notes");
  await shot("update-signin", up);
  await up.emulateMedia({ colorScheme: "dark" });
  await shot("update-signin-dark", up);
  await up.emulateMedia({ colorScheme: "light" });
});

await step("update: Later hides the banner; a sign-in refused with 1027 offers Update to 0.2.0", async () => {
  await upTid("update-later").click();
  await upTid("update-banner").waitFor({ state: "detached", timeout: 15000 });
  await upTid("signin-username").fill("alice");
  await upTid("signin-password").fill("password123");
  await upTid("signin-submit").click();
  await upTid("signin-error").filter({ hasText: "This server needs a newer version of Hongyan." }).waitFor(T);
  await upTid("signin-update").filter({ hasText: "Update to 0.2.0" }).waitFor(T);
  assert((await upTid("update-banner").count()) === 0, "Later still holds for the same version");
  await shot("update-signin-1027", up);
});

await step("update: Update to 0.2.0 → progress (value/max, MB of MB) → Installing… → Restarting…", async () => {
  await upTid("signin-update").click();
  await upTid("update-banner").waitFor(T);
  await up.waitForFunction(() => {
    const p = document.querySelector('[data-testid="update-progress"]');
    return p && p.hasAttribute("value") && p.value > 0 && p.value < p.max;
  }, null, T);
  assert(Number(await upTid("update-progress").getAttribute("max")) === UPDATE.size, "max = the bundle's size");
  const detail = await upTid("update-detail").textContent();
  assert(/^[\d.]+ MB of 48\.6 MB$/.test(detail), `bytes: ${detail}`);
  assert(await upTid("signin-update").isDisabled(), "the form's button waits for the banner's install");
  await shot("update-progress", up);
  await up.emulateMedia({ colorScheme: "dark" });
  await shot("update-progress-dark", up);
  await up.emulateMedia({ colorScheme: "light" });
  await upTid("update-status").filter({ hasText: "Installing…" }).waitFor(T);
  assert((await upTid("update-progress").count()) === 0, "no bar while installing");
  await shot("update-installing", up);
  await upTid("update-status").filter({ hasText: "Restarting…" }).waitFor(T);
  const f = await up.evaluate(() => ({ installed: window.__fake.installed, installs: window.__fake.calls.filter((c) => c.cmd === "install_update").length }));
  assert(f.installed === "0.2.0" && f.installs === 1, JSON.stringify(f));
});

await step("update: a build that cannot update itself: no banner, About's button disabled with a note", async () => {
  const p = await openApp({ update: UPDATE, updates: "unsupported" });
  const t = (id) => p.locator(`[data-testid="${id}"]`);
  await t("signin-username").fill("alice");
  await t("signin-password").fill("password123");
  await t("signin-submit").click();
  await t("settings-button").click();
  await t("check-updates").waitFor(T);
  assert(await t("check-updates").isDisabled(), "disabled");
  assert((await t("check-updates-result").getAttribute("data-state")) === "unsupported", "the note");
  await t("check-updates-result").filter({ hasText: "cannot update itself" }).waitFor(T);
  assert((await t("update-banner").count()) === 0, "no banner");
});

await step("no dialogs, no CSP violations, no page errors, no remote requests", async () => {
  const csp = await page.evaluate(() => window.__cspViolations);
  for (const p of otherPages) csp.push(...(await p.evaluate(() => window.__cspViolations)));
  assert(dialogs.length === 0, `dialogs: ${dialogs}`);
  assert(csp.length === 0, `CSP violations: ${csp}`);
  assert(pageErrors.length === 0, `page errors: ${pageErrors.join(" | ")}`);
  assert(foreign.length === 0, `remote requests: ${foreign}`);
});

await browser.close();
await server.close();

const f = (n) => (typeof n === "number" ? n.toFixed(1) : String(n));
console.log("\n10k-message conversation (chromium, fake IPC with 25 ms history latency):");
console.log(`  open → newest page rendered: ${f(perf.openMs)} ms (${perf.renderedRows} rows in the DOM)`);
console.log(`  prepend jump of the top visible message: ${f(perf.jumpPx)} px`);
console.log(
  `  scripted scroll up: ${perf.frames} frames in ${f(perf.totalMs)} ms = ${f(perf.fps)} fps; ` +
    `frame mean ${f(perf.meanMs)} ms, p95 ${f(perf.p95Ms)} ms, max ${f(perf.maxMs)} ms, >50 ms: ${perf.over50ms}`,
);
console.log(`  older pages loaded while scrolling: ${perf.pagesLoaded}; oldest message reached #${perf.oldestVisible}; DOM rows ${perf.domRows}`);
console.log(`\n${results.length - failures}/${results.length} e2e steps passed`);
process.exit(failures ? 1 : 0);
