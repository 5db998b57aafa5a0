"""Statistics against analytic expectations. Random data use fixed seeds; each tolerance is
4 standard deviations of the estimator, from its known variance (derivations inline)."""

import numpy as np
import pytest

from settle_analysis import stats
from sonata_files import poisson_population

Z = 4.0


def poisson_train(rng, rate_hz, n_intervals):
    """A Poisson train with exactly n_intervals i.i.d. exponential intervals (ms)."""
    return np.cumsum(rng.exponential(1000.0 / rate_hz, size=n_intervals + 1))


def test_firing_rates_of_poisson_neurons():
    n, rate, duration_ms = 200, 8.0, 50_000.0
    ts, ids = poisson_population(np.random.default_rng(1), n, rate, duration_ms)
    trains = [ts[ids == i] for i in range(n)]
    rates = stats.firing_rates(trains, 0.0, duration_ms)
    t_s = duration_ms / 1000.0
    # The pooled count is Poisson(n rate T): the mean rate has variance rate / (n T).
    assert abs(rates.mean() - rate) < Z * np.sqrt(rate / (n * t_s))
    # Each estimate has variance rate / T; the sample variance of n of them has a relative
    # standard error of about sqrt(2 / (n - 1)).
    assert abs(rates.var(ddof=1) / (rate / t_s) - 1.0) < Z * np.sqrt(2.0 / (n - 1))


def test_firing_rate_counts_the_half_open_window():
    rates = stats.firing_rates([np.array([0.0, 500.0, 999.0, 1000.0]), np.array([])], 0.0, 1000.0)
    np.testing.assert_array_equal(rates, [3.0, 0.0])


def test_isi_cv_of_poisson_train_is_one():
    n = 100_000
    train = poisson_train(np.random.default_rng(2), 10.0, n)
    # Delta method for exponential intervals (mean m, variance m^2, third central moment
    # 2 m^3, fourth 9 m^4): Var(CV) = (1 + (9 - 1)/4 - 2) / n = 1 / n.
    assert abs(stats.isi_cv([train])[0] - 1.0) < Z / np.sqrt(n)


def test_isi_cv_of_regular_train_is_zero_and_short_trains_are_nan():
    cv = stats.isi_cv([10.0 * np.arange(100), np.array([5.0, 1.0]), np.array([0.0, 1.0, 3.0])])
    assert cv[0] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(cv[1])  # one interval: no spread to measure
    assert cv[2] == pytest.approx(np.std([1.0, 2.0], ddof=1) / 1.5)


def test_fano_factor_of_poisson_train_is_one():
    duration_ms, window_ms = 1_000_000.0, 100.0
    ts, _ = poisson_population(np.random.default_rng(3), 1, 20.0, duration_ms)
    k = int(duration_ms / window_ms)
    # (k - 1) F is about chi-square with k - 1 degrees of freedom: Var(F) = 2 / (k - 1).
    assert abs(stats.fano_factor([ts], window_ms, 0.0, duration_ms)[0] - 1.0) < Z * np.sqrt(2.0 / (k - 1))


def test_fano_factor_of_regular_train_is_zero():
    train = 5.0 + 10.0 * np.arange(1000)  # 10 spikes in every 100 ms window
    assert stats.fano_factor([train], 100.0, 0.0, 10_000.0)[0] == 0.0
    np.testing.assert_array_equal(stats.spike_counts(train, 100.0, 0.0, 10_000.0), np.full(100, 10))
    assert np.isnan(stats.fano_factor([np.array([])], 100.0, 0.0, 1000.0)[0])


