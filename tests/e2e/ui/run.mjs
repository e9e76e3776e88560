// End-to-end test of the built UI (ui/dist) in Debian chromium with a fake Tauri backend.
// Run: node tests/e2e/ui/run.mjs   (after `npm run -w ui build`)
// Env: CHROMIUM=/path/to/chromium, HEADED=1, SCREENSHOTS=0 to skip screenshots,
// SCREENSHOT_DIR=docs/screenshots to refresh the README's pictures (default: a folder in the
// cargo target dir, so a test run never changes tracked files).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
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
await context.addInitScript({ content: fakeBackend });
const page = await context.newPage();

const dialogs = [];
page.on("dialog", (d) => {
  dialogs.push(`${d.type()}: ${d.message()}`);
  void d.dismiss();
});
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
  if (m.type() === "error") pageErrors.push(m.text());
});
// Nothing but our own server may be contacted (no fonts, no emoji CDN, nothing remote).
const foreign = [];
page.on("request", (r) => {
  if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) foreign.push(r.url());
});

const shot = async (name) => {
  if (!writeShots) return;
  mkdirSync(shots, { recursive: true });
  await page.waitForTimeout(150); // let transitions settle
  await page.screenshot({ path: join(shots, `${name}.png`) });
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
  const first = await page.locator('[data-testid="conversation"]').first().getAttribute("data-id");
  assert(first === "2" || first === "3", `top row ${first}`);
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

await step("no dialogs, no CSP violations, no page errors, no remote requests", async () => {
  const csp = await page.evaluate(() => window.__cspViolations);
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
