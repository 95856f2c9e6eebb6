"""The published estimator (Blue et al., USENIX Security 2022), faithfully.

Target: ``|rFFT|`` of 5120 points of the rectangular 16 kHz window,
FIR-decimated by 5 along frequency (``scipy.signal.decimate``, ``ftype="fir"``),
in dB (``20 log10``), Gaussian-smoothed (sigma 2 bins), mean removed (over
all decimated bins), then the 320 bins below 5 kHz.

Model: 15-section lossless tube with a closed glottis (``r_G = 1``); its dB
magnitude ``20 log10 |prod(1 + r_k) / D(e^{j omega})|`` (``D`` from the
Rabiner-Schafer recursion) is *not* mean-centred. Objective: the L1 distance
``sum_i |target_i - model_i|`` (dB) over the 320 bins (we read the published
"L1 error" as a sum; the step size of the published descent only moves the
coefficients noticeably with a sum).

Solvers:

- ``"published"``: 1500 steps of central-difference gradient descent (step
  0.01, rate 1e-6) from ``r = 0`` with ``r`` clipped to +-0.99 after every
  step (slow reference).
- ``"fast"`` (default): the same objective minimised by iteratively
  reweighted Levenberg-Marquardt (IRLS majoriser of L1) with the exact
  Jacobian of the model (forward-mode derivative of the step-up recursion;
  checked against :func:`vtract.tract.tube.tube_db_gradient` and finite
  differences), inside the same +-0.99 box. Starts: ``r = 0`` and the
  order-15 LPC reflection coefficients of the window (pre-emphasis 0, 0.5,
  0.9, 0.97) shrunk by 0.25-1; the start with the lowest objective is
  refined (25 iterations at most in :func:`vtract.estimate_tract`).

The target is computed by a Numba kernel that reproduces SciPy's
``decimate``/``gaussian_filter1d`` arithmetic (:func:`paper_target_scipy` is
the SciPy reference, equal to 1e-10 dB in the tests).

Areas: ``A_{k+1} = A_k (1 + r_k) / (1 - r_k)`` from ``A_0 = 3.7 cm^2``; the
15th coefficient is the lip termination, so 15 areas result (the load "area"
beyond the lips is kept in ``params["lip_load_area_cm2"]``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from scipy.ndimage import gaussian_filter1d
from scipy.signal import decimate, firwin

from ..errors import EstimationError
from .lpc import autocorrelation, levinson_durbin, step_up
from .preprocess import pre_emphasis
from .tube import DB_PER_NEPER, tube_db_gradient

__all__ = [
    "PAPER_FIRST_AREA_CM2",
    "PAPER_N_BINS",
    "PAPER_N_FFT",
    "PAPER_N_SECTIONS",
    "PAPER_RATE",
    "fit_fast",
    "fit_fast_batch",
    "fit_published",
    "model_db",
    "paper_objective",
    "paper_omega",
    "paper_target",
    "paper_target_scipy",
]

PAPER_RATE = 16000
PAPER_N_FFT = 5120
PAPER_DECIMATION = 5
PAPER_SIGMA_BINS = 2.0
PAPER_N_BINS = 320
PAPER_N_SECTIONS = 15
PAPER_FIRST_AREA_CM2 = 3.7
PAPER_CLIP = 0.99
PUBLISHED_STEPS = 1500
PUBLISHED_DELTA = 0.01
PUBLISHED_RATE = 1e-6


#: The FIR filter of ``scipy.signal.decimate(x, 5, ftype="fir")``: 101 taps, Hamming.
DECIMATION_FIR = firwin(20 * PAPER_DECIMATION + 1, 1.0 / PAPER_DECIMATION, window="hamming")


def paper_target_scipy(frame: np.ndarray) -> np.ndarray:
    """Target spectrum computed with SciPy's ``decimate`` and ``gaussian_filter1d`` (reference)."""
    x = np.asarray(frame, dtype=np.float64)
    mag = np.abs(np.fft.rfft(x, PAPER_N_FFT))
    dec = np.abs(decimate(mag, PAPER_DECIMATION, ftype="fir"))
    db = 20.0 * np.log10(np.maximum(dec, np.finfo(np.float64).tiny))
    smooth = gaussian_filter1d(db, PAPER_SIGMA_BINS)
    smooth = smooth - smooth.mean()
    return np.ascontiguousarray(smooth[:PAPER_N_BINS])


