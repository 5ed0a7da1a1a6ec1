"""The emulator over HTTP: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>`` as
api.telegram.org serves them, so a real bot can run against it through ``TELEGRAM_API_URL``.

Every request is decoded the way Telegram reads it (query string, form fields with JSON for
objects, multipart uploads, or a JSON body), turned into aiogram's method object and answered
by the same :class:`FakeTelegram` the dialogue tests use: one model of Telegram, two doors.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram import methods as aiogram_methods
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import BufferedInputFile, InputFile
from aiohttp import ClientError, ClientSession, web
from pydantic import ValidationError

from .polling import UpdateQueue
from .session import FakeTelegram, RecordedCall

#: Bot API method name -> aiogram's method class ("sendMessage" -> SendMessage).
METHOD_CLASSES: dict[str, type[TelegramMethod[Any]]] = {
    cls.__api_method__: cls
    for cls in vars(aiogram_methods).values()
    if inspect.isclass(cls)
    and issubclass(cls, TelegramMethod)
    and isinstance(getattr(cls, "__api_method__", None), str)
}
_BY_LOWER_NAME = {name.lower(): name for name in METHOD_CLASSES}

_ERROR_CODES: tuple[tuple[type[TelegramAPIError], int], ...] = (
    (TelegramRetryAfter, 429),
    (TelegramMigrateToChat, 400),
    (TelegramBadRequest, 400),
    (TelegramUnauthorizedError, 401),
    (TelegramForbiddenError, 403),
    (TelegramNotFound, 404),
    (TelegramConflictError, 409),
    (TelegramEntityTooLarge, 413),
    (TelegramServerError, 500),
)

CallListener = Callable[[RecordedCall], Awaitable[None] | None]


def _error(code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


def _accepts_text(annotation: Any) -> bool:
    """Whether a field takes a plain string (so a form value must not be read as JSON)."""
    if annotation is str:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts_text(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _accepts_text(typing.get_args(annotation)[0])
    return False


def _with_files(value: Any, files: dict[str, InputFile]) -> Any:
    """Replace ``attach://name`` references with the uploaded files they name."""
    if isinstance(value, str) and value.startswith("attach://"):
        return files.get(value[len("attach://") :], value)
    if isinstance(value, list):
        return [_with_files(item, files) for item in value]
    if isinstance(value, dict):
        return {key: _with_files(item, files) for key, item in value.items()}
    return value


