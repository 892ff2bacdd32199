"""The staff HTTP API of the matching service."""

from __future__ import annotations

import email.message
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status

from services.matching import batch as batch_jobs
from services.matching import imports, repository, service
from services.matching.domain.model import Taxonomy
from services.matching.domain.suggest import suggest
from services.matching.schemas import (
    BatchCancelledOut,
    BatchCommittedOut,
    BatchIn,
    BatchJobOut,
    BatchStartedOut,
    CompanyIn,
    Decision,
    DecisionOut,
    NeedIn,
    OverrideIn,
    ProposalOut,
    ProviderIn,
    SuggestIn,
    SuggestOut,
)
from shared import audit
from shared.auth import BODY_LIMIT_KEY, Actor, Admin, GuardedRoute, Staff, Viewer
from shared.db import transaction
from shared.service import runtime_of

router = APIRouter(prefix="/api/matching", tags=["matching"], route_class=GuardedRoute)
MAX_IMPORT_BYTES = 20_000_000


def _taxonomy(request: Request) -> Taxonomy:
    taxonomy: Taxonomy = runtime_of(request).state["taxonomy"]
    return taxonomy


def _live(request: Request) -> service.LiveIndex:
    live: service.LiveIndex = runtime_of(request).state["index"]
    return live


def _policy(request: Request) -> service.Policy:
    policy: service.Policy = runtime_of(request).state["policy"]
    return policy


def _check_categories(taxonomy: Taxonomy, codes: list[str]) -> None:
    unknown = taxonomy.unknown(tuple(codes))
    if unknown:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "field": "categories",
                "message": f"unknown categories: {', '.join(unknown)}",
                "valid_codes": sorted(taxonomy.categories),
            },
        )


@router.get("/taxonomy")
async def get_taxonomy(request: Request) -> dict[str, Any]:
    taxonomy = _taxonomy(request)
    return {
        "version": taxonomy.version,
        "categories": [vars(c) for c in taxonomy.categories.values()],
    }


@router.put("/companies/{company_id}")
async def put_company(
    company_id: str, body: CompanyIn, request: Request, _: Staff
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        created = await repository.upsert_company(conn, company_id, body.model_dump(mode="json"))
        await audit.record(conn, request)
    return {"company_id": company_id, "created": created}


@router.put("/providers/{provider_id}")
async def put_provider(
    provider_id: str, body: ProviderIn, request: Request, _: Staff
) -> dict[str, Any]:
    _check_categories(_taxonomy(request), body.categories)
    doc = {"provider_id": provider_id, **body.model_dump(mode="json")}
    async with transaction(runtime_of(request).pool) as conn:
        created = await repository.upsert_provider(conn, provider_id, doc)
        await audit.record(conn, request)
    return {"provider_id": provider_id, "created": created}


def _suggestions(request: Request, title: str, description: str) -> list[dict[str, Any]]:
    return [vars(s) for s in suggest(_taxonomy(request), title, description)]


@router.post("/needs/suggest-categories", response_model=SuggestOut)
async def suggest_categories(body: SuggestIn, request: Request, _: Staff) -> dict[str, Any]:
    """Taxonomy categories for a need's text, each with a confidence and the words that led to
    it. Nothing is stored: staff confirm by sending the chosen categories with the need."""
    return {"suggestions": _suggestions(request, body.title, body.description)}


@router.put("/needs/{need_id}")
async def put_need(need_id: str, body: NeedIn, request: Request, _: Staff) -> dict[str, Any]:
    """Store a need; the answer adds the categories its text suggests, for staff to compare."""
    _check_categories(_taxonomy(request), body.categories)
    async with transaction(runtime_of(request).pool) as conn:
        if await repository.company(conn, body.company_id) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                {"field": "company_id", "message": f"unknown company {body.company_id}"},
            )
        created = await repository.upsert_need(
            conn, need_id, body.company_id, body.model_dump(mode="json")
        )
        await audit.record(conn, request)
    return {
        "need_id": need_id,
        "created": created,
        "suggested_categories": _suggestions(request, body.title, body.description),
    }


