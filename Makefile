# A thin driver over the CMake presets. `make demo` and `make test` are all a new user needs:
# each installs the Debian packages that are missing, configures, builds and runs.

PACKAGES := g++ cmake ninja-build ccache libboost1.81-dev libboost-test1.81-dev \
            libboost-program-options1.81-dev libboost-json1.81-dev libspdlog-dev libfmt-dev \
            libssl-dev python3

.PHONY: all deps demo test asan tsan valgrind bench bench-instructions compare format format-check clean
all: test

# Installs what is missing (as root), or prints the exact line to run (otherwise).
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "Missing packages. Install them with:"; \
	    echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing; \
	fi

build-%: deps
	cmake --preset $* >/dev/null
	cmake --build --preset $*

# The tour: the four ideas of the notes in order, then the other demos briefly.
DEMOS := ./build/release/demos
demo: build-release
	$(DEMOS)/painting_while_reading --mode both
	$(DEMOS)/sync_vs_async --jobs 20
	$(DEMOS)/threads_vs_coroutines
	$(DEMOS)/threads_vs_processes
	$(DEMOS)/coroutine_object
	$(DEMOS)/futures
	$(DEMOS)/producer_consumer --quiet
	$(DEMOS)/timeouts_and_cancellation
	$(DEMOS)/subprocesses --jobs 6
	$(DEMOS)/one_loop_per_core
	$(DEMOS)/udp_ping --pings 50
	$(DEMOS)/echo_server --connections 100 | $(DEMOS)/echo_client --port - --clients 100
	@echo
	@echo "Bigger runs (every demo takes --help, and --trace FILE.json for Perfetto):"
	@echo "  $(DEMOS)/painting_while_reading --pages 20 --scale 1"
	@echo "  $(DEMOS)/sync_vs_async --sweep --jobs 10000 --plot scaling.svg --timeline"
	@echo "  $(DEMOS)/threads_vs_coroutines --threads 10000 --coroutines 1000000"
	@echo "  $(DEMOS)/threads_vs_processes --workers 8 --increments 10000000"
	@echo "  $(DEMOS)/producer_consumer --producers 5 --items 20 --maxsize 2"
	@echo "  $(DEMOS)/one_loop_per_core --jobs 32 --chunk-kib 8192 --loops 2"
	@echo "  $(DEMOS)/echo_server --connections 2000 | $(DEMOS)/echo_client --port - --clients 2000"
	@echo "  $(DEMOS)/echo_server --tls | $(DEMOS)/echo_client --port - --tls        (or --unix /tmp/echo.sock)"

test: build-release
	ctest --preset release

asan: build-asan
	ctest --preset asan

tsan: build-tsan
	ctest --preset tsan

# The suite under valgrind's memcheck (slow; leaks and invalid accesses fail it). Soak tests
# shrink under ASYNCIO_TEST_QUICK: memcheck runs them some fifty times slower.
valgrind: build-debug
	ASYNCIO_TEST_QUICK=1 valgrind --error-exitcode=1 --leak-check=full \
	  --errors-for-leak-kinds=definite ./build/debug/tests/asyncio_tests --color_output=no

bench: build-release
	./build/release/bench/wrappers_vs_asio

# Instructions (callgrind) and system calls (strace) per W1 task, W4 and W4X handoff and W5
# and W5T round trip: counts that repeat on a noisy machine, where times do not.
bench-instructions: override PACKAGES += valgrind strace
bench-instructions: build-release
	./build/release/bench/wrappers_vs_asio --instructions

# W1-W5 in asyncio-cpp, raw Asio, node, uvloop and Python asyncio: a table, JSON and a chart.
compare: override PACKAGES += python3-uvloop nodejs
compare: build-release
	./build/release/bench/compare --json build/compare.json --plot build/compare.svg

# clang-format 14 (Debian's) over every C++ file; format-check fails on any difference.
format format-check: override PACKAGES := clang-format
format format-check: deps
format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i
format-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build
