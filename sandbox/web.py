"""The sandbox page and its small JSON API (plus server-sent events for live updates)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox import cast
from sandbox.seed import SeedError
from sandbox.world import SandboxWorld, UnknownPerson

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: How far one press of a time button moves the clock.
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}

Seeder = Callable[[], Awaitable[dict[str, Any]]]


class BadInput(ValueError):
    pass


def _int(data: dict[str, Any], key: str, *, required: bool = True) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise BadInput(f"{key} is required")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BadInput(f"{key} must be a number, not {value!r}") from None


def _required_int(data: dict[str, Any], key: str) -> int:
    value = _int(data, key)
    assert value is not None
    return value


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadInput("the body must be JSON") from None
    if not isinstance(data, dict):
        raise BadInput("the body must be a JSON object")
    return data


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except (BadInput, UnknownPerson, ValueError) as error:
        return web.json_response({"error": str(error)}, status=400)


class SandboxPage:
    def __init__(self, world: SandboxWorld, *, timezone: str, seed: Seeder | None = None) -> None:
        self.world = world
        self.timezone = timezone
        self.seed = seed

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(_errors)
        app.router.add_get("/", self.index)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/api/state", self.state)
        app.router.add_get("/api/chat/{chat_id}", self.chat)
        app.router.add_get("/api/events", self.stream)
        app.router.add_get("/api/file/{file_id}", self.file)
        app.router.add_post("/api/message", self.message)
        app.router.add_post("/api/edit", self.edit)
        app.router.add_post("/api/press", self.press)
        app.router.add_post("/api/contact", self.contact)
        app.router.add_post("/api/files", self.files)
        app.router.add_post("/api/clock", self.clock)
        app.router.add_post("/api/seed", self.run_seed)

    # ---------------------------------------------------------------------------- page

    async def index(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def static(self, request: web.Request) -> web.FileResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "bot": {"name": cast.BOT_NAME, "username": cast.BOT_USERNAME},
                "staff_chat": {"id": cast.STAFF_CHAT_ID, "title": cast.STAFF_CHAT_TITLE},
                "customers": [
                    {"id": c.user.id, "name": c.user.full_name, "language": c.user.language_code}
                    for c in self.world.customers
                ],
                "staff": [
                    {"id": m.user.id, "name": m.user.full_name, "role": m.role} for m in cast.STAFF
                ],
                "now": self.world.clock.now().isoformat(),
                "offset_seconds": self.world.clock.offset.total_seconds(),
                "timezone": self.timezone,
                "can_seed": self.seed is not None,
            }
        )

    async def chat(self, request: web.Request) -> web.Response:
        chat_id = _required_int(dict(request.match_info), "chat_id")
        thread_id = _int(dict(request.query), "thread", required=False)
        body: dict[str, Any] = {"messages": self.world.messages(chat_id, thread_id)}
        if chat_id > 0:
            body["reply_keyboard"] = self.world.reply_keyboards.get(chat_id)
        else:
            body["topics"] = self.world.topics()
        return web.json_response(body)

    async def file(self, request: web.Request) -> web.Response:
        content = await self.world.file_content(request.match_info["file_id"])
        if content is None:
            raise web.HTTPNotFound()
        name = request.query.get("name") or ""
        kind = mimetypes.guess_type(name)[0] if name else None
        if kind is None:
            kind = "image/jpeg" if content[:3] == b"\xff\xd8\xff" else "application/octet-stream"
            if content[:8] == b"\x89PNG\r\n\x1a\n":
                kind = "image/png"
        return web.Response(body=content, content_type=kind)

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        try:
            await response.write(b": connected\n\n")
            async for event in self.world.events.subscribe():
                await response.write(f"data: {json.dumps(event)}\n\n".encode())
        except ConnectionResetError:
            pass  # the page was closed or reloaded
        return response

    # ------------------------------------------------------------------------- actions

    async def message(self, request: web.Request) -> web.Response:
        data = await _json(request)
        text = str(data.get("text") or "")
        if not text.strip():
            raise BadInput("type something first")
        update_id = await self.world.send_text(
            _required_int(data, "user_id"),
            text,
            chat_id=_int(data, "chat_id", required=False),
            thread_id=_int(data, "thread_id", required=False),
            reply_to=_int(data, "reply_to", required=False),
            from_keyboard=bool(data.get("from_keyboard")),
        )
        return web.json_response({"update_id": update_id})

    async def edit(self, request: web.Request) -> web.Response:
        data = await _json(request)
        text = str(data.get("text") or "")
        if not text.strip():
            raise BadInput("an edited message cannot be empty")
        update_id = await self.world.edit_text(
            _required_int(data, "user_id"),
            _required_int(data, "message_id"),
            text,
            chat_id=_required_int(data, "chat_id"),
        )
        return web.json_response({"update_id": update_id})

    async def press(self, request: web.Request) -> web.Response:
        data = await _json(request)
        update_id = await self.world.press(
            _required_int(data, "user_id"),
            _required_int(data, "chat_id"),
            _required_int(data, "message_id"),
            str(data.get("data") or ""),
        )
        return web.json_response({"update_id": update_id})

    async def contact(self, request: web.Request) -> web.Response:
        data = await _json(request)
        update_id = await self.world.share_contact(_required_int(data, "user_id"))
        return web.json_response({"update_id": update_id})

    async def files(self, request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename:
                content = await part.read(decode=False)
                if len(content) > MAX_UPLOAD_BYTES:
                    raise BadInput(f"{part.filename} is larger than 20 MB")
                files.append((part.filename, bytes(content)))
            else:
                fields[part.name] = await part.text()
        if not files:
            raise BadInput("choose a file to attach")
        if len(files) > 10:
            raise BadInput("an album holds at most 10 files")
        pushed = await self.world.send_files(
            _required_int(fields, "user_id"),
            files,
            caption=fields.get("caption") or None,
            chat_id=_int(fields, "chat_id", required=False),
            thread_id=_int(fields, "thread_id", required=False),
            reply_to=_int(fields, "reply_to", required=False),
        )
        return web.json_response({"update_ids": pushed})

    async def clock(self, request: web.Request) -> web.Response:
        data = await _json(request)
        step = STEPS.get(str(data.get("step")))
        if step is None:
            raise BadInput(f"step must be one of {', '.join(STEPS)}")
        await self.world.advance(step)
        return web.json_response({"now": self.world.clock.now().isoformat()})

    async def run_seed(self, request: web.Request) -> web.Response:
        if self.seed is None:
            raise web.HTTPNotFound()
        try:
            return web.json_response(await self.seed())
        except SeedError as error:
            return web.json_response({"error": str(error)}, status=409)
