"""`reelforge models [--check]`: what each configured model is sent, declares and costs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from reelforge.cli import main
from reelforge.config import Settings, get_settings
from reelforge.providers.models_report import run_models
from tests.fakes.replicate import DEFAULT_TOKEN, FakeReplicate
from tests.providers.conftest import FAKE_URL


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_models_shows_each_models_inputs_and_price() -> None:
    report, code = await run_models(settings(), check=False, as_json=False)

    assert code == 0
    assert "video: kwaivgi/kling-v2.5-turbo-pro  —  $0.07 per output second" in report
    assert "video (alternate): minimax/hailuo-02" in report
    assert "declares:  prompt, prompt_template, max_tokens" in report
    assert '"prompt": "{prompt_with_instructions}"' in report


async def test_models_check_compares_with_replicates_published_schemas(
    fake: FakeReplicate, http: httpx.AsyncClient
) -> None:
    config = settings(replicate_api_token=DEFAULT_TOKEN, replicate_base_url=FAKE_URL)

    report, code = await run_models(config, check=True, as_json=True, http=http)

    assert code == 0
    rows = json.loads(report)["models"]
    assert [row["problems"] for row in rows] == [[], [], [], [], [], []]

    fake.schemas["kwaivgi/kling-v2.5-turbo-pro"] = {"prompt": {}, "start_image": {}}
    report, code = await run_models(config, check=True, as_json=False, http=http)
    assert code == 1
    assert "PROBLEM:   sends ['duration', 'negative_prompt'], not in its published inputs" in report


def test_the_cli_refuses_a_models_file_with_an_undeclared_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "models.json"
    path.write_text(
        json.dumps(
            {"plan": {"ref": "meta/meta-llama-3-70b-instruct", "input": {"system_prompt": "x"}}}
        )
    )
    monkeypatch.setenv("MODELS_FILE", str(path))
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["models"]) == 2
    finally:
        get_settings.cache_clear()
    assert "does not declare" in capsys.readouterr().err
