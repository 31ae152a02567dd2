"""Sign-up, sign-in and out, verification, password reset, sign-in links, the account page."""

from __future__ import annotations

import logging
from zoneinfo import available_timezones

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from app import clock, signing
from app.accounts import links, mails, members, sessions
from app.accounts.browser import ARRIVED_VIA_KEY, sign_in
from app.accounts.errors import AccountError, EmailTaken, NotVerified, WrongPassword
from app.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ConfirmForm,
    EmailOnlyForm,
    NewPasswordForm,
    ProfileForm,
    SignInForm,
    SignUpForm,
)
from app.accounts.models import Member
from app.accounts.ratelimits import auth_limits
from app.database.core import writes
from app.extensions import db
from app.mail.message import MailError
from app.web.errors import render_error
from app.web.urls import safe_next

log = logging.getLogger("pullfirst.accounts")


def _home() -> str:
    return url_for("site.home")


def _next_target(value: str | None = None) -> str | None:
    return safe_next(value if value is not None else request.args.get("next"))


def _member() -> Member:
    member: Member = current_user._get_current_object()
    return member


def _deliver(send: object, *args: object) -> bool:
    """Call a mail function; on failure log it and tell the person, without losing the request."""
    try:
        send(*args)  # type: ignore[operator]
    except MailError:
        log.exception("could not send mail")
        flash("We could not send the email just now. Please try again in a few minutes.", "error")
        return False
    return True


def _token_problem(error: signing.TokenError, purpose: str) -> tuple[str, int]:
    return render_template(
        "accounts/token_problem.html", kind=error.kind, purpose=purpose, form=EmailOnlyForm()
    ), 400


# --- sign-up and verification ------------------------------------------------------------


@auth_limits
def signup() -> Response | str:
    next_path = _next_target(request.form.get("next") or request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or _home())
    form = SignUpForm(next=next_path or "")
    if form.validate_on_submit():
        try:
            member = members.create_member(
                form.email.data,
                form.password.data,
                now=clock.now(),
                display_name=form.display_name.data or "",
                arrived_via=session.get(ARRIVED_VIA_KEY),
            )
        except EmailTaken:
            existing = members.find_by_email(form.email.data)
            db.session.rollback()
            # Same page as a new sign-up, so the form does not reveal who has an account;
            # the owner of the address gets a note with a way in.
            if existing is not None and existing.is_active:
                _deliver(mails.send_sign_in_link, existing, next_path)
            return redirect(url_for(".check_inbox", why="signup"))
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            db.session.commit()
            session.pop(ARRIVED_VIA_KEY, None)
            _deliver(mails.send_verification, member, next_path)
            return redirect(url_for(".check_inbox", why="signup"))
    return render_template("accounts/signup.html", form=form)


def check_inbox() -> str:
    return render_template(
        "accounts/check_inbox.html", why=request.args.get("why", ""), form=EmailOnlyForm()
    )


@writes
def verify(token: str) -> Response | tuple[str, int] | str:
    """The link in the confirmation mail. A GET confirms the address (as it always did); while
    the link may still sign in (see :mod:`app.accounts.links`) the page offers a button that
    does, since mail scanners open links but press no buttons."""
    now = clock.now()
    try:
        member = links.use_link("verify", token, now).member
    except signing.TokenUsed as exc:
        db.session.rollback()
        # A scanner may have opened the link first: it confirmed, and may still sign in once.
        found = None if current_user.is_authenticated else links.verify_link_signs_in(token, now)
        if found is None:
            return _token_problem(exc, "verify")
        member = found
    except signing.TokenError as exc:
        db.session.rollback()
        return _token_problem(exc, "verify")
    members.mark_verified(member, now)
    db.session.commit()
    next_path = _next_target()
    if current_user.is_authenticated:
        flash("Your email address is confirmed.", "success")
        return redirect(next_path or _home())
    signs_in = links.verify_link_signs_in(token, now) is not None
    return render_template(
        "accounts/verified.html",
        member=member,
        next=next_path or "",
        form=ConfirmForm() if signs_in else None,
        token=token,
    )


