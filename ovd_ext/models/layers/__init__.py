"""Reusable layers."""
from .text_classifier import (EmbeddingDimMismatchError,
                              TextEmbeddingClassifier, check_embedding_dim)

__all__ = ['EmbeddingDimMismatchError', 'TextEmbeddingClassifier',
           'check_embedding_dim']
