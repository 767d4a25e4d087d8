"""pytest plugin (``pytest11`` entry point ``hil``): options, a device marker and fixtures.

Thin by design: every fixture is one library call (harness.firmware.build, harness.targets).

    pytest --hil-target qemu --hil-board netduinoplus2
    pytest --hil-target pyocd --hil-inventory-board nucleo-1 [--hil-inventory boards.toml]
    pytest --hil-target pyocd --hil-inventory-board "nucleo-1,nucleo-2" -n 2   # one board per xdist worker
    pytest --hil-target pyocd --hil-board nucleo_f446re -n 2   # any free inventory boards of that kind
    [tool.pytest.ini_options] hil_target = "qemu"

``--hil-board`` is always the firmware board folder; with ``--hil-target pyocd``,
``--hil-inventory-board`` names inventory entries (harness.boards.selection), and the firmware
board folder comes from the entry (docs/real-boards.md).

Fixtures
  hil_firmware      session: the built (or reused, up-to-date) FirmwareImage
  hil_device        session: a RunningDevice (.target, .client, .boot_info), stopped at teardown
  hil_fresh_device  function: a RunningDevice of its own, for tests that break the device
Tests using a device fixture are marked ``hil_device`` automatically (deselect with -m "not hil_device").

Suite fixtures (harness.suite; options --hil-models, --hil-windows, --hil-sweep-windows, --hil-seed,
--hil-band, --hil-collapsed-bits, --hil-degraded-bits, --hil-collapsed-recall-drop,
--hil-degraded-recall-drop, --hil-window-timeout, --hil-inject-fault, --hil-suite-out, --hil-progress;
each also an ini hil_NAME)
  hil_suite_config    SuiteConfig from the options (a test may parametrize hil_windows / hil_sweep_windows)
  hil_pipeline_device session: a RunningDevice with the pipeline firmware (ENGINE=portable unless
                      --hil-engine names another engine), or the ELF --hil-firmware names (a team's
                      own application: --hil-firmware app.elf --hil-models path/to/bundle.json)
  hil_model_name      parametrized over --hil-models (all of fixtures/models by default) unless the
                      test parametrizes it itself
  hil_suite_model     the SuiteModel (bundle, scaler, fold, references, calibration set)
  hil_loaded_model    (SuiteModel, device ModelInfo): uploaded and SET_PREPROCESS with its fold
  hil_trace_factory   make(scenario, windows=None, seed=None) -> ScenarioWindows for the model
  hil_float_reference / hil_int8_reference   the model's host references
  hil_suite_result    the model's SuiteResult (run + report), computed once per session and config
  hil_extras          a list for pytest-html extras: ("png", name, bytes) or ("html", text)
"""

from __future__ import annotations

import pytest

OPTIONS = {
    # name: (default, help)
    "target": ("qemu", "target backend that runs the firmware (see harness.targets.available_targets())"),
    "board": ("", "firmware board folder (firmware/boards/) to build and run (default: netduinoplus2; "
              "with --hil-target pyocd: the inventory boards' firmware_board)"),
    "inventory_board": ("", "with --hil-target pyocd: boards.toml entry name(s), e.g. nucleo-1 or "
                        "\"nucleo-1,nucleo-2\" (default: any entry whose firmware_board is --hil-board)"),
    "engine": ("none", "inference engine compiled into the firmware: none, portable or tflm"),
    "tflm_dir": ("", "TFLite Micro tree (with its built library) for --hil-engine tflm "
                 "(default: $HIL_TFLM_DIR, else $TFLM_DIR)"),
    "inventory": ("", "board inventory for --hil-target pyocd (default: $HIL_INVENTORY or ./boards.toml)"),
    "lock_timeout": ("60", "seconds to wait for a free inventory board before failing (pyocd target)"),
    "place": ("", "with --hil-target labgrid: the place(s), e.g. p1 or \"p1,p2\" (default: $LG_PLACE)"),
    "firmware": ("", "an ELF to boot for the suite instead of building the pipeline firmware: a team's own "
                 "application linked with the HIL agent (docs/porting.md)"),
}
DEVICE_FIXTURES = ("hil_device", "hil_fresh_device", "hil_pipeline_device", "hil_loaded_model",
                   "hil_suite_result")


def _suite_options() -> dict:
    from harness.suite.config import OPTIONS as SUITE_OPTIONS
    return SUITE_OPTIONS


