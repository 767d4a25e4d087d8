"""One exception tree for the whole harness.

Every error carries structured fields and a message that says what to check next
(port, log path, bytes seen, row and column). Raise with ``raise ... from e``.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""


# --- configuration and environment ------------------------------------------------------

class ConfigError(HarnessError):
    """An option, file or argument is invalid."""


class ToolMissingError(HarnessError):
    """A required external program is not installed."""

    def __init__(self, tool: str, package: str):
        self.tool = tool
        self.package = package
        super().__init__(f"{tool} not found on PATH; install the Debian package '{package}' "
                         f"(sudo apt-get install {package})")


class BuildError(HarnessError):
    """The firmware (or a host build of its C code) failed to build."""

    def __init__(self, message: str, log_path: str | None = None):
        self.log_path = log_path
        super().__init__(message + (f" (log: {log_path})" if log_path else ""))


# --- targets and links --------------------------------------------------------------------

class TargetError(HarnessError):
    """A target (emulator or board) could not be started, reached or stopped."""

    def __init__(self, message: str, target: str | None = None):
        self.target = target
        super().__init__(f"[{target}] {message}" if target else message)


class LinkError(HarnessError):
    """The serial link failed or carried something that is not a valid frame."""


class FrameError(LinkError):
    """A frame was rejected by the codec. ``code`` is the protocol's error code name."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


class ProtocolError(LinkError):
    """A valid frame arrived that the protocol does not allow here (wrong type, bad payload)."""


class DeviceTimeoutError(LinkError):
    """The device did not answer within its deadline."""

    def __init__(self, message: str, target: str | None = None, last_bytes: bytes = b""):
        self.target = target
        self.last_bytes = last_bytes
        seen = last_bytes[-32:].hex(" ") if last_bytes else "nothing"
        where = f"[{target}] " if target else ""
        super().__init__(f"{where}{message}; last bytes seen: {seen}")


class DeviceError(LinkError):
    """The device answered with an error reply."""

    def __init__(self, code: int, code_name: str, detail: int = 0, text: str = "",
                 request: str | None = None):
        self.code = code
        self.code_name = code_name
        self.detail = detail
        self.text = text
        self.request = request
        req = f" to {request}" if request else ""
        extra = f": {text}" if text else ""
        super().__init__(f"device refused{req}: {code_name} (code {code}, detail {detail}){extra}")


class DeviceFaultError(LinkError):
    """The device reported a CPU fault (HardFault) and halted."""

    def __init__(self, registers: dict[str, int]):
        self.registers = registers
        regs = " ".join(f"{k}=0x{v:08x}" for k, v in registers.items())
        super().__init__(f"device HardFault: {regs}")


# --- data and numbers ---------------------------------------------------------------------

class TraceError(HarnessError):
    """A trace or recording is invalid. Names the row and column where known."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None,
                 source: str | None = None):
        self.row = row
        self.column = column
        self.source = source
        where = []
        if source:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class ScalerError(HarnessError):
    """A scaler cannot be fitted or applied (zero range, unknown kind, ...)."""


class QuantizationError(HarnessError):
    """Quantization parameters or values are invalid."""


class ModelError(HarnessError):
    """A model file is invalid or outside what the harness supports."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)
