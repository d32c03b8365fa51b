"""The README documents every setting the service reads."""

from __future__ import annotations

from pathlib import Path

from reelforge.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    text = README.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert not missing, f"add these settings to README.md's configuration table: {missing}"
