"""XPM's cross-modal pseudo labels as a registered labeler (Sec. 3.2.2-3.2.3,
Fig. 2)::

    labeler = dict(
        type='XPMLabeler',
        teacher_config='configs/xpm/...xpm-teacher_ovd-shapes.py',
        teacher_checkpoint='work_dirs/.../iter_1100.pth',
        captions='data/ovd_shapes/annotations/captions_train.json',
        nouns='data/ovd_shapes/annotations/lvis_v1_train.json',
        vocabulary='data/ovd_shapes/embeddings/ovd-shapes-20_tiny-rn.npy')
    run_labeler(labeler, ann_file, img_dir, out)

Per image: the object nouns O_c of all its captions
(:class:`~ovd_ext.datasets.caption_nouns.CaptionNouns`), the teacher's RPN
proposals p(I) (its test-time RPN settings) and their embeddings
``h_Emb(f_r)`` (:meth:`region_embeddings` of the teacher's
``CLIPBBoxHead``), Eq. 2's aligned box per noun, and Eq. 4's pseudo mask from
the teacher's class-agnostic mask head at that box.

The output json's categories are the caption vocabulary V_C: the classes of
``vocabulary`` (the word embeddings ``v_o``, a class-embedding file of
``tools/embed_vocabulary.py``; CLIP text embeddings where the paper used
BERT), ids 1..|V_C| in file order. Each pseudo label carries ``bbox``, an RLE
``segmentation``, ``score`` (sigmoid of the alignment score), ``word_id``
(its index in V_C) and ``caption_words`` (the image's O_c as indices).

Counted, never fatal: images without a caption or whose captions name no
noun of the vocabulary (skipped: ``no_caption`` / ``no_object_word``),
nouns without a row in ``vocabulary`` (``word_without_embedding``, also
listed once when the labeler loads), aligned boxes whose mask is empty after
binarising (``empty_mask``). A captions file none of whose image ids is in
the image set is an error naming both files.
"""
from __future__ import annotations

import os.path as osp
from collections import Counter
from typing import Sequence

import numpy as np
import torch
from mmengine.logging import print_log

from ...datasets.caption_nouns import CaptionNouns
from ...datasets.concept_pool import load_captions
from ...utils.checks import check_number
from ..labeler import PSEUDO_LABELERS, BaseLabeler, SkipImage
from ..record import load_json, make_rows
from .alignment import (align_words, alignment_score, binarize_mask_logits,
                        encode_masks, paste_mask_logits)


