"""Retention audit: prove that Redis holds nothing it should not.

``make audit-data`` (``flask --app webhook audit-data``) scans every key and
reports: keys without a TTL; keys or values that contain a phone number;
session records with fields the bot never writes (a message body would be
one); and, per kind of key, how many there are and how old the oldest is
(its configured lifetime minus the time it has left).
"""

from __future__ import annotations

import dataclasses
import json
import re

import phonenumbers
import redis

from bot.config import Settings
from bot.outreach.broadcasts import CAMPAIGN_PREFIX
from bot.clients.store import MESSAGE_PREFIX, SESSION_PREFIX, session_json
from bot.outreach.subscriptions import SUBSCRIPTION_PREFIX

#: RQ's bookkeeping keys (queue lists, registries) have no TTL by design and
#: hold only job ids; the jobs themselves (``rq:job:*``) must expire.
QUEUE_BOOKKEEPING = ("rq:queues", "rq:queue:", "rq:wip:", "rq:failed:", "rq:finished:", "rq:scheduled:",
                     "rq:deferred:", "rq:canceled:", "rq:workers", "rq:clean_registries:", "rq:scheduler")

#: Every field a session may hold (bot/conversation/engine.py); anything else is a finding.
SESSION_FIELDS = frozenset({"v", "lang", "topic", "turns", "loc", "awaiting_zip", "awaiting_language", "fallbacks",
                            "stopped", "submenu", "day"})
#: Every field an alert subscription holds (bot/outreach/subscriptions.py); "to" is Fernet-encrypted.
SUBSCRIPTION_FIELDS = frozenset({"status", "lang", "channel", "to", "since", "last_inbound", "stop_reason",
                                 "stopped_at", "state", "county"})
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{8,}\d")
#: Keyed hashes (hex) are what we store instead of numbers; their digit runs are not numbers.
_HEX_HASH = re.compile(r"[0-9a-f]{32,}")
#: Random identifiers: handoff ids (16 hex), RQ job ids (UUIDs). "03facc9105556584" holds
#: "9105556584", a valid-looking US number, by chance; a whole token of 12+ hex characters
#: with at least one letter is an identifier, not a number written down.
_HEX_ID = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[0-9a-f]*[a-f])[0-9a-f]{12,})(?![0-9A-Za-z])"
)


@dataclasses.dataclass
class KindSummary:
    count: int = 0
    oldest_seconds: int = 0


@dataclasses.dataclass
class AuditReport:
    scanned: int = 0
    findings: list[str] = dataclasses.field(default_factory=list)
    kinds: dict[str, KindSummary] = dataclasses.field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.findings

    def format(self) -> str:
        lines = [f"scanned {self.scanned} keys"]
        for kind, summary in sorted(self.kinds.items()):
            lines.append(f"  {kind:<12} {summary.count:>6} keys, oldest about {summary.oldest_seconds // 3600} h")
        if self.findings:
            lines.append(f"{len(self.findings)} finding(s):")
            lines.extend(f"  - {finding}" for finding in self.findings)
        else:
            lines.append("clean: every key expires; no phone numbers; no message bodies")
        return "\n".join(lines)


def phone_numbers_in(text: str, region: str = "US") -> set[str]:
    """E.164 forms of the valid phone numbers found in ``text`` (hex hashes and ids ignored)."""
    text = _HEX_ID.sub(" ", _HEX_HASH.sub(" ", text))
    found = set()
    for candidate in _DIGIT_RUN.findall(text):
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            found.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        found.add(phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164))
    return found


def _kind(key: str) -> str:
    parts = key.split(":")
    return ":".join(parts[:2]) if len(parts) > 2 else key


def _lifetime(kind: str, settings: Settings) -> int | None:
    if kind + ":" == SESSION_PREFIX:
        return settings.state_ttl_seconds
    if kind + ":" == MESSAGE_PREFIX:
        return settings.dedupe_ttl_seconds
    if kind + ":" == SUBSCRIPTION_PREFIX:
        return settings.subscription_ttl_seconds
    if kind + ":" == CAMPAIGN_PREFIX:
        return settings.campaign_ttl_seconds
    return None


