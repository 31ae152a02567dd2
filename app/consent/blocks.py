"""Blocks the consent area draws on other areas' pages: the ``scope:<slug>`` call to action
(under articles, on the home page, in the footer) and the scope offer on the rewards page.

Anonymous pages are served from a shared cache and must not start a session, so visitors get
a plain GET form that leads to ``/subscribe/<slug>``, where the promise and the exact wording
are shown and recorded. Signed-in members (pages not cached) get the opt-in itself: an
unticked box with the wording, per channel. Scopes a visitor cannot earn by confirming an
address are offered only to members who earned them.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.consent.ledger import choices, consents, toggles
from app.consent.phones import number_of
from app.consent.scopes import Scope, channel_label, find_scope, in_channel_order
from app.rewards.catalog import RewardDescription
from app.rewards.entitlements import holds
from app.web.urls import safe_next


def scope_exists(ref: str) -> bool:
    return find_scope(ref) is not None


def _html(template: str, **context: object) -> Markup:
    return Markup(render_template(template, **context))  # noqa: S704 - autoescaped template


def _offer(
    scope: Scope,
    member_id: int,
    origin: str,
    next_path: str | None,
    only: tuple[str, ...] | None = None,
) -> Markup:
    """Per channel (or only ``only``): the member's yes with its date, or an unticked
    opt-in."""
    states = consents.states_of(member_id)
    channels = [(c, states.get((scope.slug, c))) for c in in_channel_order(only or scope.channels)]
    return _html(
        "consent/offer.html",
        scope=scope,
        channels=channels,
        origin=origin,
        tokens=toggles.tokens_for(member_id, scope),
        next=next_path,
        has_phone=number_of(member_id) is not None,
    )


def choices_control(scope: Scope, member_id: int, origin: str, next_path: str | None) -> Markup:
    """One control for the scope: its sentence once, a switch per channel, one save. Drawn on
    the rewards page (``origin`` "rewards") and under each scope on the permissions page
    ("preferences"); ``origin`` names the ledger's source (``ORIGINS`` in the views)."""
    offered = scope.channels_in_order
    return _html(
        "consent/choices.html",
        scope=scope,
        switches=choices.switches(member_id, scope, offered),
        token=choices.choices_token(member_id, scope, offered),
        origin=origin,
        next=next_path,
        has_phone=number_of(member_id) is not None,
        channel_label=channel_label,
    )


def render_scope_cta(ref: str, placement: str) -> Markup | None:
    scope = find_scope(ref)
    if scope is None or (request.endpoint or "").startswith("consent."):
        return None  # the consent pages offer it themselves
    if not current_user.is_authenticated:
        if not scope.visitor_subscribable:
            return None
        return _html("consent/cta_visitor.html", scope=scope, placement=placement)
    member_id = current_user.id
    if holds(member_id, scope.reward):
        states = consents.states_of(member_id)
        if any(
            states.get((scope.slug, c)) is not None and states[(scope.slug, c)].granted
            for c in scope.channels
        ):
            return None  # they said yes already: no nagging for more channels here
        only = (
            ("email" if "email" in scope.channels else scope.channels[0],)
            if placement == "footer"
            else None
        )
        return _html(
            "consent/cta_member.html",
            scope=scope,
            placement=placement,
            offer=_offer(scope, member_id, "cta", safe_next(request.path), only),
        )
    if scope.visitor_subscribable:
        return _html("consent/cta_member.html", scope=scope, placement=placement, offer=None)
    return None


def describe_scope(ref: str, member_id: int | None) -> RewardDescription | None:
    """The rewards page's description of ``scope:<ref>``: its promise and, for a member who
    holds it, one control (the sentence once, an unticked switch per channel it has not said
    yes to, one save). Never a condition for any other reward."""
    scope = find_scope(ref)
    if scope is None:
        return None
    offer, url = None, None
    if member_id is not None and holds(member_id, scope.reward):
        offer = choices_control(scope, member_id, "rewards", safe_next(request.path))
        url = url_for("consent.permissions_page", _anchor=f"scope-{scope.slug}")
    return RewardDescription(
        reward=scope.reward,
        title=scope.title,
        summary=scope.promise,
        url=url,
        image_url=None,
        offer=offer,
    )
