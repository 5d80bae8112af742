"""The COMMITTED tiny-CLIP checkpoints load and classify fresh OVD-Shapes
crops zero-shot (a generator seed they were not trained on)."""
import json
import os.path as osp

import pytest
import torch

from ovd_ext.shapes import CLASSES, NOVEL_CLASSES, generate_ovd_shapes
from ovd_ext.shapes.tiny_clip import crop_accuracy, load_gt_crops
from ovd_ext.vlm import build_clip
from ovd_ext.vlm.training import sha256_file

pytestmark = pytest.mark.filterwarnings('ignore:OVD-Shapes.*too few')
CKPT_DIR = osp.join(osp.dirname(__file__), '..', '..', 'checkpoints',
                    'ovd_shapes')
MODELS = ('ovd-tiny-rn', 'ovd-tiny-vit')
#: top-1 floors on val GT crops (1.0x) the committed files must keep: the
#: README reports 86.4% (RN) and 77.1% (ViT); the ViT misses the 80% goal.
VAL_FLOOR = {'ovd-tiny-rn': 0.85, 'ovd-tiny-vit': 0.77}
#: floors on the 8-image fresh set (about 30 crops, so looser)
FRESH_FLOOR = {'ovd-tiny-rn': 0.7, 'ovd-tiny-vit': 0.55}


@pytest.fixture(scope='module')
def fresh_crops(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('fresh'))
    generate_ovd_shapes(root, 0, 8, 0, seed=12345, progress=False)
    return load_gt_crops(osp.join(root, 'annotations', 'instances_val.json'),
                         osp.join(root, 'images'), CLASSES)


@pytest.mark.parametrize('name', MODELS)
def test_committed_checkpoint_loads_and_classifies(name, fresh_crops):
    path = osp.join(CKPT_DIR, f'{name}.pt')
    assert osp.getsize(path) <= 8_000_000
    clip = build_clip(name, path)
    assert clip.embed_dim == 128 and clip.image_size == (64, 64)
    images, boxes, labels = fresh_crops
    assert len(labels) >= 20
    novel = [CLASSES.index(c) for c in NOVEL_CLASSES]
    res = crop_accuracy(clip, images, boxes, labels, CLASSES, novel,
                        scales=(1.0,))
    assert res['1.0x']['all'] >= FRESH_FLOOR[name], res


@pytest.mark.parametrize('name', MODELS)
def test_provenance_describes_the_committed_file(name):
    path = osp.join(CKPT_DIR, f'{name}.pt')
    with open(osp.join(CKPT_DIR, f'{name}.provenance.json')) as f:
        prov = json.load(f)
    assert prov['model'] == name
    assert prov['checkpoint']['sha256'] == sha256_file(path)
    assert prov['data']['split'] == 'train only'
    assert prov['zero_shot_val']['results']['1.0x']['all'] >= VAL_FLOOR[name]
    sd = torch.load(path, map_location='cpu', weights_only=True)
    assert {v.dtype for v in sd.values()} <= {torch.float16, torch.int64}
