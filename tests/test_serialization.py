"""Checkpoints: exact round trips, atomic writes under SIGKILL, damaged or hostile files refused."""

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.serialization import HEADER_KEY, MAX_DEPTH, CheckpointError

ROOT = Path(__file__).resolve().parent.parent


def _checkpoint():
    rng = np.random.default_rng(0)
    return {
        "model": {
            "embedding.weight": rng.standard_normal((7, 3)).astype(np.float32),
            "rnn.weight_ih_l0": rng.standard_normal((4, 3)),
            "counts": np.arange(5, dtype=np.int64),
            "mask": np.array([[True, False]]),
            "bytes": np.arange(4, dtype=np.uint8),
            "scalar": np.array(2.5, dtype=np.float16),
            "empty": np.zeros((0, 3), dtype=np.int32),
            "big_endian": np.arange(3, dtype=">f8"),
        },
        "optimizer": {"state": {0: {"step": 3}, 2: {"step": 1}}, "param_groups": []},
        "epoch": 3,
        "vocab": ["<pad>", "the", "ünïcode", ""],
        "config": {"hidden": 64, "dropout": 0.25, "betas": (0.9, 0.999), "tied": False},
        "special": [None, float("inf"), -float("inf"), -0.0, 10**30, np.float32(0.1), np.int8(-3)],
    }


def _assert_same(a, b, where="obj"):
    """Equal values and equal types all the way down (tuples stay tuples, int keys stay ints)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b and str(a) == str(b), where  # str() tells -0.0 from 0.0


def test_save_load_round_trip_is_exact(tmp_path):
    path = tmp_path / "run.ckpt"
    obj = _checkpoint()
    rg.save(obj, path)
    loaded = rg.load(path)
    _assert_same(obj, loaded)
    assert loaded["model"]["counts"].flags.writeable
    assert os.listdir(tmp_path) == ["run.ckpt"]  # written at exactly the path, no temp left


def test_save_accepts_nan_and_a_str_path(tmp_path):
    rg.save({"loss": float("nan")}, str(tmp_path / "nan"))
    assert np.isnan(rg.load(str(tmp_path / "nan"))["loss"])


def test_save_to_a_name_near_the_length_limit(tmp_path):
    path = tmp_path / ("x" * 240)  # valid: NAME_MAX is 255 on common file systems
    rg.save({"a": 1}, path)
    assert rg.load(path) == {"a": 1}
    assert os.listdir(tmp_path) == [path.name]


def test_optimizer_and_model_state_survive_save_load(tmp_path):
    nn = pytest.importorskip("retrograd.nn")
    rng = np.random.default_rng(1)
    model = nn.Linear(3, 2, generator=1)
    params = list(model.parameters())
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.01)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(8)]

    def run(o, ps, steps):
        for step in steps:
            for p, g in zip(ps, step):
                p.grad = g.astype(p.dtype)
            o.step()

    run(opt, params, grads[:4])
    checkpoint = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 4}
    rg.save(checkpoint, tmp_path / "c")
    checkpoint = rg.load(tmp_path / "c")
    twin = nn.Linear(3, 2, generator=2)
    twin.load_state_dict(checkpoint["model"])
    twin_params = list(twin.parameters())
    twin_opt = optim.Adam([{"params": twin_params[:1]}, {"params": twin_params[1:]}])
    twin_opt.load_state_dict(checkpoint["optimizer"])
    run(opt, params, grads[4:])
    run(twin_opt, twin_params, grads[4:])
    for p, q in zip(params, twin_params):
        assert q.dtype == np.float32
        np.testing.assert_array_equal(p.data, q.data)
    assert twin_opt.param_groups[1]["lr"] == 0.5 and checkpoint["epoch"] == 4


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"w": np.array([object()])}, r"obj\['w'\] has dtype object"),
        ({"w": np.array(["a", "b"])}, "has dtype <U1"),
        ([np.zeros(2, dtype=complex)], r"obj\[0\] has dtype complex128"),
        ({"t": rg.tensor([1.0])}, "of type Tensor; store tensor.data or a state_dict"),
        ({1.5: 1}, "has key 1.5; keys must be str or int"),
        ({"s": {1, 2}}, r"obj\['s'\] of type set"),
    ],
)
def test_save_refuses_what_it_cannot_store(tmp_path, obj, match):
    with pytest.raises(TypeError, match=match):
        rg.save(obj, tmp_path / "x")
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_structure_containing_itself(tmp_path):
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(TypeError, match="contains itself"):
        rg.save(loop, tmp_path / "x")


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c"
    rg.save({"generation": 1}, path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        rg.save({"generation": 2}, path)
    assert rg.load(path) == {"generation": 1}
    assert os.listdir(tmp_path) == ["c"]


CHILD = """
import sys
import numpy as np
import retrograd as rg

