"""Pullfirst: permission marketing done properly. ``create_app`` wires the areas together."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as settings
from app.ops import logs


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, every area's ``init_app``, the CLI. Wiring only."""
    instance_path = os.environ.get("PULLFIRST_INSTANCE_PATH") or None
    if instance_path is not None:
        instance_path = os.path.abspath(instance_path)
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    try:
        os.makedirs(app.instance_path, exist_ok=True)
    except OSError as exc:
        raise settings.SettingError(
            "INSTANCE_PATH",
            f"cannot create the instance folder {app.instance_path}: {exc.strerror}",
        ) from None

    values = settings.load_settings(
        settings.read_instance_config(app.instance_path), os.environ, test_config
    )
    if values["SECRET_KEY"] is None:
        values["SECRET_KEY"] = settings.secret_key_for(app.instance_path)
    if values["DATABASE_URL"] is None:
        values["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'pullfirst.db')}"
    app.config.update(values)
    logs.configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    for line in settings.unknown_settings(os.environ):
        logging.getLogger("pullfirst.config").warning(line)
    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )

    from app import cli
    from app.accounts import wiring as accounts
    from app.admin import wiring as admin
    from app.api import wiring as api
    from app.consent import wiring as consent
    from app.engage import wiring as engage
    from app.extensions import csrf, db, limiter
    from app.models import import_models
    from app.notify import wiring as notify
    from app.ops import wiring as ops
    from app.rewards import wiring as rewards
    from app.site import wiring as site
    from app.sms import wiring as sms
    from app.stickers import wiring as stickers
    from app.telegram import wiring as telegram
    from app.transfer import wiring as transfer
    from app.web import wiring as web
    from app.web.converters import IdConverter

    app.url_map.converters["id"] = IdConverter  # before any route: ids in paths
    import_models()
    db.init_app(app)
    csrf.init_app(app)
    # The limiter object is shared by every app of the process, and otherwise keeps the
    # "enabled" of the app bound before: each app states its own.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    web.init_app(app)
    site.init_app(app)
    accounts.init_app(app)
    engage.init_app(app)
    rewards.init_app(app)
    stickers.init_app(app)
    consent.init_app(app)
    notify.init_app(app)
    telegram.init_app(app)
    sms.init_app(app)
    api.init_app(app)
    transfer.init_app(app)
    admin.init_app(app)
    ops.init_app(app)
    cli.init_app(app)
    return app
