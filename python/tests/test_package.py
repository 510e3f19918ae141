"""``pip install ./python`` works offline: the package builds as a wheel with what the environment has."""

import glob
import os
import shutil
import subprocess
import sys
import unittest
import zipfile

from support import REPOSITORY, TemporaryFolder


class PackageTests(TemporaryFolder):
    def test_the_wheel_builds_offline(self):
        try:
            import setuptools  # noqa: F401
        except ImportError:
            self.skipTest("SKIPPED LOUDLY: no setuptools in this Python; the wheel build was not tried")
        # From a copy: setuptools leaves build/ and *.egg-info beside the sources it builds.
        source = self.path("source")
        shutil.copytree(os.path.join(REPOSITORY, "python"), source,
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests", "examples"))
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", self.folder, source],
            capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        wheels = glob.glob(os.path.join(self.folder, "convscope_torch-*.whl"))
        self.assertEqual(len(wheels), 1, os.listdir(self.folder))
        names = zipfile.ZipFile(wheels[0]).namelist()
        for module in ["__init__", "spec", "model", "synthetic", "random_source", "data", "checkpoint", "run_writer", "recipe"]:
            self.assertIn(f"convscope_torch/{module}.py", names)


if __name__ == "__main__":
    unittest.main()
