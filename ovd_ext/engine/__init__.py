"""Hooks."""
from .progress_hook import TestProgressBarHook
from .vocabulary_hook import VocabularyCheckHook, check_vocabulary

__all__ = ['TestProgressBarHook', 'VocabularyCheckHook', 'check_vocabulary']
