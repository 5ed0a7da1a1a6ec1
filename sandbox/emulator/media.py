"""Photos, documents, voice, albums and files: what sending media makes and getFile serves."""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiogram.types import BufferedInputFile, InputFile, URLInputFile

from . import ids
from .api_errors import (
    MAX_DOWNLOAD_SIZE,
    bad_request,
)
from .outgoing import OutgoingMessages
from .state import (
    CAPTIONED_MEDIA,
    FileRecord,
    Request,
)

if TYPE_CHECKING:
    pass


class MediaMethods(OutgoingMessages):
    """send<Media>, sendMediaGroup, getFile; the files the fake knows."""

    def set_file_content(self, file_id: str, content: bytes) -> None:
        """Bytes ``bot.download(file_id)`` gets for a file (it also sets ``file_size``)."""
        record = self._file_record(file_id, "document")
        record.data["file_size"] = len(content)
        self._file_contents[self._file_path(record)] = content

    def _file_record(self, file_id: str, kind: str) -> FileRecord:
        record = self._files.get(file_id)
        if record is None:
            record = FileRecord(
                kind=kind,
                data={"file_id": file_id, "file_unique_id": ids.unique_id_for(file_id)},
            )
            self._files[file_id] = record
        return record

    def _file_path(self, record: FileRecord) -> str:
        if record.file_path is None:
            folder = {
                "photo": "photos",
                "voice": "voice",
                "video": "videos",
                "audio": "music",
                "animation": "animations",
                "sticker": "stickers",
                "video_note": "video_notes",
            }.get(record.kind, "documents")
            name = record.data.get("file_name") or ""
            suffix = ""
            if "." in name:
                suffix = "." + name.rsplit(".", 1)[1]
            elif record.kind == "photo":
                suffix = ".jpg"
            elif record.kind == "voice":
                suffix = ".oga"
            record.file_path = f"{folder}/file_{ids.next_number()}{suffix}"
        return record.file_path

    def _media_object(self, request: Request, kind: str, value: Any, extra: dict[str, Any]) -> Any:
        """The Telegram object for sent media (PhotoSize list for photos)."""
        upload: InputFile | None = None
        url: str | None = None
        given_id: str | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = request.files.get(value[len("attach://") :])
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            url = value
        elif isinstance(value, str):
            given_id = value
        else:
            raise bad_request("Bad Request: wrong file identifier/HTTP URL specified")

        known = self._files.get(given_id) if given_id else None
        if known is not None:
            if known.kind != kind and {known.kind, kind} != {"document", "animation"}:
                raise bad_request("Bad Request: type of file mismatch")
            if kind == "photo":
                return copy.deepcopy(known.group or [known.data])
            return copy.deepcopy(known.data)

        file_name: str | None = None
        size: int | None = None
        if isinstance(upload, URLInputFile):
            url = upload.url
        if isinstance(upload, BufferedInputFile):
            file_name, size = upload.filename, len(upload.data)
        elif upload is not None and not isinstance(upload, URLInputFile):
            file_name = upload.filename
        elif url:
            file_name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        if size is None:
            size = 24_000 + ids.next_number() % 1000

        if kind == "photo":
            sizes = []
            for index, (width, height) in enumerate(((90, 68), (320, 240), (1280, 960))):
                pair = ids.new_file_ids("photo")
                last = index == 2
                sizes.append(
                    {
                        "file_id": given_id if (given_id and last) else pair.file_id,
                        "file_unique_id": (
                            ids.unique_id_for(given_id)
                            if (given_id and last)
                            else pair.file_unique_id
                        ),
                        "file_size": size if last else max(size // (8 >> index), 1),
                        "width": width,
                        "height": height,
                    }
                )
            self.register_file("photo", sizes[-1], sizes=sizes)
            return sizes

        pair = ids.new_file_ids(kind)
        data: dict[str, Any] = {
            "file_id": given_id or pair.file_id,
            "file_unique_id": ids.unique_id_for(given_id) if given_id else pair.file_unique_id,
        }
        default_mime = {
            "video": "video/mp4",
            "audio": "audio/mpeg",
            "voice": "audio/ogg",
            "animation": "video/mp4",
        }
        if kind == "sticker":
            data.update(type="regular", width=512, height=512, is_animated=False, is_video=False)
            if extra.get("emoji"):
                data["emoji"] = extra["emoji"]
        elif kind == "video_note":
            data.update(length=extra.get("length") or 240, duration=extra.get("duration") or 5)
        else:
            if kind in ("video", "animation"):
                data.update(
                    width=extra.get("width") or 1280,
                    height=extra.get("height") or 720,
                    duration=extra.get("duration") or 10,
                )
            elif kind in ("audio", "voice"):
                data["duration"] = extra.get("duration") or 7
                for key in ("performer", "title"):
                    if kind == "audio" and extra.get(key):
                        data[key] = extra[key]
            if file_name and kind != "voice":
                data["file_name"] = file_name
            mime = (mimetypes.guess_type(file_name)[0] if file_name else None) or default_mime.get(
                kind, "application/octet-stream"
            )
            data["mime_type"] = mime
        data["file_size"] = size
        self.register_file(kind, data)
        return data

    def _media_sender(self, kind: str) -> Callable[[Request], dict[str, Any]]:
        def send(request: Request) -> dict[str, Any]:
            content = self._caption_content(request.params) if kind in CAPTIONED_MEDIA else {}
            media = self._media_object(request, kind, request.params.get(kind), request.params)
            content[kind] = media
            if kind == "animation":
                content["document"] = {
                    key: media[key]
                    for key in ("file_id", "file_unique_id", "file_name", "mime_type", "file_size")
                    if key in media
                }
            return self._deliver(request, content)

        return send

    def _send_media_group(self, request: Request) -> list[dict[str, Any]]:
        items = request.params.get("media") or []
        if not items:
            raise bad_request("Bad Request: there are no messages to send")
        if len(items) > 10:
            raise bad_request("Bad Request: too many messages to send as an album")
        contents = []
        for item in items:
            kind = item["type"]
            content = self._caption_content(item)
            content[kind] = self._media_object(request, kind, item.get("media"), item)
            contents.append(content)
        chat = self._target_chat(request)
        thread_id = self._check_thread(chat, request.params.get("message_thread_id"))
        reply_to = self._reply_target(chat, request.params)
        group_id = ids.new_media_group_id()
        messages = []
        for content in contents:
            message = self._new_message(
                request, chat, thread_id, content=content, reply_markup=None, reply_to=reply_to
            )
            message["media_group_id"] = group_id
            self._store(chat, message, request)
            messages.append(message)
        return messages

    def _get_file(self, request: Request) -> dict[str, Any]:
        file_id = str(request.params["file_id"])
        record = self._file_record(file_id, "document")
        size = record.data.get("file_size")
        if size is not None and size > MAX_DOWNLOAD_SIZE:
            raise bad_request("Bad Request: file is too big")
        path = self._file_path(record)
        self._file_contents.setdefault(path, f"content of {file_id}".encode())
        result = {
            "file_id": file_id,
            "file_unique_id": record.data["file_unique_id"],
            "file_path": path,
        }
        if size is not None:
            result["file_size"] = size
        return result
