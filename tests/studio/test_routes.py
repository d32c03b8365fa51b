"""Reelforge Studio and GraphiQL are served by the API itself, from the built files that ship
inside the package: hashed assets cached for a year, pages never cached, a CSP of this host."""

from __future__ import annotations

import re

import httpx

from reelforge.studio import ASSETS, DIST


def _asset_names(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="/assets/([^"]+)"', html)


async def test_studio_page_is_served_at_root_with_csp_and_no_cache(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "http" not in csp  # no other host is allowed anywhere
    assert 'id="root"' in r.text
    assert _asset_names(r.text)


async def test_hashed_assets_are_cached_as_immutable(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    for name in _asset_names(html):
        assert re.search(r"-[A-Za-z0-9_-]{8}\.(js|css)$", name), name
        r = await client.get(f"/assets/{name}")
        assert r.status_code == 200
        assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")


async def test_asset_route_serves_nothing_outside_the_build(client: httpx.AsyncClient) -> None:
    for path in ("/assets/..%2findex.html", "/assets/missing-12345678.js", "/assets/"):
        r = await client.get(path)
        assert r.status_code == 404, path


async def test_graphiql_is_served_from_this_host(client: httpx.AsyncClient) -> None:
    r = await client.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "content-security-policy" in r.headers
    assert "unpkg" not in r.text and "jsdelivr" not in r.text and "https://" not in r.text
    names = _asset_names(r.text)
    assert any(n.startswith("graphiql-") for n in names)


def test_the_build_ships_inside_the_package() -> None:
    assert (DIST / "index.html").is_file()
    assert (DIST / "graphiql.html").is_file()
    assert any(ASSETS.glob("index-*.js"))
