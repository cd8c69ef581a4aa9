# One entry point for humans and CI. With CI=1, warnings are errors.
CARGO ?= cargo
ifdef CI
export RUSTFLAGS := -D warnings
export RUSTDOCFLAGS := -D warnings
endif

.PHONY: demo test check lint fmt doc bench
demo:  ## import the sample data and serve
	scripts/demo.sh
test:  ## every test, both stores (starts PostGIS)
	scripts/test.sh
check:
	$(CARGO) check --workspace --all-targets
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
fmt:
	$(CARGO) fmt --all
doc:
	$(CARGO) doc --workspace --no-deps
bench:
	$(CARGO) bench -p civgrid
