"""Saving and loading as a demanding user meets them: paths, permissions, foreign files,
containers that would come back as another type, and whole training checkpoints."""

import errno
import os
import stat
import zipfile
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim
from retrograd.optim.lr_scheduler import StepLR
from retrograd.serialization import CheckpointError

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX paths and permission bits")


# ----- the path argument -----
@posix_only
def test_save_to_a_path_ending_in_a_slash_is_refused(tmp_path):
    """'checkpoints/' names a directory: a file called 'checkpoints' is not what was asked."""
    target = f"{tmp_path}/checkpoints/"
    with pytest.raises(ValueError, match=r"save\(\): path .*checkpoints/' ends in '/'"):
        rg.save({"a": 1}, target)
    assert os.listdir(tmp_path) == []


def test_save_and_load_refuse_an_empty_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^save\(\): path is empty"):
        rg.save({"a": 1}, "")
    with pytest.raises(ValueError, match=r"^load\(\): path is empty"):
        rg.load("")


def test_load_of_an_int_is_refused_and_leaves_that_file_descriptor_open(tmp_path):
    """open() takes an int as a file descriptor, and closing the file closes it."""
    fd = os.open(tmp_path / "other", os.O_CREAT | os.O_RDWR)
    try:
        with pytest.raises(TypeError, match=r"load\(\): path must be a str, bytes or .*, got int"):
            rg.load(fd)
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_save_with_its_arguments_swapped_says_so(tmp_path):
    with pytest.raises(TypeError, match=r"got dict; the object to save comes first"):
        rg.save(str(tmp_path / "x.ckpt"), {"a": 1})
    assert os.listdir(tmp_path) == []


def test_save_and_load_take_a_bytes_path(tmp_path):
    path = os.fsencode(tmp_path / "x.ckpt")
    rg.save({"a": np.arange(3)}, path)
    assert rg.load(path)["a"].tolist() == [0, 1, 2]


def test_load_of_a_directory_names_it(tmp_path):
    with pytest.raises(IsADirectoryError, match=rf"^cannot load {tmp_path}: it is a directory"):
        rg.load(tmp_path)


# ----- writing -----
@posix_only
def test_save_never_exposes_a_private_checkpoint_while_writing(tmp_path, monkeypatch):
    """The temporary file holding the new data is never more open than the file it replaces."""
    path = tmp_path / "private.ckpt"
    rg.save({"secret": 1}, path)
    path.chmod(0o600)
    modes = []
    real_savez = np.savez

    def watching_savez(file, **arrays):
        modes.append(stat.S_IMODE(os.fstat(file.fileno()).st_mode))
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", watching_savez)
    old_umask = os.umask(0o022)
    try:
        rg.save({"secret": 2}, path)
    finally:
        os.umask(old_umask)
    assert modes and modes[0] & 0o077 == 0, oct(modes[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and rg.load(path) == {"secret": 2}


@posix_only
def test_save_of_a_new_file_follows_the_umask(tmp_path):
    old_umask = os.umask(0o027)
    try:
        rg.save({"a": 1}, tmp_path / "new.ckpt")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "new.ckpt").stat().st_mode) == 0o640


@pytest.mark.parametrize("where", ["open", "savez"])
def test_a_failed_write_names_the_checkpoint_not_the_temporary_file(tmp_path, monkeypatch, where):
    path = tmp_path / "run.ckpt"
    rg.save({"generation": 1}, path)
    real_open = os.open

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".retrograd-save.x"))

    def open_but_temporary_files(name, *args):
        return full_disk() if ".retrograd-save" in str(name) else real_open(name, *args)

    if where == "open":
        monkeypatch.setattr(os, "open", open_but_temporary_files)
    else:
        monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(OSError) as info:
        rg.save({"generation": 2}, path)
    assert info.value.errno == errno.ENOSPC
    assert f"cannot save {path}: No space left on device" in str(info.value)
    assert ".retrograd-save" not in str(info.value)
    assert rg.load(path) == {"generation": 1} and os.listdir(tmp_path) == ["run.ckpt"]


# ----- what save refuses -----
Point = namedtuple("Point", "x y")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (Point(1, 2), r"obj\['cfg'\] is a namedtuple Point, which would load as a plain tuple"),
        (defaultdict(list), r"obj\['cfg'\] is a defaultdict, which would load as a plain dict"),
    ],
)
def test_save_refuses_containers_that_would_load_as_another_type(tmp_path, value, match):
    with pytest.raises(TypeError, match=match):
        rg.save({"cfg": value}, tmp_path / "x.ckpt")
    assert os.listdir(tmp_path) == []


def test_an_ordered_dict_is_saved_as_a_dict(tmp_path):
    """A state dict is an OrderedDict; it comes back as a dict with the same key order."""
    state = OrderedDict([("b", np.ones(1)), ("a", np.zeros(1))])
    rg.save(state, tmp_path / "x.ckpt")
    loaded = rg.load(tmp_path / "x.ckpt")
    assert type(loaded) is dict and list(loaded) == ["b", "a"]


# ----- files from other programs -----
def test_a_torch_file_is_named_as_one(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match="a PyTorch file .torch.save.*never unpickled"):
        rg.load(path)


