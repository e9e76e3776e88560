import { memo, type ReactNode } from "react";
import type { Message } from "../ipc";
import { useI18n, type Translate } from "../i18n";
import { parseGroupEvent, type GroupEvent } from "../lib/conversation";
import { useDisplayNames } from "../lib/users";

/**
 * The sentence for a group event; `names` resolves user ids, the signed-in user is "You".
 * `wrap` is applied to each user-chosen name (nicknames, the group's name).
 */
export function groupEventText(
  ev: GroupEvent,
  name: (id: string) => string,
  me: string,
  t: Translate,
  wrap: (s: string) => string = (s) => s,
): string {
  const who = (id: string) => (id === me ? t("sys.you") : wrap(name(id)));
  const by = who(ev.by);
  const members = ev.members.map(who).join(t("sys.sep"));
  const group = wrap(ev.group?.name ?? "");
  switch (ev.event) {
    case "created":
      return t("sys.created", { by, name: group });
    case "renamed":
      return t("sys.renamed", { by, name: group });
    case "members_added":
      return t("sys.added", { by, members });
    case "member_removed":
      return t("sys.removed", { by, members });
    case "member_left":
      return t("sys.left", { members: members || by });
  }
}

/**
 * The sentence as text with each user-chosen name in a <bdi>: a name with a right-to-left
 * override (U+202E) cannot reverse the words after it. The text content is the same as
 * `groupEventText`'s.
 */
export function groupEventNodes(ev: GroupEvent, name: (id: string) => string, me: string, t: Translate): ReactNode[] {
  const names: string[] = [];
  // NUL cannot be in a nickname or group name (the server refuses control characters).
  const text = groupEventText(ev, name, me, t, (s) => `\u0000${names.push(s) - 1}\u0000`);
  return text.split("\u0000").map((part, i) => (i % 2 === 1 ? <bdi key={i}>{names[Number(part)] ?? ""}</bdi> : part));
}

/** A group event (typeu 61) as a centered line in the chat. */
export const SystemLine = memo(function SystemLine({ message, me }: { message: Message; me: string }) {
  const { t } = useI18n();
  const ev = parseGroupEvent(message.content);
  const ids = ev ? [ev.by, ...ev.members] : [];
  const names = useDisplayNames(ids);
  const byId = new Map(ids.map((id, i) => [id, names[i]]));
  // Names, group names: all text (React escapes), never HTML.
  const text = ev ? groupEventNodes(ev, (id) => byId.get(id) ?? id, me, t) : t("msg.unknown");
  return (
    <div className="system-line" data-testid="system-line" data-id={message.id}>
      <span>{text}</span>
    </div>
  );
});
