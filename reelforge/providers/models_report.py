"""`reelforge models [--check]`: every configured model with the inputs it is sent, the inputs
it declares, its durations, aspect ratios, price and note. `--check` also asks Replicate (with a
token) for each model's published input schema and reports any input we send that it does not
declare, or a model it does not know."""

from __future__ import annotations

import json
from typing import Any

import httpx

from reelforge.config import Settings
from reelforge.providers.base import PredictionKind, ProviderError
from reelforge.providers.catalog import Catalog, ModelSpec, load_catalog


def describe(spec: ModelSpec, role: str) -> dict[str, Any]:
    return {
        "role": role,
        "model": spec.ref,
        "sends": {key: _short(value) for key, value in spec.input.items()},
        "declared_inputs": list(spec.declared_inputs) if spec.declared_inputs else None,
        "durations": list(spec.durations) if spec.durations else None,
        "aspect_ratios": (
            "follows the input image"
            if spec.follows_input_aspect
            else (list(spec.aspect_ratios) if spec.aspect_ratios else "any")
        ),
        "price": spec.price_text(),
        "estimate": round(spec.estimate(5.0), 6),
        "description": spec.description,
        "notes": spec.notes,
    }


def catalog_report(catalog: Catalog) -> list[dict[str, Any]]:
    rows = [describe(catalog.spec(kind), kind.value) for kind in PredictionKind]
    rows += [describe(spec, f"{spec.kind.value} (alternate)") for spec in catalog.alternates]
    return rows


def format_report(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        lines.append(f"{row['role']}: {row['model']}  —  {row['price']}")
        lines.append(f"  {row['description']}")
        lines.append(f"  sends:     {json.dumps(row['sends'], ensure_ascii=False)}")
        declared = row["declared_inputs"]
        lines.append(f"  declares:  {', '.join(declared) if declared else 'unknown'}")
        if row["durations"]:
            lines.append(f"  durations: {', '.join(f'{d} s' for d in row['durations'])}")
        ratios = row["aspect_ratios"]
        if not row["role"].startswith("plan"):
            shown = ratios if isinstance(ratios, str) else ", ".join(ratios)
            lines.append(f"  ratios:    {shown}")
        per = " for a 5 s clip" if row["role"].startswith("video") else " each"
        lines.append(f"  estimate:  ${row['estimate']:g}{per}")
        if row["notes"]:
            lines.append(f"  notes:     {row['notes']}")
        for problem in row.get("problems", []):
            lines.append(f"  PROBLEM:   {problem}")
        lines.append("")
    return "\n".join(lines)


async def check_against_replicate(
    catalog: Catalog, settings: Settings, http: httpx.AsyncClient | None = None
) -> dict[str, list[str]]:
    """Problems by model ref, from each model's published schema on Replicate."""
    from reelforge.providers.replicate.http import ReplicateClient

    assert settings.replicate_api_token is not None
    client = ReplicateClient(
        token=settings.replicate_api_token.get_secret_value(),
        base_url=settings.replicate_base_url,
        http=http,
    )
    problems: dict[str, list[str]] = {}
    try:
        for spec in catalog.specs():
            try:
                published = await client.model_inputs(spec)
            except ProviderError as exc:
                problems[spec.ref] = [f"Replicate does not answer for it: {exc}"]
                continue
            undeclared = sorted(set(spec.input) - set(published))
            found = []
            if undeclared:
                found.append(f"sends {undeclared}, not in its published inputs")
            if spec.declared_inputs and set(spec.declared_inputs) != set(published):
                found.append(
                    f"declared inputs differ from the published ones: published {sorted(published)}"
                )
            if found:
                problems[spec.ref] = found
    finally:
        await client.aclose()
    return problems


async def run_models(
    settings: Settings, *, check: bool, as_json: bool, http: httpx.AsyncClient | None = None
) -> tuple[str, int]:
    """The report and the exit code (1 when --check found a problem). A bad MODELS_FILE
    raises CatalogError, as at start-up."""
    catalog = load_catalog(settings.models_file)
    rows = catalog_report(catalog)
    code = 0
    header = f"provider: {settings.provider_name}; models file: {settings.models_file or 'none'}"
    if check:
        if settings.replicate_api_token is None:
            header += "\n(--check without REPLICATE_API_TOKEN: the catalog is valid; "
            header += "published schemas not compared)"
        else:
            problems = await check_against_replicate(catalog, settings, http)
            for row in rows:
                row["problems"] = problems.get(row["model"], [])
            code = 1 if problems else 0
            header += f"\nchecked against Replicate: {len(problems)} model(s) with problems"
    if as_json:
        return json.dumps({"models": rows}, indent=2), code
    return header + "\n\n" + format_report(rows), code


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 60:
        return value[:57] + "..."
    return value
