"""Telegram test helpers: the fake Bot API on loopback and Update builders."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from channels.telegram.tests.fake_bot_api import FakeBotApi
from tests.support.fixtures import TOKENS

WEBHOOK = "/channels/telegram/webhook"
SECRET_HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TOKENS["telegram_secret"]}
CHAT = 4000000002
USER = {"id": CHAT, "is_bot": False, "first_name": "Siti", "username": "siti_k", "language_code": "id"}
T0 = 1763800000
_update_ids = itertools.count(880000001)


def update(message_id: int, *, date: int = T0, chat: int = CHAT, edited: bool = False, **content: Any
           ) -> dict[str, Any]:
    msg = {"message_id": message_id, "date": date, "from": {**USER, "id": chat},
           "chat": {"id": chat, "type": "private", "first_name": "Siti"}, **content}
    return {"update_id": next(_update_ids), ("edited_message" if edited else "message"): msg}


def text(message_id: int, body: str, **kw: Any) -> dict[str, Any]:
    if body.startswith("/"):
        cmd = body.split()[0]
        kw.setdefault("entities", [{"offset": 0, "length": len(cmd), "type": "bot_command"}])
    return update(message_id, text=body, **kw)


def photo(message_id: int, caption: str | None = None, file_id: str = "AgACAgUAAxkBAAIBm", **kw: Any
          ) -> dict[str, Any]:
    sizes = [{"file_id": file_id + "s", "file_unique_id": "s" + file_id[-5:], "width": 90, "height": 67,
              "file_size": 1400},
             {"file_id": file_id, "file_unique_id": "m" + file_id[-5:], "width": 1280, "height": 960,
              "file_size": 98000}]
    if caption:
        kw["caption"] = caption
    return update(message_id, photo=sizes, **kw)


def location(message_id: int, lat: float = -6.914744, lon: float = 107.60981, **kw: Any) -> dict[str, Any]:
    return update(message_id, location={"latitude": lat, "longitude": lon}, **kw)


async def wait_until(pred: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    api = await FakeBotApi(token=TOKENS["telegram_bot_token"]).start()
    yield api
    await api.stop()
