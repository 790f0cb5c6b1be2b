"""Support for the tests (no tests here), imported as ``from support.e2e import invoke``.

``tests/`` holds ``conftest.py`` and no ``__init__.py``, so pytest (its default
``prepend`` import mode) puts ``tests/`` on ``sys.path`` when it loads that conftest,
before any test module of any folder below is imported: ``support`` is found there,
whichever folder the test lives in and whether or not the checkout is on ``sys.path``.
"""
