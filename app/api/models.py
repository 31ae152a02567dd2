"""The API's tables: keys and idempotent requests, event webhook endpoints and deliveries."""

from __future__ import annotations

from app.api import hook_models as hook_models
from app.api import rest_models as rest_models
