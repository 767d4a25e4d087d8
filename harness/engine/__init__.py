"""The inference engine on the host: build, run and compare against the TFLM oracle.

  harness.engine.build          host builds (shared library, ASan runner) under build/host/
  harness.engine.host           HostEngine: ctypes wrapper over the portable engine
  harness.engine.tflite_builder ModelBuilder: writes TFLite flatbuffers without TensorFlow
  harness.engine.random_models  seeded random INT8 models for bit-exactness tests and fuzz corpora
"""
