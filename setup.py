"""The one compiled part of xtape; everything else is in pyproject.toml.

xtape/_speedups.c packs a whole batch of XADD commands in one call: hiredis packs about
14 million arguments/s, which held a max-speed replay far below what one Redis takes
(bench/replay.py). ``optional``: where it cannot be compiled (no C compiler), xtape
installs anyway and packs with hiredis (xtape/replay/resp.py).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("xtape._speedups", ["xtape/_speedups.c"], optional=True)])
