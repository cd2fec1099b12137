"""Delivery channels for built briefs: a registry of channels, each one module.

A channel is a settings model (its ``deliver.<name>`` config section) and a class with
``send(package) -> receipt``. Config validation reads ``DeliverSettings``; the scheduler
calls ``make_channels`` and sends one ``Package`` on each channel, retrying a
``DeliveryError`` only when it is not ``permanent``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from briefgen.deliver import email, webhook
from briefgen.deliver.base import Channel, ChannelSpec, DeliveryError, Package, Section
from briefgen.deliver.email import EmailChannel, EmailSettings, SmtpSettings
from briefgen.deliver.webhook import WebhookChannel, WebhookSettings

__all__ = [
    "CHANNELS",
    "SECRET_VARIABLES",
    "Channel",
    "ChannelSpec",
    "DeliverSettings",
    "DeliveryError",
    "EmailChannel",
    "EmailSettings",
    "Package",
    "Section",
    "SmtpSettings",
    "WebhookChannel",
    "WebhookSettings",
    "make_channels",
]

# A new channel is a module with a SPEC, listed here and as a field of DeliverSettings.
CHANNELS: dict[str, ChannelSpec[Any]] = {spec.name: spec for spec in (email.SPEC, webhook.SPEC)}
# Environment variables holding secrets: never shown in messages or the run history.
SECRET_VARIABLES = (email.USERNAME_ENV, email.PASSWORD_ENV, webhook.SECRET_ENV)


class DeliverSettings(BaseModel):
    """The ``deliver:`` section of a brief: which channels send it, and how."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    email: EmailSettings | None = None
    """Send the brief by email, the HTML edition as the body and chosen formats attached."""

    webhook: WebhookSettings | None = None
    """POST a JSON summary of the brief to a URL, signed when BRIEFGEN_WEBHOOK_SECRET is set."""


def make_channels(settings: DeliverSettings, env: Mapping[str, str] = os.environ) -> list[Channel]:
    """Return a channel for each section of ``settings`` that is set, in registry order."""
    channels: list[Channel] = []
    for name, spec in CHANNELS.items():
        section = getattr(settings, name)
        if section is not None:
            channels.append(spec.make(section, env))
    return channels
