"""Text similarity for dedup: normalised words, MinHash signatures and LSH band keys.

Why MinHash-LSH: a 64-value signature (128 bytes) estimates the Jaccard similarity of two
stories' word-shingle sets, and 16 band keys of 4 rows find the stories worth comparing
without scanning them all (a pair with Jaccard 0.7 shares a band with probability 0.99,
one with 0.3 with probability 0.12). From the estimate and the set sizes follows the
*containment* of the smaller text in the larger, which is what a re-syndicated copy with a new
intro, or an update that adds paragraphs, keeps high.

Hashes are ``zlib.crc32`` and fixed multiply-shift coefficients, so signatures are the same in
every process and survive restarts.
"""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SHINGLE_WORDS = 3
PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
_WORD = re.compile(r"[^\W_]+")
MIN_JACCARD = 8 / PERMUTATIONS
NUMBERS_TOLERANCE = 2
NUMBERS_TOLERANCE_SHARE = 0.2
_rng = np.random.default_rng(20261129)
_A = _rng.integers(1, 1 << 63, PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 1 << 63, PERMUTATIONS, dtype=np.uint64)

Signature = npt.NDArray[np.uint16]
_DIGIT = re.compile(r"\d")


def normalised_words(text: str) -> list[str]:
    """Case-folded words without punctuation or spacing: what dedup compares."""
    return _WORD.findall(text.casefold())


def shingle_hashes(words: list[str]) -> npt.NDArray[np.uint64]:
    """The distinct 32-bit hashes of the text's word 3-grams (the words themselves if fewer)."""
    if len(words) < SHINGLE_WORDS:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - 2)]
    return np.unique(np.fromiter((zlib.crc32(g.encode()) for g in grams), np.uint64, len(grams)))


def minhash(hashes: npt.NDArray[np.uint64]) -> Signature:
    """The MinHash signature of a shingle-hash set, keeping 16 bits of each minimum (b-bit
    MinHash: two different minima agree by chance once in 65,536, and the signature is 128
    bytes). An empty set gives all ones."""
    if hashes.size == 0:
        return np.full(PERMUTATIONS, 0xFFFF, dtype=np.uint16)
    # Multiply-shift hashing: the top 32 bits of (a * x + b) mod 2^64, a odd.
    mixed = (np.outer(_A, hashes) + _B[:, None]) >> np.uint64(32)
    signature: Signature = (mixed.min(axis=1) & np.uint64(0xFFFF)).astype(np.uint16)
    return signature


def band_keys(signature: Signature) -> list[str]:
    """One key per LSH band: stories that share any key are candidates for comparison. A key
    keeps 16 bits of the band's hash, so buckets hold a few stories each at a million stories
    (more candidates to verify, far fewer keys to store)."""
    return _band_keys_of_bytes(signature.astype("<u2").tobytes())


def stored_band_keys(profile: dict[str, object]) -> list[str]:
    """The band keys of a profile as ``TextProfile.to_json`` stored it, read straight from
    the encoded signature: rebuilding the band index decodes nothing else."""
    return _band_keys_of_bytes(base64.b64decode(str(profile["sig"])))


def _band_keys_of_bytes(signature: bytes) -> list[str]:
    width = ROWS * 2  # bytes per band: ROWS little-endian 16-bit values
    return [
        f"{band:x}{zlib.crc32(signature[band * width : (band + 1) * width]) & 0xFFFF:04x}"
        for band in range(BANDS)
    ]


def jaccard(a: Signature, b: Signature) -> float:
    return float(np.count_nonzero(a == b)) / PERMUTATIONS


def containment(a: Signature, size_a: int, b: Signature, size_b: int) -> float:
    """Estimated share of the smaller shingle set found in the larger one; 0 below
    ``MIN_JACCARD``, where a few chance collisions would inflate the estimate for texts of
    very different lengths (so a copy is found in a text up to about eight times longer)."""
    j = jaccard(a, b)
    if j < MIN_JACCARD or min(size_a, size_b) == 0:
        return 0.0
    shared = j / (1 + j) * (size_a + size_b)
    return min(1.0, shared / min(size_a, size_b))


@dataclass(frozen=True)
class TextProfile:
    """What dedup keeps of a text: its signature, its size and its numbers."""

    signature: Signature
    size: int
    numbers: tuple[str, ...]

    @classmethod
    def of(cls, words: list[str]) -> TextProfile:
        """The profile of a text's ``normalised_words``."""
        hashes = shingle_hashes(words)
        numbers = tuple(sorted({w for w in words if _DIGIT.search(w)}))
        return cls(minhash(hashes), int(hashes.size), numbers)

    def to_json(self) -> dict[str, object]:
        encoded = base64.b64encode(self.signature.astype("<u2").tobytes()).decode("ascii")
        return {"sig": encoded, "size": self.size, "num": list(self.numbers)}

    @classmethod
    def from_json(cls, value: dict[str, object]) -> TextProfile:
        raw = base64.b64decode(str(value["sig"]))
        signature: Signature = np.frombuffer(raw, dtype="<u2").astype(np.uint16)
        numbers = value.get("num") or []
        assert isinstance(numbers, list)
        return cls(signature, int(str(value["size"])), tuple(str(n) for n in numbers))


def numbers_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The figures of the text with fewer are in the other but for a few (a date in a new
    intro, a corrected figure): the guard that keeps daily market reports, results tables and
    weather, which share their template but not their numbers, apart."""
    smaller, larger = sorted((set(a), set(b)), key=len)
    missing = len(smaller - larger)
    return missing <= max(NUMBERS_TOLERANCE, int(len(smaller) * NUMBERS_TOLERANCE_SHARE))
