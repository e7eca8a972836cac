"""Console login, logout, and the checks every console view makes."""

from __future__ import annotations

import functools
import logging

from flask import abort, flash, g, make_response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from bot.console import bp, console, csrf
from bot.services import services
from bot.console.staff import Account, Refusal

log = logging.getLogger(__name__)


def current_staff() -> Account | None:
    """The logged-in, active account; the role always comes from Redis, never from the cookie."""
    if "staff" in g:
        return g.staff
    state = console()
    account = None
    found = state.logins.lookup(session.get("login")) if state.logins else None
    if found:
        candidate = state.staff.get(found[0])
        if candidate and candidate.active and candidate.generation == found[1]:
            account = candidate
    g.staff = account
    return account


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_staff() is None:
            if request.path.startswith("/console/api/"):
                return {"error": "log in again"}, 401
            return redirect(url_for("console.login", next=request.path))
        return view(*args, **kwargs)

    return wrapper


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_staff().is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.before_request
def check_csrf():
    if request.method == "POST":
        csrf.protect()


@bp.after_request
def console_headers(response):
    # Same-origin referrers let the CSRF check confirm HTTPS form posts come from here.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def csrf_failed(error):
    return render_template("console/message.html", title="Form expired",
                           message="This form expired or did not come from the console. Go back, reload and try again."), 400


@bp.errorhandler(403)
def forbidden(error):
    return render_template("console/message.html", title="Not allowed",
                           message="Your account cannot do this. Ask an admin."), 403


_warned_about_proxy = False


def warn_if_proxy_untrusted() -> None:
    """Once per process: a forwarded request with TRUSTED_PROXY_HOPS=0 means every client has the
    proxy's address, so one attacker can use up the per-address login limit for everyone."""
    global _warned_about_proxy
    if _warned_about_proxy or "X-Forwarded-For" not in request.headers:
        return
    if services().settings.trusted_proxy_hops == 0:
        _warned_about_proxy = True
        log.warning("console login through a proxy but TRUSTED_PROXY_HOPS=0: every client shares the proxy's "
                    "address and login limit; set TRUSTED_PROXY_HOPS to the number of proxies (README)")


def too_many_attempts(refusal: Refusal):
    """429 with when to try again (also as Retry-After)."""
    log.warning("console login refused: too many failed attempts (%s)", refusal.scope)
    wait = (f"{refusal.retry_after} seconds" if refusal.retry_after < 120
            else f"{-(-refusal.retry_after // 60)} minutes")
    error = f"Too many failed attempts. Try again in {wait}."
    response = make_response(render_template("console/login.html", error=error), 429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    state = console()
    if state.staff is None:
        return render_template("console/message.html", title="Console unavailable",
                               message="The console needs Redis: set REDIS_URL and restart."), 503
    if request.method == "GET":
        return render_template("console/login.html")
    username = (request.form.get("username") or "").strip().lower()
    address = request.remote_addr or ""
    warn_if_proxy_untrusted()
    refusal = state.limiter.reserve(username, address)  # counted before the password is checked
    if refusal is not None:
        return too_many_attempts(refusal)
    account = state.staff.verify(username, request.form.get("password") or "")
    if account is None:
        log.info("console login failed")
        return render_template("console/login.html", error="Wrong username or password."), 401
    state.limiter.succeeded(username, address)
    state.logins.end(session.get("login"))
    session.clear()  # a new session (and a new CSRF token) for every login
    session["login"] = state.logins.start(account)
    session.permanent = True
    log.info("console login role=%s", account.role)
    target = request.args.get("next") or ""
    return redirect(target if target.startswith("/console/") else url_for("console.queue"))


@bp.post("/logout")
def logout():
    state = console()
    if state.logins is not None:
        state.logins.end(session.get("login"))
    session.clear()
    flash("Logged out.")
    return redirect(url_for("console.login"))
