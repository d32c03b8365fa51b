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

const root = document.getElementById("graphiql");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <GraphiQL fetcher={fetcher} shouldPersistHeaders={false} />
    </StrictMode>,
  );
}
