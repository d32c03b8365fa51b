"""The model catalog: typed templates, prices, and the override file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reelforge.providers.base import PredictionKind
from reelforge.providers.catalog import (
    DEFAULT_CATALOG,
    CatalogError,
    ModelSpec,
    load_catalog,
)
from tests.fakes.replicate import load_schemas


def test_the_defaults_are_official_replicate_models() -> None:
    assert DEFAULT_CATALOG.plan.ref == "meta/meta-llama-3-70b-instruct"
    assert DEFAULT_CATALOG.image.ref == "black-forest-labs/flux-schnell"
    assert DEFAULT_CATALOG.video.ref == "kwaivgi/kling-v2.5-turbo-pro"
    assert [s.ref for s in DEFAULT_CATALOG.alternates] == ["minimax/hailuo-02"]
    # MusicGen is not an "official" model on Replicate: it is run by a pinned version.
    assert [s.ref for s in DEFAULT_CATALOG.specs() if s.version is not None] == [
        DEFAULT_CATALOG.music.ref
    ]
    assert DEFAULT_CATALOG.speech.ref == "minimax/speech-2.6-turbo"


def test_every_default_declares_its_inputs_as_published() -> None:
    """The catalog's declared inputs are the schemas kept as test data (what the fake checks)."""
    schemas = load_schemas()
    for spec in DEFAULT_CATALOG.specs():
        assert spec.declared_inputs is not None, spec.ref
        assert set(spec.declared_inputs) == set(schemas[spec.model]), spec.ref
        assert set(spec.input) <= set(schemas[spec.model]), spec.ref
        assert spec.description and spec.notes, spec.ref


@pytest.mark.parametrize(
    ("ratio", "model"),
    [
        ("16:9", "kwaivgi/kling-v2.5-turbo-pro"),
        ("9:16", "kwaivgi/kling-v2.5-turbo-pro"),
        ("1:1", "minimax/hailuo-02"),
        ("4:5", "minimax/hailuo-02"),
    ],
)
def test_square_and_portrait_ads_animate_with_a_model_that_keeps_the_stills_ratio(
    ratio: str, model: str
) -> None:
    spec = DEFAULT_CATALOG.spec(PredictionKind.VIDEO, ratio)
    assert spec.ref == model
    assert spec.makes(ratio)
    assert DEFAULT_CATALOG.spec(PredictionKind.IMAGE, ratio).makes(ratio)


def test_the_plan_model_without_a_system_input_gets_the_instructions_in_its_prompt() -> None:
    spec = DEFAULT_CATALOG.plan
    assert "system_prompt" not in (spec.declared_inputs or ())
    assert spec.input["prompt"] == "{prompt_with_instructions}"
    assert "prompt_template" not in spec.input  # Replicate .format()s it: JSON braces break it


def test_a_spec_sending_an_undeclared_input_is_refused_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(
        json.dumps(
            {
                "plan": {
                    "ref": "meta/meta-llama-3-70b-instruct",
                    "input": {"prompt": "{prompt}", "system_prompt": "{instructions}"},
                }
            }
        )
    )
    with pytest.raises(CatalogError, match=r"\['system_prompt'\].*does not declare"):
        load_catalog(path)


def test_a_spec_with_its_own_declared_inputs_is_checked_against_them() -> None:
    with pytest.raises(ValueError, match="does not declare"):
        ModelSpec(
            kind=PredictionKind.IMAGE,
            ref="acme/painter",
            input={"prompt": "{prompt}", "steps": 4},
            declared_inputs=("prompt",),
        )
    # Unknown model, nothing declared: the catalog cannot check, so it trusts the file.
    ModelSpec(kind=PredictionKind.IMAGE, ref="acme/painter", input={"steps": 4})


def test_a_plan_spec_whose_instructions_reach_nowhere_is_refused() -> None:
    with pytest.raises(ValueError, match="instructions never reach"):
        ModelSpec(kind=PredictionKind.PLAN, ref="acme/llm", input={"prompt": "{prompt}"})


def test_a_plan_model_with_a_system_input_gets_the_instructions_there() -> None:
    spec = ModelSpec(
        kind=PredictionKind.PLAN,
        ref="meta/meta-llama-3.1-405b-instruct",
        input={"prompt": "{prompt}", "system_prompt": "{instructions}"},
    )
    rendered = spec.render_input(
        {"prompt": "Brief: shoes", "instructions": "Answer with JSON only"}
    )
    assert rendered == {"prompt": "Brief: shoes", "system_prompt": "Answer with JSON only"}


def test_a_versioned_ref_is_split_into_model_and_version() -> None:
    spec = DEFAULT_CATALOG.image.model_copy(update={"ref": "acme/flux:" + "0f" * 32})
    assert spec.model == "acme/flux"
    assert spec.version == "0f" * 32


def test_an_exact_placeholder_keeps_its_type() -> None:
    spec = DEFAULT_CATALOG.video
    rendered = spec.render_input(
        {"image": "data:image/png;base64,AA", "prompt": "pan", "duration": 5}
    )
    assert rendered["duration"] == 5
    assert rendered["start_image"] == "data:image/png;base64,AA"
    assert rendered["negative_prompt"].startswith("text, watermark")  # a literal, as written


