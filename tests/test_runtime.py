"""Process-wide runtime settings (artforge/runtime.py), each checked in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SNIPPET = "from artforge.runtime import tune_malloc; print(tune_malloc(), tune_malloc())"


def run(env_extra: dict) -> str:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_is_tuned_once_on_glibc_and_left_alone_when_asked():
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else ""
    if not libc.startswith("glibc"):
        pytest.skip("not glibc")
    assert run({}) == "True True"
    assert run({"ARTFORGE_MALLOC": "default"}) == "False False"
