// Hostile text in every place the UI shows user-controlled strings (issue 9, "the app"): the
// built UI (ui/dist) in Debian chromium with the fake Tauri backend (fake-backend.js), run
// twice: once under the app's own CSP, read from src-tauri/tauri.conf.json (there: no CSP
// violation at all), and once with no CSP (there: the escaping alone holds; nothing the CSP
// would have blocked is even attempted).
// Run: node tests/e2e/ui/xss.mjs   (after `npm run -w ui build`; scripts/test-ui.sh runs it)
// Env: CHROMIUM=/path/to/chromium, HEADED=1.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const dist = process.env.UI_DIST ?? join(repo, "ui/dist");
const fakeBackend = readFileSync(join(here, "fake-backend.js"), "utf8");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(join(dist, "index.html"))) {
  console.error("ui/dist is missing: run `npm run -w ui build` first");
  process.exit(2);
}

/** The app's production CSP (tauri.conf.json), with connect-src 'self' for this static server. */
function appCsp() {
  const conf = JSON.parse(readFileSync(join(repo, "src-tauri/tauri.conf.json"), "utf8"));
  const csp = { ...conf.app.security.csp, "connect-src": "'self'" };
  return Object.entries(csp)
    .map(([k, v]) => `${k} ${v}`)
    .join("; ");
}

// --- the payloads -------------------------------------------------------------------------
// Each would set window.__xss (or open a dialog, or fetch from evil.example) if it ever became
// markup, a live link or a URL. "zqx" makes them findable by message search.
const EVIL = "https://evil.example";
const BODIES = [
  `zqx <img src=x onerror="window.__xss='img'">`,
  `zqx <script>window.__xss='script'</script><script src="${EVIL}/s.js"></script>`,
  `zqx "><svg onload="window.__xss='svg'"><a href="javascript:window.__xss='a'">click me</a>`,
  `zqx javascript:window.__xss='bare' [link](javascript:window.__xss='md') ![pic](${EVIL}/md.png)`,
  `zqx ${EVIL}/plain.png <img src="${EVIL}/remote.png"> <iframe src="${EVIL}/frame"></iframe>`,
  `zqx <style>body{background:url(${EVIL}/css.png)}</style><link rel=stylesheet href="${EVIL}/x.css">`,
  `zqx <details open ontoggle="window.__xss='details'"> <object data="${EVIL}/o"></object> &lt;b&gt;entity&amp;`,
  "zqx {{constructor.constructor('window.__xss=1')()}} ${alert(1)} <!-- comment -->",
  "zqx \u202Egnp.exe mixed \u202Dltr\u202C zero\u200Bwidth\u200D\uFEFFjoin",
];
const LONG = `zqx ${"W".repeat(6000)}`;
// Nicknames and group names: what the real server accepts (≤ 64 characters, no control chars).
const NICK = `<img src=x onerror="window.__xss='nick'">`;
const NICK2 = `\u202Eevil"><svg onload=alert(1)>`;
const GROUP = `"><img src=x onerror=alert('g')>`;
const NOTICE_TITLE = `<script>window.__xss='nt'</script>`;
const NOTICE_BODY = `<img src="${EVIL}/n.png" onerror="window.__xss='nb'"> <a href="javascript:alert(1)">x</a>`;
const REQUEST_MSG = `<a href="javascript:window.__xss='req'">accept me</a><img src=x onerror=alert(1)>`;

let failures = 0;
const results = [];
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
const T = { timeout: 15000 };

const browser = await chromium.launch({
  executablePath,
  headless: !process.env.HEADED,
  args: ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--no-first-run"],
});

