"""Every area's tables, so that ``Base.metadata`` knows them all (the factory imports this before
it binds the database; ``flask db revision --autogenerate`` compares against it)."""

from __future__ import annotations


def import_models() -> None:
    from app.accounts import models as accounts  # noqa: F401
    from app.api import models as api  # noqa: F401
    from app.consent import models as consent  # noqa: F401
    from app.engage import models as engage  # noqa: F401
    from app.notify import models as notify  # noqa: F401
    from app.ops import models as ops  # noqa: F401
    from app.rewards import models as rewards  # noqa: F401
    from app.site import models as site  # noqa: F401
    from app.telegram import models as telegram  # noqa: F401
    from app.transfer import models as transfer  # noqa: F401
