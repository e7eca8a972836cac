"""Handoff records in Redis: the queue, one owner per conversation, the transcript.

Every key is a plain string with a TTL (``make audit-data`` checks both).
Nothing readable about the person is stored: the number a staff reply goes
to and every transcript entry are Fernet-encrypted with ``ENCRYPTION_KEY``;
the rest is the sender's keyed hash, language, topic and times.

Keys (``<id>`` is random):

- ``kyr:handoff:<id>``          meta (JSON): sender hash, channel, language, topic, urgency, encrypted number
- ``kyr:handoff:<id>:owner``    the staff member who claimed it (``SET NX``: one owner)
- ``kyr:handoff:<id>:closed``   why it ended (``SET NX``: it ends once)
- ``kyr:handoff:<id>:active``   time of the last message either way (idle return)
- ``kyr:handoff:<id>:seq`` / ``:m:<n>``  the transcript, one encrypted entry per key
- ``kyr:handoff:<id>:lined``    "you are #3 in line" was said lately (throttle)
- ``kyr:handoff:<id>:unanswered`` time of the person's oldest message staff have not answered (claimed only)
- ``kyr:handoff:<id>:reading``  "a person is reading your message" was said for that message
- ``kyr:handoff:sender:<hash>`` the person's open handoff
- ``kyr:handoff:of:<hash>``     ids of every handoff of the person whose data still lives (JSON): DELETE erases them all
- ``kyr:handoff:origin:<hash>`` ids of the open web-chat handoffs from one client address (JSON)
- ``kyr:handoff:open``          index of open handoffs (JSON, changed only by a Lua script)

While open, keys live ``idle + transcript TTL`` from the last activity; when
the handoff ends they are set to expire after the transcript TTL.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from typing import Any

import redis
from cryptography.fernet import Fernet, InvalidToken

from bot.content.location import Location

PREFIX = "kyr:handoff:"
OPEN_INDEX = PREFIX + "open"
SENDER_PREFIX = PREFIX + "sender:"
#: The person's handoffs, open or ended, for as long as any of their data lives (DELETE finds them here).
HISTORY_PREFIX = PREFIX + "of:"
#: Open web-chat handoffs per client address (a keyed hash of it): WEBCHAT_OPEN_HANDOFFS_PER_ADDRESS.
ORIGIN_PREFIX = PREFIX + "origin:"
#: Per-handoff keys besides the meta key and the transcript entries (``:lined`` keeps its own short TTL).
_SUFFIXES = (":owner", ":active", ":seq", ":lined", ":unanswered", ":reading", ":closed")

_INDEX_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local index = {}
if raw then index = cjson.decode(raw) end
if ARGV[2] == '' then index[ARGV[1]] = nil else index[ARGV[1]] = cjson.decode(ARGV[2]) end
if next(index) == nil then redis.call('DEL', KEYS[1]) return 0 end
redis.call('SET', KEYS[1], cjson.encode(index), 'EX', tonumber(ARGV[3]))
return 1
"""
#: Add a handoff id to the person's history (a JSON list); the key lives as long as the longest of them.
_HISTORY_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local ids = {}
if raw then ids = cjson.decode(raw) end
local seen = false
for _, id in ipairs(ids) do if id == ARGV[1] then seen = true end end
if not seen then table.insert(ids, ARGV[1]) end
local ttl = math.max(redis.call('TTL', KEYS[1]), tonumber(ARGV[2]))
redis.call('SET', KEYS[1], cjson.encode(ids), 'EX', ttl)
return #ids
"""
#: Reserve a new handoff id for a web-chat client address unless ARGV[2] of its handoffs are open
#: (or reserved in the last ARGV[5] seconds and being opened now). Entries: [id, reserved at].
_ORIGIN_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
local entries = {}
if raw then entries = cjson.decode(raw) end
local now = tonumber(ARGV[6])
local kept = {}
for _, entry in ipairs(entries) do
  local base = ARGV[4] .. entry[1]
  local opened = redis.call('EXISTS', base) == 1
  if redis.call('EXISTS', base .. ':closed') == 0 and (opened or now - entry[2] < tonumber(ARGV[5])) then
    table.insert(kept, entry)
  end
end
if #kept >= tonumber(ARGV[2]) then return 0 end
table.insert(kept, {ARGV[1], now})
redis.call('SET', KEYS[1], cjson.encode(kept), 'EX', tonumber(ARGV[3]))
return 1
"""
#: Claim: only an open handoff, only when nobody owns it (one atomic step).
_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return 1 end
return 0
"""
#: Release: only the owner (or anyone with ARGV[2] == 'force', i.e. an admin).
_RELEASE_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
if ARGV[2] ~= 'force' and cjson.decode(raw)['name'] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


def new_id() -> str:
    """A handoff id: 16 random hex digits (the console checks this format, bot/console/ids.py)."""
    return secrets.token_hex(8)


@dataclasses.dataclass(frozen=True)
class Handoff:
    """One open or recently ended handoff, as the console and the engine see it."""

    id: str
    sender: str
    channel: str
    lang: str
    topic: str
    reason: str  # "asked", "urgent", "not_understood" or "callback" (a voice caller asked to be contacted)
    urgent: bool
    created: float
    address_token: str | None = None
    owner: str | None = None
    claimed_at: float | None = None
    last_active: float = 0.0
    closed: str | None = None
    loc: dict | None = None

    @property
    def location(self) -> Location | None:
        return Location.from_session(self.loc)

    @property
    def waiting(self) -> bool:
        return self.owner is None and self.closed is None

    def wait_seconds(self, now: float | None = None) -> int:
        end = self.claimed_at if self.claimed_at else (now or time.time())
        return max(0, int(end - self.created))


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of a transcript. ``who``: person, bot, staff, note (staff only) or event."""

    n: int
    at: float
    who: str
    text: str
    by: str | None = None
    job: str | None = None
    #: For a reviewed answer staff sent in the person's language: the same answer in English.
    gloss: str | None = None