def decode_params(
    cls: type[TelegramMethod[Any]], raw: dict[str, Any], files: dict[str, InputFile]
) -> dict[str, Any]:
    """Form values as Telegram reads them: objects and arrays arrive as JSON text."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        info = cls.model_fields.get(key)
        if info is None:
            continue  # Telegram ignores parameters it does not know
        if isinstance(value, str) and not _accepts_text(info.annotation):
            with contextlib.suppress(ValueError):  # else validation names the bad value
                value = json.loads(value)
        params[key] = _with_files(value, files)
    return params


def _error_response(error: Exception) -> web.Response:
    if isinstance(error, TelegramRetryAfter):
        return _error(429, error.message, retry_after=error.retry_after)
    if isinstance(error, TelegramMigrateToChat):
        return _error(400, error.message, migrate_to_chat_id=error.migrate_to_chat_id)
    if isinstance(error, TelegramNetworkError):
        return _error(502, "Bad Gateway")
    for kind, code in _ERROR_CODES:
        if isinstance(error, kind):
            return _error(code, error.message)
    raise error


@dataclass
class BotApiServer:
    """Serves one bot's view of a :class:`FakeTelegram`.

    ``updates`` is what ``getUpdates`` hands out; ``listeners`` hear every answered call (the
    sandbox page redraws the chats it touched). ``keep_calls=False`` forgets each recorded
    call once answered, so a long-running sandbox does not grow.
    """

    telegram: FakeTelegram
    token: str
    updates: UpdateQueue = field(default_factory=UpdateQueue)
    keep_calls: bool = True
    listeners: list[CallListener] = field(default_factory=list)
    webhook_url: str = ""

    def __post_init__(self) -> None:
        self.bot = Bot(self.token, session=self.telegram)

    @property
    def bot_id(self) -> int:
        return self.bot.id

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self.handle_file)

    async def close(self) -> None:
        await self.updates.close()

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> tuple[web.AppRunner, int]:
        """Serve on its own (port 0: a free one); the runner to clean up and the port."""
        app = web.Application()
        self.add_routes(app)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        return runner, int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]

    async def deliver_to_webhooks(
        self, urls: list[str], secret: str = "", *, retry_every: float = 0.1
    ) -> None:
        """Telegram in webhook mode behind a balancer, until cancelled.

        Updates go out one at a time, in order, each to the next instance in turn; an update
        is confirmed (and the next one sent) only when an instance answers 200, so one that
        fails or does not answer is sent again to the next instance, as Telegram retries.
        """
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        turn = itertools.count()
        async with ClientSession() as client:
            while True:
                update = await self.updates.first()
                for url in itertools.islice(itertools.cycle(urls), next(turn) % len(urls), None):
                    try:
                        async with client.post(url, json=update, headers=headers) as answer:
                            if answer.status == 200:
                                break
                    except (ClientError, OSError):
                        pass
                    await asyncio.sleep(retry_every)
                await self.updates.confirm(update["update_id"])

    # -------------------------------------------------------------------------- requests

    async def handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        name = _BY_LOWER_NAME.get(request.match_info["method"].lower())
        if name is None:
            return _error(404, "Not Found")
        raw, files = await self._read_params(request)
        if name == "getUpdates":
            return await self._get_updates(raw)
        if name == "setWebhook":
            self.webhook_url = str(raw.get("url") or "")
        elif name == "deleteWebhook":
            self.webhook_url = ""
        cls = METHOD_CLASSES[name]
        try:
            method = cls.model_validate(decode_params(cls, raw, files))
        except ValidationError as error:
            missing = [e for e in error.errors() if e["type"] == "missing"]
            if missing:
                field_name = str(missing[0]["loc"][0])
                return _error(400, f'Bad Request: parameter "{field_name}" is required')
            return _error(400, f"Bad Request: invalid parameters: {error.errors()[0]['msg']}")
        try:
            await self.telegram.make_request(self.bot, method)
        except (TelegramAPIError, TelegramNetworkError) as error:
            response = _error_response(error)
            await self._notify()
            return response
        call = self.telegram.calls[-1]
        self._keep_uploads(call)
        response = web.json_response({"ok": True, "result": call.raw_result})
        await self._notify()
        return response

    async def handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.match_info["path"]
        try:
            chunks = [chunk async for chunk in self.telegram.stream_content("/" + path)]
        except FileNotFoundError:
            return _error(404, "Not Found")
        return web.Response(body=b"".join(chunks), content_type="application/octet-stream")

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, InputFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, InputFile] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                raw.update(body)
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = BufferedInputFile(value.file.read(), filename=value.filename)
                else:
                    raw[key] = value
        return raw, files

    async def _get_updates(self, raw: dict[str, Any]) -> web.Response:
        if self.webhook_url:
            return _error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        allowed = raw.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        try:
            offset = int(raw["offset"]) if raw.get("offset") not in (None, "") else None
            limit = int(raw.get("limit") or 100)
            timeout = float(raw.get("timeout") or 0)
        except ValueError:
            return _error(400, "Bad Request: wrong parameter value")
        result = await self.updates.take(
            offset=offset, limit=limit, wait_seconds=timeout, allowed_updates=allowed or None
        )
        return web.json_response({"ok": True, "result": result})

    def _keep_uploads(self, call: RecordedCall) -> None:
        """Uploaded bytes stay downloadable under the file id Telegram gave them."""
        uploads = [f for f in call.files.values() if isinstance(f, BufferedInputFile)]
        if not uploads:
            return
        for upload, message in zip(uploads, call.delivered_raw, strict=False):
            for kind in ("photo", "document", "video", "audio", "voice", "animation"):
                media = message.get(kind)
                if isinstance(media, list):  # every size of a photo shows the same picture
                    for size in media:
                        self.telegram.set_file_content(size["file_id"], upload.data)
                elif isinstance(media, dict):
                    self.telegram.set_file_content(media["file_id"], upload.data)

    async def _notify(self) -> None:
        if not self.telegram.calls:
            return
        call = self.telegram.calls[-1]
        for listener in self.listeners:
            result = listener(call)
            if inspect.isawaitable(result):
                await result
        if not self.keep_calls:
            self.telegram.clear()
