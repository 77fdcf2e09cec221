"""`artforge VERB --help` answers without importing torch: every verb's parser is built from torch-free
declarations (pipelines/params.py, pipelines/specs.py); torch comes in only when a verb runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from artforge.cli.main import VERBS

# Builds the verb's parser (and the music verb's sub-verbs) the way `artforge VERB --help` does, then lists
# the torch modules that came in.
PROBE = """
import sys
from artforge.cli.main import build_parser
parser = build_parser()
for args in {argv!r}:
    try:
        parser.parse_args(args)
    except SystemExit:
        pass
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def torch_modules_after(*argvs: list[str]) -> str:
    code = PROBE.format(argv=[list(a) for a in argvs])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]            # after the help texts


CREATING = ["generate", "interpolate", "music", "stylize"]


@pytest.mark.parametrize("verb", CREATING + ["recipe", "replay"])
def test_help_of_a_creating_verb_imports_no_torch(verb):
    argvs = [[verb, "--help"]] + ([["music", v, "--help"] for v in ("sample", "interpolate", "breed")]
                                  if verb == "music" else [])
    assert torch_modules_after(*argvs) == "[]"


def test_the_creating_verbs_are_all_the_pipeline_verbs():
    # the verbs whose modules build options from pipeline declarations (the ones this test guards)
    assert {v for v, (module, _) in VERBS.items() if module in ("create", "music", "stylize")} == set(CREATING)
