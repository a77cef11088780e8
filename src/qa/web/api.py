"""The JSON API: POST /api/ask and GET /api/health. Bad input gets a 4xx with a readable `detail`."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from ..answering.ask import MAX_QUESTION_CHARS, QuestionError
from ..indexing.store import IndexError_
from ..answering.requests import (MAX_BODY_BYTES, MAX_HISTORY_MESSAGES, MAX_ID_CHARS, MAX_OTHER_TURN_CHARS, MAX_TURN_CHARS,
                        USED_USER_TURNS, RequestError, parse_request)
from .service import QAService

log = logging.getLogger("qa.web")
MAX_HISTORY = MAX_HISTORY_MESSAGES


class Message(BaseModel):
    role: StrictStr = Field(description='"user" or "assistant"')
    content: Any = Field(description=f"text, or a list of content blocks ({{'type': 'text', 'text': ...}}); "
                                     f"a user turn at most {MAX_TURN_CHARS:,} characters, another turn at most "
                                     f"{MAX_OTHER_TURN_CHARS:,}")


class AskRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"question": "When did Pakistan sign the Mutual Defense Assistance Agreement?"},
        {"question": "What did he post on Twitter afterwards?", "history": [
            {"role": "user", "content": "Who did Bilawal Bhutto Zardari meet in New York?"},
            {"role": "assistant", "content": "Antony Blinken"}]},
    ]})

    question: StrictStr = Field(description=f"the question, 1 to {MAX_QUESTION_CHARS} characters")
    history: list[Message] | None = Field(None, max_length=MAX_HISTORY,
                                          description=f"the conversation so far, oldest first; only the last "
                                                      f"{USED_USER_TURNS} user turns are used")
    id: StrictStr | None = Field(None, max_length=MAX_ID_CHARS, description="echoed back in the answer")


class CitationOut(BaseModel):
    n: int
    source: str
    sentence: int
    start: int = Field(description="character offset into the source file (for HTML, PDF and Word files, into "
                                   "the text extracted from it)")
    end: int
    text: str = Field(description="the cited sentence, whitespace-normalised")
    before: str
    after: str
    page: int | None = Field(None, description="PDF: the page (1-based) where the sentence starts")
    end_page: int | None = Field(None, description="PDF: the page where it ends (the same unless it crosses one)")
    heading: str | None = Field(None, description="Word (.docx): the nearest heading before the sentence")


class PassageOut(BaseModel):
    source: str
    start: int
    end: int
    text: str
    score: float


class AnswerOut(BaseModel):
    id: str | None
    question: str
    answer: str = Field(description='verbatim from the text; "" when abstained')
    abstained: bool
    confidence: float
    tier: str = Field(description='"confident", "unsure" (an answer given with its citations, marked unsure: the '
                                  'document may answer this) or "none" (abstained)')
    citations: list[CitationOut]
    passages: list[PassageOut]
    answer_source: str | None
    answer_start: int | None
    answer_end: int | None
    resolved_question: str | None


class Detail(BaseModel):
    detail: str


def api_router(service: QAService) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])

    # The body is read and checked here by qa.answering.requests (the contract `qa ask --batch` shares), not by
    # FastAPI: its JSON parsing lets a deeply nested body raise RecursionError, answers 400 for invalid
    # UTF-8, and accepts unpaired surrogates that later break the reply. AskRequest documents the body.
    @router.post("/ask", response_model=None, summary="Answer a question from the indexed document(s)",
                 responses={200: {"model": AnswerOut}, 413: {"model": Detail}, 422: {"model": Detail},
                            503: {"model": Detail}},
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": _inline_schema(AskRequest)}}}})
    async def ask_endpoint(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if content_type and "json" not in content_type.lower():
            return _detail(422, f"the request body must be JSON sent with Content-Type: application/json "
                                f"(not {content_type[:80]}), e.g. {{\"question\": \"...\"}}")
        raw = await _read_body(request)
        if raw is None:
            return _detail(413, f"the request body is too large (the limit is {MAX_BODY_BYTES:,} bytes)")
        try:
            checked = parse_request(raw)
        except RequestError as exc:
            return _detail(422, exc)
        try:
            answer = await run_in_threadpool(service.ask, checked.question, checked.history)
        except QuestionError as exc:
            return _detail(422, exc)
        except IndexError_ as exc:
            return _detail(503, exc)
        except Exception:   # an engine bug: log it, answer without a traceback
            log.exception("answering %r failed", checked.question[:200])
            return _detail(500, "internal error while answering; the server log has the details")
        answer.id = checked.id
        return JSONResponse(answer.to_dict())

    @router.get("/health", summary="The index being served: sources, counts, model, build time",
                responses={503: {"model": Detail}})
    def health() -> JSONResponse:
        try:
            return JSONResponse(service.summary())
        except IndexError_ as exc:
            return _detail(503, exc)

    # Without these the chat mounted at "/" would answer for the API's wrong methods and unknown paths.
    @router.api_route("/ask", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def ask_wrong_method() -> JSONResponse:
        return JSONResponse({"detail": 'use POST with a JSON body like {"question": "..."}'}, status_code=405,
                            headers={"Allow": "POST"})

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown_endpoint(path: str) -> JSONResponse:
        return _detail(404, f"no API endpoint /api/{path}; the endpoints are listed at /docs")

    return router


async def _read_body(request: Request) -> bytes | None:
    """The body, or None as soon as it is over MAX_BODY_BYTES (the rest is never held in memory)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _inline_schema(model: type[BaseModel]) -> dict:
    """The model's JSON schema with its $defs inlined (an OpenAPI operation cannot hold $defs)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.rsplit("/", 1)[1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type.lower():
        message = (f"the request body must be JSON sent with Content-Type: application/json (not {content_type[:80]}), "
                   'e.g. {"question": "..."}')
    else:
        message = validation_message(exc.errors())
    return JSONResponse({"detail": message}, status_code=422)


def validation_message(errors) -> str:
    """One readable line from pydantic's error list."""
    lines = []
    for error in errors:
        kind = error.get("type", "")
        loc = [str(part) for part in error.get("loc", ()) if part != "body"]
        if kind == "json_invalid":
            lines.append("the request body is not valid JSON; send an object like {\"question\": \"...\"}")
        elif kind == "missing" and not loc:
            lines.append("the request body is empty; send a JSON object like {\"question\": \"...\"}")
        elif kind in ("model_attributes_type", "dict_type") and not loc:
            lines.append("the request body must be a JSON object like {\"question\": \"...\"}")
        elif kind == "missing":
            lines.append(f"'{'.'.join(loc)}' is required")
        else:
            where = ".".join(loc) or "body"
            lines.append(f"'{where}': {error.get('msg', 'is invalid')}")
    return "; ".join(dict.fromkeys(lines)) or "invalid request"


def _detail(status: int, message) -> JSONResponse:
    return JSONResponse({"detail": str(message)}, status_code=status)
