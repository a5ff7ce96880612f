"""``manage.py signaltrace <command> [args...]``: run another management command under recording.

Prints the command's own output as usual, then the signals it sent as a tree with the problems at
the end (``Recording.format_tree``), or the same as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from typing import Any

from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import supports_color

from signal_panel import record_signals
from signal_panel.conf import get_config
from signal_panel.frozen import plain_data
from signal_panel.problems import Problem
from signal_panel.recording import ReceiverCall, Recording, Send
from signal_panel.text import format_tree


class Command(BaseCommand):
    help = (
        "Run another management command while recording every signal it sends, then print the "
        "signals as a tree with the problems found (or as JSON with --json)."
    )
    # The traced command runs its own system checks, as it would on its own.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            help=(
                "Write the recording as JSON. Without --output, the traced command's own output "
                "goes to stderr so that stdout holds only the JSON."
            ),
        )
        parser.add_argument(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the tree (or the JSON) to FILE instead of stdout.",
        )
        parser.add_argument(
            "--max-calls",
            type=int,
            metavar="N",
            help="Receiver calls to store (SIGNAL_PANEL's MAX_CALLS by default).",
        )
        parser.add_argument("command_name", metavar="command", help="The command to run.")
        parser.add_argument(
            "command_args",
            metavar="args",
            nargs=argparse.REMAINDER,
            help="Its arguments and options, as you would give them to it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["command_name"]
        command_args: list[str] = list(options["command_args"])
        config = get_config()
        if options["max_calls"] is not None:
            if options["max_calls"] < 1:
                raise CommandError("--max-calls must be at least 1.")
            config = dataclasses.replace(config, max_calls=options["max_calls"])
        app_name = get_commands().get(name)
        if app_name is None:
            raise CommandError(f"Unknown command: {name!r}.")

        as_json = bool(options["json"])
        output: str | None = options["output"]
        # With JSON on stdout, the traced command's output must not mix with it.
        redirect = (
            contextlib.redirect_stdout(sys.stderr)
            if as_json and output is None
            else contextlib.nullcontext()
        )
        # The report is written also when the command failed or was interrupted: what it sent
        # until then is often the point. Its exception then propagates as usual.
        try:
            with record_signals(config) as recording, redirect:
                self._run(app_name, name, command_args)
        finally:
            self._report(recording, [name, *command_args], as_json, output, options)

    def _run(self, app_name: str, name: str, command_args: list[str]) -> None:
        command = load_command_class(app_name, name)
        extra: dict[str, Any] = {}
        # call_command() skips system checks; run them when the command would on its own.
        if command.requires_system_checks and "--skip-checks" not in command_args:
            extra["skip_checks"] = False
        call_command(command, *command_args, **extra)

    def _report(
        self,
        recording: Recording,
        command: list[str],
        as_json: bool,
        output: str | None,
        options: dict[str, Any],
    ) -> None:
        if as_json:
            text = json.dumps(recording_data(recording, command), indent=2, default=str)
        else:
            text = format_tree(recording, color=self._color(output, options))
        if output is None:
            self.stdout.write(text)
        else:
            with open(output, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")

    def _color(self, output: str | None, options: dict[str, Any]) -> bool:
        if output is not None or options["no_color"]:
            return False
        if options["force_color"]:
            return True
        # https://no-color.org
        return not os.environ.get("NO_COLOR") and self.stdout.isatty() and supports_color()


# -- the JSON form ------------------------------------------------------------------------------


def _method(send: Send) -> str:
    return ("a" if send.is_async else "") + ("send_robust" if send.robust else "send")


def _send_data(send: Send, stored: set[int]) -> dict[str, Any]:
    return {
        "signal": send.signal_name,
        "sender": send.sender,
        "kwargs": send.kwargs,
        "method": _method(send),
        "library": send.library,
        "callsite": send.callsite or None,
        "in_atomic": send.in_atomic,
        "start_ns": send.start_ns,
        "duration_ns": send.duration_ns,
        "calls": [_call_data(call, stored) for call in send.calls],
    }


def _call_data(call: ReceiverCall, stored: set[int]) -> dict[str, Any]:
    return {
        "receiver": call.receiver_name,
        "location": call.location,
        "connected_at": call.connected_at,
        "is_async": call.is_async,
        "start_ns": call.start_ns,
        "duration_ns": call.duration_ns,
        "error": call.error,
        "swallowed": call.swallowed,
        "queries": call.queries,
        "query_ns": call.query_ns,
        "on_commit": call.on_commit,
        "sends": [_send_data(send, stored) for send in call.sends if id(send) in stored],
    }


def _problem_data(problem: Problem) -> dict[str, Any]:
    return {
        "kind": problem.kind,
        "message": problem.message,
        "locations": list(problem.locations),
        "details": plain_data(problem.details),
    }


def recording_data(recording: Recording, command: list[str]) -> dict[str, Any]:
    """The recording as plain data: the sends as a tree (each send's ``calls``, each call's
    ``sends``), times in nanoseconds from the recording's start, and the problems."""
    stored = {id(send) for send in recording.sends}
    return {
        "command": command,
        "duration_ns": recording.duration_ns,
        "send_count": len(recording.sends) + recording.dropped_sends,
        "call_count": recording.call_count,
        "truncated": recording.truncated,
        "dropped_sends": recording.dropped_sends,
        "dropped_calls": recording.dropped_calls,
        "sends": [_send_data(send, stored) for send in recording.roots],
        "problems": [_problem_data(problem) for problem in recording.problems],
    }
