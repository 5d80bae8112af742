"""Hooks."""
from .vocabulary_hook import VocabularyCheckHook, check_vocabulary

__all__ = ['VocabularyCheckHook', 'check_vocabulary']
