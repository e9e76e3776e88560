// The only module that talks to the Rust side (Tauri commands and events).
// Contract: docs/IPC.md. Every command rejects with an `IpcError` ({ kind, message }).
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  Account,
  AppInfo,
  Conversation,
  ConnectionState,
  EventMap,
  EventName,
  HistoryCursor,
  IpcError,
  Message,
  Settings,
  User,
} from "./types";

export * from "./types";

/** Turns whatever a rejected invoke gave us into an `IpcError`. */
export function toIpcError(e: unknown): IpcError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const o = e as { kind: unknown; message: unknown };
    return { kind: String(o.kind), message: String(o.message) };
  }
  if (e instanceof Error) return { kind: "internal", message: e.message };
  return { kind: "internal", message: String(e) };
}

export function isIpcError(e: unknown): e is IpcError {
  return !!e && typeof e === "object" && "kind" in e && "message" in e;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

export const appInfo = () => call<AppInfo>("app_info");
export const getSettings = () => call<Settings>("get_settings");
export const setSettings = (settings: Settings) => call<Settings>("set_settings", { settings });
export const resumeSession = () => call<Account | null>("resume_session");
export const register = (username: string, password: string, nickname?: string) =>
  call<User>("register", nickname ? { username, password, nickname } : { username, password });
export const login = (username: string, password: string, remember: boolean) =>
  call<Account>("login", { username, password, remember });
export const logout = () => call<null>("logout");
export const listConversations = () => call<Conversation[]>("list_conversations");
/** Newest first. */
export const loadHistory = (conversationId: string, limit: number, before?: HistoryCursor) =>
  call<Message[]>("load_history", before ? { conversationId, before, limit } : { conversationId, limit });
export const sendText = (to: string, text: string) => call<Message>("send_text", { to, text });
export const retryMessage = (id: string) => call<Message>("retry_message", { id });
export const markRead = (conversationId: string) => call<null>("mark_read", { conversationId });
export const connectionState = () => call<ConnectionState>("connection_state");
export const getUser = (userId: string) => call<User>("get_user", { userId });
export const searchUsers = (query: string) => call<User[]>("search_users", { query });

export type Unlisten = () => void;

/**
 * Subscribes to a backend event; returns a synchronous unsubscribe that is safe to call
 * before the subscription has been set up (React effect cleanups).
 */
export function on<K extends EventName>(name: K, handler: (payload: EventMap[K]) => void): Unlisten {
  let done = false;
  let un: (() => void) | null = null;
  listen<EventMap[K]>(name, (e) => {
    if (!done) handler(e.payload);
  })
    .then((u) => {
      if (done) u();
      else un = u;
    })
    .catch(() => {
      /* not running inside Tauri (plain browser): no events */
    });
  return () => {
    done = true;
    if (un) un();
  };
}
