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


class LockBusyError(HarnessError):
    """Another process holds a lock file (a build folder, a board). ``holder`` says who."""

    def __init__(self, message: str, holder: dict | None = None, lock_path: str | None = None):
        self.holder = holder or {}
        self.lock_path = lock_path
        super().__init__(message)


# --- targets and links --------------------------------------------------------------------
#
# As pyOCD does it, what went wrong talking to a device has four branches, each with its ``kind``
# (harness.device.recovery.fault_kind reads it, never the order of isinstance checks):
#   LinkError           "link lost"  the transport broke ("frame", "protocol": it carried garbage)
#   DeviceError         "refused"    the device answered with an ERROR reply (it keeps serving)
#   DeviceFaultError    "hardfault"  the device stopped serving on its own ("reboot": it reset)
#   DeviceTimeoutError  "no reply"   the device did not answer in time (a hang, as seen from the host)

class TargetError(HarnessError):
    """A target (emulator or board) could not be started, reached or stopped."""

    def __init__(self, message: str, target: str | None = None):
        self.target = target
        super().__init__(f"[{target}] {message}" if target else message)


class LinkError(HarnessError):
    """The serial link failed or carried something that is not a valid frame."""

    kind = "link lost"


class FrameError(LinkError):
    """A frame was rejected by the codec. ``code`` is the protocol's error code name."""

    kind = "frame"

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


class ProtocolError(LinkError):
    """A valid frame arrived that the protocol does not allow here (wrong type, bad payload)."""

    kind = "protocol"


class DeviceTimeoutError(HarnessError):
    """The device did not answer within its deadline."""

    kind = "no reply"

    def __init__(self, message: str, target: str | None = None, last_bytes: bytes = b""):
        self.target = target
        self.last_bytes = last_bytes
        seen = last_bytes[-32:].hex(" ") if last_bytes else "nothing"
        where = f"[{target}] " if target else ""
        super().__init__(f"{where}{message}; last bytes seen: {seen}")


class DeviceError(HarnessError):
    """The device answered with an error reply: it refused a request and keeps serving."""

    kind = "refused"

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


class DeviceFaultError(HarnessError):
    """The device stopped serving on its own. Raised as such: it reported a CPU fault (HardFault)
    and halted; ``registers`` holds the stacked frame it reported."""

    kind = "hardfault"

    def __init__(self, registers: dict[str, int] | None = None, message: str | None = None):
        self.registers = dict(registers or {})
        if message is None:
            regs = " ".join(f"{k}=0x{v:08x}" for k, v in self.registers.items())
            message = f"device HardFault: {regs}"
        super().__init__(message)


class DeviceRebootedError(DeviceFaultError):
    """The device sent BOOT while a request was outstanding: it reset on its own (watchdog,
    brown-out, a debugger) and lost that request and whatever it had been told."""

    kind = "reboot"

    def __init__(self, message: str):
        super().__init__(None, message)


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


class BundleError(ModelError):
    """A model bundle (docs/bundle.md) is invalid: ``path`` is the file, ``field`` the dotted
    field (``sensor.counts_per_g``, ``data.recordings[0].label_column``) that is wrong."""

    def __init__(self, message: str, path: str | None = None, field: str | None = None):
        self.field = field
        super().__init__(f"field '{field}' {message}" if field else message, path)


# --- on-device pipeline (harness.device) -----------------------------------------------------

class ModelRejectedError(DeviceError):
    """The device's engine refused a model (LOAD_END): ``status`` names the engine's hil_status and
    ``op_index``, ``tensor_index``, ``engine_detail``, ``needed``, ``given`` its hil_error_t fields
    (-1 / 0 where the device did not say)."""

    def __init__(self, code: int, code_name: str, detail: int = 0, text: str = "",
                 request: str | None = None, fields: dict | None = None):
        super().__init__(code, code_name, detail, text, request)
        fields = fields or {}
        self.status = str(fields.get("status", ""))
        self.op_index = int(fields.get("op", -1))
        self.tensor_index = int(fields.get("tensor", -1))
        self.engine_detail = int(fields.get("detail", 0))
        self.needed = int(fields.get("needed", 0))
        self.given = int(fields.get("given", 0))