@njit(cache=True)
def _target_from_magnitude(mag: np.ndarray, fir: np.ndarray) -> np.ndarray:
    """Decimate (zero-phase FIR, zero padding), dB, Gaussian (reflect), mean removal, 320 bins.

    Same arithmetic as ``scipy.signal.decimate(..., ftype="fir")`` followed by
    ``scipy.ndimage.gaussian_filter1d(..., sigma=2)`` (truncate 4, mode reflect).
    """
    q = PAPER_DECIMATION
    half = (fir.shape[0] - 1) // 2
    n_in = mag.shape[0]
    n_out = (n_in + q - 1) // q
    db = np.empty(n_out)
    tiny = 2.2250738585072014e-308
    for m in range(n_out):
        s = 0.0
        for d in range(-half, half + 1):
            i = q * m + d
            if 0 <= i < n_in:
                s += fir[half - d] * mag[i]
        db[m] = 20.0 * np.log10(max(abs(s), tiny))
    radius = int(4.0 * PAPER_SIGMA_BINS + 0.5)
    w = np.empty(2 * radius + 1)
    tot = 0.0
    for j in range(-radius, radius + 1):
        w[j + radius] = np.exp(-0.5 * (j / PAPER_SIGMA_BINS) ** 2)
        tot += w[j + radius]
    w /= tot
    smooth = np.empty(n_out)
    for m in range(n_out):
        s = 0.0
        for j in range(-radius, radius + 1):
            i = m + j
            # scipy.ndimage "reflect": (d c b a | a b c d | d c b a)
            while i < 0 or i >= n_out:
                i = -i - 1 if i < 0 else 2 * n_out - i - 1
            s += w[j + radius] * db[i]
        smooth[m] = s
    mean = np.mean(smooth)
    out = np.empty(PAPER_N_BINS)
    for m in range(PAPER_N_BINS):
        out[m] = smooth[m] - mean
    return out


def paper_target(frame: np.ndarray) -> np.ndarray:
    """Target spectrum (dB, 320 bins below 5 kHz) of a 16 kHz window."""
    x = np.asarray(frame, dtype=np.float64)
    if x.size > PAPER_N_FFT:
        raise EstimationError(
            f"paper method: window has {x.size} samples at 16 kHz; expected at most {PAPER_N_FFT}"
        )
    mag = np.abs(np.fft.rfft(x, PAPER_N_FFT))
    return _target_from_magnitude(mag, DECIMATION_FIR)


def paper_omega() -> np.ndarray:
    """Normalised angular frequency (rad/sample) of each target bin."""
    return 2.0 * np.pi * PAPER_DECIMATION * np.arange(PAPER_N_BINS) / PAPER_N_FFT


@njit(cache=True)
def _model_db_poly(r: np.ndarray, cos_t: np.ndarray, sin_t: np.ndarray) -> np.ndarray:
    """Published-style model evaluation: step-up polynomial, then |D| on the grid."""
    a = step_up(r)
    p = a.shape[0]
    gain = 1.0
    for k in range(r.shape[0]):
        gain *= 1.0 + r[k]
    m = cos_t.shape[0]
    out = np.empty(m)
    for i in range(m):
        re = 0.0
        im = 0.0
        for j in range(p):
            re += a[j] * cos_t[i, j]
            im -= a[j] * sin_t[i, j]
        out[i] = 20.0 * np.log10(gain / np.sqrt(re * re + im * im))
    return out


@njit(cache=True)
def _l1(target: np.ndarray, model: np.ndarray) -> float:
    s = 0.0
    for i in range(target.shape[0]):
        s += abs(target[i] - model[i])
    return s


@njit(cache=True)
def paper_objective(r: np.ndarray, target: np.ndarray, omega: np.ndarray) -> float:
    """L1 objective ``sum |target - model_db(r)|`` with ``r_G = 1``."""
    db, _, _ = tube_db_gradient(r, 1.0, omega)
    return _l1(target, db)


@njit(cache=True)
def fit_published(target: np.ndarray, omega: np.ndarray, n_sections: int, steps: int) -> np.ndarray:
    """The published central-difference gradient descent, step for step."""
    cos_t, sin_t = _phasor_tables(omega, n_sections)
    r = np.zeros(n_sections)
    grad = np.empty(n_sections)
    for _ in range(steps):
        for k in range(n_sections):
            rp = r.copy()
            rm = r.copy()
            rp[k] += PUBLISHED_DELTA
            rm[k] -= PUBLISHED_DELTA
            ep = _l1(target, _model_db_poly(rp, cos_t, sin_t))
            em = _l1(target, _model_db_poly(rm, cos_t, sin_t))
            grad[k] = (ep - em) / (2.0 * PUBLISHED_DELTA)
        for k in range(n_sections):
            v = r[k] - PUBLISHED_RATE * grad[k]
            if v != v:
                v = 0.0
            r[k] = min(PAPER_CLIP, max(-PAPER_CLIP, v))
    return r


