# sstcast — the two commands of the README:
#   make forecast YEAR=2018   fit every ocean region on data before YEAR, forecast YEAR
#   make test                 unit + integration tests
# Both install what they need first (deps: Debian packages; grids: ERSST v5 input).
# `make grids` also links the two long records (Kaplan, HadISST) when their mirrors exist;
# a missing long record is a warning there, an error only from its own target.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

YEAR ?= 2018
PIPELINE ?= pipelines/ersst-monthly.yaml
THREADS ?=
# Local copy of NOAA ERSST v5 to link into grids/ (default: the team's shared mirror).
SST_MIRROR ?= $(if $(wildcard ../shared/grids/ersst-v5),../shared/grids/ersst-v5,)
ERSST_URL ?= https://downloads.psl.noaa.gov/Datasets/noaa.ersst.v5/sst.mnmean.nc
# Local copies of the two long records (pipelines/kaplan-monthly.yaml, pipelines/hadisst-*.yaml);
# default: the team's shared mirrors. Neither is downloaded: see grids/README.md for the sources.
KAPLAN_MIRROR ?= $(if $(wildcard ../shared/grids/kaplan-v2-tropical-pacific),../shared/grids/kaplan-v2-tropical-pacific,)
HADISST_MIRROR ?= $(if $(wildcard ../shared/grids/hadisst-north-atlantic),../shared/grids/hadisst-north-atlantic,)
CARGO ?= cargo

DEB_PACKAGES := build-essential pkg-config libnetcdf-dev libgdal-dev libhdf5-dev netcdf-bin gdal-bin \
                python3-venv libudunits2-0 unzip curl ca-certificates \
                chromium chromium-driver python3-selenium python3-gdal

.PHONY: forecast skill hindcast hindcast-kaplan hindcast-ersst hindcast-hadisst test interop-venv deps grids grids-ersst grids-kaplan grids-hadisst build release lint fmt clean help fuzz slurm test-slurm bench bench-venv check-tch coastlines

help:
	@echo "make forecast YEAR=2018   forecast YEAR with $(PIPELINE) -> outputs/"
	@echo "make test                 run the test suite"
	@echo "make skill YEAR=2018      verify the forecast of YEAR (tables + figures)"
	@echo "make hindcast             the three default hindcasts (Kaplan 2000-2013, ERSST 2016-2019, HadISST annual 1995-2010)"
	@echo "make slurm YEAR=2018 SHARDS=8   forecast YEAR as a Slurm job array + merge job"
	@echo "make bench                performance measurements -> bench/results.{md,json}"
	@echo "make deps | grids | grids-kaplan | grids-hadisst | coastlines | release | lint | fuzz | test-slurm | check-tch"

## deps: the Debian packages sstcast builds and tests against (installs them when root).
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "deps: all system packages present"; exit 0; fi; \
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$(echo $$missing)"; \
	if [ "$$(id -u)" = 0 ]; then echo "deps: installing $$(echo $$missing)"; bash -c "$$cmd"; \
	else echo "deps: missing packages: $$(echo $$missing)"; echo "run as root:  sudo bash -c '$$cmd'"; exit 1; fi
	@command -v $(CARGO) >/dev/null || { echo "deps: cargo not found: install Rust (https://rustup.rs)"; exit 1; }

## grids: every input under grids/. ERSST v5 (the default pipeline) must succeed: it is linked
## from SST_MIRROR, else downloaded from NOAA, else the target fails. The two long records are
## linked when their mirrors exist; a missing one is only a warning here, so the ERSST default
## keeps working without them (`make grids-kaplan` / `make grids-hadisst` fail instead).
grids: grids-ersst
	@$(MAKE) --no-print-directory grids-kaplan || echo "grids: WARNING: Kaplan SST v2 not linked (pipelines/kaplan-monthly.yaml cannot run); see the message above"
	@$(MAKE) --no-print-directory grids-hadisst || echo "grids: WARNING: HadISST not linked (pipelines/hadisst-iceland-*.yaml cannot run); see the message above"

## grids-ersst: ERSST v5 into grids/ersst-v5/ (link from SST_MIRROR, else download from NOAA).
grids-ersst: grids/ersst-v5/.ready