path = sys.argv[1]
values = np.empty(600_000)  # about 5 MB per checkpoint
generation = 1
while True:
    values.fill(generation)
    rg.save({"generation": generation, "values": values}, path)
    if generation == 1:  # the kills below land in later saves, however slow the machine
        print("saved", flush=True)
    generation += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_at_random_points_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    rg.save({"generation": 0, "values": np.zeros(600_000)}, path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    rng = np.random.default_rng(2024)
    seen = []
    for _ in range(8):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, env=env
        )
        assert child.stdout.readline() == b"saved\n"
        time.sleep(rng.uniform(0.02, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        checkpoint = rg.load(path)  # old or new, never half written
        assert checkpoint["values"].shape == (600_000,)
        assert np.all(checkpoint["values"] == checkpoint["generation"])
        seen.append(checkpoint["generation"])
    assert min(seen) > 0  # each child had replaced the file before it was killed


def _saved(tmp_path, name="c.npz"):
    path = tmp_path / name
    rg.save({"weights": np.arange(20_000, dtype=np.float64), "epoch": 1}, path)
    return path


def test_flipped_bytes_in_the_middle_raise(tmp_path):
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4] = bytes(b ^ 0xFF for b in data[middle : middle + 4])
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=rf"^{path}: .*(CRC|corrupt|damaged)"):
        rg.load(path)


def test_checksum_mismatch_is_detected(tmp_path):
    """A consistent archive (valid zip CRCs) whose array no longer matches the header."""
    path = _saved(tmp_path)
    with np.load(path) as archive:
        header, weights = archive[HEADER_KEY], archive["a0"]
    weights[123] += 1.0
    with open(path, "wb") as f:
        np.savez(f, **{HEADER_KEY: header, "a0": weights})
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        rg.load(path)


@pytest.mark.parametrize("keep", [0.0, 0.01, 0.5, 0.99])
def test_truncated_files_raise(tmp_path, keep):
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=str(path)):
        rg.load(path)


def test_any_single_damaged_byte_is_caught_or_harmless(tmp_path):
    path = tmp_path / "small"
    obj = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "meta": {"k": [1, "x"]}}
    rg.save(obj, path)
    original = path.read_bytes()
    rng = np.random.default_rng(3)
    caught = 0
    for position in rng.choice(len(original), size=150, replace=False):
        data = bytearray(original)
        data[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(data))
        try:
            loaded = rg.load(path)
        except CheckpointError:
            caught += 1
        else:
            _assert_same(obj, loaded)  # e.g. a zip timestamp: nothing that matters changed
    assert caught > 100


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "the file is empty"),
        (b"epoch,loss\n1,2.5\n", r"not an \.npz archive"),
        (b"PK\x03\x04 and then nothing", "damaged or truncated"),
    ],
)
def test_foreign_files_raise(tmp_path, content, match):
    path = tmp_path / "c.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match):
        rg.load(path)


def test_plain_npz_and_npy_are_not_checkpoints(tmp_path):
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    with pytest.raises(CheckpointError, match="without a retrograd header"):
        rg.load(tmp_path / "plain.npz")
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match=r"single \.npy array"):
        rg.load(tmp_path / "single.npy")
    with pytest.raises(FileNotFoundError):
        rg.load(tmp_path / "missing.npz")


def test_header_from_a_newer_version_is_refused(tmp_path):
    path = _saved(tmp_path)
    with np.load(path) as archive:
        header, weights = archive[HEADER_KEY].tobytes(), archive["a0"]
    newer = np.frombuffer(header.replace(b'"version": 1', b'"version": 99'), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **{HEADER_KEY: newer, "a0": weights})
    with pytest.raises(CheckpointError, match="format version 99"):
        rg.load(path)


