"""Every setting, declared once: its name, its default and its help text.

Values are read in this order, later overriding earlier:

1. the defaults below;
2. ``instance/config.py`` (plain Python assignments, for secrets and host-specific values);
3. environment variables ``PULLFIRST_<NAME>`` (``DATABASE_URL`` is accepted without the prefix);
4. the ``test_config`` mapping given to ``create_app``.

A missing or ill-formed value stops start-up with :class:`SettingError`, whose message is one line
naming the setting. The README's configuration table is checked against :data:`SETTINGS` by a test.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "PULLFIRST_"


class SettingError(SystemExit):
    """A setting is missing or ill-formed. Exits with one line that names it."""

    def __init__(self, name: str, problem: str) -> None:
        self.setting = name
        self.problem = problem
        super().__init__(f"pullfirst: setting {name} (env {ENV_PREFIX}{name}): {problem}")


Parser = Callable[[Any], Any]


@dataclass(frozen=True)
class Setting:
    """One setting. ``parse`` turns a raw value (a string from the environment, or a Python value
    from ``instance/config.py`` or ``test_config``) into the value the app uses, or raises
    ``ValueError`` with a short reason."""

    name: str
    default: Any
    help: str
    parse: Parser


# --- parsers -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value


def _one_line(value: Any) -> str:
    text = _text(value).strip()
    if "\r" in text or "\n" in text:
        raise ValueError("must be a single line")
    return text


def _integer(minimum: int, maximum: int) -> Parser:
    def parse(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}, got {number}")
        return number

    return parse


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _optional_secret_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return _one_line(value)


def _optional_secret(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = _text(value)
    if len(text) < 32:
        raise ValueError("must be at least 32 characters")
    return text


def _database_url(value: Any) -> str | None:
    if value is None or value == "":
        return None  # resolved to the instance SQLite file later
    url = _one_line(value)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in {"postgres", "postgresql"}:
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    elif not (scheme.startswith("sqlite") or scheme.startswith("postgresql+")):
        raise ValueError("must be a sqlite:/// or postgresql:// URL")
    return url


def _http_url(value: Any) -> str:
    url = _one_line(value).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, got {url!r}")
    if parts.query or parts.fragment:
        raise ValueError("must not carry a query or fragment")
    return url


MAIL_SCHEMES = ("smtp", "smtp+starttls", "smtps")


def _mail_url(value: Any) -> str:
    url = _one_line(value) if value is not None else ""
    if not url:
        return ""  # the dev mail folder
    parts = urlsplit(url)
    if parts.scheme not in MAIL_SCHEMES:
        raise ValueError("must start with smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ValueError("names no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("has a bad port") from None
    return url


def _mail_from(value: Any) -> str:
    from email.headerregistry import Address
    from email.utils import parseaddr

    text = _one_line(value)
    name, address = parseaddr(text)
    if "@" not in address:
        raise ValueError(f"must be an address such as 'Name <hello@example.com>', got {text!r}")
    Address(display_name=name, addr_spec=address)  # raises ValueError on a malformed address
    return text


def _storage_uri(value: Any) -> str:
    uri = _one_line(value)
    scheme = uri.split("://", 1)[0]
    if scheme not in {"memory", "redis", "rediss", "redis+sentinel", "redis+cluster"}:
        raise ValueError("must be memory:// or a redis:// URI")
    return uri


def _rate_limit(value: Any) -> str:
    from limits import parse_many

    text = _one_line(value)
    try:
        parse_many(text)
    except ValueError:
        raise ValueError(
            f"is not a rate limit such as '10 per minute; 100 per hour': {text!r}"
        ) from None
    return text


def _directory(value: Any) -> str:
    return str(Path(_one_line(value)).expanduser().resolve())


def _optional_file(value: Any) -> str:
    text = _one_line(value) if value is not None else ""
    return str(Path(text).expanduser().resolve()) if text else ""


def _telegram_bot(value: Any) -> str:
    name = _one_line(value).lstrip("@")
    if not (
        5 <= len(name) <= 32
        and name.replace("_", "").isalnum()
        and name.isascii()
        and name[0].isalpha()
        and name.lower().endswith("bot")
    ):
        raise ValueError(f"must be a Telegram bot username such as PullfirstBot, got {name!r}")
    return name


def _optional_bot_token(value: Any) -> str | None:
    if value is None or value == "":
        return None
    token = _one_line(value)
    if not re.fullmatch(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,64}", token):
        raise ValueError("must be a bot token from @BotFather, such as 123456:ABC-DEF…")
    return token


def _optional_webhook_secret(value: Any) -> str | None:
    if value is None or value == "":
        return None
    secret = _one_line(value)
    if not re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret):
        raise ValueError("must be 32 to 256 characters of A-Z, a-z, 0-9, _ and -")
    return secret


def _optional_http_url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    url = _one_line(value)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, got {url!r}")
    return url


def _sms_sender(value: Any) -> str:
    sender = _one_line(value)
    if not re.fullmatch(r"\+[1-9][0-9]{6,14}|[0-9]{3,8}|[A-Za-z0-9 ]{1,11}", sender):
        raise ValueError(
            "must be an E.164 number (+15550100), a short code (3 to 8 digits) or an "
            f"alphanumeric sender of at most 11 characters, got {sender!r}"
        )
    return sender


def _program_name(value: Any) -> str:
    name = _one_line(value)
    if not 1 <= len(name) <= 40:
        raise ValueError("must be 1 to 40 characters")
    return name


def _region(value: Any) -> str:
    region = _one_line(value).upper() if value else ""
    if region and not re.fullmatch(r"[A-Z]{2}", region):
        raise ValueError(f"must be a two-letter country code such as GB or US, got {region!r}")
    return region


def _push_subject(value: Any) -> str | None:
    if value is None or value == "":
        return None
    subject = _one_line(value)
    if not (subject.startswith("mailto:") or subject.startswith("https://")):
        raise ValueError("must be a mailto: or https:// URL")
    return subject


def _number(minimum: float, maximum: float) -> Parser:
    def parse(value: Any) -> float:
        if isinstance(value, bool):
            raise ValueError("expected a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if not minimum <= number <= maximum:
            raise ValueError(f"must be between {minimum:g} and {maximum:g}")
        return number

    return parse


def _mailbox(value: Any) -> str:
    text = _one_line(value).strip()
    if text and (text.count("@") != 1 or any(c in text for c in " <>,;")):
        raise ValueError(f"not an email address: {text!r}")
    return text


def _domain(value: Any) -> str:
    text = _one_line(value).strip().rstrip(".").lower() if value is not None else ""
    labels = text.split(".")
    if text and (
        len(text) > 253
        or not all(
            0 < len(label) <= 63
            and label.isascii()
            and label.replace("-", "").isalnum()
            and not label.startswith("-")
            and not label.endswith("-")
            for label in labels
        )
    ):
        raise ValueError(f"not a domain name such as example.com: {text!r}")
    return text


def _choice(*choices: str) -> Parser:
    def parse(value: Any) -> str:
        text = _one_line(value).lower()
        if text not in choices:
            raise ValueError(f"must be {' or '.join(choices)}, got {text!r}")
        return text

    return parse


def _bearer_token(value: Any) -> str:
    text = _one_line(value) if value is not None else ""
    if text and (len(text) < 16 or not text.isascii() or " " in text):
        raise ValueError("must be empty or at least 16 ASCII characters without spaces")
    return text


def _git_remote(value: Any) -> str | None:
    """A remote git can reach without running a command: a local path, file://, ssh://,
    user@host:path, git:// or http(s)://. The value is never echoed (it may hold a token)."""
    if value is None or value == "":
        return None
    url = _one_line(value)
    parts = urlsplit(url)
    if url.startswith("-") or "::" in url.split("/", 1)[0]:
        raise ValueError("must not be an option or a git remote helper (name::address)")
    if parts.scheme in {"ssh", "git", "http", "https"} and parts.hostname:
        return url
    if parts.scheme == "file" and parts.path.startswith("/"):
        return url
    if url.startswith("/") or re.fullmatch(r"[\w.-]+@[\w.-]+:[^:]+", url):
        return url
    raise ValueError(
        "must be an absolute path, file://, ssh://, user@host:path, git:// or https:// address"
    )


