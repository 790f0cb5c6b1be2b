"""Renderers: each report form of xtape as a function of the report's data, in one place.

=================  ==========================================  ==============================
report             function                                    module
=================  ==========================================  ==============================
diff, terminal     ``render_text(result, color=...)``          :mod:`xtape.report.diff_text`
diff, HTML         ``render_html(result)``, ``write_html``     :mod:`xtape.report.diff_html`
diff, JSON         ``diff_json(result)``                       :mod:`xtape.report.as_json`
replay, terminal   ``replay_lines(report, ...)``               :mod:`xtape.report.replay_text`
replay, JSON       ``replay_json(report, seed=...)``           :mod:`xtape.report.as_json`
test, JUnit XML    ``junit_xml(results)``, ``write_junit``     :mod:`xtape.report.junit`
=================  ==========================================  ==============================

The data has its own ``to_dict``/``from_dict`` (:class:`xtape.diff.DiffResult`,
:class:`xtape.replay.ReplayReport`); a new report form is one function here. The
modules are imported where used (this package imports none of them by itself).
"""
