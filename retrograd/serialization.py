"""Safe checkpoints: `save(obj, path)` and `load(path)`, never pickle.

A checkpoint is one `.npz` archive (written with `np.savez`) holding plain
numeric arrays `a0, a1, ...` and a JSON header stored as a uint8 array. The
header names the format and version, lists each array's dtype and shape,
describes the saved structure (dicts with str or int keys, lists, tuples,
arrays, NumPy and Python scalars, strings, None) with references to the
arrays, and carries the sha256 of all of that plus the array bytes. Arrays
that share memory are stored once and share it again when loaded (see
`serialization_arrays`); such a file has version 2 and also lists `views`,
and a file without them keeps the version 1 layout.

Loading reads with `allow_pickle=False` and rebuilds the structure from
JSON, so no code in the file can run; any file that is not an intact
checkpoint (truncated, corrupted, foreign) raises `CheckpointError`.
Saving is atomic: the archive goes to a temporary file in the target's
directory, is flushed and fsynced, then renamed over the target with
`os.replace`, and the directory is fsynced. The target is `path` itself, or
the file a symlink at `path` points to (the link stays a link). A process
killed mid-save leaves the previous file whole (and possibly a stray
`.retrograd-save.*.tmp` file).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import stat
import struct
import uuid
import zipfile
import zlib
from collections import OrderedDict
from typing import Any

import numpy as np

from retrograd.serialization_arrays import NUMERIC_KINDS, layout, with_views

FORMAT = "retrograd-checkpoint"
VERSION = 2  # 2 adds `views`: arrays stored as views of a shared block of bytes
HEADER_KEY = "retrograd_header"
MAX_INT_BITS = 14_000  # about 4215 decimal digits: loadable under Python's default digit limit
# Containers nested inside each other. A dict level is three levels of JSON, and
# Python's json reads and writes recursively: 100 keeps a header's JSON about 300
# deep, well inside the default recursion limit of 1000, for save and for load.
MAX_DEPTH = 100
PathT = str | bytes | os.PathLike

# Everything that reading a damaged archive or header can raise.
_READ_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    NotImplementedError,
    RecursionError,
)


class CheckpointError(Exception):
    """A file that is not an intact retrograd checkpoint; the message names file and problem."""

    def __init__(self, path: PathT, problem: str) -> None:
        super().__init__(f"{os.fspath(path)}: {problem}")
        self.path = os.fspath(path)
        self.problem = problem


# ----- save -----
def save(obj: Any, path: PathT) -> None:
    """Write `obj` (state dicts, lists, numeric arrays, scalars, strings) to `path` atomically.

    The file is written at exactly `path` (no suffix is added). If `path` is
    a symlink, the file it points to is replaced and the link stays a link
    (a dangling link's target is created when its directory exists). A path
    that is empty, ends in a separator, is a directory, or whose directory
    does not exist, is refused before anything is written. Object arrays,
    Tensors and other types are refused with a TypeError, and containers
    nested more than MAX_DEPTH deep with a ValueError, each saying where in
    `obj` the problem is. Arrays that share memory (one array saved twice, an
    array and its slices) share it again after `load`.
    """
    name = _path(path, "save")
    target = _target(name)
    saved: dict[str, np.ndarray] = {}
    tree = _encode(obj, _ArrayKeys(saved), "obj", set())
    arrays, views = layout(saved)
    header = _header_body(tree, arrays, views)
    header["sha256"] = _digest(header, arrays)
    blob = np.frombuffer(json.dumps(header, allow_nan=False).encode("utf-8"), dtype=np.uint8)
    try:
        _write_atomically(target, {HEADER_KEY: blob, **arrays})
    except OSError as err:  # a full disk, a read-only directory: said of `path`, not the temp file
        raise _failed_write(name, err) from None


class _ArrayKeys:
    """Gives each array object met while encoding one key, the same on every meeting (`obj`
    holds them all while it is saved, so their ids stay theirs)."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.keys: dict[int, str] = {}

    def key(self, obj: np.ndarray | np.generic) -> str:
        if id(obj) not in self.keys:
            self.keys[id(obj)] = key = f"a{len(self.arrays)}"
            self.arrays[key] = np.asarray(obj)
        return self.keys[id(obj)]


def _encode(obj: Any, arrays: _ArrayKeys, where: str, active: set[int]) -> Any:
    """A JSON-able description of `obj`; containers are tagged, arrays moved to `arrays`."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, np.ma.MaskedArray):
        raise TypeError(f"save(): {where} is a masked array; store its .data and .mask")
    if isinstance(obj, np.ndarray | np.generic):
        if obj.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(
                f"save(): {where} has dtype {obj.dtype}; checkpoints hold only bool, int, uint "
                "and float arrays (object arrays would need pickle)"
            )
        kind = "array" if isinstance(obj, np.ndarray) else "scalar"
        return {"type": kind, "key": arrays.key(obj)}
    if isinstance(obj, int):
        return _int(obj, where)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else {"type": "float", "value": repr(float(obj))}
    if not isinstance(obj, dict | list | tuple):
        hint = "; store tensor.data or a state_dict()" if hasattr(obj, "requires_grad") else ""
        raise TypeError(f"save(): cannot store {where} of type {type(obj).__name__}{hint}")
    if type(obj) not in (dict, OrderedDict, list, tuple):
        raise TypeError(_changes_type(obj, where))
    if id(obj) in active:
        raise TypeError(f"save(): {where} contains itself")
    if len(active) >= MAX_DEPTH:  # `active` holds the containers enclosing this one
        shown = where if len(where) <= 80 else where[:60] + "..."
        raise ValueError(f"save(): {shown} nests deeper than {MAX_DEPTH} levels")
    active.add(id(obj))
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise TypeError(f"save(): {where} has key {key!r}; keys must be str or int")
            if isinstance(key, int):
                key = _int(key, f"a key of {where}")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]", active)])
        encoded = {"type": "dict", "items": items}
    else:
        values = [_encode(v, arrays, f"{where}[{i}]", active) for i, v in enumerate(obj)]
        encoded = {"type": "tuple" if isinstance(obj, tuple) else "list", "items": values}
    active.discard(id(obj))
    return encoded


def _changes_type(obj: dict | list | tuple, where: str) -> str:
    """Why a container subclass is refused: it would load as its plain base, losing what the
    subclass adds (a namedtuple's field names, a defaultdict's factory). An OrderedDict, as
    `state_dict()` gives, is taken: as a dict it keeps its order."""
    base = next(kind for kind in (dict, list, tuple) if isinstance(obj, kind)).__name__
    name = type(obj).__name__
    if hasattr(obj, "_asdict"):
        return (
            f"save(): {where} is a namedtuple {name}, which would load as a plain tuple; "
            f"store {where}._asdict() (a dict) instead"
        )
    return (
        f"save(): {where} is a {name}, which would load as a plain {base}; store {base}(...) of it"
    )


def _int(value: int, where: str) -> int:
    """`value` as a plain int, refused if too long to read back: JSON spells ints in
    decimal, and Python parses at most 4300 digits by default."""
    if value.bit_length() > MAX_INT_BITS:
        raise ValueError(f"save(): {where} is an int of more than {MAX_INT_BITS} bits")
    return int(value)


def _header_body(tree: Any, arrays: dict[str, np.ndarray], views: dict[str, Any]) -> dict[str, Any]:
    """The header without its checksum; version 1, which older readers know, unless views
    are needed."""
    meta = {key: {"dtype": a.dtype.str, "shape": list(a.shape)} for key, a in arrays.items()}
    header = {"format": FORMAT, "version": VERSION if views else 1, "arrays": meta}
    return {**header, "views": views, "tree": tree} if views else {**header, "tree": tree}


def _digest(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """sha256 of the header (without its checksum) and of every array's bytes, in order."""
    body = {key: value for key, value in header.items() if key != "sha256"}
    h = hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode("utf-8"))
    for key in header["arrays"]:
        h.update(key.encode("utf-8"))
        h.update(np.ascontiguousarray(arrays[key]).reshape(-1).view(np.uint8))
    return h.hexdigest()


