"""Synthetic DVR footage with known ground truth, made from real pixels.

Person cutouts from the ultralytics asset photos (:mod:`vision.synth.people`) and object photos
from scikit-image (:mod:`vision.synth.props`) are placed on procedural bank-branch backgrounds
(:mod:`vision.synth.scene`) by a deterministic camera script (:mod:`vision.synth.script`),
rendered (:mod:`vision.synth.frames`) and encoded like a DVR export with the ground truth next to
the files (:mod:`vision.synth.render`, :mod:`vision.synth.truth`). :mod:`vision.synth.demo` holds
the two-camera demo branch.
"""
