"""The HIL acceptance suite as a library: scenario set, device and reference runs, comparisons,
collapse on the device's own input codes, verdicts with reasons, recommendations, the per-window
table and the report figures. The pytest plugin and ``hil run`` are thin layers over it."""

from harness.suite.analysis import ModelReport, Recommendation, analyze, output_figures, recommend
from harness.suite.collapse import codes_band_metrics, window_code_stats
from harness.suite.config import SuiteConfig, SuiteThresholds
from harness.suite.suite_model import SuiteModel, available_models, load_suite_model
from harness.suite.run import ModelRun, Progress, ScenarioRun, deployed_pipeline, run_model
from harness.suite.scenarios import REGIMES, SCENARIOS, ScenarioWindows, make_scenario_windows, scenario_set

__all__ = ["ModelReport", "ModelRun", "Progress", "REGIMES", "Recommendation", "SCENARIOS", "ScenarioRun",
           "ScenarioWindows", "SuiteConfig", "SuiteModel", "SuiteThresholds", "analyze", "available_models",
           "codes_band_metrics", "deployed_pipeline", "load_suite_model", "make_scenario_windows", "output_figures",
           "recommend", "run_model", "scenario_set", "window_code_stats"]
