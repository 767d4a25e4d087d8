"""The inference engine on the host: build, run and compare against the TFLM oracle.

  harness.engine.build          host builds (shared library, ASan runner) under <build root>/host/
  harness.engine.host           HostEngine: ctypes wrapper over the portable engine
  harness.engine.tflite_builder ModelBuilder: writes TFLite flatbuffers without TensorFlow

Random models, the fuzz drivers and the QEMU self-test are test tooling that reads tests/: they
live in tests/support/engine_support/, outside the shipped package.
"""
