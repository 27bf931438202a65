"""ARGUS_LEVEL_MODEL_DIR naming a folder that cannot serve fails with its cause."""

import logging
import shutil

import pytest

from argus.errors import ConfigurationError
from argus.settings import Settings
from models.serving import ARTIFACT_ROOT, serving_forecaster

REGRESSION_ARTIFACT = ARTIFACT_ROOT / "20260808-ff6d52da"


def _serve(folder):
    return serving_forecaster(Settings(level_model_dir=str(folder)))


def test_missing_folder_is_not_found(tmp_path, caplog):
    folder = tmp_path / "absent"

    with caplog.at_level(logging.WARNING), pytest.raises(ConfigurationError) as error:
        _serve(folder)

    assert f"'{folder}' not found" in str(error.value)
    assert "argus train regression" in str(error.value)
    assert "not promoted" not in caplog.text


def test_empty_folder_lists_missing_files(tmp_path):
    with pytest.raises(ConfigurationError, match=r"lacks weights\.pt, model\.json"):
        _serve(tmp_path)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ('{"kind": "adaptive_regression", ', "cannot be read: Expecting"),
        ("[1, 2]", "is not a JSON object"),
    ],
)
def test_broken_model_file_names_it(tmp_path, text, cause):
    shutil.copytree(REGRESSION_ARTIFACT, tmp_path / "model")
    model_file = tmp_path / "model" / "model.json"
    model_file.write_text(text)

    with pytest.raises(ConfigurationError) as error:
        _serve(tmp_path / "model")

    assert f"'{model_file}'" in str(error.value)
    assert cause in str(error.value)
    assert "weights.pt" not in str(error.value)


def test_committed_regression_still_serves():
    forecaster = _serve(REGRESSION_ARTIFACT)

    assert forecaster.name == "upstream_regression-20260808-ff6d52da"
