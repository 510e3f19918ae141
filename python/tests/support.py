"""Shared helpers of the PyTorch side's tests: the convscope binary, when there is one, and temp folders."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def convscope_binary():
    """``CONVSCOPE_BIN`` or the release build in the checkout, when it exists."""
    path = os.environ.get("CONVSCOPE_BIN") or os.path.join(REPOSITORY, ".build", "release", "convscope")
    return path if os.access(path, os.X_OK) else None


def require_convscope(test: unittest.TestCase) -> str:
    path = convscope_binary()
    if path is None:
        test.skipTest("SKIPPED LOUDLY: no convscope binary (set CONVSCOPE_BIN or build it: make build); "
                      "the cross-check against the engine did not run")
    return path


def run_convscope(binary: str, *arguments: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("CONVSCOPE_DATA", None)
    return subprocess.run([binary, *arguments], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


def convscope_json(test: unittest.TestCase, binary: str, *arguments: str):
    result = run_convscope(binary, *arguments)
    test.assertEqual(result.returncode, 0, result.stderr)
    return json.loads(result.stdout)


class TemporaryFolder(unittest.TestCase):
    """A test case with a fresh folder in ``self.folder``, removed afterwards."""

    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix="convscope-torch-test-")
        self.addCleanup(shutil.rmtree, self.folder, True)

    def path(self, name: str) -> str:
        return os.path.join(self.folder, name)
