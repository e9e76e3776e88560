import type { ConnectionState } from "../ipc";
import { useI18n } from "../i18n";

export function ConnectionBanner({ state }: { state: ConnectionState | null }) {
  const { t } = useI18n();
  if (!state || state.state === "connected") return null;
  let text: string;
  switch (state.state) {
    case "connecting":
      text = t("conn.connecting");
      break;
    case "offline":
      text = t("conn.offline");
      break;
    case "reconnecting":
      text = t("conn.reconnecting", { s: Math.max(0, Math.ceil(state.in_ms / 1000)), n: state.attempt });
      break;
  }
  return (
    <div className={`conn-banner conn-${state.state}`} role="status" data-testid="connection-banner">
      <span className="conn-dot" />
      {text}
    </div>
  );
}
