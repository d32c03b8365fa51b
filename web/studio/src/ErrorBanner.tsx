import type { ReelforgeError } from "@reelforge/client";

export function ErrorBanner({ error, onDismiss }: { error: ReelforgeError | null; onDismiss: () => void }) {
  if (!error) return null;
  return (
    <div className="card error" role="alert" data-testid="error" data-code={error.code}>
      <strong>{error.code}</strong>: {error.message}
      <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss the error">
        Dismiss
      </button>
    </div>
  );
}