def audit(client: redis.Redis, settings: Settings, public_numbers: set[str] = frozenset()) -> AuditReport:
    """Scan every key. ``public_numbers`` (E.164): hotlines and offices the bot itself sends."""
    report = AuditReport()
    for key in client.scan_iter(count=500):
        key = key.decode() if isinstance(key, bytes) else key
        report.scanned += 1
        kind = _kind(key)
        summary = report.kinds.setdefault(kind, KindSummary())
        summary.count += 1
        ttl = client.ttl(key)
        if ttl == -1 and not key.startswith(QUEUE_BOOKKEEPING):
            report.findings.append(f"{key}: no TTL (would be kept forever)")
        lifetime = _lifetime(kind, settings)
        if lifetime and ttl > 0:
            summary.oldest_seconds = max(summary.oldest_seconds, lifetime - ttl)
        if phone_numbers_in(key) - public_numbers:
            report.findings.append(f"{kind}:…: the key contains a phone number")
        key_type = client.type(key)
        key_type = key_type.decode() if isinstance(key_type, bytes) else key_type
        if key_type == "string":
            value = client.get(key)
            value = value.decode(errors="replace") if isinstance(value, bytes) else (value or "")
            if kind + ":" == SESSION_PREFIX:
                value = _session_text(value, settings)
            _check_value(report, key, kind, value, public_numbers)
        elif key_type == "hash" and key.startswith(("kyr:sub:", "kyr:campaign:")):
            _check_hash(report, key, kind, _decoded(client.hgetall(key)), public_numbers)
    return report


def _session_text(value: str, settings: Settings) -> str:
    """A session value as JSON (decrypted with ENCRYPTION_KEY); "" when it cannot be read."""
    from cryptography.fernet import Fernet, InvalidToken

    fernet = Fernet(settings.encryption_key.encode()) if settings.encryption_key else None
    try:
        return session_json(value, fernet)
    except InvalidToken:
        return ""


def _decoded(mapping: dict) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode(errors="replace") if isinstance(v, bytes) else v)
        for k, v in mapping.items()
    }


def _check_hash(report: AuditReport, key: str, kind: str, fields: dict[str, str], public_numbers) -> None:
    """Subscriptions and broadcasts: only known fields, and no readable number in any of them."""
    if kind + ":" == SUBSCRIPTION_PREFIX:
        unknown = set(fields) - SUBSCRIPTION_FIELDS
        if unknown:
            report.findings.append(f"{key[:40]}…: unexpected subscription fields {sorted(unknown)}")
    # A broadcast's texts are the organizers' own words (they may name a public number).
    values = " ".join(value for name, value in fields.items() if name != "texts")
    if phone_numbers_in(values) - public_numbers:
        report.findings.append(f"{key[:40]}…: a field contains a phone number")


def public_numbers_of(content, directory) -> set[str]:
    """The organizations' numbers the bot sends in answers (not personal data)."""
    texts = list(content.placeholders.values()) + [r.phone or "" for r in directory]
    return set().union(*(phone_numbers_in(text) for text in texts)) if texts else set()


def _check_value(report: AuditReport, key: str, kind: str, value: str, public_numbers) -> None:
    if phone_numbers_in(value) - public_numbers:
        report.findings.append(f"{key[:40]}…: the value contains a phone number")
    if kind + ":" == SESSION_PREFIX:
        try:
            fields = set(json.loads(value))
        except (ValueError, TypeError):
            report.findings.append(f"{key[:40]}…: unreadable session record")
            return
        unknown = fields - SESSION_FIELDS
        if unknown:
            report.findings.append(f"{key[:40]}…: unexpected session fields {sorted(unknown)} (message body?)")
