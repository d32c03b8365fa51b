import type { Asset, BrandKit, BrandKitInput, LogoCorner, ReelforgeClient } from "@reelforge/client";
import { toReelforgeError } from "@reelforge/client";
import type { UploadProgress } from "@reelforge/client/react";
import { useId, useState } from "react";

import { Dropzone } from "./Dropzone";

const CORNERS: { value: LogoCorner; label: string }[] = [
  { value: "TOP_RIGHT", label: "Top right" },
  { value: "TOP_LEFT", label: "Top left" },
  { value: "BOTTOM_RIGHT", label: "Bottom right" },
  { value: "BOTTOM_LEFT", label: "Bottom left" },
];

/** One upload of the editor (the logo or the font), kept apart from the scenes' uploads. */
function useSingleUpload(client: ReelforgeClient) {
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const start = (file: File) => {
    const id = Math.random().toString(36).slice(2);
    const patch = (change: Partial<UploadProgress>) => setUpload((u) => (u && u.id === id ? { ...u, ...change } : u));
    setUpload({ id, name: file.name, sent: 0, total: file.size, asset: null, error: null });
    client.upload(file, { onProgress: (sent, total) => patch({ sent, total }) }).then(
      (asset: Asset) => patch({ asset, sent: file.size, total: file.size }),
      (err: unknown) => patch({ error: toReelforgeError(err) }),
    );
  };
  return { upload, start, clear: () => setUpload(null) };
}

/**
 * The client's brand kits: each with its colours, logo and call to action, and a small editor
 * for a new one (saved with saveBrandKit; the logo and font are uploads).
 */
export function BrandKits({
  client,
  kits,
  disabled,
  onSave,
  onDelete,
}: {
  client: ReelforgeClient;
  kits: BrandKit[];
  disabled: boolean;
  /** Saves the kit; answers it, or null when the service refused it (the error is shown). */
  onSave: (input: BrandKitInput) => Promise<BrandKit | null>;
  onDelete: (id: string) => Promise<void>;
}) {
  const id = useId();
  const [name, setName] = useState("");
  const [primaryColor, setPrimary] = useState("#111111");
  const [secondaryColor, setSecondary] = useState("#ffffff");
  const [callToAction, setCallToAction] = useState("");
  const [logoCorner, setCorner] = useState<LogoCorner>("TOP_RIGHT");
  const logo = useSingleUpload(client);
  const font = useSingleUpload(client);
  const uploading = [logo.upload, font.upload].some((u) => u && !u.asset && !u.error);

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Brand kits</h2>
      {kits.length ? (
        <ul className="kits" aria-label="Your brand kits">
          {kits.map((kit) => (
            <li key={kit.id} data-testid="brand-kit" data-kit-id={kit.id}>
              {kit.logo ? <img src={kit.logo.url} alt="" width={40} height={40} /> : <span className="swatch logo-none" aria-hidden="true" />}
              <span className="kit-name">
                <strong>{kit.name}</strong>
                <span className="muted">
                  <span className="swatch" style={{ background: kit.primaryColor }} aria-hidden="true" />
                  <span className="swatch" style={{ background: kit.secondaryColor }} aria-hidden="true" />
                  {kit.primaryColor} / {kit.secondaryColor}
                  {kit.callToAction ? ` · “${kit.callToAction}”` : ""}
                  {kit.font ? ` · ${kit.font.originalFilename ?? "own font"}` : ""}
                </span>
              </span>
              <button
                type="button"
                className="secondary"
                data-testid="brand-kit-delete"
                aria-label={`Delete the brand kit ${kit.name}`}
                disabled={disabled}
                onClick={() => void onDelete(kit.id)}
              >
                Delete
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No brand kit yet: a kit puts your logo, colours and call to action on every ad.</p>
      )}
      <form
        className="kit-editor"
        aria-label="New brand kit"
        onSubmit={(event) => {
          event.preventDefault();
          void onSave({
            name: name.trim(),
            primaryColor,
            secondaryColor,
            logoCorner,
            ...(logo.upload?.asset ? { logoAssetId: logo.upload.asset.id } : {}),
            ...(font.upload?.asset ? { fontAssetId: font.upload.asset.id } : {}),
            ...(callToAction.trim() ? { callToAction: callToAction.trim() } : {}),
          }).then((saved) => {
            if (!saved) return;
            setName("");
            setCallToAction("");
            logo.clear();
            font.clear();
          });
        }}
      >
        <h3>New brand kit</h3>
        <label htmlFor={`${id}-name`}>Name</label>
        <input id={`${id}-name`} data-testid="brand-kit-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Acme coffee" />
        <div className="grid2">
          <div>
            <label htmlFor={`${id}-primary`}>Primary colour</label>
            <input id={`${id}-primary`} data-testid="brand-kit-primary" type="color" value={primaryColor} onChange={(e) => setPrimary(e.target.value)} aria-describedby={`${id}-colours`} />
          </div>
          <div>
            <label htmlFor={`${id}-secondary`}>Text colour</label>
            <input id={`${id}-secondary`} data-testid="brand-kit-secondary" type="color" value={secondaryColor} onChange={(e) => setSecondary(e.target.value)} aria-describedby={`${id}-colours`} />
          </div>
        </div>
        <p id={`${id}-colours`} className="muted">
          The primary colour fills the headline band and the end card; the text colour writes on it.
        </p>
        <label htmlFor={`${id}-cta`}>Call to action</label>
        <input id={`${id}-cta`} data-testid="brand-kit-cta" maxLength={60} value={callToAction} onChange={(e) => setCallToAction(e.target.value)} placeholder="Order today" />
        <label htmlFor={`${id}-corner`}>Logo corner</label>
        <select id={`${id}-corner`} data-testid="brand-kit-corner" value={logoCorner} onChange={(e) => setCorner(e.target.value as LogoCorner)}>
          {CORNERS.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <Dropzone
          uploads={logo.upload ? [logo.upload] : []}
          onFile={logo.start}
          disabled={disabled}
          accept="image/png,image/jpeg"
          multiple={false}
          prompt="Drop the logo here, or press to choose it"
          hint="png (transparency kept) or jpg; drawn in a corner of the platform's safe zone and on the end card."
          testid="brand-kit-logo-drop"
          inputTestid="brand-kit-logo-input"
          listLabel="Logo upload"
        />
        {logo.upload?.asset ? (
          <img className="logo-preview" data-testid="brand-kit-logo-preview" src={logo.upload.asset.url} alt="The uploaded logo" />
        ) : null}
        <Dropzone
          uploads={font.upload ? [font.upload] : []}
          onFile={font.start}
          disabled={disabled}
          accept=".ttf,.otf,font/ttf,font/otf"
          multiple={false}
          prompt="Optional: drop a font here, or press to choose it"
          hint="ttf or otf, for the headlines and the end card; without one a bundled sans serif is used."
          testid="brand-kit-font-drop"
          inputTestid="brand-kit-font-input"
          listLabel="Font upload"
        />
        <button type="submit" data-testid="brand-kit-save" disabled={disabled || uploading || !name.trim()}>
          Save brand kit
        </button>
      </form>
    </section>
  );
}
