import { useI18n } from "../i18n";
import { conversationKind } from "./conversation";
import { useSocial } from "./social";
import { useDisplayName } from "./users";

/** What a conversation is called: "Notices", the group's name, or the peer's name. */
export function useConversationName(id: string): string {
  const { t } = useI18n();
  const social = useSocial();
  const user = useDisplayName(id);
  switch (conversationKind(id)) {
    case "notices":
      return t("notices.title");
    case "group":
      return social.groupName(id) || t("group.unnamed", { id });
    default:
      return user;
  }
}
