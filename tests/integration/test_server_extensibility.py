"""Seed 004 in a real container: extra requirements installed at start from wheels fetched on
the host (the container has no index), and an extra library folder that wins over the image."""

from __future__ import annotations

from pathlib import Path

import jupyter_deploy as jd

SOURCE = Path(__file__).parents[1] / "compat" / "extensibility"


def test_extra_requirements_and_lib_folder(a_service_name: str,
                                           test_labels: dict[str, str]) -> None:
    # Given an image with six 1.17.0, a requirements file and a folder shadowing six
    env = jd.Environment(name="extras", pip=["six==1.17.0"], env_vars={
        "AZUREML_EXTRA_REQUIREMENTS_TXT": "extra-requirements.txt",
        "AZUREML_EXTRA_PYTHON_LIB_PATH": "mylibs/site-packages",
    })
    lines: list[str] = []
    # When deployed from the source folder
    service = jd.deploy(a_service_name, SOURCE / "score.py", environment=env,
                        source_dir=SOURCE, labels=test_labels, log=lines.append)
    try:
        # Then the requirement was installed, and the folder's six won over the image's
        assert service.score({"data": []}).value == {
            "idna": "3.7", "six": "user", "user": "from the folder"}
        log = service.logs(200)
        assert "Installed extra requirements from extra-requirements.txt" in log
        assert "idna-3.7" in log
    finally:
        service.remove()
