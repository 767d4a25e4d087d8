"""Make the tiny models the validation tests reject. Needs TensorFlow (the ml extra):

    TF_USE_LEGACY_KERAS=1 python tests/models/data/make_bad_models.py

* tanh_int8.tflite: full-integer INT8, input (1, 128, 3), but with a TANH op (not in the set).
* float_model.tflite: the same shape in float32 (a valid model, but not INT8).
Both are committed (a few KB); this script only documents how they were made.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent


def tiny_model(activation: str):
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input(shape=(128, 3), batch_size=1)
    x = tf.keras.layers.Reshape((128, 1, 3))(inputs)
    x = tf.keras.layers.Conv2D(4, (5, 1), activation=activation)(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    outputs = tf.keras.layers.Dense(3, activation="softmax")(x)
    return tf.keras.Model(inputs, outputs)


def main() -> None:
    rng = np.random.default_rng(0)
    model = tiny_model("tanh")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.normal(size=(1, 128, 3)).astype(np.float32)]
                                                for _ in range(8))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    (HERE / "tanh_int8.tflite").write_bytes(converter.convert())
    float_model = tiny_model("relu")
    (HERE / "float_model.tflite").write_bytes(
        tf.lite.TFLiteConverter.from_keras_model(float_model).convert())


if __name__ == "__main__":
    main()