class _Payload:
    """Unpickling this creates a directory: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_pickle_payloads_are_refused_without_running(tmp_path):
    marker = tmp_path / "code-ran"
    payload = _Payload(marker)
    evil_array = np.array([payload, 1], dtype=object)
    # A raw pickle and a pickled .npy, both named like checkpoints.
    (tmp_path / "raw.npz").write_bytes(pickle.dumps(payload))
    np.save(tmp_path / "array.npy", evil_array, allow_pickle=True)
    os.replace(tmp_path / "array.npy", tmp_path / "array.npz")
    # A plain .npz holding an object array.
    np.savez(tmp_path / "plain.npz", evil=evil_array)
    # A genuine header whose array member was swapped for a pickled object array.
    _saved(tmp_path, "real.npz")
    with np.load(tmp_path / "real.npz") as archive:
        header = archive[HEADER_KEY]
    with open(tmp_path / "swapped.npz", "wb") as f:
        np.savez(f, **{HEADER_KEY: header, "a0": evil_array})
    for name in ["raw.npz", "array.npz", "plain.npz", "swapped.npz"]:
        with pytest.raises(CheckpointError, match=name):
            rg.load(tmp_path / name)
        assert not marker.exists(), f"loading {name} ran code"
    pickle.loads((tmp_path / "raw.npz").read_bytes())  # the payload is live: it does run
    assert marker.exists()


def test_save_into_a_missing_directory_names_the_path(tmp_path):
    target = tmp_path / "missing" / "model.ckpt"
    with pytest.raises(FileNotFoundError, match="model.ckpt: directory .*missing does not exist"):
        rg.save({"a": 1}, target)


def _listing(directory):
    return sorted(os.listdir(directory))


needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")


@needs_symlinks
def test_save_through_a_symlink_replaces_its_target(tmp_path, monkeypatch):
    """The link stays a link; the file it points to (through a chain, in another
    directory) gets the new data, keeps its mode, and is renamed over from beside it."""
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "real.ckpt"
    rg.save({"generation": 1}, target)
    target.chmod(0o600)
    (tmp_path / "middle").symlink_to(target)
    link = tmp_path / "latest.ckpt"
    link.symlink_to("middle")
    renames = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renames.append((os.path.dirname(src), dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", recording_replace)
    rg.save({"generation": 2}, link)
    assert link.is_symlink() and os.readlink(link) == "middle"
    assert rg.load(target) == {"generation": 2} and rg.load(link) == {"generation": 2}
    assert renames == [(os.path.realpath(tmp_path / "runs"), os.path.realpath(target))]
    if os.name == "posix":
        assert (target.stat().st_mode & 0o777) == 0o600
    assert _listing(tmp_path / "runs") == ["real.ckpt"]


@needs_symlinks
def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "latest.ckpt"
    link.symlink_to("real.ckpt")
    rg.save({"a": 1}, link)
    assert link.is_symlink() and rg.load(tmp_path / "real.ckpt") == {"a": 1}


@needs_symlinks
def test_save_through_a_symlink_into_a_missing_directory_names_both(tmp_path):
    link = tmp_path / "latest.ckpt"
    link.symlink_to(tmp_path / "gone" / "real.ckpt")
    with pytest.raises(FileNotFoundError) as info:
        rg.save({"a": 1}, link)
    message = str(info.value)
    assert str(link) in message and "real.ckpt" in message and "gone does not exist" in message
    assert link.is_symlink() and _listing(tmp_path) == ["latest.ckpt"]


@needs_symlinks
def test_save_to_a_symlink_loop_is_refused(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symlink loop"):
        rg.save({"a": 1}, tmp_path / "a")
    assert (tmp_path / "a").is_symlink() and _listing(tmp_path) == ["a", "b"]


def test_save_to_a_directory_is_refused_before_writing(tmp_path):
    target = tmp_path / "model.ckpt"
    target.mkdir()
    (target / "inside").write_text("kept")
    with pytest.raises(IsADirectoryError, match=rf"^cannot save {target}: it is a directory$"):
        rg.save({"a": 1}, target)
    assert _listing(tmp_path) == ["model.ckpt"] and _listing(target) == ["inside"]


@needs_symlinks
def test_save_to_a_symlink_to_a_directory_is_refused(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "link").symlink_to("runs")
    with pytest.raises(IsADirectoryError, match="link .a symlink to .*runs.: it is a directory"):
        rg.save({"a": 1}, tmp_path / "link")
    assert _listing(tmp_path) == ["link", "runs"] and _listing(tmp_path / "runs") == []


def test_save_under_a_file_names_it(tmp_path):
    (tmp_path / "notes").write_text("kept")
    with pytest.raises(NotADirectoryError, match=r"notes is not a directory"):
        rg.save({"a": 1}, tmp_path / "notes" / "model.ckpt")
    assert _listing(tmp_path) == ["notes"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_save_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(OSError, match="pipe: it exists and is not a regular file"):
        rg.save({"a": 1}, tmp_path / "pipe")
    assert _listing(tmp_path) == ["pipe"]


def _nested(depth, wrap):
    obj = np.arange(3.0)
    for _ in range(depth):
        obj = wrap(obj)
    return obj


@pytest.mark.parametrize(
    ("wrap", "where"),
    [(lambda x: [x], r"obj\[0\]\[0\]"), (lambda x: {"k": x}, r"obj\['k'\]\['k'\]")],
)
def test_save_refuses_deep_nesting_and_keeps_the_old_file(tmp_path, wrap, where):
    path = tmp_path / "c"
    rg.save({"generation": 1}, path)
    with pytest.raises(
        ValueError, match=rf"^save\(\): {where}.*\.\.\. nests deeper than {MAX_DEPTH}"
    ):
        rg.save(_nested(5000, wrap), path)
    with pytest.raises(ValueError, match="nests deeper"):
        rg.save(_nested(MAX_DEPTH + 1, wrap), path)
    assert rg.load(path) == {"generation": 1} and _listing(tmp_path) == ["c"]


@pytest.mark.parametrize(
    ("wrap", "levels"),
    [
        (lambda x: [x], MAX_DEPTH),
        (lambda x: (x,), MAX_DEPTH),
        (lambda x: {"k": x}, MAX_DEPTH),
        (lambda x: {0: [x]}, MAX_DEPTH // 2),  # two containers per level
    ],
)
def test_the_deepest_structure_save_accepts_loads_even_from_a_deep_stack(tmp_path, wrap, levels):
    """save's depth limit leaves json and the decoder room under the default recursion limit."""
    obj = _nested(levels, wrap)
    rg.save(obj, tmp_path / "deep")

    def load_at(frames):
        return load_at(frames - 1) if frames else rg.load(tmp_path / "deep")

    _assert_same(obj, load_at(300))
