"""The one door to CLIP (open_clip) for every method in ovd_ext.

Build a model from an open_clip architecture name and a LOCAL checkpoint
file, then encode text (prompt ensembles), whole images, image crops, dense
feature maps (ResNet ``layer3`` / ``layer4``, ViT tokens) and regions
(RoIAlign + the rest of the model's own image tower)::

    from ovd_ext.vlm import build_clip, encode_text, encode_regions
    clip = build_clip('RN50-quickgelu', 'checkpoints/clip/RN50.pt')
    text = encode_text(clip, ['cat', ['sofa', 'couch']], templates='short')

In a config, the same CLIP is an mmdet ``MODELS`` component::

    clip = dict(type='OpenCLIP', name='RN50-quickgelu',
                checkpoint='checkpoints/clip/RN50.pt',
                frozen=('image', 'text'))

This package imports nothing else of ``ovd_ext`` (tested).

Importing this package registers the configs in ``model_configs/`` with
open_clip (e.g. ``ovd-tiny-vit``, ``ovd-tiny-rn``).
"""
from .builder import (MODEL_CONFIG_DIR, build_clip, create_clip_model,
                      how_to_obtain, load_clip_weights,
                      missing_checkpoint_message,
                      register_model_configs)
from .class_names import (ClassList, clean_name, from_dataset_class,
                          from_json, from_names, from_text_file)
from .crops import crop_bounds, encode_crops, scale_boxes
from .dense import (DENSE_LAYERS, attention_pool, default_roi_size,
                    dense_features, dense_layer, dense_stride,
                    encode_regions, pool_regions, region_head,
                    vit_region_head)
from .image import encode_image, preprocess_images, resize_normalize
from .openclip import OpenCLIP, build_clip_from_cfg
from .prompts import IMAGENET80, SHORT, TEMPLATE_SETS, get_templates
from .regions import (REGION_MODES, multiscale_feature_embeddings,
                      pyramid_levels, region_embeddings,
                      shared_feature_embeddings)
from .text import embed_vocabulary, encode_prompts, encode_text
from .vocabulary import load_class_embeddings, save_class_embeddings
from .wrapper import TOWERS, CLIPWrapper
from .zero_shot import (RegionLabels, ZeroShotScorer, assign_labels,
                        class_probabilities, classify, clip_logit_scale,
                        combine_scales, zero_shot_logits)

CUSTOM_MODELS = register_model_configs(MODEL_CONFIG_DIR)

__all__ = [
    'CLIPWrapper', 'OpenCLIP', 'TOWERS', 'MODEL_CONFIG_DIR',
    'CUSTOM_MODELS', 'build_clip', 'build_clip_from_cfg',
    'create_clip_model',
    'how_to_obtain', 'load_clip_weights', 'missing_checkpoint_message',
    'register_model_configs', 'ClassList', 'clean_name',
    'from_dataset_class', 'from_json', 'from_names', 'from_text_file',
    'crop_bounds', 'encode_crops', 'scale_boxes', 'attention_pool',
    'DENSE_LAYERS', 'default_roi_size', 'dense_features', 'dense_layer',
    'dense_stride', 'encode_regions', 'pool_regions',
    'region_head', 'vit_region_head', 'encode_image', 'preprocess_images', 'resize_normalize',
    'IMAGENET80', 'SHORT', 'TEMPLATE_SETS', 'get_templates',
    'embed_vocabulary', 'encode_prompts', 'encode_text',
    'load_class_embeddings', 'save_class_embeddings',
    'REGION_MODES', 'multiscale_feature_embeddings', 'pyramid_levels',
    'region_embeddings', 'shared_feature_embeddings', 'RegionLabels',
    'ZeroShotScorer', 'assign_labels', 'class_probabilities', 'classify',
    'clip_logit_scale', 'combine_scales', 'zero_shot_logits',
]
