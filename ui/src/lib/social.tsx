// Friends, friend requests, groups, presence and typing of the signed-in user: loaded once per
// session, kept current by the backend's events, shared by every screen through a context.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import {
  friendRequests,
  listFriends,
  listGroups,
  on,
  type Friend,
  type FriendRequest,
  type Group,
} from "../ipc";
import { displayName, rememberUser } from "./users";

/** How long "typing…" stays after the last typing event. */
export const TYPING_MS = 5000;

export interface Social {
  /** Online first, then by name. */
  friends: Friend[];
  friendsLoaded: boolean;
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
  groups: Group[];
  groupsLoaded: boolean;
  /** user id → online, from the friends list and `presence` events. */
  online: Record<string, boolean>;
  /** conversation id → user id → typing until (ms). */
  typing: Record<string, Record<string, number>>;
  isFriend: (userId: string) => boolean;
  group: (groupId: string) => Group | undefined;
  /** A group's name, also after this account left it (for the chat list and history). */
  groupName: (groupId: string) => string | undefined;
  reloadFriends: () => Promise<void>;
  reloadRequests: () => Promise<void>;
  upsertGroup: (g: Group) => void;
  dropGroup: (groupId: string) => void;
  setOnline: (userId: string, online: boolean) => void;
}

const Ctx = createContext<Social | null>(null);

export function sortFriends(list: Friend[], online: Record<string, boolean> = {}): Friend[] {
  const isOn = (f: Friend) => online[f.user_id] ?? f.online;
  return list
    .slice()
    .sort(
      (a, b) =>
        Number(isOn(b)) - Number(isOn(a)) ||
        displayName(a, a.user_id).localeCompare(displayName(b, b.user_id)) ||
        a.user_id.localeCompare(b.user_id),
    );
}

