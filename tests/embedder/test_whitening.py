"""PCA-whitening (Jégou & Chum 2012) against numpy's covariance, and the collapse report."""

from __future__ import annotations

import numpy as np
import pytest

from vidsift.embedder.whitening import PCAWhitening, collapse_report
from vidsift.errors import BadInputError


def test_whitening_gives_identity_covariance() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 3.0
    Z = PCAWhitening(dim=None, eps=0.0).fit_transform(X, normalize=False)
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(6), atol=1e-4)
    np.testing.assert_allclose(Z.mean(0), 0, atol=1e-5)
    # eigenvalues match numpy's covariance eigenvalues
    lam = np.sort(np.linalg.eigvalsh(np.cov(X.T, bias=True)))[::-1]
    np.testing.assert_allclose(PCAWhitening(dim=None).fit(X).explained_variance_, lam, rtol=1e-8)


def test_whitening_dim_eps_and_normalisation() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(100, 20))
    W = PCAWhitening(dim=5, eps=0.1).fit(X)
    Z = W.transform(X)
    assert Z.shape == (100, 5) and Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(W.scale_, 1 / np.sqrt(W.explained_variance_ + 0.1 * W.explained_variance_[0]))


def test_whitening_refuses_bad_input() -> None:
    with pytest.raises(BadInputError, match="N >= 2"):
        PCAWhitening().fit(np.zeros((1, 3)))
    with pytest.raises(BadInputError, match="no variance"):
        PCAWhitening().fit(np.ones((5, 3)))
    with pytest.raises(BadInputError, match="NaN"):
        PCAWhitening().fit(np.array([[0.0, np.nan], [1.0, 2.0]]))


def test_collapse_report() -> None:
    rng = np.random.default_rng(2)
    spread = rng.normal(size=(300, 32))
    ok = collapse_report(spread)
    assert not ok["collapsed"] and abs(ok["mean_cosine"]) < 0.05 and ok["message"] == ""
    base = np.abs(rng.normal(size=32)) + 1
    collapsed = base + 1e-3 * rng.normal(size=(300, 32))
    bad = collapse_report(collapsed)
    assert bad["collapsed"] and bad["mean_cosine"] > 0.99 and "collapsed" in bad["message"]
    dead = spread.copy()
    dead[:, :20] = 0.0  # 20 of 32 dimensions never fire
    r = collapse_report(dead)
    assert r["collapsed"] and r["dead_fraction"] == pytest.approx(20 / 32)
    # naive mean pairwise cosine
    U = spread[:50] / np.linalg.norm(spread[:50], axis=1, keepdims=True)
    S = U @ U.T
    naive = (S.sum() - np.trace(S)) / (50 * 49)
    assert collapse_report(spread[:50])["mean_cosine"] == pytest.approx(naive, abs=1e-10)
