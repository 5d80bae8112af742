"""Drawings of pseudo labels (and the target ground truth) for a look."""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

from ..utils.images import read_image
from .quality import load_coco


def draw_pseudo_labels(pl_json, img_dir: str, out_dir: str, num: int = 8,
                       gt_json=None, targets: Sequence[str] | None = None,
                       min_score: float = 0.0) -> list[str]:
    """Draw the pseudo labels (and, if ``gt_json`` is given, the target
    ground truth in thin green) of the first ``num`` images that have pseudo
    labels; writes ``<out_dir>/<image id>.png`` and returns the paths."""
    import cv2
    pl = load_coco(pl_json, 'pseudo-label file')
    names = {int(c['id']): c['name'] for c in pl['categories']}
    keep = None if targets is None else {
        i for i, n in names.items() if n in set(targets)}
    by_img: dict[int, list] = {}
    for a in pl['annotations']:
        if a.get('score', 1.0) >= min_score and (
                keep is None or int(a['category_id']) in keep):
            by_img.setdefault(int(a['image_id']), []).append(a)
    gt_by_img: dict[int, list] = {}
    if gt_json is not None:
        for a in load_coco(gt_json, 'ground-truth file')['annotations']:
            if keep is None or int(a['category_id']) in keep:
                gt_by_img.setdefault(int(a['image_id']), []).append(a)
    info = {int(im['id']): im for im in pl['images']}
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for img_id in sorted(by_img)[:num]:
        img = read_image(osp.join(img_dir, info[img_id]['file_name'])).copy()
        scale = max(1.0, 512.0 / max(img.shape[:2]))    # readable small images
        if scale > 1:
            img = cv2.resize(img, None, fx=scale, fy=scale,
                             interpolation=cv2.INTER_NEAREST)
        for a in gt_by_img.get(img_id, []):
            x, y, w, h = (v * scale for v in a['bbox'])
            cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)),
                          (0, 200, 0), 1)
        for a in by_img[img_id]:
            x, y, w, h = (v * scale for v in a['bbox'])
            p1, p2 = (int(x), int(y)), (int(x + w), int(y + h))
            cv2.rectangle(img, p1, p2, (0, 0, 255), 2)
            label = f"{names.get(int(a['category_id']), '?')} {a['score']:.2f}"
            cv2.putText(img, label, (p1[0] + 2, max(p1[1] - 4, 10)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1,
                        cv2.LINE_AA)
        path = osp.join(out_dir, f'{img_id}.png')
        cv2.imwrite(path, img)
        paths.append(path)
    return paths
