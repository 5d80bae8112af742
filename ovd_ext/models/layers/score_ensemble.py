"""Detection / VLM score ensemble of DITO (Eq. 2) and F-VLM.

    s_c = z_c^(1 - alpha) * p_c^alpha   for base classes c in C_B
    s_c = z_c^(1 - beta)  * p_c^beta    for novel classes c in C_N

``p`` are the detector's softmax probabilities over C classes + background,
``z`` the VLM probabilities over the C classes; "the background score comes
from the detection score (p_i) alone" (Sec. 3.1). Defaults are the paper's
alpha = 0.3, beta = 0.65 (Sec. 4, detection finetuning setup).

Official-code options (google-research ``fvlm/dito``): alpha = 0.35, the
ensembled row renormalised to sum to one (``renormalize=True``) and the
class scores multiplied by the RPN objectness to the power 3
(``rpn_power=3``).
"""
from __future__ import annotations

import torch

#: Eq. 2 weights of the detection score (Sec. 4).
ALPHA, BETA = 0.3, 0.65


def vlm_probabilities(region_emb: torch.Tensor, class_emb: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """``z``: softmax over classes of ``cos(region, class) / T`` (unit rows
    ``[N, D]`` and ``[C, D]``)."""
    return (region_emb @ class_emb.t() / temperature).softmax(dim=-1)


def ensemble_scores(det_probs: torch.Tensor, vlm_probs: torch.Tensor,
                    novel: torch.Tensor, alpha: float = ALPHA,
                    beta: float = BETA, renormalize: bool = False,
                    rpn_scores: torch.Tensor | None = None,
                    rpn_power: float = 0.0) -> torch.Tensor:
    """Eq. 2 on ``det_probs`` ``[N, C + 1]`` (background last) and
    ``vlm_probs`` ``[N, C]``; ``novel`` ``[C]`` bool marks C_N. Returns
    ``[N, C + 1]`` with the background column ``p_bg`` (see module doc for
    ``renormalize`` / ``rpn_scores`` / ``rpn_power``)."""
    num = vlm_probs.shape[1]
    if det_probs.shape[1] != num + 1 or novel.shape[0] != num:
        raise ValueError(f'shapes disagree: det {tuple(det_probs.shape)}, '
                         f'vlm {tuple(vlm_probs.shape)}, novel '
                         f'{tuple(novel.shape)} (need [N, C+1], [N, C], [C])')
    w = torch.where(novel.to(det_probs.device),
                    det_probs.new_tensor(beta), det_probs.new_tensor(alpha))
    fg = vlm_probs.clamp(min=0) ** (1 - w) * det_probs[:, :num] ** w
    out = torch.cat([fg, det_probs[:, num:]], dim=1)
    if renormalize:
        out = out / out.sum(dim=1, keepdim=True).clamp(min=1e-12)
    if rpn_power:
        if rpn_scores is None:
            raise ValueError('rpn_power needs the RPN scores of the regions')
        out = torch.cat([out[:, :num] * rpn_scores[:, None] ** rpn_power,
                         out[:, num:]], dim=1)
    return out
