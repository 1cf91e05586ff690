"""Xen's own config parser, libxlutil (Debian's libxen-dev / libxenmisc), through ctypes.

Why: no Xen hypervisor runs here, but the code `xl` parses its files with is a
library: `xlu_cfg_readdata` reads an xl.cfg, `xlu_disk_parse` a disk spec (into
a libxl_device_disk, shown back as libxl's JSON), `xlu_vif_parse_rate` a vif
rate. Whatever they reject, xl would reject. Parse errors are the library's own
words, from its report stream.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_c = ctypes.c_void_p


def _load(name: str) -> ctypes.CDLL:
    path = ctypes.util.find_library(name)
    if path is None:
        raise OSError(f"lib{name} is missing: apt-get install libxen-dev (make system-deps)")
    return ctypes.CDLL(path)


XLU, LIBXL, LIBC = _load("xlutil"), _load("xenlight"), ctypes.CDLL(None)
for function, result, arguments in [
        (XLU.xlu_cfg_init, _c, [_c, ctypes.c_char_p]),
        (XLU.xlu_cfg_readdata, ctypes.c_int, [_c, ctypes.c_char_p, ctypes.c_int]),
        (XLU.xlu_cfg_destroy, None, [_c]),
        (XLU.xlu_cfg_get_string, ctypes.c_int,
         [_c, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]),
        (XLU.xlu_cfg_get_long, ctypes.c_int, [_c, ctypes.c_char_p, ctypes.POINTER(ctypes.c_long),
                                              ctypes.c_int]),
        (XLU.xlu_cfg_get_list, ctypes.c_int, [_c, ctypes.c_char_p, ctypes.POINTER(_c),
                                              ctypes.POINTER(ctypes.c_int), ctypes.c_int]),
        (XLU.xlu_cfg_get_listitem, ctypes.c_char_p, [_c, ctypes.c_int]),
        (XLU.xlu_disk_parse, ctypes.c_int, [_c, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p), _c]),
        (XLU.xlu_vif_parse_rate, ctypes.c_int, [_c, ctypes.c_char_p, _c]),
        (LIBXL.libxl_device_disk_init, None, [_c]),
        (LIBXL.libxl_device_disk_dispose, None, [_c]),
        (LIBXL.libxl_device_disk_to_json, _c, [_c, _c]),
        (LIBXL.libxl_device_nic_init, None, [_c]),
        (LIBXL.libxl_device_nic_dispose, None, [_c]),
        (LIBC.open_memstream, _c, [ctypes.POINTER(_c), ctypes.POINTER(ctypes.c_size_t)]),
        (LIBC.fclose, ctypes.c_int, [_c]),
        (LIBC.free, None, [_c])]:
    function.restype, function.argtypes = result, arguments
DEVICE_BYTES = 1 << 14      # more than libxl's device structures need; libxl initialises them


class XluError(ValueError):
    """What libxlutil said about text it rejected."""


class Config:
    """A parsed xl.cfg: values read back through libxlutil's getters."""

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def string(self, name: str) -> str:
        value = ctypes.c_char_p()
        if XLU.xlu_cfg_get_string(self.handle, name.encode(), ctypes.byref(value), 1):
            raise KeyError(name)
        return (value.value or b"").decode()

    def long(self, name: str) -> int:
        value = ctypes.c_long()
        if XLU.xlu_cfg_get_long(self.handle, name.encode(), ctypes.byref(value), 1):
            raise KeyError(name)
        return value.value

    def list(self, name: str) -> list[str]:
        handle, count = _c(), ctypes.c_int()
        if XLU.xlu_cfg_get_list(self.handle, name.encode(), ctypes.byref(handle),
                                ctypes.byref(count), 1):
            raise KeyError(name)
        return [(XLU.xlu_cfg_get_listitem(handle, i) or b"").decode() for i in range(count.value)]


@contextmanager
def _session(filename: str) -> Iterator[tuple[int, Any]]:
    """A libxlutil config handle whose report stream is read back as `said()`."""
    buffer, size = _c(), ctypes.c_size_t()
    stream = LIBC.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
    handle = XLU.xlu_cfg_init(stream, filename.encode())
    closed = False

    def said() -> str:
        nonlocal closed
        if not closed:
            LIBC.fclose(stream)
            closed = True
        return ctypes.string_at(buffer.value, size.value).decode(errors="replace") \
            if buffer.value else ""
    try:
        yield handle, said
    finally:
        XLU.xlu_cfg_destroy(handle)
        said()
        LIBC.free(buffer)


@contextmanager
def parsed(text: str, filename: str = "deployment.cfg") -> Iterator[Config]:
    """The file as xl reads it; XluError with libxlutil's message when it is rejected."""
    data = text.encode()
    with _session(filename) as (handle, said):
        if XLU.xlu_cfg_readdata(handle, data, len(data)):
            raise XluError(said().strip())
        yield Config(handle)


def disk(spec: str) -> dict[str, Any]:
    """A disk spec as libxl_device_disk (its JSON form); XluError when rejected."""
    device = ctypes.create_string_buffer(DEVICE_BYTES)
    LIBXL.libxl_device_disk_init(device)
    specs = (ctypes.c_char_p * 1)(spec.encode())
    try:
        with _session("disk") as (handle, said):
            if XLU.xlu_disk_parse(handle, 1, specs, device):
                raise XluError(said().strip())
        text = LIBXL.libxl_device_disk_to_json(None, device)
        try:
            return dict(json.loads(ctypes.string_at(text)))
        finally:
            LIBC.free(text)
    finally:
        LIBXL.libxl_device_disk_dispose(device)


def vif_rate(rate: str) -> None:
    """A vif `rate=` value as xl parses it; XluError when rejected."""
    device = ctypes.create_string_buffer(DEVICE_BYTES)
    LIBXL.libxl_device_nic_init(device)
    try:
        with _session("vif") as (handle, said):
            if XLU.xlu_vif_parse_rate(handle, rate.encode(), device):
                raise XluError(said().strip() or f"rate {rate!r} rejected")
    finally:
        LIBXL.libxl_device_nic_dispose(device)