@router.post(
    "/needs/{need_id}/match",
    response_model=list[ProposalOut],
    responses={
        404: {"description": "no such need"},
        409: {"description": "every provider was vetoed: `veto_counts` per reason, `run_id`"},
    },
)
async def match_need(need_id: str, request: Request, actor: Staff) -> list[dict[str, Any]]:
    """Rank the providers for a need; the proposals, best first, each with its reasons."""
    async with transaction(runtime_of(request).pool) as conn:
        try:
            matched = await service.run_matching(
                conn, need_id, _taxonomy(request), actor.subject, _live(request), _policy(request)
            )
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        await audit.record(
            conn,
            request,
            status=status.HTTP_409_CONFLICT if matched.everyone_vetoed else status.HTTP_200_OK,
            run_id=matched.run_id,
        )
    if matched.everyone_vetoed:  # the run stays recorded; staff see why no one is left
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            {
                "message": "every provider was vetoed by a hard filter",
                "veto_counts": matched.veto_counts,
                "run_id": matched.run_id,
            },
        )
    return matched.proposals


@router.get(
    "/needs/{need_id}/proposals",
    response_model=list[ProposalOut],
    responses={404: {"description": "no such need"}},
)
async def proposals(need_id: str, request: Request, _: Viewer) -> list[dict[str, Any]]:
    """The proposals of the need's latest run (empty before its first run)."""
    async with transaction(runtime_of(request).pool) as conn:
        if not await repository.need_exists(conn, need_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"need {need_id} not found")
        return await repository.latest_proposals(conn, need_id)


@router.post(
    "/proposals/{proposal_id}/accept",
    response_model=DecisionOut,
    responses={404: {"description": "no such proposal"}, 409: {"description": "decided"}},
)
async def accept(proposal_id: str, request: Request, actor: Staff) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            event = await service.accept(conn, proposal_id, actor.subject)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request, match_id=event.match_id)
    return {"match_id": event.match_id, "status": "accepted"}


@router.post(
    "/proposals/{proposal_id}/decline",
    response_model=DecisionOut,
    responses={404: {"description": "no such proposal"}, 409: {"description": "decided"}},
)
async def decline(
    proposal_id: str, body: Decision, request: Request, actor: Staff
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        try:
            await service.decline(conn, proposal_id, actor.subject, body.reason)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request)
    return {"proposal_id": proposal_id, "status": "declined"}


@router.get("/runs")
async def runs(
    request: Request, _: Viewer, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.runs(conn, limit)


@router.delete("/companies/{company_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_company(company_id: str, request: Request, _: Admin) -> None:
    async with transaction(runtime_of(request).pool) as conn:
        needs = await repository.needs_of_company(conn, company_id)
        if needs:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                {"message": "the company still has needs; delete them first", "needs": needs},
            )
        if not await repository.delete_row(conn, "companies", "company_id", company_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"company {company_id} not found")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)


@router.delete("/providers/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_provider(provider_id: str, request: Request, _: Admin) -> None:
    async with transaction(runtime_of(request).pool) as conn:
        if not await repository.delete_row(conn, "providers", "provider_id", provider_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"provider {provider_id} not found")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)


@router.delete("/needs/{need_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_need(need_id: str, request: Request, _: Admin) -> None:
    async with transaction(runtime_of(request).pool) as conn:
        if not await repository.delete_row(conn, "needs", "need_id", need_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"need {need_id} not found")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)


IMPORT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "description": "records of the kind in the path, each with its id field "
                "(company_id, provider_id or need_id) besides the fields below",
                "items": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/CompanyIn"},
                        {"$ref": "#/components/schemas/ProviderIn"},
                        {"$ref": "#/components/schemas/NeedIn"},
                    ]
                },
            }
        },
        "text/csv": {
            "schema": {
                "type": "string",
                "description": "one row per record; lists separated by ';', levels as "
                "'code:level;…', one contact from the contact_* columns",
            }
        },
    },
}


