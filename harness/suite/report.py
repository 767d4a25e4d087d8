"""hil run's own reporters over a suite result: a self-contained HTML report (figures as base64
PNG) and a JUnit XML, one test case per check and model (harness.suite.checks).
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from xml.etree import ElementTree

from harness.suite.outputs import verdict_table_html


def model_summary_html(report) -> str:
    rows = "".join(f"<li>{html.escape(r)}</li>" for r in report.reasons)
    o = report.outputs
    def figure(value, digits):
        return "-" if value is None else f"{value:.{digits}f}"
    recalls = ", ".join(f"{c} {figure(o['recall_float'][c], 2)}/{figure(o['recall_device'][c], 2)}"
                        for c in o["recall_device"])
    return (f"<div><b>{html.escape(report.name)}</b> ({html.escape(report.scaler)}, {report.method}): "
            f"<b>{report.verdict}</b> (model {report.status}: input codes {report.input_verdict.status}, outputs "
            f"{report.output_status})<br>recall float/device: {recalls}; top-1 agreement with float "
            f"{figure(o['top1_agreement'], 3)}; MAE {figure(o['mae'], 4)}, RMSE {figure(o['rmse'], 4)}, "
            f"L2R {figure(o['l2r'], 4)}, cosine {figure(o['cosine'], 4)}; "
            f"device == host INT8: {o['exact_share']:.1%} exact, {o['within_1lsb_share']:.1%} within 1 LSB"
            f"<ul>{rows}</ul></div>")


def figures(result) -> list[tuple[str, bytes]]:
    from harness.suite.plots import FIGURES
    out = []
    for name, draw in FIGURES.items():
        png = draw(result.run, result.report)
        if png is not None:
            out.append((f"{result.report.name}: {name}", png))
    if result.report.layers is not None:
        out.append((f"{result.report.name}: SQNR per layer, device INT8 vs float (where in the network)",
                    result.report.layers.plot(f"{result.report.name}: error growth through the layers")))
    return out


def write_html(path: str | Path, summaries: list[dict], results: list, checks: list, title: str = "hil run",
               figures=figures) -> Path:
    """``figures(result)``: the (name, png) list of a model (harness.suite.api draws them in the
    background while the devices stream)."""
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
             f"<body style='font-family:sans-serif'><h1>{html.escape(title)}</h1>", verdict_table_html(summaries)]
    failed = [c for c in checks if not c.passed]
    parts.append(f"<h2>Checks</h2><p>{len(checks) - len(failed)} passed, {len(failed)} failed</p><ul>")
    for c in checks:
        colour = "#2e7d32" if c.passed else "#c62828"
        detail = "" if c.passed else ": " + html.escape("; ".join(c.failures))
        parts.append(f"<li style='color:{colour}'>{html.escape(c.model)}: {c.check} "
                     f"{'passed' if c.passed else 'FAILED'}{detail}</li>")
    parts.append("</ul>")
    for result in results:
        parts.append(f"<h2>{html.escape(result.report.name)}</h2>" + model_summary_html(result.report))
        for name, png in figures(result):
            parts.append(f"<figure><img alt='{html.escape(name)}' src='data:image/png;base64,"
                         f"{base64.b64encode(png).decode('ascii')}'><figcaption>{html.escape(name)}</figcaption></figure>")
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("".join(parts))
    return path


def write_junit(path: str | Path, checks: list, errors: list[tuple[str, str]] = (), name: str = "hil run") -> Path:
    """JUnit XML: a test case per (model, check); ``errors`` are (model, message) of runs that did
    not finish (an ABORTED model), reported as errors."""
    failures = sum(1 for c in checks if not c.passed)
    suite = ElementTree.Element("testsuite", name=name, tests=str(len(checks) + len(errors)),
                                failures=str(failures), errors=str(len(errors)),
                                time=f"{sum(c.seconds for c in checks):.3f}")
    for c in checks:
        case = ElementTree.SubElement(suite, "testcase", classname="hil.acceptance", name=f"test_{c.check}[{c.model}]",
                                      time=f"{c.seconds:.3f}")
        if not c.passed:
            ElementTree.SubElement(case, "failure", message=c.failures[0]).text = "\n".join(c.failures)
    for model, message in errors:
        case = ElementTree.SubElement(suite, "testcase", classname="hil.acceptance", name=f"run[{model}]")
        ElementTree.SubElement(case, "error", message=message).text = message
    root = ElementTree.Element("testsuites")
    root.append(suite)
    path = Path(path)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
