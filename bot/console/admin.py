"""Admin-only pages: create staff accounts, change roles and languages, disable, reset passwords."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for

from bot.console import bp, console
from bot.console.auth import admin_required, audit, current_staff
from bot.language.languages import NATIVE_NAMES
from bot.console.staff import ROLES, AccountError

log = logging.getLogger(__name__)


@bp.get("/admin/staff")
@admin_required
def staff_list():
    return render_template("console/staff.html", accounts=console().staff.all(), roles=ROLES, languages=NATIVE_NAMES)


@bp.post("/admin/staff")
@admin_required
def staff_create():
    form = request.form
    try:
        account = console().staff.create(form.get("username", ""), form.get("password", ""),
                                         form.get("role", "staff"), form.getlist("languages"))
    except AccountError as exc:
        flash(f"Not created: {exc}")
    else:
        log.info("staff account created role=%s", account.role)
        audit("account_created", target=account.username, detail=f"role={account.role}")
        flash(f"Created {account.username}.")
    return redirect(url_for("console.staff_list"))


@bp.post("/admin/staff/<username>")
@admin_required
def staff_update(username):
    form = request.form
    action = form.get("action")
    directory = console().staff
    try:
        if action == "delete":
            if username == current_staff().username:
                raise AccountError("you cannot delete your own account")
            directory.delete(username)
            audit("account_deleted", target=username)
            flash(f"Deleted {username}.")
        elif action in ("disable", "enable"):
            if username == current_staff().username:
                raise AccountError("you cannot disable your own account")
            directory.update(username, active=action == "enable")
            audit(f"account_{action}d", target=username)
            flash(f"{username}: {action}d.")
        elif action == "save":
            if username == current_staff().username and form.get("role") != "admin":
                raise AccountError("you cannot remove your own admin role")
            account = directory.update(username, role=form.get("role"), languages=form.getlist("languages"),
                                       all_languages=form.get("all_languages") == "on")
            audit("account_changed", target=username,
                  detail=f"role={account.role} languages={','.join(account.languages)}"
                         f"{' all_languages' if account.all_languages else ''}")
            flash(f"Saved {username}.")
        elif action == "password":
            directory.update(username, password=form.get("password", ""))
            audit("password_reset", target=username)
            flash(f"New password set for {username}; their logins ended.")
        elif action == "reset_2fa":
            if console().twofactor is None:
                raise AccountError("two-factor login needs ENCRYPTION_KEY")
            console().twofactor.reset(username)
            audit("2fa_reset", target=username)
            flash(f"Two-factor login reset for {username}; their logins ended. "
                  "They set it up again under Account after their next login.")
        else:
            raise AccountError("unknown action")
    except AccountError as exc:
        flash(f"Not changed: {exc}")
    return redirect(url_for("console.staff_list"))
