"""A short VL-PLM run on OVD-Shapes images with a randomly initialised tiny
proposal generator and a random tiny CLIP."""
import json
import os.path as osp

import numpy as np
import torch

from ovd_ext.pseudo_labels import run_labeler
from ovd_ext.pseudo_labels.vl_plm import (VLPLM, VLPLMSettings,
                                          build_label_space,
                                          detections_to_records,
                                          label_space_embeddings)
from ovd_ext.shapes import NOVEL_CLASSES
from ovd_ext.utils import read_image
from ovd_ext.vlm.class_names import from_json

# random models give RPN scores ~0.5 and flat CLIP distributions: a low tau
SETTINGS = dict(topk=20, refine_iters=2, tau=0.3, crop_batch_size=40)


def labeler_cfg(cfg, **settings):
    """The VL-PLM labeler with random proposal generator and CLIP weights."""
    return dict(type='VLPLMLabeler', proposal_config=cfg,
                random_weights=('proposal', 'clip'),
                clip=dict(name='ovd-tiny-vit', templates='single'),
                targets=','.join(NOVEL_CLASSES), **{**SETTINGS, **settings})


def _run(cfg, shapes_root, out, **settings):
    ann = osp.join(shapes_root, 'annotations', 'instances_train.json')
    return run_labeler(labeler_cfg(cfg, **settings), ann,
                       osp.join(shapes_root, 'images'), out, max_images=2,
                       progress=False)


def test_generate_pseudo_labels_end_to_end(proposal_cfg, shapes_root,
                                           tmp_path):
    out = str(tmp_path / 'a' / 'pl.json')
    res = _run(proposal_cfg, shapes_root, out)
    src = json.load(open(osp.join(shapes_root, 'annotations',
                                  'instances_train.json')))
    pl = json.load(open(out))
    assert pl['images'] == sorted(src['images'], key=lambda i: i['id'])[:2]
    assert pl['categories'] == src['categories']
    novel_ids = {c['id'] for c in src['categories']
                 if c['name'] in NOVEL_CLASSES}
    anns = pl['annotations']
    assert anns and {a['category_id'] for a in anns} <= novel_ids
    assert all(a['score'] >= 0.3 and a['pseudo'] and a['iscrowd'] == 0
               for a in anns)
    assert res['report']['num_pseudo_labels'] == len(anns)
    assert res['counts'] == {'done_before': 0, 'labeled': 2, 'skipped': 0}
    # a finished run is not redone (separate runs giving the same json:
    # tests/test_tools/test_gen_pseudo_labels.py, sharded vs unsharded)
    assert _run(proposal_cfg, shapes_root, out)['counts']['done_before'] == 2


def test_generator_stages_on_one_image(shapes_root, proposal_generator,
                                       tiny_clip):
    ann = osp.join(shapes_root, 'annotations', 'instances_train.json')
    src = json.load(open(ann))
    info = sorted(src['images'], key=lambda i: i['id'])[0]
    img = read_image(osp.join(shapes_root, 'images', info['file_name']))
    results = {}
    for space in ('novel', 'novel+base+bg'):
        ls = build_label_space(from_json(ann), list(NOVEL_CLASSES), space)
        text = label_space_embeddings(tiny_clip, ls, 'single')
        gen = VLPLM(proposal_generator, tiny_clip, text, ls.num_targets,
                    VLPLMSettings(**SETTINGS, label_space=space))
        results[space] = r = gen(img)
        k = len(r.proposals.rpn_scores)
        assert k <= 20 and len(r.scored) + r.num_dropped_extra == k
        # Eq. 4: s = (S_RPN + max p) / 2 and max p <= 1 -> s <= (S + 1) / 2
        assert torch.all(r.scored.scores <= (r.proposals.rpn_scores.max()
                                             + 1) / 2 + 1e-6)
        assert set(r.labels.labels.tolist()) <= set(range(5))
        assert torch.all(r.labels.scores >= 0.3)
    # with 16 extra classes in the softmax, some regions go to background
    # and the target probabilities shrink
    assert results['novel'].num_dropped_extra == 0
    assert results['novel+base+bg'].num_dropped_extra > 0
    assert (results['novel+base+bg'].scored.scores.max()
            < results['novel'].scored.scores.max())
    # no region left (all smaller than min_size): no pseudo labels
    gen.settings = VLPLMSettings(**SETTINGS, min_size=1000)
    empty = gen(img)
    assert len(empty.proposals.boxes) == 0 and len(empty.labels) == 0
    # the tool's json rows are these labels
    cat_ids = [c['id'] for c in src['categories']
               if c['name'] in NOVEL_CLASSES]
    rows = detections_to_records(results['novel'].labels, cat_ids)
    assert all(r['category_id'] in cat_ids for r in rows)
    x, y, w, h = rows[0]['bbox']
    b = results['novel'].labels.boxes[0].tolist()
    assert np.allclose([x, y, x + w, y + h], b, atol=0.02)


def test_max_regions_refines_only_the_scored_proposals(
        shapes_root, proposal_generator, tiny_clip):
    """max_regions=k gives the first k proposals (by RPN score) of the full
    run, with the same refined boxes: unscored proposals are not needed."""
    ann = osp.join(shapes_root, 'annotations', 'instances_train.json')
    info = sorted(json.load(open(ann))['images'], key=lambda i: i['id'])[0]
    img = read_image(osp.join(shapes_root, 'images', info['file_name']))
    ls = build_label_space(from_json(ann), list(NOVEL_CLASSES))
    text = label_space_embeddings(tiny_clip, ls, 'single')
    full = VLPLM(proposal_generator, tiny_clip, text, ls.num_targets,
                 VLPLMSettings(**SETTINGS, min_size=0)).regions(img)
    cut = VLPLM(proposal_generator, tiny_clip, text, ls.num_targets,
                VLPLMSettings(**SETTINGS, min_size=0,
                              max_regions=5)).regions(img)
    assert len(full.boxes) > 5 and len(cut.boxes) == 5
    torch.testing.assert_close(cut.rpn_scores, full.rpn_scores[:5])
    torch.testing.assert_close(cut.boxes, full.boxes[:5])
