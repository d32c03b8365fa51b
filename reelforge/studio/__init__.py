"""Reelforge Studio and GraphiQL, served from the built files in `dist/` (made from `web/`
by `npm run build`, committed so that a machine without Node gets them with the package).

Security and caching: every page carries a Content-Security-Policy that allows only this
host (no CDN, no font service, no inline script); file names under `/assets/` carry a
content hash, so they are cached for a year as immutable, while the HTML pages are never
cached (a new build is picked up on the next load)."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

DIST = Path(__file__).parent / "dist"
ASSETS = DIST / "assets"

# Only this host: scripts, styles, images, media, fonts and connections (websockets to the
# same host included, as 'self' covers ws/wss since CSP Level 3). Nothing may frame it.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "font-src 'self' data:",  # GraphiQL's own fonts are inlined in its CSS
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".ico": "image/x-icon",
    ".json": "application/json",
}


def page(name: str) -> Response:
    """One of the built HTML pages, or a plain note when the build is missing."""
    path = DIST / name
    if not path.is_file():
        return PlainTextResponse(
            "The web build is missing: run `npm ci && npm run build` in web/.",
            status_code=503,
            headers=PAGE_HEADERS,
        )
    return HTMLResponse(path.read_text(encoding="utf-8"), headers=PAGE_HEADERS)


async def studio_page(_: Request) -> Response:
    return page("index.html")


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    path = (ASSETS / name).resolve()
    media_type = _MEDIA_TYPES.get(path.suffix)
    # Only plain files directly inside dist/assets, of a known type: no traversal, no listing.
    if path.parent != ASSETS.resolve() or media_type is None or not path.is_file():
        return PlainTextResponse("Not Found", status_code=404)
    return FileResponse(path, media_type=media_type, headers=ASSET_HEADERS)


routes: list[BaseRoute] = [
    Route("/", studio_page, methods=["GET", "HEAD"]),
    Route("/assets/{name}", asset, methods=["GET", "HEAD"]),
]
