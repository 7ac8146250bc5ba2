"""The inspection standard as data, the rule engine and scoring.

Nothing in this package imports OpenCV, PyAV, torch or ultralytics.
"""
