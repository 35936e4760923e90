# lvx: build, test and demo on a fresh Debian machine with Swift.
#   make demo   install missing packages, build, run the review cycle on simulated inverters
#   make test   install missing packages, build, run every test (unit, simulator, pty, end-to-end, interop),
#               then deb-check and system-test
#   make deb    build lvx_VERSION_ARCH.deb and lvx-sim_VERSION_ARCH.deb in .build-deb/ (packaging/build-deb.sh)
#   make deb-check  make deb, then lintian (failing on errors) and the packages' contents
#   make system-test  make deb, boot a Debian 12 VM (qemu), apt install the packages and run the scenarios
#               on real systemd, udev, journald, D-Bus and polkit with simulated inverters on /dev/uhid

SWIFT       ?= swift
APT_PACKAGES = libyaml-dev libgit2-dev libsystemd-dev pkg-config dbus python3 python3-venv python3-pip python3-dbus python3-gi util-linux git openssh-client prometheus chromium
DEB_PACKAGES = dpkg-dev binutils
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN         := .build/debug

.PHONY: all deps build test lint boundaries monitoring demo bench deb deb-check clean system-test system-test-deps

all: build

# Installs the apt packages named in $(1) that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

build: deps
	$(SWIFT) build

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# The layering rules of Docs/Architecture.md, which the compiler does not check.
boundaries:
	@bad=0; \
	for m in CYAML:LVXYAML CLibGit2:LVXGit CGitShims:LVXGit CSystemd:LVXSystemd Plot:LVXReport; do \
	  c=$${m%%:*}; a=$${m#*:}; \
	  hits=$$(grep -rlE "^(internal |public )?import $$c$$" Sources | grep -v "^Sources/$$a/"); \
	  if [ -n "$$hits" ]; then echo "boundary: $$c imported outside $$a: $$hits"; bad=1; fi; \
	done; \
	hits=$$(grep -rlE "^(public |internal )?import (Foundation|LVXGit|LVXYAML|LVXPort|LVXSystemd|LVXSSH|LVXWire|Glibc)$$" Sources/LVXCore); \
	if [ -n "$$hits" ]; then echo "boundary: LVXCore must import nothing: $$hits"; bad=1; fi; \
	hits=$$(grep -rlE "^(public |internal )?import (Foundation|LVXGit|LVXYAML|LVXPort|LVXSystemd|LVXSimulator|Glibc|C[A-Za-z0-9]+)$$" Sources/LVXReconcile); \
	if [ -n "$$hits" ]; then echo "boundary: LVXReconcile reaches the world only through the core's seams: $$hits"; bad=1; fi; \
	hits=$$(grep -rlE "^import LVXSimulator$$" Sources/lvx); \
	if [ -n "$$hits" ]; then echo "boundary: lvx must not depend on the simulator: $$hits"; bad=1; fi; \
	exit $$bad

# The Prometheus rules (promtool check and test) and the Grafana dashboard, against the metrics lvx writes.
monitoring: deps
	@bash scripts/check-monitoring.sh

test: deps boundaries lint monitoring
	$(SWIFT) build
	$(SWIFT) test
	$(MAKE) --no-print-directory deb-check system-test

demo: build
	@bash scripts/demo.sh

bench: deps
	$(SWIFT) build -c release
	@bash bench/run.sh

# Release build with the Swift runtime linked in, in .build-deb/, packaged with dpkg-deb.
deb: deps
	$(call apt_install,$(DEB_PACKAGES))
	SWIFT="$(SWIFT)" bash packaging/build-deb.sh

deb-check: deb
	$(call apt_install,lintian)
	bash packaging/check-deb.sh

# The system test (system-test/README.md): the packages of `make deb`, installed in a VM. The image
# is cached in .build-vm/ and rebuilt only when system-test/build-image.sh, packages.txt or files/ change.
VM_PACKAGES = qemu-system-x86 mmdebstrap

system-test-deps: deps
	$(call apt_install,$(VM_PACKAGES))

system-test: system-test-deps deb
	$(SUDO) env LVX_DEB_DIR=.build-deb sh system-test/run.sh

clean:
	rm -rf .build .build-deb .build-vm .venv-powermon
