"""The environment editor offers the seeds' prebuilt inference images by their seeds' names."""

from __future__ import annotations

import re

from jupyter_deploy.spec.environment import Environment
from jupyter_deploy.widgets import EnvironmentPanel

ORT = "mcr.microsoft.com/azureml/onnxruntime"


def note(panel: EnvironmentPanel) -> str:
    return re.sub(r"<[^>]+>", "", panel.prebuilt_note.value)


def test_the_prebuilt_menu_lists_the_catalogue_by_the_seeds_names() -> None:
    panel = EnvironmentPanel(load_images=False)
    values = [value for _, value in panel.prebuilt.options]
    assert values == ["", "mcr.microsoft.com/azureml/o16n-sample-user-base/ubuntu-miniconda:latest",
                      f"{ORT}:latest", f"{ORT}:latest-cuda"]
    assert all(not value.endswith("tensorrt") for value in values)


def test_picking_one_fills_the_base_image_and_says_what_it_holds() -> None:
    # Given an editor, When the user picks the ONNX Runtime image and saves
    saved: list[Environment] = []
    panel = EnvironmentPanel(on_save=saved.append, load_images=False)
    panel.prebuilt.value = f"{ORT}:latest"
    panel.save_button.click()
    # Then the environment names the seeds' image (it resolves to ours when built)
    assert saved[-1].base_image == f"{ORT}:latest"
    assert "ONNX Runtime for the CPU" in note(panel) and "jupyter-deploy/prebuilt-onnxruntime" in (
        note(panel))
    # And typing another image by hand leaves the menu at none
    panel.base_image.value = "127.0.0.1:5000/base/custom:1"
    assert panel.prebuilt.value == "" and note(panel) == ""


def test_an_environment_naming_one_selects_it() -> None:
    panel = EnvironmentPanel(Environment(base_image=f"{ORT}:latest-cuda"), load_images=False)
    assert panel.prebuilt.value == f"{ORT}:latest-cuda"
    assert "NVIDIA" in note(panel)