function upsert<T>(list: T[], item: T, same: (a: T) => boolean): T[] {
  const i = list.findIndex(same);
  if (i < 0) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

export function SocialProvider({ children }: { children: ReactNode }) {
  const [friends, setFriends] = useState<Friend[]>([]);
  const [friendsLoaded, setFriendsLoaded] = useState(false);
  const [incoming, setIncoming] = useState<FriendRequest[]>([]);
  const [outgoing, setOutgoing] = useState<FriendRequest[]>([]);
  const [groups, setGroups] = useState<Group[]>([]);
  const [groupsLoaded, setGroupsLoaded] = useState(false);
  const [groupNames, setGroupNames] = useState<Record<string, string>>({});
  const [online, setOnlineMap] = useState<Record<string, boolean>>({});
  const [typing, setTyping] = useState<Record<string, Record<string, number>>>({});
  const live = useRef(true);

  // On failure the lists stay as they are; the next change event loads them again.
  const reloadFriends = useCallback(
    () =>
      listFriends()
        .then((list) => {
          if (!live.current) return;
          list.forEach(rememberUser);
          setFriends(list);
          // The list is fresh presence for every friend.
          setOnlineMap((cur) => ({ ...cur, ...Object.fromEntries(list.map((f) => [f.user_id, f.online])) }));
        })
        .catch(() => {})
        .finally(() => live.current && setFriendsLoaded(true)),
    [],
  );

  const reloadRequests = useCallback(
    () =>
      friendRequests()
        .then((r) => {
          if (!live.current) return;
          r.incoming.forEach((x) => rememberUser(x.from));
          r.outgoing.forEach((x) => rememberUser(x.to));
          setIncoming(r.incoming);
          setOutgoing(r.outgoing);
        })
        .catch(() => {}),
    [],
  );

  const upsertGroup = useCallback((g: Group) => {
    setGroups((cur) => upsert(cur, g, (x) => x.group_id === g.group_id));
    setGroupNames((cur) => (cur[g.group_id] === g.name ? cur : { ...cur, [g.group_id]: g.name }));
  }, []);
  const dropGroup = useCallback((id: string) => setGroups((cur) => cur.filter((g) => g.group_id !== id)), []);
  const setOnline = useCallback(
    (userId: string, on: boolean) => setOnlineMap((cur) => (cur[userId] === on ? cur : { ...cur, [userId]: on })),
    [],
  );

  useEffect(() => {
    live.current = true;
    void reloadFriends();
    void reloadRequests();
    listGroups()
      .then((list) => {
        if (!live.current) return;
        setGroups(list);
        setGroupNames((cur) => ({ ...cur, ...Object.fromEntries(list.map((g) => [g.group_id, g.name])) }));
      })
      .catch(() => {})
      .finally(() => live.current && setGroupsLoaded(true));

    const clearTyping = (conv: string, user: string) =>
      setTyping((cur) => {
        if (!cur[conv]?.[user]) return cur;
        const rest = { ...cur[conv] };
        delete rest[user];
        return { ...cur, [conv]: rest };
      });
    const timers = new Set<number>();

    const offs = [
      on("friend-request", (r) => {
        rememberUser(r.from);
        setIncoming((cur) => upsert(cur, r, (x) => x.id === r.id));
      }),
      on("friend-request-updated", (r) => {
        // Only pending requests are listed; an answered one leaves both lists.
        const keep = (list: FriendRequest[]) =>
          r.status === "pending" ? upsert(list, r, (x) => x.id === r.id) : list.filter((x) => x.id !== r.id);
        setIncoming(keep);
        setOutgoing(keep);
        if (r.status === "accepted") void reloadFriends();
      }),
      on("friends-changed", () => {
        void reloadFriends();
        void reloadRequests();
      }),
      on("group-updated", (g) => upsertGroup(g)),
      on("group-left", ({ group_id }) => dropGroup(group_id)),
      on("presence", ({ user_id, online: o }) => setOnline(user_id, o)),
      on("typing", ({ conversation_id, user_id }) => {
        const until = Date.now() + TYPING_MS;
        setTyping((cur) => ({ ...cur, [conversation_id]: { ...cur[conversation_id], [user_id]: until } }));
        const t = window.setTimeout(() => {
          timers.delete(t);
          setTyping((cur) => {
            const u = cur[conversation_id]?.[user_id];
            if (!u || u > Date.now()) return cur;
            const rest = { ...cur[conversation_id] };
            delete rest[user_id];
            return { ...cur, [conversation_id]: rest };
          });
        }, TYPING_MS + 20);
        timers.add(t);
      }),
      // Whoever sent a message has stopped typing it.
      on("message-received", (m) => clearTyping(m.conversation_id, m.from)),
    ];
    return () => {
      live.current = false;
      offs.forEach((f) => f());
      timers.forEach((t) => window.clearTimeout(t));
    };
  }, [reloadFriends, reloadRequests, upsertGroup, dropGroup, setOnline]);

  const value = useMemo<Social>(() => {
    const friendIds = new Set(friends.map((f) => f.user_id));
    const byId = new Map(groups.map((g) => [g.group_id, g]));
    return {
      friends: sortFriends(friends, online),
      friendsLoaded,
      incoming,
      outgoing,
      groups,
      groupsLoaded,
      online,
      typing,
      isFriend: (id) => friendIds.has(id),
      group: (id) => byId.get(id),
      groupName: (id) => byId.get(id)?.name ?? groupNames[id],
      reloadFriends,
      reloadRequests,
      upsertGroup,
      dropGroup,
      setOnline,
    };
  }, [friends, friendsLoaded, incoming, outgoing, groups, groupsLoaded, groupNames, online, typing, reloadFriends, reloadRequests, upsertGroup, dropGroup, setOnline]);

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSocial(): Social {
  const v = useContext(Ctx);
  if (!v) throw new Error("useSocial outside SocialProvider");
  return v;
}

/** User ids typing in a conversation right now. */
export function useTyping(conversationId: string): string[] {
  const { typing } = useSocial();
  // Entries are dropped by a timer TYPING_MS after the last event.
  return Object.keys(typing[conversationId] ?? {});
}
