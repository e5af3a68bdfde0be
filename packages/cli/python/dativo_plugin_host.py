"""Runs a Dativo v1 Python reader for Dativo.

    python3 dativo_plugin_host.py <check|discover|read> <plugin file> <class name>

The job's `source:` section arrives as JSON on stdin. Messages go to stdout, one JSON object per
line: {"type": "records", "records": [...]} per batch the reader yields (read),
{"type": "check", "success": bool, "message": str} (check) or {"type": "discover", "objects": [...]}
(discover), then {"type": "done"}; on a failure {"type": "error", "error": <exception type>,
"message": ..., "traceback": ...} and exit code 1. Values JSON cannot hold exactly are written as
text: datetimes and dates in ISO 8601, decimals exactly, integers beyond 2^53 as digits, NaN and
infinities by name, bytes as base64. Anything the reader prints or logs goes to stderr.
"""

import base64
import datetime
import decimal
import importlib.util
import json
import math
import os
import sys
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Imported before the plugin, so a plugin that puts another `dativo_ingest` on sys.path still gets these.
import dativo_ingest.plugins  # noqa: E402,F401
import dativo_ingest.validator  # noqa: E402,F401

OUT = sys.stdout
# The reader's own prints must not mix with the protocol.
sys.stdout = sys.stderr


class SourceConfig(dict):
    """The job's `source:` with attribute access, as v1's SourceConfig offered (missing keys are None)."""

    def __getattr__(self, name):
        return self.get(name)


def encode(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, set):
        return list(value)
    return str(value)


SAFE_INT = 2**53


def plain(value):
    """Values of a record that JSON numbers would change: big integers and non-finite floats become text."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -SAFE_INT <= value <= SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else ("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def type_of(value):
    """The Dativo type name of one Python value (None when it says nothing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, datetime.datetime):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, (dict, list, tuple)):
        return "json"
    return "string"  # text, decimals, UUIDs and bytes (sent as base64 text)


def sample_columns(reader):
    """Columns (name and type) of the records in the first batch `extract()` yields, in first-seen order."""
    seen = {}
    for batch in reader.extract(state_manager=None):
        for record in batch:
            for key, value in dict(record).items():
                kinds = seen.setdefault(str(key), set())
                kind = type_of(value)
                if kind:
                    kinds.add(kind)
        break
    columns = []
    for name, kinds in seen.items():
        if kinds == {"int64", "float64"}:
            kind = "float64"
        elif len(kinds) == 1:
            kind = next(iter(kinds))
        else:
            kind = "string"
        columns.append({"name": name, "type": kind})
    return columns


def emit(message):
    OUT.write(json.dumps(message, default=encode, allow_nan=False))
    OUT.write("\n")
    OUT.flush()


def main():
    mode, path, class_name = sys.argv[1:4]
    config = SourceConfig(json.load(sys.stdin))
    spec = importlib.util.spec_from_file_location("dativo_user_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    reader_class = getattr(module, class_name, None)
    if reader_class is None:
        raise AttributeError(f"{path} has no class {class_name}")
    reader = reader_class(config)
    if mode == "check":
        result = reader.check_connection()
        emit({"type": "check", "success": bool(getattr(result, "success", True)), "message": str(getattr(result, "message", "") or "")})
    elif mode == "discover":
        result = reader.discover()
        objects = list(getattr(result, "objects", None) or [])
        if not objects:
            # The reader offers no description: its columns are those of the first batch it yields.
            objects = [{"name": "records", "columns": sample_columns(reader), "sampled": True}]
        emit({"type": "discover", "objects": plain(objects)})
    else:
        for batch in reader.extract(state_manager=None):
            if isinstance(batch, dict):
                raise TypeError("extract() must yield batches (lists) of records, not single records")
            records = list(batch)
            for record in records:
                if not isinstance(record, dict):
                    raise TypeError(f"extract() yielded a {type(record).__name__} where a record (dict) was expected")
            emit({"type": "records", "records": [plain(record) for record in records]})
    emit({"type": "done"})


if __name__ == "__main__":
    try:
        main()
    except BaseException as error:  # reported to Dativo, which fails the run with it
        emit({"type": "error", "error": type(error).__name__, "message": str(error), "traceback": traceback.format_exc()})
        sys.exit(1)
