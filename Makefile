# jobd — the two commands a newcomer needs are `make run` and `make test`.
# meson + ninja do the building; this file only names the steps.
BUILD    ?= build
MESONOPT ?=
ifeq ($(SANITIZE),1)
BUILD    := build-san
MESONOPT += -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
endif

.PHONY: all deps build install deb run test unit it bench fault load fuzz lint clean
all: build

deps:
	@scripts/deps.sh

build:
	@scripts/deps.sh build
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) $(MESONOPT) >/dev/null
	@ninja -C $(BUILD) >/dev/null || ninja -C $(BUILD)

# binaries, man pages, the systemd unit, docs (PREFIX=/usr/local; DESTDIR)
PREFIX ?= /usr/local
install: build
	@meson configure $(BUILD) -Dprefix=$(PREFIX) >/dev/null
	@meson install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR))

# the Debian package (debian/, dpkg-buildpackage) into build-deb/
deb: deps
	@scripts/deb.sh build-deb

run: build
	@scripts/run.sh $(BUILD)

test: deps build
	@scripts/test.sh $(BUILD)

# the fault scenarios of tests/fault at full size (docs/reliability.md);
# `make test` runs them in short mode
fault: deps build
	@scripts/fault.sh $(BUILD)

bench: deps build
	@scripts/bench.sh $(BUILD)

# 1,000 clients for 60 s against one jobd (tests/load/load.sh;
# LOAD_CLIENTS, LOAD_SECONDS)
load: deps build
	@tests/load/load.sh $(BUILD)

# libFuzzer targets of fuzz/ (clang), FUZZ_SECONDS each
FUZZ_SECONDS ?= 30
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# clang-tidy (.clang-tidy) and cppcheck over src/
lint: deps build
	@scripts/lint.sh $(BUILD)

clean:
	rm -rf build build-san build-deb var
