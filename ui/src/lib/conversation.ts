// Conversation kinds and the JSON contents of server-made messages (docs/PROTOCOL.md, issue 5).
import type { Group, Message } from "../ipc/types";

/** The conversation of system notices (typeu 80 messages). */
export const NOTICES_ID = "notices";
export const TYPEU_GROUP_EVENT = 61;
export const TYPEU_NOTICE = 80;
/** The server refused a message because the peer is not a friend (or not a group member). */
export const CODE_NOT_FRIENDS = 1101;

export type ConversationKind = "notices" | "group" | "direct";

export function conversationKind(id: string): ConversationKind {
  if (id === NOTICES_ID) return "notices";
  if (/^g\d+$/.test(id)) return "group";
  return "direct";
}

/** Whether an id names a user (not a group, not the notices). */
export function isUserId(id: string): boolean {
  return conversationKind(id) === "direct";
}

export interface Notice {
  id: number;
  title: string;
  body: string;
}

export type GroupEventKind = "created" | "renamed" | "members_added" | "member_removed" | "member_left";

export interface GroupEvent {
  event: GroupEventKind;
  group: Group | null;
  by: string;
  members: string[];
}

function parseObject(content: string): Record<string, unknown> | null {
  if (!content.startsWith("{")) return null;
  try {
    const v: unknown = JSON.parse(content);
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const str = (v: unknown): string => (typeof v === "string" ? v : v == null ? "" : String(v));

/** `{"id","title","body"}` of a notice message; null when it is not one. */
export function parseNotice(content: string): Notice | null {
  const o = parseObject(content);
  if (!o || !("title" in o || "body" in o)) return null;
  return { id: Number(o.id ?? 0), title: str(o.title), body: str(o.body) };
}

const GROUP_EVENTS: GroupEventKind[] = ["created", "renamed", "members_added", "member_removed", "member_left"];

/** The content of a group event (typeu 61); null when it is not one. */
export function parseGroupEvent(content: string): GroupEvent | null {
  const o = parseObject(content);
  if (!o || !GROUP_EVENTS.includes(o.event as GroupEventKind)) return null;
  const g = o.group as Record<string, unknown> | undefined;
  const group =
    g && typeof g === "object"
      ? {
          group_id: str(g.group_id),
          name: str(g.name),
          owner: str(g.owner),
          member_count: Number(g.member_count ?? 0),
          created_at: Number(g.created_at ?? 0),
        }
      : null;
  const members = Array.isArray(o.members) ? o.members.map(str) : [];
  return { event: o.event as GroupEventKind, group, by: str(o.by), members };
}

/** Messages shown as a centered line, not a bubble. */
export function isSystemMessage(m: Message): boolean {
  return m.typeu === TYPEU_GROUP_EVENT;
}
