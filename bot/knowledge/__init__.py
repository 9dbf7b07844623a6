"""The knowledge base the bot, the IVR and counsellors share.

Content lives in ``knowledge/`` (schemes, helplines, gazetteer, service directory); this
package reads and checks it:

- :func:`load_schemes`, :func:`load_helplines` and :func:`render` (fills
  ``{helpline:<id>}`` placeholders, so a number lives in ``helplines.yml`` only);
- :func:`resolve_place` finds a state or district named in a message, in any script;
- :func:`validate_rows` and :func:`lookup_services` for the service directory.

Nothing is read at import time; every loader caches what it read.
"""

from __future__ import annotations

from bot.knowledge.directory import (
    Service,
    ServiceLookup,
    ServiceType,
    load_directory,
    lookup_services,
    validate_rows,
)
from bot.knowledge.gazetteer import Place, find_places, load_gazetteer, resolve_place
from bot.knowledge.loader import (
    KNOWLEDGE_DIR,
    KnowledgeError,
    Problem,
    load_helplines,
    load_schemes,
    render,
)
from bot.knowledge.models import Helpline, Localised, Scheme

__all__ = [
    "KNOWLEDGE_DIR",
    "Helpline",
    "KnowledgeError",
    "Localised",
    "Place",
    "Problem",
    "Scheme",
    "Service",
    "ServiceLookup",
    "ServiceType",
    "find_places",
    "load_directory",
    "load_gazetteer",
    "load_helplines",
    "load_schemes",
    "lookup_services",
    "render",
    "resolve_place",
    "validate_rows",
]
