"""Validate custom resources against the upstream CRDs vendored under ``deploy/k8s/crds``.

Runs in the deploy tools' virtualenv (``.venv-deploy``, which has jsonschema)::

    .venv-deploy/bin/python tests/deploy/crd_validation.py var/rendered/all/*.yaml

Every document whose apiVersion is not a built-in one must match a vendored CRD (group, kind and a
served version) and validate against that version's ``openAPIV3Schema``, read the way the API
server reads it with ``kubectl apply``'s strict field validation: unknown fields are errors unless
the schema preserves them, ``x-kubernetes-int-or-string`` takes either, ``nullable`` allows null.
Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

# Only in .venv-deploy; mypy runs in .venv, where it is absent.
from jsonschema import Draft7Validator  # type: ignore[import-untyped,unused-ignore]

CRDS = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "crds"
# The apiVersions of kinds that come with Kubernetes (tests/deploy/rendering.py has the same list).
BUILT_IN = frozenset(
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


def structural(schema: Any) -> Any:
    """The CRD schema as JSON Schema with the API server's reading of the Kubernetes extensions."""
    if isinstance(schema, list):
        return [structural(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    node = {key: structural(value) for key, value in schema.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = node.pop("x-kubernetes-preserve-unknown-fields", False)
    if node.get("type") == "object" and "properties" in node and not preserve:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    return node


def load_crds(folder: Path = CRDS) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(group, version, kind) -> the structural schema of that version."""
    schemas: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in spec["versions"]:
                if not version.get("served", False):
                    continue
                schema = structural(version["schema"]["openAPIV3Schema"])
                schemas[(spec["group"], version["name"], spec["names"]["kind"])] = schema
    return schemas


def problems(
    documents: Iterable[dict[str, Any]], schemas: dict[tuple[str, str, str], dict[str, Any]]
) -> Iterator[str]:
    for doc in documents:
        api_version = doc.get("apiVersion", "")
        if api_version in BUILT_IN:
            continue
        group, _, version = api_version.rpartition("/")
        kind = doc.get("kind", "")
        name = f"{kind}/{doc.get('metadata', {}).get('name', '?')} ({api_version})"
        schema = schemas.get((group, version, kind))
        if schema is None:
            yield f"{name}: no vendored CRD in deploy/k8s/crds serves this kind and version"
            continue
        for error in sorted(Draft7Validator(schema).iter_errors(doc), key=str):
            where = ".".join(str(part) for part in error.absolute_path) or "(root)"
            yield f"{name}: {where}: {error.message}"


def main(argv: list[str]) -> int:
    schemas = load_crds()
    found = []
    for arg in argv:
        documents = [d for d in yaml.safe_load_all(Path(arg).read_text("utf-8")) if d]
        found += [f"{arg}: {problem}" for problem in problems(documents, schemas)]
    for line in found:
        sys.stdout.write(line + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
