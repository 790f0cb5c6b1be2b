"""The one compiled part of xtape; everything else is in pyproject.toml.

xtape/_speedups.c packs a whole batch of XADD commands in one call: hiredis packs about
14 million arguments/s, which held a max-speed replay far below what one Redis takes
(bench/replay.py). ``optional``: where it cannot be compiled (no C compiler), xtape
installs anyway and packs with hiredis (xtape/replay/resp.py).
"""

import atexit
import shutil
import tempfile

from setuptools import Extension, setup

# Build in a scratch folder, not in the source tree: `pip install .` leaves no build/
# and no xtape.egg-info behind (removed when the build's process ends).
_scratch = tempfile.mkdtemp(prefix="xtape-build-")
atexit.register(shutil.rmtree, _scratch, True)

setup(
    ext_modules=[Extension("xtape._speedups", ["xtape/_speedups.c"], optional=True)],
    options={"build": {"build_base": f"{_scratch}/build"}, "egg_info": {"egg_base": _scratch}},
)
