"""The ROPG/RSPG losses and utilities on numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from lampkit.errors import LampkitError
from lampkit.ropg import utility
from lampkit.ropg import utility_metric
from lampkit.ropg import worst_error
from lampkit.ropg.losses import kd_loss
from lampkit.ropg.losses import relative_rewards
from lampkit.ropg.losses import rl_loss
from lampkit.ropg.losses import selector_loss

F32 = 1e-6  # float32 against Python floats


def softmax(xs):
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


def test_kd_is_kl_teacher_to_student_with_one_softmax_per_side():
    scores, utilities = [2.0, 0.0], [1.0, 0.0]
    # q = softmax([1, 0]) = [0.7311, 0.2689], p = softmax([2, 0]) = [0.8808, 0.1192]
    # KL(q || p) = 0.7311 ln(0.7311/0.8808) + 0.2689 ln(0.2689/0.1192) = -0.1362 + 0.2188 = 0.0826
    loss = kd_loss(torch.tensor([scores]), torch.tensor([utilities]))
    assert float(loss) == pytest.approx(0.08261, abs=1e-5)
    q, p = softmax(utilities), softmax(scores)
    assert float(loss) == pytest.approx(sum(qi * math.log(qi / pi) for qi, pi in zip(q, p)), abs=F32)
    # At T = 2: q = softmax([0.5, 0]), p = softmax([1, 0]).
    q2, p2 = softmax([0.5, 0.0]), softmax([1.0, 0.0])
    assert float(kd_loss(torch.tensor([scores]), torch.tensor([utilities]), 2.0)) == pytest.approx(
        sum(qi * math.log(qi / pi) for qi, pi in zip(q2, p2)), abs=F32)
    # Same distributions: no loss.
    assert float(kd_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]]))) == pytest.approx(0.0, abs=1e-7)


def test_the_originals_double_softmax_is_another_number_behind_a_flag():
    scores, utilities = [2.0, 0.0], [1.0, 0.0]
    # CrossEntropyLoss(softmax(s), softmax(g)) = -sum q log softmax(p) with p = [0.8808, 0.1192]:
    # softmax(p) = [0.6817, 0.3183]; -(0.7311 ln 0.6817 + 0.2689 ln 0.3183) = 0.2802 + 0.3078 = 0.5880
    double = kd_loss(torch.tensor([scores]), torch.tensor([utilities]), double_softmax=True)
    q, p = softmax(utilities), softmax(scores)
    assert float(double) == pytest.approx(-sum(qi * math.log(si) for qi, si in zip(q, softmax(p))))
    assert float(double) == pytest.approx(0.58799, abs=1e-5)
    assert float(double) != pytest.approx(float(kd_loss(torch.tensor([scores]), torch.tensor([utilities]))))
    # The double softmax still pulls even when the retriever already matches the teacher exactly.
    same = torch.tensor([[1.0, 0.0]])
    assert float(kd_loss(same, same, double_softmax=True)) > 0.6


def test_rl_reward_is_relative_to_the_top_pre_ranked_item():
    utilities = torch.tensor([[0.5, 1.0, 0.0], [0.2, 0.2, 0.9]])
    sampled = torch.tensor([1, 2])
    assert relative_rewards(utilities, sampled).tolist() == pytest.approx([0.5, 0.7], abs=F32)
    scores = torch.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]], requires_grad=True)
    loss = rl_loss(scores, utilities, sampled).detach()
    # -mean(log p_j * reward): log p = [ln(e/(e+2)), ln(1/3)] = [-0.5514, -1.0986]
    # -(-0.5514 * 0.5 + -1.0986 * 0.7) / 2 = (0.2757 + 0.7690) / 2 = 0.5224
    expected = -(math.log(math.e / (math.e + 2)) * 0.5 + math.log(1 / 3) * 0.7) / 2
    assert float(loss) == pytest.approx(expected, abs=F32)
    assert float(loss) == pytest.approx(0.52238, abs=1e-5)
    # Sampling the top pre-ranked item itself gives no reward and no gradient.
    zero = rl_loss(scores, utilities, torch.tensor([0, 0]))
    zero.backward()
    assert float(zero.detach()) == 0.0 and torch.count_nonzero(scores.grad) == 0


def test_lamp3_mae_becomes_a_reward_relative_to_the_worst_error():
    assert worst_error(1.0) == 4.0 and worst_error(3.0) == 2.0 and worst_error(4.0) == 3.0
    assert utility("LaMP_3", {"MAE": 0.0, "RMSE": 0.0}, "4") == 1.0
    assert utility("LaMP_3", {"MAE": 1.0, "RMSE": 1.0}, "4") == pytest.approx(2 / 3, abs=F32)  # (3 - 1) / 3
    assert utility("LaMP_3", {"MAE": 3.0, "RMSE": 3.0}, "4") == 0.0  # predicted 1 for gold 4: the worst
    assert utility("LaMP_3", {"MAE": 2.0, "RMSE": 2.0}, "3") == 0.0
    # The RL reward for LaMP-3 is then (mae_0 - mae_j) / worst, as in the original.
    gold = 2.0
    maes = [3.0, 1.0]  # top pre-ranked item predicted 5, the sampled one 3
    rewards = torch.tensor([[(worst_error(gold) - m) / worst_error(gold) for m in maes]])
    assert float(relative_rewards(rewards, torch.tensor([1]))) == pytest.approx((3.0 - 1.0) / 3.0, abs=F32)


def test_utility_metrics_per_family_and_bad_choices():
    assert [utility_metric(t) for t in ("LaMP_1", "LaMP_3", "LaMP_5")] == ["accuracy", "MAE", "rouge-1"]
    assert utility("LaMP_5", {"rouge-1": 0.25, "rouge-L": 0.2}, "x", "rouge-L") == 0.2
    with pytest.raises(LampkitError, match="field 'utility_metric': 'f1' is not a per-output metric of LaMP_2"):
        utility_metric("LaMP_2", "f1")


def test_selector_loss_is_kl_to_the_softmax_of_the_retrievers_utilities():
    logits, utilities = torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    # q = [0.5761, 0.2119, 0.2119]; KL(q || uniform) = 0.5761 ln 1.7284 + 2 * 0.2119 ln 0.6358 = 0.3152 - 0.1920
    q = softmax([1.0, 0.0, 0.0])
    expected = sum(qi * math.log(qi / (1 / 3)) for qi in q)
    assert float(selector_loss(logits, utilities)) == pytest.approx(expected, abs=F32)
    assert float(selector_loss(logits, utilities)) == pytest.approx(0.12328, abs=1e-5)
