"""The ``hil`` command line: a thin layer over the library."""
