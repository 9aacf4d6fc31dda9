#!/usr/bin/env bash
# Short fuzzing run: builds every fuzz target, runs each for a bounded time
# from the seed corpus, and fails if any of them finds a crash, a hang or a
# memory blow-up.
#
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_TARGETS   space-separated targets (default: all that build)
#
# Findings are left in fuzz/artifacts/<target>/ and printed as hex.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${FUZZ_SECONDS:-30}"
started=$SECONDS

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

# cargo-fuzz needs nightly compiler flags. Use a nightly toolchain when there
# is one (FUZZ_TOOLCHAIN=nightly|stable forces a choice); otherwise let the
# stable compiler accept them.
toolchain=()
case "${FUZZ_TOOLCHAIN:-auto}" in
    nightly) toolchain=(+nightly) ;;
    stable) export RUSTC_BOOTSTRAP=1 ;;
    *)
        if cargo +nightly --version >/dev/null 2>&1; then
            toolchain=(+nightly)
        else
            export RUSTC_BOOTSTRAP=1
        fi
        ;;
esac

# Debug assertions make integer overflow on hostile lengths a crash too.
build_flags=(--release --debug-assertions)
read -r -a targets <<<"${FUZZ_TARGETS:-decode_v311 decode_v5 framer roundtrip scenario_load}"

echo "fuzz-smoke: building ${targets[*]} (toolchain: ${toolchain[*]:-stable with RUSTC_BOOTSTRAP})"
cargo "${toolchain[@]}" fuzz build "${build_flags[@]}"
built_at=$SECONDS

fuzz/seed.sh >/dev/null

passed=0
failed=()
# Only findings of this run are reported.
marker="$(mktemp)"
trap 'rm -f "$marker"' EXIT
for t in "${targets[@]}"; do
    args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1)
    case "$t" in
        decode_v311 | decode_v5 | framer) args+=(-dict=fuzz/mqtt.dict) ;;
        scenario_load) args+=(-dict=fuzz/scenario.dict) ;;
    esac
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" fuzz/target/smoke
    echo "fuzz-smoke: $t for ${seconds}s"
    # Not in the artifacts folder: cargo-fuzz takes its newest file for the finding.
    log="fuzz/target/smoke/$t.log"
    if cargo "${toolchain[@]}" fuzz run "${build_flags[@]}" "$t" "fuzz/corpus/$t" -- "${args[@]}" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" | sed "s/^/fuzz-smoke: $t: /" || true
        passed=$((passed + 1))
    else
        failed+=("$t")
        echo "fuzz-smoke: $t FAILED; last lines of $log:"
        tail -n 40 "$log"
        find "fuzz/artifacts/$t" -type f -newer "$marker" | while read -r f; do
            echo "fuzz-smoke: reproducer $f ($(wc -c <"$f") bytes):"
            od -An -tx1 -v "$f"
        done
    fi
done

echo "fuzz-smoke: build $((built_at - started))s, total $((SECONDS - started))s"
if [ "${#failed[@]}" -gt 0 ]; then
    run="cargo fuzz"
    [ "${#toolchain[@]}" -gt 0 ] && run="cargo ${toolchain[*]} fuzz"
    [ -n "${RUSTC_BOOTSTRAP:-}" ] && run="RUSTC_BOOTSTRAP=1 $run"
    echo "fuzz-smoke: failed: ${failed[*]} (reproduce: $run run ${build_flags[*]} TARGET fuzz/artifacts/TARGET/FILE)"
fi
echo "fuzz: ${passed} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
