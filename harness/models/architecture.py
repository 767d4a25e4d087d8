"""The classifier: a tiny 1-D CNN over 3-axis windows, written with 2-D layers.

``(window_len, channels)`` is reshaped to ``(window_len, 1, channels)`` and convolved with
``(k, 1)`` kernels: tensorflow-model-optimization 0.8.1 cannot quantize Conv1D, and the converter
turns Conv1D into EXPAND_DIMS + CONV_2D anyway. Every layer maps to one op of
:data:`harness.models.validate.SUPPORTED_OPS` after conversion:

    Reshape -> RESHAPE, Conv2D + BatchNorm + ReLU (folded) -> CONV_2D, MaxPooling2D -> MAX_POOL_2D,
    GlobalAveragePooling2D -> MEAN, Dense -> FULLY_CONNECTED, Softmax -> SOFTMAX

Two convolutions are enough: the first is a bank of band-pass filters, ReLU + pooling turn it into
band energies, the second mixes them; the pre-failure tone is a band-energy difference.
About 3k parameters; the INT8 ``.tflite`` is about 8 KB.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ArchitectureConfig:
    filters1: int = 16
    kernel1: int = 33        # 20 ms at 1.6 kHz: narrow enough in frequency to pick out the defect
    filters2: int = 16
    kernel2: int = 5
    pool: int = 8

    def to_dict(self) -> dict:
        return asdict(self)


def build_classifier(tf, window_len: int, channels: int, num_classes: int,
                     config: ArchitectureConfig = ArchitectureConfig()):
    """A Keras (tf-keras) model: float input (window_len, channels) -> softmax over classes.

    ``tf`` is the TensorFlow module, passed in so this module imports without TensorFlow.
    """
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=(window_len, channels), name="window")
    x = layers.Reshape((window_len, 1, channels), name="to_2d")(inputs)
    # BatchNorm lets the first filters learn whatever the scaler's output range is (min-max with an
    # outlier leaves the normal band in a sliver of [0, 1]); the converter folds it into CONV_2D.
    x = layers.Conv2D(config.filters1, (config.kernel1, 1), padding="same", name="conv1")(x)
    x = layers.BatchNormalization(name="bn1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.MaxPooling2D((config.pool, 1), name="pool1")(x)
    x = layers.Conv2D(config.filters2, (config.kernel2, 1), padding="same", activation="relu",
                      name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="mean")(x)
    x = layers.Dense(num_classes, name="logits")(x)
    outputs = layers.Softmax(name="probs")(x)
    return tf.keras.Model(inputs, outputs, name="vibration_classifier")
