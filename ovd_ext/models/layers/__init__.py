"""Reusable layers."""
from .clip_soft_teacher import CLIPSoftLabelTeacher
from .semantic_branch import SemanticBranch
from .text_classifier import (EmbeddingDimMismatchError,
                              TextEmbeddingClassifier, check_embedding_dim)

__all__ = ['CLIPSoftLabelTeacher', 'SemanticBranch',
           'EmbeddingDimMismatchError', 'TextEmbeddingClassifier',
           'check_embedding_dim']
