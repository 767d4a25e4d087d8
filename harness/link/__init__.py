"""The link layer: COBS framing, the v1 frame codec, message types and the device client."""
