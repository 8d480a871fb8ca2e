"""The Telegram conversation: commands, follow-up linking, edits — state in Redis.

Nothing is held back: every message that is part of a complaint becomes a record as soon as
the dispatcher reads it. What this hook decides is how the records relate:

- the first message of a conversation opens a thread (``thread_id`` = its record id);
- a photo, document, location or contact within ``telegram_followup_window_s`` of the last
  message (sliding), or any message inside an open ``/lapor`` (until ``/kirim``, ``/batal`` or
  ``telegram_report_idle_s`` of silence), becomes a record flagged ``follow_up`` with
  ``conversation.in_reply_to`` = the first record's id, in the same thread;
- a new text outside an open ``/lapor`` starts a new complaint;
- a Telegram reply to one of the citizen's earlier complaint messages is a ``follow_up`` of that
  message's record, whenever it comes;
- an edited message (flag ``edited``) becomes a ``follow_up`` of the record of the message it edits;
- commands never become complaints: they change the state and are answered (``Reply``).

Windows are measured on Telegram's message dates, not on dispatcher time, so a backlog or a
restart does not change the outcome. The state is one Redis hash per chat. Re-processing the same
message (a worker died before its commit) gives the same decision: the first message is
recognised by its record id. The decision is one Lua script (``conversation.lua``): atomic, so
several dispatcher processes agree on who is first, and one round trip per message.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import redis.asyncio as aioredis

from channels.core.hooks import Decision, Emit, Preprocessor, Reply
from channels.core.reference import reference
from channels.telegram import texts
from channels.telegram.files import FileFetcher
from config.settings import Settings
from gateway import keys
from gateway.logging import get_logger
from normalizer.models import Conversation, InboundMessage
from normalizer.normalize import NormalizeContext

log = get_logger("channels.telegram.hooks")

PHONE_TTL_S = 90 * 24 * 3600
COMMAND_REPLIES_PER_MINUTE = 10
_LUA = resources.files("channels.telegram").joinpath("conversation.lua").read_text(encoding="utf-8")


def conv_key(chat_id: Any, user_id: Any = None) -> str:
    """One conversation per private chat; in a group (when allowed) one per member."""
    if user_id is None or str(user_id) == str(chat_id):
        return f"{keys.PREFIX}tg:conv:{{{chat_id}}}"
    return f"{keys.PREFIX}tg:conv:{{{chat_id}}}:{user_id}"


def _conv_key(msg: InboundMessage) -> str:
    return conv_key(msg.meta["chat_id"], msg.meta.get("user_id"))


def msg_key(chat_id: Any, message_id: Any) -> str:
    """Record id and thread of a Telegram message (for edits)."""
    return f"{keys.PREFIX}tg:msg:{{{chat_id}}}:{message_id}"


def phone_key(chat_id: Any, user_id: Any) -> str:
    """The citizen's own shared number (same hash slot as the chat's conversation)."""
    return f"{keys.PREFIX}tg:phone:{{{chat_id}}}:{user_id}"


def _hash(raw: dict[Any, Any]) -> dict[str, Any]:
    return {str(keys.text(k)): keys.text(v) for k, v in raw.items()}


def _date(msg: InboundMessage) -> float:
    return msg.sent_at.timestamp() if msg.sent_at else time.time()


def _bare_contact(msg: InboundMessage) -> bool:
    return bool(msg.meta.get("contact")) and not (msg.text or msg.attachments or msg.location)


def is_edit(msg: InboundMessage) -> bool:
    """An ``edited_message`` (flag ``edited``; ``meta.edit`` on entries stored before the flag existed)."""
    return "edited" in msg.flags or bool(msg.meta.get("edit"))


def _is_media(msg: InboundMessage) -> bool:
    return bool(msg.attachments or msg.location or msg.meta.get("contact"))


class ConversationPreprocessor(Preprocessor):
    def __init__(self, settings: Settings, fetcher: FileFetcher | None = None) -> None:
        self.settings = settings
        self.window_s = settings.telegram_followup_window_s
        self.report_idle_s = settings.telegram_report_idle_s
        self.state_ttl_s = max(self.window_s, self.report_idle_s) + 3600
        self._script: Any = None  # registered on first use, called with the dispatcher's client
        self.fetcher = fetcher if fetcher is not None else (
            FileFetcher(settings) if settings.telegram_fetch_files else None)

    def applies(self, msg: InboundMessage) -> bool:
        return msg.channel == "telegram" and "chat_id" in msg.meta


    async def prepare(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        if msg.meta.get("command") and not is_edit(msg):
            command = msg.meta["command"]
            if not (command == "lapor" and (msg.body or "").strip()):
                return await self._command(r, msg, command)
            # "/lapor <text>": open a report whose first message is the text
            await self._open(r, msg, reset=True)
            msg.text = msg.body or ""
            msg.body = None
        decision = await (self._edit(r, msg) if is_edit(msg) else self._message(r, msg))
        if self.fetcher is not None:
            for em in decision.emit:
                for m in em.messages:
                    await self.fetcher.fetch_all(m)
        return decision

    # ------------------------------------------------------------------ messages
    async def _message(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        assert msg.id is not None
        replied = msg.meta.get("reply_to_message_id")
        if replied is not None and not _bare_contact(msg):
            linked = await self._linked(r, msg, replied)
            if linked is not None:
                return linked
        chat, user = msg.meta["chat_id"], msg.meta.get("user_id", msg.sender.id)
        own_phone = msg.sender.phone if (msg.meta.get("contact") or {}).get("own") and msg.sender.phone else ""
        bare_contact = _bare_contact(msg)
        if self._script is None:
            self._script = r.register_script(_LUA)
        res = await self._script(
            keys=[_conv_key(msg), msg_key(chat, msg.meta["message_id"]), phone_key(chat, user)],
            args=[msg.id, _date(msg), self.window_s, self.report_idle_s, int(_is_media(msg)), int(bare_contact),
                  self.state_ttl_s, self.settings.dedupe_ttl_s, own_phone, PHONE_TTL_S],
            client=r)
        first, thread, follow, confidential, anonymous, known_phone = (
            keys.text(x) if isinstance(x, bytes) else x for x in res)  # the script also returns integers
        if known_phone and not msg.sender.phone:
            msg.sender.phone = str(known_phone)
        msg.confidential = msg.confidential or confidential == 1
        msg.anonymous = msg.anonymous or anonymous == 1
        if follow == 1:
            msg.conversation = Conversation(thread_id=str(thread), in_reply_to=str(first))
            return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=str(first), extra_flags=["follow_up"]))])
        if bare_contact:  # a phone number alone is no complaint: it was remembered for the reports
            return Decision(replies=[self._reply(msg, texts.CONTACT_SAVED)], skipped="contact")
        msg.conversation = Conversation(thread_id=str(thread))
        return Decision.single(msg)

    def _explicit_open(self, state: dict[str, Any], date: float) -> bool:
        return state.get("open") == "1" and date - float(state.get("last_at") or 0) <= self.report_idle_s

    async def _apply_phone(self, r: aioredis.Redis, msg: InboundMessage) -> None:
        """A citizen's own shared number is their msisdn on later messages too."""
        if not msg.sender.phone:
            known = keys.text(await r.get(phone_key(msg.meta["chat_id"], msg.meta.get("user_id", msg.sender.id))))
            if known:
                msg.sender.phone = known

    async def _linked(self, r: aioredis.Redis, msg: InboundMessage, replied: Any) -> Decision | None:
        """A Telegram reply to one of the citizen's earlier complaint messages adds to that complaint,
        whenever it comes (the explicit link wins over the time window)."""
        raw = keys.text(await r.get(msg_key(msg.meta["chat_id"], replied)))
        if not raw:
            return None
        target, _, thread = raw.partition(" ")
        if target == msg.id:
            return None
        await self._apply_phone(r, msg)
        await r.set(msg_key(msg.meta["chat_id"], msg.meta["message_id"]), f"{msg.id} {thread or target}",
                    ex=self.settings.dedupe_ttl_s)
        msg.conversation = Conversation(thread_id=thread or target, in_reply_to=target)
        return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=target, extra_flags=["follow_up"]))])

    async def _edit(self, r: aioredis.Redis, msg: InboundMessage) -> Decision:
        """An edit is recorded as a follow-up of the record of the message it changes."""
        raw = keys.text(await r.get(msg_key(msg.meta["chat_id"], msg.meta["message_id"])))
        if not raw:  # the original was a command, a skipped message, or is older than we remember
            log.info("telegram.edit_of_unknown", chat_type=msg.meta.get("chat_type"))
            return Decision(skipped="edit_of_unknown")
        await self._apply_phone(r, msg)
        first, _, thread = raw.partition(" ")
        msg.conversation = Conversation(thread_id=thread or first, in_reply_to=first)
        return Decision(emit=[Emit([msg], NormalizeContext(in_reply_to=first, extra_flags=["follow_up"]))])

    # ------------------------------------------------------------------ commands
    async def _open(self, r: aioredis.Redis, msg: InboundMessage, *, reset: bool) -> dict[str, Any]:
        key = _conv_key(msg)
        date = _date(msg)
        state = _hash(await r.hgetall(key))
        async with r.pipeline(transaction=True) as pipe:
            if reset or not self._explicit_open(state, date):
                pipe.delete(key)
                state = {}
            pipe.hset(key, mapping={"open": "1", "last_at": str(date)})
            pipe.expire(key, self.state_ttl_s)
            await pipe.execute()
        return state

    async def _command(self, r: aioredis.Redis, msg: InboundMessage, command: str) -> Decision:
        key = _conv_key(msg)
        if command == "lapor":
            await self._open(r, msg, reset=True)
            text = texts.REPORT_OPENED
        elif command in ("rahasia", "anonim"):
            state = await self._open(r, msg, reset=False)
            await r.hset(key, "confidential" if command == "rahasia" else "anonymous", "1")
            text = texts.CONFIDENTIAL_SET if command == "rahasia" else texts.ANONYMOUS_SET
            if state.get("first"):
                text += texts.FLAG_LATE
        elif command in ("kirim", "batal"):
            state = _hash(await r.hgetall(key))
            await r.delete(key)
            first = state.get("first")
            if command == "kirim":
                text = texts.submitted(reference(first)) if first else texts.NOTHING_TO_SUBMIT
            else:
                text = texts.cancelled_after_send(reference(first)) if first else texts.CANCELLED
        else:  # /start, /bantuan, /help and anything unknown
            text = texts.HELP
        if not await self._may_answer(r, msg):
            return Decision(skipped="command")
        return Decision(replies=[self._reply(msg, text)], skipped="command")

    @staticmethod
    async def _may_answer(r: aioredis.Redis, msg: InboundMessage) -> bool:
        """At most ``COMMAND_REPLIES_PER_MINUTE`` answers to commands per chat and minute of Telegram's
        message dates (deterministic when a backlog is replayed)."""
        key = f"{keys.rate('telegram-command', str(msg.meta['chat_id']))}:{int(_date(msg) // 60)}"
        async with r.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            n, _ = await pipe.execute()
        return int(n) <= COMMAND_REPLIES_PER_MINUTE

    @staticmethod
    def _reply(msg: InboundMessage, text: str) -> Reply:
        thread = msg.reply_to.thread if msg.reply_to else None
        return Reply(channel="telegram", address=str(msg.meta["chat_id"]), text=text, provider="telegram",
                     thread=thread, meta={"in_reply_to_message": msg.native_id})


def preprocessors(settings: Settings) -> list[ConversationPreprocessor]:
    return [ConversationPreprocessor(settings)]
