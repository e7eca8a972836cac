"""Staff accounts, console logins and the login rate limit, all in Redis.

- Accounts (``kyr:staff:<username>``, JSON) hold an Argon2id hash, a role
  (``staff`` or ``admin``) and the languages the person answers in. Every key
  needs a TTL, so an account expires ``STAFF_ACCOUNT_TTL_DAYS`` after its last
  login; each login renews it.
- Logins (``kyr:console:login:<sha256 of a random id>``) are server-side, so
  logout, disabling an account or a password change end them at once; the
  cookie only carries the random id.
- Login attempts are counted per username and per client address (keyed
  hashes, never the address) in windows shared by every worker, before the
  password is checked; a username over its limit is slowed down, not locked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import math
import re
import secrets
import time

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ACCOUNT_PREFIX = "kyr:staff:"
LOGIN_PREFIX = "kyr:console:login:"
LIMIT_PREFIX = "kyr:console:fails:"
ROLES = ("staff", "admin")
MIN_PASSWORD_LENGTH = 12
#: Usernames start with a letter, so one can never look like a phone number.
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
#: An address may fail this many times the per-user limit (a shared office network).
ADDRESS_FACTOR = 4


class AccountError(ValueError):
    """A username, password, role or language list that cannot be used (the message says why)."""


@dataclasses.dataclass(frozen=True)
class Account:
    username: str
    role: str
    languages: tuple[str, ...]
    password_hash: str = dataclasses.field(repr=False)
    active: bool = True
    #: Changes with every password change: logins made before it end.
    generation: int = 1
    #: Changes with every write (admin change or rehash): writes compare-and-set on it,
    #: so a login never writes back a record an admin changed meanwhile.
    revision: int = 0
    #: What {first_name_of_staff} says in saved replies ("" → the username, capitalised).
    first_name: str = ""
    #: Also sees conversations in languages not in ``languages``: sends reviewed answers and
    #: saved replies in the person's language (a volunteer who speaks only English, say).
    all_languages: bool = False
    #: TOTP secret, Fernet-encrypted with ENCRYPTION_KEY ("" = no two-factor login).
    totp: str = dataclasses.field(default="", repr=False)
    #: The last TOTP time step accepted: a code works once.
    totp_step: int = 0
    #: Argon2id hashes of the unused recovery codes.
    recovery: tuple[str, ...] = dataclasses.field(default=(), repr=False)

    @property
    def has_2fa(self) -> bool:
        return bool(self.totp)

    @property
    def display_name(self) -> str:
        return self.first_name or re.split(r"[._-]", self.username)[0].capitalize()

    def answers_in(self, lang: str) -> bool:
        return self.is_admin or self.all_languages or lang in self.languages

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_first_name(name: str) -> str:
    name = " ".join((name or "").split())
    if len(name) > 40 or any(ch in name for ch in "{}<>"):
        raise AccountError("a first name is at most 40 characters, without { } < >")
    return name


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


class StaffDirectory:
    def __init__(self, client: redis.Redis, ttl: int, supported_languages: tuple[str, ...]):
        self.client = client
        self.ttl = ttl
        self.supported = supported_languages
        self.hasher = PasswordHasher()  # Argon2id with the library's current recommended cost
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    def _save(self, account: Account, *, only_new: bool = False) -> bool:
        data = dataclasses.asdict(account)
        return bool(self.client.set(ACCOUNT_PREFIX + account.username, json.dumps(data), ex=self.ttl, nx=only_new))

    def _languages(self, languages) -> tuple[str, ...]:
        chosen = tuple(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))
        unknown = [code for code in chosen if code not in self.supported]
        if unknown or not chosen:
            raise AccountError(f"languages must be some of {', '.join(self.supported)}")
        return chosen

    def create(self, username: str, password: str, role: str, languages) -> Account:
        username = (username or "").strip().lower()
        if not USERNAME.match(username):
            raise AccountError("usernames are 2-32 lower-case letters, digits, . _ or -, starting with a letter")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        check_password(password)
        account = Account(username, role, self._languages(languages), self.hasher.hash(password))
        if not self._save(account, only_new=True):
            raise AccountError(f"an account named {username} already exists")
        return account

    @staticmethod
    def _key(username: str) -> str:
        return ACCOUNT_PREFIX + (username or "").strip().lower()

    @staticmethod
    def _parse(raw) -> Account | None:
        if not raw:
            return None
        data = json.loads(raw)
        data["languages"] = tuple(data["languages"])
        data["recovery"] = tuple(data.get("recovery") or ())
        return Account(**data)

    def get(self, username: str) -> Account | None:
        return self._parse(self.client.get(self._key(username)))

    def all(self) -> list[Account]:
        names = [key[len(ACCOUNT_PREFIX):] for key in self.client.scan_iter(match=ACCOUNT_PREFIX + "*", count=500)]
        return sorted(filter(None, (self.get(name) for name in names)), key=lambda a: a.username)

    def verify(self, username: str, password: str) -> Account | None:
        """The account when the password matches (same work either way, so timing says nothing).

        Argon2 takes ~0.1 s; an admin may disable, delete, demote or reset the account
        meanwhile. So the account is read again afterwards and never written back: the
        TTL is renewed with EXPIRE, and a rehash is a compare-and-set (issue #15, finding 2).
        """
        account = self.get(username)
        try:
            self.hasher.verify(account.password_hash if account else self._dummy, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if account is None:
            return None
        current = self.get(username)  # an admin change made during the check wins
        if current is None or not current.active or current.generation != account.generation:
            return None
        self.client.expire(self._key(username), self.ttl)  # renews the TTL; a deleted account stays deleted
        if self.hasher.check_needs_rehash(current.password_hash):
            self._rehash(current, password)
        return current

    def _rehash(self, account: Account, password: str) -> None:
        """Store a hash with today's Argon2 parameters, unless the account changed since it was read."""
        new_hash = self.hasher.hash(password)  # slow: done before the transaction
        key = self._key(account.username)
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(key)
                current = self._parse(pipe.get(key))
                if current is None or current.revision != account.revision:
                    return
                pipe.multi()
                updated = dataclasses.replace(current, password_hash=new_hash, revision=current.revision + 1)
                pipe.set(key, json.dumps(dataclasses.asdict(updated)), keepttl=True)
                pipe.execute()
            except redis.WatchError:
                return  # changed between WATCH and EXEC: that change wins; rehash at the next login

    def update(self, username: str, *, password: str | None = None, role: str | None = None,
               languages=None, active: bool | None = None, first_name: str | None = None,
               all_languages: bool | None = None) -> Account:
        """Change an account atomically (WATCH/MULTI on the record, retried), bumping its revision."""
        changes: dict = {}
        if password is not None:
            check_password(password)
            changes["password_hash"] = self.hasher.hash(password)  # slow: outside the transaction
        if role is not None:
            if role not in ROLES:
                raise AccountError(f"role must be one of {', '.join(ROLES)}")
            changes["role"] = role
        if languages is not None:
            changes["languages"] = self._languages(languages)
        if active is not None:
            changes["active"] = active
        if first_name is not None:
            changes["first_name"] = check_first_name(first_name)
        if all_languages is not None:
            changes["all_languages"] = bool(all_languages)
        return self.change(username, lambda account: changes, new_generation=password is not None)

    def change(self, username: str, changes_for, *, new_generation: bool = False) -> Account:
        """Apply ``changes_for(account)`` (a dict of fields) atomically; it may raise AccountError.

        A new generation ends every login of the account (password change, 2FA reset).
        """
        key = self._key(username)

        def apply(pipe) -> Account:
            account = self._parse(pipe.get(key))
            if account is None:
                raise AccountError(f"no account named {username}")
            bumped = {"revision": account.revision + 1}
            if new_generation:
                bumped["generation"] = account.generation + 1
            updated = dataclasses.replace(account, **changes_for(account), **bumped)
            pipe.multi()
            pipe.set(key, json.dumps(dataclasses.asdict(updated)), ex=self.ttl)
            return updated

        return self.client.transaction(apply, key, value_from_callable=True)

    def delete(self, username: str) -> None:
        self.client.delete(self._key(username))


class ConsoleLogins:
    """Server-side console logins: the cookie holds a random id, Redis what it means."""

    def __init__(self, client: redis.Redis, ttl: int):
        self.client = client
        self.ttl = ttl

    @staticmethod
    def _key(login_id: str) -> str:
        return LOGIN_PREFIX + hashlib.sha256(login_id.encode()).hexdigest()

    def start(self, account: Account) -> str:
        login_id = secrets.token_urlsafe(32)
        value = json.dumps({"user": account.username, "gen": account.generation, "at": time.time()})
        self.client.set(self._key(login_id), value, ex=self.ttl)
        return login_id

    def lookup(self, login_id: str | None) -> tuple[str, int] | None:
        raw = self.client.get(self._key(login_id)) if login_id else None
        if not raw:
            return None
        data = json.loads(raw)
        return data["user"], int(data["gen"])

    def end(self, login_id: str | None) -> None:
        if login_id:
            self.client.delete(self._key(login_id))


# Reserve one login attempt for a username and an address, or refuse it, in one step:
# two requests can never both see "one attempt left" (issue #15, finding 4).
# An address over its limit is refused until its window ends. A username over its limit
# is slowed down, not locked (finding 12): one attempt per slowdown, whoever makes it,
# for as long as attempts go on, so an attacker cannot lock the real person out.
# KEYS: user counter, address counter, user slowdown. ARGV: user limit, address limit,
# window seconds, slowdown seconds. Returns {scope, ms}: {"ok", 0}, or why and for how long.
_RESERVE = """
local addr = tonumber(redis.call('GET', KEYS[2]) or '0')
if addr >= tonumber(ARGV[2]) then return {'address', redis.call('PTTL', KEYS[2])} end
local user = tonumber(redis.call('GET', KEYS[1]) or '0')
if user >= tonumber(ARGV[1]) and redis.call('EXISTS', KEYS[3]) == 1 then
  return {'user', redis.call('PTTL', KEYS[3])}
end
user = redis.call('INCR', KEYS[1])
if user >= tonumber(ARGV[1]) then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[4])
elseif redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
redis.call('INCR', KEYS[2])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {'ok', 0}
"""

# A right password gives the address its attempt back (only while its counter lives, so
# DECR never creates a key without a TTL). KEYS: address counter.
_REFUND = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
"""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why a login attempt was refused before its password was checked, and for how long."""

    scope: str  # "user" or "address"
    retry_after: int  # seconds


class LoginLimiter:
    """Login attempts per username and per address, counted in Redis across workers.

    Every attempt is reserved (counted) atomically *before* the password is checked,
    so simultaneous guesses cannot all pass the check. After ``attempts`` failures a
    username gets one attempt per ``slowdown`` seconds (a slowdown, not a lockout);
    an address gets ``ADDRESS_FACTOR`` x ``attempts`` per window. A right password
    clears the username's count and gives the address its attempt back.
    """

    def __init__(self, client: redis.Redis, secret: str, attempts: int, window: int, slowdown: int = 60):
        self.client = client
        self.secret = secret.encode()
        self.attempts = attempts
        self.window = window
        self.slowdown = slowdown
        self._reserve = client.register_script(_RESERVE)
        self._refund = client.register_script(_REFUND)

    def _keys(self, username: str, address: str) -> tuple[str, str, str]:
        """User counter, address counter, user slowdown (keyed hashes: no name or address in Redis)."""
        def keyed(kind: str, value: str) -> str:
            return LIMIT_PREFIX + kind + ":" + hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()

        user = (username or "").strip().lower()
        return keyed("user", user), keyed("addr", address or ""), keyed("slow", user)

    def reserve(self, username: str, address: str) -> Refusal | None:
        """Count this attempt before its password is checked; None when it may go ahead."""
        scope, millis = self._reserve(keys=list(self._keys(username, address)),
                                      args=[self.attempts, self.attempts * ADDRESS_FACTOR, self.window, self.slowdown])
        scope = scope.decode() if isinstance(scope, bytes) else scope
        return None if scope == "ok" else Refusal(scope, max(1, math.ceil(int(millis) / 1000)))

    def succeeded(self, username: str, address: str) -> None:
        user_key, addr_key, slow_key = self._keys(username, address)
        self.client.delete(user_key, slow_key)
        self._refund(keys=[addr_key])
