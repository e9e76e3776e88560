// The only module that talks to the Rust side (Tauri commands and events).
// Contract: docs/IPC.md. Every command rejects with an `IpcError` ({ kind, message }).
import { convertFileSrc, invoke, type InvokeArgs, type InvokeOptions } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  Account,
  AppInfo,
  Conversation,
  ConnectionState,
  EventMap,
  Friend,
  FriendRequest,
  FriendRequests,
  Group,
  EventName,
  HistoryCursor,
  ImageQuality,
  IndexStatus,
  IpcError,
  Member,
  Message,
  PreparedImage,
  SearchPage,
  SearchQuery,
  Settings,
  StickerPack,
  UpdateInfo,
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

async function call<T>(cmd: string, args?: InvokeArgs, options?: InvokeOptions): Promise<T> {
  try {
    return await invoke<T>(cmd, args, options);
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


// Friends (docs/PROTOCOL.md, issue 5).
export const listFriends = () => call<Friend[]>("list_friends");
export const friendRequests = () => call<FriendRequests>("friend_requests");
export const sendFriendRequest = (toUserId: string, message: string) =>
  call<FriendRequest>("send_friend_request", { toUserId, message });
export const respondFriendRequest = (id: number, accept: boolean) =>
  call<FriendRequest>("respond_friend_request", { id, accept });
export const removeFriend = (userId: string) => call<null>("remove_friend", { userId });
/** Whether a user is online (as far as the SDK knows: friends' presence is pushed). */
export const getPresence = (userId: string) => call<boolean>("get_presence", { userId });

// Groups.
export const createGroup = (name: string, members: string[]) => call<Group>("create_group", { name, members });
export const listGroups = () => call<Group[]>("list_groups");
export const getGroup = (groupId: string) => call<Group>("get_group", { groupId });
export const renameGroup = (groupId: string, name: string) => call<Group>("rename_group", { groupId, name });
export const groupMembers = (groupId: string) => call<Member[]>("group_members", { groupId });
export const addGroupMembers = (groupId: string, members: string[]) =>
  call<Group>("add_group_members", { groupId, members });
export const removeGroupMember = (groupId: string, userId: string) =>
  call<null>("remove_group_member", { groupId, userId });
export const leaveGroup = (groupId: string) => call<null>("leave_group", { groupId });

// Notices and typing.
/** Pulls changed notices from the server into the "notices" conversation. */
export const refreshNotices = () => call<null>("refresh_notices");
/** "I am typing" to the other side of a conversation (throttled by the SDK). */
export const sendTyping = (conversationId: string) => call<null>("send_typing", { conversationId });

// Full-text search (docs/SEARCH.md, issue 6).
/** Messages matching `q.text`, one page; optional arguments are left out when unset. */
export const searchMessages = (q: SearchQuery) => {
  const args: Record<string, unknown> = { text: q.text, order: q.order, offset: q.offset, limit: q.limit };
  if (q.conversationId !== undefined) args.conversationId = q.conversationId;
  if (q.sender !== undefined) args.sender = q.sender;
  if (q.fromMs !== undefined) args.fromMs = q.fromMs;
  if (q.toMs !== undefined) args.toMs = q.toMs;
  return call<SearchPage>("search", args);
};
/** Up to `limit` older and `limit` newer messages around `messageId` plus it, newest first. */
export const historyAround = (conversationId: string, messageId: string, limit: number) =>
  call<Message[]>("history_around", { conversationId, messageId, limit });
export const indexStatus = () => call<IndexStatus>("index_status");

// Images and stickers (docs/MEDIA.md, issue 7).
/**
 * Compresses an image file (its bytes go as the raw request body, not as JSON) and caches the
 * result; the answer says what would be sent. Call again to change the quality.
 */
export const prepareImage = (bytes: Uint8Array, quality: ImageQuality) =>
  call<PreparedImage>("prepare_image", bytes, { headers: { quality } });
/** Stores the image message at once (status sending); the upload runs in the background. */
export const sendImage = (to: string, image: PreparedImage) => call<Message>("send_image", { to, image });
export const stickerPacks = () => call<StickerPack[]>("sticker_packs");
export const sendSticker = (to: string, pack: string, id: string) => call<Message>("send_sticker", { to, pack, id });
/** Asks where to save a cached image (native dialog); the chosen path, or null when cancelled. */
export const saveMedia = (sha256: string, suggestedName: string) =>
  call<string | null>("save_media", { sha256, suggestedName });

// App updates (docs/UPDATES.md, issue 9).
/** Asks the server now; null when this is the newest version. */
export const checkUpdate = () => call<UpdateInfo | null>("check_update");
/**
 * Downloads, verifies and installs the update found by the last check (`update-progress`,
 * then `update-installing`); the app restarts itself shortly after this resolves.
 */
export const installUpdate = () => call<null>("install_update");

/**
 * A `hymedia` URL, answered by src-tauri from the SDK's media cache. Tauri knows the
 * platform's form of a custom scheme (`hymedia://localhost/…`, or `http://hymedia.localhost/…`
 * on Windows) but percent-encodes the whole path, slashes too: the segments are put back
 * apart so the URL reads as in docs/MEDIA.md. A test backend may answer a data: or blob: URL.
 */
function hymediaUrl(segments: string[]): string {
  const path = segments.join("/");
  const tail = segments.map(encodeURIComponent).join("/");
  let url: string;
  try {
    url = convertFileSrc(path, "hymedia");
  } catch {
    return `hymedia://localhost/${tail}`; // not inside Tauri
  }
  const whole = encodeURIComponent(path);
  return url.endsWith(whole) ? url.slice(0, url.length - whole.length) + tail : url;
}

/** The URL of a cached image or thumbnail (downloaded on first view). */
export const mediaUrl = (sha256: string) => hymediaUrl(["media", sha256]);
/** The URL of a sticker's image. */
export const stickerUrl = (pack: string, id: string) => hymediaUrl(["sticker", pack, id]);

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