class HandoffRecords:
    """Reads and writes handoff keys; knows nothing about messages or the engine."""

    def __init__(self, client: redis.Redis, fernet: Fernet, *, idle_seconds: int, transcript_ttl: int):
        self.client = client
        self.fernet = fernet
        self.idle_seconds = idle_seconds
        self.transcript_ttl = transcript_ttl
        self._index = client.register_script(_INDEX_SCRIPT)
        self._claim = client.register_script(_CLAIM_SCRIPT)
        self._release = client.register_script(_RELEASE_SCRIPT)
        self._history = client.register_script(_HISTORY_SCRIPT)
        self._origin = client.register_script(_ORIGIN_SCRIPT)

    @property
    def open_ttl(self) -> int:
        return self.idle_seconds + self.transcript_ttl

    # -- encryption ----------------------------------------------------------

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    # -- lifecycle -----------------------------------------------------------

    def reserve_for_origin(self, origin: str, limit: int) -> str | None:
        """A new handoff id for a web-chat client address, or None when ``limit`` of its handoffs are open.

        One atomic step, so a flood of concurrent "talk to a person" cannot slip past the limit.
        """
        handoff_id = new_id()
        reserved = self._origin(keys=[ORIGIN_PREFIX + origin],
                                args=[handoff_id, limit, self.open_ttl, PREFIX, 30, time.time()])
        return handoff_id if reserved == 1 else None

    def open(self, *, sender: str, channel: str, lang: str, topic: str, reason: str, urgent: bool,
             address: str | None, location: dict | None = None, handoff_id: str | None = None) -> Handoff:
        """Queue a new handoff (the caller checked that the sender has none)."""
        handoff_id = handoff_id or new_id()
        now = time.time()
        meta = {
            "id": handoff_id, "sender": sender, "channel": channel, "lang": lang, "topic": topic,
            "reason": reason, "urgent": urgent, "created": now,
            "to": self.encrypt(address) if address else None,
            "loc": location,  # state and county only (as in the session), for "legal help near you"
        }
        ttl = self.open_ttl
        pipe = self.client.pipeline()
        pipe.set(PREFIX + handoff_id, json.dumps(meta), ex=ttl)
        pipe.set(PREFIX + handoff_id + ":active", now, ex=ttl)
        pipe.set(SENDER_PREFIX + sender, handoff_id, ex=ttl)
        pipe.execute()
        self._history(keys=[HISTORY_PREFIX + sender], args=[handoff_id, ttl])
        self._index(keys=[OPEN_INDEX], args=[handoff_id, json.dumps([0 if urgent else 1, now, lang]), ttl])
        return self._from_meta(meta, None, now, None)

    def mark_urgent(self, handoff_id: str) -> None:
        """A waiting person wrote something urgent ("ICE is at my door"): move them up the queue."""
        raw = self.client.get(PREFIX + handoff_id)
        if not raw:
            return
        meta = json.loads(raw)
        if meta.get("urgent"):
            return
        meta["urgent"] = True
        self.client.set(PREFIX + handoff_id, json.dumps(meta), keepttl=True)
        self._index(keys=[OPEN_INDEX], args=[handoff_id, json.dumps([0, meta["created"], meta["lang"]]), self.open_ttl])

    def set_lang(self, handoff_id: str, lang: str) -> None:
        """The person switched language while staff hold the conversation."""
        raw = self.client.get(PREFIX + handoff_id)
        if raw:
            meta = json.loads(raw)
            meta["lang"] = lang
            self.client.set(PREFIX + handoff_id, json.dumps(meta), keepttl=True)
            if not self.client.exists(PREFIX + handoff_id + ":closed"):
                entry = [0 if meta.get("urgent") else 1, meta["created"], lang]
                self._index(keys=[OPEN_INDEX], args=[handoff_id, json.dumps(entry), self.open_ttl])

    def queue_ids(self, languages: set[str] | None = None) -> list[str]:
        """Open handoff ids in queue order (urgent first, then longest wait), from the index alone:
        the console pages through thousands without reading each one."""
        raw = self.client.get(OPEN_INDEX)
        index = json.loads(raw) if raw else {}
        entries = [(value[0], value[1], handoff_id) for handoff_id, value in index.items()
                   if languages is None or len(value) < 3 or value[2] in languages]
        return [handoff_id for _, _, handoff_id in sorted(entries)]

    def page(self, languages: set[str] | None, offset: int, limit: int) -> tuple[list[Handoff], int]:
        """One page of the queue, and how many are open in all (in these languages)."""
        ids = self.queue_ids(languages)
        handoffs = [h for h in self._live(ids[offset:offset + limit]) if languages is None or h.lang in languages]
        return handoffs, len(ids)

    def _live(self, ids: list[str]) -> list[Handoff]:
        """The handoffs of ``ids`` that are still open, in that order; ended or expired ones leave the index."""
        handoffs = []
        for handoff_id in ids:
            handoff = self.get(handoff_id)
            if handoff is None or handoff.closed:
                self._index(keys=[OPEN_INDEX], args=[handoff_id, "", self.open_ttl])
                continue
            handoffs.append(handoff)
        return handoffs

    def position(self, handoff_id: str) -> int | None:
        """Place in line among people nobody has claimed yet (1 = next), or None."""
        ids = self.queue_ids()
        if handoff_id not in ids:
            return None
        ahead = ids[:ids.index(handoff_id)]
        if not ahead:
            return 1
        states = self.client.mget([PREFIX + i + suffix for i in ahead for suffix in ("", ":owner", ":closed")])
        waiting = sum(1 for n in range(0, len(states), 3) if states[n] and not states[n + 1] and not states[n + 2])
        return waiting + 1

    def get(self, handoff_id: str) -> Handoff | None:
        base = PREFIX + handoff_id
        raw, owner, active, closed = self.client.mget(base, base + ":owner", base + ":active", base + ":closed")
        if not raw:
            return None
        return self._from_meta(json.loads(raw), owner, float(active or 0), closed)

    def for_sender(self, sender: str) -> Handoff | None:
        handoff_id = self.client.get(SENDER_PREFIX + sender)
        handoff = self.get(handoff_id) if handoff_id else None
        return handoff if handoff and not handoff.closed else None

    def open_handoffs(self) -> list[Handoff]:
        """Every open handoff, urgent first, then longest wait first."""
        return self._live(self.queue_ids())

    def claim(self, handoff_id: str, staff: str) -> bool:
        """True for exactly one caller, however many claim at once."""
        base = PREFIX + handoff_id
        owner = json.dumps({"name": staff, "at": time.time()})
        return self._claim(keys=[base, base + ":owner", base + ":closed"], args=[owner, self.open_ttl]) == 1

    def release(self, handoff_id: str, staff: str, force: bool = False) -> bool:
        return self._release(keys=[PREFIX + handoff_id + ":owner"], args=[staff, "force" if force else ""]) == 1

    def close(self, handoff_id: str, reason: str) -> bool:
        """End the handoff once (True only for the call that ended it); keep the transcript a while."""
        base = PREFIX + handoff_id
        if not self.client.set(base + ":closed", reason, nx=True, ex=self.transcript_ttl):
            return False
        raw = self.client.get(base)
        sender = json.loads(raw)["sender"] if raw else None
        if sender and self.client.get(SENDER_PREFIX + sender) == handoff_id:
            self.client.delete(SENDER_PREFIX + sender)
        self.client.delete(base + ":active")
        self._index(keys=[OPEN_INDEX], args=[handoff_id, "", self.open_ttl])
        self._expire_all(handoff_id, self.transcript_ttl)
        return True

    def purge(self, handoff_id: str) -> None:
        """Erase a handoff and its transcript now (the person texted DELETE)."""
        base = PREFIX + handoff_id
        count = int(self.client.get(base + ":seq") or 0)
        self.client.delete(base, *(base + suffix for suffix in _SUFFIXES),
                           *(f"{base}:m:{n}" for n in range(1, count + 1)))

    def handoffs_of(self, sender: str) -> list[str]:
        """Ids of every handoff of this person whose data may still exist, open or ended."""
        raw = self.client.get(HISTORY_PREFIX + sender)
        ids = set(json.loads(raw)) if raw else set()
        current = self.client.get(SENDER_PREFIX + sender)
        return sorted(ids | ({current} if current else set()))

    def erase_sender(self, sender: str) -> list[str]:
        """End and erase every handoff of the person; the RQ job ids found in their transcripts.

        The caller deletes those jobs (they hold the encrypted number and text).
        """
        jobs: list[str] = []
        for handoff_id in self.handoffs_of(sender):
            jobs += [entry.job for entry in self.entries(handoff_id) if entry.job]
            self.close(handoff_id, "deleted")
            self.purge(handoff_id)
        self.client.delete(HISTORY_PREFIX + sender, SENDER_PREFIX + sender)
        return jobs

    def line_notice_due(self, handoff_id: str, every_seconds: int) -> bool:
        """True at most once per ``every_seconds``: "you are #3 in line" is not said on every message."""
        return bool(self.client.set(PREFIX + handoff_id + ":lined", "1", nx=True, ex=every_seconds))

    # -- waiting for a staff reply (claimed handoffs) --------------------------

    def person_unanswered(self, handoff_id: str, now: float | None = None) -> float:
        """Note that the person waits for staff (keeps the oldest time); returns that time."""
        key = PREFIX + handoff_id + ":unanswered"
        at = now or time.time()
        self.client.set(key, at, nx=True, ex=self.open_ttl)
        return float(self.client.get(key) or at)

    def unanswered_since(self, handoff_id: str) -> float | None:
        raw = self.client.get(PREFIX + handoff_id + ":unanswered")
        return float(raw) if raw else None

    def staff_answered(self, handoff_id: str) -> None:
        """Staff wrote: the person's messages are answered, a later silence may be noticed again."""
        self.client.delete(PREFIX + handoff_id + ":unanswered", PREFIX + handoff_id + ":reading")

    def reading_notice_once(self, handoff_id: str) -> bool:
        """True once per unanswered stretch: "a person is reading your message"."""
        return bool(self.client.set(PREFIX + handoff_id + ":reading", "1", nx=True, ex=self.open_ttl))

    def touch(self, handoff_id: str) -> None:
        """Record activity: the idle clock restarts and every key lives on."""
        self.client.set(PREFIX + handoff_id + ":active", time.time(), ex=self.open_ttl)
        self._expire_all(handoff_id, self.open_ttl)

    def is_idle(self, handoff: Handoff, now: float | None = None) -> bool:
        if handoff.reason == "callback" and handoff.waiting:
            return False  # a callback request is quiet by nature; it ends unclaimed only by age (desk.unstaffed_ending)
        return (now or time.time()) - (handoff.last_active or handoff.created) >= self.idle_seconds

    def _expire_all(self, handoff_id: str, ttl: int) -> None:
        base = PREFIX + handoff_id
        count = int(self.client.get(base + ":seq") or 0)
        pipe = self.client.pipeline()
        for key in (base, *(base + suffix for suffix in _SUFFIXES if suffix not in (":active", ":closed", ":lined")),
                    *(f"{base}:m:{n}" for n in range(1, count + 1))):
            pipe.expire(key, ttl)
        raw = self.client.get(base)
        if raw:
            sender = json.loads(raw)["sender"]
            pipe.expire(SENDER_PREFIX + sender, ttl, xx=True)
            # The person's list of handoffs lives as long as the longest-lived of them.
            pipe.expire(HISTORY_PREFIX + sender, ttl, gt=True)
        pipe.execute()

    # -- transcript ----------------------------------------------------------

    def append(self, handoff_id: str, who: str, text: str, by: str | None = None, job: str | None = None,
               *, ended: bool = False, gloss: str | None = None) -> int:
        """Add one entry; ``ended`` for entries written after the handoff closed (shorter TTL)."""
        base = PREFIX + handoff_id
        ttl = self.transcript_ttl if ended else self.open_ttl
        # INCR and its EXPIRE in one MULTI: a crash between them must not leave a key without a TTL.
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(base + ":seq")
        pipe.expire(base + ":seq", ttl)
        n = int(pipe.execute()[0])
        entry = {"at": time.time(), "who": who, "text": text, "by": by, "job": job}
        if gloss is not None:
            entry["gloss"] = gloss
        self.client.set(f"{base}:m:{n}", self.encrypt(json.dumps(entry)), ex=ttl)
        return n

    def entries(self, handoff_id: str, after: int = 0) -> list[Entry]:
        base = PREFIX + handoff_id
        count = int(self.client.get(base + ":seq") or 0)
        numbers = list(range(after + 1, count + 1))
        if not numbers:
            return []
        entries = []
        for n, token in zip(numbers, self.client.mget([f"{base}:m:{n}" for n in numbers])):
            data = json.loads(self.decrypt(token) or "null") if token else None
            if data:
                entries.append(Entry(n=n, at=data["at"], who=data["who"], text=data["text"],
                                     by=data.get("by"), job=data.get("job"), gloss=data.get("gloss")))
        return entries

    def address(self, handoff: Handoff) -> str | None:
        return self.decrypt(handoff.address_token) if handoff.address_token else None

    # -- helpers -------------------------------------------------------------

    @staticmethod
    def _from_meta(meta: dict[str, Any], owner_raw: str | None, active: float, closed: str | None) -> Handoff:
        owner = json.loads(owner_raw) if owner_raw else None
        return Handoff(
            id=meta["id"], sender=meta["sender"], channel=meta["channel"], lang=meta["lang"],
            topic=meta["topic"], reason=meta["reason"], urgent=bool(meta["urgent"]), created=meta["created"],
            address_token=meta.get("to"), owner=owner["name"] if owner else None,
            claimed_at=owner["at"] if owner else None, last_active=active, closed=closed, loc=meta.get("loc"),
        )


def masked(address: str | None, channel: str) -> str:
    """A number as staff see it: only the last two digits (``•••••••••78``); web chats have none."""
    if channel == "web" or not address:
        return ""
    digits = [ch for ch in address if ch.isdigit()]
    return "•" * max(len(digits) - 2, 4) + "".join(digits[-2:])
