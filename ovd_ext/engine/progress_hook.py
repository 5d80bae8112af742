"""A progress bar over the test loop (``make demo`` shows one per model)."""
from __future__ import annotations

from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from tqdm import tqdm


@HOOKS.register_module()
class TestProgressBarHook(Hook):
    """tqdm bar over the test dataloader's batches, titled ``title``."""

    priority = 'VERY_LOW'

    def __init__(self, title: str = 'test') -> None:
        self.title = title
        self._bar: tqdm | None = None

    def before_test(self, runner) -> None:
        total = len(runner.test_dataloader)
        self._bar = tqdm(total=total, desc=self.title, unit='batch',
                         leave=True, dynamic_ncols=True)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs=None) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