def _path(path: Any, caller: str) -> str:
    """`path` as a str, refused by name unless it is a non-empty str, bytes or os.PathLike.

    An int is refused rather than taken, as open() would, for a file descriptor
    (which reading would then close).
    """
    if not isinstance(path, str | bytes | os.PathLike):
        swapped = caller == "save" and isinstance(path, dict | list | tuple | np.ndarray)
        hint = "; the object to save comes first: save(obj, path)" if swapped else ""
        raise TypeError(
            f"{caller}(): path must be a str, bytes or os.PathLike, got {type(path).__name__}{hint}"
        )
    name = os.fsdecode(os.fspath(path))
    if not name:
        raise ValueError(f"{caller}(): path is empty")
    return name


def _target(path: str) -> str:
    """The file `save` replaces: `path`, or the final target of a symlink at `path`.

    Replacing the link itself would leave the file it points to holding the
    old data. A path that cannot be written as a file is refused here, before
    anything is written, with a message naming it (and the link's target).
    """
    separators = tuple(sep for sep in (os.sep, os.altsep) if sep)
    if path.endswith(separators):
        raise ValueError(
            f"save(): path {path!r} ends in {path[-1]!r}, which names a directory; "
            "give a file name inside it"
        )
    target = os.path.realpath(path)
    via = f" (a symlink to {target})" if os.path.islink(path) else ""
    if os.path.islink(target):  # realpath stops at a link it cannot resolve
        raise OSError(f"cannot save {path}: a symlink loop at {target}")
    directory = os.path.dirname(target)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"cannot save {path}{via}: {directory} is not a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save {path}{via}: directory {directory} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"cannot save {path}{via}: it is a directory")
    if os.path.exists(target) and not stat.S_ISREG(os.stat(target).st_mode):
        raise OSError(f"cannot save {path}{via}: it exists and is not a regular file")
    return target