def _log_level(value: Any) -> str:
    level = _one_line(value).upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
    return level


# --- the settings ----------------------------------------------------------------------------

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and tokens. When unset, a random key is generated on first start into "
        "instance/secret_key (mode 0600) and reused.",
        _optional_secret,
    ),
    Setting(
        "DATABASE_URL",
        None,
        "SQLAlchemy URL. Default: a SQLite file in the instance folder. postgres:// and "
        "postgresql:// URLs use psycopg 3. DATABASE_URL is accepted without the prefix.",
        _database_url,
    ),
    Setting(
        "CONTENT_DIR",
        "./content",
        "Folder of site.toml, scopes.toml and the Markdown content.",
        _directory,
    ),
    Setting(
        "STICKERS_DIR",
        "./stickers",
        "Folder of sticker packs (one sub-folder per pack).",
        _directory,
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        "Public address of the site, used in mail links, feeds and canonical URLs. "
        "With https, cookies are marked Secure.",
        _http_url,
    ),
    Setting(
        "MAIL_URL",
        "",
        "smtp://, smtp+starttls:// or smtps://user:password@host:port. Empty: every message "
        "is written as an .eml file under instance/mail/.",
        _mail_url,
    ),
    Setting(
        "MAIL_FROM", "Pullfirst <hello@pullfirst.example>", "Sender of every message.", _mail_from
    ),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "Where rate-limit counters live: memory:// for one process, redis://host:6379 when "
        "several processes or hosts serve the site.",
        _storage_uri,
    ),
    Setting(
        "RATELIMIT_AUTH_IP",
        "20 per minute; 200 per hour",
        "Limit on sign-in, password-reset and sign-in-link requests from one IP address.",
        _rate_limit,
    ),
    Setting(
        "RATELIMIT_AUTH_ACCOUNT",
        "5 per minute; 30 per hour",
        "Limit on sign-in, password-reset and sign-in-link requests for one email address.",
        _rate_limit,
    ),
    Setting(
        "PROXY_COUNT",
        0,
        "Number of trusted reverse proxies in front of the app (X-Forwarded-For and friends).",
        _integer(0, 5),
    ),
    Setting(
        "REFERRAL_CAP",
        10,
        "How many referrals one member can be rewarded for.",
        _integer(0, 10_000),
    ),
    Setting("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR.", _log_level),
    Setting(
        "RATELIMIT_REDEEM_IP",
        "10 per minute; 60 per hour",
        "Limit on in-store code redemption attempts from one IP address.",
        _rate_limit,
    ),
    Setting(
        "RATELIMIT_REDEEM_MEMBER",
        "5 per minute; 30 per hour",
        "Limit on in-store code redemption attempts by one member.",
        _rate_limit,
    ),
    Setting(
        "CODE_HASH_KEY",
        None,
        "Key of the keyed hash stored for each in-store code (the codes themselves are never "
        "stored). When unset, derived from SECRET_KEY. Changing it makes every issued code "
        "unknown.",
        _optional_secret,
    ),
    Setting(
        "TELEGRAM_BOT_USERNAME",
        "PullfirstBot",
        "Username of the site's Telegram bot (from @BotFather): members link it with "
        "t.me/<bot>?start=…, and sticker set names end in _by_<bot>.",
        _telegram_bot,
    ),
    Setting(
        "TELEGRAM_BOT_TOKEN",
        None,
        "The bot's token from @BotFather. Empty: the telegram channel and the bot are off.",
        _optional_bot_token,
    ),
    Setting(
        "TELEGRAM_API_BASE",
        "https://api.telegram.org",
        "Where the Bot API answers: Telegram's own, or a local Bot API server.",
        _http_url,
    ),
    Setting(
        "TELEGRAM_WEBHOOK_SECRET",
        None,
        "The secret Telegram sends in X-Telegram-Bot-Api-Secret-Token with each update posted "
        "to /telegram/webhook (at least 32 characters of A-Z, a-z, 0-9, _ and -). Empty: the "
        "webhook answers 404; use `flask telegram poll` instead.",
        _optional_webhook_secret,
    ),
    Setting(
        "TELEGRAM_MESSAGES_PER_SECOND",
        25,
        "Messages a second that one notifier worker sends to Telegram (the Bot API allows about "
        "30 a second for the whole bot, and 1 a second per chat): with several workers, divide.",
        _number(0.1, 30),
    ),
    Setting(
        "SMS_SENDSMS_URL",
        None,
        "Kannel smsbox's sendsms address, such as http://127.0.0.1:13013/cgi-bin/sendsms. "
        "Empty: the sms channel is off.",
        _optional_http_url,
    ),
    Setting("SMS_USERNAME", "pullfirst", "The sendsms-user name in kannel.conf.", _one_line),
    Setting(
        "SMS_PASSWORD", None, "The sendsms-user password in kannel.conf.", _optional_secret_text
    ),
    Setting(
        "SMS_SENDER",
        "+15550100",
        "The number (E.164), short code or alphanumeric name texts come from; members text "
        "STOP, START and HELP to it.",
        _sms_sender,
    ),
    Setting(
        "SMS_INBOUND_SECRET",
        None,
        "The secret Kannel's sms-service puts in the secret= parameter of /sms/inbound and the "
        "delivery reports (at least 32 characters of A-Z, a-z, 0-9, _ and -). Empty: both "
        "answer 404.",
        _optional_webhook_secret,
    ),
    Setting(
        "SMS_PROGRAM",
        "Pullfirst",
        "Who texts, by name: in every SMS consent sentence, the HELP answer and each text.",
        _program_name,
    ),
    Setting(
        "SMS_DEFAULT_REGION",
        "",
        "Country (ISO 3166 code such as GB) of phone numbers typed without +country code. "
        "Empty: members type the international form.",
        _region,
    ),
    Setting(
        "PUSH_SUBJECT",
        None,
        "The contact push services see with each notification (VAPID subject): a mailto: or "
        "https:// URL. Empty: mailto: the address of MAIL_FROM.",
        _push_subject,
    ),
    Setting(
        "STICKERS_MAX_PIXELS",
        36_000_000,
        "Largest source image the sticker build opens, in pixels (width x height); larger "
        "ones are refused before decoding.",
        _integer(1_000_000, 200_000_000),
    ),
    Setting(
        "STICKERS_WORKERS",
        0,
        "Worker processes for sticker builds; 0 uses one per core.",
        _integer(0, 64),
    ),
    Setting(
        "CONSENT_DAILY_CAP",
        3,
        "At most this many editorial or promotional messages reach one member in any 24 "
        "hours, whatever their scopes.",
        _integer(1, 100),
    ),
    Setting(
        "WEBHOOK_ALLOW_LOOPBACK",
        False,
        "For tests only: let webhook endpoints (members' and event webhooks) and browsers' "
        "push services live on the loopback address, over http or https. Never turn it on "
        "for a site that serves members.",
        _boolean,
    ),
    Setting(
        "CONTENT_RECHECK_SECONDS",
        1,
        "How often (at most) each web process checks content/ for changed files, by "
        "one stat per file. 0 checks on every request.",
        _integer(0, 3600),
    ),
    Setting(
        "CONTENT_GIT",
        True,
        "Commit each save of the web editor (and each image upload) to the git repository "
        "that holds CONTENT_DIR, or to a new one made there. Off: files are only written.",
        _boolean,
    ),
    Setting(
        "CONTENT_GIT_REMOTE",
        None,
        "A git remote shared by every host (a path, file://, ssh://, user@host:path or "
        "https://): each commit is pushed to it and each web process pulls from it. CONTENT_DIR "
        "must then be the top of its own repository. Empty: the repository stays local.",
        _git_remote,
    ),
    Setting(
        "CONTENT_GIT_PULL_SECONDS",
        5,
        "How often each web process fetches CONTENT_GIT_REMOTE and brings in edits saved on "
        "other hosts.",
        _integer(1, 3600),
    ),
    Setting(
        "RENDER_BUDGET_SECONDS",
        2.0,
        "Longest time one Markdown render may take (a content file, the editor's preview, "
        "a campaign body, a survey introduction). Text over it, or over the size limits, "
        "is refused with its line and never shown half-done.",
        _number(0.01, 60),
    ),
    Setting(
        "SHARED_CACHE_SECONDS",
        30,
        "How long a shared cache (nginx) may keep an anonymous public page "
        "(Cache-Control s-maxage). Browsers always revalidate.",
        _integer(0, 86_400),
    ),
    Setting(
        "POSTS_PER_PAGE", 10, "Posts per page on the home page and the tag pages.", _integer(1, 100)
    ),
    Setting(
        "NOTIFY_MAX_ATTEMPTS",
        8,
        "Attempts per delivery before it goes to the dead letter.",
        _integer(1, 50),
    ),
    Setting(
        "NOTIFY_RETRY_SECONDS",
        30,
        "Wait before the first retry of a delivery; each later retry waits twice as long "
        "(with jitter), up to six hours.",
        _integer(1, 3600),
    ),
    Setting(
        "NOTIFY_LEASE_SECONDS",
        120,
        "How long a worker holds the deliveries it claimed; after that another worker may "
        "take them again.",
        _integer(5, 3600),
    ),
    Setting("NOTIFY_BATCH", 100, "Deliveries a worker claims at once.", _integer(1, 10_000)),
    Setting(
        "NOTIFY_POLL_SECONDS",
        2.0,
        "How long an idle worker waits before it looks for due deliveries again.",
        _number(0.05, 600),
    ),
    Setting(
        "NOTIFY_OPEN_PIXEL",
        False,
        "Put an open-tracking pixel in HTML mail. Opens are shown to marketers but never "
        "count as engagement.",
        _boolean,
    ),
    Setting(
        "NOTIFY_LEARNING",
        True,
        "Let each member's responses shape what they get below the promise: rest after "
        "silence, wait for their usual hour, rank a digest by what they read. Off, every "
        "member of a scope gets the same message at the same moment.",
        _boolean,
    ),
    Setting(
        "NOTIFY_UNSUBSCRIBE_MAILTO",
        "",
        "Mailbox for List-Unsubscribe mailto requests; empty uses the address of "
        "MAIL_FROM. Whoever reads it must act on the requests it receives.",
        _mailbox,
    ),
    Setting(
        "NOTIFY_BOUNCE_DOMAIN",
        "",
        "Domain of the envelope sender of campaign mail (bounces+<delivery>.<tag>@domain), "
        "where bounces and complaints return; empty uses the domain of MAIL_FROM. Its mail "
        "server routes bounces+* to flask notify bounces, and it needs SPF.",
        _domain,
    ),
    Setting(
        "NOTIFY_SOFT_BOUNCE_LIMIT",
        3,
        "Soft bounces (mailbox full, delivery delayed) of different messages to one address "
        "within 30 days after which the address is suppressed like a hard bounce.",
        _integer(1, 100),
    ),
    Setting(
        "RECEIPT_SIGNING_KEY_FILE",
        "",
        "PEM file of the Ed25519 private key that signs consent receipts (mode 0600). "
        "Empty: a key is generated on first use into instance/receipt-signing-key.pem "
        "(mode 0600) and reused. Every host of a site must use the same key.",
        _optional_file,
    ),
    Setting(
        "LOG_FORMAT",
        "text",
        "text, or json for one JSON object per line (time, level, logger, message).",
        _choice("text", "json"),
    ),
    Setting(
        "READY_WORKER_MAX_AGE",
        300,
        "/readyz fails when the newest notifier worker heartbeat is older than this many "
        "seconds. 0 leaves the worker out of the check.",
        _integer(0, 86_400),
    ),
    Setting(
        "METRICS_TOKEN",
        "",
        "Bearer token that /metrics (Prometheus text format) asks for. Empty: /metrics "
        "answers 404.",
        _bearer_token,
    ),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


