"""``flask users …``: create members and manage roles."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app import clock
from app.accounts import members
from app.accounts.errors import AccountError
from app.accounts.models import ROLES
from app.extensions import db

users_cli = AppGroup("users", help="Members and roles.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(email: str, role: str, display_name: str, password_stdin: bool) -> None:
    """Create a verified member with EMAIL; asks for the password unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        member = members.create_member(
            email, password, now=clock.now(), role=role, display_name=display_name, verified=True
        )
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {member.email} (id {member.id}, role {member.role})")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(email: str, role: str) -> None:
    """Give the member with EMAIL the role ROLE."""
    member = members.find_by_email(email)
    if member is None:
        raise click.ClickException(f"no member with the address {email}")
    members.set_role(member, role)
    db.session.commit()
    click.echo(f"{member.email} is now {role}")


@users_cli.command("list")
@click.option("--role", type=click.Choice(ROLES), default=None)
def list_command(role: str | None) -> None:
    """List members (id, email, role, verified), newest first."""
    from sqlalchemy import select

    from app.accounts.models import Member

    query = select(Member).where(Member.deleted_at.is_(None)).order_by(Member.id.desc())
    if role:
        query = query.where(Member.role == role)
    for member in db.session.scalars(query):
        verified = "verified" if member.is_verified else "unverified"
        click.echo(f"{member.id}\t{member.email}\t{member.role}\t{verified}")