class StreamError(HarnessError):
    """A stream of inferences stopped at window ``failed_index``; ``results`` (an InferenceResult)
    holds every result received before it (nothing already received is lost), ``error`` (also
    ``__cause__``) the reason. ``run``: the RecoveredRun (results, faulted windows, fault events)
    when harness.device.recovery ran the stream, else None."""

    def __init__(self, message: str, failed_index: int, results, error: BaseException | None = None,
                 run=None):
        self.failed_index = failed_index
        self.results = results
        self.error = error
        self.run = run
        super().__init__(message)


class DeviceLostError(StreamError):
    """The device stopped answering and could not be brought back (the reset failed, or window
    after window faulted again after a reset and a retry). ``run`` is the RecoveredRun of every
    window measured before it, with its fault events; ``results`` its InferenceResult. Raised
    again by the suite for one scenario, ``scenario_run`` is its ScenarioRun of those windows
    (harness.suite.run; None below the suite)."""

    def __init__(self, message: str, failed_index: int, run, error: BaseException | None = None,
                 scenario_run=None):
        super().__init__(message, failed_index, run.result, error, run)
        self.scenario_run = scenario_run


class PipelineMismatchError(HarnessError):
    """The device fed the model other input codes than the host mirror computes for the same raw
    window: a harness or firmware fault (preprocessing, its parameters, the transfer), not a
    model fault. ``result`` holds every result received; ``mismatches`` lists
    (window, element, device_code, host_code) for the first differences; ``recovered`` is the
    RecoveredRun (faulted windows marked) when harness.device.recovery ran the stream, else None."""

    def __init__(self, message: str, result=None, mismatches: list | None = None, count: int = 0,
                 recovered=None):
        self.result = result
        self.mismatches = mismatches or []
        self.count = count
        self.recovered = recovered
        super().__init__(message)


# --- real boards: inventory, locks, probes, ports -------------------------------------------------

class InventoryError(ConfigError):
    """The board inventory (boards.toml) is invalid. Names the file, the board and the key."""

    def __init__(self, message: str, path: str | None = None, board: str | None = None,
                 key: str | None = None):
        self.path = path
        self.board = board
        self.key = key
        where = [str(path)] if path else []
        if board is not None:
            where.append(f"board '{board}'")
        if key is not None:
            where.append(f"key '{key}'")
        super().__init__((", ".join(where) + ": " if where else "") + message)


class BoardError(TargetError):
    """A real board failed. Names the board, its probe UID and its serial port."""

    def __init__(self, message: str, board: str | None = None, probe_uid: str | None = None,
                 port: str | None = None):
        self.board = board
        self.probe_uid = probe_uid
        self.port = port
        facts = [f"board {board}" if board else "", f"probe {probe_uid}" if probe_uid else "",
                 f"port {port}" if port else ""]
        facts_text = ", ".join(f for f in facts if f)
        super().__init__(f"{message}" + (f" ({facts_text})" if facts_text else ""),
                         target=f"pyocd:{board}" if board else "pyocd")


class BoardBusyError(BoardError):
    """Another process holds the board's lock. ``holder`` says who (pid, host, command, since)."""

    def __init__(self, message: str, board: str | None = None, holder: dict | None = None,
                 lock_path: str | None = None):
        self.holder = holder or {}
        self.lock_path = lock_path
        super().__init__(message, board=board)


class ProbeNotFoundError(BoardError):
    """The debug probe is not connected (or was lost during the session)."""


class FlashError(BoardError):
    """Programming or verifying the firmware through the probe failed."""


class PortError(BoardError):
    """The board's serial port is missing, busy or cannot be found from the probe."""
