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
  let nextUserId = 100;

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
  unread.set("3", 2);
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
    push(make("6", i % 3 === 0, text, now - 2 * 3600_000 - (HISTORY - i) * 3 * 60_000, { kind: i % 3 === 0 ? "read" : "received" }));
  }

  // --- app state --------------------------------------------------------------------------
  let settings = { server_url: "http://localhost:8080", notifications: true, theme: "system", language: "en" };
  let account = null;
  let conn = { state: "connected" };

  function conversation(id) {
    const list = messages.get(id) ?? [];
    const last = list[list.length - 1];
    return {
      id,
      last_message_id: last ? last.id : null,
      last_text: last ? last.content.slice(0, 200) : null,
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
    lastOwnMessage() {
      let best = null;
      for (const m of byId.values()) if (m.outgoing && (!best || m.id > best.id)) best = m;
      return best;
    },
  };

  function ack(m) {
    setTimeout(() => {
      if (fake.failNext) {
        fake.failNext = false;
        fake.setStatus(m.id, { kind: "failed", code: 0, reason: "no ACK from the server" });
      } else {
        fake.setStatus(m.id, { kind: "sent" });
      }
    }, fake.ackDelay);
  }

  const commands = {
    app_info: () => ({ app_version: "0.1.0", core_level: 1, platform: "linux" }),
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
      ack(m);
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

  async function invoke(cmd, args = {}) {
    calls.push({ cmd, args });
    const f = commands[cmd];
    const delay = cmd === "load_history" ? fake.historyLatency : fake.latency;
    await new Promise((r) => setTimeout(r, delay));
    if (!f) throw err("internal", `unknown command ${cmd}`);
    // Structured clone, like the real IPC (the UI must not share objects with the backend).
    return JSON.parse(JSON.stringify(f(args) ?? null));
  }

  window.__TAURI_INTERNALS__ = {
    invoke,
    transformCallback,
    unregisterCallback: (id) => callbacks.delete(id),
    runCallback: (id, data) => callbacks.get(id)?.(data),
    callbacks,
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
