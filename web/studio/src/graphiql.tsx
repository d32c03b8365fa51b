// GraphiQL from pinned npm packages, served by the service itself: no CDN, no font service.
// Headers (where the bearer token goes) are not persisted in localStorage unless the user
// turns that on in GraphiQL's settings.
import "graphiql/style.css";
import "./graphiql.css";

import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

const http = new URL("/graphql", window.location.href);
const ws = new URL(http);
ws.protocol = http.protocol === "https:" ? "wss:" : "ws:";

const fetcher = createGraphiQLFetcher({
  url: http.toString(),
  subscriptionUrl: ws.toString(),
});

// GraphiQL keeps its tabs and its query history in localStorage, and the history plugin
// stores each query's headers even when shouldPersistHeaders is off. This storage drops
// every "headers" field before writing unless the user turned persistence on, so a bearer
// token never lands on disk by default.
function withoutHeaders(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutHeaders);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "headers" ? null : withoutHeaders(v)]),
    );
  }
  return value;
}

function scrub(raw: string): string {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed === "string") {
      // Tab state is JSON inside a JSON string.
      return JSON.stringify(scrub(parsed));
    }
    return JSON.stringify(withoutHeaders(parsed));
  } catch {
    return raw;
  }
}

const persistHeaders = () => window.localStorage.getItem("graphiql:shouldPersistHeaders") === "true";

const storage: Storage = {
  get length() {
    return window.localStorage.length;
  },
  key: (index) => window.localStorage.key(index),
  clear: () => window.localStorage.clear(),
  getItem: (key) => window.localStorage.getItem(key),
  removeItem: (key) => window.localStorage.removeItem(key),
  setItem: (key, value) => {
    window.localStorage.setItem(key, persistHeaders() ? value : scrub(value));
  },
};

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphiQL fetcher={fetcher} shouldPersistHeaders={false} storage={storage} />
    </StrictMode>,
  );
}
