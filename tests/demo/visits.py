"""One request to the example project, with the signals it sent (see ``conftest.visit``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpResponse
from django.test import Client

from signal_panel import Problem, ReceiverCall, Recording, Send, record_signals


@dataclass
class Visit:
    response: HttpResponse
    recording: Recording

    @classmethod
    def get(cls, client: Client, url: str) -> Visit:
        with record_signals() as recording:
            response = client.get(url)
        assert response.status_code == 200, response
        return cls(response, recording)

    def sends(self, signal: str, sender: str | None = None) -> list[Send]:
        """Sends of the signal whose dotted name is or ends with ``signal``, from ``sender``."""
        return [
            send
            for send in self.recording.sends
            if (send.signal_name == signal or send.signal_name.endswith("." + signal))
            and (sender is None or send.sender == sender)
        ]

    def calls(self, receiver: str) -> list[ReceiverCall]:
        """Calls of the receiver whose name (last dotted part) is ``receiver``."""
        return [call for call in self.recording.calls if short(call) == receiver]

    def problems(self, kind: str) -> list[Problem]:
        return [problem for problem in self.recording.problems if problem.kind == kind]


def short(call: ReceiverCall) -> str:
    """The receiver's name without its module: ``create_profile``."""
    return call.receiver_name.rsplit(".", 1)[-1]


def names(calls: list[ReceiverCall]) -> list[str]:
    return [short(call) for call in calls]


def saves_in(call: ReceiverCall) -> list[Send]:
    """The ``pre_save``/``post_save`` sends made by ``call`` (leaving out ``pre_init``/...)."""
    return [send for send in call.sends if send.signal_name.endswith("_save")]
