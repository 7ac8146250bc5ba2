"""Video side of branchwatch: ingest, sampling, detection, tracking, zones and evidence.

Importing this package is cheap: heavy dependencies (PyAV, OpenCV, torch) are imported by
the modules that need them, so :mod:`rules` can read :mod:`vision.timeline` without them.
"""
