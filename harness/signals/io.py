"""Write and read traces as CSV or Parquet (chosen by file suffix; one registered pair each)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.errors import TraceError
from harness.signals.schema import validate_trace


def _write_csv(df: pd.DataFrame, path: Path):
    # float_format keeps full precision of g values without 17-digit noise
    df.to_csv(path, index=False, float_format="%.9g")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def _write_parquet(df: pd.DataFrame, path: Path):
    table_df = df.copy()
    table_df.attrs = {}
    import pyarrow as pa
    import pyarrow.parquet as pq
    table = pa.Table.from_pandas(table_df, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"hil_attrs"] = json.dumps(df.attrs).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    df = table.to_pandas()
    raw = (table.schema.metadata or {}).get(b"hil_attrs")
    if raw:
        df.attrs.update(json.loads(raw))
    return df


FORMATS = {".csv": (_write_csv, _read_csv), ".parquet": (_write_parquet, _read_parquet)}


def _format(path: Path):
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise TraceError(f"unknown trace format '{path.suffix}'; use one of "
                         f"{', '.join(sorted(FORMATS))}", source=str(path)) from None


def write_trace(df: pd.DataFrame, path) -> Path:
    """Validate and write; the suffix picks the format."""
    path = Path(path)
    writer, _ = _format(path)
    checked = validate_trace(df, source=str(path))
    checked.attrs = dict(df.attrs)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(checked, path)
    return path


def read_trace(path) -> pd.DataFrame:
    """Read and validate a trace written by ``write_trace`` (or any file in the schema)."""
    path = Path(path)
    _, reader = _format(path)
    if not path.is_file():
        raise TraceError("file not found", source=str(path))
    try:
        df = reader(path)
    except (OSError, ValueError) as e:
        raise TraceError(f"cannot read trace: {e}", source=str(path)) from e
    attrs = dict(df.attrs)
    checked = validate_trace(df, source=str(path))
    checked.attrs.update(attrs)
    checked.attrs.setdefault("source", str(path))
    return checked
