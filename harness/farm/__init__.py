"""A board farm on labgrid: the coordinator client the ``labgrid`` target uses, and a loopback
farm of emulated boards for tests (needs the ``farm`` extra: ``pip install 'tinyml-hil[farm]'``)."""