@auth_limits
def verify_sign_in(token: str) -> Response | tuple[str, int] | str:
    """The button on the confirmation page: signs the member in once, within the link's
    sign-in window, renewing the session, and lands on the welcome page. Past the window, or
    the second time, the address stays confirmed and the member is asked to sign in."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_error(400, "This form has expired. Open the link in the email again.")
    now = clock.now()
    next_path = _next_target()
    try:
        target = links.sign_in_with_verify_link(token, now)
    except signing.TokenForged as exc:
        db.session.rollback()
        return _token_problem(exc, "verify")
    except signing.TokenError:
        db.session.rollback()
        flash(
            "Your address is confirmed. For your safety the link signs you in only once, soon "
            "after we send it: please sign in.",
            "success",
        )
        return redirect(url_for(".signin", next=_welcome(next_path)))
    members.mark_verified(target.member, now)
    sign_in(target.member, remember=False)
    db.session.commit()
    flash("Your address is confirmed, and you are signed in.", "success")
    return redirect(_welcome(next_path))


def _welcome(next_path: str | None) -> str:
    """The welcome page (the rewards area's, found by endpoint: it sits above this area), with
    where the member was going before they signed up."""
    if "rewards.welcome" not in current_app.view_functions:
        return next_path or _home()
    return url_for("rewards.welcome", next=next_path or None)


@auth_limits
def resend_verification() -> Response:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        member = members.find_by_email(form.email.data)
        if member is not None and member.is_active and not member.is_verified:
            _deliver(mails.send_verification, member, _next_target(form.next.data))
    return redirect(url_for(".check_inbox", why="verify"))


# --- sign-in and sign-out ----------------------------------------------------------------


@auth_limits
def signin() -> Response | str:
    next_path = _next_target(request.form.get("next") or request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_path or _home())
    form = SignInForm(next=next_path or "", email=request.args.get("email", ""))
    unverified = False
    if form.validate_on_submit():
        try:
            member = members.authenticate(form.email.data, form.password.data)
        except NotVerified as exc:
            form.form_errors.append(str(exc))
            unverified = True
        except AccountError as exc:
            form.form_errors.append(str(exc))
        else:
            sign_in(member, remember=bool(form.remember.data))
            db.session.commit()
            return redirect(next_path or _home())
    return render_template(
        "accounts/signin.html",
        form=form,
        unverified=unverified,
        resend=EmailOnlyForm(email=form.email.data, next=next_path or ""),
    )


def signout() -> Response:
    if current_user.is_authenticated:
        sessions.end_sign_in(_member(), clock.now())
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(_home())


# --- sign-in links --------------------------------------------------------------------------


@auth_limits
def request_magic_link() -> Response | str:
    next_path = _next_target(request.form.get("next") or request.args.get("next"))
    form = EmailOnlyForm(next=next_path or "")
    if form.validate_on_submit():
        member = members.find_by_email(form.email.data)
        if member is not None and member.is_active:
            _deliver(mails.send_sign_in_link, member, next_path)
        return redirect(url_for(".check_inbox", why="signin"))
    return render_template("accounts/magic_link.html", form=form)


def magic_link(token: str) -> Response | tuple[str, int] | str:
    form = ConfirmForm()
    try:
        target = links.check_link("signin", token)
        if not form.validate_on_submit():
            return render_template(
                "accounts/confirm_link.html", form=form, purpose="signin", member=target.member
            )
        target = links.use_link("signin", token, clock.now())
    except signing.TokenError as exc:
        db.session.rollback()
        return _token_problem(exc, "signin")
    members.mark_verified(target.member, clock.now())
    sign_in(target.member, remember=False)
    db.session.commit()
    flash("You are signed in.", "success")
    return redirect(_next_target() or _home())


# --- password reset ----------------------------------------------------------------------


@auth_limits
def request_reset() -> Response | str:
    form = EmailOnlyForm()
    if form.validate_on_submit():
        member = members.find_by_email(form.email.data)
        if member is not None and member.is_active:
            _deliver(mails.send_password_reset, member)
        return redirect(url_for(".check_inbox", why="reset"))
    return render_template("accounts/reset_request.html", form=form)


def reset_password(token: str) -> Response | tuple[str, int] | str:
    form = NewPasswordForm()
    try:
        target = links.check_link("reset", token)
        if not form.validate_on_submit():
            return render_template("accounts/reset_password.html", form=form, member=target.member)
        target = links.use_link("reset", token, clock.now())
    except signing.TokenError as exc:
        db.session.rollback()
        return _token_problem(exc, "reset")
    now = clock.now()
    members.set_password(target.member, form.password.data, now)
    members.mark_verified(target.member, now)
    sessions.end_other_sign_ins(target.member, now)
    if current_user.is_authenticated:
        sessions.end_sign_in(_member(), now)
        logout_user()
    db.session.commit()
    flash("Your password is changed. Sign in with it now.", "success")
    return redirect(url_for(".signin", email=target.member.email))


# --- the account page --------------------------------------------------------------------


def _account_forms(member: Member) -> dict[str, object]:
    profile = ProfileForm(
        prefix="profile", display_name=member.display_name, time_zone=member.time_zone
    )
    profile.time_zone.choices = sorted(available_timezones())
    return {
        "profile": profile,
        "password_form": ChangePasswordForm(prefix="password"),
        "email_form": ChangeEmailForm(prefix="email"),
        "sign_ins": sessions.active_sign_ins(member),
        "is_current": lambda s: sessions.is_current(member, s),
        "confirm": ConfirmForm(),
    }


@login_required
def account() -> str:
    return render_template("accounts/account.html", **_account_forms(_member()))


@login_required
def update_profile() -> Response | tuple[str, int]:
    member = _member()
    forms = _account_forms(member)
    form: ProfileForm = forms["profile"]  # type: ignore[assignment]
    if form.validate_on_submit():
        members.update_profile(member, form.display_name.data or "", form.time_zone.data)
        db.session.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for(".account"))
    return render_template("accounts/account.html", **forms), 400


@login_required
def change_password() -> Response | tuple[str, int]:
    member = _member()
    forms = _account_forms(member)
    form: ChangePasswordForm = forms["password_form"]  # type: ignore[assignment]
    if form.validate_on_submit():
        try:
            members.change_password(
                member, form.current_password.data or "", form.new_password.data, clock.now()
            )
        except AccountError as exc:
            form.current_password.errors.append(str(exc))
        else:
            remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            kept = request.cookies.get(remember) is not None
            sessions.end_other_sign_ins(member, clock.now())
            sessions.end_sign_in(member, clock.now())
            sign_in(member, remember=kept)
            db.session.commit()
            _deliver(mails.send_password_changed, member)
            flash("Your password is changed. Other devices were signed out.", "success")
            return redirect(url_for(".account"))
    return render_template("accounts/account.html", **forms), 400


@login_required
def change_email() -> Response | tuple[str, int]:
    member = _member()
    forms = _account_forms(member)
    form: ChangeEmailForm = forms["email_form"]  # type: ignore[assignment]
    if form.validate_on_submit():
        try:
            members.require_password(member, form.password.data or "")
            address = members.check_email_available(form.new_email.data, member)
        except WrongPassword as exc:
            form.password.errors.append(str(exc))
        except AccountError as exc:
            form.new_email.errors.append(str(exc))
        else:
            if _deliver(mails.send_email_change, member, address):
                flash(f"We sent a link to {address}. Open it to finish the change.", "success")
            return redirect(url_for(".account"))
    return render_template("accounts/account.html", **forms), 400


def confirm_email_change(token: str) -> Response | tuple[str, int] | str:
    form = ConfirmForm()
    try:
        target = links.check_link("email", token)
        if not form.validate_on_submit():
            return render_template(
                "accounts/confirm_link.html",
                form=form,
                purpose="email",
                member=target.member,
                address=target.address,
            )
        target = links.use_link("email", token, clock.now())
        members.change_email(target.member, target.address, clock.now())
    except signing.TokenError as exc:
        db.session.rollback()
        return _token_problem(exc, "email")
    except AccountError as exc:
        db.session.rollback()
        return render_template(
            "accounts/token_problem.html",
            kind="taken",
            purpose="email",
            message=str(exc),
            form=EmailOnlyForm(),
        ), 409
    db.session.commit()
    flash(f"Your email address is now {target.address}.", "success")
    return redirect(url_for(".account") if current_user.is_authenticated else _home())


@login_required
def sign_out_everywhere() -> Response:
    count = sessions.end_other_sign_ins(_member(), clock.now())
    db.session.commit()
    flash(f"Signed out on {count} other device{'s' if count != 1 else ''}.", "success")
    return redirect(url_for(".account"))
