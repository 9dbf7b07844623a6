"""Typed dependencies shared by the gateway's routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.core.config import Settings, get_settings
from bot.rasa_client import RasaClient
from bot.responses import ResponseCatalogue, get_catalogue


def get_rasa(request: Request) -> RasaClient:
    """The app's pooled Rasa client."""
    client: RasaClient = request.app.state.rasa
    return client


SettingsDep = Annotated[Settings, Depends(get_settings)]
RasaDep = Annotated[RasaClient, Depends(get_rasa)]
CatalogueDep = Annotated[ResponseCatalogue, Depends(get_catalogue)]
