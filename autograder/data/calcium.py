"""Synthetic widefield calcium images: real-looking sessions and GAN-like fakes, drawn from a seed.

A real image is mouse dorsal cortex seen from above: two hemispheres mirrored about a thin dark
horizontal midline, paired activation blobs (now and then a deactivation), strong pixel grain,
and a circular field-of-view mask with an exactly constant fill outside it. A fake has the same
overall look with the flaws of a generator: a soft, partial or missing mask edge with a noisy
fill, a weaker and wider midline, blobs that are less symmetric or smeared, and a smoother grain.

Each segment is its own recording session with its own brain position, brightness, grain, blob
statistics and mask variant; later sessions drift further from the first ones. Everything is
drawn from `numpy.random.default_rng([seed, segment, ...])`, chunk by chunk, so any image can be
regenerated alone and two runs with one seed give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDE = 128
CHUNK = 128  # images drawn from one random stream; the unit of determinism and of streaming
KINDS = ("real", "fake")

_ROWS, _COLS = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
_CHECKER = np.where((_ROWS + _COLS) % 2 == 0, 1.0, -1.0).astype(np.float32)
# Field-of-view masks: (centre row, centre column, radius). Sessions use one of the two.
MASK_VARIANTS = ((63.5, 63.5, 74.0), (62.0, 65.0, 69.0))


@dataclass(frozen=True)
class Session:
    """What one recording session shares across its images."""

    segment: int
    row_shift: float  # midline position relative to the image centre
    col_shift: float  # brain centre relative to the image centre
    level: float  # brightness of cortex away from the blobs
    dome: float  # extra brightness at the centre of the brain
    fill: float  # the constant outside the field of view
    grain: float  # standard deviation of the 2x2 pixel grain
    speckle: float  # standard deviation of the per-pixel noise
    blob_amplitude: float
    blob_width: float
    midline_depth: float
    mask: int  # index into MASK_VARIANTS
    # Fakes of a later generator: the mask right but for a faint grain in the fill, and a checkerboard
    # (its upsampling's mark) in place of the earlier flaws' more visible ones.
    perfect_share: float


def draw_session(seed: int, segment: int) -> Session:
    """The session parameters of `segment`: random, and drifting away from segment 0 as it grows."""
    rng = np.random.default_rng([seed, segment, 7919])
    drift = (segment / 9.0) ** 2  # the first sessions are alike; the last ones have moved away
    sign = rng.choice([-1.0, 1.0], size=2)
    return Session(
        segment=segment,
        row_shift=float(sign[0] * (rng.uniform(0.0, 1.5) + 4.0 * drift)),
        col_shift=float(sign[1] * (rng.uniform(0.0, 2.0) + 6.0 * drift)),
        level=float(rng.uniform(0.9, 1.1) * (1.0 - 0.15 * drift)),
        dome=float(rng.uniform(0.15, 0.35)),
        fill=float(rng.uniform(0.55, 0.85)),
        grain=float(rng.uniform(0.10, 0.14) * (1.0 + 0.4 * drift)),
        speckle=float(rng.uniform(0.05, 0.08)),
        blob_amplitude=float(rng.uniform(0.5, 0.9) * (1.0 - 0.3 * drift)),
        blob_width=float(rng.uniform(5.0, 8.0)),
        midline_depth=float(rng.uniform(0.25, 0.40) * (1.0 - 0.3 * drift)),
        mask=int(rng.integers(len(MASK_VARIANTS))) if segment else 0,
        perfect_share=float(0.25 * min(1.0, max(0.0, (segment - 2) / 7.0))),
    )


def draw_images(seed: int, segment: int, kind: str, chunk: int) -> np.ndarray:
    """The `chunk`-th block of CHUNK images of one segment and kind, as float32 (CHUNK, 128, 128)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    session = draw_session(seed, segment)
    rng = np.random.default_rng([seed, segment, KINDS.index(kind), chunk])
    return _render(rng, session, fake=kind == "fake", n=CHUNK)


def _render(rng: np.random.Generator, s: Session, fake: bool, n: int) -> np.ndarray:
    """n images of session `s`; the fake flaws are switched on per image when `fake`."""
    mid = (SIDE - 1) / 2 + s.row_shift + rng.uniform(-1.0, 1.0, n)
    centre = (SIDE - 1) / 2 + s.col_shift + rng.uniform(-1.5, 1.5, n)
    level = s.level * rng.uniform(0.92, 1.08, n)
    perfect = rng.random(n) < s.perfect_share if fake else np.zeros(n, dtype=bool)
    images = _brain(s, mid, centre, level)
    images += _blob_pairs(rng, s, mid, centre, fake, n)
    images -= _midline(rng, s, mid, centre, fake, n)
    images += _grain(rng, s, fake, n)
    images += _col(np.where(perfect, rng.uniform(0.08, 0.12, n), 0.0)) * _CHECKER
    return _apply_mask(rng, s, images, fake, perfect).astype(np.float32)


def _col(v: np.ndarray) -> np.ndarray:
    """Per-image values shaped to broadcast against (n, 128, 128)."""
    return np.asarray(v, dtype=np.float32)[:, None, None]


