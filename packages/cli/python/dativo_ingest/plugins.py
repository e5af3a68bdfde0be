"""The plugin base classes of Dativo v1 (`dativo_ingest.plugins`), for v1 readers run by Dativo.

A reader subclasses BaseReader, receives the job's `source:` section as `source_config` (attribute
access: `source_config.files`, `source_config.engine`, `source_config.connection`…) and yields
batches of records (lists of dicts) from `extract()`.
"""

from abc import ABC, abstractmethod
from typing import Any, Dict, Iterator, List, Optional

PLUGIN_SDK_VERSION = "1.0.0"


class ConnectionTestResult:
    """The outcome of `check_connection()`."""

    def __init__(self, success: bool, message: str = "", error_code: Optional[str] = None, details: Optional[Dict[str, Any]] = None):
        self.success = success
        self.message = message
        self.error_code = error_code
        self.details = details or {}

    def to_dict(self) -> Dict[str, Any]:
        return {"success": self.success, "message": self.message, "error_code": self.error_code, "details": self.details}


class DiscoveryResult:
    """The outcome of `discover()`: the objects a source offers."""

    def __init__(self, objects: Optional[List[Dict[str, Any]]] = None, metadata: Optional[Dict[str, Any]] = None):
        self.objects = objects or []
        self.metadata = metadata or {}

    def to_dict(self) -> Dict[str, Any]:
        return {"objects": self.objects, "metadata": self.metadata}


class BaseReader(ABC):
    """A v1 custom reader: implement `extract()`."""

    __version__ = PLUGIN_SDK_VERSION

    def __init__(self, source_config: Any):
        self.source_config = source_config

    def check_connection(self) -> ConnectionTestResult:
        return ConnectionTestResult(True, "no connection check implemented")

    def discover(self) -> DiscoveryResult:
        return DiscoveryResult()

    @abstractmethod
    def extract(self, state_manager: Optional[Any] = None) -> Iterator[List[Dict[str, Any]]]:
        """Yields batches of records."""

    def get_total_records_estimate(self) -> Optional[int]:
        return None


class BaseWriter(ABC):
    """A v1 custom writer (not run by Dativo: write a sink connector instead)."""

    __version__ = PLUGIN_SDK_VERSION

    def __init__(self, asset_definition: Any, target_config: Any, output_base: str):
        self.asset_definition = asset_definition
        self.target_config = target_config
        self.output_base = output_base

    @abstractmethod
    def write_batch(self, records: List[Dict[str, Any]], file_counter: int) -> List[Dict[str, Any]]:
        """Writes a batch and returns metadata of the files written."""

    def commit_files(self, file_metadata: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {"status": "success", "files_added": len(file_metadata)}
