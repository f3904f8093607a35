"""Cost models: value at the reference, monotonicity, hand-computed values, gradient sign."""

import jax
import numpy as np
import pytest

from hepjax.design import calorimeter_cost, power_law_cost


def test_reference_costs_one_and_hand_value():
    assert float(calorimeter_cost(0.10, 0.01)) == pytest.approx(1.0)
    # halving a (p=2) quadruples its share; doubling c (p=1) halves its share: 0.5*4 + 0.5*0.5
    assert float(calorimeter_cost(0.05, 0.02)) == pytest.approx(2.25)
    assert float(power_law_cost(2.0, 1.0, 3.0)) == pytest.approx(0.125)


def test_monotone_decreasing_in_both_terms():
    a = np.linspace(0.03, 0.3, 20)
    ca = np.asarray(calorimeter_cost(a, 0.01))
    cc = np.asarray(calorimeter_cost(0.1, np.linspace(0.002, 0.05, 20)))
    assert np.all(np.diff(ca) < 0) and np.all(np.diff(cc) < 0)
    ga, gc = jax.jit(jax.grad(calorimeter_cost, argnums=(0, 1)))(0.08, 0.02)
    assert float(ga) < 0 and float(gc) < 0


def test_bad_reference():
    with pytest.raises(ValueError, match="reference stochastic"):
        calorimeter_cost(0.1, 0.01, reference=(0.0, 0.01))
