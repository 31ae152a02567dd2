"""``flask telegram …``: poll for updates, set or remove the webhook, show the bot."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from app.outbound.botapi import BotApi, BotApiError
from app.telegram.bot import bot
from app.telegram.errors import BotOff
from app.telegram.polling import ALLOWED_UPDATES, poll


@click.group("telegram")
def telegram_cli() -> None:
    """The site's Telegram bot."""


def _bot() -> BotApi:
    try:
        return bot()
    except BotOff as exc:
        raise click.ClickException(str(exc)) from None


@telegram_cli.command("poll")
@click.option("--once", is_flag=True, help="Handle the updates waiting now, then stop.")
@click.option("--timeout", default=50, show_default=True, help="Seconds each request waits.")
@with_appcontext
def poll_command(once: bool, timeout: int) -> None:
    """Handle the bot's updates by long polling (for a site Telegram cannot reach with a
    webhook). SIGTERM or Ctrl+C finishes the current update and stops."""
    api = _bot()
    stopping = threading.Event()

    def stop(_signal: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop), signal.signal(signal.SIGINT, stop)
    try:
        with api:
            handled = poll(api, stopping, timeout=timeout, once=once)
    except BotApiError as exc:
        if exc.error_code == 409:
            raise click.ClickException(
                "a webhook is set for this bot: remove it with `flask telegram webhook delete` "
                "to poll instead"
            ) from None
        raise click.ClickException(f"Telegram refused: {exc.description}") from None
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    click.echo(f"telegram: {handled} updates handled")


@telegram_cli.group("webhook")
def webhook_cli() -> None:
    """Where Telegram posts updates."""


@webhook_cli.command("set")
@with_appcontext
def webhook_set_command() -> None:
    """Have Telegram post updates to BASE_URL/telegram/webhook with TELEGRAM_WEBHOOK_SECRET."""
    config = current_app.config
    if not config["TELEGRAM_WEBHOOK_SECRET"]:
        raise click.ClickException("set TELEGRAM_WEBHOOK_SECRET first (32 or more characters)")
    if not str(config["BASE_URL"]).startswith("https://"):
        raise click.ClickException("Telegram posts only to https:// addresses: check BASE_URL")
    url = f"{config['BASE_URL']}/telegram/webhook"
    try:
        with _bot() as api:
            api.set_webhook(url, config["TELEGRAM_WEBHOOK_SECRET"], ALLOWED_UPDATES)
    except BotApiError as exc:
        raise click.ClickException(f"Telegram refused: {exc.description}") from None
    click.echo(f"telegram: updates go to {url}")


@webhook_cli.command("delete")
@with_appcontext
def webhook_delete_command() -> None:
    """Stop Telegram posting updates (to poll instead)."""
    try:
        with _bot() as api:
            api.delete_webhook()
    except BotApiError as exc:
        raise click.ClickException(f"Telegram refused: {exc.description}") from None
    click.echo("telegram: webhook removed")


@telegram_cli.command("info")
@with_appcontext
def info_command() -> None:
    """Check the token: print the bot's username as Telegram knows it."""
    try:
        with _bot() as api:
            me = api.get_me()
    except BotApiError as exc:
        raise click.ClickException(f"Telegram refused: {exc.description}") from None
    configured = current_app.config["TELEGRAM_BOT_USERNAME"]
    click.echo(f"telegram: @{me.get('username')} (id {me.get('id')})")
    if str(me.get("username", "")).lower() != configured.lower():
        raise click.ClickException(
            f"TELEGRAM_BOT_USERNAME is {configured}, but the token belongs to "
            f"@{me.get('username')}: links and sticker set names would be wrong"
        )
