"""Shared fixtures: a real oned on 127.0.0.1:0 and an XML-RPC caller."""
from __future__ import annotations

import hashlib
import os
import time
import xmlrpc.client
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pytest
from lxml import etree

from one.config import load_config
from one.daemon import Oned, build
from one.pool.db import connect
from bench.postgres import Cluster

ADMIN_PASSWORD = "secret"
ADMIN = f"oneadmin:{ADMIN_PASSWORD}"
CLASSIC_ADMIN = f"oneadmin:{hashlib.sha1(ADMIN_PASSWORD.encode()).hexdigest()}"
REPO = Path(__file__).resolve().parent.parent
NS = "http://opennebula.org/XMLSchema"
T = TypeVar("T")


# Test directories whose tests run on both backends: pools, persistence, the API and
# the life cycle (tests marked sqlite_only look at the SQLite file itself).
BOTH_BACKENDS = ("pool", "core", "xmlrpc")
# The PostgreSQL server of a test on that backend, and the database made on it for the
# test when it first needs one (tests that start no server make none).
_backend_cluster: list[Cluster] = []
_backend_db = [""]


def _test_db() -> str:
    """The test's PostgreSQL database URL ("" on SQLite)."""
    if _backend_cluster and not _backend_db[0]:
        _backend_db[0] = _backend_cluster[0].create()
    return _backend_db[0]


def until(check: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """What `check` returns once it is true: polls a live system, whose servers work
    asynchronously (the timeout bounds the wait, it is not an assertion about time)."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.05)
    return found


def start_oned(var: Path, db: str = "", config_text: str = "") -> Oned:
    """A server on 127.0.0.1:0 whose engine runs inline until `start_engine`;
    on the test's backend unless `db` names a database."""
    db = db or _test_db()
    auth = var / "one_auth"
    if not auth.exists():
        auth.write_text(f"oneadmin:{ADMIN_PASSWORD}\n")
    conf = var / "oned.conf"
    conf.write_text(config_text)
    config = load_config(str(conf), environ={})
    config.apply({"VAR_LOCATION": str(var), "PORT": "0", **({"DB": db} if db else {})})
    oned = build(config, auth)
    oned.serve_in_thread()
    return oned


def restart_at(oned: Oned, var: Path, version: int, *statements: str) -> Oned:
    """Stop `oned`, take its database back to schema `version` with the SQL
    `statements`, and start a new oned on it (which upgrades it)."""
    oned.stop()
    with database(var) as db:
        for statement in statements:
            db.execute(statement)
        db.execute("UPDATE schema_version SET version = ?", (version,))
    return start_oned(var)


def backend_url(var: Path) -> str:
    """The database of the test's servers on `var`: PostgreSQL's, or `var`'s SQLite file."""
    return _test_db() or str(var / "one.db")


class Sql:
    """The test's database as the tests use sqlite3: `?` placeholders, `execute`
    returning a cursor; each statement is committed."""

    def __init__(self, var: Path) -> None:
        self.db = connect(backend_url(var))

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> Any:
        return self.db.execute_sql(statement.replace("?", self.db.param), params)


def stored_bytes(var: Path) -> bytes:
    """Everything the database of `var`'s servers holds: the SQLite file, or the rows of
    every PostgreSQL table as text (what a leaked dump would show)."""
    if not _test_db():
        return (var / "one.db").read_bytes()
    with database(var) as sql:
        return "\n".join(row[0] for table in sql.db.get_tables() for row in
                         sql.execute(f'SELECT t::text FROM "{table}" t')).encode()


@contextmanager
def database(var: Path) -> Iterator[Sql]:
    """The database of `var`'s servers (stopped), to look into or turn into an older one."""
    sql = Sql(var)
    try:
        yield sql
    finally:
        sql.db.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: looks at the SQLite database file itself")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of BOTH_BACKENDS that can start a server (it has a tmp_path for its
    state) twice: on SQLite and on PostgreSQL."""
    directory = metafunc.definition.path.parent
    if (directory.parent == REPO / "tests" and directory.name in BOTH_BACKENDS
            and "tmp_path" in metafunc.fixturenames
            and not metafunc.definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres(postgres_cluster: Cluster) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database of oned's schema."""
    url = postgres_cluster.create()
    yield url
    postgres_cluster.drop(url)


