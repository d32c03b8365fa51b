"""A real browser on another origin: Debian's Chromium, driven by Playwright's Python client
(it speaks the DevTools protocol to the browser we launch; no `playwright install`).

A page served from an origin listed in ALLOWED_ORIGINS runs a query, an upload (GraphQL
multipart request with the CSRF header) and a subscription (graphql-transport-ws) against
the API on another port; the same page from an unlisted origin is refused all three."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from reelforge.app import create_app
from reelforge.config import Settings
from reelforge.runtime import Runtime
from reelforge.startup import free_port
from tests.conftest import CI, make_token
from tests.helpers import create_job
from tests.live import live_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PAGE_PORT = free_port()
LISTED = f"http://127.0.0.1:{PAGE_PORT}"
UNLISTED = f"http://localhost:{PAGE_PORT}"  # another origin: same port, another host name

pytestmark = pytest.mark.slow

# The page's script: what a frontend on its own domain does with fetch and WebSocket.
SCRIPT = """
async ({api, token, jobId}) => {
  const out = {};
  const headers = {"Authorization": `Bearer ${token}`};
  try {
    const r = await fetch(`${api}/graphql`, {
      method: "POST",
      headers: {...headers, "Content-Type": "application/json"},
      body: JSON.stringify({query: "query($n: Int!) { viewer { clientId } jobs(first: $n) { totalCount } }", variables: {n: 1}}),
    });
    out.query = await r.json();
  } catch (e) { out.query = String(e); }
  try {
    const png = Uint8Array.from(atob(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
    ), c => c.charCodeAt(0));
    const form = new FormData();
    form.append("operations", JSON.stringify({
      query: "mutation($f: Upload!) { uploadAsset(file: $f) { id originalFilename } }",
      variables: {f: null},
    }));
    form.append("map", JSON.stringify({"0": ["variables.f"]}));
    form.append("0", new Blob([png], {type: "image/png"}), "商品.png");
    const r = await fetch(`${api}/graphql`, {
      method: "POST", headers: {...headers, "apollo-require-preflight": "true"}, body: form,
    });
    out.upload = await r.json();
  } catch (e) { out.upload = String(e); }
  out.subscription = await new Promise((resolve) => {
    let ws;
    try { ws = new WebSocket(api.replace("http", "ws") + "/graphql", "graphql-transport-ws"); }
    catch (e) { resolve(String(e)); return; }
    const timer = setTimeout(() => resolve("timeout"), 10000);
    ws.onopen = () => ws.send(JSON.stringify(
      {type: "connection_init", payload: {Authorization: `Bearer ${token}`}}));
    ws.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "connection_ack") {
        ws.send(JSON.stringify({id: "1", type: "subscribe", payload: {
          query: "subscription($id: ID!) { jobProgress(jobId: $id) { status } }",
          variables: {id: jobId}}}));
      } else if (m.type === "next" || m.type === "error") {
        clearTimeout(timer); ws.close(); resolve(m);
      }
    };
    ws.onclose = (event) => { clearTimeout(timer); resolve(`closed ${event.code}`); };
  });
  return out;
}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allowed_origins": [LISTED]})


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM):
        if CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _page(_: Any) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>frontend</title><p>another origin</p>")


async def run_page(browser: Any, origin: str, api: str, token: str, job_id: str) -> dict[str, Any]:
    page = await browser.new_page()
    try:
        await page.goto(f"{origin}/")
        result: dict[str, Any] = await page.evaluate(
            SCRIPT, {"api": api, "token": token, "jobId": job_id}
        )
        return result
    finally:
        await page.close()


async def test_a_page_on_a_listed_origin_queries_uploads_and_subscribes(
    browser: Any, settings: Settings, runtime: Runtime, client: Any
) -> None:
    job = await create_job(client)
    token = make_token(settings)
    frontend = Starlette(routes=[Route("/", _page)])
    async with (
        live_server(create_app(settings, runtime=runtime)) as api_host,
        live_server(frontend, port=PAGE_PORT),
    ):
        api = f"http://{api_host}"
        listed = await run_page(browser, LISTED, api, token, job["id"])
        unlisted = await run_page(browser, UNLISTED, api, token, job["id"])

    assert listed["query"]["data"]["viewer"] == {"clientId": "acme"}, listed
    assert listed["upload"]["data"]["uploadAsset"]["originalFilename"] == "商品.png", listed
    assert listed["subscription"]["type"] == "next", listed
    assert listed["subscription"]["payload"]["data"]["jobProgress"]["status"] == "PENDING"

    assert "Failed to fetch" in unlisted["query"], unlisted
    assert "Failed to fetch" in unlisted["upload"], unlisted
    assert unlisted["subscription"] == "closed 1006", unlisted  # handshake refused (403)
