import type { RefineSceneInput, Scene } from "@reelforge/client";
import { useId, useState } from "react";

export function Storyboard({
  scenes,
  editable,
  busy,
  onRefine,
}: {
  scenes: Scene[];
  editable: boolean;
  busy: boolean;
  onRefine: (index: number, input: RefineSceneInput) => void;
}) {
  if (!scenes.length) return null;
  const total = scenes.reduce((sum, s) => sum + s.duration, 0);
  return (
    <div className="card">
      <h2>
        Storyboard <span className="muted">({scenes.length} scenes, {total.toFixed(1)} s)</span>
      </h2>
      <ol className="scenes">
        {scenes.map((scene) => (
          <SceneCard key={scene.index} scene={scene} editable={editable} busy={busy} onRefine={onRefine} />
        ))}
      </ol>
    </div>
  );
}

function SceneCard({
  scene,
  editable,
  busy,
  onRefine,
}: {
  scene: Scene;
  editable: boolean;
  busy: boolean;
  onRefine: (index: number, input: RefineSceneInput) => void;
}) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState(scene.imagePrompt);
  return (
    <li className="scene" data-testid="scene-card" data-status={scene.status} data-duration={scene.duration} aria-label={`Scene ${scene.index + 1}`}>
      {scene.image ? (
        <img src={scene.image.url} alt={`Still of scene ${scene.index + 1}: ${scene.description}`} width={scene.image.width ?? undefined} height={scene.image.height ?? undefined} />
      ) : (
        <div className="placeholder" aria-hidden="true" />
      )}
      <div className="scene-body">
        <p className="scene-title">
          <strong>Scene {scene.index + 1}</strong> · {scene.duration.toFixed(1)} s ·{" "}
          <span className={`status s-${scene.status}`}>{scene.status.replace(/_/g, " ")}</span>
        </p>
        <p>{scene.description}</p>
        {editable ? (
          open ? (
            <form
              onSubmit={(event) => {
                event.preventDefault();
                onRefine(scene.index, { imagePrompt: prompt });
                setOpen(false);
              }}
            >
              <label htmlFor={`${id}-prompt`}>New image prompt</label>
              <textarea id={`${id}-prompt`} data-testid="refine-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
              <div className="actions">
                <button type="submit" data-testid="refine-submit" disabled={busy || !prompt.trim()}>
                  Regenerate still
                </button>
                <button type="button" className="secondary" onClick={() => setOpen(false)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <button type="button" className="secondary" data-testid="refine" onClick={() => setOpen(true)} disabled={busy}>
              Refine scene
            </button>
          )
        ) : null}
      </div>
    </li>
  );
}
