# One command each for the README contract: `make run`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Parallel test workers: tests mostly wait on servers, so more workers than cores pay.
TEST_WORKERS ?= 3
# Built-in drivers are plugin packages of their own, installed like third-party ones.
DRIVERS := $(wildcard plugins/*/pyproject.toml)
# noVNC for one-web's VNC console, from the npm registry (one/web/package.json and its
# lock); one/web/node_modules is not committed. Its package.json marks it installed.
NOVNC  := one/web/node_modules/@novnc/novnc/package.json

# What the drivers and their tests need from the system (libvirt-python builds
# against libvirt-dev; the KVM tests run a real libvirtd and QEMU; the Xen tests parse
# every deployment file with Xen's own libxlutil, which libxen-dev brings).
SYSTEM_PACKAGES := libvirt-daemon-system libvirt-clients libvirt-dev pkg-config qemu-system-x86 \
                   openssh-server openssh-client iproute2 bridge-utils ebtables nftables e2fsprogs \
                   qemu-utils postgresql libxen-dev chromium chromium-driver

.PHONY: install system-deps run test bench clean

install: $(STAMP) $(NOVNC)

system-deps:
	@if ! (command -v libvirtd && command -v virt-xml-validate && command -v qemu-system-x86_64 \
	       && command -v sshd && command -v ebtables && command -v bridge && command -v mkfs.ext4 \
	       && command -v qemu-img && command -v chromium && command -v chromedriver && ls /usr/lib/postgresql/*/bin/initdb \
	       && pkg-config --exists libvirt xlutil) >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); \
	fi

$(STAMP): setup.cfg pyproject.toml $(DRIVERS) | system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' $(foreach d,$(DRIVERS),-e $(dir $(d)))
	touch $@

$(NOVNC): one/web/package.json one/web/package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm)
	cd one/web && npm ci --no-audit --no-fund
	touch $@

run: $(STAMP) $(NOVNC)
	$(BIN)/one-econe --exit-with $$PPID &
	$(BIN)/oneflow-server --wait-auth 30 --exit-with $$PPID &
	$(BIN)/one-web --exit-with $$PPID &
	$(BIN)/oned -f

test: $(STAMP) $(NOVNC)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	command -v ab >/dev/null || (apt-get update -qq && apt-get install -y -qq apache2-utils)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info one/web/node_modules