SUITE_SESSION = pytest.StashKey[object]()
EXTRAS = pytest.StashKey[list]()
PREEXISTING_PIDS = pytest.StashKey[frozenset]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware-in-the-loop harness")
    for name, (default, help_text) in {**OPTIONS, **_suite_options()}.items():
        group.addoption(f"--hil-{name.replace('_', '-')}", dest=f"hil_{name}", default=None,
                        help=f"{help_text} (default: ini hil_{name} or '{default}')")
        parser.addini(f"hil_{name}", help=help_text, default=default)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hil_device: needs a device (a started target running the firmware)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in DEVICE_FIXTURES):
            item.add_marker(pytest.mark.hil_device)


def hil_option(config: pytest.Config, name: str) -> str:
    """Command line first, then ini, then the default."""
    return config.getoption(f"hil_{name}") or config.getini(f"hil_{name}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """hil_model_name over --hil-models, unless the test parametrizes it (parametrize wins)."""
    if "hil_model_name" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if "hil_model_name" in names:
            return
    from harness.suite.config import model_names
    models = model_names(hil_option(metafunc.config, "models"), hil_option(metafunc.config, "models_dir") or None)
    metafunc.parametrize("hil_model_name", models, ids=models, scope="session")


def hil_target_setup(config: pytest.Config) -> tuple[str, str, dict]:
    """(target backend, firmware board folder, target options): harness.boards.selection."""
    from harness.boards.selection import target_setup
    from harness.errors import ConfigError
    try:
        setup = target_setup(hil_option(config, "target"), hil_option(config, "board") or None,
                             inventory_board=hil_option(config, "inventory_board") or None,
                             inventory=hil_option(config, "inventory") or None,
                             lock_timeout_s=float(hil_option(config, "lock_timeout")),
                             search_dir=config.rootpath, place=hil_option(config, "place") or None)
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from e
    return setup.target, setup.firmware_board, setup.options


def _build(config: pytest.Config, firmware_board: str, engine: str):
    """The firmware for ``engine`` (TFLM_DIR from --hil-tflm-dir or the environment for tflm)."""
    from harness.errors import ConfigError
    from harness.firmware.build import build_firmware, engine_make_vars
    try:
        make_vars = engine_make_vars(engine, hil_option(config, "tflm_dir") or None)
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from e
    return build_firmware(board=firmware_board, engine=engine, extra_make_vars=make_vars)


@pytest.fixture(scope="session")
def hil_firmware(pytestconfig: pytest.Config):
    _, firmware_board, _ = hil_target_setup(pytestconfig)
    return _build(pytestconfig, firmware_board, hil_option(pytestconfig, "engine"))


@pytest.fixture(scope="session")
def hil_device(pytestconfig: pytest.Config, hil_firmware):
    from harness.targets import running_device
    target, _, options = hil_target_setup(pytestconfig)
    with running_device(target, hil_firmware, **options) as device:
        yield device


@pytest.fixture
def hil_fresh_device(pytestconfig: pytest.Config, hil_firmware):
    from harness.targets import running_device
    target, _, options = hil_target_setup(pytestconfig)
    with running_device(target, hil_firmware, **options) as device:
        yield device


# --- the acceptance suite (harness.suite) ------------------------------------------------------

@pytest.fixture
def hil_windows(pytestconfig: pytest.Config) -> int:
    return int(hil_option(pytestconfig, "windows"))


@pytest.fixture
def hil_sweep_windows(pytestconfig: pytest.Config) -> int:
    return int(hil_option(pytestconfig, "sweep_windows"))


@pytest.fixture
def hil_suite_config(pytestconfig: pytest.Config, hil_windows, hil_sweep_windows):
    from dataclasses import replace

    from harness.errors import ConfigError
    from harness.suite.config import config_from_options
    try:
        config = config_from_options(lambda name: hil_option(pytestconfig, name))
        return replace(config, windows=int(hil_windows), sweep_windows=int(hil_sweep_windows))
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from e


@pytest.fixture(scope="session")
def hil_pipeline_device(pytestconfig: pytest.Config):
    from harness.targets import running_device
    target, firmware_board, options = hil_target_setup(pytestconfig)
    engine = hil_option(pytestconfig, "engine")
    elf = hil_option(pytestconfig, "firmware")
    if elf:
        from harness.firmware.build import image_from_elf
        image = image_from_elf(elf, firmware_board)
    else:
        image = _build(pytestconfig, firmware_board, engine if engine != "none" else "portable")
    with running_device(target, image, **options) as device:
        yield device


@pytest.fixture(scope="session")
def hil_suite_session(pytestconfig: pytest.Config, hil_pipeline_device):
    import os

    from harness.suite.run import Progress
    from harness.suite.session import SuiteSession
    # "yes": the terminal (pytest captures fd 2); "fd:N": a descriptor hil run duplicated from its
    # stderr before pytest started capturing
    choice = hil_option(pytestconfig, "progress").lower()
    if choice.startswith("fd:"):
        stream = os.fdopen(int(choice[3:]), "w", closefd=False)
    else:
        stream = pytestconfig.get_terminal_writer()
    progress = Progress(stream, enabled=choice in ("yes", "1", "true") or choice.startswith("fd:"))
    session = SuiteSession(hil_pipeline_device, progress,
                           target=hil_option(pytestconfig, "target"),
                           models_dir=hil_option(pytestconfig, "models_dir") or None)
    pytestconfig.stash[SUITE_SESSION] = session
    return session


@pytest.fixture
def hil_suite_model(pytestconfig: pytest.Config, hil_model_name: str):
    from harness.suite.suite_model import MODELS_DIR, load_suite_model
    return load_suite_model(hil_model_name, hil_option(pytestconfig, "models_dir") or MODELS_DIR)


@pytest.fixture
def hil_loaded_model(hil_pipeline_device, hil_suite_model, hil_suite_config):
    from harness.suite.run import deployed_pipeline
    return hil_suite_model, deployed_pipeline(hil_suite_model, hil_suite_config).deploy(hil_pipeline_device.client)


@pytest.fixture
def hil_trace_factory(hil_suite_model, hil_suite_config):
    from harness.suite.scenarios import SCENARIOS, make_scenario_windows
    config = hil_suite_config

    def make(scenario: str, windows: int | None = None, seed: int | None = None):
        return make_scenario_windows(scenario, hil_suite_model.dataset_config, windows or config.windows,
                                     config.seed + 1000 * SCENARIOS.index(scenario) if seed is None else seed,
                                     hil_suite_model.counts_per_g, config.sweep_peaks_g, config.sweep_windows)
    return make


@pytest.fixture
def hil_float_reference(hil_suite_model):
    return hil_suite_model.float_reference


@pytest.fixture
def hil_int8_reference(hil_suite_model):
    return hil_suite_model.int8_reference


@pytest.fixture
def hil_suite_result(hil_suite_session, hil_model_name: str, hil_suite_config):
    return hil_suite_session.result(hil_model_name, hil_suite_config)


@pytest.fixture
def hil_extras(request: pytest.FixtureRequest) -> list:
    return request.node.stash.setdefault(EXTRAS, [])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    extras = item.stash.get(EXTRAS, None)
    if report.when != "call" or not extras:
        return
    try:
        from pytest_html import extras as html_extras
    except ImportError:
        return
    import base64
    attached = list(getattr(report, "extras", []))
    for kind, *rest in extras:
        if kind == "png":
            name, png = rest
            attached.append(html_extras.png(base64.b64encode(png).decode("ascii"), name))
        elif kind == "html":
            attached.append(html_extras.html(rest[0]))
    report.extras = attached


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix, summary, postfix, session) -> None:
    """pytest-html: the suite's verdict table above the results."""
    suite = session.config.stash.get(SUITE_SESSION, None)
    if suite is not None and (suite.results or suite.aborted):
        from harness.suite.outputs import verdict_table_html
        prefix.append(verdict_table_html(suite.summaries()))


def pytest_sessionstart(session: pytest.Session) -> None:
    # children alive before this session are not its own: a session run inside another
    # (pytester's in-process runs) must not stop the outer session's targets at its end
    from harness.process import live_pids
    session.config.stash[PREEXISTING_PIDS] = frozenset(live_pids())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every target a fixture started is stopped by now; a live child process is a harness bug."""
    suite = session.config.stash.get(SUITE_SESSION, None)
    out_dir = hil_option(session.config, "suite_out")
    if suite is not None and out_dir:
        suite.write(out_dir)
    from harness.process import live_pids, terminate_all
    preexisting = session.config.stash.get(PREEXISTING_PIDS, frozenset())
    leftover = [pid for pid in live_pids() if pid not in preexisting]
    if leftover:
        terminate_all(keep=preexisting)
        session.config.get_terminal_writer().line(
            f"hil: target processes {leftover} were still running at session end (now stopped)", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
