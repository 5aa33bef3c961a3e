"""The pilot communities' mobile platform: its CSV export of text messages into police ratings and complaints.

The sender's phone number never reaches the database, a log or a report: on import it becomes a keyed hash
(HMAC-SHA256 with a secret made once per installation and kept in the encrypted database), which still lets the
forum see that several messages came from one phone. Numbers written inside a message's text are masked too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from ..store.db import Database
from ..store.schema import get_meta, set_meta

PHONE_KEY_META = "sms_phone_hmac_key"
_DIGITS = re.compile(r"\D+")
# A phone number written inside a message: +254 7xx xxx xxx, 07xx xxx xxx, 01xx-xxx-xxx and the like.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?254[\s-]?|0)[17]\d{2}[\s-]?\d{3}[\s-]?\d{3}(?!\d)")
PHONE_MASK = "[phone]"


def phone_key(db: Database) -> bytes:
    """This installation's secret for phone hashes, made on first use. A hash from another installation will not
    match: that is intended, so a leaked export cannot be joined across forums."""
    existing = get_meta(db, PHONE_KEY_META)
    if existing:
        return bytes.fromhex(existing)
    key = os.urandom(32)
    with db.transaction():
        existing = get_meta(db, PHONE_KEY_META)
        if existing:
            return bytes.fromhex(existing)
        set_meta(db, PHONE_KEY_META, key.hex())
    return key


def normalise_phone(raw: object) -> str | None:
    """A phone number in one shape (+2547XXXXXXXX for Kenyan numbers), or None when it is not one."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    plus = text.startswith("+")
    digits = _DIGITS.sub("", text)
    if len(digits) == 9 and digits[0] in "17":
        return "+254" + digits
    if len(digits) == 10 and digits[0] == "0" and digits[1] in "17":
        return "+254" + digits[1:]
    if len(digits) == 12 and digits.startswith("254"):
        return "+" + digits
    if plus and 8 <= len(digits) <= 15:
        return "+" + digits
    return None


def hash_phone(raw: object, key: bytes) -> str | None:
    """The keyed hash of a phone number (64 hex characters), or None when ``raw`` is not a phone number."""
    phone = normalise_phone(raw)
    if phone is None:
        return None
    return hmac.new(key, phone.encode("ascii"), hashlib.sha256).hexdigest()


def mask_phones(text: str | None) -> str | None:
    """Message text with any phone number in it replaced, so the number is not kept by way of the message."""
    if not text:
        return text
    return _PHONE_IN_TEXT.sub(PHONE_MASK, text)
