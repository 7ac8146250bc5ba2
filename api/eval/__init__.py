"""``branchwatch eval``: accuracy of the scan's perception on labelled real footage.

:mod:`api.eval.labels` reads the label file (format: ``docs/eval.md``), :mod:`api.eval.runner`
runs each item through the scan's own per-unit worker and through a naive baseline,
:mod:`api.eval.metrics` scores both against the labels and :mod:`api.eval.report` prints and
serialises the result.
"""
