"""Model bundles: a team's INT8 model, its float twin, scaler, sensor, classes and data in one
JSON file (docs/bundle.md). ``harness.bundle.load.load_bundle`` reads and checks one (the JSON itself is
``harness.models.metadata.ModelMetadata``);
``harness.bundle.make.make_bundle`` (``hil bundle``) writes one from its parts."""
