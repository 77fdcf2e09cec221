"""How `artforge` ends when it is stopped: SIGTERM exits 143 and Ctrl-C 130, as shells report them, in one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (its SigCgt mask in /proc): main() installed its own."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGTERM - 1) & 1)
    return False


@pytest.mark.parametrize("sig, code, line", [(signal.SIGTERM, 143, "error: interrupted (SIGTERM)"),
                                             (signal.SIGINT, 130, "error: interrupted")])
def test_a_stopped_verb_exits_with_its_signals_code(tmp_path, subprocess_env, sig, code, line):
    cmd = [sys.executable, "-m", "artforge", "music", "sample", "starter:melody-2bar", "-n", "1024",
           "--batch-size", "1", "--out", str(tmp_path / "m")]
    proc = subprocess.Popen(cmd, env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _catches_sigterm(proc.pid):
            assert proc.poll() is None and time.monotonic() < deadline, "no SIGTERM handler within 60 s"
            time.sleep(0.01)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, err.splitlines()[-1:]) == (code, [line])