@router.post(
    "/import/{kind}",
    openapi_extra={"requestBody": IMPORT_BODY, BODY_LIMIT_KEY: MAX_IMPORT_BYTES},
    responses={
        413: {"description": "the file is larger than 20 MB"},
        422: {"description": "nothing imported: `errors` lists each row, field and message"},
    },
)
async def import_records(
    kind: Annotated[str, Path(pattern="^(companies|providers|needs)$")],
    request: Request,
    _: Admin,
) -> dict[str, Any]:
    """JSON (a list of objects) or CSV (``Content-Type: text/csv``), each with its id field.

    Every row is validated first; if any is invalid, nothing is stored and the 422 lists
    each error with its row number and field."""
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"an import may hold at most {MAX_IMPORT_BYTES // 1_000_000} MB",
        )
    content_type = request.headers.get("content-type", "")
    is_csv = "csv" in content_type
    try:
        text = imports.decode_upload(body, _charset(content_type))
        records = imports.records_from_csv(text) if is_csv else imports.records_from_json(text)
        parsed = imports.validate(kind, records)
    except imports.UnreadableFileError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, {"message": str(exc)}) from exc
    taxonomy = _taxonomy(request)
    for number, (identifier, model) in enumerate(parsed.rows, start=1):
        unknown = taxonomy.unknown(tuple(getattr(model, "categories", ())))
        if unknown:
            parsed.errors.append(
                {
                    "row": number,
                    "id": identifier,
                    "field": "categories",
                    "message": f"unknown categories: {', '.join(unknown)}",
                }
            )
    if parsed.errors:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": "nothing was imported",
                "errors": parsed.errors,
                "valid_codes": sorted(taxonomy.categories),
            },
        )
    created = 0
    async with transaction(runtime_of(request).pool) as conn:
        for identifier, model in parsed.rows:
            created += await _store(conn, kind, identifier, model)
        await audit.record(conn, request, rows=str(len(parsed.rows)))
    return {"kind": kind, "created": created, "updated": len(parsed.rows) - created}


def _charset(content_type: str) -> str | None:
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset if isinstance(charset, str) else None


async def _store(conn: asyncpg.Connection, kind: str, identifier: str, model: Any) -> bool:
    doc = model.model_dump(mode="json")
    if kind == "companies":
        return await repository.upsert_company(conn, identifier, doc)
    if kind == "providers":
        return await repository.upsert_provider(
            conn, identifier, {"provider_id": identifier, **doc}
        )
    if await repository.company(conn, doc["company_id"]) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            {
                "message": "nothing was imported",
                "errors": [
                    {
                        "id": identifier,
                        "field": "company_id",
                        "message": f"unknown company {doc['company_id']}",
                    }
                ],
            },
        )
    return await repository.upsert_need(conn, identifier, doc["company_id"], doc)


@router.post(
    "/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchStartedOut,
    responses={202: {"description": "the job is queued; `Location` names it"}},
)
async def batch(
    body: BatchIn, request: Request, response: Response, actor: Staff
) -> dict[str, Any]:
    """Start allocating open needs under provider capacity (all open needs by default), as a
    background job that a matching worker runs; follow it with GET, then commit or cancel it."""
    runtime = runtime_of(request)
    options = getattr(runtime.settings, "batch_options_per_need", 20)
    async with transaction(runtime.pool) as conn:
        job_id, total = await batch_jobs.start(
            conn,
            _taxonomy(request),
            _live(request),
            _policy(request),
            body.need_ids,
            options,
            actor.subject,
        )
        await audit.record(conn, request, status=status.HTTP_202_ACCEPTED, job_id=job_id)
    response.headers["Location"] = f"{router.prefix}/batch/{job_id}"
    return {"job_id": job_id, "status": "queued", "total": total}


