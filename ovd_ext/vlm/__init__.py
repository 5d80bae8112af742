"""The one door to CLIP (open_clip) for every method in ovd_ext.

Build a model from an open_clip architecture name and a LOCAL checkpoint
file, then encode text (prompt ensembles), whole images, image crops, dense
feature maps and regions (RoIAlign + the model's own pooling head)::

    from ovd_ext.vlm import build_clip, encode_text, encode_regions
    clip = build_clip('RN50-quickgelu', 'checkpoints/clip/RN50.pt')
    text = encode_text(clip, ['cat', ['sofa', 'couch']], templates='short')

Importing this package registers the configs in ``model_configs/`` with
open_clip (e.g. ``ovd-tiny-vit``, ``ovd-tiny-rn``).
"""
from .builder import (CLIPWrapper, MODEL_CONFIG_DIR, build_clip,
                      how_to_obtain, load_clip_weights,
                      missing_checkpoint_message,
                      register_model_configs)
from .class_names import (ClassList, clean_name, from_dataset_class,
                          from_json, from_names, from_text_file)
from .crops import crop_bounds, encode_crops, scale_boxes
from .dense import (attention_pool, default_roi_size, dense_features,
                    encode_regions, pool_regions, region_head)
from .image import encode_image, preprocess_images, resize_normalize
from .prompts import IMAGENET80, SHORT, TEMPLATE_SETS, get_templates
from .text import embed_vocabulary, encode_prompts, encode_text
from .vocabulary import load_class_embeddings, save_class_embeddings

CUSTOM_MODELS = register_model_configs(MODEL_CONFIG_DIR)

__all__ = [
    'CLIPWrapper', 'MODEL_CONFIG_DIR', 'CUSTOM_MODELS', 'build_clip',
    'how_to_obtain', 'load_clip_weights', 'missing_checkpoint_message',
    'register_model_configs', 'ClassList', 'clean_name',
    'from_dataset_class', 'from_json', 'from_names', 'from_text_file',
    'crop_bounds', 'encode_crops', 'scale_boxes', 'attention_pool',
    'default_roi_size', 'dense_features', 'encode_regions', 'pool_regions',
    'region_head', 'encode_image', 'preprocess_images', 'resize_normalize',
    'IMAGENET80', 'SHORT', 'TEMPLATE_SETS', 'get_templates',
    'embed_vocabulary', 'encode_prompts', 'encode_text',
    'load_class_embeddings', 'save_class_embeddings',
]