/** One pass over every surface; `csp` is the policy served, or null for none. */
async function pass(label, csp) {
  const server = await serve(dist, { csp });
  const origin = new URL(server.url).origin;
  const context = await browser.newContext({ viewport: { width: 1200, height: 780 }, locale: "en-GB", timezoneId: "Europe/London" });
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
  // Only the app's own files may be asked for: index.html and /assets/*. A payload's relative
  // `src=x` would be a request to `/x` here (same origin, yet not allowed).
  const requests = [];
  const foreign = [];
  page.on("request", (r) => {
    const url = r.url();
    requests.push(url);
    if (url.startsWith("data:") || url.startsWith("blob:")) return;
    const u = new URL(url);
    if (u.origin !== origin || !(u.pathname === "/" || u.pathname.startsWith("/assets/"))) foreign.push(url);
  });

  const step = async (name, fn) => {
    const full = `[${label}] ${name}`;
    try {
      await fn();
      results.push(`ok    ${full}`);
      console.log(`ok    ${full}`);
    } catch (e) {
      failures++;
      results.push(`FAIL  ${full}`);
      console.log(`FAIL  ${full}\n      ${String(e?.stack ?? e).split("\n").slice(0, 6).join("\n      ")}`);
    }
  };
  const tid = (id) => page.locator(`[data-testid="${id}"]`);
  const row = (id) => page.locator(`[data-testid="conversation"][data-id="${id}"]`);
  const fake = (fn, arg) => page.evaluate(fn, arg);
  /** Waits until some element matching `css` has `text` in its textContent (literally). */
  const literal = (css, text) =>
    page.waitForFunction(
      ([css, text]) => [...document.querySelectorAll(css)].some((e) => e.textContent.includes(text)),
      [css, text],
      T,
    );
  /** Nothing a payload could have created: no script ran, no markup, no live link, no remote image. */
  const clean = async (where) => {
    const found = await page.evaluate(() => {
      const bad = [];
      if (window.__xss !== undefined) bad.push(`window.__xss = ${window.__xss}`);
      for (const el of document.querySelectorAll("*")) {
        for (const a of el.getAttributeNames()) if (/^on/i.test(a)) bad.push(`<${el.localName} ${a}>`);
      }
      for (const el of document.querySelectorAll("iframe, object, embed, style, details, base, meta[http-equiv=refresh]"))
        bad.push(`<${el.localName}>`);
      // The app's own: its stylesheet, and Vite's modulepreload links for lazy chunks.
      for (const el of document.querySelectorAll("link"))
        if (!["stylesheet", "modulepreload", "icon"].includes(el.rel) || new URL(el.href).origin !== location.origin)
          bad.push(`<link rel=${el.rel} href=${el.href}>`);
      for (const el of document.querySelectorAll("script"))
        if (!el.src || new URL(el.src).origin !== location.origin) bad.push(`<script src=${el.src}>`);
      for (const el of document.querySelectorAll("a[href], area[href], [formaction], form[action]")) bad.push(`<${el.localName} ${el.outerHTML.slice(0, 80)}>`);
      for (const el of document.querySelectorAll("img, image, source, video, audio")) {
        const src = el.getAttribute("src") ?? el.getAttribute("href") ?? "";
        if (!/^(data:|blob:|hymedia:|http:\/\/hymedia\.localhost\/)/.test(src)) bad.push(`<${el.localName} src=${src}>`);
      }
      return bad;
    });
    assert(found.length === 0, `${where}: ${found.join(", ")}`);
    assert(dialogs.length === 0, `${where}: dialogs ${dialogs}`);
    assert(foreign.length === 0, `${where}: requests ${foreign}`);
  };

  await page.goto(server.url);

  await step("sign in", async () => {
    await tid("signin-form").waitFor(T);
    await fake(() => window.__fake.users.set("100", { user_id: "100", username: "wangfang", nickname: "Wang Fang", password: "password123" }));
    await tid("signin-username").fill("wangfang");
    await tid("signin-password").fill("password123");
    await tid("signin-submit").click();
    await tid("conversation-list").waitFor(T);
    // The hostile users: a friend "evil" and a stranger who asks to be friends.
    await fake(
      ([nick, nick2]) => {
        const f = window.__fake;
        f.users.set("66", { user_id: "66", username: "evil", nickname: nick, password: "x" });
        f.users.set("67", { user_id: "67", username: "evil2", nickname: nick2, password: "x" });
        f.friends.set("66", { since: Date.now(), online: true });
        f.emit("friends-changed", null);
      },
      [NICK, NICK2],
    );
  });

  await step("message bodies: chat list preview, chat bubbles, long and bidi text", async () => {
    for (const b of [...BODIES, LONG]) await fake((b) => window.__fake.receive("66", b), b);
    // The row: the nickname as the name, the last body as the preview.
    await literal('[data-testid="conversation"][data-id="66"] .conv-name', NICK);
    await literal('[data-testid="conversation"][data-id="66"] .conv-last', LONG.slice(0, 100));
    await row("66").click();
    await literal('[data-testid="chat-name"]', NICK);
    for (const b of BODIES) await literal('[data-testid="message"] .bubble-text', b);
    await literal('[data-testid="message"] .bubble-text', LONG);
    // Each body is the whole text of its bubble: nothing parsed out of it, nothing added.
    const texts = await page.locator('[data-testid="message"] .bubble-text').allTextContents();
    for (const b of BODIES) assert(texts.includes(b), `bubble text is exactly ${JSON.stringify(b)}`);
    // The 6000-character word wraps inside the chat: nothing wider than the message list.
    const overflow = await page.evaluate(() => {
      const list = document.querySelector('[data-testid="messages"]');
      const bubbles = [...list.querySelectorAll(".bubble-text")];
      const right = list.getBoundingClientRect().right;
      return { scroll: list.scrollWidth - list.clientWidth, beyond: bubbles.filter((b) => b.getBoundingClientRect().right > right + 1).length };
    });
    assert(overflow.scroll <= 1 && overflow.beyond === 0, `long text overflows: ${JSON.stringify(overflow)}`);
    await clean("chat with evil");
  });

  await step("preview of each payload in the chat list", async () => {
    for (const b of BODIES) {
      await fake((b) => window.__fake.receive("66", b), b);
      await literal('[data-testid="conversation"][data-id="66"] .conv-last', b);
    }
    await clean("chat list previews");
  });

  await step("friend list, friend request (nickname and message), add-friend search", async () => {
    await fake((m) => window.__fake.requestFrom("67", m), REQUEST_MSG);
    await tid("nav-contacts").click();
    await literal('[data-testid="friend"][data-id="66"]', NICK);
    await literal('[data-testid="friend-request"]', NICK2);
    // The handle after the name is not reversed by the name's override.
    const handle = await page.evaluate(() => {
      const h = document.querySelector('[data-testid="friend-request"] .contact-handle');
      const r = document.createRange();
      const t = [...h.childNodes].find((n) => n.data === "evil2"); // React's "@" and the name
      const x = (i) => (r.setStart(t, i), r.setEnd(t, i + 1), r.getBoundingClientRect().left);
      return [x(0), x(1), x(2)];
    });
    assert(handle[0] < handle[1] && handle[1] < handle[2], `"@evil2" drawn in order: ${handle}`);
    await literal('[data-testid="friend-request"] .request-message', REQUEST_MSG);
    await clean("contacts");
    await tid("add-friend-button").click();
    await tid("add-friend-query").fill("evil");
    await literal('[data-testid="add-friend-user"][data-id="66"] .user-name', NICK);
    await literal('[data-testid="add-friend-user"][data-id="67"] .user-name', NICK2);
    await clean("add-friend results");
    await page.keyboard.press("Escape");
    await tid("nav-chats").click();
  });

  await step("group: its name (list, header, events), a member's name, a member's message", async () => {
    await fake(
      ([name]) => {
        const f = window.__fake;
        f.groupChange("g1", "members_added", "4", ["66"]);
        f.groupChange("g1", "renamed", "66", [], name);
      },
      [GROUP],
    );
    for (const b of BODIES.slice(0, 3)) await fake(([b]) => window.__fake.groupMessage("g1", "66", b), [b]);
    // Trudy (a right-to-left override in her name) joins and leaves: "‮evil… left the group".
    await fake(() => {
      window.__fake.groupChange("g1", "members_added", "66", ["67"]);
      window.__fake.groupChange("g1", "member_left", "67", ["67"]);
    });
    await literal('[data-testid="conversation"][data-id="g1"] .conv-name', GROUP);
    await row("g1").click();
    await literal('[data-testid="chat-name"]', GROUP);
    await literal('[data-testid="system-line"]', `${NICK} renamed the group to “${GROUP}”`);
    await literal('[data-testid="message-sender"]', NICK);
    await literal('[data-testid="system-line"]', `${NICK2} left the group`);
    // The override stays inside the name: "left" after it still reads left to right. (Not
    // yet in the chat list's preview: that sentence comes whole from the SDK's preview.)
    for (const css of ['[data-testid="system-line"]']) {
      const order = await page.evaluate(
        ([css, nick]) => {
          const el = [...document.querySelectorAll(css)].find((e) => e.textContent === `${nick} left the group`);
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode()) && !node.data.includes(" left")) {}
          const at = node.data.indexOf(" left") + 1;
          const x = (i) => {
            const r = document.createRange();
            r.setStart(node, i);
            r.setEnd(node, i + 1);
            return r.getBoundingClientRect().left;
          };
          return [x(at), x(at + 1), x(at + 2), x(at + 3)];
        },
        [css, NICK2],
      );
      assert(order.every((v, i) => i === 0 || v > order[i - 1]), `${css}: "left" drawn in order: ${order}`);
    }
    for (const b of BODIES.slice(0, 3)) await literal('[data-testid="message"] .bubble-text', b);
    await tid("group-info-button").click();
    await literal('[data-testid="group-info-name"]', GROUP);
    await literal('[data-testid="group-member"][data-id="66"]', NICK);
    await clean("group");
    await page.keyboard.press("Escape");
  });

  await step("notice: title and body", async () => {
    await fake(([t, b]) => window.__fake.notice(t, b), [NOTICE_TITLE, NOTICE_BODY]);
    await literal('[data-testid="conversation"][data-id="notices"] .conv-last', NOTICE_TITLE);
    // Away from the group with its info panel open: only the notices' pane is left.
    await row("notices").click();
    await literal('[data-testid="notice-title"]', NOTICE_TITLE);
    const panes = await page.locator("section.chat").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
    assert(panes.length === 1, `one chat pane, not ${JSON.stringify(panes)}`);
    await literal('[data-testid="notice-body"]', NOTICE_BODY);
    await clean("notices");
  });

  await step("image and sticker messages whose contents point elsewhere load nothing remote", async () => {
    await fake(
      ([evil]) => {
        const f = window.__fake;
        const at = Date.now();
        const base = { conversation_id: "66", from: "66", to: f.ME, seq: null, status: { kind: "received" }, outgoing: false };
        const image = {
          ...base,
          id: "018fffffffff0001",
          typeu: 2,
          sent_at: at,
          content: JSON.stringify({
            sha256: "a".repeat(64),
            url: `${evil}/image.png`,
            mime: "image/png\"><img src=x onerror=alert(1)>",
            w: 400,
            h: 300,
            size: 1000,
            thumb: { sha256: "b".repeat(64), url: `javascript:alert(1)`, w: 200, h: 150 },
          }),
        };
        const sticker = {
          ...base,
          id: "018fffffffff0002",
          typeu: 3,
          sent_at: at + 1,
          content: JSON.stringify({ pack: "../../evil", id: `x" onerror="window.__xss='st'`, url: `${evil}/sticker.png`, w: 160, h: 160 }),
        };
        for (const m of [image, sticker]) {
          f.messages.get("66").push(m);
          f.emit("message-received", m);
        }
      },
      [EVIL],
    );
    await row("66").click();
    await page.locator('[data-testid="message"][data-id="018fffffffff0001"] [data-testid="image-thumb"]').waitFor(T);
    await page.locator('[data-testid="message"][data-id="018fffffffff0002"] [data-testid="sticker-message"]').waitFor(T);
    // Give the images time to (fail to) load.
    await page.waitForFunction(() => [...document.querySelectorAll("img")].every((i) => i.complete), null, T);
    await clean("media messages");
  });

  await step("message search: snippets with highlights, sender and conversation names", async () => {
    await page.keyboard.press("Control+k");
    await tid("search-input").fill("zqx");
    await page.locator('[data-testid="search-group"][data-id="66"]').waitFor(T);
    await literal('[data-testid="search-group"][data-id="66"] .search-group-name', NICK);
    await literal('[data-testid="search-group"][data-id="g1"] .search-group-name', GROUP);
    await literal('[data-testid="search-group"][data-id="g1"] [data-testid="search-hit-sender"]', NICK);
    // Each snippet's text is a window onto a body, the query marked, the rest as it was typed.
    const snippets = await page.locator('[data-testid="search-snippet"]').evaluateAll((els) =>
      els.map((e) => ({ text: e.textContent, marks: [...e.querySelectorAll("mark")].map((m) => m.textContent), children: [...e.children].map((c) => c.localName) })),
    );
    assert(snippets.length >= BODIES.length, `snippets: ${snippets.length}`);
    for (const s of snippets) {
      const body = s.text.replace(/^…/, "").replace(/…$/, "");
      assert([...BODIES, LONG].some((b) => b.includes(body)), `snippet is a piece of a body: ${JSON.stringify(s.text)}`);
      assert(s.marks.length > 0 && s.marks.every((m) => m.toLowerCase() === "zqx"), `marks: ${s.marks}`);
      assert(s.children.every((c) => c === "mark" || c === "span"), `snippet children: ${s.children}`);
    }
    // A search for markup itself: found as text.
    await tid("search-input").fill("onerror");
    await page.locator('[data-testid="search-snippet"] mark', { hasText: "onerror" }).first().waitFor(T);
    await clean("search results");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
  });

  await step("the composer sends markup as text", async () => {
    await row("66").click();
    const own = `zqx own <img src=x onerror="window.__xss='own'"><b>bold</b>`;
    const input = tid("composer-input");
    await input.fill(own);
    await input.press("Enter");
    await literal('[data-testid="message"] .bubble-text', own);
    await clean("own message");
  });

  await step("nothing ran, nothing remote, no CSP violation, no page error", async () => {
    await page.waitForTimeout(300); // late image errors, late events
    await clean("at the end");
    const csp = await page.evaluate(() => window.__cspViolations);
    assert(csp.length === 0, `CSP violations: ${csp.join(" | ")}`);
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join(" | ")}`);
    assert(requests.some((u) => u.includes("/assets/")), "the request log works (the app's assets were seen)");
  });

  await context.close();
  await server.close();
}

await pass("app CSP", appCsp());
await pass("no CSP", null);
await browser.close();
console.log(`\n${results.length - failures}/${results.length} XSS/CSP steps passed`);
process.exit(failures ? 1 : 0);
