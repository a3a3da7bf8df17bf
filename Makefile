# tunnelsmith: the two quick-start commands are `make demo` and `make test`.
# System packages are installed here (Debian, as root); Python packages go into .venv.

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
INVENTORY ?= inventory/lab
SYSTEM_PACKAGES := strongswan-swanctl strongswan-charon strongswan-starter libcharon-extra-plugins \
	libstrongswan-extra-plugins libstrongswan-standard-plugins openssh-server openssh-client nftables iproute2 iputils-ping \
	procps util-linux conntrack python3 python3-venv python3-pip

.PHONY: demo test lint bench system-deps venv lab-up lab-down lab-status clean

system-deps:
	@if dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
		echo "system packages: present"; \
	else \
		echo "installing system packages: $(SYSTEM_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .

# The lab tests build their own lab; the address plan allows one lab at a time, so a demo lab
# left up by `make demo` is taken down first (`make demo` brings it back in about a second).
test: system-deps venv
	$(BIN)/ruff check .
	-$(BIN)/tunnelsmith lab down >/dev/null 2>&1
	$(BIN)/pytest

# Figures, not pass/fail: offline throughput and memory, and lab timings (lab up target: < 20 s).
bench: system-deps venv
	-$(BIN)/tunnelsmith lab down >/dev/null 2>&1
	$(BIN)/python benchmarks/bench.py

demo: system-deps venv
	$(BIN)/tunnelsmith lab up -i $(INVENTORY)
	$(BIN)/tunnelsmith rollout -i $(INVENTORY) --yes
	$(BIN)/tunnelsmith verify -i $(INVENTORY)

lab-up: venv
	$(BIN)/tunnelsmith lab up -i $(INVENTORY)
lab-status: venv
	$(BIN)/tunnelsmith lab status -i $(INVENTORY)
lab-down: venv
	$(BIN)/tunnelsmith lab down -i $(INVENTORY)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