@pytest.mark.parametrize("bin_ms", [50.0, 30.0])  # 30 ms leaves a partial last bin
def test_population_rate(bin_ms):
    n, rate, duration_ms = 100, 12.0, 20_000.0
    ts, _ = poisson_population(np.random.default_rng(4), n, rate, duration_ms)
    edges, pop_rate = stats.population_rate(ts, n, bin_ms, 0.0, duration_ms)
    widths_s = (np.minimum(edges[1:], duration_ms) - edges[:-1]) / 1000.0
    assert edges[0] == 0.0 and edges[-1] >= duration_ms > edges[-2]
    assert np.sum(pop_rate * n * widths_s) == pytest.approx(ts.size)  # every spike counted once
    mean_rate = np.sum(pop_rate * widths_s) / (duration_ms / 1000.0)
    assert abs(mean_rate - rate) < Z * np.sqrt(rate / (n * duration_ms / 1000.0))


def test_psth_of_a_locked_response():
    triggers = 100.0 * np.arange(100)
    spikes = triggers + 12.5
    edges, rate = stats.psth(spikes, triggers, 1.0, (-20.0, 50.0))
    np.testing.assert_allclose(edges, np.arange(-20.0, 51.0))
    expected = np.zeros(70)
    expected[32] = 1000.0  # one spike per trigger in a 1 ms bin
    np.testing.assert_allclose(rate, expected)


def test_psth_of_poisson_background_is_flat():
    n, rate, duration_ms, bin_ms = 50, 10.0, 100_000.0, 10.0
    ts, _ = poisson_population(np.random.default_rng(5), n, rate, duration_ms)
    triggers = 250.0 * np.arange(1, 399)
    edges, psth = stats.psth(ts, triggers, bin_ms, (-50.0, 150.0), n_nodes=n)
    assert edges.size == 21
    # Each bin count is Poisson(rate n triggers bin).
    expected_count = rate * n * triggers.size * bin_ms / 1000.0
    sigma_rate = rate / np.sqrt(expected_count)
    assert np.all(np.abs(psth - rate) < Z * sigma_rate)
    assert abs(psth.mean() - rate) < Z * sigma_rate / np.sqrt(psth.size)


def test_lag_histogram_matches_brute_force():
    rng = np.random.default_rng(6)
    a = 0.5 * rng.integers(0, 400, size=60)  # on a 0.5 ms grid, so lags fall exactly on edges too
    b = 0.5 * rng.integers(0, 400, size=80)
    edges = np.arange(-20.0, 21.0, 2.0)
    lags = (b[None, :] - a[:, None]).ravel()
    expected = [np.count_nonzero((lags >= lo) & (lags < hi)) for lo, hi in zip(edges[:-1], edges[1:])]
    np.testing.assert_array_equal(stats.lag_histogram(a, b, edges), expected)


def test_cross_correlogram_finds_a_fixed_delay():
    a = 50.0 * np.arange(200)
    edges, counts = stats.cross_correlogram(a, a + 3.0, 1.0, 20.0)
    np.testing.assert_allclose(edges, np.arange(-20.5, 21.0))
    assert counts[np.searchsorted(edges, 3.0) - 1] == a.size
    assert counts.sum() == a.size


def test_cross_correlogram_of_independent_poisson_trains():
    ra, rb, duration_ms = 20.0, 30.0, 200_000.0
    rng = np.random.default_rng(7)
    a, _ = poisson_population(rng, 1, ra, duration_ms)
    b, _ = poisson_population(rng, 1, rb, duration_ms)
    edges, counts = stats.cross_correlogram(a, b, 2.0, 50.0)
    # Pairs at lag tau: ra rb (T - |tau|) per unit lag; over the whole lag range L = [-l, l]:
    # mean = ra rb (2 l T - l^2). For independent Poisson trains the variance of the pair
    # count over a lag range of width W is mean (1 + (ra + rb) W).
    t_s, l_s = duration_ms / 1000.0, edges[-1] / 1000.0
    mean = ra * rb * (2 * l_s * t_s - l_s**2)
    sigma = np.sqrt(mean * (1.0 + (ra + rb) * 2 * l_s))
    assert edges[0] == -edges[-1]
    assert abs(counts.sum() - mean) < Z * sigma
