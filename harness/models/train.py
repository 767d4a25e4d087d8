"""Train, convert and record every model variant. Needs TensorFlow (the ``ml`` extra).

For each :class:`Variant`: fit its scaler on the calibration set (which holds the 8.13 g shock),
train the float classifier on scaled windows, convert to a float ``.tflite`` and a full-integer
INT8 ``.tflite`` (int8 input and output; post-training quantization with the calibration set as
representative data, or quantization-aware training), score both with the TFLite Micro references
on the held-out set and write ``<name>.json``.

Determinism: ``tf.keras.utils.set_random_seed``, ``enable_op_determinism``, one thread, data
from a seeded generator, and the seed re-set before each variant so that ``--only NAME`` makes the
same files as a full run - on the same machine. Another CPU gives other bytes (harness.models.
determinism); the metadata records the training fingerprint that decides it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from harness.errors import ConfigError
from harness.models.architecture import ArchitectureConfig, build_classifier
from harness.models.dataset import CONTAINER_SENSOR, WATCHED_CLASSES, Dataset, DatasetConfig, make_dataset
from harness.models.determinism import training_fingerprint
from harness.models.evaluate import evaluate_reference
from harness.models.metadata import (FLOAT_SUFFIX, INT8_SUFFIX, JSON_SUFFIX, ModelMetadata,
                                     sha256_file, write_metadata)
from harness.models.references import FloatReference, HostInt8Reference
from harness.models.validate import validate_model
from harness.quant.metrics import DEFAULT_BAND_G
from harness.models.variants import DEFAULT_SEED, VARIANTS, Variant

@dataclass(frozen=True)
class TrainConfig:
    seed: int = DEFAULT_SEED
    # The defect feature is found late: at 60 epochs the float model sat at ~75 % on normal vs
    # pre-failure, at 120 it reaches ~97 %.
    epochs: int = 120
    qat_epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    qat_learning_rate: float = 1e-3
    architecture: ArchitectureConfig = ArchitectureConfig()

    def to_dict(self) -> dict:
        return asdict(self)


def import_tensorflow():
    """TensorFlow with tf-keras (tfmot 0.8.1 needs Keras 2), deterministic and single-threaded."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ConfigError("training needs TensorFlow: pip install -e '.[ml]' "
                          "(tensorflow 2.21, tf-keras 2.21, tensorflow-model-optimization 0.8.1)"
                          ) from e
    # tf-keras: "tf_keras.api._v2.keras"; Keras 3 (TensorFlow imported before the variable was
    # set, or tf-keras missing): "keras._tf_keras.keras", which tfmot 0.8.1 cannot wrap.
    if not tf.keras.__name__.startswith("tf_keras"):
        raise ConfigError("tf.keras is Keras 3; set TF_USE_LEGACY_KERAS=1 before importing "
                          "TensorFlow and install tf-keras")
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised in this process; the first setting stays
    tf.config.experimental.enable_op_determinism()
    return tf