def test_a_zip_of_other_files_is_not_called_an_npz(tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("cat.txt", "meow")
    with pytest.raises(CheckpointError, match=r"a zip archive \(of cat.txt\), not an .npz"):
        rg.load(path)


# ----- whole training checkpoints -----
class _Tagger(nn.Module):
    def __init__(self, seed):
        super().__init__()
        self.rnn = nn.GRU(3, 4, num_layers=2, bidirectional=True, dropout=0.25, generator=seed)
        self.drop = nn.Dropout(0.5)
        self.heads = nn.ModuleList([nn.Linear(8, 2, generator=seed + i) for i in range(3)])
        del self.heads[1]
        self.heads.insert(0, nn.Linear(8, 2, generator=seed + 7))

    def forward(self, x):
        out = self.drop(self.rnn(x)[0])
        return sum(((head(out) ** 2).mean() for head in self.heads), rg.tensor(0.0))


def _trained(seed, x, steps):
    model = _Tagger(seed)
    opt = optim.Adam(model.rnn.parameters(), lr=0.01)
    opt.add_param_group({"params": list(model.heads.parameters()), "lr": 0.05})
    schedule = StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(steps):
        opt.zero_grad()
        model(x).backward()
        opt.step()
        schedule.step()
    return model, opt, schedule


def test_a_bidirectional_model_with_its_optimizer_resumes_exactly(tmp_path):
    x = rg.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    model, opt, schedule = _trained(0, x, 3)
    model.eval()
    path = tmp_path / "run.ckpt"
    rg.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "sched": schedule.state_dict()},
        path,
    )
    ckpt = rg.load(path)
    restored, opt2, schedule2 = _trained(1, x, 0)
    restored.eval()
    assert restored.load_state_dict(ckpt["model"]) == ([], [])
    opt2.load_state_dict(ckpt["opt"])
    schedule2.load_state_dict(ckpt["sched"])
    assert all(s["exp_avg"].dtype == np.float32 for s in opt2.state.values())
    for m, o, s in ((model, opt, schedule), (restored, opt2, schedule2)):
        for _ in range(2):
            o.zero_grad()
            m(x).backward()
            o.step()
            s.step()
    assert schedule2.get_last_lr() == schedule.get_last_lr()
    for (name, a), b in zip(model.named_parameters(), restored.parameters()):
        assert a.dtype == b.dtype == np.float32 and np.array_equal(a.data, b.data), name


class _EncoderFirst(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(2, 2, generator=0)
        self.dec = nn.Linear(2, 2, generator=1)

    def forward(self, x):
        return self.dec(self.enc(x))


class _DecoderFirst(_EncoderFirst):
    """The same model with its attributes assigned in the other order: parameters() differs."""

    def __init__(self):
        nn.Module.__init__(self)
        self.dec = nn.Linear(2, 2, generator=1)
        self.enc = nn.Linear(2, 2, generator=0)


def _stepped_adam(model):
    opt = optim.Adam(model.parameters())
    model(rg.tensor(np.ones((1, 2), dtype=np.float32))).sum().backward()
    opt.step()
    return opt


def test_optimizer_state_onto_parameters_in_another_order_is_refused(tmp_path):
    """Same shapes, other order: the saved moments of enc.weight must not drive dec.weight."""
    rg.save(_stepped_adam(_EncoderFirst()).state_dict(), tmp_path / "opt.ckpt")
    opt = optim.Adam(_DecoderFirst().parameters(), lr=0.5)
    with pytest.raises(ValueError, match="param 0 was saved as 'enc.weight' and is 'dec.weight'"):
        opt.load_state_dict(rg.load(tmp_path / "opt.ckpt"))
    assert opt.state == {} and opt.param_groups[0]["lr"] == 0.5


def test_optimizer_state_refused_for_renamed_parameters_says_how_to_load_by_position():
    saved = _stepped_adam(_EncoderFirst()).state_dict()
    opt = optim.Adam(_DecoderFirst().parameters())
    with pytest.raises(ValueError, match="delete the groups' 'param_names' to load by position"):
        opt.load_state_dict(saved)
    for group in saved["param_groups"]:
        del group["param_names"]
    opt.load_state_dict(saved)
    assert len(opt.state) == 4


def test_optimizer_state_of_a_layer_loads_into_that_layer_inside_a_model():
    layer = nn.Linear(2, 2, generator=0)
    saved = _stepped_adam(layer).state_dict()
    assert saved["param_groups"][0]["param_names"] == ["weight", "bias"]
    model = _EncoderFirst()
    opt = optim.Adam(model.enc.parameters())
    opt.load_state_dict(saved)
    assert "param_names" not in opt.param_groups[0]
    assert np.array_equal(opt.state[model.enc.weight]["exp_avg"], saved["state"][0]["exp_avg"])


def test_optimizer_state_saved_without_names_loads_as_before():
    saved = _stepped_adam(_EncoderFirst()).state_dict()
    del saved["param_groups"][0]["param_names"]
    optim.Adam(_DecoderFirst().parameters()).load_state_dict(saved)


def test_load_state_dict_takes_a_big_endian_array_in_native_byte_order():
    layer = nn.Linear(2, 1, generator=0)
    state = {name: array.astype(">f4") for name, array in layer.state_dict().items()}
    state["weight"] = np.array([[1.5, -2.0]], dtype=">f4")
    restored = nn.Linear(2, 1, generator=1)
    restored.load_state_dict(state)
    assert restored.weight.dtype == np.float32 and restored.weight.dtype.isnative
    assert restored.weight.data.tolist() == [[1.5, -2.0]]
    assert restored.bias.data.tolist() == layer.bias.data.tolist()
