"""Console login, logout, and the checks every console view makes."""

from __future__ import annotations

import functools
import logging
import time

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


#: Pages an account may use before it has enrolled 2FA when CONSOLE_REQUIRE_2FA is on.
ENROL_ENDPOINTS = frozenset({"console.account", "console.account_password", "console.enrol_start",
                             "console.enrol_confirm"})


def login_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        staff = current_staff()
        if staff is None:
            if request.path.startswith("/console/api/"):
                return {"error": "log in again"}, 401
            return redirect(url_for("console.login", next=request.path))
        if console().require_2fa and not staff.has_2fa and request.endpoint not in ENROL_ENDPOINTS:
            if request.path.startswith("/console/api/"):
                return {"error": "set up two-factor login first"}, 403
            flash("This console requires two-factor login: set up an authenticator app first.")
            return redirect(url_for("console.account"))
        return view(*args, **kwargs)

    return wrapper


def audit(action: str, target: str = "", detail: str = "", who: str | None = None) -> None:
    """Record an action of the logged-in staff member (codes and ids only, never a text or number)."""
    log_ = console().audit
    if log_ is not None:
        staff = current_staff()
        log_.record(who if who is not None else (staff.username if staff else ""), action, target, detail)


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
        # The name only when such an account exists: a password typed into the name field is never kept.
        audit("login_failed", who=username if state.staff.get(username) else "(unknown name)", detail="password")
        return render_template("console/login.html", error="Wrong username or password."), 401
    target = request.args.get("next") or ""
    if account.has_2fa:
        # The password was right; the login starts only with the code (/console/login/code).
        state.logins.end(session.get("login"))
        session.clear()
        session["pending"] = {"user": account.username, "gen": account.generation, "at": time.time(),
                              "next": target}
        return redirect(url_for("console.login_code"))
    state.limiter.succeeded(username, address)
    return _start_login(account, target)


#: How long the code page waits after a right password.
PENDING_SECONDS = 300


def _start_login(account, target: str, how: str = "password"):
    state = console()
    state.logins.end(session.get("login"))
    session.clear()  # a new session (and a new CSRF token) for every login
    session["login"] = state.logins.start(account)
    session.permanent = True
    log.info("console login role=%s", account.role)
    audit("login", who=account.username, detail=how)
    return redirect(target if target.startswith("/console/") else url_for("console.queue"))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step: a code from the authenticator app, or a recovery code."""
    state = console()
    pending = session.get("pending")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS or state.staff is None:
        session.pop("pending", None)
        flash("Log in again.")
        return redirect(url_for("console.login"))
    if request.method == "GET":
        return render_template("console/login_code.html")
    username = pending["user"]
    address = request.remote_addr or ""
    refusal = state.limiter.reserve(username, address)  # codes count against the same limit as passwords
    if refusal is not None:
        return too_many_attempts(refusal)
    account = state.staff.get(username)
    how = None
    if account is not None and account.active and account.generation == pending["gen"] and state.twofactor:
        how = state.twofactor.verify(account, request.form.get("code") or "")
    if how is None:
        audit("login_failed", who=username, detail="code")
        return render_template("console/login_code.html", error="That code did not work. Try the newest one."), 401
    state.limiter.succeeded(username, address)
    if how == "recovery":
        audit("recovery_code_used", who=username)
        flash("You used a recovery code; it will not work again. Lost your phone? Ask an admin to reset "
              "your two-factor login, then set it up again.")
    return _start_login(state.staff.get(username), pending.get("next") or "", how)


@bp.post("/logout")
def logout():
    state = console()
    if state.logins is not None:
        if current_staff() is not None:
            audit("logout")
        state.logins.end(session.get("login"))
    session.clear()
    flash("Logged out.")
    return redirect(url_for("console.login"))
