import { useEffect, useState } from "react";
import { stickerPacks, stickerUrl, type IpcError, type Sticker, type StickerPack } from "../ipc";
import { useI18n } from "../i18n";
import { loadRecentStickers, pushRecentSticker, type StickerRef } from "../lib/media";

// The packs change only with the server: asked once per run, again after a failure.
let packsOnce: Promise<StickerPack[]> | null = null;
function loadPacks(): Promise<StickerPack[]> {
  if (!packsOnce) {
    packsOnce = stickerPacks().catch((e: IpcError) => {
      packsOnce = null;
      throw e;
    });
  }
  return packsOnce;
}

/** Forgets the cached packs (tests; a sign-in on another server). */
export function resetStickerPacks() {
  packsOnce = null;
}

function StickerButton({ pack, sticker, onPick }: { pack: string; sticker: Sticker; onPick: (s: StickerRef) => void }) {
  const { t } = useI18n();
  const label = t("sticker.alt", { name: sticker.name || sticker.id });
  return (
    <button
      type="button"
      className="sticker-btn"
      title={sticker.name || sticker.id}
      aria-label={label}
      onClick={() => onPick({ pack, id: sticker.id })}
      data-testid="sticker"
      data-pack={pack}
      data-id={sticker.id}
    >
      <img src={stickerUrl(pack, sticker.id)} alt="" width={64} height={64} draggable={false} loading="lazy" />
    </button>
  );
}

/** The stickers tab of the emoji picker: recently used ones, then every pack. */
export function StickerPanel({ onPick }: { onPick: (s: StickerRef) => void }) {
  const { t, errorText } = useI18n();
  const [packs, setPacks] = useState<StickerPack[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [recent, setRecent] = useState<StickerRef[]>(() => loadRecentStickers());

  useEffect(() => {
    let live = true;
    loadPacks().then(
      (p) => live && setPacks(p),
      (e: IpcError) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [errorText]);

  const pick = (s: StickerRef) => {
    setRecent(pushRecentSticker(s));
    onPick(s);
  };

  if (error) return <div className="emoji-none" role="alert">{error}</div>;
  if (!packs) return <div className="emoji-none">{t("sticker.loading")}</div>;
  const find = (r: StickerRef) => packs.find((p) => p.id === r.pack)?.stickers.find((s) => s.id === r.id);
  const recentStickers = recent.map((r) => ({ r, s: find(r) })).filter((x): x is { r: StickerRef; s: Sticker } => !!x.s);
  if (packs.every((p) => p.stickers.length === 0)) return <div className="emoji-none">{t("sticker.none")}</div>;
  return (
    <div className="sticker-panel" data-testid="sticker-panel">
      {recentStickers.length > 0 && (
        <section data-testid="sticker-recent">
          <div className="emoji-section-title">{t("sticker.recent")}</div>
          <div className="sticker-grid">
            {recentStickers.map(({ r, s }) => (
              <StickerButton key={`${r.pack}/${r.id}`} pack={r.pack} sticker={s} onPick={pick} />
            ))}
          </div>
        </section>
      )}
      {packs.map((p) => (
        <section key={p.id} data-testid="sticker-pack" data-id={p.id}>
          <div className="emoji-section-title">{p.name || p.id}</div>
          <div className="sticker-grid">
            {p.stickers.map((s) => (
              <StickerButton key={s.id} pack={p.id} sticker={s} onPick={pick} />
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
