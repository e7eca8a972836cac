"""Your own account (``/console/account``): change your password and first name, set up 2FA."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for

from bot.console import bp, console
from bot.console.auth import audit, current_staff, login_required
from bot.console.staff import AccountError


def _page(**extra):
    state = console()
    staff = current_staff()
    pending = state.twofactor.pending(staff.username) if state.twofactor and not staff.has_2fa else None
    context = {"staff": staff, "available": state.twofactor is not None, "required": state.require_2fa}
    if pending:
        uri = state.twofactor.uri(pending, staff.username)
        context.update(secret=pending, uri=uri, qr=state.twofactor.qr_svg(uri))
    return render_template("console/account.html", **context, **extra)


@bp.get("/account")
@login_required
def account():
    return _page()


@bp.post("/account/password")
@login_required
def account_password():
    """Your own password: the current one, then the new one twice. Your other logins end."""
    state = console()
    staff = current_staff()
    form = request.form
    if state.staff.verify(staff.username, form.get("current", "")) is None:
        flash("Not changed: the current password is wrong.")
        return redirect(url_for("console.account"))
    if form.get("new", "") != form.get("again", ""):
        flash("Not changed: the two new passwords differ.")
        return redirect(url_for("console.account"))
    try:
        updated = state.staff.update(staff.username, password=form.get("new", ""))
    except AccountError as exc:
        flash(f"Not changed: {exc}")
        return redirect(url_for("console.account"))
    audit("password_changed", target=staff.username)
    # Every login of the account ended with the new generation; this one starts again.
    state.logins.end(session.get("login"))
    session.clear()
    session["login"] = state.logins.start(updated)
    session.permanent = True
    flash("Password changed. Your other logins have ended.")
    return redirect(url_for("console.account"))


@bp.post("/account/name")
@login_required
def account_name():
    """The first name saved replies use for {first_name_of_staff}."""
    staff = current_staff()
    try:
        console().staff.update(staff.username, first_name=request.form.get("first_name", ""))
    except AccountError as exc:
        flash(f"Not changed: {exc}")
    else:
        audit("account_changed", target=staff.username, detail="first_name")
        flash("First name saved.")
    return redirect(url_for("console.account"))


@bp.post("/account/2fa/start")
@login_required
def enrol_start():
    state = console()
    staff = current_staff()
    if state.twofactor is None:
        flash("Two-factor login needs ENCRYPTION_KEY on the server; ask your admin.")
    elif staff.has_2fa:
        flash("Two-factor login is already on. An admin can reset it if you lost your phone.")
    else:
        state.twofactor.start(staff.username)
    return redirect(url_for("console.account"))


@bp.post("/account/2fa/confirm")
@login_required
def enrol_confirm():
    state = console()
    staff = current_staff()
    if state.twofactor is None or staff.has_2fa:
        return redirect(url_for("console.account"))
    if state.twofactor.pending(staff.username) is None:
        flash("That setup expired (15 minutes). Start again.")
        return redirect(url_for("console.account"))
    codes = state.twofactor.confirm(staff.username, request.form.get("code") or "")
    if codes is None:
        return _page(error="That code did not match. Check the phone's clock and type the newest code."), 400
    audit("2fa_enrolled", target=staff.username)
    return render_template("console/recovery_codes.html", codes=codes)
