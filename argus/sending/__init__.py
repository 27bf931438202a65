"""Sending the outbox through Twilio (SMS, WhatsApp, voice) or the console.

:func:`send_outbox` drains queued rows exactly once per row; see
:mod:`argus.sending.sender` for the order of a drain and
:mod:`argus.sending.providers` for the channels.
"""

from argus.sending.providers import open_provider
from argus.sending.sender import SendReport, send_outbox, send_outbox_sync

__all__ = ["SendReport", "open_provider", "send_outbox", "send_outbox_sync"]
