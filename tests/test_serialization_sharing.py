"""Checkpoints keep shared memory shared: one array saved twice, slices and views of one
array, a tensor's data and its detach(); old files still load; hostile views are refused."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd.serialization import HEADER_KEY, CheckpointError, _digest

GOLDEN = Path(__file__).resolve().parent / "golden" / "checkpoint_v1.ckpt"


def _round_trip(obj, tmp_path, name="c.ckpt"):
    rg.save(obj, tmp_path / name)
    return rg.load(tmp_path / name)


def _header(path):
    with np.load(path) as archive:
        return json.loads(archive[HEADER_KEY].tobytes()), {
            key: archive[key] for key in archive.files if key != HEADER_KEY
        }


def _assert_same_sharing(saved, loaded):
    """Equal values and dtypes; each pair of arrays shares memory after load iff it did before."""
    for key in saved:
        assert loaded[key].dtype == saved[key].dtype, key
        np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)
    for a, b in itertools.combinations(saved, 2):
        expected = np.shares_memory(saved[a], saved[b])
        assert np.shares_memory(loaded[a], loaded[b]) == expected, (a, b)


def test_same_array_twice_loads_as_one_array(tmp_path):
    weight = np.arange(6.0).reshape(2, 3)
    loaded = _round_trip({"encoder": weight, "decoder": weight, "list": [weight]}, tmp_path)
    assert loaded["encoder"] is loaded["decoder"] is loaded["list"][0]
    loaded["encoder"][0, 0] = 7.0
    assert loaded["decoder"][0, 0] == 7.0


def test_views_of_one_array_share_memory_after_load(tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    saved = {"x": x, "row": x[1], "T": x.T, "back": x[::-1, ::-2], "bits": x.view(np.int32)[2:]}
    loaded = _round_trip(saved, tmp_path)
    _assert_same_sharing(saved, loaded)
    loaded["row"][:] = -1.0  # a write through one view shows in every other
    x[1] = -1.0
    _assert_same_sharing(saved, loaded)
    assert all(loaded[key].flags.writeable and loaded[key].flags.aligned for key in saved)


def test_tensor_data_and_detach_share_memory_after_load(tmp_path):
    w = rg.tensor(np.arange(4.0), requires_grad=True)
    loaded = _round_trip({"w": w.data, "frozen": w.detach().data, "head": w.data[:2]}, tmp_path)
    loaded["frozen"][0] = 9.0
    assert loaded["w"][0] == 9.0 and loaded["head"][0] == 9.0


def test_sharing_matches_torch_save(tmp_path):
    torch = pytest.importorskip("torch")
    x = torch.arange(12.0).reshape(3, 4)
    ours = {"x": x.numpy(), "col": x.numpy()[:, 1], "same": x.numpy(), "alone": np.ones(3)}
    theirs = {"x": x, "col": x[:, 1], "same": x, "alone": torch.ones(3)}
    torch.save(theirs, tmp_path / "t.pt")
    theirs = torch.load(tmp_path / "t.pt")
    ours = _round_trip(ours, tmp_path)
    for key, value in theirs.items():
        value.add_(1.0)
        ours[key] += 1.0
        for other in theirs:
            np.testing.assert_array_equal(ours[other], theirs[other].numpy(), err_msg=other)


def test_values_round_trip_bit_for_bit(tmp_path):
    raw = np.array([0x7FF8_0000_0000_0001, 0x8000_0000_0000_0000, 0x0002], dtype=np.uint64)
    saved = {"floats": raw.view(np.float64), "raw": raw, "bools": raw.view(np.uint8).view(bool)}
    saved["big_endian"] = np.arange(4, dtype=">i4")
    saved["big_endian_tail"] = saved["big_endian"][::-3]
    loaded = _round_trip(saved, tmp_path)
    _assert_same_sharing(saved, loaded)
    assert loaded["floats"].view(np.uint64).tolist() == raw.tolist()  # NaN payload, -0.0
    assert loaded["bools"].view(np.uint8).tolist() == raw.view(np.uint8).tolist()


@pytest.mark.parametrize("part", ["sparse", "ends"])
def test_small_views_of_a_huge_array_stay_small(tmp_path, part):
    """A view saved alone, or views whose memory ranges do not overlap, cost their own elements
    (the whole array, as torch.save writes it, would be 8 MB)."""
    huge = np.zeros(1_000_000)
    saved = {"sparse": {"s": huge[::250_000]}, "ends": {"head": huge[:3], "tail": huge[-3:]}}
    rg.save(saved[part], tmp_path / "c")
    assert (tmp_path / "c").stat().st_size < 4_000
    header, _ = _header(tmp_path / "c")
    assert header["version"] == 1 and "views" not in header


def test_a_group_is_stored_as_the_bytes_it_spans(tmp_path):
    big = np.arange(100_000, dtype=np.int64)
    rg.save({"a": big[10:20], "b": big[15:30]}, tmp_path / "c")
    header, members = _header(tmp_path / "c")
    assert header["version"] == 2 and sorted(header["views"]) == ["a0", "a1"]
    assert list(members) == ["b0"] and members["b0"].size <= 20 * 8 + 16


def test_a_file_without_sharing_keeps_the_version_1_layout(tmp_path):
    rg.save({"w": np.ones(3), "b": np.zeros(2), "n": np.int64(3)}, tmp_path / "c")
    header, members = _header(tmp_path / "c")
    assert header["version"] == 1 and list(members) == ["a0", "a1", "a2"]
    assert set(header) == {"format", "version", "arrays", "tree", "sha256"}


def test_a_file_written_before_sharing_loads(tmp_path):
    """tests/golden/checkpoint_v1.ckpt was written by the version 1 writer, which stored the
    same array twice, and a view of it, as separate copies."""
    loaded = rg.load(GOLDEN)
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(loaded["weight"], weight)
    np.testing.assert_array_equal(loaded["tied"], weight)
    np.testing.assert_array_equal(loaded["row"], weight[1])
    np.testing.assert_array_equal(loaded["reversed"], np.arange(5)[::-1])
    assert loaded["step"] == np.int64(3) and loaded["name"] == "v1"
    assert loaded["nested"][0].dtype == np.dtype(">f8") and loaded["nested"][1][:2] == (True, None)
    assert not np.shares_memory(loaded["weight"], loaded["tied"])


def _random_view(base, rng):
    """A random slice of `base` (steps, negative steps, transposes, other dtypes of one size)."""
    view = base
    for _ in range(int(rng.integers(0, 4))):
        choice = rng.integers(4)
        if choice == 0:
            axis = int(rng.integers(view.ndim))
            n = view.shape[axis]
            start, stop = sorted(int(v) for v in rng.integers(0, n + 1, size=2))
            step = int(rng.choice([1, 2, 3, -1, -2]))
            index = [slice(None)] * view.ndim
            index[axis] = slice(start, stop, step) if step > 0 else slice(stop, start, step)
            view = view[tuple(index)]
        elif choice == 1:
            view = view.T
        elif choice == 2 and view.ndim > 1:
            view = view[int(rng.integers(view.shape[0]))] if view.shape[0] else view
        else:
            view = view.view(rng.choice([np.int64, np.uint64, np.float64]))
    return view


@pytest.mark.parametrize("seed", range(25))
def test_random_views_keep_values_and_sharing(tmp_path, seed):
    rng = np.random.default_rng(seed)
    bases = [rng.standard_normal((6, 5)), rng.integers(-9, 9, size=(4, 7)).astype(np.float64)]
    saved = {}
    for i in range(int(rng.integers(2, 8))):
        saved[f"v{i}"] = _random_view(bases[int(rng.integers(len(bases)))], rng)
    if rng.random() < 0.5:
        saved["again"] = saved["v0"]
    loaded = _round_trip(saved, tmp_path)
    _assert_same_sharing(saved, loaded)
    for key in saved:  # the same write on both sides leaves every array equal
        if saved[key].size:
            value = rng.integers(100, 200)
            saved[key].flat[0] = value
            loaded[key].flat[0] = value
        for other in saved:
            np.testing.assert_array_equal(loaded[other], saved[other], err_msg=f"{key}: {other}")


def _tampered(tmp_path, change):
    """A file with shared arrays whose header `change` edits, with its checksum recomputed (as
    anyone crafting a file can)."""
    x = np.arange(8.0)
    rg.save({"x": x, "tail": x[4:]}, tmp_path / "c")
    header, members = _header(tmp_path / "c")
    change(header, members)
    header["sha256"] = _digest(header, members)
    blob = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(tmp_path / "c", "wb") as f:
        np.savez(f, **{HEADER_KEY: blob, **members})
    return tmp_path / "c"


def _set_view(field, value):
    def change(header, members):
        header["views"]["a1"][field] = value

    return change


def _block_as_float64(header, members):
    members["b0"] = members["b0"].view(np.float64)
    header["arrays"]["b0"] = {"dtype": "<f8", "shape": [members["b0"].size]}


def _view_named_as_member(header, members):
    header["views"]["b0"] = header["views"]["a1"]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (_set_view("offset", -64), "reaches outside its block"),
        (_set_view("offset", 60), "reaches outside its block"),
        (_set_view("shape", [5]), "reaches outside its block"),
        (_set_view("strides", [-16]), "reaches outside its block"),
        (_set_view("shape", [-1]), "reaches outside its block"),
        (_set_view("strides", [8, 8]), "shape"),
        (_set_view("offset", 1.5), "offset"),
        (_set_view("dtype", "|O"), "non-numeric dtype object"),
        (_set_view("dtype", {"names": ["f"], "formats": ["|O"]}), "dtype"),
        (_set_view("block", "a9"), "names block 'a9'"),
        (_block_as_float64, "is not a byte array"),
        (_view_named_as_member, "has the name of an archive member"),
    ],
)
def test_views_reaching_outside_their_block_are_refused(tmp_path, change, match):
    path = _tampered(tmp_path, change)
    with pytest.raises(CheckpointError, match=rf"^{path}: malformed header .*{match}"):
        rg.load(path)


def test_a_file_with_views_is_refused_by_a_reader_of_version_1_only(tmp_path, monkeypatch):
    x = np.arange(3.0)
    rg.save({"x": x, "y": x[1:]}, tmp_path / "c")
    monkeypatch.setattr("retrograd.serialization.VERSION", 1)
    with pytest.raises(CheckpointError, match=r"format version 2; this reader knows 1\.\.1"):
        rg.load(tmp_path / "c")
