"""Staff replies to a web-chat visitor wait here until the chat page polls for them.

A web visitor has no number to text, so the page asks ``GET /api/chat/updates``
every few seconds. Entries are encrypted like transcripts and expire.
"""

from __future__ import annotations

import redis
from cryptography.fernet import Fernet, InvalidToken

PREFIX = "kyr:outbox:"


class WebOutbox:
    def __init__(self, client: redis.Redis, fernet: Fernet, ttl: int):
        self.client = client
        self.fernet = fernet
        self.ttl = ttl

    def push(self, sender: str, text: str) -> int:
        """Store one reply; returns its number.

        The counter's INCR and EXPIRE run in one MULTI and the entry is one
        SET ... EX, so a process that dies in between leaves no key without a TTL.
        """
        base = PREFIX + sender
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(base + ":seq")
        pipe.expire(base + ":seq", self.ttl)
        n = int(pipe.execute()[0])
        self.client.set(f"{base}:{n}", self.fernet.encrypt(text.encode()).decode(), ex=self.ttl)
        return n

    def erase(self, sender: str) -> None:
        """DELETE: every message waiting for this visitor, and the counter."""
        base = PREFIX + sender
        last = int(self.client.get(base + ":seq") or 0)
        self.client.delete(base + ":seq", *(f"{base}:{n}" for n in range(1, last + 1)))

    def since(self, sender: str, after: int) -> tuple[list[str], int]:
        """Messages after number ``after`` and the newest number (the page sends it back)."""
        base = PREFIX + sender
        last = int(self.client.get(base + ":seq") or 0)
        if after >= last:
            return [], last
        first = max(after + 1, last - 50 + 1)
        texts = []
        for token in self.client.mget([f"{base}:{n}" for n in range(first, last + 1)]):
            if not token:
                continue
            try:
                texts.append(self.fernet.decrypt(token.encode()).decode())
            except InvalidToken:
                continue
        return texts, last
