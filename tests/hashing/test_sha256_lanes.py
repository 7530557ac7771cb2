"""The SHA-NI lanes extension against FIPS 180-2 vectors and hashlib as the reference implementation."""

from __future__ import annotations

import hashlib
import platform
import random
import threading

import pytest

from vault.hashing import lanes

native = lanes._native


def cpu_has_sha_ni() -> bool:
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            return any(line.startswith("flags") and " sha_ni" in line for line in cpuinfo)
    except OSError:
        return False


def test_extension_in_use_where_cpu_supports_it() -> None:
    # A failed build falls back silently at install time, so this test is what makes CI report it.
    if cpu_has_sha_ni():
        assert lanes.engine() == "sha-ni lanes", "the _sha256_lanes extension was not built or not loaded; run make install"
    else:
        assert lanes.engine() == "hashlib"


requires_native = pytest.mark.skipif(native is None, reason="no SHA-NI on this CPU; test_extension_in_use_where_cpu_supports_it checks why")

# FIPS 180-2 appendix B examples. Reproduce each with: printf '%s' "$MESSAGE" | sha256sum
KNOWN_ANSWERS = [
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    # python3 -c "print('a' * 1000000, end='')" | sha256sum
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]


@requires_native
@pytest.mark.parametrize("message, expected", KNOWN_ANSWERS, ids=["empty", "abc", "448-bit", "896-bit", "million-a"])
def test_known_answer(message: bytes, expected: str) -> None:
    hasher = native.Sha256(message)

    assert hasher.hexdigest() == expected
    assert hasher.digest().hex() == expected


@requires_native
def test_every_length_to_300_bytes() -> None:
    data = random.Random(1).randbytes(300)
    for length in range(301):
        assert native.Sha256(data[:length]).digest() == hashlib.sha256(data[:length]).digest(), f"length {length}"


@requires_native
def test_lanes_at_different_offsets_match_hashlib() -> None:
    rng = random.Random(2)
    source = rng.randbytes(1 << 20)
    for trial in range(400):
        prefixes = [rng.randbytes(rng.choice([0, 1, 31, 63, 64, 65, rng.randrange(200)])) for _ in range(rng.randint(1, 7))]
        hashers = [native.Sha256(prefix) for prefix in prefixes]
        references = [hashlib.sha256(prefix) for prefix in prefixes]

        for _ in range(rng.randint(1, 4)):
            start = rng.randrange(len(source))
            length = rng.choice([0, 1, 63, 64, 65, 127, 128, 129, 4096, rng.randrange(300_000)])
            chunk = source[start : start + length]
            native.update_together(hashers, chunk)
            for reference in references:
                reference.update(chunk)

        assert [h.digest() for h in hashers] == [r.digest() for r in references], f"trial {trial}"


@requires_native
def test_accepts_bytearray_and_memoryview() -> None:
    data = random.Random(3).randbytes(10_000)
    first, second = native.Sha256(), native.Sha256(b"\x00")

    native.update_together([first, second], bytearray(data[:5000]))
    native.update_together((first, second), memoryview(data)[5000:])

    assert first.digest() == hashlib.sha256(data).digest()
    assert second.digest() == hashlib.sha256(b"\x00" + data).digest()


@requires_native
def test_digest_leaves_hash_open_and_copy_independent() -> None:
    hasher = native.Sha256(b"first part ")
    copy = hasher.copy()

    early = hasher.digest()
    hasher.update(b"second part")

    assert early == hashlib.sha256(b"first part ").digest()
    assert hasher.digest() == hashlib.sha256(b"first part second part").digest()
    assert copy.digest() == early
    assert (hasher.name, hasher.digest_size, hasher.block_size) == ("sha256", 32, 64)


@requires_native
def test_same_hasher_twice_rejected() -> None:
    hasher = native.Sha256()

    with pytest.raises(ValueError, match="positions 0 and 1"):
        native.update_together([hasher, hasher], b"x" * 100)
    assert hasher.digest() == hashlib.sha256().digest()


@requires_native
def test_foreign_hasher_rejected() -> None:
    with pytest.raises(TypeError, match="hashlib"):
        native.update_together([native.Sha256(), hashlib.sha256()], b"data")


@requires_native
def test_parallel_threads_each_with_own_hashers() -> None:
    data = random.Random(4).randbytes(4 << 20)
    results: dict[int, bytes] = {}

    def work(number: int) -> None:
        hashers = [native.Sha256(bytes([number])), native.Sha256()]
        for start in range(0, len(data), 1 << 20):
            native.update_together(hashers, data[start : start + (1 << 20)])
        results[number] = hashers[0].digest()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for number in range(4):
        assert results[number] == hashlib.sha256(bytes([number]) + data).digest()


def test_fallback_hashes_each_with_hashlib(monkeypatch) -> None:
    monkeypatch.setattr(lanes, "_native", None)
    hashers = [lanes.new_sha256(), lanes.new_sha256(b"\x00")]

    lanes.update_together(hashers, b"evidence")

    assert lanes.engine() == "hashlib"
    assert hashers[0].digest() == hashlib.sha256(b"evidence").digest()
    assert hashers[1].digest() == hashlib.sha256(b"\x00evidence").digest()


@requires_native
def test_hashers_list_emptied_during_update() -> None:
    # update_together() releases the GIL, so another thread may empty the list that contains the only
    # references. The hashers must stay alive until the update ends, or new objects that reuse
    # their memory get a wrong state.
    data = bytes(32 << 20)
    emptied_during_update = 0
    for attempt in range(20):
        shared = [native.Sha256() for _ in range(3)]
        entered = threading.Event()

        def work() -> None:
            entered.set()
            native.update_together(shared, data)

        thread = threading.Thread(target=work)
        thread.start()
        entered.wait()
        shared.clear()
        replacements = [native.Sha256(b"x") for _ in range(200)]
        still_running = thread.is_alive()
        thread.join()
        if not still_running:
            continue
        emptied_during_update += 1

        assert all(replacement.digest() == hashlib.sha256(b"x").digest() for replacement in replacements), f"attempt {attempt}"
        if emptied_during_update >= 3:
            break

    assert emptied_during_update > 0, "the list was never emptied while update_together() ran; use more data"
