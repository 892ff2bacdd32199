"""The matching API's OpenAPI document names every request body and its answers."""

from __future__ import annotations

from typing import Any

from services.matching.app import build
from services.matching.settings import MatchingSettings
from shared.service import create_app


def document() -> dict[str, Any]:
    openapi: dict[str, Any] = create_app(build(MatchingSettings(staff_token="x"))).openapi()  # type: ignore[arg-type]
    return openapi


def test_the_import_documents_json_and_csv_bodies() -> None:
    body = document()["paths"]["/api/matching/import/{kind}"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/csv"}
    assert len(body["content"]["application/json"]["schema"]["items"]["oneOf"]) == 3


def test_every_write_documents_its_body_and_the_new_answers_their_codes() -> None:
    paths = document()["paths"]
    for path, methods in paths.items():
        for method in ("put", "post"):
            operation = methods.get(method)
            takes_body = operation is not None and not path.endswith(
                ("/match", "/accept", "/commit", "/cancel", "/replay")
            )
            if takes_body:
                assert "requestBody" in operation, f"{method.upper()} {path}"
    assert "409" in paths["/api/matching/needs/{need_id}/match"]["post"]["responses"]
    assert "404" in paths["/api/matching/needs/{need_id}/proposals"]["get"]["responses"]
    assert "202" in paths["/api/matching/batch"]["post"]["responses"]


def test_matching_reads_batches_and_decisions_document_their_answers() -> None:
    paths = document()["paths"]
    documented = {
        ("post", "/api/matching/needs/{need_id}/match"): "200",
        ("get", "/api/matching/needs/{need_id}/proposals"): "200",
        ("post", "/api/matching/proposals/{proposal_id}/accept"): "200",
        ("post", "/api/matching/proposals/{proposal_id}/decline"): "200",
        ("post", "/api/matching/batch"): "202",
        ("get", "/api/matching/batch/{job_id}"): "200",
        ("post", "/api/matching/batch/{job_id}/commit"): "200",
        ("post", "/api/matching/batch/{job_id}/cancel"): "202",
        ("get", "/api/matching/companies"): "200",
        ("get", "/api/matching/companies/{company_id}"): "200",
        ("get", "/api/matching/providers"): "200",
        ("get", "/api/matching/providers/{provider_id}"): "200",
        ("get", "/api/matching/needs"): "200",
        ("get", "/api/matching/needs/{need_id}"): "200",
    }
    for (method, path), code in documented.items():
        answer = paths[path][method]["responses"][code]["content"]["application/json"]["schema"]
        named = answer.get("$ref") or answer.get("items", {}).get("$ref")
        assert named, f"{method.upper()} {path} answers an undocumented shape"
    job = document()["components"]["schemas"]["BatchJobOut"]["properties"]
    assert {"status", "done", "total", "result", "lease_owner", "attempts"} <= set(job)