@njit(cache=True)
def _phasor_tables(omega: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """``cos(omega_i j)`` and ``sin(omega_i j)`` for ``j = 0..p`` (powers of ``e^{j omega_i}``)."""
    m = omega.shape[0]
    cos_t = np.empty((m, p + 1))
    sin_t = np.empty((m, p + 1))
    for i in range(m):
        step = np.exp(1j * omega[i])
        ph = 1.0 + 0j
        for j in range(p + 1):
            cos_t[i, j] = ph.real
            sin_t[i, j] = ph.imag
            ph = ph * step
    return cos_t, sin_t


@njit(cache=True)
def step_up_jacobian(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step-up polynomial ``a`` and its Jacobian ``da_j / dk_m`` (forward-mode)."""
    p = k.shape[0]
    a = np.zeros(p + 1)
    a[0] = 1.0
    da = np.zeros((p + 1, p))
    ta = np.empty(p + 1)
    tda = np.empty((p + 1, p))
    for i in range(1, p + 1):
        ki = k[i - 1]
        ta[:] = a
        tda[:, :] = da
        for j in range(1, i):
            a[j] = ta[j] + ki * ta[i - j]
            for mm in range(i - 1):
                da[j, mm] = tda[j, mm] + ki * tda[i - j, mm]
            da[j, i - 1] = ta[i - j]
        a[i] = ki
        for mm in range(p):
            da[i, mm] = 0.0
        da[i, i - 1] = 1.0
    return a, da


@njit(cache=True)
def _model_value(r: np.ndarray, cos_t: np.ndarray, sin_t: np.ndarray, out: np.ndarray) -> None:
    a = step_up(r)
    log_gain = 0.0
    for k in range(r.shape[0]):
        log_gain += np.log(1.0 + r[k])
    for i in range(cos_t.shape[0]):
        re = 0.0
        im = 0.0
        for j in range(a.shape[0]):
            re += a[j] * cos_t[i, j]
            im -= a[j] * sin_t[i, j]
        out[i] = DB_PER_NEPER * (log_gain - 0.5 * np.log(re * re + im * im))


@njit(cache=True)
def _model_jacobian(
    r: np.ndarray, cos_t: np.ndarray, sin_t: np.ndarray, db: np.ndarray, jac: np.ndarray
) -> None:
    a, da = step_up_jacobian(r)
    n = r.shape[0]
    p1 = a.shape[0]
    m = cos_t.shape[0]
    log_gain = 0.0
    for k in range(n):
        log_gain += np.log(1.0 + r[k])
    q = np.empty((m, p1 - 1))
    for i in range(m):
        re = 0.0
        im = 0.0
        for j in range(p1):
            re += a[j] * cos_t[i, j]
            im -= a[j] * sin_t[i, j]
        mag2 = re * re + im * im
        db[i] = DB_PER_NEPER * (log_gain - 0.5 * np.log(mag2))
        # d ln|D| / d a_j = Re(e^{-j w j} conj(D)) / |D|^2
        for j in range(1, p1):
            q[i, j - 1] = (cos_t[i, j] * re - sin_t[i, j] * im) / mag2
    prod = np.dot(q, np.ascontiguousarray(da[1:, :]))
    for i in range(m):
        for k in range(n):
            jac[i, k] = DB_PER_NEPER * (1.0 / (1.0 + r[k]) - prod[i, k])


@njit(cache=True)
def _cholesky_solve(h: np.ndarray, g: np.ndarray, out: np.ndarray) -> bool:
    """Solve ``h x = g`` for symmetric positive definite ``h`` in place (``h`` is overwritten)."""
    n = g.shape[0]
    for j in range(n):
        d = h[j, j]
        for k in range(j):
            d -= h[j, k] * h[j, k]
        if d <= 0.0:
            return False
        d = np.sqrt(d)
        h[j, j] = d
        for i in range(j + 1, n):
            v = h[i, j]
            for k in range(j):
                v -= h[i, k] * h[j, k]
            h[i, j] = v / d
    for i in range(n):
        v = g[i]
        for k in range(i):
            v -= h[i, k] * out[k]
        out[i] = v / h[i, i]
    for i in range(n - 1, -1, -1):
        v = out[i]
        for k in range(i + 1, n):
            v -= h[k, i] * out[k]
        out[i] = v / h[i, i]
    return True


@njit(cache=True)
def _irls_lm(
    target: np.ndarray, cos_t: np.ndarray, sin_t: np.ndarray, r0: np.ndarray, max_iter: int
) -> tuple[np.ndarray, float]:
    """Minimise the L1 objective by reweighted Levenberg-Marquardt inside the +-0.99 box."""
    n = r0.shape[0]
    m = target.shape[0]
    r = np.minimum(PAPER_CLIP, np.maximum(-PAPER_CLIP, r0.copy()))
    db = np.empty(m)
    jac = np.empty((m, n))
    dbn = np.empty(m)
    rn = np.empty(n)
    _model_jacobian(r, cos_t, sin_t, db, jac)
    best = _l1(target, db)
    lam = 1e-3
    h = np.empty((n, n))
    neg_g = np.empty(n)
    step = np.empty(n)
    jw = np.empty((m, n))
    we = np.empty(m)
    for _ in range(max_iter):
        for i in range(m):
            e = db[i] - target[i]
            sw = 1.0 / np.sqrt(max(abs(e), 0.05))
            we[i] = e * sw
            for a in range(n):
                jw[i, a] = jac[i, a] * sw
        jtj = np.dot(jw.T, jw)
        g = np.dot(jw.T, we)
        for a in range(n):
            neg_g[a] = -g[a]
        accepted = False
        rel = 0.0
        for _ in range(10):
            h[:, :] = jtj
            for a in range(n):
                h[a, a] += lam * (jtj[a, a] + 1e-9)
            if not _cholesky_solve(h, neg_g, step):
                lam *= 8.0
                continue
            for a in range(n):
                rn[a] = min(PAPER_CLIP, max(-PAPER_CLIP, r[a] + step[a]))
            _model_value(rn, cos_t, sin_t, dbn)
            en = _l1(target, dbn)
            if en < best:
                rel = (best - en) / max(best, 1e-12)
                r[:] = rn
                best = en
                lam = max(lam * 0.3, 1e-7)
                accepted = True
                break
            lam *= 8.0
        if not accepted or rel < 1e-6:
            break
        _model_jacobian(r, cos_t, sin_t, db, jac)
    return r, best


@njit(cache=True)
def _lpc_start(x: np.ndarray, n_sections: int, emphasis: float) -> np.ndarray:
    y = pre_emphasis(x, emphasis)
    rr = autocorrelation(y, n_sections)
    rr[0] *= 1.0 + 1e-9
    _, k, _ = levinson_durbin(rr, n_sections)
    return k


@njit(cache=True)
def fit_fast(
    frame: np.ndarray, target: np.ndarray, omega: np.ndarray, n_sections: int, max_iter: int
) -> tuple[np.ndarray, float]:
    """Same objective as the published fit, minimised properly: ``(r, objective)``.

    Starts: ``r = 0`` and the LPC reflection coefficients of the window
    (pre-emphasis 0, 0.5, 0.9, 0.97), each shrunk by 0.25, 0.5, 0.75 and 1.
    The start with the lowest objective is refined by IRLS-LM.
    """
    cos_t, sin_t = _phasor_tables(omega, n_sections)
    m = target.shape[0]
    starts = np.zeros((17, n_sections))
    row = 1
    for emphasis in (0.0, 0.5, 0.9, 0.97):
        k = _lpc_start(frame, n_sections, emphasis)
        for shrink in (0.25, 0.5, 0.75, 1.0):
            for j in range(n_sections):
                starts[row, j] = min(PAPER_CLIP, max(-PAPER_CLIP, shrink * k[j]))
            row += 1
    values = np.empty(17)
    db = np.empty(m)
    for s in range(17):
        _model_value(starts[s], cos_t, sin_t, db)
        values[s] = _l1(target, db)
    order = np.argsort(values)
    best_r, best_e = _irls_lm(target, cos_t, sin_t, starts[order[0]], max_iter)
    return best_r, best_e


@njit(cache=True, parallel=True)
def fit_fast_batch(
    frames: np.ndarray, targets: np.ndarray, omega: np.ndarray, n_sections: int, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_fast` over rows of ``frames``/``targets`` in parallel."""
    n = targets.shape[0]
    rs = np.empty((n, n_sections))
    es = np.empty(n)
    for i in prange(n):
        r, e = fit_fast(frames[i], targets[i], omega, n_sections, max_iter)
        rs[i] = r
        es[i] = e
    return rs, es


def model_db(r: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """Model magnitude (dB) of the closed-glottis tube."""
    db, _, _ = tube_db_gradient(np.ascontiguousarray(r, dtype=np.float64), 1.0, omega)
    return db
