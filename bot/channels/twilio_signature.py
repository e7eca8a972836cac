"""``@validate_twilio_request``: only Twilio, signing with our auth token, gets through.

The signature is checked with twilio's ``RequestValidator`` over the URL
Twilio called and every POST parameter received (Twilio adds parameters
without notice; blank values count). Behind a TLS-terminating proxy the URL
Flask sees is not the one Twilio signed, so ``PUBLIC_URL`` names it.
No auth token configured means 503: unsigned requests are never accepted.
"""

from __future__ import annotations

import functools
import logging

from flask import request
from twilio.request_validator import RequestValidator, get_signature_algorithm

from bot.services import services

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The URL Twilio signed: ``PUBLIC_URL`` + path + query when configured."""
    public_url = services().settings.public_url
    if not public_url:
        return request.url
    return public_url + request.full_path.rstrip("?")


def is_valid_twilio_request(auth_token: str) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    return RequestValidator(auth_token).validate(signed_url(), request.form, signature, algorithm)


def validate_twilio_request(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = services().settings.twilio_auth_token
        if not token:
            return "TWILIO_AUTH_TOKEN is not configured; refusing unsigned requests.\n", 503
        if not is_valid_twilio_request(token):
            log.warning("rejected a request with a missing or invalid Twilio signature")
            return "Invalid Twilio signature.\n", 403
        return view(*args, **kwargs)

    wrapper.twilio_signed = True  # tests/test_signed_requests.py finds every signed route by this
    return wrapper
