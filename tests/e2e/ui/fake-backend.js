// A fake Tauri backend for the built UI, injected with page.addInitScript before the app loads.
// It defines window.__TAURI_INTERNALS__ the way @tauri-apps/api/mocks' mockIPC does
// (invoke, transformCallback, and the plugin:event|listen / unlisten commands), backed by an
// in-memory messenger (users, conversations, messages) that follows docs/IPC.md, and exposes
// window.__fake so the test can emit events (message-received, connection-state, ...).
(() => {
  const DAY = 86_400_000;
  const now = Date.now();
  const ME = "100";

  /** @type {Map<string, {user_id:string, username:string, nickname:string, password:string}>} */
  const users = new Map();
  const addUser = (user_id, username, nickname, password = "password123") =>
    users.set(user_id, { user_id, username, nickname, password });
  addUser("2", "alice", "Alice Chen");
  addUser("3", "bob", "Bob Smith");
  addUser("4", "lilei", "李雷");
  addUser("6", "history", "History Bot");
  addUser("7", "dmitri", "Dmitri Ivanov");
  addUser("8", "eve", "Eve");
  addUser("9", "carol", "Carol Wu");
  addUser("10", "frank", "Frank Li");
  let nextUserId = 100;
  const pub = (id) => {
    const u = users.get(id);
    return u ? { user_id: u.user_id, username: u.username, nickname: u.nickname } : { user_id: id, username: id, nickname: id };
  };

  // --- friends, requests, groups, notices (docs/PROTOCOL.md, issue 5) --------------------
  /** user id → { since, online } */
  const friends = new Map();
  const befriend = (id, online = false, since = now - 30 * DAY) => friends.set(id, { since, online });
  befriend("2", true);
  befriend("3", false);
  befriend("4", true);
  befriend("6", false);
  befriend("7", false);
  /** every request ever made, by id */
  const requests = new Map();
  let nextRequestId = 1;
  /** gid → { group_id, name, owner, created_at, members: [{ user_id, role, joined_at }] } */
  const groups = new Map();
  let nextGroupId = 1;

  let counter = 0;
  const newId = () => `018f${String(++counter).padStart(12, "0")}`;

  /** conversation id → messages in (sent_at, id) order */
  const messages = new Map();
  /** conversation id → { unread } */
  const unread = new Map();
  const byId = new Map();

  function push(m) {
    let list = messages.get(m.conversation_id);
    if (!list) messages.set(m.conversation_id, (list = []));
    let i = list.length;
    while (i > 0 && (list[i - 1].sent_at > m.sent_at || (list[i - 1].sent_at === m.sent_at && list[i - 1].id > m.id))) i--;
    list.splice(i, 0, m);
    byId.set(m.id, m);
    return m;
  }
  function make(peer, outgoing, content, sent_at, status) {
    if (peer.startsWith("g") && !outgoing) throw new Error("use groupMake for group messages");
    return {
      id: newId(),
      conversation_id: peer,
      from: outgoing ? ME : peer,
      to: outgoing ? peer : ME,
      typeu: 1,
      content,
      sent_at,
      seq: null,
      status: status ?? (outgoing ? { kind: "read" } : { kind: "received" }),
      outgoing,
    };
  }

  // --- seed data ------------------------------------------------------------------------
  const alice = [
    [0, "Hi! Are we still on for dinner this week?"],
    [1, "Yes! Thursday works best for me."],
    [0, "Perfect. The new dumpling place near the station?"],
    [1, "Sounds great 🥟 I heard their soup dumplings are amazing."],
    [0, "They are. I went last month with my sister.\nWe ordered way too much."],
    [1, "Ha, that's the right amount."],
    [0, "Did you finish the slides for Monday?"],
    [1, "Almost. Just the charts left — I'll send them tonight."],
    [0, "Thanks! No rush."],
    [1, "Sent them. Let me know what you think of the timeline page."],
    [0, "Looks really clean. Maybe make the Q3 bar a bit lighter?"],
    [1, "Good call, fixed 👍"],
    [0, "Dinner at 7 then?"],
    [1, "See you at 7! 🎉"],
  ];
  const yesterday = new Date(now - DAY);
  yesterday.setHours(17, 30, 0, 0);
  alice.forEach(([out, text], i) => {
    const t = i < 9 ? yesterday.getTime() + i * 17 * 60_000 : now - (alice.length - i) * 11 * 60_000;
    push(make("2", !!out, text, t));
  });
  push(make("3", false, "Hey, can you review my pull request?", now - 50 * 60_000));
  push(make("3", true, "Sure, looking now.", now - 45 * 60_000, { kind: "delivered" }));
  push(make("3", false, "Thanks! It's the one about reconnect backoff.", now - 20 * 60_000));
  push(make("3", false, "No hurry though 🙂", now - 19 * 60_000));
  push(make("3", false, "Was the parcel delivered yesterday?", now - 6 * DAY));
  push(make("3", true, "Yes, delivered at noon.", now - 6 * DAY + 300_000, { kind: "read" }));
  unread.set("3", 2);
  // Older history with 李雷, for search (Chinese two-character queries, a mixed line).
  push(make("4", false, "离线消息推送的问题解决了吗？", now - 9 * DAY));
  push(make("4", true, "解决了，MobileIMSDK的QoS机制会重发没有确认的消息。", now - 9 * DAY + 600_000));
  push(make("4", false, "太好了，周六我请你吃饭。", now - 9 * DAY + 900_000));
  push(make("4", false, "你好！周末一起去爬山吗？", now - DAY - 5 * 3600_000));
  push(make("4", true, "好啊，天气预报说周六是晴天 ☀️", now - DAY - 4 * 3600_000));
  push(make("4", false, "那就周六早上八点，地铁站见。", now - DAY - 3 * 3600_000));
  push(make("7", false, "The build is green again.", now - 3 * DAY));
  push(make("7", true, "Nice work!", now - 3 * DAY + 600_000, { kind: "failed", code: 0, reason: "no ACK from the server" }));
  push(make("8", false, "Happy new year!", now - 400 * DAY));

  // 10,000 messages, one every 3 minutes, ending two hours ago; some long, some multi-line.
  const HISTORY = 10_000;
  const words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(" ");
  for (let i = 0; i < HISTORY; i++) {
    const n = 3 + ((i * 7919) % 23);
    let text = `#${i + 1} ` + Array.from({ length: n }, (_, k) => words[(i + k * 3) % words.length]).join(" ");
    if (i % 17 === 0) text += "\nsecond line\nthird line";
    if (i % 29 === 0) text += " " + words.join(" ") + " " + words.join(" ");
    // Every 1000th (#501, #1501, …): something search finds deep inside the history.
    if (i % 1000 === 500) text += ` 离线消息 delivered to the phone, 周六 backup #${i + 1}`;
    push(make("6", i % 3 === 0, text, now - 2 * 3600_000 - (HISTORY - i) * 3 * 60_000, { kind: i % 3 === 0 ? "read" : "received" }));
  }

  function groupMake(gid, from, typeu, content, sent_at, status) {
    const own = from === ME;
    return {
      id: newId(),
      conversation_id: gid,
      from,
      to: gid,
      typeu,
      content,
      sent_at,
      seq: null,
      status: status ?? (own ? { kind: "sent" } : { kind: "received" }),
      outgoing: own,
    };
  }
  const groupView = (g) => ({ group_id: g.group_id, name: g.name, owner: g.owner, member_count: g.members.length, created_at: g.created_at });
  const groupEventMessage = (g, event, by, members, at = Date.now()) =>
    groupMake(g.group_id, "0", 61, JSON.stringify({ event, group: groupView(g), by, members }), at);
  function makeGroup(name, owner, memberIds, at) {
    const g = { group_id: `g${nextGroupId++}`, name, owner, created_at: at, members: [] };
    g.members.push({ user_id: owner, role: "owner", joined_at: at });
    for (const id of memberIds) if (id !== owner) g.members.push({ user_id: id, role: "member", joined_at: at });
    groups.set(g.group_id, g);
    return g;
  }
  {
    const t0 = now - 3 * 3600_000;
    const g = makeGroup("Weekend hikers", "4", [ME, "2", "3"], t0);
    push(groupEventMessage(g, "created", "4", ["4", ME, "2", "3"], t0));
    push(groupMake(g.group_id, "4", 1, "Saturday: the west ridge trail. Who's in?", t0 + 60_000));
    push(groupMake(g.group_id, "2", 1, "Me! I'll bring snacks 🍫", t0 + 5 * 60_000));
    push(groupMake(g.group_id, "3", 1, "Count me in. 8:00 at the station?", t0 + 7 * 60_000));
    push(groupMake(g.group_id, ME, 1, "Sounds good, see you there", t0 + 9 * 60_000, { kind: "sent" }));
  }
  /** The notices: typeu 80 in the conversation "notices", content {"id","title","body"}. */
  let nextNoticeId = 1;
  const noticeMessage = (title, body, at = Date.now()) => {
    const id = nextNoticeId++;
    return {
      id: `notice-${id}`,
      conversation_id: "notices",
      from: "0",
      to: ME,
      typeu: 80,
      content: JSON.stringify({ id, title, body }),
      sent_at: at,
      seq: null,
      status: { kind: "received" },
      outgoing: false,
    };
  };
  push(
    noticeMessage(
      "Welcome to Hongyan",
      "Add friends from the Contacts tab, start group chats, and keep an eye on this space for announcements.",
      now - 2 * DAY,
    ),
  );
  push(
    noticeMessage(
      "Scheduled maintenance on Sunday",
      "The server will be unavailable on Sunday from 02:00 to 03:00 (UTC).\nMessages sent during that time are delivered afterwards.",
      now - 90 * 60_000,
    ),
  );
  unread.set("notices", 1);

  // --- app state --------------------------------------------------------------------------
  let settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };
  let account = null;
  let conn = { state: "connected" };

  const nick = (id) => (id === ME && account ? "You" : users.get(id)?.nickname ?? id);
  /** The SDK's Message::preview: text, a group event line, "[Notice] title". */
  function preview(m) {
    if (m.typeu === 61) {
      const e = JSON.parse(m.content);
      const who = e.members.map(nick).join(", ");
      return { created: `${nick(e.by)} created the group`, renamed: `${nick(e.by)} renamed the group to ${e.group.name}`, members_added: `${nick(e.by)} added ${who}`, member_removed: `${nick(e.by)} removed ${who}`, member_left: `${who} left the group` }[e.event];
    }
    if (m.typeu === 80) return `[Notice] ${JSON.parse(m.content).title}`.slice(0, 200);
    if (m.typeu === 2) return "[Image]";
    if (m.typeu === 3) return "[Sticker]";
    return m.content.slice(0, 200);
  }
  function conversation(id) {
    const list = messages.get(id) ?? [];
    const last = list[list.length - 1];
    return {
      id,
      last_message_id: last ? last.id : null,
      last_text: last ? preview(last) : null,
      last_at: last ? last.sent_at : 0,
      unread: unread.get(id) ?? 0,
    };
  }
  const totalUnread = () => [...unread.values()].reduce((a, b) => a + b, 0);

  // --- the IPC plumbing (as @tauri-apps/api/mocks does it) ------------------------------
  const callbacks = new Map();
  const listeners = new Map(); // event → handler ids
  function transformCallback(cb, once = false) {
    const id = window.crypto.getRandomValues(new Uint32Array(1))[0];
    callbacks.set(id, (data) => {
      if (once) callbacks.delete(id);
      return cb && cb(data);
    });
    return id;
  }
  function emit(event, payload) {
    setTimeout(() => {
      for (const handler of [...(listeners.get(event) ?? [])]) {
        const cb = callbacks.get(handler);
        if (cb) cb({ event, id: handler, payload });
      }
    }, 0);
  }

  const err = (kind, message) => ({ kind, message });
  function groupEventOut(g, event, by, members) {
    const m = push(groupEventMessage(g, event, by, members));
    emit("message-received", m);
    emit("conversation-updated", conversation(g.group_id));
    emit("group-updated", groupView(g));
  }
  const memberGroup = (groupId) => {
    const g = groups.get(groupId);
    if (!g || !g.members.some((x) => x.user_id === ME)) throw err("not_found", "The server has no such item.");
    return g;
  };
  const calls = [];
  const fake = {
    ME,
    users,
    messages,
    calls,
    ackDelay: 700,
    failNext: false,
    latency: 5,
    historyLatency: 25,
    emit,
    historyCount: HISTORY,
    /** A message from `from` arrives (as the SDK would emit it). */
    receive(from, content) {
      const m = push(make(from, false, content, Date.now()));
      unread.set(from, (unread.get(from) ?? 0) + 1);
      emit("message-received", m);
      emit("conversation-updated", conversation(from));
      emit("unread-total", { total: totalUnread() });
      return m;
    },
    setStatus(id, status) {
      const m = byId.get(id);
      if (m) m.status = status;
      emit("message-status", { id, status });
    },
    setConnection(state) {
      conn = state;
      emit("connection-state", state);
    },
    friends,
    requests,
    groups,
    /** `userId` asks me to be friends (the SDK's FriendRequestReceived). */
    requestFrom(userId, message = "") {
      const r = { id: nextRequestId++, from: pub(userId), to: pub(ME), message, status: "pending", created_at: Date.now() };
      requests.set(r.id, r);
      emit("friend-request", r);
      return r;
    },
    /** The peer answers my request (accepted / declined). */
    peerAnswers(userId, accept) {
      const r = [...requests.values()].find((x) => x.from.user_id === ME && x.to.user_id === userId && x.status === "pending");
      if (!r) throw new Error(`no pending request to ${userId}`);
      r.status = accept ? "accepted" : "declined";
      if (accept) befriend(userId, true, Date.now());
      emit("friend-request-updated", { ...r });
      if (accept) emit("friends-changed", null);
      return r;
    },
    presence(userId, online) {
      const f = friends.get(userId);
      if (f) f.online = online;
      emit("presence", { user_id: userId, online });
    },
    typing(conversationId, userId) {
      emit("typing", { conversation_id: conversationId, user_id: userId });
    },
    /** A member writes in a group. */
    groupMessage(gid, from, text) {
      const m = push(groupMake(gid, from, 1, text, Date.now()));
      unread.set(gid, (unread.get(gid) ?? 0) + 1);
      emit("message-received", m);
      emit("conversation-updated", conversation(gid));
      emit("unread-total", { total: totalUnread() });
      return m;
    },
    /** Someone else adds a member (or renames): the group event and the new group state. */
    groupChange(gid, event, by, memberIds, newName) {
      const g = groups.get(gid);
      if (newName) g.name = newName;
      if (event === "members_added") for (const id of memberIds) g.members.push({ user_id: id, role: "member", joined_at: Date.now() });
      if (event === "member_removed" || event === "member_left") g.members = g.members.filter((m) => !memberIds.includes(m.user_id));
      groupEventOut(g, event, by, memberIds);
    },
    notice(title, body) {
      const m = push(noticeMessage(title, body));
      unread.set("notices", (unread.get("notices") ?? 0) + 1);
      emit("message-received", m);
      emit("conversation-updated", conversation("notices"));
      emit("unread-total", { total: totalUnread() });
      return m;
    },
    recallNotice(id) {
      const m = byId.get(id);
      const list = messages.get("notices");
      list.splice(list.indexOf(m), 1);
      byId.delete(id);
      emit("message-removed", { id, conversation_id: "notices" });
      emit("conversation-updated", conversation("notices"));
    },
    lastOwnMessage() {
      let best = null;
      for (const m of byId.values()) if (m.outgoing && (!best || m.id > best.id)) best = m;
      return best;
    },
  };

  // --- search (docs/SEARCH.md): a plain substring scan stands in for the real index ------
  const SNIPPET_BEFORE = 16;
  const SNIPPET_LEN = 90;
  /** The query's terms: words and "quoted phrases", lowercased; all must occur (AND). */
  function terms(text) {
    const out = [];
    for (const [, quoted, word] of text.matchAll(/"([^"]+)"|(\S+)/g)) out.push((quoted ?? word).toLowerCase());
    return out;
  }
  /** Parts of the text around the first match, `hit` on every occurrence of a term. */
  function snippet(content, ts) {
    const lower = content.toLowerCase();
    const first = Math.min(...ts.map((t) => lower.indexOf(t)).filter((i) => i >= 0));
    let start = Math.max(0, first - SNIPPET_BEFORE);
    // Start at a word when there is a space close by (CJK text has none: cut anywhere).
    const space = content.indexOf(" ", start);
    if (start > 0 && space >= 0 && space < first && space - start < 12) start = space + 1;
    const end = Math.min(content.length, start + SNIPPET_LEN);
    const marks = new Array(end - start).fill(false);
    for (const t of ts) {
      for (let i = lower.indexOf(t, start); i >= 0 && i < end; i = lower.indexOf(t, i + 1)) {
        for (let k = i; k < Math.min(end, i + t.length); k++) marks[k - start] = true;
      }
    }
    const parts = [];
    if (start > 0) parts.push({ text: "…", hit: false });
    for (let i = start; i < end; ) {
      let j = i;
      while (j < end && marks[j - start] === marks[i - start]) j++;
      parts.push({ text: content.slice(i, j), hit: marks[i - start] });
      i = j;
    }
    if (end < content.length) parts.push({ text: "…", hit: false });
    return parts;
  }
  function searchMessages({ text, conversationId, sender, fromMs, toMs, order, offset, limit }) {
    if (typeof text !== "string" || text.length > 200) throw err("invalid_request", "The search text is too long.");
    if (!(limit >= 1 && limit <= 100)) throw err("invalid_request", "limit must be between 1 and 100.");
    const ts = terms(text);
    if (ts.length === 0) return { total: 0, hits: [], next_offset: null };
    const found = [];
    for (const [cid, list] of messages) {
      if (conversationId && cid !== conversationId) continue;
      for (const m of list) {
        if (m.typeu !== 1 || (sender && m.from !== sender)) continue;
        if ((fromMs && m.sent_at < fromMs) || (toMs && m.sent_at > toMs)) continue;
        const lower = m.content.toLowerCase();
        if (!ts.every((t) => lower.includes(t))) continue;
        const score = ts.reduce((n, t) => n + lower.split(t).length - 1, 0) / Math.sqrt(m.content.length);
        found.push({ m, score });
      }
    }
    const newest = (a, b) => b.m.sent_at - a.m.sent_at || (a.m.id < b.m.id ? 1 : -1);
    found.sort(order === "relevance" ? (a, b) => b.score - a.score || newest(a, b) : newest);
    const page = found.slice(offset, offset + limit);
    return {
      total: found.length,
      hits: page.map(({ m, score }) => ({ message: { ...m }, snippet: snippet(m.content, ts), score })),
      next_offset: offset + page.length < found.length ? offset + page.length : null,
    };
  }
  /** The index rebuilds: progress events up to `total`, one step every `everyMs`. */
  function rebuildIndex(total, steps = 5, everyMs = 300) {
    fake.index = { state: "rebuilding", done: 0, total };
    let n = 0;
    const tick = () => {
      n++;
      const done = Math.min(total, Math.round((total * n) / steps));
      fake.index = { state: done >= total ? "ready" : "rebuilding", done, total };
      emit("index-progress", { done, total });
      if (done < total) setTimeout(tick, everyMs);
    };
    setTimeout(tick, everyMs);
  }
  fake.index = { state: "ready", done: 0, total: 0 };
  fake.rebuildIndex = rebuildIndex;
  fake.searchLatency = 20;

  /** Whether the server would take a message to `to` (friends only; groups need membership). */
  function allowed(to) {
    if (to.startsWith("g")) return !!groups.get(to)?.members.some((x) => x.user_id === ME);
    return to === ME || friends.has(to);
  }
  function ack(m) {
    // Decided when the message is sent: an earlier message's ACK still in flight must not
    // take the failure meant for this one.
    const fail = fake.failNext;
    fake.failNext = false;
    setTimeout(() => {
      if (!allowed(m.to)) {
        fake.setStatus(m.id, { kind: "failed", code: 1101, reason: "not friends" });
      } else if (fail) {
        fake.setStatus(m.id, { kind: "failed", code: 0, reason: "no ACK from the server" });
      } else {
        fake.setStatus(m.id, { kind: "sent" });
      }
    }, fake.ackDelay);
  }

  // --- images and stickers (docs/MEDIA.md): the browser stands in for the SDK's pipeline ---
  // Images are decoded, scaled and encoded with a canvas (long edge 1280 / 2560, JPEG q80, a
  // 320 px thumbnail), addressed by their SHA-256 and shown through blob: URLs, which the
  // UI gets from convertFileSrc exactly where the real app gets hymedia:// URLs.
  /** sha256 → { url, mime, w, h, size } */
  const media = new Map();
  const LONG_EDGE = { standard: 1280, hd: 2560 };
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  async function store(blob, w, h) {
    const bytes = await blob.arrayBuffer();
    const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
    if (!media.has(sha256)) media.set(sha256, { url: URL.createObjectURL(blob), mime: blob.type, w, h, size: bytes.byteLength });
    return { sha256, ...media.get(sha256) };
  }
  async function scaled(bitmap, longEdge, type) {
    const k = Math.min(1, longEdge / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * k));
    const h = Math.max(1, Math.round(bitmap.height * k));
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, w, h);
    return store(await canvas.convertToBlob({ type, quality: 0.8 }), w, h);
  }
  async function prepareImage(bytes, quality) {
    if (!["standard", "hd", "original"].includes(quality)) throw err("invalid_request", "quality must be standard, hd or original");
    const type = bytes[0] === 0x89 ? "image/png" : bytes[0] === 0xff ? "image/jpeg" : bytes[0] === 0x47 ? "image/gif" : bytes[0] === 0x52 ? "image/webp" : null;
    if (!type) throw err("invalid_request", "This file is not an image the app can send (JPEG, PNG, GIF or WebP).");
    const original = new Blob([bytes], { type });
    const bitmap = await createImageBitmap(original);
    const image =
      quality === "original" || Math.max(bitmap.width, bitmap.height) <= 320
        ? await store(original, bitmap.width, bitmap.height)
        : await scaled(bitmap, LONG_EDGE[quality], "image/jpeg");
    const thumb = Math.max(bitmap.width, bitmap.height) <= 320 ? image : await scaled(bitmap, 320, "image/jpeg");
    fake.prepared.push({ quality, original_size: bytes.byteLength, size: image.size });
    return {
      sha256: image.sha256,
      mime: image.mime,
      width: image.w,
      height: image.h,
      size: image.size,
      original_size: bytes.byteLength,
      kept_original: quality !== "original" && image.size === bytes.byteLength,
      thumb: { sha256: thumb.sha256, width: thumb.w, height: thumb.h, size: thumb.size },
    };
  }
  const imageContent = (image) =>
    JSON.stringify({
      sha256: image.sha256,
      url: `/api/v1/media/${image.sha256}`,
      mime: image.mime,
      w: image.width,
      h: image.height,
      size: image.size,
      thumb: { sha256: image.thumb.sha256, url: `/api/v1/media/${image.thumb.sha256}`, w: image.thumb.width, h: image.thumb.height },
    });
  /** message id → bytes its upload sends (for a retry). */
  const uploads = new Map();
  /**
   * The upload: progress in steps, then the message goes out (and is acked as any other).
   * With `fake.failNextUpload` it breaks off halfway: failed, "upload failed: …" (the SDK's).
   */
  function upload(m, total) {
    uploads.set(m.id, total);
    let step = 0;
    const failing = fake.failNextUpload;
    fake.failNextUpload = false;
    const tick = () => {
      step++;
      const sent = Math.min(total, Math.round((total * step) / fake.uploadSteps));
      if (failing && sent * 2 >= total) {
        fake.setStatus(m.id, { kind: "failed", code: 0, reason: "upload failed: connection reset" });
        return;
      }
      emit("upload-progress", { message_id: m.id, conversation_id: m.conversation_id, sent, total });
      if (sent < total) setTimeout(tick, fake.uploadStepMs);
      else ack(m);
    };
    setTimeout(tick, fake.uploadStepMs);
  }
  // The sticker pack: the project's own goose PNGs when the test passed them in, else drawn here.
  const STICKERS = ["hello", "thanks", "love", "laugh", "ok", "sorry", "sleepy", "wow"];
  const stickerColors = ["#f6c945", "#7cc6fe", "#f78fb3", "#9be38f", "#ffb26b", "#b39ddb", "#80cbc4", "#ef9a9a"];
  function stickerSrc(id) {
    const png = window.__fakeStickerPngs?.[id];
    if (png) return `data:image/png;base64,${png}`;
    const i = Math.max(0, STICKERS.indexOf(id));
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160" viewBox="0 0 160 160">` +
      `<circle cx="80" cy="84" r="64" fill="${stickerColors[i]}" stroke="#333" stroke-width="4"/>` +
      `<circle cx="58" cy="70" r="8" fill="#333"/><circle cx="102" cy="70" r="8" fill="#333"/>` +
      `<path d="M52 104 Q80 ${120 + (i % 3) * 6} 108 104" fill="none" stroke="#333" stroke-width="6" stroke-linecap="round"/>` +
      `<path d="M70 90 L90 90 L80 100 Z" fill="#f08c00"/></svg>`;
    return `data:image/svg+xml,${encodeURIComponent(svg)}`;
  }
  const packs = () => [
    {
      id: "goose",
      name: "Goose",
      stickers: (window.__fakeStickerPngs ? Object.keys(window.__fakeStickerPngs) : STICKERS).map((id) => ({
        id,
        name: id[0].toUpperCase() + id.slice(1),
        url: `/api/v1/stickers/goose/${id}.png`,
        w: 160,
        h: 160,
      })),
    },
  ];
  /** What the UI's convertFileSrc asks for: `media/<sha>` or `sticker/<pack>/<id>`. */
  function mediaSrc(path) {
    const [kind, a, b] = path.split("/");
    if (kind === "media") return media.get(a)?.url ?? "data:image/png;base64,"; // unknown: fails to load
    if (kind === "sticker" && a === "goose") return stickerSrc(b);
    return "data:image/png;base64,";
  }
  Object.assign(fake, {
    media,
    prepared: [],
    saved: [],
    uploadSteps: 4,
    uploadStepMs: 250,
    failNextUpload: false,
    stickerIds: () => packs()[0].stickers.map((s) => s.id),
    /** A peer sends an image drawn here: `w`×`h`, a gradient between two colours. */
    async receiveImage(from, w, h, colors = ["#4facfe", "#f9d423"]) {
      const canvas = new OffscreenCanvas(w, h);
      const g = canvas.getContext("2d");
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, colors[0]);
      grad.addColorStop(1, colors[1]);
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      g.fillStyle = "rgba(255,255,255,0.55)";
      g.beginPath();
      g.arc(w * 0.7, h * 0.35, Math.min(w, h) * 0.18, 0, Math.PI * 2);
      g.fill();
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer());
      const image = await prepareImage(bytes, "standard");
      const m = push({ ...make(from, false, imageContent(image), Date.now()), typeu: 2 });
      unread.set(from, (unread.get(from) ?? 0) + 1);
      emit("message-received", m);
      emit("conversation-updated", conversation(from));
      return m;
    },
    /** A peer sends a sticker. */
    receiveSticker(from, id) {
      const content = JSON.stringify({ pack: "goose", id, url: `/api/v1/stickers/goose/${id}.png`, w: 160, h: 160 });
      const m = push({ ...make(from, false, content, Date.now()), typeu: 3 });
      emit("message-received", m);
      emit("conversation-updated", conversation(from));
      return m;
    },
  });

  // --- app updates (docs/UPDATES.md, issue 9) ---------------------------------------------
  // What the server offers and how this build behaves come from `window.__fakeStart` (set by
  // the test before the app loads; read when first needed, as init scripts run in any order):
  // { update: { version, notes, size, ... } | null, updates: "supported" | "unsupported",
  //   tooOld: true (login answers client_too_old, as a server at a higher core level does) }.
  const start = () => window.__fakeStart ?? {};
  const APP_VERSION = "0.1.0";
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let updateState = null;
  /** The release the fake server offers (null: none), with how the download goes. */
  function offered() {
    if (updateState === null) {
      const u = start().update;
      updateState = {
        update: u ? { steps: 8, stepMs: 250, installMs: 900, totalKnown: true, ...u } : null,
      };
    }
    return updateState.update;
  }
  const updateInfo = (u) => ({ version: u.version, current_version: APP_VERSION, notes: u.notes ?? null, date: u.date ?? null });
  const updatesSupported = () => (start().updates ?? "supported") === "supported";
  Object.assign(fake, {
    /** The server publishes a release (the next check finds it). */
    publishUpdate(u) {
      offered();
      updateState.update = { steps: 8, stepMs: 250, installMs: 900, totalKnown: true, ...u };
    },
    /** The backend's start/daily check found it: `update-available`. */
    announceUpdate() {
      emit("update-available", updateInfo(offered()));
    },
    /** The next install breaks off after `afterSteps` steps with this error ({ kind, message }). */
    failNextInstall: null,
    /** What install_update installed (the app would restart into it now). */
    installed: null,
    tooOld: undefined,
  });
  // The backend checks at start, after the settings: the event may come before the UI listens.
  setTimeout(() => {
    if (updatesSupported() && offered()) fake.announceUpdate();
  }, 300);

  const commands = {
    app_info: () => ({ app_version: APP_VERSION, core_level: 1, platform: "linux", updates: updatesSupported() ? "supported" : "unsupported" }),
    check_update: async () => {
      if (!updatesSupported()) throw err("unsupported", "This build of Hongyan cannot update itself.");
      await sleep(150); // asks the server
      const u = offered();
      return u ? updateInfo(u) : null;
    },
    install_update: async () => {
      if (!updatesSupported()) throw err("unsupported", "This build of Hongyan cannot update itself.");
      const u = offered();
      if (!u) throw err("no_update", "There is no update to install: check first.");
      const failing = fake.failNextInstall;
      fake.failNextInstall = null;
      for (let i = 1; i <= u.steps; i++) {
        await sleep(u.stepMs);
        if (failing && i > failing.afterSteps) throw err(failing.kind, failing.message);
        emit("update-progress", { downloaded: Math.round((u.size * i) / u.steps), total: u.totalKnown ? u.size : null });
      }
      emit("update-installing", null);
      await sleep(u.installMs);
      fake.installed = u.version;
      return null;
    },
    prepare_image: (bytes, options) => {
      if (!(bytes instanceof Uint8Array)) throw err("invalid_request", "prepare_image takes the file's bytes as the request body");
      return prepareImage(bytes, options?.headers?.quality ?? "standard");
    },
    send_image: ({ to, image }) => {
      if (!account) throw err("not_logged_in", "not logged in");
      if (!media.has(image.sha256)) throw err("not_found", "That image is not prepared any more. Please attach it again.");
      const m = push({ ...make(to, true, imageContent(image), Date.now(), { kind: "sending" }), typeu: 2 });
      emit("conversation-updated", conversation(to));
      upload(m, image.size + image.thumb.size);
      return { ...m };
    },
    sticker_packs: () => packs(),
    send_sticker: ({ to, pack, id }) => {
      if (!account) throw err("not_logged_in", "not logged in");
      if (pack !== "goose" || !packs()[0].stickers.some((s) => s.id === id)) throw err("not_found", "There is no such sticker.");
      const content = JSON.stringify({ pack, id, url: `/api/v1/stickers/${pack}/${id}.png`, w: 160, h: 160 });
      const m = push({ ...make(to, true, content, Date.now(), { kind: "sending" }), typeu: 3 });
      emit("conversation-updated", conversation(to));
      ack(m);
      return { ...m };
    },
    save_media: ({ sha256, suggestedName }) => {
      if (!media.has(sha256)) throw err("not_found", "The server has no such item.");
      const path = `/home/wangfang/Pictures/${suggestedName}`;
      fake.saved.push({ sha256, suggestedName, path });
      return path;
    },
    get_settings: () => settings,
    set_settings: ({ settings: s }) => (settings = { ...s }),
    resume_session: () => account,
    register: ({ username, password, nickname }) => {
      if (!/^[A-Za-z0-9_.-]{3,32}$/.test(username)) throw err("invalid_request", "username may contain only letters A-Z, digits, '_', '.' and '-'");
      if ([...users.values()].some((u) => u.username === username)) throw err("username_taken", "this username is taken");
      const id = String(nextUserId++);
      addUser(id, username, nickname || username, password);
      const u = users.get(id);
      return { user_id: u.user_id, username: u.username, nickname: u.nickname };
    },
    login: ({ username, password }) => {
      if (fake.tooOld ?? start().tooOld) throw err("client_too_old", "This version of Hongyan is too old for the server. Please update the app.");
      const u = [...users.values()].find((x) => x.username === username);
      if (!u || u.password !== password) throw err("invalid_credentials", "invalid username or password");
      account = { user_id: u.user_id, username: u.username, server: settings.server_url.replace(/^\w+:\/\//, "").replace(":", "_") };
      return account;
    },
    logout: () => {
      account = null;
      return null;
    },
    list_conversations: () =>
      [...messages.keys()].map(conversation).filter((c) => c.last_at > 0).sort((a, b) => b.last_at - a.last_at),
    load_history: ({ conversationId, before, limit }) => {
      const list = messages.get(conversationId) ?? [];
      let end = list.length;
      if (before) {
        let lo = 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          const m = list[mid];
          if (m.sent_at < before.sent_at || (m.sent_at === before.sent_at && m.id < before.id)) lo = mid + 1;
          else hi = mid;
        }
        end = lo;
      }
      return list.slice(Math.max(0, end - limit), end).reverse().map((m) => ({ ...m }));
    },
    send_text: ({ to, text }) => {
      if (!account) throw err("not_logged_in", "not logged in");
      const m = push(make(to, true, text, Date.now(), { kind: "sending" }));
      emit("conversation-updated", conversation(to));
      ack(m);
      return { ...m };
    },
    retry_message: ({ id }) => {
      const m = byId.get(id);
      if (!m) throw err("not_found", "no such message");
      m.status = { kind: "sending" };
      // An image whose upload failed uploads again first.
      if (uploads.has(id)) upload(m, uploads.get(id));
      else ack(m);
      return { ...m };
    },
    mark_read: ({ conversationId }) => {
      if ((unread.get(conversationId) ?? 0) > 0) {
        unread.set(conversationId, 0);
        emit("conversation-updated", conversation(conversationId));
        emit("unread-total", { total: totalUnread() });
      }
      return null;
    },
    connection_state: () => conn,
    get_user: ({ userId }) => {
      const u = users.get(userId);
      if (!u) throw err("not_found", "no such user");
      return { user_id: u.user_id, username: u.username, nickname: u.nickname };
    },
    search_users: ({ query }) => {
      const q = query.toLowerCase();
      return [...users.values()]
        .filter((u) => u.username.toLowerCase().includes(q) || u.nickname.toLowerCase().includes(q))
        .map((u) => ({ user_id: u.user_id, username: u.username, nickname: u.nickname }));
    },
    list_friends: () =>
      [...friends.entries()].map(([id, f]) => ({ ...pub(id), since: f.since, online: f.online })),
    friend_requests: () => {
      const pending = [...requests.values()].filter((r) => r.status === "pending");
      return { incoming: pending.filter((r) => r.to.user_id === ME), outgoing: pending.filter((r) => r.from.user_id === ME) };
    },
    send_friend_request: ({ toUserId, message }) => {
      if (toUserId === ME) throw err("invalid_request", "You cannot befriend yourself.");
      if (!users.has(toUserId)) throw err("not_found", "The server has no such item.");
      if (friends.has(toUserId)) throw err("already_friends", "You are already friends.");
      // They had asked me: friends at once.
      const theirs = [...requests.values()].find((r) => r.from.user_id === toUserId && r.to.user_id === ME && r.status === "pending");
      if (theirs) {
        theirs.status = "accepted";
        befriend(toUserId, false, Date.now());
        emit("friends-changed", null);
        return theirs;
      }
      const r = { id: nextRequestId++, from: pub(ME), to: pub(toUserId), message: message ?? "", status: "pending", created_at: Date.now() };
      requests.set(r.id, r);
      return r;
    },
    respond_friend_request: ({ id, accept }) => {
      const r = requests.get(id);
      if (!r || r.to.user_id !== ME) throw err("not_found", "The server has no such item.");
      if (r.status !== "pending") throw err("conflict", "This request was already answered.");
      r.status = accept ? "accepted" : "declined";
      if (accept) {
        befriend(r.from.user_id, true, Date.now());
        emit("friends-changed", null);
      }
      emit("friend-request-updated", { ...r });
      return r;
    },
    remove_friend: ({ userId }) => {
      friends.delete(userId);
      emit("friends-changed", null);
      return null;
    },
    get_presence: ({ userId }) => friends.get(userId)?.online ?? false,
    create_group: ({ name, members }) => {
      if (!name.trim()) throw err("invalid_request", "The group needs a name.");
      for (const id of members) if (!friends.has(id)) throw err("invalid_request", `User ${id} is not your friend.`);
      const g = makeGroup(name.trim(), ME, members, Date.now());
      groupEventOut(g, "created", ME, g.members.map((m) => m.user_id));
      return groupView(g);
    },
    list_groups: () => [...groups.values()].filter((g) => g.members.some((x) => x.user_id === ME)).map(groupView),
    get_group: ({ groupId }) => groupView(memberGroup(groupId)),
    rename_group: ({ groupId, name }) => {
      const g = memberGroup(groupId);
      if (!name.trim()) throw err("invalid_request", "The group needs a name.");
      g.name = name.trim();
      groupEventOut(g, "renamed", ME, []);
      return groupView(g);
    },
    group_members: ({ groupId }) =>
      memberGroup(groupId).members.map((m) => ({ ...pub(m.user_id), role: m.role, joined_at: m.joined_at })),
    add_group_members: ({ groupId, members }) => {
      const g = memberGroup(groupId);
      const added = members.filter((id) => !g.members.some((x) => x.user_id === id));
      for (const id of added) g.members.push({ user_id: id, role: "member", joined_at: Date.now() });
      groupEventOut(g, "members_added", ME, added);
      return groupView(g);
    },
    remove_group_member: ({ groupId, userId }) => {
      const g = memberGroup(groupId);
      if (userId !== ME && g.owner !== ME) throw err("forbidden", "Only the owner may remove members.");
      g.members = g.members.filter((x) => x.user_id !== userId);
      groupEventOut(g, userId === ME ? "member_left" : "member_removed", ME, [userId]);
      if (userId === ME) emit("group-left", { group_id: groupId });
      return null;
    },
    leave_group: ({ groupId }) => commands.remove_group_member({ groupId, userId: ME }),
    refresh_notices: () => null,
    search: (q) => searchMessages(q),
    history_around: ({ conversationId, messageId, limit }) => {
      const list = messages.get(conversationId) ?? [];
      const at = list.findIndex((m) => m.id === messageId);
      if (at < 0) throw err("not_found", "No such message.");
      return list.slice(Math.max(0, at - limit), at + limit + 1).reverse().map((m) => ({ ...m }));
    },
    index_status: () => ({ ...fake.index }),
    send_typing: () => null,
    "plugin:event|listen": ({ event, handler }) => {
      if (!listeners.has(event)) listeners.set(event, []);
      listeners.get(event).push(handler);
      return handler;
    },
    "plugin:event|unlisten": ({ event, eventId }) => {
      const list = listeners.get(event);
      if (list) {
        const i = list.indexOf(eventId);
        if (i >= 0) list.splice(i, 1);
      }
      return null;
    },
  };

  async function invoke(cmd, args = {}, options = {}) {
    // A raw body (prepare_image) is recorded by its size only.
    calls.push({ cmd, args: args instanceof Uint8Array ? { bytes: args.byteLength, headers: options.headers } : args });
    const f = commands[cmd];
    const delay =
      cmd === "load_history" || cmd === "history_around" ? fake.historyLatency : cmd === "search" ? fake.searchLatency : fake.latency;
    await new Promise((r) => setTimeout(r, delay));
    if (!f) throw err("internal", `unknown command ${cmd}`);
    // Structured clone, like the real IPC (the UI must not share objects with the backend).
    return JSON.parse(JSON.stringify((await f(args, options)) ?? null));
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    runCallback: (id, data) => callbacks.get(id)?.(data),
    callbacks,
    convertFileSrc: (filePath) => mediaSrc(filePath),
    metadata: { currentWindow: { label: "main" }, currentWebview: { windowLabel: "main", label: "main" } },
  };
  window.__TAURI_EVENT_PLUGIN_INTERNALS__ = {
    unregisterListener: (event, id) => callbacks.delete(id),
  };
  window.__fake = fake;

  window.__cspViolations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
  });
})();
