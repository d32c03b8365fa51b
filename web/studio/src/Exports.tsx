import type { Export, ExportTargetInput } from "@reelforge/client";

import { formatBytes } from "./format";

const PRESETS: { testid: string; label: string; targets: ExportTargetInput[] }[] = [
  { testid: "export-gif", label: "GIF (480p)", targets: [{ aspectRatio: "SQUARE_1_1", resolution: "R480P", container: "GIF" }] },
  { testid: "export-stories", label: "9:16 stories (MP4)", targets: [{ aspectRatio: "PORTRAIT_9_16", container: "MP4" }] },
  { testid: "export-square", label: "1:1 feed (MP4)", targets: [{ aspectRatio: "SQUARE_1_1", container: "MP4" }] },
  { testid: "export-webm", label: "16:9 WebM", targets: [{ aspectRatio: "LANDSCAPE_16_9", container: "WEBM" }] },
];

export function Exports({
  exports,
  busy,
  onExport,
}: {
  exports: Export[];
  busy: boolean;
  onExport: (targets: ExportTargetInput[]) => void;
}) {
  return (
    <div className="card">
      <h2>Exports</h2>
      <div className="actions">
        {PRESETS.map((p) => (
          <button key={p.testid} type="button" data-testid={p.testid} disabled={busy} onClick={() => onExport(p.targets)}>
            {p.label}
          </button>
        ))}
      </div>
      {exports.length ? (
        <ul className="exports" aria-live="polite">
          {exports.map((e) => (
            <li key={e.id} data-testid="export-row" data-status={e.status} data-container={e.container}>
              <span>
                {e.container} · {e.aspectRatio.replace(/^[A-Z]+_/, "").replace("_", ":")} · {e.resolution.slice(1)} · {e.fit.toLowerCase()}
              </span>
              {e.status === "COMPLETED" && e.asset ? (
                <a href={e.asset.url} download={`reelforge-${e.id.slice(0, 8)}.${e.container.toLowerCase()}`} data-testid={`download-${e.container.toLowerCase()}`}>
                  Download ({formatBytes(e.asset.sizeBytes)})
                </a>
              ) : e.status === "FAILED" ? (
                <span className="warn">failed: {e.error}</span>
              ) : (
                <span className="muted">{e.status.toLowerCase()} {e.progress}%</span>
              )}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Other sizes and formats of the finished video.</p>
      )}
    </div>
  );
}
