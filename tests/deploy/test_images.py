"""The service images: base image by a digest variable, locked packages with hashes, bytecode
compiled at build time (the containers run with a read-only root filesystem)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.rendering import REPO

DOCKERFILES = sorted(REPO.glob("services/*/Dockerfile"))
RUNTIME_LOCK = REPO / "requirements-runtime.lock"


def test_there_is_an_image_for_each_service() -> None:
    assert {path.parent.name for path in DOCKERFILES} >= {
        "matching",
        "booking",
        "notify",
        "console",
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_the_base_image_is_one_variable_that_releases_pin_by_digest(dockerfile: Path) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert len(froms) == 2  # build and runtime stages
    assert set(froms) == {"${PYTHON_IMAGE}"}
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-\w+$", text, re.MULTILINE)
    assert "--build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:" in text


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_packages_install_by_hash_with_bytecode(dockerfile: Path) -> None:
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    [locked] = [
        line
        for line in text.splitlines()
        if "requirements-runtime.lock" in line and "pip install" in line
    ]
    assert "--require-hashes" in locked
    assert "--compile-bytecode" in locked
    [project] = [line for line in text.splitlines() if "--no-deps" in line]
    assert "--compile-bytecode" in project


def test_every_package_of_the_runtime_lock_has_a_hash() -> None:
    text = RUNTIME_LOCK.read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    pinned = [entry for entry in entries if "==" in entry.split("\n", 1)[0]]
    assert len(pinned) > 20
    for entry in pinned:
        assert "--hash=sha256:" in entry, entry.split("\n", 1)[0]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"--generate-hashes -o requirements-runtime\.lock", makefile)


def make_images(*variables: str) -> subprocess.CompletedProcess[str]:
    """``make images`` as a dry run (-n): what it would build, or why it refuses."""
    return subprocess.run(
        ["make", "-n", "images", *variables],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_release_build_refuses_a_base_image_named_by_tag_alone() -> None:
    for variables in ((), ("PYTHON_IMAGE=python:3.11-slim-bookworm",)):
        refused = make_images(*variables)
        assert refused.returncode != 0
        assert "PYTHON_IMAGE must name the base image by digest" in refused.stderr
    digest = "python:3.11-slim-bookworm@sha256:" + "0" * 64
    built = make_images(f"PYTHON_IMAGE={digest}")
    assert built.returncode == 0, built.stderr
    assert f"--build-arg PYTHON_IMAGE={digest}" in built.stdout
    kustomization = yaml.safe_load((REPO / "deploy/k8s/base/kustomization.yaml").read_text("utf-8"))
    [tag] = {image["newTag"] for image in kustomization["images"]}
    assert f"-t werkbank-$service:{tag}" in built.stdout, "the tag the manifests deploy"
