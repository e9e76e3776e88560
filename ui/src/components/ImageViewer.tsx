import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { mediaUrl, saveMedia, type ImageContent, type IpcError } from "../ipc";
import { useI18n } from "../i18n";
import { suggestedName } from "../lib/media";
import { CloseIcon, DownloadIcon, FitIcon, ZoomInIcon, ZoomOutIcon } from "./icons";

const STEP = 1.25;
const MIN_ZOOM = 0.1;
const MAX_ZOOM = 8;

interface Props {
  image: ImageContent;
  /** When the message was sent (for the suggested file name). */
  sentAt: number;
  onClose: () => void;
}

/**
 * The full-size image over the app: fit to the window, zoom in and out (buttons, + − 0 keys),
 * Esc or a click beside the image closes it, "Save as…" asks the system where to put a copy.
 */
export function ImageViewer({ image, sentAt, onClose }: Props) {
  const { t, errorText } = useI18n();
  // null: fit to the window; else the scale against the image's own pixels.
  const [zoom, setZoom] = useState<number | null>(null);
  const [fitScale, setFitScale] = useState(1);
  const [note, setNote] = useState<{ text: string; error: boolean } | null>(null);
  const [failed, setFailed] = useState(false);
  const stage = useRef<HTMLDivElement>(null);
  const w = image.w || 1;
  const h = image.h || 1;

  // The scale "fit" stands for: zooming starts from what is on the screen.
  useLayoutEffect(() => {
    const el = stage.current;
    if (!el) return;
    const measure = () => setFitScale(Math.min(1, (el.clientWidth - 32) / w, (el.clientHeight - 32) / h) || 1);
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, [w, h]);

  const scale = zoom ?? fitScale;
  const zoomBy = (f: number) => setZoom(Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, scale * f)));

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
      else if (e.key === "+" || e.key === "=") setZoom((z) => Math.min(MAX_ZOOM, (z ?? fitScale) * STEP));
      else if (e.key === "-") setZoom((z) => Math.max(MIN_ZOOM, (z ?? fitScale) / STEP));
      else if (e.key === "0") setZoom(null);
      else return;
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, [onClose, fitScale]);

  const save = async () => {
    setNote(null);
    try {
      const path = await saveMedia(image.sha256, suggestedName(image, sentAt));
      if (path) setNote({ text: t("viewer.saved", { path }), error: false });
    } catch (e) {
      setNote({ text: errorText(e as IpcError), error: true });
    }
  };

  return (
    <div className="viewer" role="dialog" aria-modal="true" aria-label={t("viewer.title")} data-testid="image-viewer">
      <div className="viewer-toolbar">
        <button type="button" className="viewer-btn" onClick={() => zoomBy(1 / STEP)} title={t("viewer.zoomOut")} aria-label={t("viewer.zoomOut")} data-testid="viewer-zoom-out">
          <ZoomOutIcon />
        </button>
        <span className="viewer-zoom" data-testid="viewer-zoom">
          {Math.round(scale * 100)}%
        </span>
        <button type="button" className="viewer-btn" onClick={() => zoomBy(STEP)} title={t("viewer.zoomIn")} aria-label={t("viewer.zoomIn")} data-testid="viewer-zoom-in">
          <ZoomInIcon />
        </button>
        <button
          type="button"
          className={`viewer-btn${zoom === null ? " active" : ""}`}
          onClick={() => setZoom(null)}
          title={t("viewer.fit")}
          aria-label={t("viewer.fit")}
          aria-pressed={zoom === null}
          data-testid="viewer-fit"
        >
          <FitIcon />
        </button>
        <button type="button" className="viewer-btn" onClick={() => void save()} title={t("viewer.saveAs")} data-testid="viewer-save">
          <DownloadIcon /> <span>{t("viewer.saveAs")}</span>
        </button>
        <button type="button" className="viewer-btn" onClick={onClose} title={t("common.close")} aria-label={t("common.close")} data-testid="viewer-close">
          <CloseIcon />
        </button>
      </div>
      <div
        className={`viewer-stage${zoom === null ? " fit" : ""}`}
        ref={stage}
        onMouseDown={(e) => e.target === e.currentTarget && onClose()}
      >
        {failed ? (
          <div className="viewer-unavailable" data-testid="image-unavailable">
            {t("image.unavailable")}
          </div>
        ) : (
          <img
            src={mediaUrl(image.sha256)}
            alt=""
            draggable={false}
            onError={() => setFailed(true)}
            style={{ width: Math.round(w * scale), height: Math.round(h * scale) }}
            data-testid="viewer-img"
          />
        )}
      </div>
      {note && (
        <div className={`viewer-note${note.error ? " error" : ""}`} role={note.error ? "alert" : "status"} data-testid="viewer-note">
          {note.text}
        </div>
      )}
    </div>
  );
}
