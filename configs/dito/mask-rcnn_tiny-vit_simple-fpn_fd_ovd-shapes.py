# DITO on OVD-Shapes, +FD row: frozen-backbone distillation (Sec. 3.4): a
# 1x1 conv projection on the finetuned ViT map, cosine distance of its RoI
# embeddings to the frozen copy's, averaged over the sampled RoIs, weight
# gamma = 1; the VLM score uses the projected map.
_base_ = './mask-rcnn_tiny-vit_simple-fpn_window_ovd-shapes.py'

model = dict(distill=dict(loss_weight=1.0))
