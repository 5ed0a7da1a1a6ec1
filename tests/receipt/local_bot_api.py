"""A local Bot API server for running the real bot process under traffic.

It keeps what a fault test needs to account for every message: updates are handed out with
Telegram's confirmation rule (an update stays until a getUpdates with a higher offset), every
copy into the staff group and every text to a customer is recorded, topics get real thread ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT = {"id": 42, "is_bot": True, "first_name": "Support Desk", "username": "desk_bot"}
STAFF = -1009876543210
DATE = 1_790_000_000
TOPIC_COLOR = 7322096


@dataclass(frozen=True, slots=True)
class Copy:
    chat_id: int
    thread_id: int | None
    from_chat_id: int
    message_id: int
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class Text:
    chat_id: int
    thread_id: int | None
    text: str
    at: float = field(default_factory=time.monotonic)


class LocalBotApi:
    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(100)
        )
        self._new_updates = asyncio.Condition()
        self.copies: list[Copy] = []
        self.texts: list[Text] = []
        self.topics: dict[int, str] = {}  # thread id -> name
        self.topic_created_at: dict[int, float] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.confirmed_at: dict[int, float] = {}
        self.closing = False
        self.users: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ the test's side

    def add_user(self, user_id: int, first_name: str) -> dict[str, Any]:
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
        self.users[user_id] = user
        return user

    async def customer_writes(self, user_id: int, text: str) -> int:
        """A customer sends a text in the private chat; returns its message id."""
        user = self.users[user_id]
        message_id = next(self._message_ids[user_id])
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        await self._push(
            {
                "message": {
                    "message_id": message_id,
                    "date": DATE,
                    "chat": chat,
                    "from": user,
                    "text": text,
                }
            }
        )
        return message_id

    async def agent_writes(self, user_id: int, thread_id: int, text: str) -> int:
        """An agent writes in a ticket's topic of the staff group; returns its message id."""
        message_id = next(self._message_ids[STAFF])
        chat = self._staff_chat()
        root = {
            "message_id": thread_id,
            "date": DATE,
            "chat": chat,
            "from": BOT,
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": self.topics[thread_id], "icon_color": TOPIC_COLOR},
        }
        await self._push(
            {
                "message": {
                    "message_id": message_id,
                    "date": DATE,
                    "chat": chat,
                    "from": self.users[user_id],
                    "message_thread_id": thread_id,
                    "is_topic_message": True,
                    "reply_to_message": root,
                    "text": text,
                }
            }
        )
        return message_id

    def topic_of(self, marker: str) -> int | None:
        """The thread whose topic name contains `marker` (a customer's name)."""
        return next((tid for tid, name in self.topics.items() if marker in name), None)

    def release(self) -> None:
        self.closing = True

    async def wake(self) -> None:
        async with self._new_updates:
            self._new_updates.notify_all()

    async def deliver_to_webhooks(self, urls: list[str], secret: str) -> None:
        """Telegram in webhook mode behind a balancer: each update goes to the next instance
        in turn (to another one when an instance does not answer 200), until cancelled."""
        from aiohttp import ClientError, ClientSession

        turn = itertools.count()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with ClientSession() as client:
            while True:
                async with self._new_updates:
                    while not self.pending:
                        await self._new_updates.wait()
                    update = self.pending[0]
                first = next(turn)
                for attempt in range(len(urls) * 3):
                    url = urls[(first + attempt) % len(urls)]
                    try:
                        async with client.post(url, json=update, headers=headers) as answer:
                            if answer.status == 200:
                                break
                    except ClientError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError(f"no instance took update {update['update_id']}")
                self.pending.pop(0)

    # ----------------------------------------------------------------------- the server

    async def serve(self) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _push(self, body: dict[str, Any]) -> None:
        async with self._new_updates:
            self.pending.append({"update_id": next(self._update_ids), **body})
            self._new_updates.notify_all()

    def _staff_chat(self) -> dict[str, Any]:
        return {"id": STAFF, "type": "supergroup", "title": "Staff", "is_forum": True}

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id == STAFF:
            return self._staff_chat()
        user = self.users.get(chat_id, {"first_name": "someone"})
        return {"id": chat_id, "type": "private", "first_name": user["first_name"]}

    def _message(self, chat_id: int, thread_id: int | None, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": DATE,
            "chat": self._chat(chat_id),
            "from": BOT,
            **content,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        return message

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[method] += 1
        form = await request.post() if request.can_read_body else {}
        params: dict[str, Any] = {}
        for key, value in form.items():
            try:
                params[key] = json.loads(str(value))
            except ValueError:
                params[key] = str(value)
        result = await self._answer(method, params)
        return web.json_response({"ok": True, "result": result})

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        thread = params.get("message_thread_id")
        thread_id = int(thread) if thread is not None else None
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            return await self._get_updates(params)
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            text = str(params.get("text", ""))
            self.texts.append(Text(chat_id, thread_id, text))
            return self._message(chat_id, thread_id, text=text)
        if method == "copyMessage":
            chat_id = int(params["chat_id"])
            self.copies.append(
                Copy(chat_id, thread_id, int(params["from_chat_id"]), int(params["message_id"]))
            )
            return {"message_id": next(self._message_ids[chat_id])}
        if method == "createForumTopic":
            thread_id = next(self._message_ids[STAFF])
            self.topics[thread_id] = str(params["name"])
            self.topic_created_at[thread_id] = time.monotonic()
            return {
                "message_thread_id": thread_id,
                "name": str(params["name"]),
                "icon_color": TOPIC_COLOR,
            }
        if method == "editForumTopic":
            if "name" in params:
                self.topics[int(params["message_thread_id"])] = str(params["name"])
            return True
        if method == "getChat":
            info = self._chat(int(params["chat_id"]))
            info.update(accent_color_id=0, max_reaction_count=11)
            info["accepted_gift_types"] = {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            }
            return info
        if method == "getChatAdministrators":
            return [self._administrator(BOT)]
        if method == "getChatMember":
            user_id = int(params["user_id"])
            if user_id == BOT["id"]:
                return self._administrator(BOT)
            return {"status": "member", "user": self.users.get(user_id, BOT)}
        if method in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup"):
            chat_id = int(params.get("chat_id", STAFF))
            return self._message(chat_id, None, text=str(params.get("text", "")))
        return True

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        timeout = float(params.get("timeout") or 0)
        async with self._new_updates:
            if offset is not None:
                now = time.monotonic()
                for update in self.pending:
                    if update["update_id"] < int(offset):
                        self.confirmed_at[update["update_id"]] = now
                self.pending = [u for u in self.pending if u["update_id"] >= int(offset)]
            if not self.pending and timeout and not self.closing:
                # A long poll held open, as Telegram does, until an update comes.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_updates.wait(), min(timeout, 2.0))
            return list(self.pending[: int(params.get("limit") or 100)])

    @staticmethod
    def _administrator(user: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
            "can_pin_messages": True,
            "can_manage_topics": True,
        }