def library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for dist in ("tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy",
                 "tflite-micro", "tinyml-hil"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


# --- conversion ---------------------------------------------------------------------------

def _concrete_function(tf, model, input_shape):
    """Batch fixed at 1: a dynamic batch makes RESHAPE need SHAPE/STRIDED_SLICE/PACK ops."""
    spec = tf.TensorSpec([1, *input_shape], tf.float32, name="window")
    return tf.function(lambda window: model(window, training=False)).get_concrete_function(spec)


def convert_float(tf, model, input_shape) -> bytes:
    function = _concrete_function(tf, model, input_shape)
    return tf.lite.TFLiteConverter.from_concrete_functions([function], model).convert()


def convert_int8(tf, model, input_shape, representative_scaled: np.ndarray,
                 activations: str = "int8") -> bytes:
    """Full-integer INT8, int8 input and output. For a QAT model the fake-quant ranges decide;
    for a float model the input range is min/max over ``representative_scaled``.

    ``activations="int16"``: TFLite's 16x8 mode (int16 activations, int8 weights, int64 biases),
    int16 input and output with zero point 0; the input scale is max(|min|, |max|) / 32767."""
    if activations not in ("int8", "int16"):
        raise ConfigError(f"activations must be int8 or int16, got {activations!r}")
    function = _concrete_function(tf, model, input_shape)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative_dataset():
        for window in representative_scaled:
            yield [window[None].astype(np.float32)]

    converter.representative_dataset = representative_dataset
    if activations == "int16":
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        converter.inference_input_type = tf.int16
        converter.inference_output_type = tf.int16
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


# --- training -----------------------------------------------------------------------------

def _fit(tf, model, train_x, train_y, val_x, val_y, epochs, batch_size, learning_rate):
    # Cosine decay to zero: BatchNorm's moving statistics settle with the weights, so the last
    # epoch (the one exported) is stable in inference mode; a constant rate left it oscillating.
    steps = epochs * -(-len(train_x) // batch_size)
    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(optimizer=tf.keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_x, train_y, validation_data=(val_x, val_y), epochs=epochs,
                        batch_size=batch_size, shuffle=True, verbose=0)
    return {k: round(float(v[-1]), 6) for k, v in history.history.items()}


@dataclass
class TrainedFiles:
    int8_path: Path
    float_path: Path
    json_path: Path
    metadata: ModelMetadata
    seconds: float
    keras_float_model: object = None    # the Keras model behind the float .tflite


def _float_key(variant: Variant) -> tuple:
    return variant.scaler, tuple(sorted(variant.scaler_params.items()))


def train_variant(variant: Variant, dataset: Dataset, out_dir: str | Path,
                  config: TrainConfig = TrainConfig(), tf=None,
                  log: Callable[[str], None] = lambda message: None,
                  float_cache: dict | None = None) -> TrainedFiles:
    """Train and convert one variant. ``float_cache`` (scaler key -> (weights, history)) lets a QAT
    variant start from the float model its PTQ sibling trained in the same run; training is
    deterministic, so this only saves time (``--only minmax_qat`` retrains the same weights)."""
    from harness.quant.scalers import make_scaler

    tf = tf or import_tensorflow()
    started = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tf.keras.utils.set_random_seed(config.seed)

    scaler = make_scaler(variant.scaler, **variant.scaler_params).fit(dataset.calibration_g)
    channels = scaler.output_channels
    input_shape = (dataset.window_len, channels)

    def scaled(windows_g):
        return scaler.transform(windows_g).astype(np.float32)

    train_x, val_x = scaled(dataset.train.windows_g), scaled(dataset.val.windows_g)
    train_y, val_y = dataset.train.labels, dataset.val.labels
    representative = scaled(dataset.calibration_g)

    model = build_classifier(tf, dataset.window_len, channels, len(dataset.classes),
                             config.architecture)
    key = _float_key(variant)
    if float_cache is not None and key in float_cache:
        weights, history = float_cache[key]
        model.set_weights(weights)
        log(f"{variant.name}: float model reused from the same scaler's PTQ variant")
    else:
        history = _fit(tf, model, train_x, train_y, val_x, val_y, config.epochs,
                       config.batch_size, config.learning_rate)
        if float_cache is not None:
            float_cache[key] = (model.get_weights(), history)
        log(f"{variant.name}: float training done ({history})")
    export_model = float_model = model
    if variant.method == "qat":
        import tensorflow_model_optimization as tfmot
        # Re-seed: the fine-tuning must not depend on whether the float model was just trained
        # (--only minmax_qat) or taken from float_cache (a full run).
        tf.keras.utils.set_random_seed(config.seed + 1)
        qat_model = tfmot.quantization.keras.quantize_model(model)
        history_qat = _fit(tf, qat_model, train_x, train_y, val_x, val_y, config.qat_epochs,
                           config.batch_size, config.qat_learning_rate)
        history = {"float": history, "qat": history_qat}
        log(f"{variant.name}: QAT fine-tuning done ({history_qat})")
        # The float .tflite stays the float model QAT started from: float vs INT8 then reads as
        # "what float had, what INT8 keeps". The QAT weights run without fake-quant are no
        # reference: adapted to coarse inputs, they lose pre-failure in float (0.54 recall, seen).
        export_model = qat_model
    elif variant.method != "ptq":
        raise ConfigError(f"variant {variant.name}: method must be ptq or qat, got {variant.method}")
    if variant.method == "qat" and variant.activations != "int8":
        raise ConfigError(f"variant {variant.name}: QAT here fake-quantizes for int8 activations only")

    int8_path = out_dir / f"{variant.name}{INT8_SUFFIX}"
    float_path = out_dir / f"{variant.name}{FLOAT_SUFFIX}"
    json_path = out_dir / f"{variant.name}{JSON_SUFFIX}"
    float_path.write_bytes(convert_float(tf, float_model, input_shape))
    int8_path.write_bytes(convert_int8(tf, export_model, input_shape, representative,
                                       variant.activations))

    info = validate_model(int8_path, int8=True, scaler=scaler, window_len=dataset.window_len)
    validate_model(float_path, int8=False, scaler=scaler, window_len=dataset.window_len)
    held_out = dataset.held_out
    accuracy = {
        "float": evaluate_reference(FloatReference(float_path), scaler, held_out.windows_g,
                                    held_out.labels, dataset.classes),
        "int8": evaluate_reference(HostInt8Reference(int8_path), scaler, held_out.windows_g,
                                   held_out.labels, dataset.classes),
    }
    metadata = ModelMetadata(
        name=variant.name,
        description=variant.description,
        classes=list(dataset.classes),
        scaler=scaler.export(),
        window={"length": dataset.window_len, "hop": dataset.window_len, "rate_hz": dataset.rate_hz,
                "channels": int(dataset.calibration_g.shape[-1])},
        data={"synthetic": "container"},
        sensor=dict(CONTAINER_SENSOR, rate_hz=float(dataset.rate_hz)),
        watched_classes=list(WATCHED_CLASSES),
        band_g=list(DEFAULT_BAND_G),   # harness.quant.metrics
        expectations={"verdict": variant.expect[0], "input_verdict": variant.expect[1]},
        input=info.input.to_dict(),
        output=info.output.to_dict(),
        ops=list(info.ops),
        training={"seed": config.seed, "method": variant.method, "scaler": variant.scaler,
                  "activations": variant.activations,
                  "scaler_params": dict(variant.scaler_params), "config": config.to_dict(),
                  "dataset": dataset.config.to_dict(), "final_history": history,
                  "parameters": int(model.count_params()),
                  # byte identity with another run holds only where this matches (determinism.py)
                  "fingerprint": training_fingerprint()},
        calibration=dataset.calibration_summary(),
        accuracy=accuracy,
        held_out={"seed": dataset.config.held_out_seed, "windows": int(len(held_out.labels)),
                  "per_class": int(dataset.config.held_out_per_class)},
        versions=library_versions(),
        files={"int8": {"name": int8_path.name, "sha256": sha256_file(int8_path),
                        "bytes": int8_path.stat().st_size},
               "float": {"name": float_path.name, "sha256": sha256_file(float_path),
                         "bytes": float_path.stat().st_size}},
    )
    write_metadata(metadata, json_path)
    seconds = time.monotonic() - started
    log(f"{variant.name}: wrote {int8_path.name} ({int8_path.stat().st_size} B), "
        f"{float_path.name}, {json_path.name} in {seconds:.1f} s; held-out accuracy float "
        f"{accuracy['float']['overall']:.3f}, int8 {accuracy['int8']['overall']:.3f}")
    return TrainedFiles(int8_path, float_path, json_path, metadata, seconds, float_model)


def select_variants(names: list[str] | None) -> list[Variant]:
    if not names:
        return list(VARIANTS.values())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ConfigError(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    return [VARIANTS[n] for n in names]


def train_models(out_dir: str | Path, names: list[str] | None = None,
                 config: TrainConfig = TrainConfig(), dataset_config: DatasetConfig | None = None,
                 log: Callable[[str], None] = lambda message: None) -> list[TrainedFiles]:
    """Train the named variants (all by default) into ``out_dir``."""
    variants = select_variants(names)
    tf = import_tensorflow()
    dataset = make_dataset(dataset_config or DatasetConfig(seed=config.seed))
    log(f"dataset: {dataset.describe()}")
    float_cache: dict = {}
    return [train_variant(v, dataset, out_dir, config, tf=tf, log=log, float_cache=float_cache)
            for v in variants]
