import type { ReactNode } from "react";
import { avatarColor, initials } from "../lib/avatar";

interface Props {
  id: string;
  name: string;
  size?: number;
  /** Shows a green dot when true (presence of a 1:1 peer or a friend). */
  online?: boolean;
  /** Replaces the initials (the notices' megaphone). */
  icon?: ReactNode;
}

export function Avatar({ id, name, size = 48, online, icon }: Props) {
  const face = (
    <div
      className={`avatar${icon ? " avatar-icon" : ""}`}
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.38, background: icon ? undefined : avatarColor(id) }}
    >
      {icon ?? initials(name)}
    </div>
  );
  if (online === undefined) return face;
  return (
    <div className="avatar-wrap" style={{ width: size, height: size }}>
      {face}
      {online && <span className="presence-dot" data-testid="presence-dot" aria-hidden="true" />}
    </div>
  );
}
