"""Render the kustomize overlays with kubectl, for the tests and for ``make check-deploy``.

``python -m tests.deploy.rendering var/rendered`` writes ``all/<target>.yaml`` (everything, for
checkov and the CRD schemas) and ``core/<target>.yaml`` (only the built-in kinds, for
kubernetes-validate --strict). The targets: the two overlays and ``nats`` (what the NATS Helm
release needs around it in its namespace).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
TARGETS = {
    "dev": DEPLOY / "overlays" / "dev",
    "prod": DEPLOY / "overlays" / "prod",
    "nats": DEPLOY / "nats",
}
KUBECTL_MISSING = (
    "kubectl 1.32 or newer (kustomize built in) is needed to render the manifests: "
    "https://kubernetes.io/docs/tasks/tools/ (or apt-get install kubectl from pkgs.k8s.io)"
)
# apiVersions whose kinds come with Kubernetes itself; everything else is a custom resource.
CORE_API_VERSIONS = frozenset(
    {
        "v1",
        "apps/v1",
        "batch/v1",
        "policy/v1",
        "networking.k8s.io/v1",
        "autoscaling/v2",
        "rbac.authorization.k8s.io/v1",
    }
)


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError(KUBECTL_MISSING)
    return found


@cache
def render_text(target: str) -> str:
    return subprocess.run(
        [kubectl(), "kustomize", str(TARGETS[target])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(target: str) -> list[dict[str, Any]]:
    return documents(render_text(target))


def is_core(doc: dict[str, Any]) -> bool:
    return doc.get("apiVersion") in CORE_API_VERSIONS


def write(out_dir: Path) -> list[Path]:
    written = []
    for kind in ("all", "core"):
        (out_dir / kind).mkdir(parents=True, exist_ok=True)
    for target in TARGETS:
        text = render_text(target)
        core = [doc for doc in documents(text) if is_core(doc)]
        everything, builtin = (
            out_dir / "all" / f"{target}.yaml",
            out_dir / "core" / f"{target}.yaml",
        )
        everything.write_text(text, encoding="utf-8")
        builtin.write_text(yaml.safe_dump_all(core, sort_keys=False), encoding="utf-8")
        written += [everything, builtin]
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out_dir = Path(args[0] if args else "var/rendered")
    try:
        for path in write(out_dir):
            sys.stdout.write(f"rendered {path}\n")
    except RuntimeError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
