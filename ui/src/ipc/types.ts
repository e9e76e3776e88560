// The IPC contract (docs/IPC.md): the SDK's serde types as they serialize.

export type MessageStatus =
  | { kind: "sending" }
  | { kind: "sent" }
  | { kind: "delivered" }
  | { kind: "read" }
  | { kind: "received" }
  | { kind: "failed"; code: number; reason: string };

export interface Message {
  id: string;
  conversation_id: string;
  from: string;
  to: string;
  typeu: number;
  content: string;
  sent_at: number;
  seq: number | null;
  status: MessageStatus;
  outgoing: boolean;
}

export interface HistoryCursor {
  sent_at: number;
  id: string;
}

export interface Conversation {
  id: string;
  last_message_id: string | null;
  last_text: string | null;
  last_at: number;
  unread: number;
}

export interface Account {
  user_id: string;
  username: string;
  server: string;
}

export interface User {
  user_id: string;
  username: string;
  nickname: string;
}

/** A friend: the user plus since when and whether they are online now. */
export interface Friend extends User {
  since: number;
  online: boolean;
}

export type FriendRequestStatus = "pending" | "accepted" | "declined";

export interface FriendRequest {
  id: number;
  from: User;
  to: User;
  message: string;
  status: FriendRequestStatus;
  created_at: number;
}

/** Pending requests: sent to me, and sent by me. */
export interface FriendRequests {
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
}

/** A group; its conversation id is `group_id` (`g<n>`). */
export interface Group {
  group_id: string;
  name: string;
  owner: string;
  member_count: number;
  created_at: number;
}

export interface Member extends User {
  role: "owner" | "member";
  joined_at: number;
}

export type ConnectionState =
  | { state: "connecting" }
  | { state: "connected" }
  | { state: "reconnecting"; attempt: number; in_ms: number }
  | { state: "offline" };

export type Theme = "system" | "light" | "dark";
export type Language = "en" | "zh-CN";

export interface Settings {
  server_url: string;
  notifications: boolean;
  theme: Theme;
  language: Language;
}

export interface AppInfo {
  app_version: string;
  core_level: number;
  platform: string;
  /** Whether this build can update itself (only a packaged one can; docs/UPDATES.md, issue 9). */
  updates: "supported" | "unsupported";
}

export type IpcErrorKind =
  | "invalid_credentials"
  | "username_taken"
  | "invalid_request"
  | "unauthorized"
  | "token_expired"
  | "account_disabled"
  | "client_too_old"
  | "network"
  | "timeout"
  | "server"
  | "not_logged_in"
  | "message_too_large"
  | "not_found"
  | "already_friends"
  | "forbidden"
  | "conflict"
  | "media_too_large"
  | "unsupported_media"
  | "unsupported"
  | "no_update"
  | "update_invalid"
  | "update_failed"
  | "internal";

/** Every command's error value. */
export interface IpcError {
  kind: IpcErrorKind | string;
  message: string;
}

// Full-text search (docs/SEARCH.md, issue 6).
export type SearchOrder = "newest" | "relevance";

/** The `search` command's arguments (camelCase: Tauri maps them to the Rust parameters). */
export interface SearchQuery {
  text: string;
  conversationId?: string;
  sender?: string;
  fromMs?: number;
  toMs?: number;
  order: SearchOrder;
  offset: number;
  limit: number;
}

/** A piece of a snippet: render as text, highlight the `hit` ones. */
export interface SnippetPart {
  text: string;
  hit: boolean;
}

export interface SearchHit {
  message: Message;
  snippet: SnippetPart[];
  score: number;
}

export interface SearchPage {
  total: number;
  hits: SearchHit[];
  /** The offset of the next page; null when this was the last one. */
  next_offset: number | null;
}

/** `unavailable`: no index open (signed out, or it could not be opened). */
export interface IndexStatus {
  state: "ready" | "rebuilding" | "unavailable";
  done: number;
  total: number;
}

// Images and stickers (docs/MEDIA.md, issue 7).
/** Standard: long edge 1280 px; HD: 2560 px; Original: the file untouched (metadata removed). */
export type ImageQuality = "standard" | "hd" | "original";

export interface PreparedThumb {
  sha256: string;
  width: number;
  height: number;
  size: number;
}

/** An image compressed and cached by `prepare_image`, ready for `send_image`. */
export interface PreparedImage {
  sha256: string;
  mime: string;
  width: number;
  height: number;
  /** Bytes that will be sent. */
  size: number;
  /** Bytes of the file the user picked. */
  original_size: number;
  kept_original: boolean;
  thumb: PreparedThumb;
}

export interface Sticker {
  id: string;
  name: string;
  url: string;
  w: number;
  h: number;
}

export interface StickerPack {
  id: string;
  name: string;
  stickers: Sticker[];
}

/** The content of an image message (typeu 2). */
export interface ImageContent {
  sha256: string;
  url: string;
  mime: string;
  w: number;
  h: number;
  size: number;
  thumb: { sha256: string; url: string; w: number; h: number };
}

/** The content of a sticker message (typeu 3). */
export interface StickerContent {
  pack: string;
  id: string;
  url: string;
  w: number;
  h: number;
}

export interface UploadProgress {
  message_id: string;
  conversation_id: string;
  sent: number;
  total: number;
}

// App updates served by the server (docs/UPDATES.md, issue 9).
/** A newer release the server offers. */
export interface UpdateInfo {
  version: string;
  current_version: string;
  notes: string | null;
  /** RFC 3339. */
  date: string | null;
}

/** Bytes of the update downloaded so far; `total` null when the server did not say. */
export interface UpdateProgress {
  downloaded: number;
  total: number | null;
}

/** Event name → payload. */
export interface EventMap {
  "message-received": Message;
  "message-status": { id: string; status: MessageStatus };
  "conversation-updated": Conversation;
  "connection-state": ConnectionState;
  "kicked-out": { code: number; reason: string };
  "auth-expired": null;
  "login-rejected": { code: number; message: string };
  "unread-total": { total: number };
  "open-conversation": { conversation_id: string };
  "friend-request": FriendRequest;
  "friend-request-updated": FriendRequest;
  "friends-changed": null;
  "group-updated": Group;
  "group-left": { group_id: string };
  presence: { user_id: string; online: boolean };
  typing: { conversation_id: string; user_id: string };
  "message-removed": { id: string; conversation_id: string };
  "message-updated": Message;
  "index-progress": { done: number; total: number };
  "upload-progress": UploadProgress;
  "update-available": UpdateInfo;
  "update-progress": UpdateProgress;
  "update-installing": null;
}

export type EventName = keyof EventMap;
