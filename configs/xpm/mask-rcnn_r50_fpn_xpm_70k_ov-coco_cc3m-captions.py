# XPM student on OV-COCO with another caption source: any captioned-image
# json in COCO Captions format (`images` with file_name / id, `annotations`
# with image_id / caption), e.g. Conceptual Captions converted by
# tools/dataset_converters/cc3m_to_coco_captions.py (the paper's Open Images
# + Conceptual Captions setting uses CC3M this way). The pseudo labels are
# made on those images (their json is both the image set and the captions);
# the ground-truth half stays OV-COCO's base classes.
_base_ = './mask-rcnn_r50_fpn_xpm_70k_ov-coco.py'

captions_root = 'data/cc3m/'
captions_file = captions_root + 'annotations/cc3m_train_captions.json'
pseudo_labels = 'data/cc3m/pseudo_labels/xpm_cc3m_train.json'

pseudo_labeler = dict(captions=captions_file)
pseudo_label_io = dict(ann_file=captions_file,
                       img_dir=captions_root + 'images/',
                       out=pseudo_labels)
train_dataloader = dict(
    dataset=dict(datasets=[
        {{_base_.gt_dataset}},
        dict(type='CaptionPseudoLabelDataset',
             data_root='',
             ann_file=pseudo_labels,
             data_prefix=dict(img=captions_root + 'images/'),
             vocabulary={{_base_.caption_vocabulary}},
             filter_cfg=dict(filter_empty_gt=True, min_size=1),
             pipeline={{_base_.caption_pipeline}})
    ]))
