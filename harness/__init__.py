"""TinyML HIL harness: find where an INT8 pipeline on a Cortex-M4 collapses, and why.

Library first: everything the pytest plugin and the ``hil`` CLI do is a plain call here.
Layers (labgrid-style):
  harness.link      frames, codec and the request/response client over any pyserial URL
  harness.targets   where firmware runs (qemu, ...) - one registered module per backend
  harness.firmware  building the firmware image
  harness.signals   synthetic and field accelerometer traces
  harness.quant     scalers, TFLite INT8 math, collapse metrics
"""

from harness.errors import HarnessError

__version__ = "0.1.0"
__all__ = ["HarnessError", "__version__"]
