#!/bin/bash -eu
# Builds the fuzz targets with the sanitizer flags of the base image and
# puts them in $OUT with a dictionary and a seed corpus each.

cd "$SRC/mqttspec"

targets="decode_v311 decode_v5 framer roundtrip scenario_load"

# Release build with debug assertions, so integer overflow on a hostile
# length is a finding too.
cargo fuzz build -O --debug-assertions
for t in $targets; do
    cp "fuzz/target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
done

# Dictionaries are picked up by name: <target>.dict.
for t in decode_v311 decode_v5 framer; do
    cp fuzz/mqtt.dict "$OUT/$t.dict"
done
cp fuzz/scenario.dict "$OUT/scenario_load.dict"

# Seed corpora: <target>_seed_corpus.zip. They are built by an ordinary
# (uninstrumented) program, so clear the fuzzing build flags for it; a failure
# here only costs the seeds, not the fuzzers.
corpus="$WORK/seed-corpus"
rm -rf "$corpus"
if env -u RUSTFLAGS -u CFLAGS -u CXXFLAGS -u LDFLAGS CARGO_TARGET_DIR="$WORK/seed-target" \
    fuzz/seed.sh "$corpus"; then
    for t in $targets; do
        if [ -n "$(ls -A "$corpus/$t" 2>/dev/null)" ]; then
            (cd "$corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
        fi
    done
else
    echo "warning: seed corpus not built; fuzzing starts from scratch" >&2
fi