def _brain(s: Session, mid: np.ndarray, centre: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Cortex brightness: a level plus a broad dome centred on the brain."""
    dr = (_ROWS - _col(mid)) / 42.0
    dc = (_COLS - _col(centre)) / 50.0
    return _col(level) + s.dome * np.exp(-0.5 * (dr * dr + dc * dc))


def _blob_pairs(
    rng: np.random.Generator, s: Session, mid: np.ndarray, centre: np.ndarray, fake: bool, n: int
) -> np.ndarray:
    """One to three activations mirrored about the midline; a fake's partner drifts and smears."""
    out = np.zeros((n, SIDE, SIDE), dtype=np.float32)
    pairs = rng.integers(1, 4, n)
    for k in range(3):
        on = (pairs > k).astype(np.float32)
        amp = s.blob_amplitude * rng.lognormal(0.0, 0.35, n) * np.where(rng.random(n) < 0.12, -0.6, 1.0) * on
        col = centre + rng.uniform(-38.0, 30.0, n)
        off = rng.uniform(7.0, 26.0, n)
        w_col = s.blob_width * rng.uniform(1.0, 1.8, n)
        w_row = s.blob_width * rng.uniform(0.55, 0.9, n)
        # The partner in the other hemisphere: an exact mirror in a real image.
        p_amp, p_col, p_off, p_wc, p_wr = amp * rng.uniform(0.85, 1.0, n), col, off, w_col, w_row
        if fake:
            flawed = rng.random(n) < 0.8
            p_amp = np.where(flawed, amp * rng.uniform(0.35, 0.8, n), p_amp)
            p_col = np.where(flawed, col + rng.normal(0.0, 5.0, n), p_col)
            p_off = np.where(flawed, off + rng.normal(0.0, 4.0, n), p_off)
            smear = np.where(flawed, rng.uniform(1.2, 1.8, n), 1.0)
            p_wc, p_wr = w_col * smear, w_row * smear
        upper = rng.random(n) < 0.5
        for a, c, o, wc, wr, sign in (
            (amp, col, off, w_col, w_row, np.where(upper, -1.0, 1.0)),
            (p_amp, p_col, p_off, p_wc, p_wr, np.where(upper, 1.0, -1.0)),
        ):
            dr = (_ROWS - _col(mid + sign * o)) / _col(wr)
            dc = (_COLS - _col(c)) / _col(wc)
            out += _col(a) * np.exp(-0.5 * (dr * dr + dc * dc))
    return out


def _midline(
    rng: np.random.Generator, s: Session, mid: np.ndarray, centre: np.ndarray, fake: bool, n: int
) -> np.ndarray:
    """The dark gap between the hemispheres, from the front of the brain to past its centre."""
    depth = s.midline_depth * rng.uniform(0.8, 1.2, n)
    width = rng.uniform(0.7, 1.0, n)
    if fake:
        depth = depth * rng.uniform(0.25, 0.7, n)
        width = width * rng.uniform(1.4, 2.5, n)
    start = centre - rng.uniform(50.0, 60.0, n)
    stop = centre + rng.uniform(10.0, 45.0, n)
    dr = (_ROWS - _col(mid)) / _col(width)
    span = _sigmoid((_COLS - _col(start)) / 2.0) * _sigmoid((_col(stop) - _COLS) / 4.0)
    return _col(depth) * np.exp(-0.5 * dr * dr) * span


def _grain(rng: np.random.Generator, s: Session, fake: bool, n: int) -> np.ndarray:
    """Blocky 2x2 grain plus per-pixel speckle; a generator's grain is a little smoother."""
    coarse = rng.standard_normal((n, SIDE // 2, SIDE // 2), dtype=np.float32)
    if fake:
        coarse = 0.6 * coarse + 0.4 * _box3(coarse) * 3.0
    blocks = np.repeat(np.repeat(coarse, 2, axis=1), 2, axis=2)
    fine = rng.standard_normal((n, SIDE, SIDE), dtype=np.float32)
    return s.grain * blocks + s.speckle * fine


def _apply_mask(
    rng: np.random.Generator, s: Session, images: np.ndarray, fake: bool, perfect: np.ndarray
) -> np.ndarray:
    """Outside the field of view: the session's exact constant (real), or a flawed fill (fake)."""
    n = images.shape[0]
    r0, c0, radius = MASK_VARIANTS[s.mask]
    dist = np.hypot(_ROWS - r0, _COLS - c0)
    if not fake:
        return np.where(dist[None] <= radius, images, np.float32(s.fill))
    # 0: hard edge with a noisy fill, 1: soft edge, 2: partial, 3: missing, 4: right but for a faint grain
    flawed = rng.choice(4, size=n, p=[0.3, 0.3, 0.2, 0.2])
    mode = np.where(perfect, 4, flawed)
    edge = np.where(mode == 1, rng.uniform(1.5, 5.0, n), 0.35)
    inside = _sigmoid((radius + rng.normal(0.0, 1.0, n)[:, None, None] - dist[None]) / _col(edge))
    side = rng.choice([-1.0, 1.0], size=n)
    keep_half = _sigmoid(_col(side) * (_COLS[None] - SIDE / 2) / 3.0)  # partial: one side unmasked
    inside = np.where(_col(mode == 2), np.maximum(inside, keep_half), inside)
    inside = np.where(_col(mode == 3), 1.0, inside)
    level = np.where(mode == 4, rng.uniform(0.004, 0.015, n), rng.uniform(0.04, 0.12, n))
    noise = _col(level) * rng.standard_normal(images.shape, dtype=np.float32)
    fill = s.fill + noise
    return inside * images + (1.0 - inside) * fill


def _box3(x: np.ndarray) -> np.ndarray:
    """3x3 mean filter over the last two axes (edges wrap, which the grain cannot show)."""
    acc = np.zeros_like(x)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            acc += np.roll(x, (dr, dc), axis=(-2, -1))
    return acc / 9.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))