@PSEUDO_LABELERS.register_module()
class XPMLabeler(BaseLabeler):
    """XPM pseudo masks for the caption objects of one image at a time.

    Args:
        ann_file: COCO json of the images to label.
        teacher_config, teacher_checkpoint: the teacher (Mask R-CNN with an
            embedding bbox head and a class-agnostic mask head).
        captions: COCO-Captions json whose image ids are those of
            ``ann_file``.
        nouns: the noun vocabulary (:mod:`ovd_ext.datasets.caption_nouns`).
        vocabulary: word embeddings (.npy + sidecar) of the caption
            vocabulary V_C; its class names are matched to ``nouns``.
        wordnet: WordNet filter of the nouns (``'auto'``, True, False).
        min_mask_pixels: a pseudo mask with fewer pixels is dropped.
        device, seed: torch device; seed set before the teacher is built.
        random_weights: build the teacher with random weights (tests).
    """

    def __init__(self, ann_file: str, teacher_config: str | None = None,
                 teacher_checkpoint: str | None = None,
                 captions: str | None = None,
                 nouns: str | Sequence | None = None,
                 vocabulary: str | None = None,
                 wordnet: bool | str = 'auto', min_mask_pixels: int = 1,
                 device: str = 'cpu', seed: int = 0,
                 random_weights: bool = False) -> None:
        super().__init__(ann_file)
        for key, value in (('teacher_config', teacher_config),
                           ('captions', captions), ('nouns', nouns),
                           ('vocabulary', vocabulary)):
            if not value:
                raise ValueError(f'XPMLabeler: {key} is required')
        if not teacher_checkpoint and not random_weights:
            raise ValueError('XPMLabeler: teacher_checkpoint is not set; give '
                             'the trained teacher, e.g. --cfg-options '
                             'pseudo_labeler.teacher_checkpoint=work_dirs/.../'
                             'iter_N.pth')
        self.teacher_config = teacher_config
        self.teacher_checkpoint = teacher_checkpoint
        self.captions_file, self.vocabulary = captions, vocabulary
        self.nouns_source = nouns if isinstance(nouns, str) else list(nouns)
        self.min_mask_pixels = check_number('min_mask_pixels',
                                            min_mask_pixels, 1, integer=True,
                                            where='XPMLabeler')
        self.seed = check_number('seed', seed, 0, integer=True,
                                 where='XPMLabeler')
        self.device, self.random_weights = device, bool(random_weights)
        from ...vlm.vocabulary import read_sidecar
        if not osp.isfile(vocabulary):
            raise FileNotFoundError(f'XPMLabeler: vocabulary {vocabulary} not '
                                    'found (make it with '
                                    'tools/embed_vocabulary.py)')
        self.words = list(read_sidecar(vocabulary)['classes'])
        self.nouns = CaptionNouns(nouns, wordnet)
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.missing_words = [n for n in self.nouns.names
                              if n not in self.word_index]
        self.captions = self._load_captions(captions, ann_file)
        self.model = self.pipeline = self.word_emb = None

    @staticmethod
    def _load_captions(path: str, ann_file: str) -> dict[int, list[str]]:
        caps = load_captions(path)
        images = {int(im['id']) for im in
                  load_json(ann_file, 'annotation file')['images']}
        unknown = sorted(set(caps) - images)
        if len(unknown) == len(caps):
            raise ValueError(f'XPMLabeler: no image id of the captions file '
                             f'{path} is in {ann_file} (e.g. {unknown[:3]})')
        if unknown:
            print_log(f'XPMLabeler: {len(unknown)} images of {path} are not '
                      f'in {ann_file} and are not used (e.g. {unknown[:3]})',
                      logger='current', level=30)
        return caps

    def header(self) -> dict:
        return {'type': type(self).__name__,
                'teacher_config': self.teacher_config,
                'teacher_checkpoint': self.teacher_checkpoint,
                'captions': self.captions_file, 'nouns': self.nouns_source,
                'wordnet': self.nouns.used_wordnet,
                'vocabulary': self.vocabulary,
                'min_mask_pixels': self.min_mask_pixels, 'seed': self.seed,
                'random_weights': self.random_weights,
                'categories': [{'id': i + 1, 'name': w}
                               for i, w in enumerate(self.words)]}

    def load(self) -> None:
        """The teacher and the word embeddings."""
        from ...vlm.vocabulary import load_class_embeddings
        from ..detector import inference_pipeline, load_two_stage_detector
        for key, path in (('teacher_config', self.teacher_config),
                          ('teacher_checkpoint', self.teacher_checkpoint)):
            if path is not None and not osp.isfile(path):
                raise FileNotFoundError(f'XPMLabeler: {key} {path} not found')
        torch.manual_seed(self.seed)
        self.model = load_two_stage_detector(
            self.teacher_config,
            None if self.random_weights else self.teacher_checkpoint,
            self.device)
        head = self.model.roi_head.bbox_head
        if not hasattr(head, 'region_embeddings'):
            raise TypeError(f'XPMLabeler: the teacher bbox head '
                            f'{type(head).__name__} has no embedding head '
                            '(use CLIPBBoxHead)')
        if not self.model.roi_head.with_mask:
            raise TypeError('XPMLabeler: the teacher has no mask head')
        self.pipeline = inference_pipeline(self.model.cfg)
        emb, _ = load_class_embeddings(self.vocabulary)
        self.word_emb = torch.nn.functional.normalize(
            torch.from_numpy(np.asarray(emb, np.float32)), dim=1).to(
                self.device)
        if self.missing_words:
            print_log(f'XPMLabeler: {len(self.missing_words)} nouns have no '
                      f'row in {self.vocabulary} and are left out where '
                      f'captions name them: {self.missing_words[:10]}',
                      logger='current', level=30)

    def caption_objects(self, image_info: dict) -> tuple[list[int], Counter]:
        """O_c as V_C indices, and the nouns dropped for lack of an
        embedding; raises :class:`SkipImage` when O_c is empty."""
        img_id = int(image_info['id'])
        where = f'image {img_id} ({image_info.get("file_name")})'
        caps = self.captions.get(img_id)
        if not caps:
            raise SkipImage('no_caption', f'{where} has no caption in '
                            f'{self.captions_file}')
        nouns = self.nouns(caps)
        ids = [self.word_index[n] for n in nouns if n in self.word_index]
        dropped = Counter(word_without_embedding=len(nouns) - len(ids))
        if not ids:
            raise SkipImage('no_object_word', f'{where}: no caption names a '
                            f'noun with an embedding ({caps[0]!r:.80})')
        return ids, dropped

    @torch.no_grad()
    def teacher_outputs(self, image: np.ndarray, word_ids: list[int]):
        """Aligned boxes (original pixels), alignment scores and pasted
        mask logits ``[W, H, W_img]`` for the words ``word_ids``."""
        from mmdet.structures.bbox import bbox2roi

        from ..detector import preprocess
        m = self.model
        batch = preprocess(m, self.pipeline, image)
        sample = batch['data_samples'][0]
        feats = m.extract_feat(batch['inputs'])
        props = m.rpn_head.predict(feats, [sample], rescale=False)[0]
        boxes = getattr(props.bboxes, 'tensor', props.bboxes).float()
        if boxes.shape[0] == 0:
            return None
        rh = m.roi_head
        rois = bbox2roi([boxes])
        f = rh.bbox_roi_extractor(feats[:rh.bbox_roi_extractor.num_inputs],
                                  rois)
        region = rh.bbox_head.region_embeddings(f)
        idx, score = align_words(region, self.word_emb[word_ids])
        chosen = boxes[idx]
        mask_logits = rh._mask_forward(feats, bbox2roi([chosen]))['mask_preds']
        sx, sy = sample.metainfo.get('scale_factor', (1.0, 1.0))[:2]
        h, w = image.shape[:2]
        orig = chosen.cpu() / chosen.new_tensor([sx, sy, sx, sy]).cpu()
        orig[:, 0::2] = orig[:, 0::2].clamp(0, w)
        orig[:, 1::2] = orig[:, 1::2].clamp(0, h)
        pasted = paste_mask_logits(mask_logits.cpu(), orig, h, w)
        return orig, score.cpu(), pasted

    def __call__(self, image_info: dict, image: np.ndarray
                 ) -> tuple[list[dict], Counter]:
        if self.model is None:
            raise RuntimeError('XPMLabeler.load() was not called')
        word_ids, dropped = self.caption_objects(image_info)
        out = self.teacher_outputs(image, word_ids)
        if out is None:
            dropped['no_proposal'] += len(word_ids)
            return [], dropped
        boxes, scores, logits = out
        masks = binarize_mask_logits(logits)
        keep = [k for k in range(len(word_ids))
                if int(masks[k].sum()) >= self.min_mask_pixels
                and float(boxes[k, 2] - boxes[k, 0]) > 0
                and float(boxes[k, 3] - boxes[k, 1]) > 0]
        dropped['empty_mask'] += len(word_ids) - len(keep)
        rows = make_rows(boxes[keep].tolist(),
                         [word_ids[k] + 1 for k in keep],
                         alignment_score(scores[keep]).tolist(),
                         masks=encode_masks(masks[keep]),
                         extras={'word_id': [word_ids[k] for k in keep],
                                 'caption_words': [list(word_ids)] * len(keep)})
        return rows, dropped
