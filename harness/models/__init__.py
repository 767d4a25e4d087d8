"""The models the harness tests, and the two references every device output is judged against.

* ``inspect`` / ``validate``: read a ``.tflite`` without TensorFlow; check ops, INT8-ness, scaler fit.
* ``references``: ``FloatReference`` and ``HostInt8Reference`` (TFLite Micro's reference kernels).
* ``metadata``: ``<name>.json`` beside each model; ``load_bundle`` checks files against it.
* ``dataset`` / ``architecture`` / ``train`` / ``variants``: how ``hil train`` makes the fixtures
  (training needs the ``ml`` extra; nothing else here does).
* ``evaluate``: accuracy per class, and the table of ``hil models --table``.
"""
