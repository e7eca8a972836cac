"""Saved replies: short texts admins write once, in any of the eight languages, for staff to send.

One Redis hash, ``kyr:console:replies`` (field = reply id, value = JSON with a
title and one text per language). Texts may use ``{first_name_of_staff}``,
``{hotline}`` and ``{legal_help}``, filled when sent (the hotline and legal
help nearest the person, as the bot's own answers do). Organization data, not
personal data: the key's TTL (``SAVED_REPLIES_TTL_DAYS``) is renewed whenever
the console reads or changes the replies, so they last as long as the console
is in use and survive restarts and redeploys (SECURITY.md: backups).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import string
import time

import redis

REPLIES_KEY = "kyr:console:replies"
#: Kept this long after the console last read or changed them (renewed on every use).
SAVED_REPLIES_TTL_DAYS = 730
VARIABLES = ("first_name_of_staff", "hotline", "legal_help")
MAX_TITLE_CHARS = 80
#: A saved reply is a short message; the bot's own answers stay under 480 characters.
MAX_TEXT_CHARS = 640
MAX_REPLIES = 200
#: Reply ids: 10 lower-case hex digits (checked in console URLs, bot/console/ids.py).
REPLY_ID_PATTERN = r"[0-9a-f]{10}"


class ReplyError(ValueError):
    """A saved reply that cannot be stored (the message says why)."""


@dataclasses.dataclass(frozen=True)
class SavedReply:
    id: str
    title: str
    texts: dict[str, str]
    updated_by: str = ""
    updated_at: float = 0.0


def check_template(text: str) -> None:
    """Only the known variables, with well-formed braces."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None]
    except ValueError:
        raise ReplyError("a { or } without its pair (write variables as {hotline})") from None
    if any(spec or conversion for _, spec, conversion in fields):
        raise ReplyError("write variables plainly, as {hotline}")
    names = [name for name, _, _ in fields]
    unknown = sorted({name for name in names if name not in VARIABLES})
    if unknown:
        raise ReplyError(f"unknown variable(s) {', '.join('{' + n + '}' for n in unknown)}; "
                         f"use {', '.join('{' + v + '}' for v in VARIABLES)}")


class SavedReplies:
    def __init__(self, client: redis.Redis, languages: tuple[str, ...]):
        self.client = client
        self.languages = languages

    def _renew(self, pipe) -> None:
        pipe.expire(REPLIES_KEY, SAVED_REPLIES_TTL_DAYS * 86400)

    def all(self) -> list[SavedReply]:
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(REPLIES_KEY)
        self._renew(pipe)
        raw = pipe.execute()[0]
        replies = [SavedReply(**json.loads(value)) for value in raw.values()]
        return sorted(replies, key=lambda r: r.title.lower())

    def get(self, reply_id: str) -> SavedReply | None:
        raw = self.client.hget(REPLIES_KEY, reply_id)
        return SavedReply(**json.loads(raw)) if raw else None

    def _clean(self, title: str, texts: dict[str, str]) -> tuple[str, dict[str, str]]:
        title = " ".join((title or "").split())
        if not title or len(title) > MAX_TITLE_CHARS:
            raise ReplyError(f"a title is 1-{MAX_TITLE_CHARS} characters")
        cleaned = {}
        for lang in self.languages:
            text = re.sub(r"\r\n?", "\n", texts.get(lang) or "").strip()
            if not text:
                continue
            if len(text) > MAX_TEXT_CHARS:
                raise ReplyError(f"the {lang} text is longer than {MAX_TEXT_CHARS} characters")
            check_template(text)
            cleaned[lang] = text
        if not cleaned:
            raise ReplyError("write the reply in at least one language")
        return title, cleaned

    def save(self, reply_id: str | None, title: str, texts: dict[str, str], by: str) -> SavedReply:
        """Create (``reply_id`` None) or replace a saved reply."""
        title, cleaned = self._clean(title, texts)
        if reply_id is None:
            if self.client.hlen(REPLIES_KEY) >= MAX_REPLIES:
                raise ReplyError(f"at most {MAX_REPLIES} saved replies; delete one first")
            reply_id = secrets.token_hex(5)
        elif not self.client.hexists(REPLIES_KEY, reply_id):
            raise ReplyError("that saved reply no longer exists")
        reply = SavedReply(reply_id, title, cleaned, by, time.time())
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(REPLIES_KEY, reply_id, json.dumps(dataclasses.asdict(reply)))
        self._renew(pipe)
        pipe.execute()
        return reply

    def delete(self, reply_id: str) -> bool:
        return bool(self.client.hdel(REPLIES_KEY, reply_id))

    @staticmethod
    def fill(text: str, values: dict[str, str]) -> str:
        """The text with its variables filled (a variable without a value becomes empty)."""
        return string.Formatter().vformat(text, (), {name: values.get(name, "") for name in VARIABLES})