def test_text_templates_interpolate_and_none_drops_the_field() -> None:
    spec = ModelSpec(
        kind=PredictionKind.IMAGE,
        ref="acme/painter",
        input={
            "prompt": "{prompt}, in {aspect_ratio}",
            "seed": "{seed}",
            "negative": "{title}",
            "example": '{"json": "kept"} and {unknown} kept',
            "steps": 4,
            "loras": ["{prompt}", "fixed"],
        },
    )
    rendered = spec.render_input(
        {"prompt": "a bike", "aspect_ratio": "1:1", "seed": 3, "title": None}
    )
    assert rendered == {
        "prompt": "a bike, in 1:1",
        "seed": 3,
        "example": '{"json": "kept"} and {unknown} kept',
        "steps": 4,
        "loras": ["a bike", "fixed"],
    }


def test_an_unknown_exact_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown for image"):
        ModelSpec(kind=PredictionKind.IMAGE, ref="acme/painter", input={"prompt": "{promt}"})


@pytest.mark.parametrize(("requested", "made"), [(1, 5), (5, 5), (5.5, 10), (10, 10), (14, 10)])
def test_video_durations_round_up_to_what_the_model_accepts(requested: float, made: int) -> None:
    assert DEFAULT_CATALOG.video.output_duration(requested) == made


def test_free_form_durations_round_up_to_whole_seconds() -> None:
    spec = DEFAULT_CATALOG.video.model_copy(update={"durations": None})
    assert spec.output_duration(3.2) == 4
    assert spec.output_duration(0.2) == 1


def test_costs_follow_the_published_prices() -> None:
    assert DEFAULT_CATALOG.cost(PredictionKind.IMAGE) == pytest.approx(0.003)
    assert DEFAULT_CATALOG.cost(PredictionKind.VIDEO, duration=5) == pytest.approx(0.35)
    assert DEFAULT_CATALOG.cost(PredictionKind.VIDEO, duration=7) == pytest.approx(0.70)
    square = DEFAULT_CATALOG.cost(PredictionKind.VIDEO, duration=5, aspect_ratio="1:1")
    assert square == pytest.approx(6 * 0.045)  # Hailuo makes 6 s at least
    assert DEFAULT_CATALOG.cost(
        PredictionKind.PLAN, input_tokens=1_000_000, output_tokens=1_000_000
    ) == pytest.approx(0.65 + 2.75)


def test_hardware_priced_models_cost_by_predict_time() -> None:
    spec = DEFAULT_CATALOG.image.model_copy(
        update={"price_per_output": 0.0, "price_per_second": 0.001400, "expected_predict_time": 10}
    )
    assert spec.cost(predict_time=20) == pytest.approx(0.028)
    assert spec.estimate() == pytest.approx(0.014)


def test_estimates_are_positive_for_every_paid_kind() -> None:
    assert DEFAULT_CATALOG.estimate(PredictionKind.PLAN) > 0
    assert DEFAULT_CATALOG.estimate(PredictionKind.IMAGE) == pytest.approx(0.003)
    assert DEFAULT_CATALOG.estimate(PredictionKind.VIDEO, duration=8) == pytest.approx(0.7)


def test_no_file_means_the_defaults() -> None:
    assert load_catalog(None) == DEFAULT_CATALOG


def test_a_file_replaces_the_specs_it_names(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text(
        json.dumps(
            {
                "video": {
                    "ref": "wavespeedai/wan-2.1-i2v-480p",
                    "input": {"image": "{image}", "prompt": "{prompt}", "num_frames": 81},
                    "price_per_output_second": 0.09,
                }
            }
        )
    )
    catalog = load_catalog(path)

    assert catalog.video.ref == "wavespeedai/wan-2.1-i2v-480p"
    assert catalog.video.kind is PredictionKind.VIDEO
    assert catalog.image == DEFAULT_CATALOG.image
    assert catalog.estimate(PredictionKind.VIDEO, duration=5) == pytest.approx(0.45)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not readable JSON"),
        ("[]", "JSON object"),
        ('{"musik": {}}', "unknown keys"),
        ('{"alternates": {}}', "must be a list"),
        ('{"image": {"ref": "flux", "input": {}}}', "image.ref"),
        ('{"image": {"ref": "a/b", "input": {}, "price_per_output": -1}}', "price_per_output"),
        ('{"image": {"ref": "a/b", "input": {}, "prise": 1}}', "prise"),
        ('{"image": {"ref": "a/b", "input": {"prompt": "{image}"}}}', "unknown for image"),
        ('{"image": {"kind": "video", "ref": "a/b", "input": {}}}', "has kind"),
    ],
)
def test_a_bad_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "models.json"
    path.write_text(content)
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "nope.json")


# -- `reelforge models --check` and the README's MODELS_FILE examples ---------------------------


@pytest.mark.parametrize("name", ["cheap", "premium"])
def test_the_readme_models_file_examples_load(name: str) -> None:
    path = Path(__file__).parents[2] / "docs" / "models" / f"{name}.json"
    catalog = load_catalog(path)
    for spec in catalog.specs():
        assert spec.declared_inputs is not None, spec.ref  # every input checked at start-up
    assert catalog.spec(PredictionKind.VIDEO, "4:5").makes("4:5")
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"docs/models/{name}.json" in readme
