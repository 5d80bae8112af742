# STAC's augmentation of pseudo-labelled images (Sohn et al. 2020, official
# AUGTYPE='strong'), from mmdet's transforms, for any STAC student config:
# one colour op of STAC's nine (RandAugment over identity, AutoContrast,
# Equalize, Solarize, Color, Contrast, Brightness, Sharpness, Posterize;
# magnitude drawn at random) and one global geometric op (translate x / y up
# to 10 %, rotate up to 30 deg, shear x / y up to 30 deg: mmdet's default
# magnitudes equal STAC's), in random order, then cutout (1-5 square patches
# of up to 0.2 of the image side, grey 128 as imgaug's Cutout). Geometric ops
# move boxes and masks with the image. Deliberate differences: STAC picks an
# in-box affine instead of the global one half of the time (mmdet has no
# box-level affine; global only), and a pseudo box that cutout erases to
# >= 90 % is dropped (mmdet's RandomErasing; STAC keeps it).
# Labeled images keep the detector's own (weak) pipeline: STAC's
# AUGTYPE_LAB='default'. `branch_field`: the MultiBranch branches the STAC
# detector reads (ovd_ext/models/detectors/stac.py).
branch_field = ['sup', 'unsup']
# STAC's RANDOM_COLOR_POLICY_OPS (ColorTransform = identity)
color_space = [
    [dict(type='ColorTransform')],
    [dict(type='AutoContrast')],
    [dict(type='Equalize')],
    [dict(type='Solarize')],
    [dict(type='Color')],
    [dict(type='Contrast')],
    [dict(type='Brightness')],
    [dict(type='Sharpness')],
    [dict(type='Posterize')],
]
# STAC's global AFFINE_TRANSFORM (one of)
geometric = [
    [dict(type='TranslateX')],
    [dict(type='TranslateY')],
    [dict(type='Rotate')],
    [dict(type='ShearX')],
    [dict(type='ShearY')],
]
strong_augmentation = [
    dict(
        type='RandomOrder',
        transforms=[
            dict(type='RandAugment', aug_space=color_space, aug_num=1),
            dict(type='RandAugment', aug_space=geometric, aug_num=1),
        ]),
    dict(type='RandomErasing', n_patches=(1, 5), ratio=(0, 0.2),
         squared=True, img_border_value=128),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
]
# the STAC detector's preprocessor: one DetDataPreprocessor per branch
stac_data_preprocessor = dict(
    type='MultiBranchDataPreprocessor',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32))
