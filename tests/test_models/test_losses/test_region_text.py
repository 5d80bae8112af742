"""RegionCLIP pretraining losses (Eq. 2-4 and the image-text loss) against
hand-computed values."""
import math

import torch

from ovd_ext.models.losses.region_text import (concept_distillation,
                                               image_text_contrastive,
                                               region_text_contrastive)


def _nll(logits: list[float], target: int) -> float:
    z = [math.exp(v) for v in logits]
    return -math.log(z[target] / sum(z))


def test_region_text_negatives_are_the_concepts_matched_in_the_batch():
    # 3 regions, 4 concepts; the teacher matched concepts 0, 2, 0, so the
    # softmax of Eq. 3 runs over U = {0, 2}: concepts 1 and 3 take no part
    sim = torch.tensor([[0.9, 0.8, 0.1, 0.7],
                        [0.2, 0.9, 0.6, 0.1],
                        [0.5, 0.3, 0.4, 0.9]])
    matched = torch.tensor([0, 2, 0])
    tau = 0.1
    loss = region_text_contrastive(sim, matched, tau)
    expected = (_nll([9.0, 1.0], 0) + _nll([2.0, 6.0], 1)
                + _nll([5.0, 4.0], 0)) / 3
    assert abs(float(loss) - expected) < 1e-5
    # raising an unmatched concept's similarity changes nothing
    other = sim.clone()
    other[:, [1, 3]] = 1.0
    assert abs(float(region_text_contrastive(other, matched, tau))
               - expected) < 1e-5


def test_region_text_without_regions_is_zero_with_a_gradient():
    sim = torch.zeros(0, 5, requires_grad=True)
    loss = region_text_contrastive(sim, torch.zeros(0, dtype=torch.long),
                                   0.01)
    loss.backward()
    assert float(loss.detach()) == 0.0


def test_distillation_is_kl_from_teacher_to_student():
    # one region, two concepts: KL(q_t || q) = sum q_t (log q_t - log q)
    tau = 0.5
    student = torch.tensor([[0.2, 0.6]], requires_grad=True)
    teacher = torch.tensor([[0.8, 0.1]], requires_grad=True)

    def softmax(v):
        z = [math.exp(x / tau) for x in v]
        return [x / sum(z) for x in z]
    q, qt = softmax([0.2, 0.6]), softmax([0.8, 0.1])
    expected = sum(a * (math.log(a) - math.log(b)) for a, b in zip(qt, q))
    reverse = sum(b * (math.log(b) - math.log(a)) for a, b in zip(qt, q))
    loss = concept_distillation(student, teacher, tau)
    assert abs(float(loss) - expected) < 1e-6
    assert abs(expected - reverse) > 1e-3          # the direction matters
    loss.backward()
    assert teacher.grad is None                      # teacher is a target
    assert student.grad is not None and student.grad.abs().sum() > 0
    # batchmean: two identical regions give the same loss as one
    both = concept_distillation(student.detach().repeat(2, 1),
                                teacher.detach().repeat(2, 1), tau)
    assert abs(float(both) - expected) < 1e-6
    # equal distributions give zero
    assert float(concept_distillation(teacher.detach(), teacher.detach(),
                                      tau)) < 1e-7


def test_image_text_positives_on_the_diagonal():
    img = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    txt = torch.tensor([[0.8, 0.6], [0.0, 1.0]])
    tau = 0.5
    loss = image_text_contrastive(img, txt, tau)
    # image 0: sims (0.8, 0.0) target 0; image 1: sims (0.96, 0.8) target 1
    expected = (_nll([1.6, 0.0], 0) + _nll([1.92, 1.6], 1)) / 2
    assert abs(float(loss) - expected) < 1e-5
