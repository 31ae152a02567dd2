"""What earns a pack, said in words a visitor understands: the pull that a locked pack offers."""

from __future__ import annotations

from app.engage.responses import shelf


def _words(ref: str) -> str:
    return ref.replace("-", " ").replace("_", " ").replace(".", " ").strip()


def earning_step(pattern: str) -> str:
    """One sentence for an ``unlocked_by`` pattern such as ``survey:reader-2026``."""
    kind, _, ref = pattern.partition(":")
    wildcard = "*" in ref
    if kind == "account":
        return "Join and confirm your email address"
    if kind == "referral":
        return "Invite a friend who joins"
    if kind == "survey":
        survey = None if wildcard else shelf().surveys.get(ref)
        return f"Answer the survey “{survey.title}”" if survey else "Answer one of our surveys"
    if kind == "code":
        return (
            "Redeem any in-store code"
            if ref == "*"
            else f"Redeem an in-store code ({_words(ref.replace('*', ''))})"
        )
    if kind == "subscribe":
        return "Subscribe to one of our topics" if wildcard else f"Subscribe to {_words(ref)}"
    if kind == "read":
        return "Read one of our articles" if wildcard else f"Read the article “{_words(ref)}”"
    return f"Take part ({pattern})"


def earning_steps(patterns: tuple[str, ...]) -> list[str]:
    """The sentences for every way to earn a pack, without repeats, in the spec's order."""
    steps: list[str] = []
    for pattern in patterns:
        step = earning_step(pattern)
        if step not in steps:
            steps.append(step)
    return steps
