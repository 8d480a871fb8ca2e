"""SMPP 3.4 PDUs over asyncio streams, encoded and decoded by smpplib's own PDU classes.

smpplib's ``Client`` is a blocking socket client; only its PDU layer is used here (see
``smpp.py`` for why). These helpers hide its quirks: commands need a sequence source, string
fields are ``str`` when generating but ``bytes`` after parsing, and unknown TLVs must be
allowed (SMSCs send vendor TLVs) instead of failing the whole PDU.
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from smpplib import command_codes, smpp
from smpplib.command import Command

MAX_PDU = 70_000  # message_payload may hold 64 KB

ESME_ROK = 0x00
ESME_RINVCMDID = 0x03
ESME_RSYSERR = 0x08
ESME_RX_T_APPN = 0x64


class Sequence:
    """Sequence numbers 1..0x7FFFFFFF (smpplib asks its ``client`` for them)."""

    def __init__(self) -> None:
        self.sequence = 0

    def next_sequence(self) -> int:
        self.sequence = self.sequence % 0x7FFFFFFF + 1
        return self.sequence


class PduError(Exception):
    """A malformed or unexpected PDU: the session cannot go on."""


def make(command: str, seq: Sequence, **fields: Any) -> Command:
    return smpp.make_pdu(command, client=seq, **fields)


def response(command: str, request: Command, status: int = ESME_ROK, **fields: Any) -> Command:
    pdu = smpp.make_pdu(command, client=Sequence(), status=status, **fields)
    pdu.sequence = request.sequence  # smpplib ignores a ``sequence=`` keyword here
    return pdu


def decode(raw: bytes) -> Command:
    return smpp.parse_pdu(raw, client=Sequence(), allow_unknown_opt_params=True)


def header(raw: bytes) -> tuple[int, int, int, int]:
    """(length, command_id, status, sequence) without parsing the body."""
    return struct.unpack(">LLLL", raw[:16])


def command_name(command_id: int) -> str | None:
    try:
        return command_codes.get_command_name(command_id)
    except Exception:
        return None


async def read_raw(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">L", head)
    if length < 16 or length > MAX_PDU:
        raise PduError(f"PDU length {length} out of range")
    return head + await reader.readexactly(length - 4)


def text(value: Any) -> str:
    """A C-octet string field as text (bytes after parsing, str or None otherwise)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
