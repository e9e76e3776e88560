import { useEffect, useState } from "react";
import { mediaUrl, prepareImage, type ImageQuality, type IpcError, type PreparedImage } from "../ipc";
import { useI18n, type StringKey } from "../i18n";
import { formatBytes } from "../lib/media";
import { Modal } from "./Modal";

const QUALITIES: ImageQuality[] = ["standard", "hd", "original"];

/** What `prepare_image` answered for one quality. */
type Prepared = { quality: ImageQuality; image: PreparedImage; error?: undefined } | { quality: ImageQuality; image?: undefined; error: string };

interface Props {
  /** The picked, dropped or pasted file's bytes. */
  bytes: Uint8Array;
  /** Sends the prepared image; resolves when the message is stored. */
  onSend: (image: PreparedImage) => Promise<void> | void;
  onCancel: () => void;
}

/**
 * Before an image goes: what will be sent (compressed as the SDK will send it), its size
 * against the file's ("4.1 MB → 212 KB") and the quality choice, which prepares it again.
 */
export function ImagePreview({ bytes, onSend, onCancel }: Props) {
  const { t, lang, errorText } = useI18n();
  const [quality, setQuality] = useState<ImageQuality>("standard");
  const [result, setResult] = useState<Prepared | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    let live = true;
    prepareImage(bytes, quality).then(
      (image) => live && setResult({ quality, image }),
      (e: IpcError) => live && setResult({ quality, error: errorText(e) }),
    );
    return () => {
      live = false;
    };
  }, [bytes, quality, errorText]);

  const busy = !result || result.quality !== quality;
  // While another quality is prepared, the last answer stays (dimmed).
  const image = result?.image ?? null;
  const canSend = !busy && !!image && !sending;

  const send = async () => {
    if (!canSend || !image) return;
    setSending(true);
    try {
      await onSend(image);
    } finally {
      setSending(false);
    }
  };

  return (
    <Modal title={t("image.previewTitle")} onClose={onCancel} testId="image-preview">
      <div className="image-preview">
        <div className={`image-preview-frame${busy ? " busy" : ""}`} aria-busy={busy}>
          {image ? (
            <img
              src={mediaUrl(image.sha256)}
              alt=""
              width={image.width}
              height={image.height}
              style={{ aspectRatio: `${image.width} / ${image.height}` }}
              data-testid="image-preview-img"
            />
          ) : (
            !result?.error && <span className="muted">{t("image.preparing")}</span>
          )}
        </div>
        {result?.error && !busy ? (
          <div className="form-error" role="alert" data-testid="image-preview-error">
            {result.error}
          </div>
        ) : (
          <div className="image-preview-facts">
            <span data-testid="image-sizes" className={busy ? "muted" : undefined}>
              {busy || !image
                ? t("image.preparing")
                : `${formatBytes(image.original_size, lang)} → ${formatBytes(image.size, lang)}`}
            </span>
            {image && !busy && (
              <span className="muted" data-testid="image-dims">
                {image.width} × {image.height}
                {image.kept_original && quality !== "original" ? ` · ${t("image.keptOriginal")}` : ""}
              </span>
            )}
          </div>
        )}
        <div className="quality-choice" role="radiogroup" aria-label={t("image.quality")}>
          {QUALITIES.map((q) => (
            <button
              key={q}
              type="button"
              role="radio"
              aria-checked={quality === q}
              className={`quality${quality === q ? " active" : ""}`}
              onClick={() => setQuality(q)}
              title={t(`image.qualityHint.${q}` as StringKey)}
              data-testid={`quality-${q}`}
            >
              {t(`image.quality.${q}` as StringKey)}
            </button>
          ))}
        </div>
        <p className="field-hint">{t(`image.qualityHint.${quality}` as StringKey)}</p>
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={onCancel} data-testid="image-cancel">
            {t("common.cancel")}
          </button>
          <button type="button" className="btn primary" onClick={() => void send()} disabled={!canSend} data-testid="image-send">
            {t("image.send")}
          </button>
        </div>
      </div>
    </Modal>
  );
}
