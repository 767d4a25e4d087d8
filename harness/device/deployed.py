"""What a run told the device: the model and its preprocessing fold, held in one object that puts
them on a device and puts them back after a reset (harness.device.recovery).

    from harness.device.deployed import DeployedPipeline
    pipeline = DeployedPipeline(model_bytes, fold, source="bundle m.json names m_int8.tflite",
                                timeout_s=config.window_timeout_s)
    info = pipeline.deploy(client)                 # ModelInfo; pipeline.model, pipeline.fold_sent
    result = pipeline.infer_windows(counts)        # input codes checked against the fold sent
    info = pipeline.redeploy(new_client)           # after target.reset_device()

The harness's firmware takes the model upload and the fold. A team's firmware (INFO CAPABILITIES)
without model upload runs the model linked into it, which must be this model (MODEL_CRC32);
without SET_PREPROCESS it runs its own preprocessing, so no fold is sent (``fold_sent`` None) and
no mirror check is made here (harness.suite.preprocessing judges it against the bundle's).
"""

from __future__ import annotations

import zlib

from harness.device.pipeline import ModelInfo, infer_windows, load_model, model_info
from harness.device.preprocess import as_fold
from harness.device.preprocess import set_preprocess
from harness.device.stream import DEFAULT_DEPTH, DEFAULT_TIMEOUT_S, InferenceResult
from harness.errors import ConfigError, TargetError
from harness.link.protocol import Capability


class DeployedPipeline:
    """The model (``model_bytes``) and the fold (a fold, its export, or a function that makes it
    when first needed; None: no preprocessing is sent) a run puts on a device; ``timeout_s``
    bounds every request of the deploy. After ``deploy``: ``client`` is the device's client,
    ``model`` its ModelInfo and ``fold_sent`` the fold the device runs (None when the firmware runs
    its own or none was given). ``source`` names the model in errors (a bundle, a path)."""

    def __init__(self, model_bytes: bytes, fold=None, *, source: str = "", timeout_s: float = DEFAULT_TIMEOUT_S):
        self.model_bytes = bytes(model_bytes)
        self._fold = fold
        self.source = source or f"a model of {len(self.model_bytes)} B"
        self.timeout_s = timeout_s
        self.client = None
        self.model: ModelInfo | None = None
        self.fold_sent = None
        self.deploys = 0

    @property
    def fold(self):
        """The fold to send (an AffineFold/ThresholdFold), or None."""
        if callable(self._fold):
            self._fold = self._fold()
        if self._fold is not None:
            self._fold = as_fold(self._fold)
        return self._fold

    def deploy(self, client) -> ModelInfo:
        """Put the model and the fold on the device behind ``client``; returns its ModelInfo."""
        self.client, self.model, self.fold_sent = client, None, None
        info = client.info(timeout_s=self.timeout_s)
        if info.serves(Capability.MODEL_UPLOAD):
            model = load_model(client, self.model_bytes, timeout_s=self.timeout_s)
        else:
            expected = zlib.crc32(self.model_bytes)
            if info.model_crc32 != expected:
                raise ConfigError(f"the firmware runs its linked model (CRC-32 {info.model_crc32:08x}, "
                                  f"{info.model_bytes} B) and cannot take an upload, but {self.source} "
                                  f"(CRC-32 {expected:08x}, {len(self.model_bytes)} B): build the firmware with "
                                  "that model, or judge the model it carries")
            model = model_info(client, self.timeout_s)
        if self._fold is not None and info.serves(Capability.SET_PREPROCESS):
            self.fold_sent = set_preprocess(client, self.fold, timeout_s=self.timeout_s)
        self.model = model
        self.deploys += 1
        return model

    def redeploy(self, client) -> ModelInfo:
        """After a reset (``client``: the new one): the device lost what it had been told; tell it again."""
        return self.deploy(client)

    @property
    def own_preprocessing(self) -> bool:
        """The firmware was given a fold but runs its own preprocessing (no SET_PREPROCESS)."""
        return self.model is not None and self._fold is not None and self.fold_sent is None

    def infer_windows(self, raw_counts, *, depth: int = DEFAULT_DEPTH, exclusive: bool | None = None,
                      timeout_s: float | None = None, on_window=None) -> InferenceResult:
        """harness.device.infer_windows on the deployed model, checked against the fold sent."""
        if self.client is None or self.model is None:
            raise TargetError("the pipeline is not deployed: call deploy(client) first")
        return infer_windows(self.client, raw_counts, model=self.model, mirror=self.fold_sent, depth=depth,
                             exclusive=exclusive, timeout_s=self.timeout_s if timeout_s is None else timeout_s,
                             on_window=on_window)
