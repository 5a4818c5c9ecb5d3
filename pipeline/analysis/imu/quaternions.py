"""Unit quaternions, vectorised: products, rotation of vectors, and the running product of a gyroscope's increments.

Quaternions are arrays ``(..., 4)`` in scalar-first order ``(w, x, y, z)``. A quaternion ``q`` maps vectors of a
body frame into the world frame (``v_world = q v_body q*``). Strapdown integration multiplies the body-frame
increments on the right: ``q_k = q_0 (x) dq_1 (x) ... (x) dq_k``. The product is associative, so the running
product is computed as a parallel prefix scan (Hillis & Steele 1986: ``log2(n)`` vectorised steps) instead of a
Python loop over samples.
"""

from __future__ import annotations

import numpy as np


def multiply(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamilton product ``p (x) q`` of quaternion arrays (broadcasting over leading axes)."""
    pw, px, py, pz = np.moveaxis(p, -1, 0)
    qw, qx, qy, qz = np.moveaxis(q, -1, 0)
    return np.stack([
        pw * qw - px * qx - py * qy - pz * qz,
        pw * qx + px * qw + py * qz - pz * qy,
        pw * qy - px * qz + py * qw + pz * qx,
        pw * qz + px * qy - py * qx + pz * qw,
    ], axis=-1)


def from_rotation_vector(rotvec: np.ndarray) -> np.ndarray:
    """Quaternions of rotation vectors ``(..., 3)`` (axis times angle in radians)."""
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half) / angle, with its limit 1/2 at zero angle
    k = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.concatenate([np.cos(half), rotvec * k], axis=-1)


def to_rotation_vector(q: np.ndarray) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` of quaternions (the shorter of the two rotations)."""
    q = np.where(q[..., :1] < 0, -q, q)
    s = np.linalg.norm(q[..., 1:], axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    k = np.where(s > 1e-12, angle / np.where(s > 1e-12, s, 1.0), 2.0)
    return q[..., 1:] * k


def rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectors ``v`` (..., 3) of the body frame expressed in the world frame by quaternions ``q`` (..., 4)."""
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (quaternion) that turns the direction of ``a`` into the direction of ``b`` (3-vectors).

    For opposite directions the rotation is half a turn about an axis perpendicular to ``a``.
    """
    a = np.asarray(a, float) / np.linalg.norm(a)
    b = np.asarray(b, float) / np.linalg.norm(b)
    c = float(np.dot(a, b))
    if c < -1.0 + 1e-9:
        axis = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(axis) < 1e-6:
            axis = np.cross(a, [0.0, 1.0, 0.0])
        return from_rotation_vector(np.pi * axis / np.linalg.norm(axis))
    q = np.concatenate([[1.0 + c], np.cross(a, b)])
    return q / np.linalg.norm(q)


def running_product(q0: np.ndarray, increments: np.ndarray) -> np.ndarray:
    """``[q0, q0 dq_1, q0 dq_1 dq_2, ...]``: shape ``(n + 1, 4)`` for ``n`` increments ``(n, 4)``.

    A Hillis-Steele inclusive scan: after the step with offset ``d`` every element holds the product of the (up to)
    ``2 d`` increments ending at it, so ``ceil(log2(n))`` vectorised steps replace ``n`` sequential products.
    """
    scan = np.concatenate([np.asarray(q0, float)[None, :], increments], axis=0)
    d = 1
    while d < len(scan):
        scan[d:] = multiply(scan[:-d], scan[d:])
        d *= 2
    return scan / np.linalg.norm(scan, axis=1, keepdims=True)
