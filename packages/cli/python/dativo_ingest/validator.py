"""v1's `dativo_ingest.validator`, as far as plugins import it. Dativo keeps incremental state
itself: readers receive no state manager (`state_manager=None`)."""


class IncrementalStateManager:
    """Placeholder for v1's state manager; Dativo passes `None` to `extract()`."""

    def __init__(self, *args, **kwargs):
        pass
