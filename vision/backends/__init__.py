"""Inference backends of the detectors.

``yolo_io`` letterboxes frames and decodes raw YOLO output with numpy/OpenCV; ``runtimes`` runs
ONNX Runtime and OpenVINO; ``torch_runner`` wraps ultralytics' own predictor; ``export`` makes
and caches the ONNX/OpenVINO files. Importing this package imports none of the runtimes.
"""