grids/ersst-v5/.ready:
	@mkdir -p grids/ersst-v5
	@if [ -n "$(SST_MIRROR)" ] && [ -d "$(SST_MIRROR)" ]; then \
	  src=$$(cd "$(SST_MIRROR)" && pwd); \
	  if [ -d "$$src/monthly" ]; then ln -sfn "$$src/monthly" grids/ersst-v5/monthly; \
	  else mkdir -p grids/ersst-v5/monthly; ln -sf "$$src"/*.nc grids/ersst-v5/monthly/; fi; \
	  [ -f "$$src/sst.mnmean.nc" ] && ln -sf "$$src/sst.mnmean.nc" grids/ersst-v5/sst.mnmean.nc || true; \
	  echo "grids: linked ERSST v5 from $$src"; \
	else \
	  echo "grids: no mirror (SST_MIRROR unset or missing); downloading ERSST v5 from $(ERSST_URL)"; \
	  mkdir -p grids/ersst-v5/monthly; \
	  if curl -fL --retry 2 --connect-timeout 20 -o grids/ersst-v5/monthly/.sst.mnmean.nc.part "$(ERSST_URL)"; then \
	    mv grids/ersst-v5/monthly/.sst.mnmean.nc.part grids/ersst-v5/monthly/sst.mnmean.nc; \
	  else \
	    rm -f grids/ersst-v5/monthly/.sst.mnmean.nc.part; \
	    echo "grids: ERROR: could not download $(ERSST_URL)."; \
	    echo "       Put ERSST v5 NetCDF files in a folder and run: make grids SST_MIRROR=/path/to/folder"; \
	    exit 1; \
	  fi; \
	fi
	@ls grids/ersst-v5/monthly/*.nc >/dev/null 2>&1 || { echo "grids: ERROR: no .nc file under grids/ersst-v5/monthly"; exit 1; }
	@touch $@

## grids-kaplan, grids-hadisst: link one long record's files from its mirror folder (a folder
## holding the README's .nc file), or fail naming where to get it. No download: the mirrors'
## files are regional cuts made for sstcast (see each grids/<name>/README.md and grids/README.md).
grids-kaplan:
	@$(call link_record,kaplan-v2-tropical-pacific,$(KAPLAN_MIRROR),KAPLAN_MIRROR,kaplan_sst_anom_1856-2014.nc,Kaplan Extended SST v2 anomalies from NOAA PSL (https://psl.noaa.gov/data/gridded/data.kaplan_sst.html))
grids-hadisst:
	@$(call link_record,hadisst-north-atlantic,$(HADISST_MIRROR),HADISST_MIRROR,hadisst1_iceland_1955-2010.nc,HadISST 1.1 from the Met Office Hadley Centre (https://www.metoffice.gov.uk/hadobs/hadisst/))

# link_record(dir, mirror, mirror variable, file, source): links <mirror>/*.nc and its README
# into grids/<dir>/ (the pipelines read grids/<dir>/<file>).
define link_record
if [ -n "$(2)" ] && [ -f "$(2)/$(4)" ]; then \
  src=$$(cd "$(2)" && pwd); mkdir -p grids/$(1); \
  ln -sf "$$src"/*.nc grids/$(1)/; \
  [ -f "$$src/README.md" ] && ln -sf "$$src/README.md" grids/$(1)/README.md || true; \
  echo "grids: linked $(1) from $$src"; \
else \
  echo "grids: ERROR: no $(4) in $(3)=$(if $(2),$(2),(empty: no ../shared/grids/$(1) to default to))."; \
  echo "       The file is a regional cut of $(5),"; \
  echo "       described in grids/README.md. Put it in a folder and run: make grids-$(firstword $(subst -, ,$(1))) $(3)=/path/to/folder"; \
  exit 1; \
fi
endef

## coastlines: Natural Earth land outlines (public domain) for the maps, from the npm package
## world-atlas (TopoJSON: land-110m.json, land-50m.json) into $(COAST_DIR), which sstcast reads
## at run time (SSTCAST_COASTLINES overrides; see src/figures/coast.rs). Not committed: third-
## party data. Without them (no npm, no network) maps are drawn without coastlines, with a
## warning, so this target only warns when the fetch fails.
COAST_DIR ?= data/world-atlas
WORLD_ATLAS ?= world-atlas@2.0.2
coastlines: $(COAST_DIR)/land-110m.json
$(COAST_DIR)/land-110m.json:
	@mkdir -p $(COAST_DIR)/.pack
	@if command -v npm >/dev/null && (cd $(COAST_DIR)/.pack && npm pack --silent $(WORLD_ATLAS) >/dev/null) \
	  && tar -xzf $(COAST_DIR)/.pack/world-atlas-*.tgz -C $(COAST_DIR)/.pack; then \
	  cp $(COAST_DIR)/.pack/package/land-50m.json $(COAST_DIR)/.pack/package/LICENSE $(COAST_DIR)/.pack/package/README.md $(COAST_DIR)/; \
	  cp $(COAST_DIR)/.pack/package/land-110m.json $(COAST_DIR)/; \
	  rm -rf $(COAST_DIR)/.pack; echo "coastlines: $(WORLD_ATLAS) in $(COAST_DIR)"; \
	else rm -rf $(COAST_DIR)/.pack; echo "coastlines: WARNING: could not fetch $(WORLD_ATLAS) with npm; maps will have no coastlines"; fi

## release: the one optimised build that `forecast` uses.
release: deps
	$(CARGO) build --release --locked

forecast: release grids coastlines
	./target/release/sstcast forecast --config $(PIPELINE) --year $(YEAR) $(if $(THREADS),--threads $(THREADS))

## skill: verify the forecast of YEAR against the observations in the input (forecasts first if needed).
skill: release grids coastlines
	./target/release/sstcast skill --config $(PIPELINE) --year $(YEAR) $(if $(THREADS),--threads $(THREADS))

## hindcast: the three default hindcasts, each fitted once and forecast from every start:
## Kaplan tropical Pacific (training to 1999-12, monthly starts 2000-01..2013-10), ERSST global
## (training to 2015-12, monthly starts 2016-01..2019-08) and HadISST around Iceland in annual
## mode (training to 1994, yearly starts 1995..2010). Outputs in
## outputs/<pipeline>/hindcast_<A>_<B>/; the tables are printed. HINDCAST_ARGS adds flags
## (e.g. --refit yearly, --every 12).
HINDCAST_ARGS ?=
hindcast: hindcast-kaplan hindcast-ersst hindcast-hadisst

hindcast-kaplan: release grids coastlines
	./target/release/sstcast hindcast --config pipelines/kaplan-monthly.yaml --train-end 1999-12 \
	  --starts 2000-01..2013-10 $(if $(THREADS),--threads $(THREADS)) $(HINDCAST_ARGS)

hindcast-ersst: release grids coastlines
	./target/release/sstcast hindcast --config $(PIPELINE) --train-end 2015-12 \
	  --starts 2016-01..2019-08 $(if $(THREADS),--threads $(THREADS)) $(HINDCAST_ARGS)

hindcast-hadisst: release grids-hadisst coastlines
	./target/release/sstcast hindcast --config pipelines/hadisst-iceland-annual.yaml --train-end 1994 \
	  --starts 1995-01..2010-01 --every 12 $(if $(THREADS),--threads $(THREADS)) $(HINDCAST_ARGS)

## slurm: YEAR as a SHARDS-task Slurm job array (sstcast forecast --shard) plus a merge job
## (afterok, --kill-on-invalid-dep=yes); waits and fails unless the merge job COMPLETED.
## Extra sbatch flags (partition, account, time, cpus): SBATCH_ARGS="--partition=x --cpus-per-task=8".
SHARDS ?= 4
slurm: release grids coastlines
	SSTCAST=./target/release/sstcast PIPELINE=$(PIPELINE) pipelines/slurm/submit $(YEAR) $(SHARDS)

## check-tch: type-check and build the libtorch backend (`--features tch`, for GPU nodes)
## against LIBTORCH, or against a minimal CPU libtorch 2.9.0 assembled from PyPI wheels in
## LIBTORCH_HOME (about 1 GB of downloads; recipe in ../shared/docs/burn-notes.md). Not in CI:
## the download and the C++ glue build do not fit its time budget comfortably.
LIBTORCH_HOME ?= $(HOME)/.cache/sstcast-libtorch
check-tch: deps
	@if [ -z "$${LIBTORCH:-}" ]; then $(MAKE) --no-print-directory $(LIBTORCH_HOME)/build-version; fi
	LIBTORCH=$${LIBTORCH:-$(LIBTORCH_HOME)} CARGO_TARGET_DIR=target/tch $(CARGO) build --locked --features tch --lib --bins

$(LIBTORCH_HOME)/build-version:
	@echo "check-tch: assembling a CPU libtorch 2.9.0 from PyPI wheels in $(LIBTORCH_HOME)"
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	python3 -m pip download -q --no-deps --only-binary=:all: -d "$$tmp" \
	  torch==2.9.0 nvidia-cuda-runtime-cu12==12.8.90 nvidia-cuda-cupti-cu12==12.8.90; \
	for w in "$$tmp"/*.whl; do python3 -m zipfile -e "$$w" "$$tmp/x"; done; \
	mkdir -p $(LIBTORCH_HOME)/lib $(LIBTORCH_HOME)/include; \
	cp -r "$$tmp"/x/torch/include/. $(LIBTORCH_HOME)/include/; \
	cp "$$tmp"/x/torch/lib/libtorch_cpu.so "$$tmp"/x/torch/lib/libc10.so $(LIBTORCH_HOME)/lib/; \
	cp "$$tmp"/x/torch/lib/libgomp*.so* $(LIBTORCH_HOME)/lib/ 2>/dev/null || cp "$$tmp"/x/torch.libs/libgomp*.so* $(LIBTORCH_HOME)/lib/; \
	cp "$$tmp"/x/nvidia/cuda_runtime/lib/libcudart.so.12 "$$tmp"/x/nvidia/cuda_cupti/lib/libcupti.so.12 $(LIBTORCH_HOME)/lib/; \
	gcc -shared -o $(LIBTORCH_HOME)/lib/libtorch.so -x c /dev/null; \
	echo 2.9.0 > $@

## test-slurm: the Slurm integration test on a throw-away single-node Slurm (root, Debian).
SLURM_LOCAL ?= ../shared/tools/slurm-local
test-slurm: deps grids
	$(CARGO) test --locked --test slurm --no-run
	SSTCAST_REQUIRE_SLURM=1 $(SLURM_LOCAL) run -- $(CARGO) test --locked --test slurm -- --nocapture

## test: unit tests on self-written fixtures + the end-to-end test on the ERSST grids, and the
## interoperability test (tests/interop.rs): xarray and rioxarray read a forecast's NetCDF
## and GeoTIFF alike, in the venv of interop-venv. python3-gdal (deps) brings GDAL's COG
## validator for tests/cog.rs and forecast_ersst.rs.
test: deps grids coastlines interop-venv
	SSTCAST_REQUIRE_BROWSER=1 SSTCAST_INTEROP_PYTHON="$(INTEROP_VENV)/bin/python" $(CARGO) test --locked

## interop-venv: xarray, netCDF4 and rioxarray from PyPI in a venv outside the clone (about
## 400 MB, 30 s the first time; reused after). Fails when they cannot be installed: the test
## needs them.
INTEROP_VENV ?= $(HOME)/.cache/sstcast-interop-venv
INTEROP_PACKAGES := "xarray>=2024.1" "netCDF4>=1.6" "rioxarray>=0.15"
interop-venv:
	@v="$(INTEROP_VENV)"; py="$$v/bin/python"; \
	if [ -x "$$py" ] && "$$py" -c 'import xarray, netCDF4, rioxarray' 2>/dev/null; then echo "interop-venv: ready in $$v"; exit 0; fi; \
	echo "interop-venv: installing xarray, netCDF4, rioxarray into $$v"; \
	{ [ -x "$$py" ] || python3 -m venv "$$v"; } && "$$py" -m pip install -q $(INTEROP_PACKAGES) \
	  || { echo "interop-venv: ERROR: could not install xarray, netCDF4 and rioxarray into $$v (pip output above)"; exit 1; }

## fuzz: every cargo-fuzz target (fuzz/) for FUZZ_SECONDS each; fails on any crash.
## libFuzzer needs -Z flags: the stable toolchain accepts them with RUSTC_BOOTSTRAP=1.
## No sanitizer (the code under test is safe Rust; the C libraries are not instrumented),
## debug assertions on (integer overflow is a crash). Seeds: fuzz/seeds/<target> (committed);
## the working corpus grows in fuzz/corpus/<target>, crashes land in fuzz/artifacts/<target>.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := config_yaml netcdf_decode
fuzz:
	@command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz not found: run 'cargo install cargo-fuzz'"; exit 1; }
	@mkdir -p fuzz/logs
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: fuzz/logs/$$t.log)"; \
	  if RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer none --debug-assertions $$t \
	       fuzz/corpus/$$t fuzz/seeds/$$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	       >fuzz/logs/$$t.log 2>&1; then \
	    echo "fuzz: $$t: $$(grep -E '^Done [0-9]+ runs' fuzz/logs/$$t.log || echo 'finished') -- no crash"; \
	  else \
	    grep -v 'HDF5-DIAG\|^  ' fuzz/logs/$$t.log | tail -40; \
	    echo "fuzz: $$t FAILED: crash input under fuzz/artifacts/$$t"; exit 1; \
	  fi; \
	done

## bench: the measurements of issue 4 -> bench/results.md and bench/results.json (bench/bench.py):
## training-step times against PyTorch, heatmap rendering against matplotlib, the pipeline end
## to end on 1 and 2 threads. Uses the one release build. PyTorch and matplotlib go into a venv
## outside the clone (SSTCAST_BENCH_VENV); if they cannot be installed the bench still reports
## sstcast's numbers (null for the references). BENCH_PIPELINE=0 skips the end-to-end runs
## (several minutes each). BENCH_NOTE="..." adds a line to the report.
SSTCAST_BENCH_VENV ?= $(HOME)/.cache/sstcast-bench-venv
BENCH_PIPELINE ?= 1
BENCH_NOTE ?=
# When a libtorch is present (LIBTORCH, or the one `make check-tch` assembled), the bench
# also times the steps on burn-tch; it builds that backend first (minutes). 0 skips it.
BENCH_TCH ?= 1
BENCH_BIN_DIR ?= $(or $(CARGO_TARGET_DIR),target)/release
bench: release grids bench-venv
	@if [ "$(BENCH_TCH)" = 1 ] && { [ -n "$${LIBTORCH:-}" ] || [ -f "$(LIBTORCH_HOME)/build-version" ]; }; then \
	  $(MAKE) --no-print-directory check-tch || echo "bench: WARNING: the tch build failed: its step times will be null"; \
	else echo "bench: no libtorch (LIBTORCH unset, none in $(LIBTORCH_HOME)) or BENCH_TCH=0: tch step times not measured"; fi
	python3 bench/bench.py --bin-dir "$(BENCH_BIN_DIR)" --python "$(SSTCAST_BENCH_VENV)/bin/python" \
	  --config $(PIPELINE) --year $(YEAR) --pipeline $(BENCH_PIPELINE) --note "$(BENCH_NOTE)" \
	  --libtorch "$${LIBTORCH:-$(LIBTORCH_HOME)}"

bench-venv:
	@v="$(SSTCAST_BENCH_VENV)"; py="$$v/bin/python"; \
	if [ -x "$$py" ] && "$$py" -c 'import torch, matplotlib, numpy' 2>/dev/null; then echo "bench: references ready in $$v"; exit 0; fi; \
	echo "bench: installing numpy, matplotlib and PyTorch (pip install torch: about 7 GB, minutes) into $$v"; \
	{ [ -x "$$py" ] || python3 -m venv "$$v"; } && "$$py" -m pip install -q numpy matplotlib \
	  || echo "bench: WARNING: could not install matplotlib into $$v: its render time will be null"; \
	[ -x "$$py" ] && "$$py" -m pip install -q torch \
	  || echo "bench: WARNING: could not install PyTorch into $$v: PyTorch step times will be null"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

fmt:
	$(CARGO) fmt

clean:
	$(CARGO) clean
	rm -f grids/ersst-v5/.ready