@pytest.fixture(autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The database backend of the test's servers: SQLite unless parametrized."""
    name = getattr(request, "param", "sqlite")
    if name == "postgresql":
        _backend_cluster[:] = [request.getfixturevalue("postgres_cluster")]
    try:
        yield name
    finally:
        if _backend_db[0]:
            _backend_cluster[0].drop(_backend_db[0])
        _backend_cluster.clear()
        _backend_db[0] = ""


@pytest.fixture
def oned(tmp_path: Path) -> Iterator[Oned]:
    server = start_oned(tmp_path)
    yield server
    server.stop()


class Caller:
    """Calls methods with a session and returns the `[ok, value, code]` triple."""

    def __init__(self, endpoint: str, session: str = ADMIN) -> None:
        self.endpoint = endpoint
        self.proxy = xmlrpc.client.ServerProxy(endpoint)
        self.session = session

    def __call__(self, method: str, *args: Any) -> list[Any]:
        return getattr(self.proxy, method)(self.session, *args)

    def ok(self, method: str, *args: Any) -> Any:
        reply = self(method, *args)
        assert reply[0] is True, reply
        assert len(reply) == 3 and reply[2] == 0
        return reply[1]

    def fails(self, method: str, *args: Any, code: int) -> str:
        reply = self(method, *args)
        assert reply[0] is False and reply[2] == code, reply
        assert len(reply) == 3
        return reply[1]

    def as_user(self, session: str) -> "Caller":
        return Caller(self.endpoint, session)


@pytest.fixture
def rpc(oned: Oned) -> Caller:
    return Caller(oned.endpoint)


@pytest.fixture
def classic_rpc(oned: Oned) -> Caller:
    return Caller(oned.endpoint, CLASSIC_ADMIN)


def xsd_dir() -> Path:
    return Path(os.environ.get("ONE_XSD_DIR", REPO.parent / "shared" / "reference" / "xsd" / "7.4.0"))


_SCHEMAS: dict[str, etree.XMLSchema] = {}


def validate(document: str, schema: str) -> etree._Element:
    """Validate an oned document (no namespace) against an XSD of the 7.4 set."""
    directory = xsd_dir()
    if not directory.is_dir():
        pytest.fail(f"XSD directory {directory} is absent (set ONE_XSD_DIR)")
    if schema not in _SCHEMAS:
        _SCHEMAS[schema] = etree.XMLSchema(etree.parse(str(directory / schema)))
    root = etree.fromstring(document.encode())
    for element in root.iter(etree.Element):
        element.tag = f"{{{NS}}}{etree.QName(element).localname}"
    xsd = _SCHEMAS[schema]
    if not xsd.validate(root):
        raise AssertionError(f"{schema}: {xsd.error_log}\n{document[:2000]}")
    return etree.fromstring(document.encode())


class Engine:
    """A real oned whose life cycle runs inline: `settle()` runs it to rest."""

    def __init__(self, oned: Oned) -> None:
        self.oned = oned
        self.rpc = Caller(oned.endpoint)
        self.lifecycle = oned.managers.lifecycle
        self.hypervisor = oned.managers.plugins.driver("vmm", "dummy").hypervisor

    def settle(self) -> None:
        self.lifecycle.drain()

    def monitor(self) -> None:
        self.oned.managers.monitor.cycle()
        self.settle()

    def host(self, name: str, template: str = "") -> int:
        hid = self.rpc.ok("one.host.allocate", name, "dummy", "dummy", -1)
        if template:
            self.rpc.ok("one.host.update", hid, template, 1)
        return hid

    def vm(self, template: str = "CPU = 1 MEMORY = 128", host: int | None = None) -> int:
        vid = self.rpc.ok("one.vm.allocate", template, False)
        if host is not None:
            self.rpc.ok("one.vm.deploy", vid, host)
            self.settle()
        return vid

    def doc(self, method: str, oid: int) -> etree._Element:
        return etree.fromstring(self.rpc.ok(method, oid).encode())

    def phase(self, vid: int) -> tuple[int, int]:
        doc = self.doc("one.vm.info", vid)
        return int(doc.findtext("STATE")), int(doc.findtext("LCM_STATE"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    import one_dummy
    one_dummy.reset()
    oned = start_oned(tmp_path)
    yield Engine(oned)
    oned.stop()
    one_dummy.reset()


@pytest.fixture
def hosts(engine: Engine) -> tuple[int, int]:
    """Two monitored dummy hosts, h0 and h1."""
    h0, h1 = engine.host("h0"), engine.host("h1")
    engine.monitor()
    return h0, h1


# libvirt's test:///default driver cannot migrate, attach devices, talk to QEMU's monitor
# or change a CD-ROM, so those conformance checks are not collected for it: the whole suite
# runs on real libvirtds in tests/kvm/test_conformance_qemu.py (hotplug through oned in
# tests/kvm/test_hotplug_qemu.py).
_NOT_ON_LIBVIRTS_TEST_DRIVER = tuple(
    f"kvm/test_libvirt_test_driver.py::TestKvmVMM::{name}" for name in (
        "test_migrate", "test_disk_snapshots_of_a_running_guest", "test_update_conf_keeps_running",
        "test_disk_hotplug_keeps_running", "test_nic_hotplug_keeps_running"))


# Tests that use what the machine has only once - the system libvirtd and its VNC ports,
# sshds on fixed loopback addresses, network namespaces, moto on fixed ports, oned's
# default port in the README walkthroughs. Under `make test`'s parallel workers
# (pytest-xdist) one worker runs them all, one after another; the other tests go to the
# workers a module at a time, the largest units first.
_MACHINE_WIDE = ("tests/kvm/", "tests/tm/", "tests/vnm/", "tests/ec2/", "tests/xen/",
                 "tests/readme/", "tests/web/test_console.py")


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class MachineWideTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(_MACHINE_WIDE):
                return "machine-wide"
            return nodeid.split("::", 1)[0]  # the module

    return MachineWideTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = [item for item in items if item.nodeid.endswith(_NOT_ON_LIBVIRTS_TEST_DRIVER)]
    if chosen:
        config.hook.pytest_deselected(items=chosen)
        items[:] = [item for item in items if item not in chosen]
