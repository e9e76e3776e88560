import { useEffect, useState } from "react";
import { getUser, type User } from "../ipc";
import { isUserId } from "./conversation";

// user id → resolved user (or null when the lookup failed: show the id).
const cache = new Map<string, User | null>();
const pending = new Map<string, Promise<User | null>>();
const subscribers = new Set<() => void>();

export function clearUserCache() {
  cache.clear();
  pending.clear();
}

export function rememberUser(u: User) {
  cache.set(u.user_id, u);
  subscribers.forEach((f) => f());
}

function fetchUser(id: string): Promise<User | null> {
  let p = pending.get(id);
  if (!p) {
    p = getUser(id)
      .then((u) => u)
      .catch(() => null)
      .then((u) => {
        cache.set(id, u);
        subscribers.forEach((f) => f());
        return u;
      });
    pending.set(id, p);
  }
  return p;
}

export function displayName(u: User | null | undefined, id: string): string {
  if (!u) return id;
  return u.nickname?.trim() || u.username || id;
}

const lookable = (id: string) => id !== "0" && isUserId(id);

/** Display names of several user ids (group events, member lists), resolved like one. */
export function useDisplayNames(ids: readonly string[]): string[] {
  const [, bump] = useState(0);
  const key = ids.join(",");
  useEffect(() => {
    const f = () => bump((n) => n + 1);
    subscribers.add(f);
    for (const id of key ? key.split(",") : []) if (!cache.has(id) && lookable(id)) void fetchUser(id);
    return () => {
      subscribers.delete(f);
    };
  }, [key]);
  return ids.map((id) => displayName(cache.get(id), id));
}

/** The display name of a user id: nickname, then username, then the id itself. */
export function useDisplayName(id: string | null | undefined): string {
  const [, bump] = useState(0);
  useEffect(() => {
    if (!id) return;
    const f = () => bump((n) => n + 1);
    subscribers.add(f);
    // Group ids (`g…`), the notices and the server ("0") are not users.
    if (!cache.has(id) && lookable(id)) void fetchUser(id);
    return () => {
      subscribers.delete(f);
    };
  }, [id]);
  if (!id) return "";
  return displayName(cache.get(id), id);
}