def load_settings(
    instance_values: Mapping[str, Any],
    environ: Mapping[str, str],
    test_config: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Merge the four layers and parse every declared setting.

    Keys of ``test_config`` that are not declared settings (Flask's own, such as ``TESTING``)
    pass through unparsed. Raises :class:`SettingError` for the first bad value.
    """
    raw: dict[str, tuple[Any, str]] = {s.name: (s.default, "default") for s in SETTINGS}
    for name in SETTINGS_BY_NAME:
        if name in instance_values:
            raw[name] = (instance_values[name], "instance/config.py")
    if "DATABASE_URL" in environ:
        raw["DATABASE_URL"] = (environ["DATABASE_URL"], "environment")
    for name in SETTINGS_BY_NAME:
        if ENV_PREFIX + name in environ:
            raw[name] = (environ[ENV_PREFIX + name], "environment")
    extra: dict[str, Any] = {}
    for key, value in (test_config or {}).items():
        if key in SETTINGS_BY_NAME:
            raw[key] = (value, "test_config")
        else:
            extra[key] = value

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value, origin = raw[setting.name]
        try:
            values[setting.name] = setting.parse(value)
        except ValueError as exc:
            raise SettingError(setting.name, f"{exc} (from {origin})") from None
    values.update(extra)
    return values


# PULLFIRST_* variables that are not settings but are read elsewhere, each by its reader.
OTHER_VARIABLES: Mapping[str, str] = {
    "INSTANCE_PATH": "create_app: moves the instance folder",
    "TEST_DATABASE_URL": "the test suite: its PostgreSQL database",
    "SWEEP_REDIS_URL": "the test suite: the Redis of the rate-limit sweep",
    "BIND": "deploy/gunicorn.conf.py: the address gunicorn listens on",
    "WORKERS": "deploy/gunicorn.conf.py: the number of gunicorn workers",
    "FORWARDED_ALLOW_IPS": "deploy/gunicorn.conf.py: the proxies whose X-Forwarded-* count",
    "BENCH_BODY": "bench/: the bare app's page",
    "BENCH_PATH": "bench/: the bare app's path",
}


def unknown_settings(environ: Mapping[str, str]) -> list[str]:
    """One line for each ``PULLFIRST_*`` variable that is neither a setting nor read elsewhere,
    with the closest known name when there is one (a misspelt name is otherwise ignored)."""
    import difflib

    known = [*SETTINGS_BY_NAME, *OTHER_VARIABLES]
    lines = []
    for variable in sorted(environ):
        name = variable.removeprefix(ENV_PREFIX)
        if name == variable or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f" (did you mean {ENV_PREFIX}{close[0]}?)" if close else ""
        lines.append(f"pullfirst: unknown setting {variable}{hint}")
    return lines


def read_instance_config(instance_path: str) -> dict[str, Any]:
    """Execute ``instance/config.py`` when it exists and return its upper-case names."""
    path = Path(instance_path) / "config.py"
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    try:
        code = compile(path.read_bytes(), str(path), "exec")
        exec(code, namespace)  # noqa: S102 - the operator's own configuration file
    except Exception as exc:  # any error in the operator's file stops start-up with one line
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise SystemExit(f"pullfirst: {where}: {type(exc).__name__}: {exc}") from None
    return {k: v for k, v in namespace.items() if k.isupper()}


def secret_key_for(instance_path: str) -> str:
    """Return the instance's secret key, generating it on first start (file mode 0600)."""
    path = Path(instance_path) / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise SettingError(
                "SECRET_KEY", f"{path} is readable by other users (mode {mode:o}); chmod 600 it"
            ) from None
        key = path.read_text().strip()
        if len(key) < 32:
            raise SettingError("SECRET_KEY", f"{path} holds fewer than 32 characters") from None
        return key
    except OSError as exc:
        raise SettingError(
            "SECRET_KEY",
            f"cannot write {path} ({exc.strerror}): make the "
            "instance folder writable, or set SECRET_KEY",
        ) from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
