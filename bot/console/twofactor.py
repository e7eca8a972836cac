"""Two-factor console login: TOTP (RFC 6238, any authenticator app) and recovery codes.

- The secret is Fernet-encrypted with ``ENCRYPTION_KEY`` in the account record
  (so 2FA needs that key, as handoff does); a Redis dump alone cannot mint codes.
- A code is accepted once: the account keeps the last accepted time step, and a
  code for that step or an earlier one is refused (no replay within its 30 s).
  One step of clock drift either way is allowed.
- Ten recovery codes are shown once at enrolment and stored as Argon2id hashes,
  like passwords; each works once (removed with a compare-and-set).
- The QR code is drawn on the server as inline SVG (segno): nothing is sent to a
  QR service, and the strict Content-Security-Policy holds.
"""

from __future__ import annotations

import hmac
import io
import secrets
import time

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

from bot.console.staff import Account, AccountError, StaffDirectory

ISSUER = "KYR console"
RECOVERY_CODES = 10
#: Recovery codes: 10 characters from an alphabet without look-alikes, shown as xxxxx-xxxxx (~50 bits).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: An enrolment started but not confirmed is forgotten after this long.
PENDING_PREFIX = "kyr:console:enrol:"
PENDING_TTL_SECONDS = 15 * 60
STEP_SECONDS = 30


def normalize_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


class TwoFactor:
    def __init__(self, directory: StaffDirectory, fernet: Fernet):
        self.directory = directory
        self.fernet = fernet
        self.hasher = PasswordHasher()

    # -- enrolment ------------------------------------------------------------

    def start(self, username: str) -> str:
        """A new secret for ``username``, kept (encrypted) until a code confirms it."""
        secret = pyotp.random_base32()
        self.directory.client.set(PENDING_PREFIX + username, self.fernet.encrypt(secret.encode()).decode(),
                                  ex=PENDING_TTL_SECONDS)
        return secret

    def pending(self, username: str) -> str | None:
        token = self.directory.client.get(PENDING_PREFIX + username)
        return self._decrypt(token) if token else None

    @staticmethod
    def uri(secret: str, username: str) -> str:
        """The standard ``otpauth://totp/…`` URI every authenticator app reads."""
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)

    @staticmethod
    def qr_svg(uri: str) -> str:
        out = io.BytesIO()
        segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, svgns=True, scale=5,
                                         title="QR code for your authenticator app")
        return out.getvalue().decode()

    def confirm(self, username: str, code: str) -> list[str] | None:
        """Turn 2FA on when ``code`` matches the pending secret; the recovery codes (shown once), else None."""
        secret = self.pending(username)
        step = self._matching_step(secret, code, 0) if secret else None
        if step is None:
            return None
        codes = [self._recovery_code() for _ in range(RECOVERY_CODES)]
        hashes = tuple(self.hasher.hash(normalize_code(c)) for c in codes)  # slow: before the transaction
        token = self.fernet.encrypt(secret.encode()).decode()
        self.directory.change(username, lambda account: {"totp": token, "totp_step": step, "recovery": hashes})
        self.directory.client.delete(PENDING_PREFIX + username)
        return codes

    def reset(self, username: str) -> Account:
        """Admin reset (a lost phone): 2FA off, recovery codes gone, every login of the account ended."""
        return self.directory.change(username, lambda account: {"totp": "", "totp_step": 0, "recovery": ()},
                                     new_generation=True)

    # -- at login ---------------------------------------------------------------

    def verify(self, account: Account, code: str) -> str | None:
        """"totp" or "recovery" when ``code`` lets this account in (and uses it up), else None."""
        secret = self._decrypt(account.totp) if account.totp else None
        if secret is None:
            return None
        step = self._matching_step(secret, code, account.totp_step)
        if step is not None and self._use_step(account.username, step):
            return "totp"
        if len(normalize_code(code)) == 10 and self._use_recovery(account, normalize_code(code)):
            return "recovery"
        return None

    def _matching_step(self, secret: str, code: str, after: int, now: float | None = None) -> int | None:
        code = normalize_code(code)
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        current = int((now or time.time()) // STEP_SECONDS)
        for step in (current - 1, current, current + 1):
            if step > after and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
                return step
        return None

    def _use_step(self, username: str, step: int) -> bool:
        """Record ``step`` as used unless it (or a later one) already was: two logins cannot share a code."""
        used = []

        def changes(account: Account) -> dict:
            if account.totp_step >= step:
                raise AccountError("code already used")
            used.append(step)
            return {"totp_step": step}

        try:
            self.directory.change(username, changes)
        except AccountError:
            return False
        return bool(used)

    def _use_recovery(self, account: Account, code: str) -> bool:
        match = None
        for hashed in account.recovery:
            try:
                self.hasher.verify(hashed, code)
            except (VerificationError, InvalidHashError):
                continue
            match = hashed
            break
        if match is None:
            return False

        def changes(current: Account) -> dict:
            if match not in current.recovery:
                raise AccountError("recovery code already used")
            return {"recovery": tuple(h for h in current.recovery if h != match)}

        try:
            self.directory.change(account.username, changes)
        except AccountError:
            return False
        return True

    @staticmethod
    def _recovery_code() -> str:
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        return f"{raw[:5]}-{raw[5:]}"

    def _decrypt(self, token: str) -> str | None:
        try:
            return self.fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None
