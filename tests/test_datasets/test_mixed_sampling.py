"""Detection + image-label data mixed by mmdet's multi-source samplers.

RichSem trains on detection data together with extra image-label data; with
``MultiDataSampler`` + ``MultiDataAspectRatioBatchSampler`` every batch
comes from one source and the sources are drawn in the given ratio whatever
their sizes.
"""
import json
from collections import Counter

from mmdet.datasets import BaseDetDataset, ConcatDataset
from mmdet.datasets.samplers import (MultiDataAspectRatioBatchSampler,
                                     MultiDataSampler)

from ovd_ext.datasets import ImageLabelDataset

META = dict(classes=('cat', 'dog'))


class TinyDetDataset(BaseDetDataset):
    """``num`` detection-like items of alternating aspect ratio, no file."""

    def __init__(self, num: int, **kwargs) -> None:
        self.num = num
        super().__init__(ann_file='', metainfo=META, pipeline=[],
                         serialize_data=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        return [dict(img_id=i, img_path=f'{i}.png', width=64 if i % 2 else 48,
                     height=48 if i % 2 else 64,
                     instances=[dict(bbox=[1, 2, 10, 20], bbox_label=i % 2,
                                     ignore_flag=0)])
                for i in range(self.num)]


def _mixed(tmp_path, num_det=40, num_img=8):
    path = tmp_path / 'labels.json'  # images need not exist: no pipeline
    path.write_text(json.dumps(dict(
        images=[dict(id=100 + i, file_name=f'{i}.png',
                     width=80 if i % 3 else 30, height=50,
                     pos_category_ids=[1 + i % 2]) for i in range(num_img)],
        categories=[dict(id=1, name='cat'), dict(id=2, name='dog')])))
    img = ImageLabelDataset(ann_file=str(path), metainfo=META, pipeline=[])
    return ConcatDataset([TinyDetDataset(num_det), img])


def _draw(dataset, ratio, num_samples=2000):
    sampler = MultiDataSampler(dataset, dataset_ratio=ratio, seed=0)
    batches = MultiDataAspectRatioBatchSampler(sampler, batch_size=[2, 2],
                                               num_datasets=2)
    sources, drawn, epoch = Counter(), 0, 0
    while drawn < num_samples:
        sampler.set_epoch(epoch)
        for batch in batches:
            src = {dataset.get_dataset_source(i) for i in batch}
            assert len(src) == 1, f'batch {batch} mixes sources {src}'
            assert len(batch) == 2
            sources[src.pop()] += len(batch)
            drawn += len(batch)
        epoch += 1
    return sources, drawn


def test_concat_sources_and_items(tmp_path):
    ds = _mixed(tmp_path)
    assert len(ds) == 48
    assert [ds.get_dataset_source(i) for i in (0, 39, 40, 47)] == [0, 0, 1, 1]
    assert ds.get_data_info(40)['image_label'] is True
    assert ds.get_data_info(40)['instances'][0]['bbox'] == [0.0, 0.0, 30.0,
                                                            50.0]


def test_one_source_per_batch_and_ratio_one_to_one(tmp_path):
    ds = _mixed(tmp_path)
    sources, drawn = _draw(ds, [1, 1])
    frac = sources[1] / drawn
    # uniform sampling would give 8 / 48 = 0.17 image-label samples
    assert 0.45 <= frac <= 0.55, (frac, sources)


def test_ratio_three_to_one(tmp_path):
    sources, drawn = _draw(_mixed(tmp_path), [3, 1])
    frac = sources[1] / drawn
    assert 0.20 <= frac <= 0.30, (frac, sources)
