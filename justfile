# exai's task menu: `just` lists the recipes.

default:
    @just --list

# format every crate
fmt:
    cargo fmt --all

# clippy with warnings as errors, as CI runs it
lint:
    cargo clippy --workspace --all-targets -- -D warnings

# the README's test command
test:
    cargo test --workspace

# review and accept changed snapshots (needs cargo-insta)
snap:
    cargo insta review

# run the emulator on 127.0.0.1:8443
emulator:
    cargo run -q -p exai-cli -- emulator

# the README's tour against the embedded emulator
demo:
    cargo run -q -p exai-cli -- plan --emulator -f specs/exai.yaml
    cargo run -q -p exai-cli -- apply --emulator -f specs/exai.yaml --auto-approve
    cargo run -q -p exai-cli -- plan --emulator -f specs/exai.yaml --detailed-exitcode

# benchmarks at 50 ms latency: plan and apply against their lower bounds, requests, 429s, the
# Python SDK's time for the same reads (docs/performance.md); N = 1, 10, 60
bench:
    cargo bench -p exai-cli

# the same, with N = 200 too (several minutes)
bench-large:
    EXAI_BENCH_LARGE=1 cargo bench -p exai-cli

# what CI runs
ci:
    bash .ci/run
