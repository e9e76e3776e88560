import { avatarColor, initials } from "../lib/avatar";

export function Avatar({ id, name, size = 48 }: { id: string; name: string; size?: number }) {
  return (
    <div
      className="avatar"
      aria-hidden="true"
      style={{ width: size, height: size, fontSize: size * 0.38, background: avatarColor(id) }}
    >
      {initials(name)}
    </div>
  );
}