def _write_atomically(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(path)
    # A name of fixed length: one built from the target's name could exceed
    # the file system's limit when the target's name is near it.
    temporary = os.path.join(directory, f".retrograd-save.{uuid.uuid4().hex[:12]}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    mode = _existing_mode(path)
    # Created with the replaced file's bits (less the umask), so the new data is never
    # readable by anyone the old file kept out, not even while it is being written.
    fd = os.open(temporary, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temporary, mode)  # the bits the umask took away
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _failed_write(path: str, err: OSError) -> OSError:
    """`err` (same type and errno) saying that saving `path` failed, and why."""
    if err.errno is None:
        return type(err)(f"cannot save {path}: {err}")
    return type(err)(err.errno, f"cannot save {path}: {err.strerror}")


def _existing_mode(path: str) -> int | None:
    """The permission bits of the file at `path`, which the new file keeps; None if none."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


def _fsync_directory(directory: str) -> None:
    """Make the rename durable; Windows cannot open a directory (and needs no such step)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ----- load -----
def load(path: PathT) -> Any:
    """Read a checkpoint written by `save`; arrays come back as writeable np.ndarrays.

    Raises FileNotFoundError for a missing file, IsADirectoryError for a
    directory and CheckpointError for any file that is not an intact
    checkpoint. Nothing in the file is executed.
    """
    path = _path(path, "load")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot load {path}: it is a directory, not a checkpoint file")
    with open(path, "rb") as f:
        magic = f.read(4)
        if magic != b"PK\x03\x04":
            raise CheckpointError(path, _describe_foreign(magic))
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as archive:
                header, arrays = _read_archive(path, archive)
        except CheckpointError:
            raise
        except _READ_ERRORS as err:
            raise CheckpointError(path, f"damaged or truncated file ({err})") from None
    try:
        intact = _digest(header, arrays) == header["sha256"]
        if intact:
            return _decode(header["tree"], with_views(arrays, header.get("views", {})))
    except _READ_ERRORS as err:
        raise CheckpointError(path, f"malformed header ({err})") from None
    raise CheckpointError(path, "checksum mismatch: the array data or header is corrupted")


def _describe_foreign(magic: bytes) -> str:
    if not magic:
        return "the file is empty, not a checkpoint"
    if magic.startswith(b"\x93NUM"):
        return "a single .npy array, not a retrograd checkpoint"
    if magic[:1] == b"\x80":
        return "looks like a pickle, not a retrograd checkpoint; it is never unpickled"
    return "not a retrograd checkpoint (not an .npz archive)"


def _describe_foreign_zip(names: list[str]) -> str:
    """What a zip archive without our header is: a PyTorch file, a plain .npz, another zip."""
    if any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        return (
            "a PyTorch file (torch.save), not a retrograd checkpoint; it is never unpickled "
            "(read it with torch.load and save its state dict's arrays with retrograd.save)"
        )
    if names and all(name.endswith(".npy") for name in names):
        return "an .npz archive without a retrograd header, not a checkpoint"
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"a zip archive (of {shown or 'nothing'}), not an .npz or a retrograd checkpoint"


def _read_archive(path: PathT, archive: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The validated header and the arrays it lists (object arrays are refused by NumPy)."""
    if HEADER_KEY not in archive.files:
        raise CheckpointError(path, _describe_foreign_zip(archive.zip.namelist()))
    blob = _member(archive, HEADER_KEY)
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise CheckpointError(path, "the header is not a byte array")
    header = json.loads(blob.tobytes().decode("utf-8"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(path, "the header does not name the retrograd checkpoint format")
    version = header.get("version")
    if not isinstance(version, int) or not 1 <= version <= VERSION:
        raise CheckpointError(path, f"format version {version!r}; this reader knows 1..{VERSION}")
    meta = header.get("arrays")
    if not isinstance(meta, dict) or not isinstance(header.get("sha256"), str):
        raise CheckpointError(path, "the header lacks its array list or checksum")
    members = set(archive.files) - {HEADER_KEY}
    if members != set(meta):
        raise CheckpointError(
            path, f"members {sorted(members)} do not match the header's {sorted(meta)}"
        )
    arrays = {}
    for key, info in meta.items():
        dtype = np.dtype(info["dtype"])
        if dtype.kind not in NUMERIC_KINDS:
            raise CheckpointError(path, f"array {key} has non-numeric dtype {dtype}; refused")
        array = _member(archive, key)
        if array.dtype != dtype or list(array.shape) != info["shape"]:
            raise CheckpointError(
                path,
                f"array {key} is {array.dtype}{list(array.shape)}, "
                f"the header says {dtype}{info['shape']}",
            )
        arrays[key] = array
    return header, arrays


def _member(archive: Any, key: str) -> np.ndarray:
    """One archive member as an array (a member that is not an .npy file comes back as bytes)."""
    array = archive[key]
    if not isinstance(array, np.ndarray):
        raise ValueError(f"member {key!r} is not an .npy array")
    return array


def _decode(node: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild the saved structure from its tagged JSON description (at most
    MAX_DEPTH containers deep when `save` wrote it, so recursion is safe)."""
    if node is None or isinstance(node, bool | int | float | str):
        return node
    kind = node["type"]
    if kind == "dict":
        return {_key(key): _decode(value, arrays) for key, value in node["items"]}
    if kind == "list":
        return [_decode(value, arrays) for value in node["items"]]
    if kind == "tuple":
        return tuple(_decode(value, arrays) for value in node["items"])
    if kind == "array":
        return arrays[node["key"]]
    if kind == "scalar":
        return arrays[node["key"]][()]
    if kind == "float" and node["value"] in ("inf", "-inf", "nan"):
        return float(node["value"])
    raise ValueError(f"unknown node {kind!r}")


def _key(key: Any) -> str | int:
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise ValueError(f"dict key {key!r} is neither str nor int")
    return key
