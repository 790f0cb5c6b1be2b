"""The version of xtape, at the bottom of the house: the writer stamps it in recordings, reports
and the CLI show it (``xtape.__version__`` is this)."""

__version__ = "0.1.0"
