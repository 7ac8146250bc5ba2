"""Raw-tensor runners over ONNX Runtime and OpenVINO: ``(B, 3, H, W)`` in, head output out.

Neither imports torch. Both run one inference at a time with a fixed number of intra-op threads
(no inter-op parallelism), which suits a small box where video decoding shares the cores.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from vision.config.detector import Precision

logger = logging.getLogger(__name__)

MAX_COMPILED_SHAPES = 8
"""OpenVINO models compiled for distinct input shapes kept at once (oldest dropped first)."""


def default_threads() -> int:
    """Intra-op threads to use by default: all CPUs this process may run on but one.

    The spare core decodes the next video chunk while the network runs; on a 2-core box that
    means one inference thread, which also degrades least when other jobs share the cores.
    """
    return max(1, len(os.sched_getaffinity(0)) - 1)


class Runner(Protocol):
    """Runs the network on a letterboxed batch."""

    def __call__(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Raw head output ``(B, rows, anchors)`` for input ``(B, 3, H, W)``."""
        ...


class OnnxRunner:
    """ONNX Runtime session on the CPU execution provider.

    Args:
        model: ``.onnx`` file.
        threads: Intra-op threads.
    """

    def __init__(self, model: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle workers sleep instead of spinning: the decoder shares the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        logger.info("ONNX Runtime session on %s with %d threads", model, threads)

    def __call__(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Raw head output ``(B, rows, anchors)`` for input ``(B, 3, H, W)``."""
        out = self._session.run(None, {self._input: tensor})[0]
        return np.asarray(out, np.float32)


class PrecisionError(RuntimeError):
    """The CPU cannot run the network in the configured precision."""


def cpu_capabilities() -> list[str]:
    """What OpenVINO's CPU plugin can run here (``FP32``, ``BF16``, ``INT8``...)."""
    import openvino as ov

    return list(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


class OpenVinoRunner:
    """OpenVINO CPU inference, compiled once per input shape (static shapes run fastest).

    Args:
        model: ``.xml`` of an OpenVINO IR with dynamic input shape.
        threads: Inference threads.
        precision: Network arithmetic. OpenVINO would pick bf16 by itself on CPUs that have it;
            it is pinned here so that ``f32`` means the same detections on every machine.

    Raises:
        PrecisionError: ``bf16`` on a CPU without bf16 instructions (OpenVINO would silently
            run f32 there, and a nightly job would not get the speed it was configured for).
    """

    def __init__(self, model: Path, threads: int, precision: Precision = Precision.F32) -> None:
        import openvino as ov

        if precision is Precision.BF16:
            caps = cpu_capabilities()
            if "BF16" not in caps:
                raise PrecisionError(
                    "precision bf16 needs a CPU with bf16 instructions (AMX or AVX512_BF16); "
                    f"this CPU offers {', '.join(caps)}: set detector.precision to f32"
                )
        self._core = ov.Core()
        self._model = self._core.read_model(str(model))
        self._config = {
            "INFERENCE_NUM_THREADS": threads,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": precision.value,
        }
        self._requests: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        logger.info("OpenVINO model %s with %d threads in %s", model, threads, precision.value)

    def _request(self, shape: tuple[int, ...]) -> Any:
        request = self._requests.get(shape)
        if request is not None:
            self._requests.move_to_end(shape)
            return request
        model = self._model.clone()
        model.reshape({model.inputs[0]: list(shape)})
        request = self._core.compile_model(model, "CPU", self._config).create_infer_request()
        self._requests[shape] = request
        if len(self._requests) > MAX_COMPILED_SHAPES:
            self._requests.popitem(last=False)
        logger.debug("compiled OpenVINO model for input %s", shape)
        return request

    def __call__(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Raw head output ``(B, rows, anchors)`` for input ``(B, 3, H, W)``."""
        request = self._request(tuple(tensor.shape))
        out = request.infer({0: tensor})[0]
        return np.array(out, np.float32)  # copy: the request reuses its output buffer
