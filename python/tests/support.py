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


def newest_source():
    """The most recently modified file or folder under ``Sources/`` and its time, as the Swift suite's
    ``ConvscopeBinary`` finds it."""
    newest = ("Sources", 0.0)
    for folder, directories, files in os.walk(os.path.join(REPOSITORY, "Sources")):
        for name in directories + files:
            path = os.path.join(folder, name)
            when = os.path.getmtime(path)
            if when > newest[1]:
                newest = (os.path.relpath(path, REPOSITORY), when)
    return newest


def require_convscope(test: unittest.TestCase) -> str:
    """The binary, checked to be newer than every source (a stale one fails the test: it is not this code)."""
    path = convscope_binary()
    if path is None:
        test.skipTest("SKIPPED LOUDLY: no convscope binary (set CONVSCOPE_BIN or build it: make build); "
                      "the cross-check against the engine did not run")
    source, when = newest_source()
    if when > os.path.getmtime(path):
        test.fail(f"the convscope binary at {path} is older than {source}, so it is not this code: rebuild it "
                  "(swift build -c release --product convscope; make test does)")
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
