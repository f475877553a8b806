"""`idportal` and pipes: every command keeps SIGPIPE ignored, so a socket whose peer has
gone raises EPIPE instead of killing the process (a node, a drill, a load run), and a
reader of its output that stops early ends it quietly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from service import cli

REPO = Path(__file__).resolve().parents[2]
CLIENTS = str(REPO / "config" / "clients.toml")


@pytest.mark.parametrize("argv", [["clients", "check", CLIENTS], ["clients", "secret"]])
def test_commands_leave_sigpipe_ignored_so_a_closed_socket_is_an_error_not_death(
        argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    before = signal.getsignal(signal.SIGPIPE)
    try:
        assert cli.main(argv) == 0
        assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGPIPE, before)
    capsys.readouterr()


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that has read all it wanted
    try:
        done = subprocess.run([sys.executable, "-m", "service.cli", "clients", "check", CLIENTS],
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              cwd=REPO, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert done.returncode == cli.EXIT_BROKEN_PIPE  # as a shell reports SIGPIPE, not -13
    assert done.stderr == ""  # no traceback, no "Exception ignored" at exit


def test_a_broken_pipe_that_is_not_stdout_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def hung_up(_args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")  # e.g. a socket the peer closed

    monkeypatch.setattr(cli, "_keys", hung_up)
    with pytest.raises(BrokenPipeError):
        cli.main(["keys", "generate"])
