"""Model bundles: a team's INT8 model, its float twin, scaler, sensor, classes and data in one
JSON file (docs/bundle.md). ``harness.models.metadata.load_bundle`` reads and checks one;
``harness.bundle.make.make_bundle`` (``hil bundle``) writes one from its parts."""
