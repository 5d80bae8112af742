"""Image-caption pairs (COCO Captions format) with optional region proposals.

One item per image: its ``img_path``, size, ``captions`` (all of them) and,
with ``proposal_file``, its ``proposals`` / ``proposals_scores``: the pkl that
mmdet's ``DumpProposals`` metric writes (a dict keyed by ``<dir>/<file name>``
of ``{'bboxes', 'scores'}``), e.g. ``tools/test.py`` of an RPN config over the
caption images. :class:`~ovd_ext.datasets.transforms.RandomCaption` picks one
caption per visit. RegionCLIP pretraining (Sec. 3.1-3.2) reads this.
"""
from __future__ import annotations

import os.path as osp

import numpy as np
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.fileio import load

from .concept_pool import load_captions


def proposal_key(img_path: str) -> str:
    """``<parent dir>/<file name>``: how ``DumpProposals`` names an image."""
    return osp.join(osp.basename(osp.dirname(img_path)),
                    osp.basename(img_path))


@DATASETS.register_module()
class CaptionDataset(BaseDetDataset):
    """COCO-Captions json (``images`` + ``annotations`` with ``caption``).

    Args:
        ann_file, data_root, data_prefix (``img``), pipeline: as mmdet.
        proposal_file: ``DumpProposals`` pkl covering every image (a missing
            image is an error naming the file and the image).
        max_images: keep the first n images (quick runs).
    """

    METAINFO = {'classes': ()}

    def __init__(self, *args, max_images: int | None = None,
                 **kwargs) -> None:
        self.max_images = max_images
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        captions = load_captions(self.ann_file)
        data = load(self.ann_file)
        infos = []
        for img in data.get('images', []):
            caps = captions.get(img['id'])
            if not caps:
                continue
            infos.append(dict(
                img_id=img['id'], height=img['height'], width=img['width'],
                img_path=osp.join(self.data_prefix.get('img', ''),
                                  img['file_name']),
                captions=list(caps), instances=[]))
            if self.max_images and len(infos) >= self.max_images:
                break
        if not infos:
            raise ValueError(f'{self.ann_file}: no image has a caption')
        return infos

    def filter_data(self) -> list[dict]:
        return self.data_list

    def load_proposals(self) -> None:
        """Attach ``proposals`` (float32 ``[k, 4]`` xyxy) and
        ``proposals_scores`` to every image."""
        path = self.proposal_file
        if not osp.isabs(path) and self.data_root:
            path = osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'proposal file {path} not found (tools/test.py of an RPN '
                'config with a DumpProposals evaluator writes it)')
        table = load(path)
        for info in self.data_list:
            key = proposal_key(info['img_path'])
            if key not in table:
                raise KeyError(f'proposal file {path} has no proposals for '
                               f'image {key} (id {info["img_id"]}); it holds '
                               f'{len(table)} images')
            props = table[key]
            boxes = np.asarray(props['bboxes'], np.float32).reshape(-1, 4)
            scores = np.asarray(props['scores'], np.float32).reshape(-1)
            info['proposals'] = boxes
            info['proposals_scores'] = scores
