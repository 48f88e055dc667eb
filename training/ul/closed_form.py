"""Closed-form solution of the UL objective (section 3.2 and appendix A.1 of the UL-layers paper).

For a Markov chain on the frames with stationary distribution p_i and adjacent-pair
distribution p_ij, the objective J = E||y_t - y_{t-1}||^2 - log det cov(y) becomes (Eq. 12)

    J(Y) = 2 tr(Y^T L Y) - log det(Y^T (D - p p^T) Y)

with the Laplacian L_ii = p_i - p_ii, L_ij = -(p_ij + p_ji)/2 and D = diag(p). Its minimum is

    Y = U (2 U^T L U)^{-1/2} R                                      (Eq. 5)

where U holds the generalised eigenvectors of (L, D) with the smallest non-zero eigenvalues
(normalised so U^T D U = I) and R is any rotation: the normalised-cut embedding (Shi & Malik),
scaled per column. At the optimum ``2 Y^T L Y = I`` and ``cov(y) = Y^T (D - p p^T) Y =
R^T (2 Λ)^{-1} R`` (Eq. 18: P P^T = (2 U^T L U)^{-1}).

Graph: a sequence of T frames is a chain with A_{t,t+1} = A_{t+1,t} = 1 (the empirical
transition counts); ``knn > 0`` also joins each frame to its k nearest frames in feature space
(symmetrised, weight ``knn_weight``), so frames that look alike are treated as neighbouring
states of the Markov chain even when they are far apart in time (a rotation seen twice closes
into a circle). From any symmetric non-negative A: p_ij = A_ij / sum(A), p_i = sum_j p_ij.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from vidsift.errors import BadInputError


def chain_affinity(
    n: int, X: np.ndarray | None = None, knn: int = 0, knn_weight: float = 1.0
) -> sp.csr_matrix:
    """Symmetric sparse affinity of ``n`` frames: temporal neighbours, plus kNN edges on ``X``."""
    if n < 2:
        raise BadInputError(f"a sequence needs at least 2 frames, got {n}")
    i = np.arange(n - 1)
    A = sp.coo_matrix((np.ones(n - 1), (i, i + 1)), shape=(n, n))
    A = (A + A.T).tocsr()
    if knn > 0:
        if X is None:
            raise BadInputError("knn > 0 needs the frame features X")
        from sklearn.neighbors import NearestNeighbors

        k = min(int(knn), n - 1)
        nn_idx = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X, return_distance=False)
        rows = np.repeat(np.arange(n), k)
        cols = nn_idx[:, 1:].ravel()
        K = sp.coo_matrix((np.full(rows.size, float(knn_weight)), (rows, cols)), shape=(n, n))
        K = K.maximum(K.T).tocsr()
        A = A.maximum(K)
    A.setdiag(0)
    A.eliminate_zeros()
    return A.tocsr()


def markov_laplacian(
    A: sp.spmatrix | np.ndarray,
) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """(L, D, p) of Eq. 4 for the chain with pair distribution p_ij = A_ij / sum(A)."""
    A = sp.csr_matrix(A, dtype=np.float64)
    if A.shape[0] != A.shape[1]:
        raise BadInputError(f"affinity must be square, got {A.shape}")
    if abs(A - A.T).max() > 1e-12 * max(1.0, abs(A).max()):
        raise BadInputError("affinity must be symmetric")
    if A.nnz and A.data.min() < 0:
        raise BadInputError("affinity must be non-negative")
    total = A.sum()
    if total <= 0:
        raise BadInputError("affinity has no edges")
    P = A / total
    p = np.asarray(P.sum(axis=1)).ravel()
    if (p <= 0).any():
        raise BadInputError(
            f"{int((p <= 0).sum())} frame(s) have no edge; the graph must be connected"
        )
    D = sp.diags(p).tocsr()
    L = (D - P).tocsr()
    return L, D, p


def _smallest_generalised(
    L: sp.csr_matrix, D: sp.csr_matrix, k: int, solver: str
) -> tuple[np.ndarray, np.ndarray]:
    n = L.shape[0]
    if solver == "auto":
        solver = "dense" if n <= 1500 else "eigsh"
    if solver == "dense":
        vals, vecs = scipy.linalg.eigh(L.toarray(), D.toarray(), subset_by_index=[0, k - 1])
    elif solver == "eigsh":
        # shift-invert just below 0: L - sigma D is positive definite, eigenvalues near 0 first
        sigma = -1e-3 * float(L.diagonal().mean() / D.diagonal().mean())
        vals, vecs = spla.eigsh(L, k=k, M=D, sigma=sigma, which="LM")
    elif solver == "lobpcg":
        rng = np.random.default_rng(0)
        X0 = rng.standard_normal((n, k))
        vals, vecs = spla.lobpcg(L, X0, B=D, largest=False, tol=1e-8, maxiter=2000)
    else:
        raise BadInputError(f"unknown solver {solver!r}; use auto, dense, eigsh or lobpcg")
    order = np.argsort(vals)
    vals, vecs = vals[order], vecs[:, order]
    # D-normalise (U^T D U = I)
    norms = np.sqrt(np.einsum("ij,ij->j", vecs, D @ vecs))
    return vals, vecs / norms


def closed_form_embedding(
    X: np.ndarray | sp.spmatrix,
    dim: int,
    *,
    affinity: bool = False,
    knn: int = 0,
    knn_weight: float = 1.0,
    rotation: np.ndarray | None = None,
    solver: str = "auto",
    return_details: bool = False,
) -> np.ndarray | tuple[np.ndarray, dict]:
    """Y = U (2 U^T L U)^{-1/2} R (Eq. 5): the minimiser of the UL objective on one sequence.

    ``X`` is either frame features ``[T, D]`` in temporal order (``affinity=False``; the graph
    is the temporal chain, plus ``knn`` feature-space neighbours) or a symmetric non-negative
    affinity ``[T, T]`` (``affinity=True``). ``rotation`` is R (``[dim, dim]``, orthogonal;
    identity when omitted). ``solver``: "dense" (scipy.linalg.eigh), "eigsh" (sparse
    shift-invert), "lobpcg", or "auto" (dense up to 1500 frames).

    Returns ``Y`` ``[T, dim]``; with ``return_details`` also ``{"U", "eigenvalues", "L", "D",
    "p"}`` (eigenvalues exclude the trivial 0).

    Raises:
        BadInputError: ``dim`` not in [1, T - 2], a disconnected or malformed graph, a
            non-orthogonal rotation.
    """
    if affinity:
        A = sp.csr_matrix(X)
        n = A.shape[0]
    else:
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2:
            raise BadInputError(f"X must be [T, D] frame features, got shape {Xa.shape}")
        n = Xa.shape[0]
        A = chain_affinity(n, Xa, knn=knn, knn_weight=knn_weight)
    if not 1 <= dim <= n - 2:
        raise BadInputError(f"dim must be between 1 and T - 2 = {n - 2}, got {dim}")
    L, D, p = markov_laplacian(A)
    vals, vecs = _smallest_generalised(L, D, dim + 1, solver)
    if vals[1] < 1e-10:
        raise BadInputError(
            "the frame graph is disconnected (several zero eigenvalues); add knn edges"
        )
    U, lam = vecs[:, 1:], vals[1:]
    M = 2.0 * (U.T @ (L @ U))
    w, V = np.linalg.eigh((M + M.T) / 2)
    inv_sqrt = V @ np.diag(1.0 / np.sqrt(w)) @ V.T
    R = np.eye(dim) if rotation is None else np.asarray(rotation, dtype=np.float64)
    if R.shape != (dim, dim) or not np.allclose(R @ R.T, np.eye(dim), atol=1e-8):
        raise BadInputError(f"rotation must be an orthogonal [{dim}, {dim}] matrix")
    Y = U @ inv_sqrt @ R
    if return_details:
        return Y, {"U": U, "eigenvalues": lam, "L": L, "D": D, "p": p}
    return Y


def normalized_cut_embedding(A: sp.spmatrix | np.ndarray, dim: int) -> np.ndarray:
    """The normalised-cut / spectral embedding D^{-1/2} V, V the eigenvectors of the normalised
    Laplacian I - D^{-1/2} A D^{-1/2} with the smallest non-zero eigenvalues (Shi & Malik; Ng,
    Jordan & Weiss). Spans the same space as the U of :func:`closed_form_embedding`."""
    A = sp.csr_matrix(A, dtype=np.float64)
    deg = np.asarray(A.sum(axis=1)).ravel()
    if (deg <= 0).any():
        raise BadInputError("every frame needs at least one edge")
    d_inv_sqrt = sp.diags(1.0 / np.sqrt(deg))
    Lsym = sp.identity(A.shape[0]) - d_inv_sqrt @ A @ d_inv_sqrt
    n = A.shape[0]
    if not 1 <= dim <= n - 2:
        raise BadInputError(f"dim must be between 1 and n - 2 = {n - 2}, got {dim}")
    if n <= 1500:
        vals, vecs = scipy.linalg.eigh(Lsym.toarray(), subset_by_index=[0, dim])
    else:
        vals, vecs = spla.eigsh(Lsym.tocsc(), k=dim + 1, sigma=-1e-3, which="LM")
        order = np.argsort(vals)
        vecs = vecs[:, order]
    return d_inv_sqrt @ vecs[:, 1:]


def ul_objective(Y: np.ndarray, L: sp.spmatrix, D: sp.spmatrix, p: np.ndarray) -> float:
    """J(Y) = 2 tr(Y^T L Y) - log det(Y^T (D - p p^T) Y) (Eq. 12)."""
    Y = np.asarray(Y, dtype=np.float64)
    cov = Y.T @ (D @ Y) - np.outer(Y.T @ p, Y.T @ p)
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        return float("inf")
    return float(2.0 * np.trace(Y.T @ (L @ Y)) - logdet)


__all__ = [
    "chain_affinity",
    "markov_laplacian",
    "closed_form_embedding",
    "normalized_cut_embedding",
    "ul_objective",
]