@router.get(
    "/batch/{job_id}", response_model=BatchJobOut, responses={404: {"description": "no such job"}}
)
async def batch_job(job_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    """The job's status and progress (`done` of `total` needs scored); once `ready`, its result
    to preview: `assignments`, `unassigned` with reasons, `objective`."""
    async with transaction(runtime_of(request).pool) as conn:
        job = await repository.batch_job(conn, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"batch job {job_id} not found")
    return job


@router.post(
    "/batch/{job_id}/commit",
    response_model=BatchCommittedOut,
    responses={404: {"description": "no such job"}, 409: {"description": "not ready"}},
)
async def commit_batch(job_id: str, request: Request, actor: Staff) -> dict[str, Any]:
    """Record the previewed result as a run and propose each assignment (with its events)."""
    async with transaction(runtime_of(request).pool) as conn:
        try:
            committed = await batch_jobs.commit(
                conn, job_id, _taxonomy(request), _live(request), _policy(request), actor.subject
            )
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request)
    return committed


@router.post(
    "/batch/{job_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchCancelledOut,
    responses={404: {"description": "no such job"}, 409: {"description": "already over"}},
)
async def cancel_batch(job_id: str, request: Request, _: Staff) -> dict[str, Any]:
    """Stop a queued or running job (its worker process ends), or discard a ready preview."""
    async with transaction(runtime_of(request).pool) as conn:
        try:
            cancelled = await batch_jobs.cancel(conn, job_id)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request, status=status.HTTP_202_ACCEPTED)
    return {"job_id": job_id, "status": cancelled}


@router.get("/needs/{need_id}/overrides")
async def overrides(need_id: str, request: Request, _: Viewer) -> list[dict[str, Any]]:
    async with transaction(runtime_of(request).pool) as conn:
        return await repository.overrides(conn, [need_id])


@router.put("/needs/{need_id}/pins/{provider_id}")
async def pin(
    need_id: str, provider_id: str, body: OverrideIn, request: Request, actor: Staff
) -> dict[str, Any]:
    """Staff assign this provider to the need in every later batch run."""
    return await _override(request, need_id, provider_id, "pin", body.reason, actor)


@router.put("/needs/{need_id}/blocks/{provider_id}")
async def block(
    need_id: str, provider_id: str, body: OverrideIn, request: Request, actor: Staff
) -> dict[str, Any]:
    """Staff exclude this provider from every later run for the need."""
    return await _override(request, need_id, provider_id, "block", body.reason, actor)


async def _override(
    request: Request, need_id: str, provider_id: str, kind: str, reason: str, actor: Actor
) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        if await repository.need(conn, need_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"need {need_id} not found")
        if await repository.provider(conn, provider_id) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"provider {provider_id} not found")
        await repository.put_override(conn, need_id, provider_id, kind, reason, actor.subject)
        await audit.record(conn, request)
    return {"need_id": need_id, "provider_id": provider_id, "kind": kind}


@router.delete("/needs/{need_id}/overrides/{provider_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_override(need_id: str, provider_id: str, request: Request, _: Staff) -> None:
    async with transaction(runtime_of(request).pool) as conn:
        if not await repository.delete_override(conn, need_id, provider_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no pin or block for this pair")
        await audit.record(conn, request, status=status.HTTP_204_NO_CONTENT)


@router.get("/runs/{run_id}")
async def get_run(run_id: str, request: Request, _: Viewer) -> dict[str, Any]:
    async with transaction(runtime_of(request).pool) as conn:
        run = await repository.run(conn, run_id)
    if run is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run_id} not found")
    return run


@router.post("/runs/{run_id}/replay")
async def replay(run_id: str, request: Request, _: Admin) -> dict[str, Any]:
    """Rank again from the recorded inputs; ``same`` says whether the result is identical."""
    async with transaction(runtime_of(request).pool) as conn:
        try:
            replayed = await service.replay(conn, run_id)
        except service.NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except service.ConflictError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        await audit.record(conn, request)
    return replayed
